package rules

import (
	"fmt"
	"sort"

	"carepay/core"
	"carepay/internal/intern"
)

// Remaining says, in short phrases for a letter, what is left of plan year
// year for an employee: days per dependent or per employee, placements and
// dollars, whichever limits the plan has. employeeLines are the employee's
// lines that count; dependentLines those of each dependent, by ID,
// whichever employee claimed them.
func Remaining(p *Plan, emp *core.Employee, year int, employeeLines []core.PriorLine, dependentLines map[string][]core.PriorLine, names map[string]string) []string {
	es, ids := &employeeState{}, &intern.Table{}
	for i := range employeeLines {
		if employeeLines[i].PlanID == p.ID {
			es.record(p, &employeeLines[i], ids)
		}
	}
	var out []string
	if p.DayLimit > 0 && p.DayLimitPer == "dependent" {
		ids := make([]string, 0, len(dependentLines))
		for id := range dependentLines {
			ids = append(ids, id)
		}
		sort.Strings(ids)
		for _, id := range ids {
			ds := &dependentState{}
			for i := range dependentLines[id] {
				if pr := &dependentLines[id][i]; pr.PlanID == p.ID {
					ds.record(p, pr)
				}
			}
			name := names[id]
			if name == "" {
				name = id
			}
			out = append(out, fmt.Sprintf("%s: %d of %d days", name, max(p.DayLimit-ds.daysCounted(year), 0), p.DayLimit))
		}
	}
	if p.DayLimit > 0 && p.DayLimitPer == "employee" {
		out = append(out, fmt.Sprintf("%d of %d days", max(p.DayLimit-es.daysCounted(year), 0), p.DayLimit))
	}
	if p.Placements > 0 {
		out = append(out, fmt.Sprintf("%d of %d placements", max(p.Placements-es.placementsUsed(year), 0), p.Placements))
	}
	if p.AnnualCap > 0 {
		left := p.AnnualCap - es.paidIn(year)
		if p.CapIncludesOtherBenefits {
			left -= emp.OtherBenefits
		}
		out = append(out, fmt.Sprintf("%s of %s", core.Max(left, 0).Dollars(), p.AnnualCap.Dollars()))
	}
	return out
}
