package ledger

import (
	"testing"

	"carepay/core"
)

// TestFamCacheGivesBackWhatTheRulesRead: every field the registry loads
// for the rules comes back from the pointer-free records as it went in,
// an ID found missing stays missing, and a forgotten family is looked up
// again.
func TestFamCacheGivesBackWhatTheRulesRead(t *testing.T) {
	c := newFamCache()
	in := core.Employee{ID: "E1", PlanID: "acme", EmploymentType: "part_time", PaymentMethod: "ach", LeaveStatus: "military",
		AnnualIncome: 8_250_000, OtherBenefits: 12_345, EnrolledOn: pd("2025-02-03"), LastUsedOn: pd("2026-11-30")}
	c.putEmployee("E1", &in)
	c.putEmployee("E2", &core.Employee{ID: "E2", PlanID: "acme", EmploymentType: "full_time", PaymentMethod: "check"})
	c.putEmployee("E9", nil)
	got, cached := c.employee("E1")
	if !cached || got == nil || *got != in {
		t.Errorf("E1: got %+v (cached %v), want %+v", got, cached, in)
	}
	if e2, _ := c.employee("E2"); e2.PlanID != "acme" || e2.EmploymentType != "full_time" || e2.PaymentMethod != "check" || e2.LeaveStatus != "" {
		t.Errorf("E2 texts: %+v", e2)
	}
	if got, cached := c.employee("E9"); !cached || got != nil {
		t.Errorf("E9 (missing): got %+v, cached %v; want nil, true", got, cached)
	}
	if _, cached := c.employee("E3"); cached {
		t.Error("E3 was never looked up, but the cache answers for it")
	}
	c.forgetEmployee("E1")
	if c.hasEmployee("E1") {
		t.Error("E1 is still cached after forgetEmployee")
	}
	c.putEmployee("E1", nil) // read again: now gone from the roster
	if got, cached := c.employee("E1"); !cached || got != nil {
		t.Errorf("E1 cached again as missing: got %+v, cached %v", got, cached)
	}
	if len(c.texts) != 7 { // acme, part_time, ach, military, full_time, check, ""
		t.Errorf("texts %q: want each distinct text once", c.texts)
	}

	key := [2]string{"E1", "D1"}
	dep := core.Dependent{EmployeeID: "E1", ID: "D1", Relationship: "parent", IncapableOfSelf: true,
		BirthDate: pd("1950-06-07"), RegisteredOn: pd("2026-01-02")}
	c.putDependent(key, &dep)
	c.putDependent([2]string{"E1", "D2"}, nil)
	if got, cached := c.dependent(key); !cached || got == nil || *got != dep {
		t.Errorf("D1: got %+v (cached %v), want %+v", got, cached, dep)
	}
	if got, cached := c.dependent([2]string{"E1", "D2"}); !cached || got != nil {
		t.Errorf("D2 (missing): got %+v, cached %v", got, cached)
	}
	c.forgetDependent(key)
	if _, cached := c.dependent(key); cached {
		t.Error("D1 is still cached after forgetDependent")
	}
}
