package rules

import (
	"carepay/core"
)

// decideHourly applies an hourly reimbursement plan (pinch-hourly): the
// employer pays a rate per covered hour by tier, within placements per year
// and a yearly cap shared with other dependent-care benefits.
func decideHourly(x *decider, p *Plan, emp *core.Employee, es *employeeState) {
	l := x.l
	y := p.YearOf(l.ServiceDate)
	tier, why := tierStep(p, emp.AnnualIncome)
	x.step("%s: employer pays %s per hour", why, tier.HourlyRate)
	billed := billedHours(x, p)
	covered := billed
	need := 1
	if ph := core.HoursOf(p.PlacementHours); p.PlacementHours > 0 && billed > ph {
		need = 2
		x.step("%s hours is over %s: two placements", billed, ph)
	}
	if p.Placements > 0 {
		left := p.Placements - es.placementsUsed(y)
		switch {
		case left <= 0:
			x.fail(core.PlacementLimit, "all %d placements of plan year %d are used", p.Placements, y)
			x.d.Status = core.Rejected
		case left < need:
			covered = core.HoursOf(p.PlacementHours * left)
			x.fail(core.PlacementLimit, "needs %d placements, %d left of %d: %s hours covered", need, left, p.Placements, covered)
			need = left
		default:
			if used := es.placementsUsed(y); need == 1 {
				x.step("placement %d of %d in plan year %d", used+1, p.Placements, y)
			} else {
				x.step("placements %d and %d of %d in plan year %d", used+1, used+2, p.Placements, y)
			}
		}
	}
	x.d.Placements = need
	var room core.Cents = -1 // no cap
	if p.AnnualCap > 0 {
		var other core.Cents
		if p.CapIncludesOtherBenefits {
			other = emp.OtherBenefits
		}
		if other >= p.AnnualCap {
			x.fail(core.BenefitMaxed, "other dependent-care benefits %s reach the annual cap %s", other, p.AnnualCap)
			x.d.Status = core.Rejected
			return
		}
		room = p.AnnualCap - other - es.paidIn(y)
		if room <= 0 {
			x.fail(core.AnnualCap, "annual cap %s reached: other benefits %s + reimbursed %s", p.AnnualCap, other, es.paidIn(y))
			x.d.Status = core.Rejected
			return
		}
		x.step("annual cap %s - other benefits %s - reimbursed %s = %s left", p.AnnualCap, other, es.paidIn(y), room)
	}
	if x.d.Status == core.Rejected {
		return
	}
	pay := covered.Times(tier.HourlyRate)
	x.step("%s per hour x %s hours = %s", tier.HourlyRate, covered, pay)
	if pay > l.Charged {
		x.step("limited to the charge %s", l.Charged)
		pay = l.Charged
	}
	if room >= 0 && pay > room {
		x.fail(core.AnnualCap, "reimbursement %s is above the %s left under the annual cap", pay, room)
		pay = room
	}
	x.d.EmployerShare = pay
	x.d.EmployeeShare = l.Charged - pay
	x.step("employer share %s; employee share %s - %s = %s (mileage is never reimbursed)", pay, l.Charged, pay, x.d.EmployeeShare)
}
