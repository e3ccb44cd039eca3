package ledger

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Copying a ledger between SQLite and PostgreSQL (`carepay ledger copy`).
// The destination is made by Open (the same migrations, so the same
// schema) and then filled, in one transaction, with every row of the
// source's tables, read in one snapshot: sealed columns as bytes (never
// opened), each row keeping its rowid (runs_known of year_end_reports and
// the ORDER BY rowid of notices depend on it), ledger_meta exactly the
// source's (the ledger's identity and its key fingerprint travel with it).
// The copy is then read afresh and compared with the source (see Census).

// CopyReport is what Copy did and verified.
type CopyReport struct {
	// From and To name the source and the destination (a PostgreSQL URL
	// without its password).
	From, To string
	// Census is the destination's, read afresh after the copy; it equals
	// the source's.
	Census Census
	// Elapsed is how long the copy and its verification took.
	Elapsed time.Duration
	// ReplacedUnfinished is set when the destination held an unfinished
	// copy (one stopped before it finished), which this copy replaced.
	ReplacedUnfinished bool
}

// Census is what two copies of one ledger must agree on: its identity,
// schema version, the rows of every table, and checksums of the money.
type Census struct {
	LedgerID      string
	SchemaVersion int
	// Tables are the ledger's tables in name order with their rows; the
	// run lock (locks) and the schema's own bookkeeping
	// (schema_migrations) are not part of a census.
	Tables []TableCount
	// Payments is the SHA-256 (hex) of every payments row, all columns
	// (in name order), in id order; see checksumRow for the encoding.
	Payments string
	// Lines is the SHA-256 (hex) of every line's id, status,
	// final_status, employee_share, employer_share and payment_id, in id
	// order.
	Lines string
	// Runs is the SHA-256 (hex) of every run's rowid, id, as_of and
	// state, in rowid order: year-end reports name runs by rowid.
	Runs string
	// Meta is the SHA-256 (hex) of ledger_meta (identity and key
	// fingerprint), in name order.
	Meta string
}

// TableCount is a table and how many rows it holds.
type TableCount struct {
	Name string
	Rows int64
}

// ErrNotEmpty is returned by Copy for a destination that holds a ledger,
// or a table of one.
var ErrNotEmpty = errors.New("the destination is not empty")

// copySkipped are tables whose rows are not copied: the migrations the
// destination recorded itself, and the run lock, which the copy holds on
// the source (a copied lock would lock the copy).
var copySkipped = map[string]bool{"schema_migrations": true, "locks": true}

// copyBatchParams bounds the parameters of one multi-row INSERT (SQLite
// takes 32766, PostgreSQL 65535).
const copyBatchParams = 8000

// targetName is a ledger target fit for messages: a PostgreSQL URL loses
// its password.
func targetName(target string) string {
	if IsPostgres(target) {
		return PostgresName(target)
	}
	return target
}

// Copy copies the ledger at from (which must exist and open with key)
// into to, which must hold no ledger and no table of one; either may be a
// SQLite path or a PostgreSQL URL. It holds the source's run lock
// throughout, writes the destination in one transaction, and then reads
// both afresh: their censuses (identity, schema version, row counts,
// checksums of payments, lines, runs and ledger_meta) must be equal. A copy
// that fails, at any step, removes the ledger it made at to.
func Copy(ctx context.Context, from, to string, key *Key) (CopyReport, error) {
	start := time.Now()
	rep := CopyReport{From: targetName(from), To: targetName(to)}
	if from == to {
		return rep, fmt.Errorf("copying %s: the source and the destination are the same", rep.From)
	}
	src, err := OpenExisting(ctx, from, key)
	if err != nil {
		return rep, fmt.Errorf("copying from %s: %w", rep.From, err)
	}
	defer src.Close()
	// The copy stops, as if killed, if the lock goes (see LockContext).
	ctx, release, err := src.LockContext(ctx, fmt.Sprintf("carepay ledger copy, pid %d", os.Getpid()))
	if err != nil {
		return rep, fmt.Errorf("copying from %s: %w", rep.From, err)
	}
	defer release()
	if !IsPostgres(to) {
		// A mistyped path is not taken for a new place: a copy makes no
		// folder.
		dir := filepath.Dir(to)
		if st, err := os.Stat(dir); err != nil || !st.IsDir() {
			return rep, fmt.Errorf("copying to %s: the folder %s does not exist: create it first, or check --to", rep.To, dir)
		}
	}
	unlock, err := lockCopyTarget(ctx, to)
	if err != nil {
		return rep, err
	}
	defer unlock()
	replaced, err := removeUnfinishedCopy(ctx, to)
	if err != nil {
		return rep, err
	}
	rep.ReplacedUnfinished = replaced
	if err := checkEmptyTarget(ctx, to); err != nil {
		return rep, err
	}
	dst, err := openLedger(ctx, to, key, openCopyTarget)
	if err != nil {
		// A ledger of another key is not one Open made: a process made it
		// since the destination was found empty.
		if !errors.Is(err, ErrWrongKey) {
			removeTarget(to)
		}
		return rep, fmt.Errorf("copying to %s: %w", rep.To, err)
	}
	census, err := copyInto(ctx, src, dst, to, rep)
	if err != nil {
		dst.Close()
		if errors.Is(err, ErrNotEmpty) {
			return rep, err // another process's ledger appeared there: leave it be
		}
		if rerr := removeTarget(to); rerr != nil {
			return rep, fmt.Errorf("%w (and removing the partial copy failed: %v)", err, rerr)
		}
		return rep, err
	}
	rep.Census = census
	rep.Elapsed = time.Since(start)
	return rep, dst.Close()
}

// copyInto fills dst with src's rows and verifies the copy; dst is closed
// and reopened (with OpenExisting, so with the key) to read it afresh.
func copyInto(ctx context.Context, src, dst *Ledger, to string, rep CopyReport) (Census, error) {
	latest := len(migrations) - 1
	for _, l := range []*Ledger{src, dst} {
		v, err := l.SchemaVersion(ctx)
		if err != nil {
			return Census{}, fmt.Errorf("copying: reading the schema version: %w", err)
		}
		if v != latest {
			return Census{}, fmt.Errorf("copying: schema version %d, not this carepay's %d", v, latest)
		}
	}
	srcTables, err := src.copyCatalogue(ctx, src.db)
	if err != nil {
		return Census{}, fmt.Errorf("copying from %s: %w", rep.From, err)
	}
	dstTables, err := dst.copyCatalogue(ctx, dst.db)
	if err != nil {
		return Census{}, fmt.Errorf("copying to %s: %w", rep.To, err)
	}
	for _, name := range ledgerTables() {
		if err := sameColumns(srcTables[name], dstTables[name]); err != nil {
			return Census{}, fmt.Errorf("copying: table %s: %w", name, err)
		}
	}
	if err := copyRows(ctx, src, dst, srcTables, dstTables); err != nil {
		return Census{}, fmt.Errorf("copying %s to %s: %w (nothing was copied)", rep.From, rep.To, err)
	}
	if err := dst.Close(); err != nil {
		return Census{}, fmt.Errorf("copying to %s: %w", rep.To, err)
	}
	fresh, err := OpenExisting(ctx, to, src.key)
	if err != nil {
		return Census{}, fmt.Errorf("verifying the copy at %s: %w", rep.To, err)
	}
	defer fresh.Close()
	want, err := src.Census(ctx)
	if err != nil {
		return Census{}, fmt.Errorf("verifying: %s: %w", rep.From, err)
	}
	got, err := fresh.Census(ctx)
	if err != nil {
		return Census{}, fmt.Errorf("verifying: %s: %w", rep.To, err)
	}
	if diff := want.Diff(got); len(diff) > 0 {
		return Census{}, fmt.Errorf("verifying the copy at %s: it differs from %s: %s", rep.To, rep.From, strings.Join(diff, "; "))
	}
	return got, nil
}

// checkEmptyTarget refuses a destination that holds a ledger, or (in
// PostgreSQL) a table of one in its schema.
func checkEmptyTarget(ctx context.Context, to string) error {
	name := targetName(to)
	exists, err := ExistsAt(ctx, to)
	if err != nil {
		return fmt.Errorf("copying to %s: %w", name, err)
	}
	if exists {
		return fmt.Errorf("copying to %s: %w: it holds a ledger (a copy goes into a new file, or a PostgreSQL schema without carepay's tables); nothing was copied", name, ErrNotEmpty)
	}
	if !IsPostgres(to) {
		return nil
	}
	db, err := openPostgresDB(to)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY table_name`)
	if err != nil {
		return fmt.Errorf("copying to %s: listing its tables: %w", name, err)
	}
	defer rows.Close()
	ours := map[string]bool{"schema_migrations": true}
	for _, t := range ledgerTables() {
		ours[t] = true
	}
	var found []string
	for rows.Next() {
		var t string
		if err := rows.Scan(&t); err != nil {
			return fmt.Errorf("copying to %s: listing its tables: %w", name, err)
		}
		if ours[t] {
			found = append(found, t)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("copying to %s: listing its tables: %w", name, err)
	}
	if len(found) > 0 {
		return fmt.Errorf("copying to %s: %w: its schema holds carepay's tables (%s); nothing was copied", name, ErrNotEmpty, strings.Join(found, ", "))
	}
	return nil
}

// removeUnfinishedCopy removes the ledger at target when it is the
// unfinished copy of a copy that was stopped (see openCopyTarget), of any
// schema version, or a SQLite database with nothing in it (no table, no
// user_version or application_id: what a copy killed while creating the
// file leaves), and reports whether it did. Copy holds the destination's
// lock (lockCopyTarget) meanwhile.
func removeUnfinishedCopy(ctx context.Context, target string) (bool, error) {
	name := targetName(target)
	exists, err := ExistsAt(ctx, target)
	if err != nil || !exists {
		return false, err
	}
	var l *Ledger
	if IsPostgres(target) {
		db, err := openPostgresDB(target)
		if err != nil {
			return false, err
		}
		l = &Ledger{db: db, pg: true}
	} else {
		db, err := sql.Open("sqlite", "file:"+target+"?mode=rw&_busy_timeout=10000")
		if err != nil {
			return false, fmt.Errorf("copying to %s: %w", name, err)
		}
		l = &Ledger{db: db}
	}
	unfinished, err := l.markedUnfinished(ctx)
	if err == nil && !unfinished && !l.pg {
		var tables, version, app int
		if err := l.db.QueryRowContext(ctx, `SELECT (SELECT COUNT(*) FROM sqlite_master), (SELECT user_version FROM pragma_user_version), (SELECT application_id FROM pragma_application_id)`).Scan(&tables, &version, &app); err == nil {
			unfinished = tables == 0 && version == 0 && app == 0
		}
	}
	l.Close()
	if err != nil {
		// Not a ledger, nor a database: the emptiness check says what
		// it is.
		return false, nil
	}
	if !unfinished {
		return false, nil
	}
	if err := removeTarget(target); err != nil {
		return false, fmt.Errorf("copying to %s: removing the unfinished copy there: %w", name, err)
	}
	return true, nil
}

// lockCopyTarget keeps other processes from making a ledger at target
// while a copy inspects, removes and fills it: on SQLite the exclusive
// flock a new ledger's creation takes (lockCreation), on PostgreSQL a
// session advisory lock of the schema. A second copy into target is
// refused at once.
func lockCopyTarget(ctx context.Context, target string) (release func(), err error) {
	name := targetName(target)
	if !IsPostgres(target) {
		unlock, err := flock(target+"-lock", syscall.LOCK_EX|syscall.LOCK_NB)
		if err != nil {
			return nil, fmt.Errorf("copying to %s: another process is creating a ledger or copying there: %w", name, err)
		}
		return unlock, nil
	}
	db, err := openPostgresDB(target)
	if err != nil {
		return nil, err
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("copying to %s: %w", name, err)
	}
	var got bool
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(?, hashtext(current_schema()))`, pgCopyLockClass).Scan(&got); err != nil || !got {
		conn.Close()
		db.Close()
		if err == nil {
			err = errors.New("another carepay ledger copy into it is running")
		}
		return nil, fmt.Errorf("copying to %s: %w", name, err)
	}
	return func() {
		conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(?, hashtext(current_schema()))`, pgCopyLockClass)
		conn.Close()
		db.Close()
	}, nil
}

// removeTarget removes the ledger a failed copy made at target: a SQLite
// file with its WAL, or carepay's tables in a PostgreSQL schema (which
// held none before: see checkEmptyTarget).
func removeTarget(target string) error {
	if !IsPostgres(target) {
		var errs []error
		// The -lock file stays: a copy holds it (lockCopyTarget), and
		// Open makes one beside every ledger.
		for _, suffix := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(target + suffix); err != nil && !errors.Is(err, fs.ErrNotExist) {
				errs = append(errs, err)
			}
		}
		return errors.Join(errs...)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	db, err := openPostgresDB(target)
	if err != nil {
		return err
	}
	defer db.Close()
	// Only the current schema's tables, named with it: a table of the
	// same name further down the search_path is another ledger's.
	var schema sql.NullString
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		return fmt.Errorf("removing the partial copy at %s: %w", PostgresName(target), err)
	}
	if !schema.Valid {
		return nil // no schema: nothing was made
	}
	tables := append(ledgerTables(), "schema_migrations")
	for i := range tables {
		tables[i] = pgx.Identifier{schema.String, tables[i]}.Sanitize()
	}
	if _, err := db.ExecContext(ctx, `DROP TABLE IF EXISTS `+strings.Join(tables, ", ")); err != nil {
		return fmt.Errorf("removing the partial copy at %s: %w", PostgresName(target), err)
	}
	return nil
}

var (
	ddlCreate = regexp.MustCompile(`(?m)^CREATE TABLE (\w+) \(`)
	ddlDrop   = regexp.MustCompile(`(?m)^DROP TABLE (\w+);`)
	ddlRename = regexp.MustCompile(`(?m)^ALTER TABLE (\w+) RENAME TO (\w+);`)
	ddlStmt   = regexp.MustCompile(`(?m)^(CREATE TABLE \w+ \(|DROP TABLE \w+;|ALTER TABLE \w+ RENAME TO \w+;)`)
)

// ledgerTables are the tables the migrations leave (schema_migrations
// aside), in name order: the tables of a ledger, whatever else a
// PostgreSQL schema holds.
func ledgerTables() []string {
	have := map[string]bool{}
	for _, m := range migrations {
		for _, stmt := range ddlStmt.FindAllString(m, -1) {
			switch {
			case ddlCreate.MatchString(stmt):
				have[ddlCreate.FindStringSubmatch(stmt)[1]] = true
			case ddlDrop.MatchString(stmt):
				delete(have, ddlDrop.FindStringSubmatch(stmt)[1])
			case ddlRename.MatchString(stmt):
				s := ddlRename.FindStringSubmatch(stmt)
				delete(have, s[1])
				have[s[2]] = true
			}
		}
	}
	out := make([]string, 0, len(have))
	for t := range have {
		out = append(out, t)
	}
	slices.Sort(out)
	return out
}

// copyTable is a table as the catalogue describes it.
type copyTable struct {
	name  string
	cols  []string        // in the table's order; PostgreSQL's rowid column is not one
	class map[string]byte // 'i' integer, 't' text, 'b' bytes, 0 other
	rowid bool            // the table has a rowid (SQLite) or a rowid column (PostgreSQL)
	alias string          // SQLite: the INTEGER PRIMARY KEY column that is the rowid
}

// copyCatalogue describes the ledger's tables as the database holds them.
func (l *Ledger) copyCatalogue(ctx context.Context, q querier) (map[string]*copyTable, error) {
	wanted := map[string]bool{}
	for _, t := range ledgerTables() {
		wanted[t] = true
	}
	tables := map[string]*copyTable{}
	if l.pg {
		rows, err := q.QueryContext(ctx, `SELECT c.table_name, c.column_name, c.data_type FROM information_schema.columns c
 JOIN information_schema.tables t ON t.table_schema = c.table_schema AND t.table_name = c.table_name
 WHERE c.table_schema = current_schema() AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position`)
		if err != nil {
			return nil, fmt.Errorf("reading the catalogue: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var table, col, typ string
			if err := rows.Scan(&table, &col, &typ); err != nil {
				return nil, fmt.Errorf("reading the catalogue: %w", err)
			}
			if !wanted[table] {
				continue
			}
			t := tables[table]
			if t == nil {
				t = &copyTable{name: table, class: map[string]byte{}}
				tables[table] = t
			}
			if col == "rowid" {
				t.rowid = true
				continue
			}
			t.cols = append(t.cols, col)
			t.class[col] = typeClass(typ)
		}
		return tables, rows.Err()
	}
	rows, err := q.QueryContext(ctx, `SELECT m.name, COALESCE(m.sql, ''), p.name, p.type, p.pk FROM sqlite_master m, pragma_table_info(m.name) p
 WHERE m.type = 'table' ORDER BY m.name, p.cid`)
	if err != nil {
		return nil, fmt.Errorf("reading the catalogue: %w", err)
	}
	defer rows.Close()
	pks := map[string][]string{}
	for rows.Next() {
		var table, ddl, col, typ string
		var pk int
		if err := rows.Scan(&table, &ddl, &col, &typ, &pk); err != nil {
			return nil, fmt.Errorf("reading the catalogue: %w", err)
		}
		if !wanted[table] {
			continue
		}
		t := tables[table]
		if t == nil {
			t = &copyTable{name: table, class: map[string]byte{}, rowid: !strings.Contains(strings.ToUpper(ddl), "WITHOUT ROWID")}
			tables[table] = t
		}
		t.cols = append(t.cols, col)
		t.class[col] = typeClass(typ)
		if pk > 0 {
			pks[table] = append(pks[table], col)
			if strings.EqualFold(typ, "INTEGER") {
				t.alias = col
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the catalogue: %w", err)
	}
	for name, t := range tables {
		if len(pks[name]) != 1 || !t.rowid {
			t.alias = "" // only a lone INTEGER PRIMARY KEY is the rowid
		}
	}
	return tables, nil
}

// typeClass sorts a declared column type into integer, text and bytes.
func typeClass(typ string) byte {
	t := strings.ToLower(typ)
	switch {
	case strings.Contains(t, "int"):
		return 'i'
	case strings.Contains(t, "blob"), strings.Contains(t, "bytea"):
		return 'b'
	case strings.Contains(t, "text"), strings.Contains(t, "char"):
		return 't'
	}
	return 0
}

// sameColumns checks that a table has the same columns on both sides.
func sameColumns(src, dst *copyTable) error {
	if src == nil || dst == nil {
		return errors.New("missing from the source or the destination")
	}
	a, b := slices.Clone(src.cols), slices.Clone(dst.cols)
	slices.Sort(a)
	slices.Sort(b)
	if !slices.Equal(a, b) {
		return fmt.Errorf("the columns differ (%s; %s)", strings.Join(a, ","), strings.Join(b, ","))
	}
	return nil
}

// copyRows writes every row of src's tables into dst in one transaction,
// reading src in one snapshot.
func copyRows(ctx context.Context, src, dst *Ledger, srcTables, dstTables map[string]*copyTable) error {
	opts := &sql.TxOptions{ReadOnly: true} // SQLite: a deferred (reading) transaction
	if src.pg {
		opts.Isolation = sql.LevelRepeatableRead // one snapshot for every table
	}
	in, err := src.db.BeginTx(ctx, opts)
	if err != nil {
		return fmt.Errorf("reading the source: %w", err)
	}
	defer in.Rollback()
	out, err := dst.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("writing the destination: %w", err)
	}
	defer out.Rollback()
	// Open wrote the destination an identity, a key fingerprint and the
	// mark of an unfinished copy (see openCopyTarget): the source's rows
	// replace them, which clears the mark when this transaction commits.
	if _, err := out.ExecContext(ctx, `DELETE FROM ledger_meta`); err != nil {
		return fmt.Errorf("clearing ledger_meta: %w", err)
	}
	for _, name := range ledgerTables() {
		if copySkipped[name] {
			continue
		}
		// Open made the destination: only ledger_meta holds rows, unless
		// another process wrote a ledger there since it was found empty.
		var held int
		err := out.QueryRowContext(ctx, `SELECT COUNT(*) FROM (SELECT 1 FROM "`+name+`" LIMIT 1) x`).Scan(&held)
		if err != nil {
			return fmt.Errorf("table %s: %w", name, err)
		}
		if held > 0 {
			return fmt.Errorf("%w: table %s has rows another process wrote", ErrNotEmpty, name)
		}
		if err := copyTableRows(ctx, in, out, srcTables[name], dstTables[name], dst.pg); err != nil {
			return fmt.Errorf("table %s: %w", name, err)
		}
	}
	if dst.pg {
		if err := advanceIdentities(ctx, out, dstTables); err != nil {
			return err
		}
	}
	if err := out.Commit(); err != nil {
		return fmt.Errorf("committing the destination: %w", err)
	}
	return nil
}

// copyTableRows streams one table's rows from in into out, in rowid
// order, in multi-row INSERTs.
func copyTableRows(ctx context.Context, in, out *sql.Tx, src, dst *copyTable, dstPG bool) error {
	// The rowid goes across where the destination keeps one apart from
	// the columns: SQLite's rowid of a table without an INTEGER PRIMARY
	// KEY, PostgreSQL's rowid column. (SQLite's INTEGER PRIMARY KEY id is
	// its rowid: copying id is copying it.)
	insRowid := dst.rowid && dst.alias == ""
	if insRowid && !src.rowid {
		return errors.New("the source has no rowid to copy")
	}
	cols := src.cols
	quoted := make([]string, 0, len(cols)+1)
	if src.rowid {
		quoted = append(quoted, "rowid")
	}
	for _, c := range cols {
		quoted = append(quoted, `"`+c+`"`)
	}
	query := `SELECT ` + strings.Join(quoted, ", ") + ` FROM "` + src.name + `"`
	if src.rowid {
		query += ` ORDER BY rowid`
	}
	rows, err := in.QueryContext(ctx, query)
	if err != nil {
		return fmt.Errorf("reading: %w", err)
	}
	defer rows.Close()
	insCols := quoted
	if src.rowid && !insRowid {
		insCols = quoted[1:]
	}
	width := len(insCols)
	perBatch := max(1, min(500, copyBatchParams/width))
	head := `INSERT INTO "` + dst.name + `" (` + strings.Join(insCols, ", ") + `) VALUES `
	tuple := "(" + strings.Repeat("?, ", width-1) + "?)"
	insert := func(n int) string {
		return head + strings.Repeat(tuple+", ", n-1) + tuple
	}
	// Two statements a table: a full batch, and one row for the last
	// rows (PostgreSQL's connection keeps each statement it prepares).
	stmts := map[int]*sql.Stmt{}
	defer func() {
		for _, st := range stmts {
			st.Close()
		}
	}()
	exec := func(n int, args []any) error {
		st := stmts[n]
		if st == nil {
			var err error
			if st, err = out.PrepareContext(ctx, insert(n)); err != nil {
				return err
			}
			stmts[n] = st
		}
		_, err := st.ExecContext(ctx, args...)
		return err
	}
	flush := func(args []any) error {
		if len(args) == perBatch*width {
			return exec(perBatch, args)
		}
		for i := 0; i < len(args); i += width {
			if err := exec(1, args[i:i+width]); err != nil {
				return err
			}
		}
		return nil
	}
	scanned := make([]any, len(quoted))
	ptrs := make([]any, len(quoted))
	for i := range scanned {
		ptrs[i] = &scanned[i]
	}
	classes := make([]byte, len(quoted))
	for i, c := range quoted {
		if c != "rowid" {
			classes[i] = dst.class[strings.Trim(c, `"`)]
		} else {
			classes[i] = 'i'
		}
	}
	skip := len(quoted) - width // 1 when the rowid is read only for order
	args := make([]any, 0, perBatch*width)
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return fmt.Errorf("reading: %w", err)
		}
		for i := skip; i < len(scanned); i++ {
			v, err := convertValue(scanned[i], classes[i])
			if err != nil {
				return fmt.Errorf("column %s: %w", quoted[i], err)
			}
			args = append(args, v)
		}
		if len(args) == perBatch*width {
			if err := flush(args); err != nil {
				return fmt.Errorf("writing: %w", err)
			}
			args = args[:0]
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading: %w", err)
	}
	if err := flush(args); err != nil {
		return fmt.Errorf("writing: %w", err)
	}
	return nil
}

// convertValue is v as the destination's column of class c takes it: the
// drivers return what SQLite stored (a text column may hold bytes), and
// PostgreSQL's columns take one type each.
func convertValue(v any, c byte) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch c {
	case 'i':
		switch x := v.(type) {
		case int64:
			return x, nil
		case string:
			return strconv.ParseInt(x, 10, 64)
		case []byte:
			return strconv.ParseInt(string(x), 10, 64)
		case bool:
			return boolInt(x), nil
		case float64:
			if x == float64(int64(x)) {
				return int64(x), nil
			}
		}
		return nil, fmt.Errorf("%v (%T) is not an integer", v, v)
	case 't':
		switch x := v.(type) {
		case string:
			return x, nil
		case []byte:
			return string(x), nil
		case int64:
			return strconv.FormatInt(x, 10), nil
		case float64:
			return strconv.FormatFloat(x, 'g', -1, 64), nil
		case time.Time:
			return x.UTC().Format(time.RFC3339Nano), nil
		}
		return nil, fmt.Errorf("a %T where text belongs", v)
	case 'b':
		switch x := v.(type) {
		case []byte:
			return x, nil
		case string:
			return []byte(x), nil
		}
		return nil, fmt.Errorf("a %T where bytes belong", v)
	}
	return v, nil
}

// advanceIdentities moves every identity sequence of the destination past
// the ids copied into it: the next row inserted takes the next id.
func advanceIdentities(ctx context.Context, tx *sql.Tx, tables map[string]*copyTable) error {
	rows, err := tx.QueryContext(ctx, `SELECT table_name, column_name FROM information_schema.columns
 WHERE table_schema = current_schema() AND is_identity = 'YES' ORDER BY table_name, column_name`)
	if err != nil {
		return fmt.Errorf("listing identity columns: %w", err)
	}
	type ident struct{ table, column string }
	var all []ident
	for rows.Next() {
		var c ident
		if err := rows.Scan(&c.table, &c.column); err != nil {
			rows.Close()
			return fmt.Errorf("listing identity columns: %w", err)
		}
		if tables[c.table] != nil {
			all = append(all, c)
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("listing identity columns: %w", err)
	}
	for _, c := range all {
		if _, err := tx.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence(?, ?), m) FROM (SELECT MAX("`+c.column+`") AS m FROM "`+c.table+`") x WHERE m IS NOT NULL`,
			`"`+c.table+`"`, c.column); err != nil {
			return fmt.Errorf("advancing the sequence of %s.%s: %w", c.table, c.column, err)
		}
	}
	return nil
}

// Census reads the ledger's census: its identity, schema version, the
// rows of each of its tables and the checksums of payments, lines and
// ledger_meta, in one snapshot.
func (l *Ledger) Census(ctx context.Context) (Census, error) {
	opts := &sql.TxOptions{ReadOnly: true}
	if l.pg {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := l.db.BeginTx(ctx, opts)
	if err != nil {
		return Census{}, fmt.Errorf("census: %w", err)
	}
	defer tx.Rollback()
	c := Census{LedgerID: l.id}
	if c.SchemaVersion, err = l.schemaVersion(ctx, tx); err != nil {
		return Census{}, fmt.Errorf("census: %w", err)
	}
	tables, err := l.copyCatalogue(ctx, tx)
	if err != nil {
		return Census{}, fmt.Errorf("census: %w", err)
	}
	for _, name := range ledgerTables() {
		if copySkipped[name] {
			continue
		}
		if tables[name] == nil {
			return Census{}, fmt.Errorf("census: the ledger has no table %s", name)
		}
		var n int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM "`+name+`"`).Scan(&n); err != nil {
			return Census{}, fmt.Errorf("census: counting %s: %w", name, err)
		}
		c.Tables = append(c.Tables, TableCount{Name: name, Rows: n})
	}
	payCols := slices.Clone(tables["payments"].cols)
	slices.Sort(payCols)
	for _, s := range []struct {
		sum          *string
		table, order string
		cols         []string
	}{
		{&c.Payments, "payments", "id", payCols},
		{&c.Lines, "lines", "id", []string{"id", "status", "final_status", "employee_share", "employer_share", "payment_id"}},
		{&c.Runs, "runs", "rowid", []string{"rowid", "id", "as_of", "state"}},
		{&c.Meta, "ledger_meta", "name", []string{"name", "value"}},
	} {
		if *s.sum, err = tableChecksum(ctx, tx, tables[s.table], s.cols, s.order); err != nil {
			return Census{}, fmt.Errorf("census: %w", err)
		}
	}
	return c, nil
}

// tableChecksum is the SHA-256 (hex) of the table's rows, the given
// columns in order, rows in the given order (see checksumRow).
func tableChecksum(ctx context.Context, q querier, t *copyTable, cols []string, order string) (string, error) {
	quoted := make([]string, len(cols))
	classes := make([]byte, len(cols))
	for i, c := range cols {
		quoted[i] = `"` + c + `"`
		classes[i] = t.class[c]
		if c == "rowid" { // SQLite's rowid, PostgreSQL's rowid column
			quoted[i], classes[i] = c, 'i'
		}
	}
	if order != "rowid" {
		order = `"` + order + `"`
	}
	rows, err := q.QueryContext(ctx, `SELECT `+strings.Join(quoted, ", ")+` FROM "`+t.name+`" ORDER BY `+order)
	if err != nil {
		return "", fmt.Errorf("checksum of %s: %w", t.name, err)
	}
	defer rows.Close()
	h := sha256.New()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return "", fmt.Errorf("checksum of %s: %w", t.name, err)
		}
		if err := checksumRow(h, vals, classes); err != nil {
			return "", fmt.Errorf("checksum of %s: %w", t.name, err)
		}
	}
	if err := rows.Err(); err != nil {
		return "", fmt.Errorf("checksum of %s: %w", t.name, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// checksumRow writes a row to h in a canonical encoding that does not
// depend on the driver: each value, normalised to its column's class, as
// N (NULL), i<decimal> (integer), t<length>:<text> (text) or
// b<length>:<hex> (bytes), then ';'; a row ends in '\n'. NULL and empty
// text or bytes differ; lengths keep a value from running into the next.
func checksumRow(h hash.Hash, vals []any, classes []byte) error {
	var buf []byte
	for i, v := range vals {
		v, err := convertValue(v, classes[i])
		if err != nil {
			return err
		}
		switch x := v.(type) {
		case nil:
			buf = append(buf, 'N')
		case int64:
			buf = append(buf, 'i')
			buf = strconv.AppendInt(buf, x, 10)
		case string:
			buf = append(buf, 't')
			buf = strconv.AppendInt(buf, int64(len(x)), 10)
			buf = append(buf, ':')
			buf = append(buf, x...)
		case []byte:
			buf = append(buf, 'b')
			buf = strconv.AppendInt(buf, int64(len(x)), 10)
			buf = append(buf, ':')
			buf = hex.AppendEncode(buf, x)
		case float64:
			buf = append(buf, 'f')
			buf = strconv.AppendFloat(buf, x, 'g', -1, 64)
		default:
			return fmt.Errorf("a value of type %T", v)
		}
		buf = append(buf, ';')
	}
	buf = append(buf, '\n')
	_, err := h.Write(buf)
	return err
}

// Diff lists what differs between two censuses, nothing when they agree.
func (c Census) Diff(o Census) []string {
	var d []string
	if c.LedgerID != o.LedgerID {
		d = append(d, fmt.Sprintf("ledger_id %s, not %s", o.LedgerID, c.LedgerID))
	}
	if c.SchemaVersion != o.SchemaVersion {
		d = append(d, fmt.Sprintf("schema version %d, not %d", o.SchemaVersion, c.SchemaVersion))
	}
	rows := map[string]int64{}
	for _, t := range o.Tables {
		rows[t.Name] = t.Rows
	}
	for _, t := range c.Tables {
		n, ok := rows[t.Name]
		switch {
		case !ok:
			d = append(d, fmt.Sprintf("table %s missing", t.Name))
		case n != t.Rows:
			d = append(d, fmt.Sprintf("table %s has %d rows, not %d", t.Name, n, t.Rows))
		}
		delete(rows, t.Name)
	}
	for name := range rows {
		d = append(d, fmt.Sprintf("table %s is extra", name))
	}
	for _, s := range []struct{ what, a, b string }{
		{"payments", c.Payments, o.Payments},
		{"lines", c.Lines, o.Lines},
		{"runs", c.Runs, o.Runs},
		{"ledger_meta", c.Meta, o.Meta},
	} {
		if s.a != s.b {
			d = append(d, fmt.Sprintf("the checksum of %s is %s, not %s", s.what, short(s.b), short(s.a)))
		}
	}
	slices.Sort(d)
	return d
}
