package ledger

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"carepay/core"
	"carepay/internal/ledgertest"
)

// TestRunLockFence: a process whose run lock went (its PostgreSQL
// connection cut, or on SQLite taken over by another process) finds out
// before it writes, whatever its watch has seen: a run does not begin,
// nothing is re-keyed or recorded, and CheckRunLock, which deliveries and
// emails call first, says the lock was lost. With no lock taken there is
// nothing to check. Runs on both drivers.
func TestRunLockFence(t *testing.T) {
	if ledgertest.RunLockClass != pgRunLockClass {
		t.Fatalf("ledgertest.RunLockClass %d is not the run lock's class %d", ledgertest.RunLockClass, pgRunLockClass)
	}
	target := ledgertest.Target(t, "ledger.db")
	l := open(t, target)
	ctx := context.Background()
	if err := l.CheckRunLock(ctx); err != nil {
		t.Fatalf("no lock taken: %v", err)
	}
	// The watch must not be what notices: only the fence.
	defer func(w time.Duration) { pgWatch = w }(pgWatch)
	pgWatch = time.Hour

	_, release, err := l.LockContext(ctx, "fenced holder")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	if err := l.CheckRunLock(ctx); err != nil {
		t.Fatalf("lock held: %v", err)
	}
	tx, err := l.Begin(ctx, core.NewDate(2026, 4, 10), time.Now())
	if err != nil {
		t.Fatalf("a run under a held lock: %v", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	ledgertest.StealRunLock(t, target)

	if err := l.CheckRunLock(ctx); !errors.Is(err, ErrLockLost) {
		t.Fatalf("CheckRunLock after the lock went: %v, want ErrLockLost", err)
	}
	if tx, err := l.Begin(ctx, core.NewDate(2026, 4, 10), time.Now()); !errors.Is(err, ErrLockLost) {
		if tx != nil {
			tx.Rollback()
		}
		t.Fatalf("a run began after the lock went: %v", err)
	}
	if _, err := l.VoidCheck(ctx, 1001, "lost", "ops@example.com", time.Now()); !errors.Is(err, ErrLockLost) {
		t.Fatalf("a check voided after the lock went: %v", err)
	}
	if _, err := l.Rekey(ctx, mustKey(t, otherHexKey)); !errors.Is(err, ErrLockLost) {
		t.Fatalf("re-keyed after the lock went: %v", err)
	}
	if _, err := l.RecordYearReport(ctx, 2026, time.Now(), []byte("{}")); !errors.Is(err, ErrLockLost) {
		t.Fatalf("a year-end report recorded after the lock went: %v", err)
	}
	var reports int
	if err := l.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM year_end_reports`).Scan(&reports); err != nil || reports != 0 {
		t.Fatalf("year-end reports: %d, %v; want none", reports, err)
	}
	release()
	if err := l.CheckRunLock(ctx); err != nil {
		t.Fatalf("after release nothing is held, nothing to check: %v", err)
	}
}

// TestApproveWhileARunWrites: an approval given while a run's transaction
// holds the ledger waits its time for the writer lock, then says the
// ledger is busy and to retry once the run commits; nothing is recorded.
// Runs on both drivers.
func TestApproveWhileARunWrites(t *testing.T) {
	defer func(w time.Duration) { writerWait = w }(writerWait)
	writerWait = 300 * time.Millisecond
	target := ledgertest.Target(t, "ledger.db")
	run, ops := open(t, target), open(t, target)
	ctx := context.Background()
	tx, err := run.Begin(ctx, core.NewDate(2026, 4, 10), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	_, err = ops.ApproveRefs(ctx, []string{"S-1"}, "ops@example.com", time.Now())
	if !errors.Is(err, ErrBusy) || !strings.Contains(err.Error(), "retry after the run commits") {
		t.Fatalf("approving while a run writes: %v, want ErrBusy", err)
	}
	if _, err := ops.VoidCheck(ctx, 1001, "lost", "ops@example.com", time.Now()); !errors.Is(err, ErrBusy) {
		t.Fatalf("voiding a check while a run writes: %v, want ErrBusy", err)
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	// The run gone, the approval is judged on its merits (no such ref).
	if _, err := ops.ApproveRefs(ctx, []string{"S-1"}, "ops@example.com", time.Now()); err == nil || errors.Is(err, ErrBusy) {
		t.Fatalf("approving an unknown statement with no run writing: %v", err)
	}
}

// TestRunCommitRefreshesHeartbeat: on SQLite the heartbeat cannot be
// written while a long run's transaction holds the ledger; the run's
// commit writes it, so that the lock does not look abandoned to another
// process just after the commit.
func TestRunCommitRefreshesHeartbeat(t *testing.T) {
	l := open(t, filepath.Join(t.TempDir(), "ledger.db"))
	ctx := context.Background()
	_, release, err := l.LockContext(ctx, "long run")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	old := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)
	tx, err := l.Begin(ctx, core.NewDate(2026, 4, 10), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	// As if the heartbeat had last been written an hour ago.
	if err := tx.exec(`UPDATE locks SET heartbeat = ? WHERE name = 'run'`, old); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit([]byte(`{}`)); err != nil {
		t.Fatal(err)
	}
	var beat string
	if err := l.db.QueryRow(`SELECT heartbeat FROM locks WHERE name = 'run'`).Scan(&beat); err != nil {
		t.Fatal(err)
	}
	at, err := time.Parse(time.RFC3339Nano, beat)
	if err != nil || time.Since(at) > time.Minute {
		t.Errorf("heartbeat after the commit: %s (%v), want now", beat, err)
	}
}
