package rules

import (
	"carepay/core"
	"carepay/internal/intern"
)

// The state kept per employee and per dependent lives for the whole run,
// for every family of the drop: at a million lines, hundreds of thousands
// of them. It is kept small and without pointers where it can be: a state
// is a few short slices of flat records (a family has a few dozen lines a
// year, and a linear scan of a short slice is both faster and far smaller
// than a map), the states sit in chunks (states) per plan, found by the
// number their ID gets in the plan's intern.Table, and claims name
// dependents and providers by number.

// claim is a day of care an employee claimed: a dependent's, with a
// provider, both numbered by the engine's ids.
type claim struct {
	dependent, provider uint32
	date                core.Date
}

// claimOf numbers a line's claim in ids.
func claimOf(ids *intern.Table, dependent, provider string, date core.Date) claim {
	d, _ := ids.Number(dependent)
	p, _ := ids.Number(provider)
	return claim{d, p, date}
}

// dayUse is what an employee used on one date.
type dayUse struct {
	copay core.Cents // employee shares of daily (copay) care that date
	date  core.Date
	year  int16 // date's plan year (a four-digit year)
	flags uint8
}

// The flags of a dayUse.
const (
	dayCounted uint8 = 1 << iota // a day of the plan's day limit per employee
	dayInHome                    // a day with in-home care
)

// yearUse is what an employee used in one plan year.
type yearUse struct {
	paid       core.Cents // employer shares
	year       int32
	placements int32
}

// employeeState is what one employee has used under one plan, earlier runs
// and this one together.
type employeeState struct {
	claims []claim // one per line not rejected
	days   []dayUse
	years  []yearUse
}

func (s *employeeState) claimed(c claim) bool {
	for _, x := range s.claims {
		if x == c {
			return true
		}
	}
	return false
}

// day returns what the employee used on d, or nil if nothing yet.
func (s *employeeState) day(d core.Date) *dayUse {
	for i := range s.days {
		if s.days[i].date == d {
			return &s.days[i]
		}
	}
	return nil
}

// year returns what the employee used in plan year y, adding an empty
// record for a year not met yet (only recording calls it).
func (s *employeeState) year(y int) *yearUse {
	for i := range s.years {
		if int(s.years[i].year) == y {
			return &s.years[i]
		}
	}
	s.years = append(s.years, yearUse{year: int32(y)})
	return &s.years[len(s.years)-1]
}

// dayCounted reports whether d is counted already against a day limit
// per employee.
func (s *employeeState) dayCounted(d core.Date) bool {
	u := s.day(d)
	return u != nil && u.flags&dayCounted != 0
}

// daysCounted is how many days plan year y counts against a day limit
// per employee.
func (s *employeeState) daysCounted(y int) int {
	n := 0
	for _, u := range s.days {
		if u.flags&dayCounted != 0 && int(u.year) == y {
			n++
		}
	}
	return n
}

func (s *employeeState) inHomeOn(d core.Date) bool {
	u := s.day(d)
	return u != nil && u.flags&dayInHome != 0
}

func (s *employeeState) placementsUsed(y int) int {
	for _, u := range s.years {
		if int(u.year) == y {
			return int(u.placements)
		}
	}
	return 0
}

func (s *employeeState) paidIn(y int) core.Cents {
	for _, u := range s.years {
		if int(u.year) == y {
			return u.paid
		}
	}
	return 0
}

func (s *employeeState) copayOn(d core.Date) core.Cents {
	if u := s.day(d); u != nil {
		return u.copay
	}
	return 0
}

// record adds a decided line's consumption to the employee's state; ids
// numbers its claim.
func (s *employeeState) record(p *Plan, pr *core.PriorLine, ids *intern.Table) {
	if pr.Status == core.Rejected {
		return
	}
	s.recordClaim(p, pr, claimOf(ids, pr.DependentID, pr.ProviderID, pr.ServiceDate))
}

// recordClaim is record with the line's claim numbered already.
func (s *employeeState) recordClaim(p *Plan, pr *core.PriorLine, c claim) {
	if pr.Status == core.Rejected {
		return
	}
	y := p.YearOf(pr.ServiceDate)
	s.claims = append(s.claims, c)
	var flags uint8
	var copay core.Cents
	if pr.DayUsed && p.DayLimitPer == "employee" {
		flags |= dayCounted
	}
	switch {
	case pr.CareType == core.CareInHome:
		flags |= dayInHome
	case p.Kind == KindCopay:
		copay = pr.EmployeeShare
	}
	if flags != 0 || copay != 0 {
		u := s.day(pr.ServiceDate)
		if u == nil {
			s.days = append(s.days, dayUse{date: pr.ServiceDate, year: int16(y)})
			u = &s.days[len(s.days)-1]
		}
		u.flags |= flags
		u.copay += copay
	}
	if pr.Placements != 0 || pr.EmployerShare != 0 {
		u := s.year(y)
		u.placements += int32(pr.Placements)
		u.paid += pr.EmployerShare
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

// depDay is what a dependent used on one date.
type depDay struct {
	date    core.Date
	year    int16 // date's plan year (a four-digit year)
	care    bool  // a day of care, paid or not
	counted bool  // a day of the plan's day limit per dependent
}

// dependentState is what one dependent has used under one plan.
type dependentState struct {
	days []depDay
}

// day returns what the dependent used on d, or nil if nothing yet.
func (s *dependentState) day(d core.Date) *depDay {
	for i := range s.days {
		if s.days[i].date == d {
			return &s.days[i]
		}
	}
	return nil
}

func (s *dependentState) record(p *Plan, pr *core.PriorLine) {
	care := pr.CareDay
	counted := pr.Status != core.Rejected && pr.DayUsed && p.DayLimitPer == "dependent"
	if !care && !counted {
		return
	}
	u := s.day(pr.ServiceDate)
	if u == nil {
		s.days = append(s.days, depDay{date: pr.ServiceDate, year: int16(p.YearOf(pr.ServiceDate))})
		u = &s.days[len(s.days)-1]
	}
	u.care = u.care || care
	u.counted = u.counted || counted
}

// dayCounted reports whether d is counted already against a day limit
// per dependent.
func (s *dependentState) dayCounted(d core.Date) bool {
	u := s.day(d)
	return u != nil && u.counted
}

// daysCounted is how many days plan year y counts against a day limit
// per dependent.
func (s *dependentState) daysCounted(y int) int {
	n := 0
	for _, u := range s.days {
		if u.counted && int(u.year) == y {
			n++
		}
	}
	return n
}

// consecutiveRun returns how many consecutive days of care end on d,
// counting d itself.
func (s *dependentState) consecutiveRun(d core.Date) int {
	n := 1
	for day := d.AddDays(-1); ; day = day.AddDays(-1) {
		if u := s.day(day); u == nil || !u.care {
			return n
		}
		n++
	}
}

// dayCounter is what a day limit reads: an employee's or a dependent's
// state, as the plan counts days per one or the other.
type dayCounter interface {
	dayCounted(d core.Date) bool
	daysCounted(year int) int
}

// stateChunk is how many states a chunk of states holds.
const stateChunk = 4096

// states keeps the states of numbered employees or dependents in chunks:
// a state's address never changes as more are added.
type states[T any] struct {
	chunks [][]T
	n      int
}

// add appends a zero state and returns it; its number is the count of
// states before it.
func (s *states[T]) add() *T {
	if s.n%stateChunk == 0 {
		s.chunks = append(s.chunks, make([]T, stateChunk))
	}
	p := &s.chunks[s.n/stateChunk][s.n%stateChunk]
	s.n++
	return p
}

// at returns state n.
func (s *states[T]) at(n uint32) *T { return &s.chunks[n/stateChunk][n%stateChunk] }
