package rules

import (
	"fmt"

	"carepay/core"
)

// tierStep describes the tier chosen for an employee's income.
func tierStep(p *Plan, income core.Cents) (Tier, string) {
	i := p.TierFor(income)
	t := p.Tiers[i]
	bound := fmt.Sprintf("at or above %s", t.From)
	if i+1 < len(p.Tiers) {
		bound += fmt.Sprintf(", below %s", p.Tiers[i+1].From)
	}
	return t, fmt.Sprintf("tier %d: annual income %s is %s", i+1, income, bound)
}

// billedHours raises hours below the plan's minimum to it.
func billedHours(x *decider, p *Plan) core.Hours {
	h := x.l.Hours
	if min := core.HoursOf(p.MinHours); h < min {
		x.step("billed hours %s raised to the minimum %s", h, min)
		h = min
	}
	x.d.Units = h.String()
	return h
}

// checkDayLimit refuses a new day of care once the plan year's days are
// used. A second line on a day already counted uses no new day.
func checkDayLimit(x *decider, p *Plan, days dayCounter, who string) {
	if p.DayLimit == 0 {
		return
	}
	d := x.l.ServiceDate
	y := p.YearOf(d)
	if days.dayCounted(d) {
		x.step("%s already counted as a day of care for %s", d, who)
		return
	}
	used := days.daysCounted(y)
	if used >= p.DayLimit {
		x.fail(core.DayLimit, "%s has used %d of %d days in plan year %d", who, used, p.DayLimit, y)
		x.d.Status = core.Rejected
		return
	}
	x.d.DayUsed = true
	x.step("day %d of %d for %s in plan year %d", used+1, p.DayLimit, who, y)
}

// decideCopay applies a copay plan (bright-backup): the employee pays a
// copay by tier, the provider is paid the rest of the charge.
func decideCopay(x *decider, p *Plan, emp *core.Employee, es *employeeState, ds *dependentState) {
	l := x.l
	if p.DayLimitPer == "employee" {
		checkDayLimit(x, p, es, "employee "+l.EmployeeID)
	} else {
		checkDayLimit(x, p, ds, "dependent "+l.DependentID)
	}
	if x.d.Status == core.Rejected {
		return
	}
	tier, why := tierStep(p, emp.AnnualIncome)
	x.step("%s", why)
	charge := l.Charged
	var employee core.Cents
	if l.CareType == core.CareInHome {
		billed := billedHours(x, p)
		covered := billed
		if max := core.HoursOf(p.MaxCoveredHours); p.MaxCoveredHours > 0 && billed > max {
			covered = max
			x.fail(core.HoursCapped, "%s hours billed, at most %s covered per day", billed, max)
		}
		copay := covered.Times(tier.HourlyCopay)
		if es.inHomeOn(l.ServiceDate) {
			copay = 0
			x.step("copay already charged on an earlier in-home line of %s: 0.00 here", l.ServiceDate)
		} else {
			x.step("copay %s per hour x %s hours = %s", tier.HourlyCopay, covered, copay)
		}
		uncovered := charge.MulDiv(int64(billed-covered), int64(billed))
		if uncovered > 0 {
			x.step("uncovered share: charge %s x %s uncovered / %s billed hours = %s", charge, billed-covered, billed, uncovered)
		}
		employee = copay + uncovered
	} else {
		copay := tier.DailyCopay
		x.step("copay %s per child per day", copay)
		if max := tier.FamilyDailyMax; max > 0 {
			used := es.copayOn(l.ServiceDate)
			room := core.Max(max-used, 0)
			if room < copay {
				x.step("family maximum %s per day: %s already paid on %s, copay %s", max, used, l.ServiceDate, room)
				copay = room
			}
		}
		employee = copay
	}
	if employee > charge {
		x.step("employee share %s limited to the charge %s", employee, charge)
		employee = charge
	}
	x.d.EmployeeShare = employee
	x.d.EmployerShare = charge - employee
	x.step("employee share %s; employer share %s - %s = %s", employee, charge, employee, x.d.EmployerShare)
}
