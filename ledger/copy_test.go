package ledger

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"carepay/internal/ledgertest"
)

// TestChecksumEncoding: NULL, empty text and empty bytes are three
// different values; a value cannot run into the next; and a value reads
// the same from either driver (an integer, text held as bytes).
func TestChecksumEncoding(t *testing.T) {
	sum := func(vals []any, classes string) string {
		h := sha256.New()
		if err := checksumRow(h, vals, []byte(classes)); err != nil {
			t.Fatal(err)
		}
		return string(h.Sum(nil))
	}
	distinct := []string{
		sum([]any{nil}, "t"),
		sum([]any{""}, "t"),
		sum([]any{[]byte{}}, "b"),
		sum([]any{"ab", "c"}, "tt"),
		sum([]any{"a", "bc"}, "tt"),
		sum([]any{int64(12)}, "i"),
		sum([]any{"12"}, "t"),
	}
	seen := map[string]int{}
	for i, s := range distinct {
		if j, ok := seen[s]; ok {
			t.Errorf("values %d and %d have the same checksum", j, i)
		}
		seen[s] = i
	}
	if sum([]any{nil}, "t") == sum([]any{[]byte{}}, "t") {
		t.Error("NULL and empty bytes in a text column agree")
	}
	// What SQLite may hand back for what PostgreSQL hands back typed.
	if sum([]any{[]byte("x"), "12", "\x01"}, "tib") != sum([]any{"x", int64(12), []byte{1}}, "tib") {
		t.Error("one value read two ways has two checksums")
	}
	h := sha256.New()
	if err := checksumRow(h, []any{"abc"}, []byte("i")); err == nil {
		t.Error("text in an integer column was taken")
	}
}

// filled is a ledger at target with account numbers, a payment and
// notices, and its census.
func filled(t *testing.T, target string) Census {
	t.Helper()
	l := open(t, target)
	fillSealed(t, l)
	ctx := context.Background()
	c, err := l.Census(ctx)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
	return c
}

func rowsOf(c Census, table string) int64 {
	for _, tc := range c.Tables {
		if tc.Name == table {
			return tc.Rows
		}
	}
	return -1
}

// TestCopyRoundTrip copies a SQLite ledger to PostgreSQL and back: the
// census (identity, counts, checksums) is the source's at each step, the
// sealed account numbers open with the key, the rowids are kept, and the
// copy takes new rows after the copied ones.
func TestCopyRoundTrip(t *testing.T) {
	ctx := context.Background()
	key := mustKey(t, hexKey)
	file := filepath.Join(t.TempDir(), "l.db")
	want := filled(t, file)
	if rowsOf(want, "payments") != 1 || rowsOf(want, "employees") != 2 {
		t.Fatalf("fixture: %+v", want.Tables)
	}
	// A run whose rowid is not the next: the copy keeps rowids.
	orig := open(t, file)
	if _, err := orig.db.Exec(`INSERT INTO runs (rowid, id, as_of, started_at, state) VALUES (7, 'r7', '2026-04-11', 'then', 'written')`); err != nil {
		t.Fatal(err)
	}
	want, err := orig.Census(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantSealed := sealedValues(t, orig)
	orig.Close()

	pg := ledgertest.Postgres(t)
	rep, err := Copy(ctx, file, pg, key)
	if err != nil {
		t.Fatal(err)
	}
	if d := want.Diff(rep.Census); len(d) > 0 {
		t.Fatalf("the PostgreSQL copy differs: %v", d)
	}
	// The report names the schema, and no other parameter.
	if rep.To != PostgresName(pg) || !strings.Contains(rep.To, "?search_path=t") {
		t.Errorf("the report names the destination %s", rep.To)
	}
	if u, err := url.Parse(pg); err != nil {
		t.Fatal(err)
	} else if pw, ok := u.User.Password(); ok && strings.Contains(rep.To, pw) {
		t.Errorf("the report shows the password: %s", rep.To)
	}
	cp := open(t, pg)
	if cp.ID() != want.LedgerID {
		t.Errorf("the copy's ledger_id is %s, not %s", cp.ID(), want.LedgerID)
	}
	if got := sealedValues(t, cp); len(got) != len(wantSealed) || len(got) == 0 {
		t.Errorf("sealed values %v, want %v", got, wantSealed)
	} else {
		for k, v := range wantSealed {
			if got[k] != v {
				t.Errorf("%s: %q, want %q", k, got[k], v)
			}
		}
	}
	// The next payment id and run rowid follow the copied ones.
	var next, rowid int64
	if err := cp.db.QueryRow(`INSERT INTO payments (run_id, payee_type, payee_id, payee_name, method, amount, lines, refs) VALUES ('x', 'provider', 'P1', 'Care', 'check', 1, 1, '') RETURNING id`).Scan(&next); err != nil || next != 2 {
		t.Errorf("a new payment after the copy: id %d (%v), want 2", next, err)
	}
	if err := cp.db.QueryRow(`SELECT rowid FROM runs WHERE id = 'r7'`).Scan(&rowid); err != nil || rowid != 7 {
		t.Errorf("run r7 has rowid %d (%v), want 7", rowid, err)
	}
	if _, err := cp.db.Exec(`INSERT INTO runs (id, as_of, started_at, state) VALUES ('x', '2026-05-01', 'now', 'decided')`); err != nil {
		t.Errorf("a new run after the copy: %v", err)
	}
	var runRowid int64
	cp.db.QueryRow(`SELECT rowid FROM runs WHERE id = 'x'`).Scan(&runRowid)
	var maxCopied int64
	cp.db.QueryRow(`SELECT COALESCE(MAX(rowid), 0) FROM runs WHERE id != 'x'`).Scan(&maxCopied)
	if maxCopied != 7 || runRowid != 8 {
		t.Errorf("the new run has rowid %d after %d", runRowid, maxCopied)
	}
	if _, err := cp.db.Exec(`DELETE FROM runs WHERE id = 'x'`); err != nil {
		t.Fatal(err)
	}
	if _, err := cp.db.Exec(`DELETE FROM payments WHERE id = ?`, next); err != nil {
		t.Fatal(err)
	}
	cp.Close()

	// Schema to schema, and back to SQLite.
	pg2 := ledgertest.Postgres(t)
	if rep, err := Copy(ctx, pg, pg2, key); err != nil || len(want.Diff(rep.Census)) > 0 {
		t.Fatalf("copy between schemas: %v %v", err, want.Diff(rep.Census))
	}
	back := filepath.Join(t.TempDir(), "back.db")
	rep2, err := Copy(ctx, pg2, back, key)
	if err != nil {
		t.Fatal(err)
	}
	if d := want.Diff(rep2.Census); len(d) > 0 {
		t.Fatalf("the copy back differs: %v", d)
	}
	b := open(t, back)
	var ids []int64
	rows, err := b.db.Query(`SELECT rowid FROM runs ORDER BY rowid`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		rows.Scan(&id)
		ids = append(ids, id)
	}
	rows.Close()
	if !slices.Equal(ids, []int64{1, 7}) {
		t.Errorf("runs' rowids %v, want [1 7]", ids)
	}
}

// TestCopyRefusesANonEmptyDestination: a destination holding a ledger,
// or one of carepay's tables, is refused and left as it was; so is a
// wrong key, before anything is made.
func TestCopyRefusesANonEmptyDestination(t *testing.T) {
	ctx := context.Background()
	key := mustKey(t, hexKey)
	dir := t.TempDir()
	file := filepath.Join(dir, "l.db")
	want := filled(t, file)

	other := filepath.Join(dir, "other.db")
	otherCensus := filled(t, other)
	if _, err := Copy(ctx, file, other, key); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("copy onto a SQLite ledger: %v", err)
	}
	o := open(t, other)
	if c, err := o.Census(ctx); err != nil || len(otherCensus.Diff(c)) > 0 {
		t.Errorf("the refused destination changed: %v %v", err, otherCensus.Diff(c))
	}
	o.Close()

	pg := ledgertest.Postgres(t)
	pgCensus := filled(t, pg)
	if _, err := Copy(ctx, file, pg, key); !errors.Is(err, ErrNotEmpty) {
		t.Errorf("copy onto a PostgreSQL ledger: %v", err)
	}
	p := open(t, pg)
	if c, err := p.Census(ctx); err != nil || len(pgCensus.Diff(c)) > 0 || c.LedgerID == want.LedgerID {
		t.Errorf("the refused destination changed: %v %v", err, pgCensus.Diff(c))
	}
	// A schema holding one of carepay's tables but no ledger.
	if _, err := p.db.Exec(`DROP TABLE schema_migrations`); err != nil {
		t.Fatal(err)
	}
	p.Close()
	_, err := Copy(ctx, file, pg, key)
	if !errors.Is(err, ErrNotEmpty) || !strings.Contains(err.Error(), "its schema holds carepay's tables (") {
		t.Errorf("copy into a schema with carepay's tables: %v", err)
	}

	// A wrong key: refused, nothing made.
	wrong := mustKey(t, strings.Repeat("ab", 32))
	fresh := filepath.Join(dir, "fresh.db")
	if _, err := Copy(ctx, file, fresh, wrong); !errors.Is(err, ErrWrongKey) {
		t.Errorf("copy with a wrong key: %v", err)
	}
	if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused copy made %s: %v", fresh, err)
	}
}

// TestCopyFailureLeavesNothing: a copy that fails halfway (a value the
// destination cannot take) leaves no ledger and no table behind, so that
// the copy can be made again once the source is put right.
func TestCopyFailureLeavesNothing(t *testing.T) {
	ctx := context.Background()
	key := mustKey(t, hexKey)
	dir := t.TempDir()
	file := filepath.Join(dir, "l.db")
	filled(t, file)
	l := open(t, file)
	if _, err := l.db.Exec(`INSERT INTO runs (id, as_of, started_at, state, line_from) VALUES ('bad', '2026-04-11', 'then', 'written', 'not a number')`); err != nil {
		t.Fatal(err)
	}
	l.Close()

	pg := ledgertest.Postgres(t)
	_, err := Copy(ctx, file, pg, key)
	if err == nil || !strings.Contains(err.Error(), "table runs: column \"line_from\"") || !strings.Contains(err.Error(), "nothing was copied") {
		t.Fatalf("copy of a bad value: %v", err)
	}
	if ok, err := ExistsAt(ctx, pg); ok || err != nil {
		t.Errorf("a failed copy left a ledger at the destination (%v)", err)
	}
	db, err := openPostgresDB(pg)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var tables int
	if err := db.QueryRow(`SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()`).Scan(&tables); err != nil || tables != 0 {
		t.Errorf("a failed copy left %d tables (%v)", tables, err)
	}
	sqlite := filepath.Join(dir, "copy.db")
	if _, err := Copy(ctx, file, sqlite, key); err == nil {
		t.Fatal("copy of a bad value to SQLite succeeded")
	}
	if _, err := os.Stat(sqlite); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a failed copy left %s (%v)", sqlite, err)
	}

	// Put right, the copy goes through.
	l = open(t, file)
	if _, err := l.db.Exec(`DELETE FROM runs WHERE id = 'bad'`); err != nil {
		t.Fatal(err)
	}
	l.Close()
	if _, err := Copy(ctx, file, pg, key); err != nil {
		t.Errorf("copy again: %v", err)
	}
}

// TestLedgerTablesAreTheSchemas: the tables Copy and Census know, read
// from the migrations' text, are every table a new ledger has, so that a
// table a later migration adds is copied and counted.
func TestLedgerTablesAreTheSchemas(t *testing.T) {
	l := open(t, filepath.Join(t.TempDir(), "l.db"))
	rows, err := l.db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\_%' ESCAPE '\' AND name != 'schema_migrations' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var have []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		have = append(have, n)
	}
	if got := ledgerTables(); !slices.Equal(got, have) || len(got) < 20 {
		t.Errorf("ledgerTables() = %v\nthe schema has %v", got, have)
	}
}

// TestCopyStoppedHalfWay: a copy killed after it made the destination and
// before its one data transaction committed leaves a ledger marked
// unfinished. Nothing opens it as a ledger (a run there would start with
// no history and pay again), and the same copy run again replaces it.
// Runs on both drivers (the destination is the suite's).
func TestCopyStoppedHalfWay(t *testing.T) {
	ctx := context.Background()
	key := mustKey(t, hexKey)
	src := filepath.Join(t.TempDir(), "l.db")
	want := filled(t, src)
	dst := ledgertest.Target(t, "copy.db")

	// What the killed copy left: the destination made, migrated, marked.
	half, err := openLedger(ctx, dst, key, openCopyTarget)
	if err != nil {
		t.Fatal(err)
	}
	halfID := half.ID()
	half.Close()
	if halfID == want.LedgerID {
		t.Fatal("the unfinished copy has the source's identity already")
	}
	if exists, err := ExistsAt(ctx, dst); err != nil || !exists {
		t.Fatalf("the unfinished copy is not there: %v %v", exists, err)
	}
	for name, openIt := range map[string]func(context.Context, string, *Key) (*Ledger, error){"Open": Open, "OpenExisting": OpenExisting} {
		if l, err := openIt(ctx, dst, key); !errors.Is(err, ErrUnfinishedCopy) {
			if l != nil {
				l.Close()
			}
			t.Errorf("%s of an unfinished copy: %v, want ErrUnfinishedCopy", name, err)
		}
	}

	// Made by an older carepay (one migration fewer): still refused,
	// before anything is written, and still replaced by a copy.
	raw := &Ledger{pg: IsPostgres(dst)}
	if raw.pg {
		raw.db, err = openPostgresDB(dst)
	} else {
		raw.db, err = sql.Open("sqlite", "file:"+dst)
	}
	if err != nil {
		t.Fatal(err)
	}
	latest := len(migrations) - 1
	if _, err := raw.db.Exec(`DELETE FROM schema_migrations WHERE version = ?`, latest); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(ctx, dst, key); !errors.Is(err, ErrUnfinishedCopy) {
		t.Errorf("Open of an older unfinished copy: %v, want ErrUnfinishedCopy", err)
	}
	if v, err := raw.schemaVersion(ctx, raw.db); err != nil || v != latest-1 {
		t.Errorf("the refused copy was migrated: version %d, %v", v, err)
	}
	raw.Close()

	// A second copy into the same place while one is at work is refused.
	unlock, err := lockCopyTarget(ctx, dst)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Copy(ctx, src, dst, key); err == nil || !strings.Contains(err.Error(), "another") {
		t.Errorf("a copy into a destination another copy holds: %v", err)
	}
	unlock()

	rep, err := Copy(ctx, src, dst, key)
	if err != nil {
		t.Fatalf("copying again over the unfinished copy: %v", err)
	}
	if !rep.ReplacedUnfinished {
		t.Error("the report does not say the unfinished copy was replaced")
	}
	if d := want.Diff(rep.Census); len(d) > 0 {
		t.Fatalf("the copy differs from the source: %v", d)
	}
	cp := open(t, dst)
	if cp.ID() != want.LedgerID {
		t.Errorf("the copy's identity is %s, want the source's %s", cp.ID(), want.LedgerID)
	}
	// A finished copy is a ledger: copying onto it again is refused.
	cp.Close()
	if rep, err := Copy(ctx, src, dst, key); !errors.Is(err, ErrNotEmpty) || rep.ReplacedUnfinished {
		t.Errorf("copy onto a finished copy: %v (replaced %v)", err, rep.ReplacedUnfinished)
	}
}

// TestCopyOverAnEmptySQLiteFile: a SQLite file with no table in it (a copy
// killed while it created the destination) holds nothing: a copy takes its
// place. A file with a table of someone else's is refused.
func TestCopyOverAnEmptySQLiteFile(t *testing.T) {
	ctx := context.Background()
	key := mustKey(t, hexKey)
	dir := t.TempDir()
	src := filepath.Join(dir, "l.db")
	want := filled(t, src)
	dst := filepath.Join(dir, "copy.db")
	db, err := sql.Open("sqlite", "file:"+dst)
	if err != nil {
		t.Fatal(err)
	}
	// What a copy killed while creating the file leaves: WAL mode set,
	// nothing committed.
	if _, err := db.Exec(`PRAGMA journal_mode = WAL`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if exists, err := Exists(dst); err != nil || !exists {
		t.Fatalf("the empty database is not there: %v %v", exists, err)
	}
	rep, err := Copy(ctx, src, dst, key)
	if err != nil {
		t.Fatalf("copying over an empty database: %v", err)
	}
	if !rep.ReplacedUnfinished || len(want.Diff(rep.Census)) > 0 {
		t.Errorf("replaced %v, differences %v", rep.ReplacedUnfinished, want.Diff(rep.Census))
	}

	// A database with a table, or marked by another program, is not ours
	// to remove.
	for i, stmt := range []string{`CREATE TABLE notes (x TEXT)`, `PRAGMA user_version = 1`, `PRAGMA application_id = 7`} {
		theirs := filepath.Join(dir, fmt.Sprintf("theirs%d.db", i))
		db, err = sql.Open("sqlite", "file:"+theirs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
		db.Close()
		if _, err := Copy(ctx, src, theirs, key); !errors.Is(err, ErrNotEmpty) {
			t.Errorf("copy over a database after %s: %v, want ErrNotEmpty", stmt, err)
		}
		if _, err := os.Stat(theirs); err != nil {
			t.Errorf("the database after %s is gone: %v", stmt, err)
		}
	}
}

// TestCopyMakesNoFolder: a destination in a folder that does not exist (a
// mistyped --to) is refused, and nothing is made.
func TestCopyMakesNoFolder(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	src := filepath.Join(dir, "l.db")
	filled(t, src)
	to := filepath.Join(dir, "bakcups", "l.db")
	if _, err := Copy(ctx, src, to, mustKey(t, hexKey)); err == nil || !strings.Contains(err.Error(), "the folder "+filepath.Join(dir, "bakcups")+" does not exist") {
		t.Fatalf("copy into a missing folder: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "bakcups")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the copy made the folder: %v", err)
	}
}
