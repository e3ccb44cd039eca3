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
	if err := tx.Commit(nil); err != nil {
		t.Fatal(err)
	}
	fresh, err := l.Begin(ctx, core.NewDate(2026, 4, 11), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.Rollback()
	want := ask(fresh)
	if !reflect.DeepEqual(got, want) {
		t.Errorf("answers after Prefetch differ from lookups one by one")
	}
	if got["E0601"].emp != nil || got["E0001"].emp == nil || got["E0002"].deps[1] == nil || got["E0002"].deps[2] != nil || got["E0599"].emp.LeaveStatus != "military" {
		t.Errorf("answers: E0601 %v, E0001 %v, E0002 %v", got["E0601"].emp, got["E0001"].emp, got["E0002"].deps)
	}
}
