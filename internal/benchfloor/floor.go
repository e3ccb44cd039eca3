package benchfloor

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver
)

// CSV reads every row of every CSV file in dir with encoding/csv (one
// reader per file, records reused, ragged rows allowed) and returns how
// many rows it read and how long that took: the floor of ingest's read and
// parse stage on the same files.
func CSV(dir string) (rows int, elapsed time.Duration, err error) {
	paths, err := filepath.Glob(filepath.Join(dir, "*.csv"))
	if err != nil {
		return 0, 0, fmt.Errorf("listing %s: %w", dir, err)
	}
	start := time.Now()
	for _, p := range paths {
		n, err := csvFile(p)
		if err != nil {
			return rows, time.Since(start), err
		}
		rows += n
	}
	return rows, time.Since(start), nil
}

func csvFile(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	n := 0
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			return n, nil
		}
		if err != nil {
			return n, fmt.Errorf("reading %s: %w", path, err)
		}
		n++
	}
}

// insertBatch is how many rows one INSERT of the floor carries, as the
// ledger does.
const insertBatch = 256

// SQLiteLines copies the rows of table lines of the SQLite database at
// ledgerPath (every column but id) into a new database in dir, in one
// transaction, with multi-row INSERTs of 256 rows, into a table with the
// same columns and no secondary index, with the pragmas of a ledger (WAL,
// 16 KiB pages, synchronous FULL). It returns how many rows it inserted
// and how long the inserts and the commit took (the reads of the source
// are not counted): the floor of the decide and commit stage.
func SQLiteLines(ctx context.Context, ledgerPath, dir string) (rows int, elapsed time.Duration, err error) {
	src, err := sql.Open("sqlite", "file:"+ledgerPath+"?mode=ro")
	if err != nil {
		return 0, 0, fmt.Errorf("opening %s: %w", ledgerPath, err)
	}
	defer src.Close()
	var cols []string
	crow, err := src.QueryContext(ctx, `SELECT name, type FROM pragma_table_info('lines') WHERE name != 'id' ORDER BY cid`)
	if err != nil {
		return 0, 0, fmt.Errorf("reading the columns of lines: %w", err)
	}
	var defs []string
	for crow.Next() {
		var name, typ string
		if err := crow.Scan(&name, &typ); err != nil {
			crow.Close()
			return 0, 0, err
		}
		cols = append(cols, name)
		defs = append(defs, name+" "+typ)
	}
	crow.Close()
	if len(cols) == 0 {
		return 0, 0, fmt.Errorf("%s has no table lines", ledgerPath)
	}

	path := filepath.Join(dir, "floor.db")
	for _, s := range []string{"", "-wal", "-shm"} {
		os.Remove(path + s)
	}
	dst, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return 0, 0, fmt.Errorf("opening %s: %w", path, err)
	}
	defer dst.Close()
	dst.SetMaxOpenConns(1)
	// The page size first: a file in WAL mode keeps the size it has.
	for _, p := range []string{"page_size = 16384", "journal_mode = WAL", "synchronous = FULL", "cache_size = -32768"} {
		if _, err := dst.ExecContext(ctx, "PRAGMA "+p); err != nil {
			return 0, 0, fmt.Errorf("floor database: PRAGMA %s: %w", p, err)
		}
	}
	if _, err := dst.ExecContext(ctx, `CREATE TABLE lines (id INTEGER PRIMARY KEY, `+strings.Join(defs, ", ")+`)`); err != nil {
		return 0, 0, fmt.Errorf("creating the floor table: %w", err)
	}
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	insert := func(n int) string {
		return `INSERT INTO lines (` + strings.Join(cols, ", ") + `) VALUES ` + strings.TrimSuffix(strings.Repeat(one+",", n), ",")
	}
	full, err := dst.PrepareContext(ctx, insert(insertBatch))
	if err != nil {
		return 0, 0, err
	}
	defer full.Close()

	rs, err := src.QueryContext(ctx, `SELECT `+strings.Join(cols, ", ")+` FROM lines ORDER BY id`)
	if err != nil {
		return 0, 0, fmt.Errorf("reading lines: %w", err)
	}
	defer rs.Close()
	args := make([]any, 0, insertBatch*len(cols))
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	tx, err := dst.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	st := tx.StmtContext(ctx, full)
	flush := func() error {
		n := len(args) / len(cols)
		if n == 0 {
			return nil
		}
		t0 := time.Now()
		var err error
		if n == insertBatch {
			_, err = st.ExecContext(ctx, args...)
		} else {
			_, err = tx.ExecContext(ctx, insert(n), args...)
		}
		elapsed += time.Since(t0)
		rows += n
		args = args[:0]
		return err
	}
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			return rows, elapsed, err
		}
		for _, v := range vals {
			if b, ok := v.([]byte); ok {
				v = append([]byte(nil), b...)
			}
			args = append(args, v)
		}
		if len(args) == cap(args) {
			if err := flush(); err != nil {
				return rows, elapsed, fmt.Errorf("inserting: %w", err)
			}
		}
	}
	if err := rs.Err(); err != nil {
		return rows, elapsed, err
	}
	if err := flush(); err != nil {
		return rows, elapsed, fmt.Errorf("inserting: %w", err)
	}
	t0 := time.Now()
	if err := tx.Commit(); err != nil {
		return rows, elapsed, err
	}
	elapsed += time.Since(t0)
	return rows, elapsed, nil
}
