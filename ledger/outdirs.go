package ledger

import (
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// RecordOutDir records that a run writes its folder under dir: the guard
// of every later run, approval and rekey checks the folders a ledger
// wrote to, wherever --out points then. dir is kept absolute and
// cleaned; recording it again changes nothing.
func (l *Ledger) RecordOutDir(ctx context.Context, dir string) error {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return fmt.Errorf("recording out folder %s: %w", dir, err)
	}
	if _, err := l.db.ExecContext(ctx, `INSERT INTO out_dirs (path, recorded_at) VALUES (?, ?) ON CONFLICT (path) DO NOTHING`,
		abs, time.Now().UTC().Format(time.RFC3339)); err != nil {
		return fmt.Errorf("recording out folder %s: %w", abs, err)
	}
	return nil
}

// OutDirs returns the out folders the ledger has written runs to, in the
// order first written.
func (l *Ledger) OutDirs(ctx context.Context) ([]string, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT path FROM out_dirs ORDER BY recorded_at, path`)
	if err != nil {
		return nil, fmt.Errorf("reading the out folders: %w", err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, fmt.Errorf("reading the out folders: %w", err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}
