package ledger

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
)

// ExistsAt is Exists for a ledger target: a SQLite path, or a
// PostgreSQL URL, whose schema holds a ledger when it has the ledger's
// table of migrations.
func ExistsAt(ctx context.Context, target string) (bool, error) {
	if !IsPostgres(target) {
		return Exists(target)
	}
	db, err := openPostgresDB(target)
	if err != nil {
		return false, err
	}
	defer db.Close()
	l := &Ledger{db: db, pg: true}
	v, err := l.schemaVersion(ctx, db)
	if err != nil {
		return false, fmt.Errorf("ledger %s: %w", PostgresName(target), err)
	}
	return v > 0, nil
}

// Exists reports whether path holds a ledger, or at least content that
// Open would take for one: false when there is no file, or an empty file
// whose content is not in its WAL either (a new ledger whose process was
// killed keeps it all there). A run that finds no ledger checks, before
// Open creates one, that no earlier run is there to pay again.
func Exists(path string) (bool, error) {
	st, err := os.Stat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ledger %s: %w", path, err)
	}
	if st.Size() > 0 {
		return true, nil
	}
	wal, err := os.Stat(path + "-wal")
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("ledger %s: %w", path+"-wal", err)
	}
	return wal.Size() > 0, nil
}
