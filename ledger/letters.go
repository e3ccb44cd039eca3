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

	forProvider bool // the row is also on its provider's letter
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

// letterLines selects a letter's line columns from lines, without joins: the
// roster's names and addresses are looked up once per employee, a batch
// of employees at a time (see letterNames), instead of joined to every
// line and carried through the sort.
// The last column says whether the line is also on its provider's
// letter: paid to the provider (or held for bank details) in the run, a
// line of the run or an earlier line paid now.
const letterLines = `l.id, l.employee_id, l.dependent_id, l.plan_id, l.provider_id, l.payee_type, l.payee_id, COALESCE(l.payment_id, 0),
 l.service_date, l.care_type, l.units, l.charged, l.employee_share, l.employer_share, l.status, l.reasons, l.care_day, l.day_used,
 l.placements, COALESCE(l.error_column, ''), COALESCE(l.error_value, ''), l.error_msg,
 CASE WHEN l.payee_type = 'provider' AND l.status IN ('approved', 'partial') AND (l.id BETWEEN ?1 AND ?2 OR l.paid_run = ?3) THEN 1 ELSE 0 END
 FROM lines l`

// letterBatch is how many rows letterRows gathers (whole groups) before
// it looks up their names and hands the groups on. A variable for tests.
var letterBatch = 4096

// sortedRows is a letter query run up to its first row, which is when the
// database sorts the whole result.
type sortedRows struct {
	what  string // whose letters, for messages
	rows  *sql.Rows
	first bool // rows.Next's answer for the first row
	err   error
}

// sortLetters runs query, which reads the lines of what's letters, up to
// its first row.
func (l *Ledger) sortLetters(ctx context.Context, what, query string, args ...any) sortedRows {
	rows, err := l.db.QueryContext(ctx, query, args...)
	if err != nil {
		return sortedRows{what: what, err: fmt.Errorf("reading lines for %s: %w", what, err)}
	}
	return sortedRows{what: what, rows: rows, first: rows.Next()}
}

// letterRows reads sorted (columns letterLines, sorted so that the rows
// of one employee are together) and calls fn with each employee's rows,
// the names of their employees and dependents filled in, and the
// employee's roster row.
func (l *Ledger) letterRows(ctx context.Context, sorted sortedRows, fn func(employeeID string, r *Recipient, rows []LetterRow) error) error {
	if sorted.err != nil {
		return sorted.err
	}
	rows := sorted.rows
	defer rows.Close()
	var (
		buf    []LetterRow // groups of rows; the last may still grow
		starts []int       // where each group in buf begins
		names  = &letterNames{l: l}
	)
	defer names.close()
	flush := func() error {
		if err := names.fill(ctx, buf); err != nil {
			return err
		}
		for i, from := range starts {
			to := len(buf)
			if i+1 < len(starts) {
				to = starts[i+1]
			}
			g := buf[from:to]
			if err := fn(g[0].EmployeeID, names.recipient(g[0].EmployeeID), g); err != nil { // fn may not keep the rows
				return err
			}
		}
		buf, starts = buf[:0], starts[:0]
		return nil
	}
	cur := ""
	for more := sorted.first; more; more = rows.Next() {
		var r LetterRow
		var date, reasons string
		var charged, es, er int64
		var re core.RowError
		var msg sql.NullString
		if err := rows.Scan(&r.ID, &r.EmployeeID, &r.DependentID, &r.PlanID, &r.ProviderID, &r.PayeeType, &r.PayeeID,
			&r.PaymentID, &date, &r.CareType, &r.Units, &charged, &es, &er, &r.Status, &reasons, &r.CareDay, &r.DayUsed,
			&r.Placements, &re.Column, &re.Value, &msg, &r.forProvider); err != nil {
			return fmt.Errorf("reading lines for %s: %w", sorted.what, err)
		}
		r.ServiceDate, r.Charged, r.EmployeeShare, r.EmployerShare = pd(date), core.Cents(charged), core.Cents(es), core.Cents(er)
		if reasons != "" {
			r.Reasons = strings.Split(reasons, ";")
		}
		if msg.Valid {
			re.Msg = msg.String
			r.RowError = &re
		}
		if k := r.EmployeeID; k != cur || len(buf) == 0 {
			// A new group: the one before it is whole.
			if len(buf) >= letterBatch {
				if err := flush(); err != nil {
					return err
				}
			}
			starts = append(starts, len(buf))
			cur = k
		}
		buf = append(buf, r)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading lines for %s: %w", sorted.what, err)
	}
	return flush()
}

// letterNames looks up the roster rows a batch of letter rows names.
type letterNames struct {
	l          *Ledger
	empQ, depQ *sql.Stmt             // prepared at the first lookUp
	emps       map[string]*Recipient // by employee ID; InRoster false when missing
	deps       map[[2]string]string  // first names, by employee and dependent ID
	ids        []string
}

// fill looks up the employees and dependents of rows and sets each row's
// EmployeeName (the employee ID when the roster has no such employee),
// Dependent (the ID when unregistered) and DependentKnown.
func (n *letterNames) fill(ctx context.Context, rows []LetterRow) error {
	if n.emps == nil {
		n.emps, n.deps = map[string]*Recipient{}, map[[2]string]string{}
	}
	clear(n.emps)
	clear(n.deps)
	n.ids = n.ids[:0]
	for i := range rows {
		if id := rows[i].EmployeeID; n.emps[id] == nil {
			n.emps[id] = &Recipient{Name: id}
			n.ids = append(n.ids, id)
		}
	}
	for ids := n.ids; len(ids) > 0; {
		k := min(len(ids), prefetchChunk)
		if err := n.lookUp(ctx, ids[:k]); err != nil {
			return err
		}
		ids = ids[k:]
	}
	for i := range rows {
		r := &rows[i]
		r.EmployeeName = n.emps[r.EmployeeID].Name
		r.Dependent, r.DependentKnown = n.deps[[2]string{r.EmployeeID, r.DependentID}]
		if !r.DependentKnown {
			r.Dependent = r.DependentID
		}
	}
	return nil
}

// lookUp reads the roster rows of up to prefetchChunk employees.
func (n *letterNames) lookUp(ctx context.Context, ids []string) error {
	if n.empQ == nil {
		var err error
		if n.empQ, err = n.l.db.PrepareContext(ctx, `SELECT employee_id, first_name || ' ' || last_name, COALESCE(address_line1,''),
 COALESCE(address_line2,''), COALESCE(city,''), COALESCE(state,''), COALESCE(postal_code,''), COALESCE(email,''), COALESCE(other_benefits,0)
 FROM employees WHERE employee_id IN (`+prefetchMarks+`)`); err != nil {
			return fmt.Errorf("reading employees for letters: %w", err)
		}
		if n.depQ, err = n.l.db.PrepareContext(ctx, `SELECT employee_id, dependent_id, first_name FROM dependents
 WHERE employee_id IN (`+prefetchMarks+`)`); err != nil {
			return fmt.Errorf("reading dependents for letters: %w", err)
		}
	}
	args := prefetchArgs(ids)
	rows, err := n.empQ.QueryContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("reading employees for letters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var other int64
		who := Recipient{InRoster: true}
		a := &who.Address
		if err := rows.Scan(&id, &who.Name, &a.Line1, &a.Line2, &a.City, &a.State, &a.PostalCode, &who.Email, &other); err != nil {
			return fmt.Errorf("reading employees for letters: %w", err)
		}
		who.OtherBenefits = core.Cents(other)
		if r := n.emps[id]; r != nil { // the database returns the IDs asked for
			*r = who
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading employees for letters: %w", err)
	}
	rows.Close()
	rows, err = n.depQ.QueryContext(ctx, args...)
	if err != nil {
		return fmt.Errorf("reading dependents for letters: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k [2]string
		var name string
		if err := rows.Scan(&k[0], &k[1], &name); err != nil {
			return fmt.Errorf("reading dependents for letters: %w", err)
		}
		n.deps[k] = name
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading dependents for letters: %w", err)
	}
	return nil
}

// close closes the prepared statements.
func (n *letterNames) close() {
	for _, q := range []*sql.Stmt{n.empQ, n.depQ} {
		if q != nil {
			q.Close()
		}
	}
}

// recipient returns the roster row of an employee fill saw.
func (n *letterNames) recipient(id string) *Recipient { return n.emps[id] }

// The employees' letters' query, with the arguments line_from, line_to
// and the run's ID: the run's lines, lines of earlier runs released in it,
// and lines of earlier runs paid in it, each range read by its own index
// and none twice, in service order by employee. Every line a provider's
// letter shows is among them (the last column of letterLines marks it).
const employeeLetters = `SELECT ` + letterLines + ` WHERE l.id BETWEEN ?1 AND ?2
 UNION ALL SELECT ` + letterLines + ` WHERE l.released_run = ?3 AND l.id NOT BETWEEN ?1 AND ?2
 UNION ALL SELECT ` + letterLines + ` WHERE l.paid_run = ?3 AND l.id NOT BETWEEN ?1 AND ?2 AND (l.released_run IS NULL OR l.released_run != ?3)
 ORDER BY 2, 9, 1`

// EachLetter calls employee once per employee with a line decided in the
// run (or released from hold in it, or paid in it after an earlier run
// decided it), with the employee's roster row and those lines in service
// order; then provider once per provider with a line paid (or held for
// bank details) in the run, those lines in service order. The lines are
// read once, sorted by employee by the database, so memory holds a batch
// of employees' letters at a time; the providers' lines are kept as they
// go by, names and all, and sorted by provider in Go (providerRows).
func (l *Ledger) EachLetter(ctx context.Context, runID string, employee func(employeeID string, r *Recipient, rows []LetterRow) error,
	provider func(providerID string, rows []LetterRow) error) error {
	from, to, err := l.runRange(ctx, runID)
	if err != nil {
		return err
	}
	prov := providerRows{dir: l.spoolDir}
	defer prov.close()
	err = l.letterRows(ctx, l.sortLetters(ctx, "employees' letters", employeeLetters, from, to, runID),
		func(id string, who *Recipient, rows []LetterRow) error {
			for i := range rows {
				if rows[i].forProvider {
					if err := prov.add(&rows[i]); err != nil {
						return err
					}
				}
			}
			return employee(id, who, rows)
		})
	if err != nil {
		return err
	}
	var group []LetterRow
	err = prov.each(func(r *LetterRow) error {
		if len(group) > 0 && group[0].PayeeID != r.PayeeID {
			if err := provider(group[0].PayeeID, group); err != nil {
				return err
			}
			clear(group)
			group = group[:0]
		}
		group = append(group, *r)
		return nil
	})
	if err == nil && len(group) > 0 {
		err = provider(group[0].PayeeID, group)
	}
	return err
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
