package ledger

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"

	"carepay/core"
)

// stageSchema holds the service lines of the running drop until they are
// decided in service-date order. It is a temporary table: it lives on the
// run's connection only and never reaches the database file.
const stageSchema = `CREATE TEMP TABLE IF NOT EXISTS stage (
	seq INTEGER NOT NULL, source TEXT NOT NULL, row INTEGER NOT NULL, kind TEXT NOT NULL,
	ref TEXT NOT NULL, line_id TEXT NOT NULL, employee_id TEXT NOT NULL, dependent_id TEXT NOT NULL,
	provider_id TEXT NOT NULL, care_type TEXT NOT NULL, service_date TEXT NOT NULL, hours INTEGER,
	charged INTEGER NOT NULL, employee_signed_on TEXT NOT NULL, provider_signed_on TEXT NOT NULL,
	received_on TEXT NOT NULL, payee TEXT NOT NULL, period TEXT NOT NULL, mileage TEXT NOT NULL,
	errors TEXT NOT NULL)`

// Stage keeps a parsed service line until Decide time.
func (t *Tx) Stage(l *core.Line) error {
	if t.stageStmt == nil {
		st, err := t.tx.PrepareContext(t.ctx, `INSERT INTO stage VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			return fmt.Errorf("preparing staging: %w", err)
		}
		t.stageStmt = st
	}
	errs := ""
	if len(l.Errors) > 0 {
		b, err := json.Marshal(l.Errors)
		if err != nil {
			return err
		}
		errs = string(b)
	}
	var hours any
	if l.HasHours {
		hours = int64(l.Hours)
	}
	_, err := t.stageStmt.ExecContext(t.ctx, l.Seq, l.Source, l.Row, string(l.Kind), l.Ref, l.LineID, l.EmployeeID, l.DependentID,
		l.ProviderID, l.CareType, l.ServiceDate.String(), hours, int64(l.Charged), l.EmployeeSignedOn.String(), l.ProviderSignedOn.String(),
		l.ReceivedOn.String(), l.Payee, l.Period.String(), l.Mileage, errs)
	if err != nil {
		return fmt.Errorf("staging %s row %d: %w", l.Source, l.Row, err)
	}
	return nil
}

// Invoices summarises every staged invoice: its service dates from valid
// rows, how many employees and providers its rows name, the file that
// brought it first, and whether an earlier run saw it.
func (t *Tx) Invoices() (map[string]*core.InvoiceSummary, error) {
	rows, err := t.tx.QueryContext(t.ctx, `
SELECT s.ref, MIN(CASE WHEN s.errors = '' THEN s.service_date END), MAX(CASE WHEN s.errors = '' THEN s.service_date END),
       COUNT(*), COUNT(DISTINCT s.employee_id), COUNT(DISTINCT s.provider_id), MIN(s.seq),
       EXISTS (SELECT 1 FROM lines l WHERE l.ref = s.ref AND l.kind = 'invoice')
  FROM stage s WHERE s.kind = 'invoice' GROUP BY s.ref`)
	if err != nil {
		return nil, fmt.Errorf("summarising invoices: %w", err)
	}
	defer rows.Close()
	out := map[string]*core.InvoiceSummary{}
	for rows.Next() {
		var s core.InvoiceSummary
		var first, last sql.NullString
		if err := rows.Scan(&s.Ref, &first, &last, &s.Rows, &s.Employees, &s.Providers, &s.FirstSeq, &s.SeenBefore); err != nil {
			return nil, fmt.Errorf("summarising invoices: %w", err)
		}
		s.FirstService, s.LastService = parseDate(first), parseDate(last)
		out[s.Ref] = &s
	}
	return out, rows.Err()
}

// EachStaged calls fn for every staged line in decision order: service
// date, then arrival of the file, then row. Lines whose service date did
// not parse come first; they are rejected and consume nothing.
func (t *Tx) EachStaged(fn func(*core.Line) error) error {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT seq, source, row, kind, ref, line_id, employee_id, dependent_id, provider_id, care_type,
 service_date, hours, charged, employee_signed_on, provider_signed_on, received_on, payee, period, mileage, errors
 FROM stage ORDER BY service_date, seq, row`)
	if err != nil {
		return fmt.Errorf("reading staged lines: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var l core.Line
		var kind, date, es, ps, recv, period, errs string
		var hours sql.NullInt64
		var charged int64
		if err := rows.Scan(&l.Seq, &l.Source, &l.Row, &kind, &l.Ref, &l.LineID, &l.EmployeeID, &l.DependentID, &l.ProviderID, &l.CareType,
			&date, &hours, &charged, &es, &ps, &recv, &l.Payee, &period, &l.Mileage, &errs); err != nil {
			return fmt.Errorf("reading staged lines: %w", err)
		}
		l.Kind = core.LineKind(kind)
		l.ServiceDate, l.EmployeeSignedOn, l.ProviderSignedOn, l.ReceivedOn = pd(date), pd(es), pd(ps), pd(recv)
		l.Hours, l.HasHours = core.Hours(hours.Int64), hours.Valid
		l.Charged = core.Cents(charged)
		if period != "" {
			l.Period, _ = core.ParsePeriod(period)
		}
		if errs != "" {
			if err := json.Unmarshal([]byte(errs), &l.Errors); err != nil {
				return fmt.Errorf("reading staged errors of %s row %d: %w", l.Source, l.Row, err)
			}
		}
		if err := fn(&l); err != nil {
			return err
		}
	}
	return rows.Err()
}

func pd(s string) core.Date {
	if s == "" {
		return 0
	}
	d, _ := core.ParseDate(s)
	return d
}

// PutDecision records a decided line.
func (t *Tx) PutDecision(l *core.Line, d *core.Decision) error {
	if t.lineStmt == nil {
		st, err := t.tx.PrepareContext(t.ctx, `INSERT INTO lines (run_id, source, row, kind, ref, line_id, plan_id, employee_id, dependent_id, provider_id,
 care_type, service_date, hours, received_on, charged, units, employee_share, employer_share, status, final_status, reasons, payee_type, payee_id,
 care_day, day_used, placements, steps) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`)
		if err != nil {
			return fmt.Errorf("preparing decisions: %w", err)
		}
		t.lineStmt = st
	}
	var hours, final any
	if l.HasHours {
		hours = int64(l.Hours)
	}
	if d.FinalStatus != "" {
		final = string(d.FinalStatus)
	}
	_, err := t.lineStmt.ExecContext(t.ctx, t.RunID, l.Source, l.Row, string(l.Kind), l.Ref, l.LineID, d.PlanID, l.EmployeeID, l.DependentID, l.ProviderID,
		l.CareType, l.ServiceDate.String(), hours, dateArg(l.ReceivedOn), int64(l.Charged), d.Units, int64(d.EmployeeShare), int64(d.EmployerShare),
		string(d.Status), final, d.ReasonList(), d.PayeeType, d.PayeeID, d.CareDay, d.DayUsed, d.Placements, strings.Join(d.Steps, "\n"))
	if err != nil {
		return fmt.Errorf("recording decision for %s row %d: %w", l.Source, l.Row, err)
	}
	return nil
}

const priorColumns = `plan_id, employee_id, dependent_id, provider_id, care_type, service_date, status, care_day, day_used, placements, employee_share, employer_share`

func (t *Tx) prior(where string, arg string) ([]core.PriorLine, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT `+priorColumns+` FROM lines WHERE `+where+` AND run_id != ? AND (status != 'rejected' OR care_day = 1)`, arg, t.RunID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []core.PriorLine
	for rows.Next() {
		var p core.PriorLine
		var date, status string
		var es, er int64
		if err := rows.Scan(&p.PlanID, &p.EmployeeID, &p.DependentID, &p.ProviderID, &p.CareType, &date, &status, &p.CareDay, &p.DayUsed, &p.Placements, &es, &er); err != nil {
			return nil, err
		}
		p.ServiceDate, p.Status = pd(date), core.Status(status)
		p.EmployeeShare, p.EmployerShare = core.Cents(es), core.Cents(er)
		out = append(out, p)
	}
	return out, rows.Err()
}

// EmployeeLines returns earlier runs' lines of an employee that count, as
// the rules' History.
func (t *Tx) EmployeeLines(id string) ([]core.PriorLine, error) {
	return t.prior("employee_id = ?", id)
}

// DependentLines returns earlier runs' lines of a dependent that count.
func (t *Tx) DependentLines(id string) ([]core.PriorLine, error) {
	return t.prior("dependent_id = ?", id)
}

// StatementApproved reports whether a statement has been approved.
func (t *Tx) StatementApproved(ref string) (bool, error) {
	var n int
	if err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM approvals WHERE statement_id = ?`, ref).Scan(&n); err != nil {
		return false, fmt.Errorf("looking up approval of %s: %w", ref, err)
	}
	return n > 0, nil
}
