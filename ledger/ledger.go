package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"carepay/safefile"
)

// Ledger is an open ledger database.
type Ledger struct {
	db  *sql.DB
	key *Key
	id  string // ledger_meta.ledger_id
	// pg is set for a ledger in PostgreSQL (see postgres.go).
	pg bool
	// copyTarget is set for a ledger Copy opens to fill (openCopyTarget).
	copyTarget bool
	// lock is the run lock this Ledger holds (nil when none): see
	// CheckRunLock.
	lockMu sync.Mutex
	lock   *heldLock
	// spoolDir holds the temporary files of large runs (see SetSpoolDir).
	spoolDir string
}

// SetSpoolDir names the folder for the temporary files a large run
// writes (its usage while it decides, the providers' letters' rows while
// letters are written): "" for the system's. Set it before a run begins.
func (l *Ledger) SetSpoolDir(dir string) { l.spoolDir = dir }

// ErrNoLedger is returned by OpenExisting when there is no ledger at the
// path.
var ErrNoLedger = errors.New("no ledger")

// Open opens (creating if needed) the ledger at target, brings its
// schema up to date and checks that key is the key that seals it (a new
// ledger, or one made before ledgers remembered their key, takes key as
// its own). target is the path of a SQLite file, or a PostgreSQL URL
// (postgres://...; see IsPostgres) whose database exists: the ledger's
// tables are made in its current schema.
func Open(ctx context.Context, target string, key *Key) (*Ledger, error) {
	return openLedger(ctx, target, key, openCreate)
}

// OpenExisting opens the ledger at target like Open, but never creates
// one: with no ledger there it returns ErrNoLedger and leaves no file (or
// table) behind.
func OpenExisting(ctx context.Context, target string, key *Key) (*Ledger, error) {
	return openLedger(ctx, target, key, openExisting)
}

// openMode says what openLedger may do.
type openMode int

const (
	// openExisting opens a ledger that is there.
	openExisting openMode = iota
	// openCreate creates the ledger when there is none.
	openCreate
	// openCopyTarget creates the ledger for Copy: a ledger it creates is
	// marked unfinished (ledger_meta copy_incomplete) in the transaction
	// that creates it, and the copy's own transaction, which replaces
	// ledger_meta, clears the mark. Open refuses a marked ledger: a copy
	// killed half-way leaves no empty ledger that a run would take for a
	// new one, and Copy replaces it.
	openCopyTarget
)

// ErrUnfinishedCopy is returned by Open for a ledger that `carepay ledger
// copy` was filling when it stopped.
var ErrUnfinishedCopy = errors.New("it is an unfinished copy: carepay ledger copy was stopped before it finished; run the same copy again, which replaces it")

func openLedger(ctx context.Context, path string, key *Key, mode openMode) (*Ledger, error) {
	if key == nil {
		return nil, errors.New("opening ledger: no encryption key")
	}
	if IsPostgres(path) {
		return openPostgres(ctx, path, key, mode)
	}
	create := mode != openExisting
	access, creating := "rwc", false
	if create {
		if err := safefile.MkdirAll(filepath.Dir(path)); err != nil {
			return nil, fmt.Errorf("opening ledger %s: %w", path, err)
		}
		// A copy holds the creation lock already (lockCopyTarget).
		if mode != openCopyTarget {
			unlock, err := lockCreation(path)
			if err != nil {
				return nil, err
			}
			defer unlock()
		}
		// SQLite gives its -wal and -shm files the mode of the database
		// file: create it private before SQLite does. Only a new file is
		// opened here: closing a descriptor of a file that connections of
		// this process have open would drop their (POSIX) locks.
		if f, err := os.OpenFile(path, os.O_RDONLY|os.O_CREATE|os.O_EXCL, safefile.Perm()); err == nil {
			f.Close()
		} else if !errors.Is(err, fs.ErrExist) {
			return nil, fmt.Errorf("opening ledger %s: %w", path, err)
		}
		st, err := os.Stat(path)
		creating = err != nil || st.Size() == 0
	} else {
		st, err := os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w at %s: check --db or ledger.path in the config (nothing was created)", ErrNoLedger, path)
		}
		if err != nil {
			return nil, fmt.Errorf("opening ledger %s: %w", path, err)
		}
		// An empty file is no ledger, unless its content is still all in
		// the WAL (a new ledger whose process was killed).
		if _, werr := os.Stat(path + "-wal"); !st.Mode().IsRegular() || (st.Size() == 0 && werr != nil) {
			return nil, fmt.Errorf("%w at %s: the file is not a carepay ledger", ErrNoLedger, path)
		}
		access = "rw"
	}
	// 16 KiB pages suit rows of a few hundred bytes with their explanation
	// (measured 10% faster than 4 KiB). The page size of a new file is
	// fixed once it turns to WAL: the driver runs the _pragma list (sorted
	// by name) before the _journal_mode key, so page_size goes in the list
	// and WAL in the key.
	//
	// Each connection's page cache is 8 MiB. At 32 MiB, a million-line
	// run held 120 to 130 MiB in the driver's C allocations (13 to 44 MiB
	// at 8 MiB), a quarter of the run's memory, and decided no faster
	// (measured back to back: 36,200 lines/s against 35,300 and 32,800).
	dsn := "file:" + path + "?mode=" + access + "&_busy_timeout=" + strconv.FormatInt(writerWait.Milliseconds(), 10) + "&_pragma=page_size(16384)&_pragma=cache_size(-8192)&_pragma=temp_store(file)" +
		"&_foreign_keys=1&_journal_mode=WAL&_synchronous=FULL&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("opening ledger %s: %w", path, err)
	}
	// A run's transaction holds one connection for its reads and writes.
	// Its outputs hold up to four cursors open at once (the letters' two
	// queries and their usage history, the register's lines) while looking
	// up more, so a few connections (WAL readers) are allowed. SQLite has
	// one writer at a time.
	db.SetMaxOpenConns(6)
	l := &Ledger{db: db, key: key, copyTarget: mode == openCopyTarget}
	if !create {
		if v, err := l.schemaVersion(ctx, db); err != nil || v == 0 {
			db.Close()
			if err == nil {
				err = errors.New("the file is not a carepay ledger")
			}
			return nil, fmt.Errorf("%w at %s: %v", ErrNoLedger, path, err)
		}
	}
	if err := l.ready(ctx, path); err != nil {
		db.Close()
		return nil, err
	}
	if creating {
		// Move the new schema from the WAL into the main file before the
		// processes waiting in lockCreation open it.
		if _, err := l.db.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
			db.Close()
			return nil, fmt.Errorf("creating ledger %s: %w", path, err)
		}
	}
	return l, nil
}

// ready brings an open ledger's schema up to date, reads its identity
// and checks its key.
func (l *Ledger) ready(ctx context.Context, name string) error {
	// An unfinished copy is refused before anything is written to it.
	if !l.copyTarget {
		unfinished, err := l.markedUnfinished(ctx)
		if err != nil {
			return fmt.Errorf("opening ledger %s: %w", name, err)
		}
		if unfinished {
			return fmt.Errorf("opening ledger %s: %w (or remove it)", name, ErrUnfinishedCopy)
		}
	}
	if err := l.migrate(ctx); err != nil {
		return fmt.Errorf("opening ledger %s: %w", name, err)
	}
	if err := l.db.QueryRowContext(ctx, `SELECT value FROM ledger_meta WHERE name = 'ledger_id'`).Scan(&l.id); err != nil {
		return fmt.Errorf("opening ledger %s: reading its identity: %w", name, err)
	}
	if err := l.adoptKey(ctx); err != nil {
		return fmt.Errorf("ledger %s: %w", name, err)
	}
	return nil
}

// Close closes the database.
func (l *Ledger) Close() error { return l.db.Close() }

// ID is the ledger's identity, drawn at random when it was created.
func (l *Ledger) ID() string { return l.id }

// querierRow is what *sql.DB and *sql.Tx share for single-row reads.
type querierRow interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// schemaVersion returns the newest applied migration, 0 for a database
// with none (a new file).
func (l *Ledger) schemaVersion(ctx context.Context, q querierRow) (int, error) {
	var n int
	catalogue := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'`
	if l.pg {
		catalogue = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'schema_migrations'`
	}
	if err := q.QueryRowContext(ctx, catalogue).Scan(&n); err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	if n == 0 {
		return 0, nil
	}
	var v int
	if err := q.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v); err != nil {
		return 0, fmt.Errorf("reading schema version: %w", err)
	}
	return v, nil
}

// migrate applies the missing migrations. The version is read again, and
// the migrations applied, inside one write transaction (BEGIN IMMEDIATE:
// the DSN's _txlock): of several processes opening a new ledger at once,
// one migrates and the others wait for it (busy_timeout), then find
// nothing left to do. An up-to-date ledger is only read, so that opening
// it never waits for a run's write transaction.
func (l *Ledger) migrate(ctx context.Context) error {
	latest := len(migrations) - 1
	have, err := l.schemaVersion(ctx, l.db)
	if err != nil {
		return err
	}
	if have > latest {
		return fmt.Errorf("ledger schema version %d is newer than this carepay knows (%d): upgrade carepay", have, latest)
	}
	if have == latest {
		return nil
	}
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("migrating: %w", err)
	}
	defer tx.Rollback()
	if have, err = l.schemaVersion(ctx, tx); err != nil {
		return err
	}
	if have > latest {
		return fmt.Errorf("ledger schema version %d is newer than this carepay knows (%d): upgrade carepay", have, latest)
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL)`); err != nil {
		return fmt.Errorf("creating schema_migrations: %w", err)
	}
	for v := have + 1; v <= latest; v++ {
		m := migrations[v]
		if l.pg {
			m = pgDDL(m)
		}
		if _, err := tx.ExecContext(ctx, m); err != nil {
			return fmt.Errorf("migration %d: %w", v, err)
		}
		if code := migrationCode[v]; code != nil {
			if err := code(ctx, tx); err != nil {
				return fmt.Errorf("migration %d: %w", v, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`, v, time.Now().UTC().Format(time.RFC3339)); err != nil {
			return fmt.Errorf("recording migration %d: %w", v, err)
		}
	}
	if have == 0 && l.copyTarget {
		if _, err := tx.ExecContext(ctx, `INSERT INTO ledger_meta (name, value) VALUES ('copy_incomplete', ?)`, time.Now().UTC().Format(time.RFC3339)); err != nil {
			return fmt.Errorf("marking the copy unfinished: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("migrating to version %d: %w", latest, err)
	}
	return nil
}

// markedUnfinished reports whether a ledger, of any schema version,
// carries the mark of a copy not finished (see openCopyTarget).
func (l *Ledger) markedUnfinished(ctx context.Context) (bool, error) {
	var n int
	catalogue := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'ledger_meta'`
	if l.pg {
		catalogue = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'ledger_meta'`
	}
	if err := l.db.QueryRowContext(ctx, catalogue).Scan(&n); err != nil || n == 0 {
		return false, err
	}
	if err := l.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM ledger_meta WHERE name = 'copy_incomplete'`).Scan(&n); err != nil {
		return false, fmt.Errorf("reading ledger_meta: %w", err)
	}
	return n > 0, nil
}

// SchemaVersion returns the version of the newest applied migration.
func (l *Ledger) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := l.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&v)
	return v, err
}

// ExplainedLine is one line as `carepay explain` shows it.
type ExplainedLine struct {
	RunID, ReleasedRun, Source string
	Row                        int
	Kind, Ref, Status, Final   string
	Reasons                    string
	EmployeeShare              int64
	EmployerShare              int64
	Steps                      []string
}

// Explain returns every line of an invoice or statement with the steps of
// its decision, in decision order.
func (l *Ledger) Explain(ctx context.Context, ref string) ([]ExplainedLine, error) {
	// One snapshot for the document's rows and its lines.
	tx, err := l.db.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, fmt.Errorf("explaining %s: %w", ref, err)
	}
	defer tx.Rollback()
	ids, err := docLineIDs(ctx, tx, "", ref)
	if err != nil {
		return nil, fmt.Errorf("explaining %s: %w", ref, err)
	}
	var out []ExplainedLine
	err = eachIDChunk(ids, nil, func(marks string, args []any) error {
		rows, err := tx.QueryContext(ctx, `SELECT run_id, COALESCE(released_run, ''), source, row, kind, ref, status, COALESCE(final_status, ''), reasons, employee_share, employer_share, steps
 FROM lines WHERE id IN (`+marks+`) ORDER BY id`, args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e ExplainedLine
			var steps string
			if err := rows.Scan(&e.RunID, &e.ReleasedRun, &e.Source, &e.Row, &e.Kind, &e.Ref, &e.Status, &e.Final, &e.Reasons, &e.EmployeeShare, &e.EmployerShare, &steps); err != nil {
				return err
			}
			e.Steps = strings.Split(steps, "\n")
			out = append(out, e)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("explaining %s: %w", ref, err)
	}
	return out, nil
}

// DB gives read access to the database for reports and tests.
func (l *Ledger) DB() *sql.DB { return l.db }
