package payout

import (
	"bytes"
	"testing"

	"carepay/core"
)

// TestW2RowSame: rows are the same when every figure is; a plan one row
// lacks is 0.00 there, so a plan configured between two reports changes
// nothing by itself.
func TestW2RowSame(t *testing.T) {
	base := W2Row{EmployeeID: "E1", ByPlan: map[string]core.Cents{"a": 120_00}, EmployerProvided: 120_00, ExclusionLimit: 7500_00}
	withNewPlan := base
	withNewPlan.ByPlan = map[string]core.Cents{"a": 120_00, "b": 0}
	renamed := base
	renamed.EmployeeName = "Ann Ames-Bell"
	moved := base
	moved.ByPlan = map[string]core.Cents{"a": 0, "b": 120_00}
	excess := base
	excess.Excess = 1
	for _, tt := range []struct {
		name string
		o    W2Row
		same bool
	}{
		{"new_plan_at_zero", withNewPlan, true},
		{"renamed", renamed, true},
		{"moved_between_plans", moved, false},
		{"excess", excess, false},
	} {
		if got := base.Same(&tt.o); got != tt.same {
			t.Errorf("%s: Same = %v, want %v", tt.name, got, tt.same)
		}
		if got := tt.o.Same(&base); got != tt.same {
			t.Errorf("%s reversed: Same = %v, want %v", tt.name, got, tt.same)
		}
	}
}

// TestWriteW2EscapesCells: a name a spreadsheet would run is written with
// a leading apostrophe, and money with two decimals.
func TestWriteW2EscapesCells(t *testing.T) {
	var b bytes.Buffer
	rows := []W2Row{{EmployeeID: "E1", EmployeeName: "=HYPERLINK(1)", ByPlan: map[string]core.Cents{"p": 5_00},
		EmployerProvided: 5_00, OtherBenefits: 0, ExclusionLimit: 7500_00, Excess: 0, EarningCode: "DC"}}
	if err := WriteW2(&b, []string{"p"}, rows); err != nil {
		t.Fatal(err)
	}
	want := "employee_id,employee_name,p,employer_provided,other_benefits,exclusion_limit,excess,earning_code\n" +
		"E1,'=HYPERLINK(1),5.00,5.00,0.00,7500.00,0.00,DC\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}
