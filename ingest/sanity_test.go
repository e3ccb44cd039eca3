package ingest_test

import (
	"testing"

	"carepay/core"
	"carepay/ingest"
)

// TestSanityLimits covers SPEC.md's sanity limits on service lines: a
// service date after the run date or more than 730 days before it, and a
// charge above limits.max_line_charge, do not parse (INVALID_ROW), with
// the column and the value.
func TestSanityLimits(t *testing.T) {
	// Run date 2026-04-10. 2025-04-10 -> 2026-04-10 spans February 2026
	// (28 days): 365 days. 2024-04-10 -> 2025-04-10 spans February 2025
	// (28 days; 29 February 2024 lies before 2024-04-10): 365 days. So
	// 2024-04-10 is 365 + 365 = 730 days before, accepted; 2024-04-09 is
	// 731 days before, refused.
	runDate := core.NewDate(2026, 4, 10)
	opt := ingest.Options{Arrived: runDate, RunDate: runDate, MaxLineCharge: 5_000_00}
	const tooOld = "is more than 730 days before the run date 2026-04-10 (the earliest accepted is 2024-04-10)"
	const future = "is after the run date 2026-04-10; care cannot be claimed before it took place"
	const tooMuch = "is above the limit of $5,000.00 a line (limits.max_line_charge in config.toml)"

	cases := []struct {
		name string
		row  string
		want []core.RowError // Row and File filled in below
	}{
		{"run_date_itself_accepted", "I1,E1,D1,P1,center,2026-04-10,100.00,2026-04-10,2026-04-10,2026-04-10,,", nil},
		{"day_after_run_date_refused", "I1,E1,D1,P1,center,2026-04-11,100.00,2026-04-11,2026-04-11,2026-04-10,,",
			[]core.RowError{{Column: "service_date", Value: "2026-04-11", Msg: future}}},
		{"730_days_before_accepted", "I1,E1,D1,P1,center,2024-04-10,100.00,2024-04-10,2024-04-10,2026-04-10,,", nil},
		{"731_days_before_refused", "I1,E1,D1,P1,center,2024-04-09,100.00,2024-04-09,2024-04-09,2026-04-10,,",
			[]core.RowError{{Column: "service_date", Value: "2024-04-09", Msg: tooOld}}},
		{"731_days_before_written_us_style", "I1,E1,D1,P1,center,4/9/2024,100.00,2024-04-09,2024-04-09,2026-04-10,,",
			[]core.RowError{{Column: "service_date", Value: "4/9/2024", Msg: tooOld}}},
		{"charge_5000.00_accepted", "I1,E1,D1,P1,center,2026-03-02,\"$5,000.00\",2026-03-03,2026-03-03,2026-03-04,,", nil},
		{"charge_5000.01_refused", "I1,E1,D1,P1,center,2026-03-02,5000.01,2026-03-03,2026-03-03,2026-03-04,,",
			[]core.RowError{{Column: "amount_charged", Value: "5000.01", Msg: tooMuch}}},
		{"future_date_and_charge_both_reported", "I1,E1,D1,P1,center,2027-01-04,\"$12,000\",2027-01-04,2027-01-04,2026-04-10,,",
			[]core.RowError{{Column: "service_date", Value: "2027-01-04", Msg: future}, {Column: "amount_charged", Value: "$12,000", Msg: tooMuch}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rep, recs := readBytes(t, "inv.csv", csvOf(invHeader, tc.row), opt)
			for i := range tc.want {
				tc.want[i].File, tc.want[i].Row = "inv.csv", 2
			}
			wantErrors(t, only(t, rep).Errors, tc.want)
			if got := recs[0].Line.Invalid(); got != (len(tc.want) > 0) {
				t.Errorf("line invalid = %v, want %v", got, len(tc.want) > 0)
			}
		})
	}

	t.Run("statement_rows_too", func(t *testing.T) {
		rep, _ := readBytes(t, "st.csv", csvOf(stmtHeader,
			"S1,P1,2026-04,E1,D1,center,2026-04-13,,120.00",
			"S1,P1,2026-03,E1,D1,center,2026-03-09,,6000.00",
		), opt)
		wantErrors(t, only(t, rep).Errors, []core.RowError{
			{File: "st.csv", Row: 2, Column: "service_date", Value: "2026-04-13", Msg: future},
			{File: "st.csv", Row: 3, Column: "amount_charged", Value: "6000.00", Msg: tooMuch},
		})
	})

	// Without a run date or a limit (the zero Options) nothing is bounded.
	t.Run("zero_options_bound_nothing", func(t *testing.T) {
		rep, _ := readBytes(t, "inv.csv", csvOf(invHeader,
			"I1,E1,D1,P1,center,2030-01-02,9000.00,2030-01-03,2030-01-03,2030-01-04,,"), ingest.Options{})
		wantErrors(t, only(t, rep).Errors, nil)
	})

	// Registry rows are not service lines: an old enrolled_on is fine.
	t.Run("registry_dates_not_bounded", func(t *testing.T) {
		rep, _ := readBytes(t, "emp.csv", csvOf(
			"employee_id,first_name,last_name,plan_id,employment_type,annual_income,enrolled_on",
			"E1,A,B,jitc-invoice,casual,90000,2015-01-01",
		), opt)
		wantErrors(t, only(t, rep).Errors, nil)
	})
}

// TestMileage: mileage is read as money when present; a value that does
// not parse rejects the row with the column and the value.
func TestMileage(t *testing.T) {
	opt := ingest.Options{Arrived: arrived}
	rep, recs := readBytes(t, "st.csv", csvOf(stmtHeader+",mileage",
		"S1,P1,2026-03,E1,D1,in_home,2026-03-09,4,56.00,12.5",
		"S1,P1,2026-03,E1,D1,in_home,2026-03-10,4,56.00,$7.25",
		"S1,P1,2026-03,E1,D1,in_home,2026-03-11,4,56.00,",
		"S1,P1,2026-03,E1,D1,in_home,2026-03-12,4,56.00,12.5 mi",
		"S1,P1,2026-03,E1,D1,in_home,2026-03-13,4,56.00,-3.00",
	), opt)
	wantErrors(t, only(t, rep).Errors, []core.RowError{
		{File: "st.csv", Row: 5, Column: "mileage", Value: "12.5 mi", Msg: "want an amount like 123.45 or $1,234.50"},
		{File: "st.csv", Row: 6, Column: "mileage", Value: "-3.00", Msg: "must not be negative"},
	})
	for i, want := range []bool{false, false, false, true, true} {
		if got := recs[i].Line.Invalid(); got != want {
			t.Errorf("row %d: invalid %v, want %v", recs[i].Row, got, want)
		}
	}
	if recs[0].Line.Mileage != "12.5" || recs[2].Line.Mileage != "" {
		t.Errorf("mileage kept as %q and %q", recs[0].Line.Mileage, recs[2].Line.Mileage)
	}
}

// TestHoursValues: hours with more than two decimals do not parse
// (INVALID_ROW with the column and value); a negative number parses, for
// the rules to refuse as INVALID_HOURS (hours must be above 0).
func TestHoursValues(t *testing.T) {
	opt := ingest.Options{Arrived: arrived}
	rep, recs := readBytes(t, "st.csv", csvOf(stmtHeader,
		"S1,P1,2026-03,E1,D1,in_home,2026-03-09,4.25,56.00",
		"S1,P1,2026-03,E1,D1,in_home,2026-03-10,4.255,56.00",
		"S1,P1,2026-03,E1,D1,in_home,2026-03-11,-4,56.00",
		"S1,P1,2026-03,E1,D1,in_home,2026-03-12,-4.125,56.00",
		"S1,P1,2026-03,E1,D1,in_home,2026-03-13,0,56.00",
	), opt)
	const msg = "want a number of hours like 4.5, at most two decimals"
	wantErrors(t, only(t, rep).Errors, []core.RowError{
		{File: "st.csv", Row: 3, Column: "hours", Value: "4.255", Msg: msg},
		{File: "st.csv", Row: 5, Column: "hours", Value: "-4.125", Msg: msg},
	})
	want := []struct {
		hours core.Hours
		has   bool
	}{{425, true}, {0, false}, {-400, true}, {0, false}, {0, true}}
	for i, w := range want {
		if l := recs[i].Line; l.Hours != w.hours || l.HasHours != w.has {
			t.Errorf("row %d: hours %d (present %v), want %d (%v)", recs[i].Row, l.Hours, l.HasHours, w.hours, w.has)
		}
	}
}

// TestRosterRowThatDoesNotParse: an employees row with a blank plan_id (or
// any value that does not parse) carries errors, so that it is not applied,
// and the errors name the file, row and column for the acknowledgement.
func TestRosterRowThatDoesNotParse(t *testing.T) {
	rep, recs := readBytes(t, "emp.csv", csvOf(
		"employee_id,first_name,last_name,plan_id,employment_type,annual_income,enrolled_on",
		"E1,A,B,,regular_full_time,50000,2025-01-01",
		"E2,A,B,jitc-invoice,regular_full_time,50000,2025-02-30",
		"E3,A,B,jitc-invoice,regular_full_time,50000,2025-01-01",
	), ingest.Options{Arrived: arrived})
	wantErrors(t, only(t, rep).Errors, []core.RowError{
		{File: "emp.csv", Row: 2, Column: "plan_id", Msg: "is blank; a value is required"},
		{File: "emp.csv", Row: 3, Column: "enrolled_on", Value: "2025-02-30", Msg: "want a date like 2026-03-09 or 3/9/2026"},
	})
	for i, want := range []bool{true, true, false} {
		if got := len(recs[i].Errors) > 0; got != want {
			t.Errorf("row %d: has errors %v, want %v", recs[i].Row, got, want)
		}
	}
}
