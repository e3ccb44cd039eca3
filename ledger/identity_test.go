package ledger

import (
	"bytes"
	"carepay/internal/ledgertest"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"carepay/core"
)

const otherHexKey = "ffeeddccbbaa99887766554433221100ffeeddccbbaa99887766554433221100"

func mustKey(t *testing.T, text string) *Key {
	t.Helper()
	k, err := ParseKey(text)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// TestConcurrentFirstOpen opens a new ledger from many goroutines at once
// (each its own database handle, as separate processes would be): every
// open succeeds, the schema is migrated once, and all see one identity.
func TestConcurrentFirstOpen(t *testing.T) {
	const rounds, openers = 10, 8
	key := mustKey(t, hexKey)
	for round := 0; round < rounds; round++ {
		path := filepath.Join(t.TempDir(), "new", "l.db")
		var wg sync.WaitGroup
		start := make(chan struct{})
		ids := make([]string, openers)
		errs := make([]error, openers)
		for i := 0; i < openers; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				l, err := Open(context.Background(), path, key)
				if err != nil {
					errs[i] = err
					return
				}
				ids[i] = l.ID()
				l.Close()
			}()
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			if err != nil {
				t.Fatalf("round %d, opener %d: %v", round, i, err)
			}
			if ids[i] != ids[0] {
				t.Fatalf("round %d: opener %d sees ledger %s, opener 0 %s", round, i, ids[i], ids[0])
			}
		}
		l := open(t, path)
		var applied, distinct int
		l.db.QueryRow(`SELECT COUNT(*), COUNT(DISTINCT version) FROM schema_migrations`).Scan(&applied, &distinct)
		if applied != len(migrations)-1 || distinct != applied {
			t.Fatalf("round %d: %d migrations recorded (%d distinct), want %d", round, applied, distinct, len(migrations)-1)
		}
		l.Close()
	}
}

func TestPragmas(t *testing.T) {
	l := open(t, filepath.Join(t.TempDir(), "l.db")) // SQLite's own settings
	for _, c := range []struct{ pragma, want string }{
		{"page_size", "16384"}, {"journal_mode", "wal"}, {"synchronous", "2"}, {"busy_timeout", "10000"}, {"foreign_keys", "1"},
	} {
		var got string
		if err := l.db.QueryRow("PRAGMA " + c.pragma).Scan(&got); err != nil || got != c.want {
			t.Errorf("%s = %q (%v), want %s", c.pragma, got, err, c.want)
		}
	}
}

func TestLedgerIdentity(t *testing.T) {
	pathA := ledgertest.Target(t, "a.db")
	a := open(t, pathA)
	b := open(t, ledgertest.Target(t, "b.db"))
	if !regexp.MustCompile(`^[0-9a-f]{32}$`).MatchString(a.ID()) || a.ID() == b.ID() {
		t.Fatalf("ids %q %q", a.ID(), b.ID())
	}
	id := a.ID()
	a.Close()
	if again := open(t, pathA); again.ID() != id {
		t.Errorf("reopened ledger is %s, was %s", again.ID(), id)
	}
}

// TestWrongKeyRefused: a ledger opens only with the key that sealed it,
// whether or not it holds an account number yet.
func TestWrongKeyRefused(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	l := open(t, path)
	l.Close()
	before, _ := os.ReadFile(path)
	_, err := Open(context.Background(), path, mustKey(t, otherHexKey))
	if !errors.Is(err, ErrWrongKey) || strings.Count(err.Error(), "\n") != 0 {
		t.Fatalf("opened with another key: %v", err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("a refused open changed the ledger file")
	}
	if _, err := OpenExisting(context.Background(), path, mustKey(t, otherHexKey)); !errors.Is(err, ErrWrongKey) {
		t.Errorf("OpenExisting with another key: %v", err)
	}
	open(t, path) // the right key still opens it
}

// oldLedger makes a ledger as the previous carepay left it (migrations 1
// to 3, no identity, no key fingerprint), with one employee's account
// sealed under key when key is not nil.
func oldLedger(t *testing.T, path string, key *Key) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= 3; v++ {
		if _, err := db.Exec(migrations[v]); err != nil {
			t.Fatal(err)
		}
		db.Exec(`INSERT INTO schema_migrations VALUES (?, '2026-01-01T00:00:00Z')`, v)
	}
	if _, err := db.Exec(`INSERT INTO runs (id, as_of, started_at, state) VALUES ('20260410-001', '2026-04-10', '2026-04-10T09:00:00Z', 'written')`); err != nil {
		t.Fatal(err)
	}
	if key != nil {
		sealed, err := key.seal("123456789")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := db.Exec(`INSERT INTO employees (employee_id, first_name, last_name, plan_id, employment_type, annual_income, enrolled_on, payment_method, account_sealed, updated_run)
 VALUES ('E1', 'A', 'B', 'p', 'regular_full_time', 0, '2025-01-01', 'ach', ?, '20260410-001')`, sealed); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUpgradeAdoptsTheKey: a ledger of the previous version gets an
// identity on its first open, and adopts the key it is opened with, but
// only a key that opens the account numbers it holds.
func TestUpgradeAdoptsTheKey(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "old.db")
	oldLedger(t, path, mustKey(t, hexKey))
	if _, err := Open(ctx, path, mustKey(t, otherHexKey)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("an old ledger adopted a key that does not open it: %v", err)
	}
	l := open(t, path)
	if v, _ := l.SchemaVersion(ctx); v != len(migrations)-1 || l.ID() == "" {
		t.Fatalf("upgraded to %d, id %q", v, l.ID())
	}
	if known, _ := l.HasRun(ctx, "20260410-001"); !known {
		t.Error("the upgrade lost a run")
	}
	id := l.ID()
	l.Close()
	if _, err := Open(ctx, path, mustKey(t, otherHexKey)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("after the upgrade another key opens it: %v", err)
	}
	if l := open(t, path); l.ID() != id {
		t.Errorf("identity changed on reopening: %s, was %s", l.ID(), id)
	}

	// An old ledger without any account number takes the first key.
	bare := filepath.Join(t.TempDir(), "bare.db")
	oldLedger(t, bare, nil)
	l2, err := Open(ctx, bare, mustKey(t, otherHexKey))
	if err != nil {
		t.Fatal(err)
	}
	l2.Close()
	if _, err := Open(ctx, bare, mustKey(t, hexKey)); !errors.Is(err, ErrWrongKey) {
		t.Errorf("a second key opened the ledger: %v", err)
	}
}

// TestOpenExistingCreatesNothing: explain and approve open with
// OpenExisting, which says there is no ledger and leaves no file or
// folder behind.
func TestOpenExistingCreatesNothing(t *testing.T) {
	dir := t.TempDir()
	key := mustKey(t, hexKey)
	path := filepath.Join(dir, "missing", "l.db")
	_, err := OpenExisting(context.Background(), path, key)
	if !errors.Is(err, ErrNoLedger) || !strings.Contains(err.Error(), path) {
		t.Errorf("err %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "missing")); !os.IsNotExist(err) {
		t.Errorf("a folder was created: %v", err)
	}
	empty := filepath.Join(dir, "empty.db")
	os.WriteFile(empty, nil, 0o600)
	if _, err := OpenExisting(context.Background(), empty, key); !errors.Is(err, ErrNoLedger) {
		t.Errorf("an empty file opened as a ledger: %v", err)
	}
	if st, _ := os.Stat(empty); st.Size() != 0 {
		t.Error("the empty file was written to")
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("left behind: %v", entries)
	}
	real := filepath.Join(dir, "l.db")
	open(t, real).Close()
	l, err := OpenExisting(context.Background(), real, key)
	if err != nil {
		t.Fatal(err)
	}
	l.Close()
}

// TestRunDateNeverGoesBack: Begin refuses a date before the last run's
// and outside 2000-2099; the same day and later are fine.
func TestRunDateNeverGoesBack(t *testing.T) {
	l := open(t, ledgertest.Target(t, "l.db"))
	ctx := context.Background()
	for _, d := range []core.Date{core.NewDate(1999, 12, 31), core.NewDate(2100, 1, 1)} {
		if _, err := l.Begin(ctx, d, time.Now()); !errors.Is(err, ErrRunDate) {
			t.Errorf("%s: %v", d, err)
		}
	}
	for _, d := range []core.Date{core.NewDate(2000, 1, 1), core.NewDate(2026, 4, 10), core.NewDate(2026, 4, 10)} {
		tx, err := l.Begin(ctx, d, time.Now())
		if err != nil {
			t.Fatalf("%s: %v", d, err)
		}
		if err := tx.Commit(nil); err != nil {
			t.Fatal(err)
		}
	}
	err := l.CheckRunDate(ctx, core.NewDate(2026, 4, 9))
	if !errors.Is(err, ErrRunDate) || !strings.Contains(err.Error(), "20260410-002") {
		t.Errorf("a day back: %v", err)
	}
	if _, err := l.Begin(ctx, core.NewDate(2026, 4, 9), time.Now()); !errors.Is(err, ErrRunDate) {
		t.Errorf("Begin a day back: %v", err)
	}
	if err := l.CheckRunDate(ctx, LastRunDate); err != nil {
		t.Error(err)
	}
}

// sealedValues returns every sealed value of the ledger, opened, by
// table.column and rowid.
func sealedValues(t *testing.T, l *Ledger) map[string]string {
	t.Helper()
	ctx := context.Background()
	tx, err := l.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	cols, err := l.sealedColumns(ctx, tx)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, c := range cols {
		rows, err := tx.Query(`SELECT rowid, "` + c.column + `" FROM "` + c.table + `" WHERE length("` + c.column + `") > 0`)
		if err != nil {
			t.Fatal(err)
		}
		for rows.Next() {
			var id int64
			var b []byte
			rows.Scan(&id, &b)
			plain, err := l.key.open(b)
			if err != nil {
				t.Fatalf("%s.%s row %d: %v", c.table, c.column, id, err)
			}
			out[fmt.Sprintf("%s.%s#%d", c.table, c.column, id)] = plain
		}
		rows.Close()
	}
	return out
}

// fillSealed gives a ledger account numbers in every sealed column: an
// employee, a provider and a payment.
func fillSealed(t *testing.T, l *Ledger) {
	t.Helper()
	ctx := context.Background()
	tx, err := l.Begin(ctx, core.NewDate(2026, 4, 10), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	bank := func(n string) core.BankAccount {
		return core.BankAccount{Routing: "011000015", Number: n, Type: "checking"}
	}
	if err := tx.PutEmployee(&core.Employee{ID: "E1", FirstName: "A", LastName: "B", PlanID: "p", EmploymentType: core.RegularFullTime,
		EnrolledOn: core.NewDate(2025, 1, 1), PaymentMethod: core.MethodACH, Bank: bank("111122223333")}); err != nil {
		t.Fatal(err)
	}
	if err := tx.PutEmployee(&core.Employee{ID: "E2", FirstName: "C", LastName: "D", PlanID: "p", EmploymentType: core.RegularFullTime,
		EnrolledOn: core.NewDate(2025, 1, 1), PaymentMethod: core.MethodCheck}); err != nil {
		t.Fatal(err)
	}
	if err := tx.PutProvider(&core.Provider{ID: "P1", Name: "Care", PaymentMethod: core.MethodACH, Bank: bank("444455556666")}); err != nil {
		t.Fatal(err)
	}
	p := &core.Payment{ID: 1, PayeeType: core.PayeeProvider, PayeeID: "P1", Name: "Care", Method: core.MethodACH, Amount: 1000, Lines: 1, Bank: bank("444455556666")}
	if err := tx.PutPayments(core.NewDate(2026, 4, 10), []*core.Payment{p}, nil, 100001); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(nil); err != nil {
		t.Fatal(err)
	}
}

// TestRekey re-seals every account number under a new key: the old key
// no longer opens the ledger, the new one does, and every account number
// reads the same.
func TestRekey(t *testing.T) {
	ctx := context.Background()
	path := ledgertest.Target(t, "l.db")
	l := open(t, path)
	fillSealed(t, l)
	cols, err := l.sealedColumns(ctx, l.db)
	if err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(cols) != "[{bank_blocks account_sealed} {bank_changes old_account_sealed} {employees account_sealed} {payments account_sealed} {providers account_sealed}]" {
		t.Errorf("sealed columns %v", cols)
	}
	before := sealedValues(t, l)
	if len(before) != 3 {
		t.Fatalf("sealed values %v", before)
	}
	newKey := mustKey(t, otherHexKey)
	if _, err := l.Rekey(ctx, mustKey(t, hexKey)); err == nil {
		t.Error("re-keyed to the same key")
	}
	n, err := l.Rekey(ctx, newKey)
	if err != nil || n != 3 {
		t.Fatalf("rekey: %d, %v", n, err)
	}
	l.Close()
	if _, err := Open(ctx, path, mustKey(t, hexKey)); !errors.Is(err, ErrWrongKey) {
		t.Fatalf("the old key still opens the ledger: %v", err)
	}
	l2, err := Open(ctx, path, newKey)
	if err != nil {
		t.Fatal(err)
	}
	defer l2.Close()
	after := sealedValues(t, l2)
	if fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("after re-keying %v, before %v", after, before)
	}
	if p, err := l2.Payments(ctx, "20260410-001"); err != nil || len(p) != 1 || p[0].Bank.Number != "444455556666" {
		t.Errorf("payments under the new key: %v %v", p, err)
	}
}

// TestRekeyIsOneTransaction: a value that does not open stops the
// re-keying, and the ledger stays wholly under the old key.
func TestRekeyIsOneTransaction(t *testing.T) {
	ctx := context.Background()
	path := ledgertest.Target(t, "l.db")
	l := open(t, path)
	fillSealed(t, l)
	before := sealedValues(t, l)
	// The providers table comes after employees and payments: a bad value
	// there fails the re-keying after the others were re-sealed.
	junk, _ := mustKey(t, strings.Repeat("ab", 32)).seal("999")
	if _, err := l.db.Exec(`INSERT INTO providers (provider_id, name, payment_method, account_sealed, updated_run) VALUES ('P9', 'X', 'ach', ?, 'r')`, junk); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Rekey(ctx, mustKey(t, otherHexKey)); err == nil || !strings.Contains(err.Error(), "providers.account_sealed") {
		t.Fatalf("rekey: %v", err)
	}
	l.db.Exec(`DELETE FROM providers WHERE provider_id = 'P9'`)
	if err := l.VerifyKey(ctx); err != nil {
		t.Fatal(err)
	}
	if after := sealedValues(t, l); fmt.Sprint(after) != fmt.Sprint(before) {
		t.Errorf("a failed re-keying changed values: %v", after)
	}
}
