package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"carepay/core"
)

// YearLine is a line of care as a year-end report shows it.
type YearLine struct {
	ID                                    int64
	EmployeeID, PlanID                    string
	DependentID, Dependent                string // dependent's first name (its ID when unknown)
	ProviderID, CareType, Units, Ref      string
	ServiceDate                           core.Date
	Charged, EmployeeShare, EmployerShare core.Cents
	Status                                string
	Reasons                               []string
	PayeeType, PayeeID                    string
	// PaymentID is the payment that paid the line (0 for a refused line),
	// PaidOn the run date of the run that issued it.
	PaymentID int64
	Method    string
	PaidOn    core.Date
}

const yearLineColumns = `l.id, l.employee_id, l.plan_id, l.dependent_id, COALESCE(d.first_name, l.dependent_id), l.provider_id, l.care_type,
 l.units, l.ref, l.service_date, l.charged, l.employee_share, l.employer_share, l.status, l.reasons, l.payee_type, l.payee_id`

// yearBounds are the first and last dates of a calendar year, as the
// ledger writes dates.
func yearBounds(year int) (string, string) {
	return core.NewDate(year, time.January, 1).String(), core.NewDate(year, time.December, 31).String()
}

// PaidInYear returns the lines paid in calendar year year, by employee
// then payment date: a line's live payment (not returned, not voided)
// was issued by a run dated in that year. A line taken back from a
// returned or voided payment has left it (see takeBack) and is on the
// payment that paid it again, if any: a reissue counts once, in the year
// of the reissue. A payment held for review counts from the run that
// issued it.
func (l *Ledger) PaidInYear(ctx context.Context, year int) ([]YearLine, error) {
	from, to := yearBounds(year)
	rows, err := l.db.QueryContext(ctx, `SELECT `+yearLineColumns+`, p.id, p.method, r.as_of FROM lines l
 JOIN payments p ON p.id = l.payment_id
 JOIN runs r ON r.id = p.issued_run
 LEFT JOIN dependents d ON d.employee_id = l.employee_id AND d.dependent_id = l.dependent_id
 WHERE r.as_of >= ? AND r.as_of <= ? AND p.returned_run IS NULL AND p.voided_at IS NULL AND p.method != 'prenote'
 ORDER BY l.employee_id, r.as_of, l.service_date, l.id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("reading lines paid in %d: %w", year, err)
	}
	out, err := scanYearLines(rows, true)
	if err != nil {
		return nil, fmt.Errorf("reading lines paid in %d: %w", year, err)
	}
	return out, nil
}

// RefusedInYear returns the lines rejected by runs dated in calendar year
// year (a held line by the run that released it), by employee and
// service date.
func (l *Ledger) RefusedInYear(ctx context.Context, year int) ([]YearLine, error) {
	from, to := yearBounds(year)
	rows, err := l.db.QueryContext(ctx, `SELECT `+yearLineColumns+` FROM lines l
 JOIN runs r ON r.id = COALESCE(l.released_run, l.run_id)
 LEFT JOIN dependents d ON d.employee_id = l.employee_id AND d.dependent_id = l.dependent_id
 WHERE l.status = 'rejected' AND r.as_of >= ? AND r.as_of <= ?
 ORDER BY l.employee_id, l.service_date, l.id`, from, to)
	if err != nil {
		return nil, fmt.Errorf("reading lines refused in %d: %w", year, err)
	}
	out, err := scanYearLines(rows, false)
	if err != nil {
		return nil, fmt.Errorf("reading lines refused in %d: %w", year, err)
	}
	return out, nil
}

func scanYearLines(rows *sql.Rows, paid bool) ([]YearLine, error) {
	defer rows.Close()
	var out []YearLine
	for rows.Next() {
		var y YearLine
		var date, reasons, paidOn string
		var charged, es, er int64
		dest := []any{&y.ID, &y.EmployeeID, &y.PlanID, &y.DependentID, &y.Dependent, &y.ProviderID, &y.CareType, &y.Units, &y.Ref,
			&date, &charged, &es, &er, &y.Status, &reasons, &y.PayeeType, &y.PayeeID}
		if paid {
			dest = append(dest, &y.PaymentID, &y.Method, &paidOn)
		}
		if err := rows.Scan(dest...); err != nil {
			return nil, err
		}
		y.ServiceDate, y.PaidOn = pd(date), pd(paidOn)
		y.Charged, y.EmployeeShare, y.EmployerShare = core.Cents(charged), core.Cents(es), core.Cents(er)
		if reasons != "" {
			y.Reasons = strings.Split(reasons, ";")
		}
		out = append(out, y)
	}
	return out, rows.Err()
}

// YearEmployee is the roster row of an employee in a year-end report, as
// last known.
type YearEmployee struct {
	ID, Name, PlanID string
	InRoster         bool
	Address          core.Address
	Email            string
	OtherBenefits    core.Cents
	Dependents       map[string]string // dependent ID -> first name
}

// YearEmployee returns an employee's roster row as last known; an
// employee not in the roster has InRoster false and the ID as name.
func (l *Ledger) YearEmployee(ctx context.Context, id string) (*YearEmployee, error) {
	e := &YearEmployee{ID: id, Name: id, Dependents: map[string]string{}}
	var other int64
	a := &e.Address
	err := l.db.QueryRowContext(ctx, `SELECT first_name || ' ' || last_name, plan_id, COALESCE(address_line1,''), COALESCE(address_line2,''),
 COALESCE(city,''), COALESCE(state,''), COALESCE(postal_code,''), COALESCE(email,''), other_benefits FROM employees WHERE employee_id = ?`, id).
		Scan(&e.Name, &e.PlanID, &a.Line1, &a.Line2, &a.City, &a.State, &a.PostalCode, &e.Email, &other)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return e, nil
	case err != nil:
		return nil, fmt.Errorf("reading employee %s: %w", id, err)
	}
	e.InRoster, e.OtherBenefits = true, core.Cents(other)
	rows, err := l.db.QueryContext(ctx, `SELECT dependent_id, first_name FROM dependents WHERE employee_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("reading dependents of %s: %w", id, err)
	}
	defer rows.Close()
	for rows.Next() {
		var dep, name string
		if err := rows.Scan(&dep, &name); err != nil {
			return nil, fmt.Errorf("reading dependents of %s: %w", id, err)
		}
		e.Dependents[dep] = name
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading dependents of %s: %w", id, err)
	}
	return e, nil
}

// LinesThrough returns one past the highest line ID decided by a run
// dated on or before d: the lines before it are those known at the end
// of that day (line IDs grow with runs, and run dates never go back).
func (l *Ledger) LinesThrough(ctx context.Context, d core.Date) (int64, error) {
	var n int64
	if err := l.db.QueryRowContext(ctx, `SELECT COALESCE(MAX(line_to), 0) + 1 FROM runs WHERE as_of <= ?`, d.String()).Scan(&n); err != nil {
		return 0, fmt.Errorf("reading the runs up to %s: %w", d, err)
	}
	return n, nil
}

// RunsAfter returns how many runs are dated after d.
func (l *Ledger) RunsAfter(ctx context.Context, d core.Date) (int, error) {
	var n int
	if err := l.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM runs WHERE as_of > ?`, d.String()).Scan(&n); err != nil {
		return 0, fmt.Errorf("reading the runs after %s: %w", d, err)
	}
	return n, nil
}

// YearReport is one recorded year-end report.
type YearReport struct {
	Year       int
	Seq        int // 1 for the first report of the year
	ReportedAt time.Time
	Figures    []byte // JSON, as recorded
}

// LastYearReport returns the latest report of year (nil when the year
// was never reported).
func (l *Ledger) LastYearReport(ctx context.Context, year int) (*YearReport, error) {
	r := &YearReport{Year: year}
	var at string
	err := l.db.QueryRowContext(ctx, `SELECT seq, reported_at, figures FROM year_end_reports WHERE year = ? ORDER BY seq DESC LIMIT 1`, year).
		Scan(&r.Seq, &at, &r.Figures)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("reading the year-end report of %d: %w", year, err)
	}
	if r.ReportedAt, err = time.Parse(time.RFC3339Nano, at); err != nil {
		return nil, fmt.Errorf("reading the year-end report of %d: %w", year, err)
	}
	return r, nil
}

// RecordYearReport records a report of year with its figures, as the
// year's next report, and returns its number.
func (l *Ledger) RecordYearReport(ctx context.Context, year int, at time.Time, figures []byte) (int, error) {
	tx, err := l.beginLocked(ctx)
	if err != nil {
		return 0, fmt.Errorf("recording the year-end report of %d: %w", year, err)
	}
	defer tx.Rollback()
	var seq int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) + 1 FROM year_end_reports WHERE year = ?`, year).Scan(&seq); err != nil {
		return 0, fmt.Errorf("recording the year-end report of %d: %w", year, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO year_end_reports (year, seq, reported_at, runs_known, figures)
 VALUES (?, ?, ?, (SELECT COALESCE(MAX(rowid), 0) FROM runs), ?)`,
		year, seq, at.UTC().Format(time.RFC3339Nano), string(figures)); err != nil {
		return 0, fmt.Errorf("recording the year-end report of %d: %w", year, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("recording the year-end report of %d: %w", year, err)
	}
	return seq, nil
}

// ReportedYearChange is a line of a year already reported (carepay
// year-end) that a later run paid or took back.
type ReportedYearChange struct {
	Year       int
	LineID     int64
	EmployeeID string
	PlanID     string
	Amount     core.Cents // the line's employer_share
	Change     string     // paid, returned
	PaymentID  int64
}

// ReportedYearChanges returns the lines of reported years that run
// runID changed: those it paid while dated in a year already reported,
// and those it took back from a returned or voided payment issued in a
// reported year. Only reports recorded before the run count.
func (l *Ledger) ReportedYearChanges(ctx context.Context, runID string) ([]ReportedYearChange, error) {
	rows, err := l.db.QueryContext(ctx, `
SELECT CAST(substr(r.as_of, 1, 4) AS INTEGER) AS y, l.id, l.employee_id, l.plan_id, l.employer_share, 'paid', p.id
 FROM payments p JOIN runs r ON r.id = p.issued_run JOIN lines l ON l.payment_id = p.id
 WHERE p.issued_run = ?1 AND p.method != 'prenote'
 AND EXISTS (SELECT 1 FROM year_end_reports y WHERE y.year = CAST(substr(r.as_of, 1, 4) AS INTEGER) AND y.runs_known < r.rowid)
UNION ALL
SELECT CAST(substr(ri.as_of, 1, 4) AS INTEGER), l.id, l.employee_id, l.plan_id, l.employer_share, 'returned', p.id
 FROM returned_lines rl JOIN payments p ON p.id = rl.payment_id JOIN runs ri ON ri.id = p.issued_run
 JOIN lines l ON l.id = rl.line_id JOIN runs cur ON cur.id = rl.run_id
 WHERE rl.run_id = ?1
 AND EXISTS (SELECT 1 FROM year_end_reports y WHERE y.year = CAST(substr(ri.as_of, 1, 4) AS INTEGER) AND y.runs_known < cur.rowid)
ORDER BY 1, 3, 2, 6, 7`, runID) // kind and payment break ties, the same on every driver
	if err != nil {
		return nil, fmt.Errorf("reading changes to reported years by run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []ReportedYearChange
	for rows.Next() {
		var c ReportedYearChange
		var amount int64
		if err := rows.Scan(&c.Year, &c.LineID, &c.EmployeeID, &c.PlanID, &amount, &c.Change, &c.PaymentID); err != nil {
			return nil, fmt.Errorf("reading changes to reported years by run %s: %w", runID, err)
		}
		c.Amount = core.Cents(amount)
		out = append(out, c)
	}
	return out, rows.Err()
}
