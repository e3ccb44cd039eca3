package ledger

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"carepay/core"
	"carepay/internal/ledgertest"
)

// TestPrefetchAnswersAsLookups: after Prefetch, a run's Employee and
// Dependent answer exactly as lookups one by one do, for employees found
// and not, dependents found and not, across several prefetch queries and
// with ids repeated. Runs on both drivers.
func TestPrefetchAnswersAsLookups(t *testing.T) {
	l := open(t, ledgertest.Target(t, "l.db"))
	ctx := context.Background()
	tx, err := l.Begin(ctx, core.NewDate(2026, 4, 10), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	const n = 600 // more than two prefetch queries' worth
	for i := range n {
		e := &core.Employee{ID: fmt.Sprintf("E%04d", i), FirstName: "A", LastName: "B", PlanID: []string{"jitc-invoice", "pinch-hourly"}[i%2],
			EmploymentType: core.RegularFullTime, AnnualIncome: core.Cents(5000000 + i), OtherBenefits: core.Cents(i),
			EnrolledOn: core.NewDate(2025, 1, 1+i%28), PaymentMethod: core.MethodCheck, LeaveStatus: []string{"", "military"}[i%2]}
		if err := tx.PutEmployee(e); err != nil {
			t.Fatal(err)
		}
		for j := range i % 3 {
			d := &core.Dependent{EmployeeID: e.ID, ID: fmt.Sprintf("D%d", j), FirstName: "C", Relationship: "child",
				BirthDate: core.NewDate(2020, time.Month(1+j), 1), IncapableOfSelf: j == 1}
			if err := tx.PutDependent(d); err != nil {
				t.Fatal(err)
			}
		}
	}
	var ids []string
	for i := n + 20; i >= 0; i -= 1 + i%2 { // missing ids above n, repeats below
		ids = append(ids, fmt.Sprintf("E%04d", i), fmt.Sprintf("E%04d", i/2))
	}
	if err := tx.Prefetch(ids); err != nil {
		t.Fatal(err)
	}
	type answer struct {
		emp  *core.Employee
		deps []*core.Dependent
	}
	ask := func(tx *Tx) map[string]answer {
		out := map[string]answer{}
		for i := range n + 20 {
			id := fmt.Sprintf("E%04d", i)
			e, ok, err := tx.Employee(id)
			if err != nil || ok != (e != nil) {
				t.Fatalf("%s: %v %v %v", id, e, ok, err)
			}
			a := answer{emp: e}
			for j := range 4 {
				d, ok, err := tx.Dependent(id, fmt.Sprintf("D%d", j))
				if err != nil || ok != (d != nil) {
					t.Fatalf("%s/D%d: %v %v %v", id, j, d, ok, err)
				}
				a.deps = append(a.deps, d)
			}
			out[id] = a
		}
		return out
	}
	got := ask(tx)
	// The same answers, looked up one by one by a fresh run.
	want := ask(nextRun(t, l, tx))
	if !reflect.DeepEqual(got, want) {
		t.Errorf("answers after Prefetch differ from lookups one by one")
	}
	if got["E0601"].emp != nil || got["E0001"].emp == nil || got["E0002"].deps[1] == nil || got["E0002"].deps[2] != nil || got["E0599"].emp.LeaveStatus != "military" {
		t.Errorf("answers: E0601 %v, E0001 %v, E0002 %v", got["E0601"].emp, got["E0001"].emp, got["E0002"].deps)
	}
}

// TestPrefetchPayeesAnswersAsLookups: after PrefetchPayees, Payee answers
// as a lookup alone does (account numbers unsealed), employees and
// providers, found and not, across several queries; each prefetched payee
// is answered from the cache once. Runs on both drivers.
func TestPrefetchPayeesAnswersAsLookups(t *testing.T) {
	l := open(t, ledgertest.Target(t, "l.db"))
	ctx := context.Background()
	tx, err := l.Begin(ctx, core.NewDate(2026, 4, 10), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	const n = 300
	for i := range n {
		e := &core.Employee{ID: fmt.Sprintf("E%04d", i), FirstName: "A", LastName: fmt.Sprint(i), PlanID: "p", EmploymentType: core.RegularFullTime,
			EnrolledOn: core.NewDate(2025, 1, 1), PaymentMethod: core.MethodACH, Email: fmt.Sprintf("e%d@example.com", i),
			Bank: core.BankAccount{Routing: "011000015", Number: fmt.Sprintf("1000%04d", i), Type: "checking"}}
		if err := tx.PutEmployee(e); err != nil {
			t.Fatal(err)
		}
		if err := tx.PutProvider(&core.Provider{ID: fmt.Sprintf("P%04d", i), Name: fmt.Sprint("Care ", i), PaymentMethod: core.MethodCheck,
			Address: core.Address{Line1: "1 Main St", City: "Springfield", State: "IL", PostalCode: "62701"}}); err != nil {
			t.Fatal(err)
		}
	}
	var keys [][2]string
	for i := range n + 10 {
		keys = append(keys, [2]string{core.PayeeEmployee, fmt.Sprintf("E%04d", i)}, [2]string{core.PayeeProvider, fmt.Sprintf("P%04d", i)})
	}
	keys = append(keys, keys[:20]...) // repeats
	if err := tx.PrefetchPayees(keys); err != nil {
		t.Fatal(err)
	}
	ask := func(tx *Tx) map[[2]string]*core.Payment {
		out := map[[2]string]*core.Payment{}
		for _, k := range keys[:2*(n+10)] {
			p, ok, err := tx.Payee(k[0], k[1])
			if err != nil || ok != (p != nil) {
				t.Fatalf("%v: %v %v %v", k, p, ok, err)
			}
			out[k] = p
		}
		return out
	}
	got := ask(tx)
	if len(tx.payees) != 0 {
		t.Errorf("%d prefetched payees left in the cache after each was asked once", len(tx.payees))
	}
	if want := ask(nextRun(t, l, tx)); !reflect.DeepEqual(got, want) {
		t.Errorf("answers after PrefetchPayees differ from lookups one by one")
	}
	e := got[[2]string{core.PayeeEmployee, "E0299"}]
	if e == nil || e.Bank.Number != "10000299" || e.Name != "A 299" || got[[2]string{core.PayeeEmployee, "E0300"}] != nil || got[[2]string{core.PayeeProvider, "P0007"}].Address.City != "Springfield" {
		t.Errorf("answers: E0299 %+v", e)
	}
}

// nextRun commits tx and begins the next day's run, rolled back when the
// test ends: lookups there go to the ledger, not to tx's caches.
func nextRun(t *testing.T, l *Ledger, tx *Tx) *Tx {
	t.Helper()
	if err := tx.Commit(nil); err != nil {
		t.Fatal(err)
	}
	next, err := l.Begin(context.Background(), core.NewDate(2026, 4, 11), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { next.Rollback() })
	return next
}
