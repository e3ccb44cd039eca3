// Package ledgertest gives tests a fresh ledger to open: a SQLite file,
// or a schema of its own in a real PostgreSQL server. The same tests run
// on both drivers (scripts/test runs the ledger's, the batch's and the
// command's tests once more with CAREPAY_TEST_LEDGER=postgres), as
// restic runs one suite against every backend.
package ledgertest

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// PostgresEnv names the variable holding the URL of the test database
// (scripts/e2e-postgres.sh starts a server and writes it).
const PostgresEnv = "CAREPAY_TEST_POSTGRES"

// DriverEnv chooses the driver of Target: "postgres", or SQLite.
const DriverEnv = "CAREPAY_TEST_LEDGER"

// OnPostgres reports whether Target gives PostgreSQL ledgers.
func OnPostgres() bool { return os.Getenv(DriverEnv) == "postgres" }

// Target returns where a new, empty ledger for t lives: a file in
// t.TempDir() named name, or with CAREPAY_TEST_LEDGER=postgres a new
// schema of the test database (see Postgres).
func Target(t testing.TB, name string) string {
	t.Helper()
	if OnPostgres() {
		return Postgres(t)
	}
	return filepath.Join(t.TempDir(), name)
}

var schemas atomic.Int64

var notIdent = regexp.MustCompile(`[^a-z0-9_]+`)

// Postgres creates a schema of its own for t in the database
// CAREPAY_TEST_POSTGRES names, dropped when t ends, and returns a URL
// whose connections work in it. With no database named, t fails under CI
// (or when CAREPAY_TEST_LEDGER asks for PostgreSQL) and is skipped
// elsewhere: scripts/test starts the server.
func Postgres(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("CI") != "" || OnPostgres() {
			t.Fatal(PostgresEnv + " not set: run the suite through scripts/test, which starts PostgreSQL")
		}
		t.Skip(PostgresEnv + " not set outside CI: scripts/test starts the real PostgreSQL server")
	}
	name := notIdent.ReplaceAllString(strings.ToLower(t.Name()), "_")
	if len(name) > 40 {
		name = name[len(name)-40:]
	}
	schema := fmt.Sprintf("t%d_%d_%s", os.Getpid(), schemas.Add(1), name)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to the test database: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatalf("creating schema %s: %v", schema, err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("connecting to drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{schema}.Sanitize()+` CASCADE`); err != nil {
			t.Errorf("dropping schema %s: %v", schema, err)
		}
	})
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "search_path=" + schema
}

// RunLockClass is the first key of the PostgreSQL run lock (the ledger
// package's pgRunLockClass; a ledger test checks they agree).
const RunLockClass = 0x43504159 + 1

// StealRunLock makes the process holding the run lock of the ledger at
// target lose it, as it would in production: on PostgreSQL the server ends
// the connections holding an advisory lock of the ledger's schema (a cut
// network, a restarted server); on SQLite another process takes the lock
// over (as after a heartbeat gone stale). The ledger package must be
// linked in (it registers the SQLite driver).
func StealRunLock(t testing.TB, target string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if !strings.HasPrefix(target, "postgres://") && !strings.HasPrefix(target, "postgresql://") {
		db, err := sql.Open("sqlite", "file:"+target+"?mode=rw&_busy_timeout=10000")
		if err != nil {
			t.Fatalf("stealing the run lock: %v", err)
		}
		defer db.Close()
		// The same holder's text and pid on another host (a container
		// whose process is pid 1 too): only the host tells them apart.
		res, err := db.ExecContext(ctx, `UPDATE locks SET host = 'another-host', heartbeat = ? WHERE name = 'run'`,
			time.Now().UTC().Format(time.RFC3339Nano))
		if err != nil {
			t.Fatalf("stealing the run lock: %v", err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			t.Fatalf("stealing the run lock: no process holds it")
		}
		return
	}
	conn, err := pgx.Connect(ctx, target)
	if err != nil {
		t.Fatalf("stealing the run lock: %v", err)
	}
	defer conn.Close(ctx)
	var n int
	if err := conn.QueryRow(ctx, `SELECT COUNT(pg_terminate_backend(pid)) FROM pg_locks WHERE locktype = 'advisory' AND granted
 AND classid = $1 AND objsubid = 2 AND objid = (hashtext(current_schema()))::oid AND pid <> pg_backend_pid()`, RunLockClass).Scan(&n); err != nil {
		t.Fatalf("stealing the run lock: %v", err)
	}
	if n == 0 {
		t.Fatalf("stealing the run lock: no connection holds it")
	}
	// pg_terminate_backend only signals: the lock goes when the backend
	// has exited. Wait for that, as another process would.
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if err := conn.QueryRow(ctx, `SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND granted
 AND classid = $1 AND objsubid = 2 AND objid = (hashtext(current_schema()))::oid`, RunLockClass).Scan(&n); err != nil {
			t.Fatalf("stealing the run lock: %v", err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stealing the run lock: its connection still holds it 20 s after it was ended")
		}
	}
}
