package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"carepay/core"
)

// ErrWrongKey is returned when a ledger is opened with another key than
// the one that seals its account numbers.
var ErrWrongKey = errors.New("wrong ledger key")

// ErrRunDate is returned for a run date the ledger must refuse: before its
// last run's, or outside the years carepay's files can carry.
var ErrRunDate = errors.New("run date refused")

// The run dates a ledger accepts (SPEC.md, "Payments and outputs").
var (
	FirstRunDate = core.NewDate(2000, 1, 1)
	LastRunDate  = core.NewDate(2099, 12, 31)
)

// adoptKey checks the ledger's key fingerprint against the key it was
// opened with. A ledger without one (new, or made before ledgers
// remembered their key) takes this key's, once the key is shown to open
// an account number the ledger already holds, if any.
func (l *Ledger) adoptKey(ctx context.Context) error {
	err := l.VerifyKey(ctx)
	if !errors.Is(err, errNoFingerprint) {
		return err
	}
	tx, err := l.db.BeginTx(ctx, nil) // immediate: two first opens do not both adopt
	if err != nil {
		return fmt.Errorf("recording the key fingerprint: %w", err)
	}
	defer tx.Rollback()
	var fp string
	err = tx.QueryRowContext(ctx, `SELECT value FROM ledger_meta WHERE name = 'key_fingerprint'`).Scan(&fp)
	if err == nil {
		return l.compareKey(fp) // another process adopted a key meanwhile
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reading the key fingerprint: %w", err)
	}
	sample, err := l.sealedSample(ctx, tx)
	if err != nil {
		return err
	}
	if sample != nil {
		if _, err := l.key.open(sample); err != nil {
			return fmt.Errorf("%w: the key does not open the account numbers this ledger holds; run with the key that sealed them", ErrWrongKey)
		}
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_meta (name, value) VALUES ('key_fingerprint', ?)`, l.key.fingerprint); err != nil {
		return fmt.Errorf("recording the key fingerprint: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("recording the key fingerprint: %w", err)
	}
	return nil
}

var errNoFingerprint = errors.New("the ledger has no key fingerprint")

// VerifyKey checks that the ledger is still sealed with the key it was
// opened with (`carepay rekey` may have changed it since: a daemon opened
// before must not seal anything with the old key).
func (l *Ledger) VerifyKey(ctx context.Context) error {
	var fp string
	err := l.db.QueryRowContext(ctx, `SELECT value FROM ledger_meta WHERE name = 'key_fingerprint'`).Scan(&fp)
	if errors.Is(err, sql.ErrNoRows) {
		return errNoFingerprint
	}
	if err != nil {
		return fmt.Errorf("reading the key fingerprint: %w", err)
	}
	return l.compareKey(fp)
}

func (l *Ledger) compareKey(fp string) error {
	if fp == l.key.fingerprint {
		return nil
	}
	return fmt.Errorf("%w: this ledger is sealed with key %s, not with the key given (%s); give carepay the key that sealed it (ledger.key_env or ledger.key_file; nothing was read)",
		ErrWrongKey, short(fp), short(l.key.fingerprint))
}

// sealedColumn is a column of sealed values: every column whose name ends
// in _sealed, in any table, is one (so that `carepay rekey` re-seals a
// column added later without being told).
type sealedColumn struct{ table, column string }

func (l *Ledger) sealedColumns(ctx context.Context, q querier) ([]sealedColumn, error) {
	catalogue := `SELECT m.name, p.name FROM sqlite_master m, pragma_table_info(m.name) p
 WHERE m.type = 'table' AND p.name LIKE '%\_sealed' ESCAPE '\' ORDER BY m.name, p.name`
	if l.pg {
		catalogue = `SELECT table_name, column_name FROM information_schema.columns
 WHERE table_schema = current_schema() AND column_name LIKE '%\_sealed' ESCAPE '\' ORDER BY table_name, column_name`
	}
	rows, err := q.QueryContext(ctx, catalogue)
	if err != nil {
		return nil, fmt.Errorf("listing sealed columns: %w", err)
	}
	defer rows.Close()
	var out []sealedColumn
	for rows.Next() {
		var c sealedColumn
		if err := rows.Scan(&c.table, &c.column); err != nil {
			return nil, fmt.Errorf("listing sealed columns: %w", err)
		}
		out = append(out, c)
	}
	return out, rows.Err()
}

// sealedSample returns one sealed value of the ledger, nil when it holds
// none.
func (l *Ledger) sealedSample(ctx context.Context, tx *sql.Tx) ([]byte, error) {
	cols, err := l.sealedColumns(ctx, tx)
	if err != nil {
		return nil, err
	}
	for _, c := range cols {
		var b []byte
		err := tx.QueryRowContext(ctx, `SELECT "`+c.column+`" FROM "`+c.table+`" WHERE length("`+c.column+`") > 0 LIMIT 1`).Scan(&b)
		if errors.Is(err, sql.ErrNoRows) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading %s.%s: %w", c.table, c.column, err)
		}
		return b, nil
	}
	return nil, nil
}

// CheckRunDate refuses a run date before the ledger's last run's (the run
// date never goes back: an older copy of the ledger, or a typo, must not
// decide and pay as of a day already past) or outside 2000-01-01 to
// 2099-12-31.
func (l *Ledger) CheckRunDate(ctx context.Context, asOf core.Date) error {
	return checkRunDate(ctx, l.db, asOf)
}

func checkRunDate(ctx context.Context, q querierRow, asOf core.Date) error {
	if asOf < FirstRunDate || asOf > LastRunDate {
		return fmt.Errorf("%w: %s is outside %s to %s; give --as-of a date in that range", ErrRunDate, asOf, FirstRunDate, LastRunDate)
	}
	var id, last string
	err := q.QueryRowContext(ctx, `SELECT id, as_of FROM runs ORDER BY as_of DESC, id DESC LIMIT 1`).Scan(&id, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("reading the last run: %w", err)
	}
	if asOf.String() < last {
		return fmt.Errorf("%w: %s is before the ledger's last run %s (as of %s) and the run date never goes back; run with --as-of %s or later (or fix the clock)",
			ErrRunDate, asOf, id, last, last)
	}
	return nil
}

// HasRun reports whether the ledger holds a committed run.
func (l *Ledger) HasRun(ctx context.Context, id string) (bool, error) {
	var n int
	if err := l.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE id = ?`, id).Scan(&n); err != nil {
		return false, fmt.Errorf("looking up run %s: %w", id, err)
	}
	return n > 0, nil
}

// NextCheckNumber is the number the ledger's check sequence gives the next
// check: one past the last issued, or first when it has issued none.
func (l *Ledger) NextCheckNumber(ctx context.Context, first int64) (int64, error) {
	next := first
	err := l.db.QueryRowContext(ctx, `SELECT value + 1 FROM counters WHERE name = 'check_number'`).Scan(&next)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("reading the check sequence: %w", err)
	}
	return next, nil
}
