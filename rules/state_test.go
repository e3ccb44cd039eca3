package rules

import (
	"math/rand/v2"
	"testing"
	"time"

	"carepay/core"
	"carepay/internal/intern"
)

// stateModel answers what the rules ask of an employee's and a
// dependent's state from the recorded lines themselves, as the rules
// define each question, with no bookkeeping to get wrong.
type stateModel struct {
	p     *Plan
	lines []core.PriorLine
}

func (m *stateModel) used(pr core.PriorLine) bool { return pr.Status != core.Rejected }

func (m *stateModel) claimed(dep, prov string, d core.Date) bool {
	for _, pr := range m.lines {
		if m.used(pr) && pr.DependentID == dep && pr.ProviderID == prov && pr.ServiceDate == d {
			return true
		}
	}
	return false
}

func (m *stateModel) lastUseBefore(d core.Date) core.Date {
	var last core.Date
	for _, pr := range m.lines {
		if m.used(pr) && pr.ServiceDate < d && pr.ServiceDate > last {
			last = pr.ServiceDate
		}
	}
	return last
}

// counted: the days of a day limit per "employee" or "dependent".
func (m *stateModel) counted(per string) map[core.Date]bool {
	days := map[core.Date]bool{}
	for _, pr := range m.lines {
		if m.used(pr) && pr.DayUsed && m.p.DayLimitPer == per {
			days[pr.ServiceDate] = true
		}
	}
	return days
}

func (m *stateModel) countedIn(per string, y int) int {
	n := 0
	for d := range m.counted(per) {
		if m.p.YearOf(d) == y {
			n++
		}
	}
	return n
}

func (m *stateModel) inHomeOn(d core.Date) bool {
	for _, pr := range m.lines {
		if m.used(pr) && pr.CareType == core.CareInHome && pr.ServiceDate == d {
			return true
		}
	}
	return false
}

// copayOn: the employee shares of daily care of a copay plan that day.
func (m *stateModel) copayOn(d core.Date) core.Cents {
	var sum core.Cents
	for _, pr := range m.lines {
		if m.used(pr) && m.p.Kind == KindCopay && pr.CareType != core.CareInHome && pr.ServiceDate == d {
			sum += pr.EmployeeShare
		}
	}
	return sum
}

func (m *stateModel) inYear(y int) (placements int, paid core.Cents) {
	for _, pr := range m.lines {
		if m.used(pr) && m.p.YearOf(pr.ServiceDate) == y {
			placements += pr.Placements
			paid += pr.EmployerShare
		}
	}
	return placements, paid
}

// consecutiveRun counts the days of care, paid or not, ending on d.
func (m *stateModel) consecutiveRun(d core.Date) int {
	care := map[core.Date]bool{}
	for _, pr := range m.lines {
		if pr.CareDay {
			care[pr.ServiceDate] = true
		}
	}
	n := 1
	for day := d.AddDays(-1); care[day]; day = day.AddDays(-1) {
		n++
	}
	return n
}

// TestStateAgreesWithModel records random lines (every status and care
// type, dates repeated and across plan-year boundaries, plans of every
// kind and year start) into an employee's and a dependent's state, and
// after each line asks every question the rules ask of them, comparing
// the answers with the model's.
func TestStateAgreesWithModel(t *testing.T) {
	r := rand.New(rand.NewPCG(8, 2026))
	kinds := []string{KindCopay, KindHourly, KindDaily}
	pers := []string{"employee", "dependent", ""}
	starts := []int{0, 1, 2, 7, 12}
	statuses := []core.Status{core.Approved, core.Partial, core.Rejected, core.Held}
	cares := []string{core.CareCenter, core.CareInHome, core.CareAdult}
	deps, provs := []string{"D1", "D2"}, []string{"P1", "P2"}
	for iter := range 300 {
		p := &Plan{ID: "p", Kind: kinds[r.IntN(3)], DayLimitPer: pers[r.IntN(3)], YearStartMonth: starts[r.IntN(len(starts))]}
		base := core.NewDate(2025, time.Month(1+r.IntN(12)), 1+r.IntN(28))
		span := 3 + r.IntN(60)
		m := &stateModel{p: p}
		es, ds, ids := &employeeState{}, &dependentState{}, &intern.Table{}
		for range 1 + r.IntN(25) {
			pr := core.PriorLine{
				PlanID: p.ID, DependentID: deps[r.IntN(2)], ProviderID: provs[r.IntN(2)],
				CareType: cares[r.IntN(len(cares))], ServiceDate: base.AddDays(r.IntN(span)),
				Status: statuses[r.IntN(len(statuses))], CareDay: r.IntN(3) > 0, DayUsed: r.IntN(3) > 0,
				Placements: r.IntN(3), EmployeeShare: core.Cents(r.IntN(3000)), EmployerShare: core.Cents(r.IntN(9000)),
			}
			m.lines = append(m.lines, pr)
			es.record(p, &pr, ids)
			ds.record(p, &pr)
			for d := base.AddDays(-2); d <= base.AddDays(span+1); d++ {
				for _, dep := range deps {
					for _, prov := range provs {
						if got, want := es.claimed(claimOf(ids, dep, prov, d)), m.claimed(dep, prov, d); got != want {
							t.Fatalf("%d: claimed(%s, %s, %s) = %v, want %v", iter, dep, prov, d, got, want)
						}
					}
				}
				if got, want := es.lastUseBefore(d), m.lastUseBefore(d); got != want {
					t.Fatalf("%d: lastUseBefore(%s) = %s, want %s", iter, d, got, want)
				}
				if got, want := es.dayCounted(d), m.counted("employee")[d]; got != want {
					t.Fatalf("%d: employee dayCounted(%s) = %v, want %v", iter, d, got, want)
				}
				if got, want := ds.dayCounted(d), m.counted("dependent")[d]; got != want {
					t.Fatalf("%d: dependent dayCounted(%s) = %v, want %v", iter, d, got, want)
				}
				if got, want := es.inHomeOn(d), m.inHomeOn(d); got != want {
					t.Fatalf("%d: inHomeOn(%s) = %v, want %v", iter, d, got, want)
				}
				if got, want := es.copayOn(d), m.copayOn(d); got != want {
					t.Fatalf("%d: copayOn(%s) = %s, want %s", iter, d, got, want)
				}
				if got, want := ds.consecutiveRun(d), m.consecutiveRun(d); got != want {
					t.Fatalf("%d: consecutiveRun(%s) = %d, want %d", iter, d, got, want)
				}
			}
			for y := 2024; y <= 2026; y++ {
				if got, want := es.daysCounted(y), m.countedIn("employee", y); got != want {
					t.Fatalf("%d: employee daysCounted(%d) = %d, want %d", iter, y, got, want)
				}
				if got, want := ds.daysCounted(y), m.countedIn("dependent", y); got != want {
					t.Fatalf("%d: dependent daysCounted(%d) = %d, want %d", iter, y, got, want)
				}
				placements, paid := m.inYear(y)
				if got := es.placementsUsed(y); got != placements {
					t.Fatalf("%d: placementsUsed(%d) = %d, want %d", iter, y, got, placements)
				}
				if got := es.paidIn(y); got != paid {
					t.Fatalf("%d: paidIn(%d) = %s, want %s", iter, y, got, paid)
				}
			}
		}
	}
}
