package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"carepay/core"
)

// RunInfo describes a committed run.
type RunInfo struct {
	ID    string
	AsOf  core.Date
	State string
}

// Runs in the "decided" state have committed decisions whose output files
// may not all be written; the next run writes them first.
const (
	StateDecided = "decided"
	StateWritten = "written"
)

// PendingRuns returns committed runs whose outputs are not known to be
// complete, oldest first.
func (l *Ledger) PendingRuns(ctx context.Context) ([]RunInfo, error) {
	return l.runs(ctx, `WHERE state = 'decided' ORDER BY id`)
}

// Run returns one run.
func (l *Ledger) Run(ctx context.Context, id string) (RunInfo, error) {
	rs, err := l.runs(ctx, `WHERE id = ?`, id)
	if err != nil {
		return RunInfo{}, err
	}
	if len(rs) == 0 {
		return RunInfo{}, fmt.Errorf("no run %s in the ledger", id)
	}
	return rs[0], nil
}

func (l *Ledger) runs(ctx context.Context, where string, args ...any) ([]RunInfo, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT id, as_of, state FROM runs `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("listing runs: %w", err)
	}
	defer rows.Close()
	var out []RunInfo
	for rows.Next() {
		var r RunInfo
		var asOf string
		if err := rows.Scan(&r.ID, &asOf, &r.State); err != nil {
			return nil, fmt.Errorf("listing runs: %w", err)
		}
		r.AsOf = pd(asOf)
		out = append(out, r)
	}
	return out, rows.Err()
}

// MarkWritten records that every output of a run is in place.
func (l *Ledger) MarkWritten(ctx context.Context, id string) error {
	if _, err := l.db.ExecContext(ctx, `UPDATE runs SET state = 'written' WHERE id = ?`, id); err != nil {
		return fmt.Errorf("marking run %s written: %w", id, err)
	}
	return nil
}

// RunFile is a file a run took, rejected or skipped.
type RunFile struct {
	SHA256, Name, Source, Status string // status: taken, rejected, skipped
	FirstRun                     string // for skipped files
	Report                       string // JSON report for taken and rejected files
}

// RunFiles returns the files of a run in arrival order.
func (l *Ledger) RunFiles(ctx context.Context, id string) ([]RunFile, error) {
	rows, err := l.db.QueryContext(ctx, `
SELECT sha256, name, source, status, '', report FROM files WHERE run_id = ?
UNION ALL
SELECT sha256, name, source, 'skipped', first_run, '' FROM skipped_files WHERE run_id = ?
ORDER BY source, name`, id, id)
	if err != nil {
		return nil, fmt.Errorf("listing files of run %s: %w", id, err)
	}
	defer rows.Close()
	var out []RunFile
	for rows.Next() {
		var f RunFile
		if err := rows.Scan(&f.SHA256, &f.Name, &f.Source, &f.Status, &f.FirstRun, &f.Report); err != nil {
			return nil, fmt.Errorf("listing files of run %s: %w", id, err)
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// querier is what *sql.DB and *sql.Tx share.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

const outputColumns = `source, row, kind, ref, plan_id, employee_id, dependent_id, provider_id, care_type, service_date,
 units, charged, employee_share, employer_share, status, reasons, payee_type, payee_id,
 COALESCE(error_column, ''), COALESCE(error_value, ''), error_msg`

// RunLines calls fn for every line a run reports: first the held lines
// released in it (with their final status), then the lines it decided, in
// decision order. A line that could not be read carries its first
// unreadable value in Errors.
func (l *Ledger) RunLines(ctx context.Context, id string, fn func(*core.Line, *core.Decision) error) error {
	if err := scanLines(ctx, l.db, `WHERE released_run = ? ORDER BY id`, fn, id); err != nil {
		return err
	}
	var from, to int64
	if err := l.db.QueryRowContext(ctx, `SELECT line_from, line_to FROM runs WHERE id = ?`, id).Scan(&from, &to); err != nil {
		return fmt.Errorf("reading run %s: %w", id, err)
	}
	return scanLines(ctx, l.db, `WHERE id BETWEEN ? AND ? ORDER BY id`, fn, from, to)
}

// EachReleased calls fn for the lines released in this run so far.
func (t *Tx) EachReleased(fn func(*core.Line, *core.Decision) error) error {
	return scanLines(t.ctx, t.tx, `WHERE released_run = ? ORDER BY id`, fn, t.RunID)
}

func scanLines(ctx context.Context, q querier, where string, fn func(*core.Line, *core.Decision) error, args ...any) error {
	rows, err := q.QueryContext(ctx, `SELECT `+outputColumns+` FROM lines `+where, args...)
	if err != nil {
		return fmt.Errorf("reading lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var ln core.Line
		var d core.Decision
		var kind, date, status, reasons string
		var charged, es, er int64
		var re core.RowError
		var msg sql.NullString
		if err := rows.Scan(&ln.Source, &ln.Row, &kind, &ln.Ref, &d.PlanID, &ln.EmployeeID, &ln.DependentID, &ln.ProviderID, &ln.CareType, &date,
			&d.Units, &charged, &es, &er, &status, &reasons, &d.PayeeType, &d.PayeeID, &re.Column, &re.Value, &msg); err != nil {
			return fmt.Errorf("reading lines: %w", err)
		}
		if msg.Valid {
			re.File, re.Row, re.Msg = ln.Source, ln.Row, msg.String
			ln.Errors = []*core.RowError{&re}
		}
		ln.Kind, ln.ServiceDate, ln.Charged = core.LineKind(kind), pd(date), core.Cents(charged)
		d.EmployeeShare, d.EmployerShare, d.Status = core.Cents(es), core.Cents(er), core.Status(status)
		if reasons != "" {
			for _, r := range strings.Split(reasons, ";") {
				d.Reasons = append(d.Reasons, core.Reason(r))
			}
		}
		if err := fn(&ln, &d); err != nil {
			return err
		}
	}
	return rows.Err()
}

// ReleasedIn counts the held lines released in a run.
func (l *Ledger) ReleasedIn(ctx context.Context, id string) (int, error) {
	var n int
	if err := l.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM lines WHERE released_run = ?`, id).Scan(&n); err != nil {
		return 0, fmt.Errorf("counting released lines of run %s: %w", id, err)
	}
	return n, nil
}

// MarkPending puts a committed run back in the "decided" state, as if it
// had been killed before its outputs were written. Tests of recovery use
// it; so can an operator who lost a run's out/ folder.
func (l *Ledger) MarkPending(ctx context.Context, id string) error {
	if _, err := l.db.ExecContext(ctx, `UPDATE runs SET state = 'decided' WHERE id = ?`, id); err != nil {
		return fmt.Errorf("marking run %s pending: %w", id, err)
	}
	return nil
}

// SeenFile returns the run that took a file with these bytes, outside any
// run (for `carepay validate`).
func (l *Ledger) SeenFile(ctx context.Context, sha string) (string, bool, error) {
	var run string
	err := l.db.QueryRowContext(ctx, `SELECT run_id FROM files WHERE sha256 = ?`, sha).Scan(&run)
	if errors.Is(err, sql.ErrNoRows) {
		return "", false, nil
	}
	if err != nil {
		return "", false, fmt.Errorf("looking up file: %w", err)
	}
	return run, true, nil
}
