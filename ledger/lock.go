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

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"
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
	unlock, err = flock(path+"-lock", syscall.LOCK_EX)
	if err != nil {
		return nil, fmt.Errorf("creating ledger %s: %w", path, err)
	}
	return unlock, nil
}

// flock opens (making it) the lock file at path and takes its flock with
// how (LOCK_EX, with LOCK_NB not to wait).
func flock(path string, how int) (unlock func(), err error) {
	f, err := os.OpenFile(path, os.O_CREATE|os.O_RDWR, safefile.Perm())
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), how); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking %s: %w", path, err)
	}
	return func() {
		syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}

// ErrLocked is returned by Lock when another process holds the run lock.
var ErrLocked = errors.New("another carepay process is running on this ledger")

// ErrBusy is returned by work that waited its time (10 s) for the
// ledger's writer lock while a run's transaction held it.
var ErrBusy = errors.New("the ledger is busy: a run is writing it and holds it until it commits; retry after the run commits")

// busy returns err as ErrBusy when it is the writer lock's wait running
// out (SQLite's SQLITE_BUSY, PostgreSQL's lock_timeout), else err.
func busy(err error) error {
	var se *sqlite.Error
	var pe *pgconn.PgError
	if errors.As(err, &se) && se.Code()&0xff == sqlite3.SQLITE_BUSY || errors.As(err, &pe) && pe.Code == "55P03" {
		return fmt.Errorf("%w (%v)", ErrBusy, err)
	}
	return err
}

// ErrLockLost is returned when work that needs the run lock finds that
// this process no longer holds it: its connection to PostgreSQL failed, or
// (on SQLite) its heartbeat stalled long enough for another process to
// take the lock over. The work stops as if killed; the process that holds
// the lock now finishes it.
var ErrLockLost = errors.New("this process lost the ledger's run lock")

// heldLock is the run lock this Ledger holds, for CheckRunLock.
type heldLock struct {
	// holder, host and pid are the locks row's: on SQLite the lock is
	// still ours while the row names all three (a holder's text alone is
	// the same in every container whose process is pid 1).
	holder, host string
	// pid is this process's (SQLite) or, on PostgreSQL, the backend
	// process of the connection holding the advisory lock.
	pid int
	// ctx is the lock's context (PostgreSQL): once its watch has seen the
	// connection fail, the lock is lost whatever a query would say.
	ctx context.Context
}

// errLockConn is the cause of a lock's context when the connection
// holding the lock failed.
var errLockConn = errors.New("the connection holding the ledger's run lock failed")

// CheckRunLock returns ErrLockLost (wrapped) when this Ledger took the run
// lock and no longer holds it, and nil when it holds it or never took it.
// Work that acts outside the ledger under the lock (a file sent to a bank,
// a letter emailed) checks first, so that a process whose lock went does
// not do it alongside the one that took the lock over.
func (l *Ledger) CheckRunLock(ctx context.Context) error {
	return l.checkRunLock(ctx, l.db)
}

// checkRunLock is CheckRunLock through q: inside a writing transaction,
// whose writer lock keeps every other run from writing until it ends, the
// check fences the commit (a lock lost after it still loses no write).
func (l *Ledger) checkRunLock(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}) error {
	l.lockMu.Lock()
	h := l.lock
	l.lockMu.Unlock()
	if h == nil {
		return nil
	}
	if h.ctx != nil && errors.Is(context.Cause(h.ctx), errLockConn) {
		return fmt.Errorf("%w (held as %q): %v", ErrLockLost, h.holder, context.Cause(h.ctx))
	}
	var held bool
	var err error
	if l.pg {
		err = q.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted
 AND pid = ? AND classid = ? AND objid = (hashtext(current_schema()))::oid AND objsubid = 2)`, h.pid, pgRunLockClass).Scan(&held)
	} else {
		var n int
		err = q.QueryRowContext(ctx, `SELECT COUNT(*) FROM locks WHERE name = 'run' AND holder = ? AND host = ? AND pid = ?`, h.holder, h.host, h.pid).Scan(&n)
		held = n == 1
	}
	if err != nil {
		return fmt.Errorf("checking the run lock: %w", err)
	}
	if !held {
		return fmt.Errorf("%w (held as %q)", ErrLockLost, h.holder)
	}
	return nil
}

// beginLocked begins a writing transaction that is fenced by the run lock
// when this Ledger holds one: once the transaction holds the ledger's
// writer lock no other run can write until it ends, so a run lock still
// held at its start is held, for every other process, until its commit.
func (l *Ledger) beginLocked(ctx context.Context) (*sql.Tx, error) {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	if err := l.checkRunLock(ctx, tx); err != nil {
		tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// staleAfter is how long a lock may go without a heartbeat before another
// process takes it over: its holder was killed.
const staleAfter = 2 * time.Minute

// Lock takes the ledger's run lock for holder (a description such as
// "serve pid 123"), so that two processes never run at once on one
// ledger. A heartbeat keeps it fresh until release is called. A lock whose
// holder was killed is taken over at once when the holder ran on this
// machine and its process is gone, and otherwise once its heartbeat is
// older than two minutes.
//
// On PostgreSQL the lock is the database's: a session-level advisory lock
// held on a connection of its own (see pgLock), which the server lets go
// the moment the holder's connection ends, killed process or lost host.
func (l *Ledger) Lock(ctx context.Context, holder string) (release func(), err error) {
	_, release, err = l.LockContext(ctx, holder)
	return release, err
}

// LockContext is Lock, with a context derived from ctx that is cancelled
// when the lock is lost (on PostgreSQL, when the connection holding it
// fails): work done under the lock runs with it, so that a run whose lock
// went stops as if killed, before another process takes over.
func (l *Ledger) LockContext(ctx context.Context, holder string) (context.Context, func(), error) {
	if l.pg {
		return l.pgLock(ctx, holder)
	}
	h, release, err := l.sqliteLock(ctx, holder)
	if err != nil {
		return nil, nil, err
	}
	l.setLock(h)
	return ctx, func() { l.setLock(nil); release() }, nil
}

// WithLockCause returns err, adding why ctx (a context from LockContext)
// ended when it ended for a reason of its own, such as the failure of the
// connection holding the lock: the bare "context canceled" of the work
// stopped by it says nothing.
func WithLockCause(ctx context.Context, err error) error {
	if cause := context.Cause(ctx); err != nil && cause != nil && cause != ctx.Err() && !errors.Is(err, cause) {
		return fmt.Errorf("%w (%v)", err, cause)
	}
	return err
}

func (l *Ledger) sqliteLock(ctx context.Context, holder string) (h *heldLock, release func(), err error) {
	now := time.Now().UTC()
	host, _ := os.Hostname()
	var oldHost string
	var oldPID int
	err = l.db.QueryRowContext(ctx, `SELECT host, pid FROM locks WHERE name = 'run'`).Scan(&oldHost, &oldPID)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return nil, nil, fmt.Errorf("reading the run lock: %w", err)
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
		return nil, nil, fmt.Errorf("taking the run lock: %w", err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		var who, beat string
		l.db.QueryRowContext(ctx, `SELECT holder, heartbeat FROM locks WHERE name = 'run'`).Scan(&who, &beat)
		return nil, nil, fmt.Errorf("%w (%s, last seen %s)", ErrLocked, who, beat)
	}
	h = &heldLock{holder: holder, host: host, pid: os.Getpid()}
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
				l.db.Exec(`UPDATE locks SET heartbeat = ? WHERE name = 'run' AND holder = ? AND host = ? AND pid = ?`,
					time.Now().UTC().Format(time.RFC3339Nano), holder, h.host, h.pid)
			}
		}
	}()
	var once sync.Once
	return h, func() {
		once.Do(func() {
			close(stop)
			wg.Wait()
			l.db.Exec(`DELETE FROM locks WHERE name = 'run' AND holder = ? AND host = ? AND pid = ?`, holder, h.host, h.pid)
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

// beatInTx refreshes the SQLite run lock's heartbeat inside a writing
// transaction: the heartbeat's own writes wait (and give up) while a long
// run's transaction holds the ledger, so its commit must not leave a
// heartbeat that looks stale to another process.
func (l *Ledger) beatInTx(ctx context.Context, tx *sql.Tx) error {
	l.lockMu.Lock()
	h := l.lock
	l.lockMu.Unlock()
	if h == nil || l.pg {
		return nil
	}
	if _, err := tx.ExecContext(ctx, `UPDATE locks SET heartbeat = ? WHERE name = 'run' AND holder = ? AND host = ? AND pid = ?`,
		time.Now().UTC().Format(time.RFC3339Nano), h.holder, h.host, h.pid); err != nil {
		return fmt.Errorf("refreshing the run lock: %w", err)
	}
	return nil
}

func (l *Ledger) setLock(h *heldLock) {
	l.lockMu.Lock()
	l.lock = h
	l.lockMu.Unlock()
}

// pgWatch is how often the connection holding a PostgreSQL run lock is
// checked. Between checks, the commit's fence and the check before each
// delivery (CheckRunLock) catch a lock that went.
var pgWatch = time.Second

// pgLock takes the run lock of a ledger in PostgreSQL: the advisory lock
// (pgRunLockClass, the ledger's schema) on a connection kept for it. The
// locks table names the holder, for the message another process gets.
func (l *Ledger) pgLock(ctx context.Context, holder string) (context.Context, func(), error) {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("taking the run lock: %w", err)
	}
	var got bool
	var pid int
	if err := conn.QueryRowContext(ctx, `SELECT pg_try_advisory_lock(?, hashtext(current_schema())), pg_backend_pid()`, pgRunLockClass).Scan(&got, &pid); err != nil {
		conn.Close()
		return nil, nil, fmt.Errorf("taking the run lock: %w", err)
	}
	if !got {
		conn.Close()
		var who, beat string
		l.db.QueryRowContext(ctx, `SELECT holder, heartbeat FROM locks WHERE name = 'run'`).Scan(&who, &beat)
		return nil, nil, fmt.Errorf("%w (%s, since %s)", ErrLocked, who, beat)
	}
	host, _ := os.Hostname()
	if _, err := conn.ExecContext(ctx, `INSERT INTO locks (name, holder, host, pid, heartbeat) VALUES ('run', ?, ?, ?, ?)
 ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, host = excluded.host, pid = excluded.pid, heartbeat = excluded.heartbeat`,
		holder, host, os.Getpid(), time.Now().UTC().Format(time.RFC3339Nano)); err != nil {
		conn.ExecContext(context.Background(), `SELECT pg_advisory_unlock(?, hashtext(current_schema()))`, pgRunLockClass)
		conn.Close()
		return nil, nil, fmt.Errorf("recording the run lock's holder: %w", err)
	}
	held, lost := context.WithCancelCause(ctx)
	l.setLock(&heldLock{holder: holder, host: host, pid: pid, ctx: held})
	stop := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(pgWatch)
		defer t.Stop()
		for {
			select {
			case <-stop:
				return
			case <-t.C:
				ping, cancel := context.WithTimeout(context.Background(), pgWatch)
				err := conn.PingContext(ping)
				cancel()
				if err != nil {
					lost(fmt.Errorf("%w: %w", errLockConn, err))
					return
				}
			}
		}
	}()
	var once sync.Once
	return held, func() {
		once.Do(func() {
			close(stop)
			wg.Wait()
			l.setLock(nil)
			bg := context.Background()
			conn.ExecContext(bg, `DELETE FROM locks WHERE name = 'run' AND holder = ?`, holder)
			conn.ExecContext(bg, `SELECT pg_advisory_unlock(?, hashtext(current_schema()))`, pgRunLockClass)
			conn.Close()
			lost(nil)
		})
	}, nil
}
