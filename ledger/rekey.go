package ledger

import (
	"context"
	"errors"
	"fmt"
)

// Rekey re-seals every sealed value of the ledger (the account numbers of
// employees, providers and payments, and any *_sealed column a later
// migration adds) under newKey, and records newKey's fingerprint, in one
// transaction: a crash leaves the ledger wholly under the old key or
// wholly under the new one. It returns how many values it re-sealed. The
// caller holds the run lock, so that no run seals with the old key
// meanwhile; from here on the ledger uses newKey.
func (l *Ledger) Rekey(ctx context.Context, newKey *Key) (int, error) {
	if newKey == nil {
		return 0, errors.New("re-keying: no new key")
	}
	if newKey.fingerprint == l.key.fingerprint {
		return 0, errors.New("re-keying: the new key is the key the ledger already has")
	}
	tx, err := l.beginLocked(ctx)
	if err != nil {
		return 0, fmt.Errorf("re-keying: %w", err)
	}
	defer tx.Rollback()
	var fp string
	if err := tx.QueryRowContext(ctx, `SELECT value FROM ledger_meta WHERE name = 'key_fingerprint'`).Scan(&fp); err != nil {
		return 0, fmt.Errorf("re-keying: reading the key fingerprint: %w", err)
	}
	if err := l.compareKey(fp); err != nil {
		return 0, err
	}
	cols, err := l.sealedColumns(ctx, tx)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range cols {
		// Read the column whole before rewriting it: values are small
		// (an account number each) and an open cursor over rows being
		// updated is best avoided.
		type sealed struct {
			rowid int64
			value []byte
		}
		rows, err := tx.QueryContext(ctx, `SELECT rowid, "`+c.column+`" FROM "`+c.table+`" WHERE length("`+c.column+`") > 0`)
		if err != nil {
			return 0, fmt.Errorf("re-keying %s.%s: %w", c.table, c.column, err)
		}
		var all []sealed
		for rows.Next() {
			var s sealed
			if err := rows.Scan(&s.rowid, &s.value); err != nil {
				rows.Close()
				return 0, fmt.Errorf("re-keying %s.%s: %w", c.table, c.column, err)
			}
			all = append(all, s)
		}
		if err := rows.Close(); err != nil {
			return 0, fmt.Errorf("re-keying %s.%s: %w", c.table, c.column, err)
		}
		if err := rows.Err(); err != nil {
			return 0, fmt.Errorf("re-keying %s.%s: %w", c.table, c.column, err)
		}
		st, err := tx.PrepareContext(ctx, `UPDATE "`+c.table+`" SET "`+c.column+`" = ? WHERE rowid = ?`)
		if err != nil {
			return 0, fmt.Errorf("re-keying %s.%s: %w", c.table, c.column, err)
		}
		for _, s := range all {
			plain, err := l.key.open(s.value)
			if err != nil {
				st.Close()
				return 0, fmt.Errorf("re-keying %s.%s row %d: %w", c.table, c.column, s.rowid, err)
			}
			resealed, err := newKey.seal(plain)
			if err != nil {
				st.Close()
				return 0, err
			}
			if _, err := st.ExecContext(ctx, resealed, s.rowid); err != nil {
				st.Close()
				return 0, fmt.Errorf("re-keying %s.%s row %d: %w", c.table, c.column, s.rowid, err)
			}
			n++
		}
		st.Close()
	}
	if _, err := tx.ExecContext(ctx, `UPDATE ledger_meta SET value = ? WHERE name = 'key_fingerprint'`, newKey.fingerprint); err != nil {
		return 0, fmt.Errorf("re-keying: recording the new key fingerprint: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("re-keying: %w", err)
	}
	l.key = newKey
	return n, nil
}
