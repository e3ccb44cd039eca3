package rules

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"carepay/core"
)

// This file holds what the rules tests share: an in-memory Registry and
// History, the three reference plans of config.toml written out in Go, a
// small base world of employees, dependents and providers, and a runner
// that decides the lines of a scenario in order and compares every decision
// with the hand-worked expectation.

// fakeRegistry is the roster, dependents and providers in memory.
type fakeRegistry struct {
	employees  map[string]*core.Employee
	dependents map[string]*core.Dependent // employee_id + "/" + dependent_id
	providers  map[string]*core.Provider
}

func (r *fakeRegistry) Employee(id string) (*core.Employee, bool, error) {
	e, ok := r.employees[id]
	return e, ok, nil
}

func (r *fakeRegistry) Dependent(employeeID, dependentID string) (*core.Dependent, bool, error) {
	d, ok := r.dependents[employeeID+"/"+dependentID]
	return d, ok, nil
}

func (r *fakeRegistry) Provider(id string) (*core.Provider, bool, error) {
	p, ok := r.providers[id]
	return p, ok, nil
}

// fakeHistory is what earlier runs decided: their lines that count and the
// statements approved since.
type fakeHistory struct {
	lines    []core.PriorLine
	approved map[string]bool
	err      error // returned by every call when set
}

func (h *fakeHistory) filter(keep func(*core.PriorLine) bool) ([]core.PriorLine, error) {
	if h.err != nil {
		return nil, h.err
	}
	var out []core.PriorLine
	for i := range h.lines {
		if keep(&h.lines[i]) {
			out = append(out, h.lines[i])
		}
	}
	return out, nil
}

func (h *fakeHistory) EmployeeLines(id string) ([]core.PriorLine, error) {
	return h.filter(func(p *core.PriorLine) bool { return p.EmployeeID == id })
}

func (h *fakeHistory) DependentLines(id string) ([]core.PriorLine, error) {
	return h.filter(func(p *core.PriorLine) bool { return p.DependentID == id })
}

func (h *fakeHistory) StatementApproved(ref string) (bool, error) {
	if h.err != nil {
		return false, h.err
	}
	return h.approved[ref], nil
}

// Plan IDs of the reference plans.
const (
	bright = "bright-backup"
	pinch  = "pinch-hourly"
	jitc   = "jitc-invoice"
)

var childRelationships = []string{"child", "stepchild", "adopted", "foster", "ward", "partner_child"}

// brightBackup is [plans.bright-backup] of config.toml.
func brightBackup() *Plan {
	return &Plan{
		ID: bright, Kind: KindCopay, Name: "Back-up child care",
		Lines: "statement", Payee: "provider", YearStartMonth: 1,
		CareTypes:           []string{"center", "family_child_care", "in_home"},
		Relationships:       slices.Clone(childRelationships),
		MinAgeDays:          42,
		MaxAgeYears:         13,
		RequireRegistration: true,
		WorkdaysOnly:        true,
		MilitaryLeaveExempt: true,
		DaysAfterPeriod:     60,
		DayLimit:            20,
		DayLimitPer:         "dependent",
		MinHours:            4,
		MaxCoveredHours:     10,
		Tiers: []Tier{
			{From: 0, DailyCopay: 1000, FamilyDailyMax: 2500, HourlyCopay: 600},
			{From: 6000000, DailyCopay: 2000, FamilyDailyMax: 5000, HourlyCopay: 800},
			{From: 15000000, DailyCopay: 4000, FamilyDailyMax: 10000, HourlyCopay: 1000},
		},
	}
}

// pinchHourly is [plans.pinch-hourly] of config.toml.
func pinchHourly() *Plan {
	return &Plan{
		ID: pinch, Kind: KindHourly, Name: "Subsidised in-home care",
		Lines: "statement", Payee: "employee", YearStartMonth: 1,
		CareTypes:                []string{"in_home"},
		EmploymentTypes:          []string{"regular_full_time", "regular_part_time"},
		Relationships:            slices.Clone(childRelationships),
		MaxAgeYears:              13,
		SelfCareEligible:         true,
		DaysAfterPeriod:          60,
		RequireApproval:          true,
		MinHours:                 4,
		PlacementHours:           12,
		Placements:               10,
		AnnualCap:                500000,
		CapIncludesOtherBenefits: true,
		Tiers: []Tier{
			{From: 0, HourlyRate: 800},
			{From: 4000000, HourlyRate: 600},
			{From: 7500001, HourlyRate: 400},
		},
	}
}

// jitcInvoice is [plans.jitc-invoice] of config.toml.
func jitcInvoice() *Plan {
	return &Plan{
		ID: jitc, Kind: KindDaily, Name: "Just in Time backup care",
		Lines: "invoice", Payee: "either", YearStartMonth: 1,
		CareTypes:            []string{"center", "family_child_care", "in_home", "adult_care"},
		SubsidyPercent:       80,
		DailyMax:             8000,
		DayLimit:             10,
		DayLimitPer:          "employee",
		ConsecutiveDayLimit:  10,
		DaysAfterLastService: 60,
		DaysAfterYearEnd:     31,
		EnrollmentGraceDays:  30,
		ReenrollAfterYears:   3,
		PaymentDueDays:       28,
	}
}

func referencePlans() map[string]*Plan {
	return map[string]*Plan{bright: brightBackup(), pinch: pinchHourly(), jitc: jitcInvoice()}
}

// d reads a date written as 2026-03-02.
func d(s string) core.Date {
	v, err := core.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return v
}

// world is the registry and history a scenario starts from.
type world struct {
	reg  *fakeRegistry
	hist *fakeHistory
}

func (w *world) employee(id string) *core.Employee {
	e := w.reg.employees[id]
	if e == nil {
		panic("no employee " + id)
	}
	return e
}

func (w *world) dependent(emp, dep string) *core.Dependent {
	x := w.reg.dependents[emp+"/"+dep]
	if x == nil {
		panic("no dependent " + emp + "/" + dep)
	}
	return x
}

func (w *world) addEmployee(id, plan string, income core.Cents) *core.Employee {
	e := &core.Employee{
		ID: id, FirstName: "First " + id, LastName: "Last " + id, PlanID: plan,
		EmploymentType: core.RegularFullTime, AnnualIncome: income,
		EnrolledOn: d("2020-01-02"), LeaveStatus: "none", PaymentMethod: core.MethodCheck,
	}
	w.reg.employees[id] = e
	return e
}

func (w *world) addDependent(emp, id, relationship string, born core.Date) *core.Dependent {
	x := &core.Dependent{
		EmployeeID: emp, ID: id, FirstName: "First " + id, LastName: "Last " + emp,
		BirthDate: born, Relationship: relationship, RegisteredOn: d("2020-01-02"),
	}
	w.reg.dependents[emp+"/"+id] = x
	return x
}

// newWorld returns the base world every scenario starts from. All employees
// are regular_full_time, enrolled 2020-01-02, not on leave; all dependents
// registered 2020-01-02.
//
//	providers P1, P2
//	E-B  bright-backup 85,000.00 (tier 2: 20 a day, family max 50, 8 an hour)
//	     children K1..K4 (born 2016..2022)
//	E-B2 bright-backup 45,000.00 (tier 1: 10 a day, family max 25, 6 an hour),
//	     E-B's spouse: also registered K1 (same dependent_id)
//	E-P  pinch-hourly 39,999.99 (8 an hour), other_benefits 0; child C1
//	     (born 2019), parent G1 (capable), parent G2 (incapable of self care)
//	E-J  jitc-invoice 50,000.00; children J1, J2
//	E-J2 jitc-invoice 50,000.00, J1's other parent: also registered J1
func newWorld() *world {
	w := &world{
		reg: &fakeRegistry{
			employees:  map[string]*core.Employee{},
			dependents: map[string]*core.Dependent{},
			providers:  map[string]*core.Provider{},
		},
		hist: &fakeHistory{approved: map[string]bool{}},
	}
	for _, id := range []string{"P1", "P2"} {
		w.reg.providers[id] = &core.Provider{ID: id, Name: "Provider " + id, PaymentMethod: core.MethodCheck}
	}
	w.addEmployee("E-B", bright, 8500000)
	w.addDependent("E-B", "K1", "child", d("2018-05-01"))
	w.addDependent("E-B", "K2", "stepchild", d("2016-09-10"))
	w.addDependent("E-B", "K3", "adopted", d("2022-07-04"))
	w.addDependent("E-B", "K4", "foster", d("2021-01-15"))
	w.addEmployee("E-B2", bright, 4500000)
	w.addDependent("E-B2", "K1", "child", d("2018-05-01"))

	w.addEmployee("E-P", pinch, 3999999)
	w.addDependent("E-P", "C1", "child", d("2019-06-01"))
	w.addDependent("E-P", "G1", "parent", d("1950-02-01"))
	w.addDependent("E-P", "G2", "parent", d("1948-11-30")).IncapableOfSelf = true

	w.addEmployee("E-J", jitc, 5000000)
	w.addDependent("E-J", "J1", "child", d("2019-02-02"))
	w.addDependent("E-J", "J2", "child", d("2021-02-02"))
	w.addEmployee("E-J2", jitc, 5000000)
	w.addDependent("E-J2", "J1", "child", d("2019-02-02"))
	return w
}

// lineOpt adjusts a line built by stmt or invoice.
type lineOpt func(*core.Line)

// received sets received_on.
func received(s string) lineOpt { return func(l *core.Line) { l.ReceivedOn = d(s) } }

// signed sets both signature dates; "" leaves a signature blank.
func signed(employee, provider string) lineOpt {
	return func(l *core.Line) {
		l.EmployeeSignedOn, l.ProviderSignedOn = 0, 0
		if employee != "" {
			l.EmployeeSignedOn = d(employee)
		}
		if provider != "" {
			l.ProviderSignedOn = d(provider)
		}
	}
}

// payee sets an invoice's payee column.
func payee(s string) lineOpt { return func(l *core.Line) { l.Payee = s } }

// seq sets the arrival order of the line's file within its drop.
func seq(n int) lineOpt { return func(l *core.Line) { l.Seq = n } }

// hours sets the hours as read, negative ones included (which the test
// helpers' ParseHours would refuse).
func hours(h core.Hours) lineOpt { return func(l *core.Line) { l.Hours, l.HasHours = h, true } }

// mileage sets a statement's mileage column.
func mileage(s string) lineOpt { return func(l *core.Line) { l.Mileage = s } }

// rowError marks a value of the line as unparsable.
func rowError(column, value string) lineOpt {
	return func(l *core.Line) {
		l.Errors = append(l.Errors, &core.RowError{File: l.Source, Row: l.Row, Column: column, Value: value, Msg: "not understood"})
	}
}

func newLine(kind core.LineKind, ref, emp, dep, prov, care, date, hours, charge string) *core.Line {
	l := &core.Line{
		Kind: kind, Source: ref + ".csv", Row: 2, Ref: ref,
		EmployeeID: emp, DependentID: dep, ProviderID: prov, CareType: care,
		ServiceDate: d(date),
	}
	if hours != "" {
		h, err := core.ParseHours(hours)
		if err != nil {
			panic(err)
		}
		l.Hours, l.HasHours = h, true
	}
	c, err := core.ParseMoney(charge)
	if err != nil {
		panic(err)
	}
	l.Charged = c
	return l
}

// stmt returns a statement line. Its period is the month of the service
// date and it was received 5 days after the period's end, well within the
// 60 days; opts change that.
func stmt(ref, emp, dep, prov, care, date, hours, charge string, opts ...lineOpt) *core.Line {
	l := newLine(core.Statement, ref, emp, dep, prov, care, date, hours, charge)
	y, m, _ := l.ServiceDate.YMD()
	l.Period = core.Period{Year: y, Month: m}
	l.ReceivedOn = l.Period.Last().AddDays(5)
	for _, o := range opts {
		o(l)
	}
	return l
}

// invoice returns an invoice line signed by both 20 days after its service
// date and received 25 days after it, blank payee (the provider); opts
// change that. Rows of one invoice in a scenario span fewer than 20 days,
// so the default signatures are on or after the invoice's last service.
func invoice(ref, emp, dep, prov, care, date, hours, charge string, opts ...lineOpt) *core.Line {
	l := newLine(core.Invoice, ref, emp, dep, prov, care, date, hours, charge)
	l.EmployeeSignedOn = l.ServiceDate.AddDays(20)
	l.ProviderSignedOn = l.ServiceDate.AddDays(20)
	l.ReceivedOn = l.ServiceDate.AddDays(25)
	for _, o := range opts {
		o(l)
	}
	return l
}

// prior returns a line an earlier run approved: a day of care that used one
// of the plan's days.
func prior(plan, emp, dep, prov, care, date string, employee, employer core.Cents, placements int) core.PriorLine {
	return core.PriorLine{
		PlanID: plan, EmployeeID: emp, DependentID: dep, ProviderID: prov, CareType: care,
		ServiceDate: d(date), Status: core.Approved, CareDay: true, DayUsed: true,
		Placements: placements, EmployeeShare: employee, EmployerShare: employer,
	}
}

// priorDays returns n approved earlier days of care, every other day from
// the date from (so that no two are consecutive), each with the given
// shares and placements.
func priorDays(plan, emp, dep, care, from string, n int, employee, employer core.Cents, placements int) []core.PriorLine {
	var out []core.PriorLine
	for i := 0; i < n; i++ {
		p := prior(plan, emp, dep, "P1", care, from, employee, employer, placements)
		p.ServiceDate = p.ServiceDate.AddDays(2 * i)
		out = append(out, p)
	}
	return out
}

// want is the hand-worked decision of one line.
type want struct {
	status   core.Status
	reasons  []core.Reason
	employee core.Cents
	employer core.Cents
	final    core.Status // FinalStatus, checked for held lines
	payee    string      // "type id", checked when set
}

func approved(employee, employer core.Cents) want {
	return want{status: core.Approved, employee: employee, employer: employer}
}

func partial(employee, employer core.Cents, r ...core.Reason) want {
	return want{status: core.Partial, reasons: r, employee: employee, employer: employer}
}

// rejected: the employer pays nothing and the employee bears the charge.
func rejected(charge core.Cents, r ...core.Reason) want {
	return want{status: core.Rejected, reasons: r, employee: charge, employer: 0}
}

func held(final core.Status, employee, employer core.Cents, r ...core.Reason) want {
	return want{status: core.Held, final: final, reasons: r, employee: employee, employer: employer}
}

func (w want) paidTo(p string) want { w.payee = p; return w }

// step is one line of a scenario and its expected decision.
type step struct {
	line    *core.Line
	approve string // statement approved during the run before this line
	want    want
}

// scenario is one or more runs of the engine: the world it starts from,
// what earlier runs left, and the lines of each run in the order they are
// decided.
type scenario struct {
	name     string
	setup    func(w *world)
	prior    []core.PriorLine
	approved []string // statements approved in earlier runs
	seen     []string // invoice_ids taken in earlier runs, some line not rejected
	steps    []step
	// next are later runs, each with a fresh Engine whose History holds
	// what the runs before it decided.
	next [][]step
}

// summaries builds the InvoiceSummary of every invoice among the lines, as
// the batch gathers it: from the valid rows of the first copy to arrive
// (the lowest seq).
func summaries(steps []step, seen []string) map[string]*core.InvoiceSummary {
	out := map[string]*core.InvoiceSummary{}
	for _, s := range steps {
		if l := s.line; l.Kind == core.Invoice {
			if inv := out[l.Ref]; inv == nil {
				out[l.Ref] = &core.InvoiceSummary{Ref: l.Ref, FirstSeq: l.Seq, SeenBefore: slices.Contains(seen, l.Ref)}
			} else {
				inv.FirstSeq = min(inv.FirstSeq, l.Seq)
			}
		}
	}
	emps, provs := map[string]map[string]bool{}, map[string]map[string]bool{}
	for _, s := range steps {
		l := s.line
		if l.Kind != core.Invoice {
			continue
		}
		inv := out[l.Ref]
		inv.Rows++
		if l.Seq != inv.FirstSeq {
			continue
		}
		if emps[l.Ref] == nil {
			emps[l.Ref], provs[l.Ref] = map[string]bool{}, map[string]bool{}
		}
		// every row names its parties, a row with a bad value too
		if l.EmployeeID != "" {
			emps[l.Ref][l.EmployeeID] = true
		}
		if l.ProviderID != "" {
			provs[l.Ref][l.ProviderID] = true
		}
		inv.Employees, inv.Providers = len(emps[l.Ref]), len(provs[l.Ref])
		if l.Invalid() {
			continue
		}
		if inv.FirstService.IsZero() {
			inv.FirstService, inv.LastService = l.ServiceDate, l.ServiceDate
		}
		inv.FirstService = min(inv.FirstService, l.ServiceDate)
		inv.LastService = max(inv.LastService, l.ServiceDate)
	}
	return out
}

// priorOf is what the ledger keeps of a decided line for later runs; like
// History it keeps lines not rejected and rejected days of care.
func priorOf(l *core.Line, got core.Decision) (core.PriorLine, bool) {
	return core.PriorLine{
		PlanID: got.PlanID, EmployeeID: l.EmployeeID, DependentID: l.DependentID,
		ProviderID: l.ProviderID, CareType: l.CareType, ServiceDate: l.ServiceDate,
		Status: got.Status, CareDay: got.CareDay, DayUsed: got.DayUsed, Placements: got.Placements,
		EmployeeShare: got.EmployeeShare, EmployerShare: got.EmployerShare,
	}, got.Status != core.Rejected || got.CareDay
}

// runScenarios decides each scenario's lines in order and checks every
// decision.
func runScenarios(t *testing.T, cases []scenario) {
	t.Helper()
	names := map[string]bool{}
	for _, tc := range cases {
		if names[tc.name] {
			t.Fatalf("two scenarios named %q", tc.name)
		}
		names[tc.name] = true
		t.Run(tc.name, func(t *testing.T) {
			w := newWorld()
			if tc.setup != nil {
				tc.setup(w)
			}
			w.hist.lines = append(w.hist.lines, tc.prior...)
			for _, ref := range tc.approved {
				w.hist.approved[ref] = true
			}
			seen := slices.Clone(tc.seen)
			for r, steps := range append([][]step{tc.steps}, tc.next...) {
				e := NewEngine(referencePlans(), w.reg, w.hist)
				invs := summaries(steps, seen)
				var decided []core.PriorLine
				taken := map[string]bool{} // invoices with a line not rejected in this run
				for i, s := range steps {
					if s.approve != "" {
						e.ApplyApproval(s.approve)
					}
					got, err := e.Decide(s.line, invs[s.line.Ref])
					if err != nil {
						t.Fatalf("run %d line %d: Decide: %v", r+1, i+1, err)
					}
					what := fmt.Sprintf("run %d line %d (%s %s %s %s)", r+1, i+1, s.line.Ref, s.line.EmployeeID, s.line.DependentID, s.line.ServiceDate)
					checkDecision(t, what, got, s.want)
					if p, ok := priorOf(s.line, got); ok {
						decided = append(decided, p)
					}
					if s.line.Kind == core.Invoice && got.Status != core.Rejected {
						taken[s.line.Ref] = true
					}
				}
				w.hist.lines = append(w.hist.lines, decided...)
				// Like the ledger, a later run sees an invoice only when a
				// line of it was not rejected.
				for ref := range taken {
					seen = append(seen, ref)
				}
			}
		})
	}
}

func checkDecision(t *testing.T, what string, got core.Decision, w want) {
	t.Helper()
	bad := false
	if got.Status != w.status {
		t.Errorf("%s: status %s, want %s", what, got.Status, w.status)
		bad = true
	}
	if !sameReasons(got.Reasons, w.reasons) {
		t.Errorf("%s: reasons [%s], want [%s]", what, got.ReasonList(), reasonList(w.reasons))
		bad = true
	}
	if got.EmployeeShare != w.employee || got.EmployerShare != w.employer {
		t.Errorf("%s: employee %s / employer %s, want %s / %s", what, got.EmployeeShare, got.EmployerShare, w.employee, w.employer)
		bad = true
	}
	if w.status == core.Held && got.FinalStatus != w.final {
		t.Errorf("%s: final status %s, want %s", what, got.FinalStatus, w.final)
		bad = true
	}
	if w.payee != "" {
		if p := got.PayeeType + " " + got.PayeeID; p != w.payee {
			t.Errorf("%s: payee %q, want %q", what, p, w.payee)
			bad = true
		}
	}
	if bad {
		t.Logf("%s: steps:\n  %s", what, strings.ReplaceAll(got.Explanation, "\n", "\n  "))
	}
}

// sameReasons compares reason sets: SPEC.md fixes which codes a line
// carries, not their order. A code listed twice is a difference.
func sameReasons(got, want []core.Reason) bool {
	g, w := slices.Clone(got), slices.Clone(want)
	slices.Sort(g)
	slices.Sort(w)
	return slices.Equal(g, w)
}

func reasonList(rs []core.Reason) string {
	d := core.Decision{Reasons: rs}
	return d.ReasonList()
}

// Sanity of the calendar the scenarios rely on, checked against the
// standard library rather than core.Date.
func TestScenarioCalendar(t *testing.T) {
	for s, wd := range map[string]time.Weekday{
		"2026-03-02": time.Monday, "2026-03-06": time.Friday, "2026-03-07": time.Saturday,
		"2026-03-08": time.Sunday, "2025-12-29": time.Monday, "2026-02-02": time.Monday,
	} {
		tm, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		if tm.Weekday() != wd {
			t.Errorf("%s is a %s, scenarios assume %s", s, tm.Weekday(), wd)
		}
	}
}
