package ledger

import (
	"bytes"
	"carepay/internal/ledgertest"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"carepay/core"
)

const hexKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

func open(t *testing.T, path string) *Ledger {
	t.Helper()
	key, err := ParseKey(hexKey)
	if err != nil {
		t.Fatal(err)
	}
	l, err := Open(context.Background(), path, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestParseKey(t *testing.T) {
	for _, c := range []struct {
		name, text string
		ok         bool
	}{
		{"hex", hexKey, true},
		{"hex_with_newline", hexKey + "\n", true},
		{"base64", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=", true},
		{"short", "0011", false},
		{"empty", "", false},
	} {
		t.Run(c.name, func(t *testing.T) {
			k, err := ParseKey(c.text)
			if (err == nil) != c.ok {
				t.Fatalf("err %v", err)
			}
			if c.ok && k.String() != "**redacted**" {
				t.Errorf("key prints as %q", k.String())
			}
		})
	}
}

func TestMigrationsAreVersionedAndIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "l.db")
	l := open(t, path)
	v, err := l.SchemaVersion(context.Background())
	if err != nil || v != len(migrations)-1 {
		t.Fatalf("version %d %v", v, err)
	}
	l.Close()
	l2 := open(t, path)
	if v2, _ := l2.SchemaVersion(context.Background()); v2 != v {
		t.Errorf("reopening changed the version to %d", v2)
	}
	if _, err := l2.db.Exec(`INSERT INTO schema_migrations VALUES (99, 'x')`); err != nil {
		t.Fatal(err)
	}
	l2.Close()
	key, _ := ParseKey(hexKey)
	if _, err := Open(context.Background(), path, key); err == nil || !strings.Contains(err.Error(), "newer than this carepay") {
		t.Errorf("a newer schema was accepted: %v", err)
	}
}

// TestAccountNumbersAreSealed checks that the database file never holds an
// account number in clear, and that a wrong key cannot read one.
func TestAccountNumbersAreSealed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	l := open(t, path)
	ctx := context.Background()
	tx, err := l.Begin(ctx, core.NewDate(2026, 4, 10), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	const account = "987123456789"
	e := &core.Employee{ID: "E1", FirstName: "A", LastName: "B", PlanID: "p", EmploymentType: core.RegularFullTime,
		EnrolledOn: core.NewDate(2025, 1, 1), PaymentMethod: core.MethodACH,
		Bank: core.BankAccount{Routing: "011000015", Number: account, Type: "checking"}}
	if err := tx.PutEmployee(e); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(nil); err != nil {
		t.Fatal(err)
	}
	var sealed []byte
	var last4 string
	if err := l.db.QueryRow(`SELECT account_sealed, account_last4 FROM employees WHERE employee_id = 'E1'`).Scan(&sealed, &last4); err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(sealed, []byte(account)) || last4 != "6789" {
		t.Errorf("sealed %x, last4 %q", sealed, last4)
	}
	got, err := l.key.open(sealed)
	if err != nil || got != account {
		t.Errorf("unsealed %q %v", got, err)
	}
	other, _ := ParseKey(strings.Repeat("ff", 32))
	if _, err := other.open(sealed); err == nil {
		t.Error("a wrong key opened the account number")
	}
	l.Close()
	for _, suffix := range []string{"", "-wal"} {
		raw, err := os.ReadFile(path + suffix)
		if err != nil && suffix == "" {
			t.Fatal(err)
		}
		if bytes.Contains(raw, []byte(account)) {
			t.Errorf("the account number is in clear in %s", filepath.Base(path+suffix))
		}
	}
}

func TestRunIDsAndRollback(t *testing.T) {
	l := open(t, ledgertest.Target(t, "l.db"))
	ctx := context.Background()
	day := core.NewDate(2026, 4, 10)
	tx, err := l.Begin(ctx, day, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if tx.RunID != "20260410-001" {
		t.Errorf("first run %s", tx.RunID)
	}
	if err := tx.RecordFile("abc", "f.csv", "inbox", "taken", map[string]int{}); err != nil {
		t.Fatal(err)
	}
	tx.Rollback()
	// A rolled-back run leaves nothing: the same ID is used again and the
	// file is not seen.
	tx, err = l.Begin(ctx, day, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if tx.RunID != "20260410-001" {
		t.Errorf("run after rollback %s", tx.RunID)
	}
	if _, seen, _ := tx.FileSeen("abc"); seen {
		t.Error("a rolled-back file is seen")
	}
	if err := tx.Commit(nil); err != nil {
		t.Fatal(err)
	}
	tx, _ = l.Begin(ctx, day, time.Now())
	defer tx.Rollback()
	if tx.RunID != "20260410-002" {
		t.Errorf("second run %s", tx.RunID)
	}
}

func TestRunLockSQLite(t *testing.T) {
	l := open(t, filepath.Join(t.TempDir(), "l.db"))
	ctx := context.Background()
	release, err := l.Lock(ctx, "first")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := l.Lock(ctx, "second"); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "first") {
		t.Errorf("second lock: %v", err)
	}
	release()
	release2, err := l.Lock(ctx, "second")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	// A holder killed without releasing: its heartbeat goes stale and the
	// lock is taken over.
	if _, err := l.db.Exec(`UPDATE locks SET heartbeat = ?`, time.Now().Add(-3*time.Minute).UTC().Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	release3, err := l.Lock(ctx, "third")
	if err != nil {
		t.Fatalf("stale lock not taken over: %v", err)
	}
	release3()
	release2() // the old holder's release does not free the new holder's lock

	// A holder on this machine whose process is gone: taken over at once.
	host, _ := os.Hostname()
	if _, err := l.db.Exec(`INSERT OR REPLACE INTO locks (name, holder, host, pid, heartbeat) VALUES ('run', 'killed', ?, 999999999, ?)`,
		host, time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		t.Fatal(err)
	}
	release4, err := l.Lock(ctx, "fourth")
	if err != nil {
		t.Fatalf("the lock of a dead process was not taken over: %v", err)
	}
	release4()
}

// TestRunLockPostgres: on PostgreSQL the run lock is an advisory lock of
// the ledger's schema, held on a connection of its own: a second process
// (a second pool) is refused while it is held, takes it once released,
// and takes it at once when the holder's connection dies (a killed
// process, a lost host), while the old holder's context is cancelled.
func TestRunLockPostgres(t *testing.T) {
	dsn := ledgertest.Postgres(t)
	a, b := open(t, dsn), open(t, dsn)
	ctx := context.Background()
	defer func(w time.Duration) { pgWatch = w }(pgWatch)
	pgWatch = 50 * time.Millisecond

	_, release, err := a.LockContext(ctx, "first")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := b.Lock(ctx, "second"); !errors.Is(err, ErrLocked) || !strings.Contains(err.Error(), "first") {
		t.Fatalf("second lock while the first is held: %v", err)
	}
	release()
	releaseB, err := b.Lock(ctx, "second")
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	if _, err := a.Lock(ctx, "third"); !errors.Is(err, ErrLocked) {
		t.Fatalf("a lock taken back while the second holds it: %v", err)
	}
	releaseB()

	held, releaseA, err := a.LockContext(ctx, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	defer releaseA()
	var killed int
	if err := b.db.QueryRow(`SELECT COUNT(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND classid = ? AND granted`,
		pgRunLockClass).Scan(&killed); err != nil || killed != 1 {
		t.Fatalf("killing the holder's connection: %d killed, %v", killed, err)
	}
	// The server let go of the lock with the connection: taken over at once.
	deadline := time.Now().Add(10 * time.Second)
	for {
		release, err := b.Lock(ctx, "successor")
		if err == nil {
			release()
			break
		}
		if !errors.Is(err, ErrLocked) || time.Now().After(deadline) {
			t.Fatalf("the lock of a dead connection was not taken over: %v", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
	select {
	case <-held.Done():
		if !strings.Contains(context.Cause(held).Error(), "run lock failed") {
			t.Errorf("cause: %v", context.Cause(held))
		}
		// The watch has seen it: the lock is lost, whatever a query on
		// a cancelled context would say.
		if err := a.CheckRunLock(held); !errors.Is(err, ErrLockLost) {
			t.Errorf("CheckRunLock once the watch saw the connection fail: %v, want ErrLockLost", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the old holder's context was not cancelled when its lock connection died")
	}
}

// TestPostgresName: a URL in a message keeps who, where, which database
// and which schema (search_path), and loses the password and every other
// parameter.
func TestPostgresName(t *testing.T) {
	cases := []struct{ in, want string }{
		{"postgres://carepay:s3cret@db.example:5432/benefits?sslmode=verify-full&search_path=acme", "postgres://carepay@db.example:5432/benefits?search_path=acme"},
		{"postgres://carepay@db.example/benefits", "postgres://carepay@db.example/benefits"},
		{"postgresql://db.example/benefits?password=s3cret&search_path=a%2Cb", "postgresql://db.example/benefits?search_path=a%2Cb"},
		{"postgres://carepay:s3cret@db.example/benefits#frag", "postgres://carepay@db.example/benefits"},
		{"postgres://[::1:5432/x", "(a PostgreSQL URL that does not parse)"},
	}
	for _, c := range cases {
		if got := PostgresName(c.in); got != c.want {
			t.Errorf("PostgresName(%q) = %q, want %q", c.in, got, c.want)
		}
		if strings.Contains(PostgresName(c.in), "s3cret") {
			t.Errorf("PostgresName(%q) shows the password", c.in)
		}
	}
}
