package ledger

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"carepay/core"
)

// Tx is one run's transaction. Nothing it writes is visible to other runs
// until Commit; Rollback (or a crash) forgets all of it. The lookups
// (Employee, Dependent, Provider, the History methods) may run on one
// goroutine while PutDecision runs on another; each kind of call must stay
// on one goroutine.
type Tx struct {
	l *Ledger
	// conn is the connection the run's transaction holds: the bulk
	// inserts of decisions go to its driver directly (see rawExec).
	conn  *sql.Conn
	raw   map[string]driver.Stmt // prepared on conn's driver, by SQL text
	tx    *sql.Tx
	ctx   context.Context
	RunID string

	stmts map[string]*sql.Stmt // prepared once per run, by SQL text

	decided *inserter  // buffered multi-row inserts of decisions
	mu      sync.Mutex // guards stmts: lookups and inserts run on two goroutines
	// connMu makes those two goroutines take turns on the connection for
	// a whole statement, rows read and all (a PostgreSQL connection
	// serves one statement at a time).
	connMu   sync.Mutex
	priorIDs map[string]bool
	// base is the last line ID before the run: its own lines are above,
	// base+1 to base+lineSeq.
	base    int64
	lineSeq int64
	fam     *famCache // what the rules read of the families met
	provs   map[string]*core.Provider
	// corrected names the payees a NOC corrected (see KeepCorrected).
	corrected map[[2]string]bool
	// Registry rows waiting to be written (see flushRegistry).
	putEmps, putDeps, putProvs *inserter
	asOf                       core.Date
	// reissue names the payees whose payment came back in this run, and
	// why (see Reissue).
	reissue map[[2]string]string
	// The run's lines that count, for table usage (written at the
	// commit).
	used usageLog
	// docs are the run's lines by invoice and statement, for doc_lines
	// (written at the commit).
	docs *runDocs
	// payees are payees prefetched for the payer, each taken once by
	// Payee (see PrefetchPayees).
	payees map[[2]string]*core.Payment
}

// Begin starts a run on day asOf and allocates its ID, YYYYMMDD-NNN. A
// run date before the last run's, or outside 2000 to 2099, is refused
// (ErrRunDate), and so is a ledger re-keyed since it was opened.
func (l *Ledger) Begin(ctx context.Context, asOf core.Date, now time.Time) (*Tx, error) {
	conn, err := l.db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("starting run: %w", err)
	}
	t, err := l.begin(ctx, conn, asOf, now)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return t, nil
}

func (l *Ledger) begin(ctx context.Context, conn *sql.Conn, asOf core.Date, now time.Time) (*Tx, error) {
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("starting run: %w", err)
	}
	// The run's transaction holds the writer lock from here to its commit:
	// a run lock held now fences it (see beginLocked).
	if err := l.checkRunLock(ctx, tx); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("starting run: %w", err)
	}
	if err := checkRunDate(ctx, tx, asOf); err != nil {
		tx.Rollback()
		return nil, err
	}
	var fp string
	if err := tx.QueryRowContext(ctx, `SELECT value FROM ledger_meta WHERE name = 'key_fingerprint'`).Scan(&fp); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("starting run: reading the key fingerprint: %w", err)
	}
	if err := l.compareKey(fp); err != nil {
		tx.Rollback()
		return nil, err
	}
	t := &Tx{l: l, conn: conn, raw: map[string]driver.Stmt{}, tx: tx, ctx: ctx,
		stmts: map[string]*sql.Stmt{}, fam: newFamCache(), provs: map[string]*core.Provider{}, asOf: asOf}
	prefix := strings.ReplaceAll(asOf.String(), "-", "") + "-"
	var n int
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE id LIKE ?`, prefix+"%").Scan(&n); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("numbering run: %w", err)
	}
	t.RunID = fmt.Sprintf("%s%03d", prefix, n+1)
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM lines`).Scan(&t.base); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("numbering run: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO runs (id, as_of, started_at, state) VALUES (?, ?, ?, 'decided')`, t.RunID, asOf.String(), now.UTC().Format(time.RFC3339)); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("recording run: %w", err)
	}
	return t, nil
}

// stmt returns the run's prepared statement for query, preparing it on
// first use: a lookup repeated for every line must not parse SQL again.
func (t *Tx) stmt(query string) (*sql.Stmt, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if st, ok := t.stmts[query]; ok {
		return st, nil
	}
	t.connMu.Lock()
	st, err := t.tx.PrepareContext(t.ctx, query)
	t.connMu.Unlock()
	if err != nil {
		return nil, fmt.Errorf("preparing %q: %w", strings.Fields(query)[0], err)
	}
	t.stmts[query] = st
	return st, nil
}

// scanRow runs a prepared single-row query into dest, once the registry
// rows still buffered are written; sql.ErrNoRows when there is none.
func (t *Tx) scanRow(query string, args []any, dest ...any) error {
	if err := t.flushRegistry(); err != nil {
		return err
	}
	st, err := t.stmt(query)
	if err != nil {
		return err
	}
	t.connMu.Lock()
	defer t.connMu.Unlock()
	return st.QueryRowContext(t.ctx, args...).Scan(dest...)
}

// exec runs a prepared statement.
func (t *Tx) exec(query string, args ...any) error {
	st, err := t.stmt(query)
	if err != nil {
		return err
	}
	t.connMu.Lock()
	defer t.connMu.Unlock()
	_, err = st.ExecContext(t.ctx, args...)
	return err
}

// Rollback abandons the run.
func (t *Tx) Rollback() error {
	t.used.close()
	err := t.tx.Rollback()
	t.release()
	return err
}

// release closes the statements prepared on the run's connection and
// gives the connection back to the pool; it runs once, after the commit
// or the rollback.
func (t *Tx) release() {
	if t.conn == nil {
		return
	}
	t.closeRaw()
	t.conn.Close()
	t.conn = nil
}

// closeRaw closes the statements prepared on the connection's driver.
func (t *Tx) closeRaw() {
	if len(t.raw) == 0 {
		return
	}
	t.conn.Raw(func(any) error {
		for _, st := range t.raw {
			st.Close()
		}
		return nil
	})
	t.raw = map[string]driver.Stmt{}
}

// rawExec runs query with args on the driver of the run's connection,
// inside its transaction, with no copy of the arguments: database/sql
// converts and copies every argument of every call, which for the
// million-line bulk insert of decisions was a fifth of all the memory the
// run allocated. query is prepared once.
func (t *Tx) rawExec(query string, args []driver.NamedValue) error {
	t.connMu.Lock()
	defer t.connMu.Unlock()
	return t.conn.Raw(func(dc any) error {
		st := t.raw[query]
		if st == nil {
			var err error
			if st, err = dc.(driver.ConnPrepareContext).PrepareContext(t.ctx, query); err != nil {
				return fmt.Errorf("preparing %q: %w", strings.Fields(query)[0], err)
			}
			t.raw[query] = st
		}
		_, err := st.(driver.StmtExecContext).ExecContext(t.ctx, args)
		return err
	})
}

// copyRows writes rows (the values of len(cols) columns each, in order)
// into table with PostgreSQL's COPY, on the run's connection, inside its
// transaction.
func (t *Tx) copyRows(table string, cols []string, values []driver.NamedValue) error {
	rows := make([][]any, len(values)/len(cols))
	for i := range rows {
		row := make([]any, len(cols))
		for j := range row {
			row[j] = values[i*len(cols)+j].Value
		}
		rows[i] = row
	}
	t.connMu.Lock()
	defer t.connMu.Unlock()
	return t.conn.Raw(func(dc any) error {
		if _, err := dc.(*pgConn).pgx().CopyFrom(t.ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
			return fmt.Errorf("copying into %s: %w", table, err)
		}
		return nil
	})
}

// Commit makes the run durable with its summary (JSON).
func (t *Tx) Commit(summary []byte) error {
	if err := t.flush(); err != nil {
		return err
	}
	// The rules are done with the registry: let go of it before the usage
	// comes back into memory.
	t.fam, t.provs, t.priorIDs, t.payees = nil, nil, nil, nil
	if err := t.putUsage(); err != nil {
		return err
	}
	if err := t.putDocs(); err != nil {
		return err
	}
	if _, err := t.tx.ExecContext(t.ctx, `UPDATE runs SET summary = ?, line_from = ?, line_to = (SELECT COALESCE(MAX(id), ?) FROM lines) WHERE id = ?`,
		string(summary), t.base+1, t.base, t.RunID); err != nil {
		return fmt.Errorf("saving run summary: %w", err)
	}
	if err := t.l.beatInTx(t.ctx, t.tx); err != nil {
		return err
	}
	t.closeRaw()
	err := t.tx.Commit()
	t.release()
	if err != nil {
		return fmt.Errorf("committing run %s: %w", t.RunID, err)
	}
	// The outputs are written after the commit and read the ledger
	// afresh: let go of what the run looked up, family by family.
	t.fam, t.provs, t.priorIDs = nil, nil, nil
	t.used, t.decided = usageLog{}, nil
	return nil
}

// FileSeen returns the run that first took a file with these bytes.
func (t *Tx) FileSeen(sha string) (string, bool, error) {
	var run string
	err := t.tx.QueryRowContext(t.ctx, `SELECT run_id FROM files WHERE sha256 = ?`, sha).Scan(&run)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("looking up file %s: %w", sha[:12], err)
	}
	return run, true, nil
}

// RecordFile records a file taken (or rejected whole) in this run, with
// its report as JSON.
func (t *Tx) RecordFile(sha, name, source, status string, report any) error {
	b, err := json.Marshal(report)
	if err != nil {
		return fmt.Errorf("recording %s: %w", name, err)
	}
	_, err = t.tx.ExecContext(t.ctx, `INSERT INTO files (sha256, name, source, run_id, status, report) VALUES (?, ?, ?, ?, ?, ?)`, sha, name, source, t.RunID, status, string(b))
	if err != nil {
		return fmt.Errorf("recording %s: %w", name, err)
	}
	return nil
}

// RecordSkip records that a file seen before was skipped in this run.
func (t *Tx) RecordSkip(sha, name, source, firstRun string) error {
	_, err := t.tx.ExecContext(t.ctx, `INSERT INTO skipped_files (run_id, name, source, sha256, first_run) VALUES (?, ?, ?, ?, ?)`, t.RunID, name, source, sha, firstRun)
	if err != nil {
		return fmt.Errorf("recording skip of %s: %w", name, err)
	}
	return nil
}

func dateArg(d core.Date) any {
	if d.IsZero() {
		return nil
	}
	return d.String()
}

func parseDate(s sql.NullString) core.Date {
	if !s.Valid {
		return 0
	}
	d, _ := core.ParseDate(s.String)
	return d
}
