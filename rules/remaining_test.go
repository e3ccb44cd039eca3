package rules

import (
	"reflect"
	"testing"
	"time"

	"carepay/core"
)

// TestRemaining works out by hand what letters say is left.
func TestRemaining(t *testing.T) {
	plans := referencePlans()
	d := func(m, day int) core.Date { return core.NewDate(2026, time.Month(m), day) }
	used := func(plan, emp, dep string, date core.Date, placements int, paid core.Cents) core.PriorLine {
		return core.PriorLine{PlanID: plan, EmployeeID: emp, DependentID: dep, ServiceDate: date, Status: core.Approved,
			CareDay: true, DayUsed: true, Placements: placements, EmployerShare: paid, CareType: core.CareInHome}
	}
	// bright-backup: Mia used 3 days (one in 2025 does not count): 20 - 2 = 18.
	bright := plans["bright-backup"]
	mia := []core.PriorLine{used("bright-backup", "E1", "D1", d(3, 2), 0, 0), used("bright-backup", "E1", "D1", d(3, 3), 0, 0),
		used("bright-backup", "E1", "D1", core.NewDate(2025, 12, 1), 0, 0)}
	got := Remaining(bright, &core.Employee{}, 2026, mia, map[string][]core.PriorLine{"D1": mia, "D2": nil}, map[string]string{"D1": "Mia"})
	if want := []string{"Mia: 18 of 20 days", "D2: 20 of 20 days"}; !reflect.DeepEqual(got, want) {
		t.Errorf("bright: %q, want %q", got, want)
	}
	// pinch-hourly: 2 + 1 placements used; 5,000 - 4,000 other - 300 paid = 700.
	pinch := plans["pinch-hourly"]
	lines := []core.PriorLine{used("pinch-hourly", "E2", "D3", d(3, 2), 2, 20000), used("pinch-hourly", "E2", "D3", d(3, 3), 1, 10000)}
	got = Remaining(pinch, &core.Employee{OtherBenefits: 400000}, 2026, lines, nil, nil)
	if want := []string{"7 of 10 placements", "$700.00 of $5,000.00"}; !reflect.DeepEqual(got, want) {
		t.Errorf("pinch: %q, want %q", got, want)
	}
	// jitc-invoice: 3 distinct days of 10 (two lines on one date are one day).
	jitc := plans["jitc-invoice"]
	lines = []core.PriorLine{used("jitc-invoice", "E3", "D4", d(3, 2), 0, 8000), used("jitc-invoice", "E3", "D5", d(3, 2), 0, 8000),
		used("jitc-invoice", "E3", "D4", d(3, 3), 0, 8000), used("jitc-invoice", "E3", "D4", d(3, 4), 0, 8000)}
	got = Remaining(jitc, &core.Employee{}, 2026, lines, nil, nil)
	if want := []string{"7 of 10 days"}; !reflect.DeepEqual(got, want) {
		t.Errorf("jitc: %q, want %q", got, want)
	}
}
