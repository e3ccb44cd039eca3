package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"sync"
	"syscall"
	"time"

	"carepay/safefile"
)

// processAlive reports whether a process of this machine is running.
func processAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}

// lockCreation makes the processes that find no ledger at path (or an
// empty file) create it one at a time: the first creates the file, turns
// it to WAL, migrates it and writes its schema into the main file; the
// others wait on an exclusive flock of path+"-lock" and then open a
// ledger like any other. (Two connections turning one new file to WAL at
// once can get SQLITE_BUSY where the busy timeout does not apply.) The
// lock file stays beside the ledger; a ledger with content takes no lock.
func lockCreation(path string) (unlock func(), err error) {
	if st, err := os.Stat(path); err == nil && st.Size() > 0 {
		return func() {}, nil
	}
	f, err := os.OpenFile(path+"-lock", os.O_CREATE|os.O_RDWR, safefile.Perm())
	if err != nil {
		return nil, fmt.Errorf("creating ledger %s: %w", path, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("creating ledger %s: locking %s: %w", path, f.Name(), err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// ErrLocked is returned by Lock when another process holds the run lock.
var ErrLocked = errors.New("another carepay process is running on this ledger")

// staleAfter is how long a lock may go without a heartbeat before another
// process takes it over: its holder was killed.
const staleAfter = 2 * time.Minute

// Lock takes the ledger's run lock for holder (a description such as
// "serve pid 123"), so that two processes never run at once on one
// ledger. A heartbeat keeps it fresh until release is called. A lock whose
// holder was killed is taken over at once when the holder ran on this
// machine and its process is gone, and otherwise once its heartbeat is
// older than two minutes.
func (l *Ledger) Lock(ctx context.Context, holder string) (release func(), err error) {
	now := time.Now().UTC()
	host, _ := os.Hostname()
	var oldHost string
	var oldPID int
	err = l.db.QueryRowContext(ctx, `SELECT host, pid FROM locks WHERE name = 'run'`).Scan(&oldHost, &oldPID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("reading the run lock: %w", err)
	}
	staleBefore := now.Add(-staleAfter)
	if err == nil && oldHost == host && !processAlive(oldPID) {
		staleBefore = now.Add(time.Hour) // its holder is dead: take it over now
	}
	res, err := l.db.ExecContext(ctx, `INSERT INTO locks (name, holder, host, pid, heartbeat) VALUES ('run', ?, ?, ?, ?)
 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, host = excluded.host, pid = excluded.pid, heartbeat = excluded.heartbeat
 WHERE locks.heartbeat < ?`,
		holder, host, os.Getpid(), now.Format(time.RFC3339Nano), staleBefore.Format(time.RFC3339Nano))
	if err != nil {
		return nil, fmt.Errorf("taking the run lock: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var who, beat string
		l.db.QueryRowContext(ctx, `SELECT holder, heartbeat FROM locks WHERE name = 'run'`).Scan(&who, &beat)
		return nil, fmt.Errorf("%w (%s, last seen %s)", ErrLocked, who, beat)
	}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(staleAfter / 4)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				l.db.Exec(`UPDATE locks SET heartbeat = ? WHERE name = 'run' AND holder = ?`, time.Now().UTC().Format(time.RFC3339Nano), holder)
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(stop)
			wg.Wait()
			l.db.Exec(`DELETE FROM locks WHERE name = 'run' AND holder = ?`, holder)
		})
	}, nil
}

// LastRun returns when the latest run of a job started (zero if never).
func (l *Ledger) LastRun(ctx context.Context, job string) (time.Time, error) {
	var started string
	err := l.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(started_at), '') FROM runs WHERE job = ?`, job).Scan(&started)
	if err != nil || started == "" {
		return time.Time{}, err
	}
	return time.Parse(time.RFC3339, started)
}

// SetJob records which scheduled job a run belongs to.
func (t *Tx) SetJob(job string) error {
	if err := t.exec(`UPDATE runs SET job = ? WHERE id = ?`, job, t.RunID); err != nil {
		return fmt.Errorf("recording the job of run %s: %w", t.RunID, err)
	}
	return nil
}

// Delivered reports whether a file of a run went to a sink already.
func (l *Ledger) Delivered(ctx context.Context, runID, sink, name string) (bool, error) {
	var n int
	if err := l.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE run_id = ? AND sink = ? AND name = ?`, runID, sink, name).Scan(&n); err != nil {
		return false, fmt.Errorf("reading deliveries: %w", err)
	}
	return n > 0, nil
}

// RecordDelivery records that a file of a run went to a sink.
func (l *Ledger) RecordDelivery(ctx context.Context, runID, sink, name, sha string) error {
	_, err := l.db.ExecContext(ctx, `INSERT OR IGNORE INTO deliveries (run_id, sink, name, sha256, delivered_at) VALUES (?, ?, ?, ?, ?)`,
		runID, sink, name, sha, time.Now().UTC().Format(time.RFC3339))
	if err != nil {
		return fmt.Errorf("recording delivery of %s: %w", name, err)
	}
	return nil
}

// LetterSent reports whether a run's letter went out by email already.
func (l *Ledger) LetterSent(ctx context.Context, runID, kind, id string) (bool, error) {
	var n int
	if err := l.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM letters_sent WHERE run_id = ? AND kind = ? AND payee_id = ?`, runID, kind, id).Scan(&n); err != nil {
		return false, fmt.Errorf("reading sent letters: %w", err)
	}
	return n > 0, nil
}

// RecordLetterSent records a letter sent by email.
func (l *Ledger) RecordLetterSent(ctx context.Context, runID, kind, id, email string) error {
	_, err := l.db.ExecContext(ctx, `INSERT OR IGNORE INTO letters_sent (run_id, kind, payee_id, email, sent_at) VALUES (?, ?, ?, ?, ?)`,
		runID, kind, id, email, time.Now().UTC().Format(time.RFC3339))
	if err != nil {
		return fmt.Errorf("recording a letter sent: %w", err)
	}
	return nil
}
