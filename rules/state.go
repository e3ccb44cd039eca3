package rules

import "carepay/core"

type claimKey struct {
	dependent, provider string
	date                core.Date
}

// dateSet is a set of days with a count per plan year.
type dateSet struct {
	days   map[core.Date]bool
	byYear map[int]int
}

func (s *dateSet) has(d core.Date) bool { return s.days[d] }

func (s *dateSet) add(d core.Date, year int) {
	if s.days == nil {
		s.days = map[core.Date]bool{}
		s.byYear = map[int]int{}
	}
	if !s.days[d] {
		s.days[d] = true
		s.byYear[year]++
	}
}

// employeeState is what one employee has used under one plan, earlier runs
// and this one together.
type employeeState struct {
	claims      map[claimKey]bool
	uses        []core.Date // service dates of lines that were not rejected
	days        dateSet     // days used when the day limit is per employee
	placements  map[int]int
	paid        map[int]core.Cents // employer shares per plan year
	copayOn     map[core.Date]core.Cents
	inHomeDates map[core.Date]bool
}

// dependentState is what one dependent has used under one plan.
type dependentState struct {
	days     dateSet // days used when the day limit is per dependent
	careDays map[core.Date]bool
}

func newEmployeeState() *employeeState {
	return &employeeState{
		claims:      map[claimKey]bool{},
		placements:  map[int]int{},
		paid:        map[int]core.Cents{},
		copayOn:     map[core.Date]core.Cents{},
		inHomeDates: map[core.Date]bool{},
	}
}

// record adds a decided line's consumption to the employee's state.
func (s *employeeState) record(p *Plan, pr *core.PriorLine) {
	if pr.Status == core.Rejected {
		return
	}
	y := p.YearOf(pr.ServiceDate)
	s.claims[claimKey{pr.DependentID, pr.ProviderID, pr.ServiceDate}] = true
	s.uses = append(s.uses, pr.ServiceDate)
	if pr.DayUsed && p.DayLimitPer == "employee" {
		s.days.add(pr.ServiceDate, y)
	}
	s.placements[y] += pr.Placements
	s.paid[y] += pr.EmployerShare
	if pr.CareType == core.CareInHome {
		s.inHomeDates[pr.ServiceDate] = true
	} else {
		s.copayOn[pr.ServiceDate] += pr.EmployeeShare
	}
}

// lastUseBefore returns the latest use strictly before d, or the zero Date.
func (s *employeeState) lastUseBefore(d core.Date) core.Date {
	var last core.Date
	for _, u := range s.uses {
		if u < d && u > last {
			last = u
		}
	}
	return last
}

func (s *dependentState) record(p *Plan, pr *core.PriorLine) {
	if pr.CareDay {
		if s.careDays == nil {
			s.careDays = map[core.Date]bool{}
		}
		s.careDays[pr.ServiceDate] = true
	}
	if pr.Status != core.Rejected && pr.DayUsed && p.DayLimitPer == "dependent" {
		s.days.add(pr.ServiceDate, p.YearOf(pr.ServiceDate))
	}
}

// consecutiveRun returns how many consecutive days of care end on d,
// counting d itself.
func (s *dependentState) consecutiveRun(d core.Date) int {
	n := 1
	for day := d.AddDays(-1); s.careDays[day]; day = day.AddDays(-1) {
		n++
	}
	return n
}
