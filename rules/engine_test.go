package rules

import (
	"errors"
	"strings"
	"testing"

	"carepay/core"
)

// TestCommonChecks covers the checks SPEC.md applies to every plan
// ("Checks common to all plans") and the shares of a rejected line.
func TestCommonChecks(t *testing.T) {
	runScenarios(t, []scenario{
		{
			name: "invalid_row_statement",
			steps: []step{{
				line: bl("K1", "center", "2026-03-02", "", "150.00", rowError("service_date", "3/32/2026")),
				// rejected: employer 0, employee the whole charge 150.00
				want: rejected(core.Cents(15000), core.InvalidRow),
			}},
		},
		{
			name: "invalid_row_invoice",
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "100.00", rowError("hours", "four")),
				want: rejected(core.Cents(10000), core.InvalidRow),
			}},
		},
		{
			name: "not_in_roster_statement",
			steps: []step{{
				line: stmt("S-B", "E-X", "K1", "P1", "center", "2026-03-02", "", "150.00"),
				want: rejected(core.Cents(15000), core.NotEnrolled),
			}},
		},
		{
			name:  "unknown_plan",
			setup: func(w *world) { w.employee("E-B").PlanID = "ghost-plan" },
			steps: []step{{
				line: bl("K1", "center", "2026-03-02", "", "150.00"),
				want: rejected(core.Cents(15000), core.UnknownPlan),
			}},
		},
		{
			name: "dependent_unknown_statement", approved: []string{"S-P"},
			steps: []step{{
				line: pl("C9", "2026-03-02", "6", "84.00"),
				want: rejected(core.Cents(8400), core.DependentUnknown),
			}},
		},
		{
			name: "dependent_unknown_invoice",
			steps: []step{{
				line: jl("INV-1", "J9", "2026-03-02", "100.00"),
				want: rejected(core.Cents(10000), core.DependentUnknown),
			}},
		},
		{
			name: "several_reasons_on_one_line",
			steps: []step{{
				// unknown provider, a Saturday, received 61 days after the period
				line: stmt("S-B", "E-B", "K1", "P9", "center", "2026-03-07", "", "150.00", received("2026-05-31")),
				want: rejected(core.Cents(15000), core.ProviderUnknown, core.NotWorkday, core.Late),
			}},
		},
		{
			name: "invoice_rows_naming_two_employees",
			steps: []step{
				{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: rejected(core.Cents(10000), core.InvalidRow)},
				{line: invoice("INV-1", "E-J2", "J1", "P1", "center", "2026-03-03", "", "100.00"), want: rejected(core.Cents(10000), core.InvalidRow)},
			},
		},

		// hours: above 0, at most 24; required for in-home care.
		{
			name: "in_home_hours_blank",
			steps: []step{
				{line: bl("K1", "in_home", "2026-03-02", "", "200.00"), want: rejected(core.Cents(20000), core.InvalidHours)},
				{line: invoice("INV-1", "E-J", "J1", "P1", "in_home", "2026-03-02", "", "100.00"), want: rejected(core.Cents(10000), core.InvalidHours)},
			},
		},
		{
			name: "pinch_hours_blank", approved: []string{"S-P"},
			steps: []step{{
				line: pl("C1", "2026-03-02", "", "84.00"),
				want: rejected(core.Cents(8400), core.InvalidHours),
			}},
		},
		{
			name: "hours_zero",
			steps: []step{
				{line: bl("K1", "in_home", "2026-03-02", "0", "200.00"), want: rejected(core.Cents(20000), core.InvalidHours)},
				{line: invoice("INV-1", "E-J", "J1", "P1", "center", "2026-03-02", "0", "100.00"), want: rejected(core.Cents(10000), core.InvalidHours)},
			},
		},
		{
			name: "hours_24.01", approved: []string{"S-P"},
			steps: []step{
				{line: bl("K1", "in_home", "2026-03-02", "24.01", "480.20"), want: rejected(core.Cents(48020), core.InvalidHours)},
				{line: pl("C1", "2026-03-02", "24.01", "336.14"), want: rejected(core.Cents(33614), core.InvalidHours)},
			},
		},
		{
			name: "hours_24_allowed",
			steps: []step{
				// a day billed by the day with 24 hours: 100.00 x 0.8 = 80.00; employee 20.00
				{line: invoice("INV-1", "E-J", "J1", "P1", "center", "2026-03-02", "24", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				// bright in-home 24h: see TestCopay/in_home_24_hours_allowed_and_capped;
				// pinch 24h: see TestHourly/24_hours_is_two_placements
			},
		},
		{
			name: "center_hours_blank_allowed",
			steps: []step{
				{line: bl("K1", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				{line: bl("K2", "family_child_care", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
			},
		},
	})
}

// TestLimitsAcrossRuns: limits are consumed in decision order, first come
// first served, across runs; each run is a fresh Engine whose History holds
// what the earlier runs decided.
func TestLimitsAcrossRuns(t *testing.T) {
	runScenarios(t, []scenario{
		{
			name:  "bright_days_first_come_first_served",
			prior: priorDays(bright, "E-B", "K1", "center", "2026-01-05", 18, 2000, 13000, 0),
			steps: []step{
				// days 19 and 20 of K1: copay 20; employer 130.00
				{line: bl("K1", "center", "2026-03-05", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				{line: bl("K1", "center", "2026-03-06", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
			},
			next: [][]step{{
				// an earlier service date arriving in a later run finds the 20 days used
				{line: stmt("S-B-2", "E-B", "K1", "P1", "center", "2026-03-04", "", "150.00"), want: rejected(core.Cents(15000), core.DayLimit)},
				// and the same care again is a duplicate
				{line: stmt("S-B-2", "E-B", "K1", "P1", "center", "2026-03-06", "", "150.00"), want: rejected(core.Cents(15000), core.Duplicate)},
			}},
		},
		{
			name:     "pinch_cap_first_come_first_served",
			approved: []string{"S-P", "S-P-2", "S-P-3"},
			setup:    func(w *world) { w.employee("E-P").OtherBenefits = 490000 },
			steps: []step{
				// room 5,000.00-4,900.00 = 100.00; 8.00 x 8 = 64.00; employee 112.00-64.00 = 48.00
				{line: pl("C1", "2026-03-02", "8", "112.00"), want: approved(core.Cents(4800), core.Cents(6400))},
			},
			next: [][]step{
				// room 100.00-64.00 = 36.00; 8.00 x 6 = 48.00 -> 36.00; employee 84.00-36.00 = 48.00
				{{line: stmt("S-P-2", "E-P", "C1", "P1", "in_home", "2026-03-03", "6", "84.00"), want: partial(core.Cents(4800), core.Cents(3600), core.AnnualCap)}},
				// room 0
				{{line: stmt("S-P-3", "E-P", "C1", "P1", "in_home", "2026-03-04", "4", "56.00"), want: rejected(core.Cents(5600), core.AnnualCap)}},
			},
		},
		{
			name:     "pinch_held_line_keeps_its_placement",
			approved: []string{"S-P-2"},
			prior:    ninePlacements(),
			steps: []step{
				// placement 10, held: 8.00 x 6 = 48.00; employee 36.00
				{line: pl("C1", "2026-03-02", "6", "84.00"), want: held(core.Approved, core.Cents(3600), core.Cents(4800), core.AwaitingApproval)},
			},
			next: [][]step{{
				{line: stmt("S-P-2", "E-P", "C1", "P1", "in_home", "2026-03-03", "6", "84.00"), want: rejected(core.Cents(8400), core.PlacementLimit)},
			}},
		},
		{
			name:  "jitc_days_first_come_first_served",
			prior: priorDays(jitc, "E-J", "J1", "center", "2026-01-05", 8, 2000, 8000, 0),
			steps: []step{
				// day 9: 80.00; employee 20.00
				{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
			},
			next: [][]step{
				{
					// INV-1 again: seen before, a duplicate as a whole
					{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: rejected(core.Cents(10000), core.Duplicate)},
					// day 10
					{line: jl("INV-2", "J2", "2026-03-04", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				},
				{{line: jl("INV-3", "J2", "2026-03-06", "100.00"), want: rejected(core.Cents(10000), core.DayLimit)}},
			},
		},
		{
			name: "jitc_consecutive_days_across_runs",
			steps: []step{
				// consecutive days 1..5 of J1, days 1..5 of E-J
				{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-1", "J1", "2026-03-03", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-1", "J1", "2026-03-04", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-1", "J1", "2026-03-05", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-1", "J1", "2026-03-06", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
			},
			next: [][]step{{
				// consecutive days 6..9
				{line: jl("INV-2", "J1", "2026-03-07", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-2", "J1", "2026-03-08", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-2", "J1", "2026-03-09", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-2", "J1", "2026-03-10", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				// consecutive day 10
				{line: jl("INV-2", "J1", "2026-03-11", "100.00"), want: rejected(core.Cents(10000), core.ConsecutiveLimit)},
			}},
		},
	})
}

// TestDecideHistoryError: a History that cannot be read leaves the line
// undecided rather than deciding it without the earlier runs.
func TestDecideHistoryError(t *testing.T) {
	w := newWorld()
	w.hist.err = errors.New("ledger is closed")
	e := NewEngine(referencePlans(), w.reg, w.hist)
	if _, err := e.Decide(bl("K1", "center", "2026-03-02", "", "150.00"), nil); !errors.Is(err, w.hist.err) {
		t.Fatalf("Decide with a failing History: error %v, want one wrapping %v", err, w.hist.err)
	}
}

// TestInvalidRowFault checks that a line the rules find INVALID_ROW
// though every value parsed says which column is at fault and why, for
// its letter; a line whose value did not parse leaves that to its Errors.
func TestInvalidRowFault(t *testing.T) {
	w := newWorld()
	e := NewEngine(referencePlans(), w.reg, w.hist)
	decide := func(l *core.Line, inv *core.InvoiceSummary) core.Decision {
		t.Helper()
		d, err := e.Decide(l, inv)
		if err != nil {
			t.Fatal(err)
		}
		if !d.Has(core.InvalidRow) {
			t.Fatalf("%s %s: reasons %v, want INVALID_ROW", l.Kind, l.Ref, d.Reasons)
		}
		return d
	}
	two := invoice("INV-2", "E-J2", "J1", "P1", "center", "2026-03-03", "", "100.00")
	d := decide(two, &core.InvoiceSummary{Ref: "INV-2", Employees: 2, Providers: 1, FirstSeq: two.Seq})
	if d.Fault == nil || d.Fault.Column != "invoice_id" || d.Fault.Value != "INV-2" ||
		!strings.Contains(d.Fault.Msg, "name 2 employees and 1 providers") {
		t.Errorf("invoice naming two employees: fault %+v", d.Fault)
	}
	wrongKind := invoice("INV-3", "E-B", "K1", "P1", "center", "2026-03-02", "", "150.00")
	d = decide(wrongKind, &core.InvoiceSummary{Ref: "INV-3", Employees: 1, Providers: 1, FirstSeq: wrongKind.Seq})
	if d.Fault == nil || d.Fault.Column != "employee_id" || d.Fault.Value != "E-B" ||
		d.Fault.Msg != "the employee's plan pays from statements, not invoices" {
		t.Errorf("invoice for a statement plan: fault %+v", d.Fault)
	}
	if d := decide(bl("K1", "center", "2026-03-02", "", "150.00", rowError("service_date", "3/32/2026")), nil); d.Fault != nil {
		t.Errorf("a value that did not parse: fault %+v, want none (the line's Errors say it)", d.Fault)
	}
}

// TestStatesKeepTheirPlace adds states past several chunks and checks
// that each stays where it was first handed out: the engine holds a
// state while it adds others.
func TestStatesKeepTheirPlace(t *testing.T) {
	var s states[employeeState]
	var first []*employeeState
	for i := range 2*stateChunk + 3 {
		p := s.add()
		p.claims = append(p.claims, claim{dependent: uint32(i)})
		first = append(first, p)
	}
	for i, p := range first {
		if q := s.at(uint32(i)); q != p || len(q.claims) != 1 || q.claims[0].dependent != uint32(i) {
			t.Fatalf("state %d moved or changed: %p %+v, first %p", i, q, q.claims, p)
		}
	}
}
