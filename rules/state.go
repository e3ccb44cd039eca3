package rules

import "carepay/core"

// The state kept per employee and per dependent lives for the whole run,
// for every family of the drop, so it is kept in small slices rather than
// maps: a family has a few dozen lines a year, and a linear scan of a
// short slice is both faster and far smaller than a map.

// claim is a day of care an employee claimed: a dependent's, with a
// provider. The IDs are numbered (idNumbers) so that the claims of every
// family, kept for the whole run, hold no pointers for the garbage
// collector to follow.
type claim struct {
	dependent, provider uint32
	date                core.Date
}

// idNumbers numbers the dependent and provider IDs that claims name.
type idNumbers map[string]uint32

func (n idNumbers) claim(dependent, provider string, date core.Date) claim {
	return claim{n.of(dependent), n.of(provider), date}
}

func (n idNumbers) of(id string) uint32 {
	if v, ok := n[id]; ok {
		return v
	}
	v := uint32(len(n))
	n[id] = v
	return v
}

// yearCount counts per plan year.
type yearCount struct {
	year  int
	n     int
	cents core.Cents
}

func yearOf(ys []yearCount, y int) *yearCount {
	for i := range ys {
		if ys[i].year == y {
			return &ys[i]
		}
	}
	return nil
}

func bump(ys []yearCount, y, n int, c core.Cents) []yearCount {
	if yc := yearOf(ys, y); yc != nil {
		yc.n += n
		yc.cents += c
		return ys
	}
	return append(ys, yearCount{year: y, n: n, cents: c})
}

// dateSet is a set of days with a count per plan year.
type dateSet struct {
	days   []core.Date
	byYear []yearCount
}

func hasDate(ds []core.Date, d core.Date) bool {
	for _, x := range ds {
		if x == d {
			return true
		}
	}
	return false
}

func (s *dateSet) has(d core.Date) bool { return hasDate(s.days, d) }

func (s *dateSet) count(year int) int {
	if yc := yearOf(s.byYear, year); yc != nil {
		return yc.n
	}
	return 0
}

func (s *dateSet) add(d core.Date, year int) {
	if !s.has(d) {
		s.days = append(s.days, d)
		s.byYear = bump(s.byYear, year, 1, 0)
	}
}

// dayAmount is money attached to a date (copays paid that day).
type dayAmount struct {
	date  core.Date
	cents core.Cents
}

// employeeState is what one employee has used under one plan, earlier runs
// and this one together.
type employeeState struct {
	claims      []claim     // one per line not rejected
	days        dateSet     // days used when the day limit is per employee
	placements  []yearCount // n: placements used per plan year
	paid        []yearCount // cents: employer shares per plan year
	copays      []dayAmount // employee shares of daily care per date
	inHomeDates []core.Date
}

func (s *employeeState) claimed(c claim) bool {
	for _, x := range s.claims {
		if x == c {
			return true
		}
	}
	return false
}

func (s *employeeState) placementsUsed(y int) int {
	if yc := yearOf(s.placements, y); yc != nil {
		return yc.n
	}
	return 0
}

func (s *employeeState) paidIn(y int) core.Cents {
	if yc := yearOf(s.paid, y); yc != nil {
		return yc.cents
	}
	return 0
}

func (s *employeeState) copayOn(d core.Date) core.Cents {
	var sum core.Cents
	for _, c := range s.copays {
		if c.date == d {
			sum += c.cents
		}
	}
	return sum
}

// record adds a decided line's consumption to the employee's state; ids
// numbers its claim.
func (s *employeeState) record(p *Plan, pr *core.PriorLine, ids idNumbers) {
	if pr.Status == core.Rejected {
		return
	}
	s.recordClaim(p, pr, ids.claim(pr.DependentID, pr.ProviderID, pr.ServiceDate))
}

// recordClaim is record with the line's claim numbered already.
func (s *employeeState) recordClaim(p *Plan, pr *core.PriorLine, c claim) {
	if pr.Status == core.Rejected {
		return
	}
	y := p.YearOf(pr.ServiceDate)
	s.claims = append(s.claims, c)
	if pr.DayUsed && p.DayLimitPer == "employee" {
		s.days.add(pr.ServiceDate, y)
	}
	if pr.Placements != 0 {
		s.placements = bump(s.placements, y, pr.Placements, 0)
	}
	if pr.EmployerShare != 0 {
		s.paid = bump(s.paid, y, 0, pr.EmployerShare)
	}
	switch {
	case pr.CareType == core.CareInHome:
		if !hasDate(s.inHomeDates, pr.ServiceDate) {
			s.inHomeDates = append(s.inHomeDates, pr.ServiceDate)
		}
	case p.Kind == KindCopay && pr.EmployeeShare != 0:
		s.copays = append(s.copays, dayAmount{pr.ServiceDate, pr.EmployeeShare})
	}
}

// lastUseBefore returns the latest use strictly before d, or the zero Date.
func (s *employeeState) lastUseBefore(d core.Date) core.Date {
	var last core.Date
	for _, c := range s.claims { // a claim for each line not rejected
		u := c.date
		if u < d && u > last {
			last = u
		}
	}
	return last
}

// dependentState is what one dependent has used under one plan.
type dependentState struct {
	days     dateSet // days used when the day limit is per dependent
	careDays []core.Date
}

func (s *dependentState) record(p *Plan, pr *core.PriorLine) {
	if pr.CareDay && !hasDate(s.careDays, pr.ServiceDate) {
		s.careDays = append(s.careDays, pr.ServiceDate)
	}
	if pr.Status != core.Rejected && pr.DayUsed && p.DayLimitPer == "dependent" {
		s.days.add(pr.ServiceDate, p.YearOf(pr.ServiceDate))
	}
}

// consecutiveRun returns how many consecutive days of care end on d,
// counting d itself.
func (s *dependentState) consecutiveRun(d core.Date) int {
	n := 1
	for day := d.AddDays(-1); hasDate(s.careDays, day); day = day.AddDays(-1) {
		n++
	}
	return n
}
