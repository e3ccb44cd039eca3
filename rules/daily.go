package rules

import (
	"carepay/core"
)

// decideDaily applies a daily subsidy plan (jitc-invoice): a percentage of
// each day's charge up to a daily maximum, within days per year and a run
// of consecutive days.
func decideDaily(x *decider, p *Plan, es *employeeState, ds *dependentState) {
	l := x.l
	if p.ConsecutiveDayLimit > 0 {
		if n := ds.consecutiveRun(l.ServiceDate); n >= p.ConsecutiveDayLimit {
			x.fail(core.ConsecutiveLimit, "%s is consecutive day %d of care for dependent %s; day %d and later are not covered", l.ServiceDate, n, l.DependentID, p.ConsecutiveDayLimit)
			x.d.Status = core.Rejected
		} else {
			x.step("consecutive day %d of care for dependent %s", n, l.DependentID)
		}
	}
	if p.DayLimitPer == "dependent" {
		checkDayLimit(x, p, ds, "dependent "+l.DependentID)
	} else {
		checkDayLimit(x, p, es, "employee "+l.EmployeeID)
	}
	if x.d.Status == core.Rejected {
		x.d.DayUsed = false
		return
	}
	pay := l.Charged.MulDiv(int64(p.SubsidyPercent), 100)
	x.step("%d%% of %s = %s", p.SubsidyPercent, l.Charged, pay)
	if p.DailyMax > 0 && pay > p.DailyMax {
		x.step("limited to the daily maximum %s", p.DailyMax)
		pay = p.DailyMax
	}
	x.d.EmployerShare = pay
	x.d.EmployeeShare = l.Charged - pay
	x.step("employer share %s; employee share %s - %s = %s", pay, l.Charged, pay, x.d.EmployeeShare)
}
