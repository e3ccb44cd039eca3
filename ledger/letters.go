package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"carepay/core"
)

// LetterRow is one line of care as a letter shows it, with what its
// allowance counts.
type LetterRow struct {
	ID                       int64
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
	CareDay, DayUsed         bool
	Placements               int
	// DependentKnown: the dependent is registered to the employee (else
	// Dependent holds the ID the line named).
	DependentKnown bool
	// RowError is the first unreadable value of a line that could not be
	// read (INVALID_ROW); nil otherwise.
	RowError *core.RowError
}

// Prior returns the row as the rules count it.
func (r *LetterRow) Prior() core.PriorLine {
	return core.PriorLine{PlanID: r.PlanID, EmployeeID: r.EmployeeID, DependentID: r.DependentID, ProviderID: r.ProviderID,
		CareType: r.CareType, ServiceDate: r.ServiceDate, Status: core.Status(r.Status), CareDay: r.CareDay, DayUsed: r.DayUsed,
		Placements: r.Placements, EmployeeShare: r.EmployeeShare, EmployerShare: r.EmployerShare}
}

// Counts reports whether the row counts towards limits (see UsageOf).
func (r *LetterRow) Counts() bool { return r.Status != string(core.Rejected) || r.CareDay }

// Recipient is the roster row of a letter's employee.
type Recipient struct {
	InRoster      bool // false: no roster row, nobody to write to
	Name          string
	Address       core.Address
	Email         string
	OtherBenefits core.Cents
}

const letterColumns = `l.id, l.employee_id, COALESCE(e.first_name || ' ' || e.last_name, l.employee_id), l.dependent_id, COALESCE(d.first_name, l.dependent_id),
 l.plan_id, l.provider_id, l.payee_type, l.payee_id, COALESCE(l.payment_id, 0), l.service_date, l.care_type, l.units, l.charged,
 l.employee_share, l.employer_share, l.status, l.reasons, l.care_day, l.day_used, l.placements, d.first_name IS NOT NULL,
 COALESCE(l.error_column, ''), COALESCE(l.error_value, ''), l.error_msg`

const recipientColumns = `, e.employee_id IS NOT NULL, COALESCE(e.address_line1,''), COALESCE(e.address_line2,''), COALESCE(e.city,''),
 COALESCE(e.state,''), COALESCE(e.postal_code,''), COALESCE(e.email,''), COALESCE(e.other_benefits,0)`

const letterJoins = ` FROM lines l LEFT JOIN employees e ON e.employee_id = l.employee_id
 LEFT JOIN dependents d ON d.employee_id = l.employee_id AND d.dependent_id = l.dependent_id`

// letterRows runs query (columns letterColumns, then recipientColumns
// when rcp is set) and calls fn with each group of rows of the same key.
func (l *Ledger) letterRows(ctx context.Context, query string, args []any, key func(*LetterRow) string, rcp bool,
	fn func(key string, r *Recipient, rows []LetterRow) error) error {
	rows, err := l.db.QueryContext(ctx, query, args...)
	if err != nil {
		return fmt.Errorf("reading lines for letters: %w", err)
	}
	defer rows.Close()
	var group []LetterRow
	var cur string
	var who, next Recipient
	for rows.Next() {
		var r LetterRow
		var date, reasons string
		var charged, es, er, other int64
		var re core.RowError
		var msg sql.NullString
		dest := []any{&r.ID, &r.EmployeeID, &r.EmployeeName, &r.DependentID, &r.Dependent, &r.PlanID, &r.ProviderID, &r.PayeeType, &r.PayeeID,
			&r.PaymentID, &date, &r.CareType, &r.Units, &charged, &es, &er, &r.Status, &reasons, &r.CareDay, &r.DayUsed, &r.Placements,
			&r.DependentKnown, &re.Column, &re.Value, &msg}
		if rcp {
			a := &next.Address
			dest = append(dest, &next.InRoster, &a.Line1, &a.Line2, &a.City, &a.State, &a.PostalCode, &next.Email, &other)
		}
		if err := rows.Scan(dest...); err != nil {
			return fmt.Errorf("reading lines for letters: %w", err)
		}
		r.ServiceDate, r.Charged, r.EmployeeShare, r.EmployerShare = pd(date), core.Cents(charged), core.Cents(es), core.Cents(er)
		if reasons != "" {
			r.Reasons = strings.Split(reasons, ";")
		}
		if msg.Valid {
			re.Msg = msg.String
			r.RowError = &re
		}
		k := key(&r)
		if k != cur || len(group) == 0 {
			if len(group) > 0 {
				if err := fn(cur, &who, group); err != nil {
					return err
				}
			}
			group = group[:0] // fn may not keep the rows
			cur = k
			if rcp {
				who = next
				who.Name, who.OtherBenefits = r.EmployeeName, core.Cents(other)
			}
		}
		group = append(group, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading lines for letters: %w", err)
	}
	if len(group) > 0 {
		return fn(cur, &who, group)
	}
	return nil
}

// EachEmployeeLetter calls fn once per employee with a line decided in the
// run (or released from hold in it, or paid in it after an earlier run
// decided it), with the employee's roster row and those lines in service
// order. One query reads them, sorted by employee, so memory holds one
// employee's lines at a time.
func (l *Ledger) EachEmployeeLetter(ctx context.Context, runID string, fn func(employeeID string, r *Recipient, rows []LetterRow) error) error {
	from, to, err := l.runRange(ctx, runID)
	if err != nil {
		return err
	}
	// Three ranges, each read by its own index, none twice: the run's
	// lines, lines of earlier runs released in it, and lines of earlier
	// runs paid in it.
	sel := `SELECT ` + letterColumns + recipientColumns + letterJoins
	q := sel + ` WHERE l.id BETWEEN ?1 AND ?2
 UNION ALL ` + sel + ` WHERE l.released_run = ?3 AND l.id NOT BETWEEN ?1 AND ?2
 UNION ALL ` + sel + ` WHERE l.paid_run = ?3 AND l.id NOT BETWEEN ?1 AND ?2 AND (l.released_run IS NULL OR l.released_run != ?3)
 ORDER BY 2, 11, 1`
	return l.letterRows(ctx, q, []any{from, to, runID}, func(r *LetterRow) string { return r.EmployeeID }, true, fn)
}

// EachProviderLetter calls fn once per provider with a line paid (or held
// for bank details) in the run.
func (l *Ledger) EachProviderLetter(ctx context.Context, runID string, fn func(providerID string, rows []LetterRow) error) error {
	from, to, err := l.runRange(ctx, runID)
	if err != nil {
		return err
	}
	sel := `SELECT ` + letterColumns + letterJoins + ` WHERE l.payee_type = 'provider' AND l.status IN ('approved', 'partial')`
	q := sel + ` AND l.id BETWEEN ?1 AND ?2
 UNION ALL ` + sel + ` AND l.paid_run = ?3 AND l.id NOT BETWEEN ?1 AND ?2
 ORDER BY 9, 11, 1`
	return l.letterRows(ctx, q, []any{from, to, runID}, func(r *LetterRow) string { return r.PayeeID }, false,
		func(id string, _ *Recipient, rows []LetterRow) error { return fn(id, rows) })
}

// RunRange returns the IDs of the lines decided in a run: from <= id <= to.
func (l *Ledger) RunRange(ctx context.Context, runID string) (from, to int64, err error) {
	return l.runRange(ctx, runID)
}

func (l *Ledger) runRange(ctx context.Context, runID string) (int64, int64, error) {
	var from, to int64
	if err := l.db.QueryRowContext(ctx, `SELECT line_from, line_to FROM runs WHERE id = ?`, runID).Scan(&from, &to); err != nil {
		return 0, 0, fmt.Errorf("reading run %s: %w", runID, err)
	}
	return from, to, nil
}

// HasLinesOutside reports whether the ledger holds lines other than those
// with from <= id <= to (a first run has none).
func (l *Ledger) HasLinesOutside(ctx context.Context, from, to int64) (bool, error) {
	var yes bool
	err := l.db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM lines WHERE id < ?) OR EXISTS (SELECT 1 FROM lines WHERE id > ?)`, from, to).Scan(&yes)
	if err != nil {
		return false, fmt.Errorf("reading history: %w", err)
	}
	return yes, nil
}

// EachEmployeeUsage calls fn once per employee, in employee order, with
// the lines before line ID before that count towards limits and were
// served on or after since: the history a letter's remaining allowance
// adds to the run's own lines. It reads table usage, which holds those
// lines per employee in key order (the rules' own history), so that no
// sort of every earlier line is needed.
func (l *Ledger) EachEmployeeUsage(ctx context.Context, before int64, since core.Date, fn func(employeeID string, lines []core.PriorLine) error) error {
	rows, err := l.db.QueryContext(ctx, `SELECT id, lines FROM usage WHERE kind = 'e'
 AND run_id IN (SELECT id FROM runs WHERE line_to < ? AND line_to >= line_from) ORDER BY id, run_id`, before)
	if err != nil {
		return fmt.Errorf("reading history: %w", err)
	}
	defer rows.Close()
	var id, cur string
	var group []core.PriorLine
	var b []byte
	flush := func() error {
		kept := group[:0]
		for _, p := range group {
			if p.ServiceDate >= since {
				kept = append(kept, p)
			}
		}
		if len(kept) == 0 {
			return nil
		}
		return fn(cur, kept)
	}
	for rows.Next() {
		if err := rows.Scan(&id, &b); err != nil {
			return fmt.Errorf("reading history: %w", err)
		}
		if id != cur && cur != "" {
			if err := flush(); err != nil {
				return err
			}
			group = nil
		}
		cur = id
		if group, err = decodeUsage(group, b); err != nil {
			return fmt.Errorf("reading history of employee %s: %w", id, err)
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading history: %w", err)
	}
	if cur != "" {
		return flush()
	}
	return nil
}

// SharedDependentUsage returns, for each dependent registered to more
// than one employee (both parents), every line of that dependent that
// counts towards limits, whichever employee claimed it (from table usage).
func (l *Ledger) SharedDependentUsage(ctx context.Context) (map[string][]core.PriorLine, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT id, lines FROM usage WHERE kind = 'd' AND id IN
 (SELECT dependent_id FROM dependents GROUP BY dependent_id HAVING COUNT(*) > 1) ORDER BY id, run_id`)
	if err != nil {
		return nil, fmt.Errorf("reading usage of shared dependents: %w", err)
	}
	defer rows.Close()
	out := map[string][]core.PriorLine{}
	for rows.Next() {
		var id string
		var b []byte
		if err := rows.Scan(&id, &b); err != nil {
			return nil, fmt.Errorf("reading usage of shared dependents: %w", err)
		}
		if out[id], err = decodeUsage(out[id], b); err != nil {
			return nil, fmt.Errorf("reading usage of dependent %s: %w", id, err)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading usage of shared dependents: %w", err)
	}
	return out, nil
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
