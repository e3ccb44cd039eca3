package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"carepay/core"
)

// LetterRow is one line of care as a letter shows it.
type LetterRow struct {
	EmployeeID, EmployeeName string
	DependentID, Dependent   string // dependent's first name
	PlanID                   string
	ProviderID               string
	PayeeType, PayeeID       string
	PaymentID                int64
	ServiceDate              core.Date
	CareType, Units          string
	Charged                  core.Cents
	EmployeeShare            core.Cents
	EmployerShare            core.Cents
	Status                   string
	Reasons                  []string
}

const letterColumns = `l.employee_id, COALESCE(e.first_name || ' ' || e.last_name, l.employee_id), l.dependent_id, COALESCE(d.first_name, l.dependent_id),
 l.plan_id, l.provider_id, l.payee_type, l.payee_id, COALESCE(l.payment_id, 0), l.service_date, l.care_type, l.units, l.charged,
 l.employee_share, l.employer_share, l.status, l.reasons
 FROM lines l LEFT JOIN employees e ON e.employee_id = l.employee_id
 LEFT JOIN dependents d ON d.employee_id = l.employee_id AND d.dependent_id = l.dependent_id`

func (l *Ledger) letterRows(ctx context.Context, query string, args []any, key func(*LetterRow) string, fn func(key string, rows []LetterRow) error) error {
	rows, err := l.db.QueryContext(ctx, `SELECT `+letterColumns+` `+query, args...)
	if err != nil {
		return fmt.Errorf("reading lines for letters: %w", err)
	}
	defer rows.Close()
	var group []LetterRow
	cur := ""
	for rows.Next() {
		var r LetterRow
		var date, reasons string
		var charged, es, er int64
		if err := rows.Scan(&r.EmployeeID, &r.EmployeeName, &r.DependentID, &r.Dependent, &r.PlanID, &r.ProviderID, &r.PayeeType, &r.PayeeID,
			&r.PaymentID, &date, &r.CareType, &r.Units, &charged, &es, &er, &r.Status, &reasons); err != nil {
			return fmt.Errorf("reading lines for letters: %w", err)
		}
		r.ServiceDate, r.Charged, r.EmployeeShare, r.EmployerShare = pd(date), core.Cents(charged), core.Cents(es), core.Cents(er)
		if reasons != "" {
			r.Reasons = strings.Split(reasons, ";")
		}
		if k := key(&r); k != cur && len(group) > 0 {
			if err := fn(cur, group); err != nil {
				return err
			}
			group = group[:0]
		}
		cur = key(&r)
		group = append(group, r)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	if len(group) > 0 {
		return fn(cur, group)
	}
	return nil
}

// EachEmployeeLetter calls fn once per employee with a line decided in the
// run (or released from hold in it, or paid in it after an earlier run
// decided it), with those lines in service order.
// Lines come from the database sorted by employee, so memory holds one
// employee's lines at a time.
func (l *Ledger) EachEmployeeLetter(ctx context.Context, runID string, fn func(employeeID string, rows []LetterRow) error) error {
	from, to, err := l.runRange(ctx, runID)
	if err != nil {
		return err
	}
	return l.letterRows(ctx, `WHERE (l.id BETWEEN ? AND ? OR l.released_run = ? OR l.paid_run = ?) ORDER BY l.employee_id, l.service_date, l.id`,
		[]any{from, to, runID, runID}, func(r *LetterRow) string { return r.EmployeeID }, fn)
}

// EachProviderLetter calls fn once per provider with a line paid (or held
// for bank details) in the run.
func (l *Ledger) EachProviderLetter(ctx context.Context, runID string, fn func(providerID string, rows []LetterRow) error) error {
	from, to, err := l.runRange(ctx, runID)
	if err != nil {
		return err
	}
	return l.letterRows(ctx, `WHERE l.payee_type = 'provider' AND l.status IN ('approved', 'partial')
 AND (l.id BETWEEN ? AND ? OR l.paid_run = ?) ORDER BY l.payee_id, l.service_date, l.id`,
		[]any{from, to, runID}, func(r *LetterRow) string { return r.PayeeID }, fn)
}

func (l *Ledger) runRange(ctx context.Context, runID string) (int64, int64, error) {
	var from, to int64
	if err := l.db.QueryRowContext(ctx, `SELECT line_from, line_to FROM runs WHERE id = ?`, runID).Scan(&from, &to); err != nil {
		return 0, 0, fmt.Errorf("reading run %s: %w", runID, err)
	}
	return from, to, nil
}

// Contact returns a payee's name, address and email.
func (l *Ledger) Contact(ctx context.Context, payeeType, id string) (string, core.Address, string, error) {
	q := `SELECT first_name || ' ' || last_name, COALESCE(address_line1,''), COALESCE(address_line2,''), COALESCE(city,''), COALESCE(state,''), COALESCE(postal_code,''), COALESCE(email,'') FROM employees WHERE employee_id = ?`
	if payeeType == core.PayeeProvider {
		q = `SELECT name, COALESCE(address_line1,''), COALESCE(address_line2,''), COALESCE(city,''), COALESCE(state,''), COALESCE(postal_code,''), COALESCE(email,'') FROM providers WHERE provider_id = ?`
	}
	var name, email string
	var a core.Address
	if err := l.db.QueryRowContext(ctx, q, id).Scan(&name, &a.Line1, &a.Line2, &a.City, &a.State, &a.PostalCode, &email); err != nil {
		return "", core.Address{}, "", fmt.Errorf("reading contact of %s %s: %w", payeeType, id, err)
	}
	return name, a, email, nil
}

// UsageOf returns every line of an employee, or of a dependent, that
// counts towards limits, as of now (for letters' remaining allowance).
func (l *Ledger) UsageOf(ctx context.Context, column, id string) ([]core.PriorLine, error) {
	kind := map[string]string{"employee_id": "e", "dependent_id": "d"}[column]
	if kind == "" {
		return nil, fmt.Errorf("usage by %q", column)
	}
	rows, err := l.db.QueryContext(ctx, `SELECT lines FROM usage WHERE kind = ? AND id = ? ORDER BY run_id`, kind, id)
	if err != nil {
		return nil, fmt.Errorf("reading usage of %s: %w", id, err)
	}
	out, err := scanUsage(rows)
	if err != nil {
		return nil, fmt.Errorf("reading usage of %s: %w", id, err)
	}
	return out, nil
}

// OtherBenefits returns an employee's other dependent-care benefits.
func (l *Ledger) OtherBenefits(ctx context.Context, employeeID string) (core.Cents, error) {
	var v int64
	err := l.db.QueryRowContext(ctx, `SELECT other_benefits FROM employees WHERE employee_id = ?`, employeeID).Scan(&v)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, fmt.Errorf("reading other benefits of %s: %w", employeeID, err)
	}
	return core.Cents(v), nil
}
