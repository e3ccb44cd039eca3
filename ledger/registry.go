package ledger

import (
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"carepay/core"
)

func last4(n string) string {
	if len(n) <= 4 {
		return n
	}
	return n[len(n)-4:]
}

// PutEmployee inserts or replaces a roster row (all its columns); the account number is
// sealed. Registry rows are written in batches: every lookup of the run,
// and flushRegistry, writes what is pending first.
func (t *Tx) PutEmployee(e *core.Employee) error {
	sealed, err := t.l.key.seal(e.Bank.Number)
	if err != nil {
		return err
	}
	if t.putEmps == nil {
		t.putEmps = newUpsert(t, "employees", []string{"employee_id"}, "first_name", "last_name", "plan_id", "employment_type", "annual_income", "enrolled_on",
			"address_line1", "address_line2", "city", "state", "postal_code", "email", "payment_method", "routing_number", "account_sealed", "account_last4", "account_type",
			"other_benefits", "leave_status", "last_used_on", "updated_run")
	}
	err = t.putEmps.add(e.ID, e.FirstName, e.LastName, e.PlanID, e.EmploymentType, int64(e.AnnualIncome), e.EnrolledOn.String(),
		e.Address.Line1, e.Address.Line2, e.Address.City, e.Address.State, e.Address.PostalCode, e.Email,
		e.PaymentMethod, e.Bank.Routing, sealed, last4(e.Bank.Number), e.Bank.Type,
		int64(e.OtherBenefits), e.LeaveStatus, dateArg(e.LastUsedOn), t.RunID)
	if err != nil {
		return fmt.Errorf("saving employee %s: %w", e.ID, err)
	}
	t.fam.forgetEmployee(e.ID)
	return nil
}

// PutDependent inserts or replaces a dependent.
func (t *Tx) PutDependent(d *core.Dependent) error {
	if t.putDeps == nil {
		t.putDeps = newUpsert(t, "dependents", []string{"employee_id", "dependent_id"}, "first_name", "last_name", "birth_date", "relationship", "incapable", "registered_on", "updated_run")
	}
	err := t.putDeps.add(d.EmployeeID, d.ID, d.FirstName, d.LastName, d.BirthDate.String(), d.Relationship, d.IncapableOfSelf, dateArg(d.RegisteredOn), t.RunID)
	if err != nil {
		return fmt.Errorf("saving dependent %s/%s: %w", d.EmployeeID, d.ID, err)
	}
	t.fam.forgetDependent([2]string{d.EmployeeID, d.ID})
	return nil
}

// PutProvider inserts or replaces a provider; the account number is sealed.
func (t *Tx) PutProvider(p *core.Provider) error {
	sealed, err := t.l.key.seal(p.Bank.Number)
	if err != nil {
		return err
	}
	if t.putProvs == nil {
		t.putProvs = newUpsert(t, "providers", []string{"provider_id"}, "name", "tax_id", "address_line1", "address_line2", "city", "state", "postal_code", "email",
			"payment_method", "routing_number", "account_sealed", "account_last4", "account_type", "updated_run")
	}
	err = t.putProvs.add(p.ID, p.Name, p.TaxID, p.Address.Line1, p.Address.Line2, p.Address.City, p.Address.State, p.Address.PostalCode, p.Email,
		p.PaymentMethod, p.Bank.Routing, sealed, last4(p.Bank.Number), p.Bank.Type, t.RunID)
	if err != nil {
		return fmt.Errorf("saving provider %s: %w", p.ID, err)
	}
	delete(t.provs, p.ID)
	return nil
}

// Employee looks an employee up, as the rules' Registry. Only what the
// rules read is loaded (no name, address or bank details): the run keeps
// every employee it meets in memory.
func (t *Tx) Employee(id string) (*core.Employee, bool, error) {
	if e, ok := t.fam.employee(id); ok {
		return e, e != nil, nil
	}
	e := core.Employee{ID: id}
	var income, other int64
	var enrolled string
	var lastUsed sql.NullString
	err := t.scanRow(`SELECT plan_id, employment_type, annual_income, enrolled_on, payment_method, other_benefits, leave_status, last_used_on
 FROM employees WHERE employee_id = ?`, []any{id}, &e.PlanID, &e.EmploymentType, &income, &enrolled, &e.PaymentMethod, &other, &e.LeaveStatus, &lastUsed)
	if errors.Is(err, sql.ErrNoRows) {
		t.fam.putEmployee(id, nil)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("looking up employee %s: %w", id, err)
	}
	e.AnnualIncome, e.OtherBenefits = core.Cents(income), core.Cents(other)
	e.EnrolledOn = pd(enrolled)
	e.LastUsedOn = parseDate(lastUsed)
	t.fam.putEmployee(id, &e)
	return &e, true, nil
}

// flushRegistry writes the registry rows still buffered, in the order
// they came: employees, dependents, providers (tables apart, so their
// order between tables does not matter).
func (t *Tx) flushRegistry() error {
	for _, in := range []*inserter{t.putEmps, t.putDeps, t.putProvs} {
		if in == nil {
			continue
		}
		if err := in.flush(); err != nil {
			return fmt.Errorf("saving registry rows: %w", err)
		}
	}
	return nil
}

// Dependent looks a dependent up, as the rules' Registry (without names).
func (t *Tx) Dependent(employeeID, dependentID string) (*core.Dependent, bool, error) {
	key := [2]string{employeeID, dependentID}
	if d, ok := t.fam.dependent(key); ok {
		return d, d != nil, nil
	}
	d := core.Dependent{EmployeeID: employeeID, ID: dependentID}
	var birth string
	var reg sql.NullString
	err := t.scanRow(`SELECT birth_date, relationship, incapable, registered_on FROM dependents WHERE employee_id = ? AND dependent_id = ?`, []any{employeeID, dependentID}, &birth, &d.Relationship, &d.IncapableOfSelf, &reg)
	if errors.Is(err, sql.ErrNoRows) {
		t.fam.putDependent(key, nil)
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("looking up dependent %s/%s: %w", employeeID, dependentID, err)
	}
	d.BirthDate = pd(birth)
	d.RegisteredOn = parseDate(reg)
	t.fam.putDependent(key, &d)
	return &d, true, nil
}

// Provider looks a provider up, as the rules' Registry (name and method
// only).
func (t *Tx) Provider(id string) (*core.Provider, bool, error) {
	if p, ok := t.provs[id]; ok {
		return p, p != nil, nil
	}
	p := core.Provider{ID: id}
	err := t.scanRow(`SELECT name, payment_method FROM providers WHERE provider_id = ?`, []any{id}, &p.Name, &p.PaymentMethod)
	if errors.Is(err, sql.ErrNoRows) {
		t.provs[id] = nil
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("looking up provider %s: %w", id, err)
	}
	t.provs[id] = &p
	return &p, true, nil
}

// prefetchChunk is how many ids one prefetch query names.
const prefetchChunk = 256

// Prefetch looks up, prefetchChunk at a time, the employees of ids that
// are not cached yet, with every dependent of each (sorted, one query per
// table and chunk), so that deciding a
// window of lines costs a few queries rather than two per family; what it
// finds, and what it does not, Employee and Dependent then answer from
// the cache.
func (t *Tx) Prefetch(ids []string) error {
	var want []string
	for _, id := range ids {
		if !t.fam.hasEmployee(id) {
			want = append(want, id)
		}
	}
	if len(want) == 0 {
		return nil
	}
	if err := t.flushRegistry(); err != nil {
		return err
	}
	slices.Sort(want)
	want = slices.Compact(want)
	for len(want) > 0 {
		n := min(len(want), prefetchChunk)
		if err := t.prefetch(want[:n]); err != nil {
			return err
		}
		want = want[n:]
	}
	return nil
}

// prefetchMarks and prefetchArgs are a prefetch query's IN list: always
// prefetchChunk parameters (the last id repeated), so that one prepared
// statement per query serves every call.
var prefetchMarks = strings.TrimSuffix(strings.Repeat("?,", prefetchChunk), ",")

func prefetchArgs(ids []string) []any {
	args := make([]any, prefetchChunk)
	for i := range args {
		args[i] = ids[min(i, len(ids)-1)]
	}
	return args
}

func (t *Tx) prefetch(ids []string) error {
	args, marks := prefetchArgs(ids), prefetchMarks
	empQ, err := t.stmt(`SELECT employee_id, plan_id, employment_type, annual_income, enrolled_on, payment_method, other_benefits, leave_status, last_used_on
 FROM employees WHERE employee_id IN (` + marks + `)`)
	if err != nil {
		return err
	}
	depQ, err := t.stmt(`SELECT employee_id, dependent_id, birth_date, relationship, incapable, registered_on FROM dependents WHERE employee_id IN (` + marks + `)`)
	if err != nil {
		return err
	}
	t.connMu.Lock()
	defer t.connMu.Unlock()
	rows, err := empQ.QueryContext(t.ctx, args...)
	if err != nil {
		return fmt.Errorf("looking up employees: %w", err)
	}
	var e core.Employee
	for rows.Next() {
		var income, other int64
		var enrolled string
		var lastUsed sql.NullString
		if err := rows.Scan(&e.ID, &e.PlanID, &e.EmploymentType, &income, &enrolled, &e.PaymentMethod, &other, &e.LeaveStatus, &lastUsed); err != nil {
			rows.Close()
			return fmt.Errorf("looking up employees: %w", err)
		}
		e.AnnualIncome, e.OtherBenefits = core.Cents(income), core.Cents(other)
		e.EnrolledOn = pd(enrolled)
		e.LastUsedOn = parseDate(lastUsed)
		t.fam.putEmployee(e.ID, &e)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("looking up employees: %w", err)
	}
	for _, id := range ids {
		if !t.fam.hasEmployee(id) {
			t.fam.putEmployee(id, nil) // no such employee
		}
	}
	rows, err = depQ.QueryContext(t.ctx, args...)
	if err != nil {
		return fmt.Errorf("looking up dependents: %w", err)
	}
	defer rows.Close()
	var d core.Dependent
	for rows.Next() {
		var birth string
		var reg sql.NullString
		if err := rows.Scan(&d.EmployeeID, &d.ID, &birth, &d.Relationship, &d.IncapableOfSelf, &reg); err != nil {
			return fmt.Errorf("looking up dependents: %w", err)
		}
		d.BirthDate = pd(birth)
		d.RegisteredOn = parseDate(reg)
		t.fam.putDependent([2]string{d.EmployeeID, d.ID}, &d)
	}
	// A dependent not found here (a line naming one the roster lacks) is
	// looked up alone, and found missing, by Dependent.
	if err := rows.Err(); err != nil {
		return fmt.Errorf("looking up dependents: %w", err)
	}
	return nil
}
