package rules

import (
	"bytes"
	"fmt"
	"reflect"
	"slices"
	"strconv"

	"carepay/core"
	"carepay/internal/intern"
)

// Engine decides service lines in the order they are given, keeping what
// each employee and dependent has used. One Engine serves one run, on
// one goroutine.
type Engine struct {
	plans map[string]*Plan
	reg   Registry
	hist  History

	byPlan   map[*Plan]*planStates
	ids      intern.Table // the dependents and providers of claims
	approved map[string]bool
	steps    bytes.Buffer // the explanation being written
}

// planStates are the states of the employees and dependents met under one
// plan, by the number their ID has in empNo and depNo.
type planStates struct {
	empNo, depNo intern.Table
	emps         states[employeeState]
	deps         states[dependentState]
}

func (e *Engine) statesOf(p *Plan) *planStates {
	s := e.byPlan[p]
	if s == nil {
		s = &planStates{}
		e.byPlan[p] = s
	}
	return s
}

// NewEngine returns an Engine for the given plans, keyed by plan ID.
func NewEngine(plans map[string]*Plan, reg Registry, hist History) *Engine {
	return &Engine{
		plans:    plans,
		reg:      reg,
		hist:     hist,
		byPlan:   map[*Plan]*planStates{},
		approved: map[string]bool{},
	}
}

// decider carries one line through the rules, recording each step.
type decider struct {
	l     *core.Line
	inv   *core.InvoiceSummary
	d     core.Decision
	steps *bytes.Buffer // the engine's, reused line after line
	claim claim         // the line's, numbered by checkCommon
}

// step adds a line to the explanation. Every line of every run gets one,
// so it writes into one buffer rather than a string per step.
func (x *decider) step(format string, a ...any) {
	if x.steps.Len() > 0 {
		x.steps.WriteByte('\n')
	}
	stepf(x.steps, format, a...)
}

// stepf is fmt.Fprintf for the verbs explanations use (%s, %d, %%), a
// tenth of a decision's time cheaper: strings, Stringers (money, hours,
// dates) and integers are written as fmt writes them. A format with any
// other verb, flag or width, or an argument of another kind, goes to fmt
// whole.
func stepf(b *bytes.Buffer, format string, a ...any) {
	if !plainFormat(format, a) {
		fmt.Fprintf(b, format, a...)
		return
	}
	n, lit := 0, 0 // lit: where the text not yet written begins
	var num [24]byte
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		b.WriteString(format[lit:i])
		i++
		lit = i + 1
		if format[i] == '%' {
			b.WriteByte('%')
			continue
		}
		arg := a[n]
		n++
		if format[i] == 'd' {
			b.Write(strconv.AppendInt(num[:0], reflect.ValueOf(arg).Int(), 10))
			continue
		}
		switch v := arg.(type) {
		case string:
			b.WriteString(v)
		case core.Cents:
			b.Write(v.Append(num[:0]))
		case fmt.Stringer:
			b.WriteString(v.String())
		default:
			b.WriteString(reflect.ValueOf(arg).String())
		}
	}
	b.WriteString(format[lit:])
}

// plainFormat reports whether stepf can write format with a itself: only
// %s, %d and %%, one argument per verb, %s of a string, a Stringer or a
// string kind, %d of a signed integer kind that is no Formatter.
func plainFormat(format string, a []any) bool {
	n := 0
	for i := 0; i < len(format); i++ {
		if format[i] != '%' {
			continue
		}
		i++
		if i == len(format) {
			return false
		}
		verb := format[i]
		if verb == '%' {
			continue
		}
		if n == len(a) {
			return false
		}
		arg := a[n]
		n++
		if _, ok := arg.(fmt.Formatter); ok || arg == nil {
			return false
		}
		if _, ok := arg.(error); ok {
			return false // fmt prefers Error to String
		}
		switch verb {
		case 's':
			if _, ok := arg.(fmt.Stringer); ok {
				if v := reflect.ValueOf(arg); v.Kind() == reflect.Pointer && v.IsNil() {
					return false
				}
				continue
			}
			if reflect.ValueOf(arg).Kind() != reflect.String {
				return false
			}
		case 'd':
			switch reflect.ValueOf(arg).Kind() {
			case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
			default:
				return false
			}
		default:
			return false
		}
	}
	return n == len(a)
}

func (x *decider) fail(r core.Reason, format string, a ...any) {
	x.d.Add(r)
	x.step(string(r)+": "+format, a...)
}

// Decide returns the decision for l and records what it consumed. inv
// summarises l's invoice (nil for statement lines). An error means the
// history could not be read; the line is then undecided.
func (e *Engine) Decide(l *core.Line, inv *core.InvoiceSummary) (core.Decision, error) {
	// The explanation is written into the engine's buffer and copied out
	// whole: one allocation of its size per line.
	e.steps.Reset()
	x := &decider{l: l, inv: inv, steps: &e.steps}
	x.d.Units = unitsOf(l)
	x.step("%s %s row %d: %s, %s, charged %s", l.Kind, l.Ref, l.Row, l.CareType, l.ServiceDate, l.Charged)
	if err := e.decide(x); err != nil {
		return core.Decision{}, err
	}
	d := &x.d
	if len(d.Reasons) > 0 && d.Status == "" {
		d.Status = core.Rejected
	}
	if d.Status == core.Rejected {
		d.EmployerShare, d.EmployeeShare = 0, l.Charged
		d.Placements, d.DayUsed = 0, false
		x.step("rejected: employer pays 0.00, employee share is the whole charge %s", l.Charged)
	}
	d.Explanation = x.steps.String()
	return *d, nil
}

func (e *Engine) decide(x *decider) error {
	l := x.l
	if l.Invalid() {
		for _, err := range l.Errors {
			x.fail(core.InvalidRow, "%s", err.Error())
		}
		return nil
	}
	if inv := x.inv; inv != nil {
		if inv.SeenBefore {
			x.fail(core.Duplicate, "invoice %s was taken in an earlier run and not every line of it was rejected; the whole invoice is a duplicate", l.Ref)
			return nil
		}
		if inv.FirstSeq != l.Seq {
			x.fail(core.Duplicate, "invoice %s came in an earlier file of this drop, which wins; this copy is a duplicate as a whole", l.Ref)
			return nil
		}
		if inv.Employees > 1 || inv.Providers > 1 {
			x.fail(core.InvalidRow, "the rows of invoice %s name %d employees and %d providers; an invoice is for one employee and one provider", l.Ref, inv.Employees, inv.Providers)
			x.d.Fault = &core.RowError{File: l.Source, Row: l.Row, Column: "invoice_id", Value: l.Ref,
				Msg: fmt.Sprintf("the rows of this invoice name %d employees and %d providers; an invoice is for one employee and one provider", inv.Employees, inv.Providers)}
			return nil
		}
	}
	emp, ok, err := e.reg.Employee(l.EmployeeID)
	if err != nil {
		return err
	}
	if !ok {
		x.fail(core.NotEnrolled, "employee %s is not in the roster", l.EmployeeID)
		return nil
	}
	p := e.plans[emp.PlanID]
	if p == nil {
		x.fail(core.UnknownPlan, "employee %s has plan %q, which config.toml does not define", emp.ID, emp.PlanID)
		return nil
	}
	x.d.PlanID = p.ID
	if p.Lines != string(l.Kind) {
		x.fail(core.InvalidRow, "plan %s pays from %ss, not %ss", p.ID, p.Lines, l.Kind)
		x.d.Fault = &core.RowError{File: l.Source, Row: l.Row, Column: "employee_id", Value: l.EmployeeID,
			Msg: fmt.Sprintf("the employee's plan pays from %ss, not %ss", p.Lines, l.Kind)}
		return nil
	}
	x.step("plan %s (%s)", p.ID, p.Kind)
	es, err := e.employee(p, emp.ID)
	if err != nil {
		return err
	}

	x.d.PayeeType, x.d.PayeeID = payeeOf(p, l, emp)
	if err := e.checkCommon(x, p, emp, es); err != nil {
		return err
	}
	dep, ok, err := e.reg.Dependent(emp.ID, l.DependentID)
	if err != nil {
		return err
	}
	if !ok {
		x.fail(core.DependentUnknown, "dependent %s is not registered to employee %s", l.DependentID, emp.ID)
	} else {
		checkDependent(x, p, dep)
	}
	if len(x.d.Reasons) > 0 {
		return nil
	}

	ds, err := e.dependent(p, l.DependentID)
	if err != nil {
		return err
	}
	switch p.Kind {
	case KindCopay:
		decideCopay(x, p, emp, es, ds)
	case KindHourly:
		decideHourly(x, p, emp, es)
	case KindDaily:
		decideDaily(x, p, es, ds)
	}
	// Every line that reached the plan's own rules was a day of care, even
	// when a limit refused to pay for it.
	x.d.CareDay = true
	if x.d.Status == "" {
		x.d.Status = core.Approved
		if len(x.d.Reasons) > 0 {
			x.d.Status = core.Partial
		}
		if x.d.Status != core.Rejected && p.RequireApproval {
			if err := e.hold(x); err != nil {
				return err
			}
		}
	}
	e.record(p, x, es, ds)
	return nil
}

// checkCommon applies the checks SPEC.md names for every plan.
func (e *Engine) checkCommon(x *decider, p *Plan, emp *core.Employee, es *employeeState) error {
	l := x.l
	if x.d.PayeeType == core.PayeeProvider || l.Kind == core.Statement {
		if _, ok, err := e.reg.Provider(l.ProviderID); err != nil {
			return err
		} else if !ok {
			x.fail(core.ProviderUnknown, "provider %s is not in the provider registry", l.ProviderID)
		}
	}
	if len(p.EmploymentTypes) > 0 && !slices.Contains(p.EmploymentTypes, emp.EmploymentType) {
		x.fail(core.EmployeeIneligible, "employment type %s is not eligible (plan allows %v)", emp.EmploymentType, p.EmploymentTypes)
	}
	checkEnrolment(x, p, emp)
	if p.ReenrollAfterYears > 0 {
		last := es.lastUseBefore(l.ServiceDate)
		if emp.LastUsedOn > last && emp.LastUsedOn < l.ServiceDate {
			last = emp.LastUsedOn
		}
		cutoff := l.ServiceDate.AddYears(-p.ReenrollAfterYears)
		if !last.IsZero() && last < cutoff && emp.EnrolledOn <= last {
			x.fail(core.EnrollmentLapsed, "last use %s is more than %d years before %s and enrolment (%s) is not after it", last, p.ReenrollAfterYears, l.ServiceDate, emp.EnrolledOn)
		}
	}
	if p.WorkdaysOnly {
		wd := l.ServiceDate.Weekday()
		if wd == 0 || wd == 6 {
			if p.MilitaryLeaveExempt && emp.OnMilitaryLeave() {
				x.step("%s is a %s; allowed: employee on military leave", l.ServiceDate, wd)
			} else {
				x.fail(core.NotWorkday, "%s is a %s; care is covered Monday to Friday", l.ServiceDate, wd)
			}
		}
	}
	switch {
	case l.HasHours && (l.Hours <= 0 || l.Hours > core.HoursOf(24)):
		x.fail(core.InvalidHours, "%s hours; want above 0 and at most 24", l.Hours)
	case !l.HasHours && (l.CareType == core.CareInHome || p.Kind == KindHourly):
		x.fail(core.InvalidHours, "hours missing; %s care is paid by the hour", l.CareType)
	}
	if l.Kind == core.Invoice {
		checkSignatures(x)
	}
	checkDeadline(x, p)
	x.claim = claimOf(&e.ids, l.DependentID, l.ProviderID, l.ServiceDate)
	if es.claimed(x.claim) {
		x.fail(core.Duplicate, "employee %s, dependent %s, provider %s, %s was claimed before", emp.ID, l.DependentID, l.ProviderID, l.ServiceDate)
	}
	return nil
}

// checkEnrolment applies the enrolment date: enrolled on or before the
// line's service date, or, for a plan with an enrolment window (jitc-invoice),
// no later than that many days after the invoice's first service date.
func checkEnrolment(x *decider, p *Plan, emp *core.Employee) {
	l := x.l
	if emp.EnrolledOn.IsZero() {
		x.fail(core.NotEnrolled, "employee %s has no enrolled_on date", emp.ID)
		return
	}
	if p.EnrollmentGraceDays == 0 {
		if emp.EnrolledOn > l.ServiceDate {
			x.fail(core.NotEnrolled, "enrolled on %s, after the service date %s", emp.EnrolledOn, l.ServiceDate)
		}
		return
	}
	first := l.ServiceDate
	if x.inv != nil {
		first = x.inv.FirstService
	}
	if limit := first.AddDays(p.EnrollmentGraceDays); emp.EnrolledOn > limit {
		x.fail(core.NotEnrolled, "enrolled on %s, after %s (first service %s + %d days)", emp.EnrolledOn, limit, first, p.EnrollmentGraceDays)
	}
}

func checkSignatures(x *decider) {
	l, last := x.l, x.l.ServiceDate
	if x.inv != nil {
		last = x.inv.LastService
	}
	if l.EmployeeSignedOn.IsZero() {
		x.fail(core.UnsignedEmployee, "employee_signed_on is blank")
	} else if l.EmployeeSignedOn < last {
		x.fail(core.SignedBeforeService, "employee signed on %s, before the last service date %s", l.EmployeeSignedOn, last)
	}
	if l.ProviderSignedOn.IsZero() {
		x.fail(core.UnsignedProvider, "provider_signed_on is blank")
	} else if l.ProviderSignedOn < last {
		x.fail(core.SignedBeforeService, "provider signed on %s, before the last service date %s", l.ProviderSignedOn, last)
	}
}

func checkDeadline(x *decider, p *Plan) {
	l := x.l
	if l.ReceivedOn.IsZero() {
		return
	}
	if l.Kind == core.Statement && p.DaysAfterPeriod > 0 {
		due := l.Period.Last().AddDays(p.DaysAfterPeriod)
		if l.ReceivedOn > due {
			x.fail(core.Late, "received %s, after %s (period %s ends %s + %d days)", l.ReceivedOn, due, l.Period, l.Period.Last(), p.DaysAfterPeriod)
		}
	}
	first, last := l.ServiceDate, l.ServiceDate
	if x.inv != nil {
		first, last = x.inv.FirstService, x.inv.LastService
	}
	if l.Kind == core.Invoice && p.DaysAfterLastService > 0 {
		due := last.AddDays(p.DaysAfterLastService)
		if l.ReceivedOn > due {
			x.fail(core.Late, "received %s, after %s (last service %s + %d days)", l.ReceivedOn, due, last, p.DaysAfterLastService)
		}
	}
	if p.DaysAfterYearEnd > 0 {
		end := p.YearEnd(p.YearOf(first))
		due := end.AddDays(p.DaysAfterYearEnd)
		if l.ReceivedOn > due {
			x.fail(core.Late, "received %s, after %s (plan year ends %s + %d days)", l.ReceivedOn, due, end, p.DaysAfterYearEnd)
		}
	}
}

func checkDependent(x *decider, p *Plan, dep *core.Dependent) {
	l := x.l
	if !slices.Contains(p.CareTypes, l.CareType) {
		x.fail(core.DependentIneligible, "plan %s does not cover %s care", p.ID, l.CareType)
	}
	if p.SelfCareEligible && dep.IncapableOfSelf {
		x.step("dependent %s is incapable of self care: eligible whatever the age and relationship", dep.ID)
	} else {
		if len(p.Relationships) > 0 && !slices.Contains(p.Relationships, dep.Relationship) {
			x.fail(core.DependentIneligible, "relationship %s is not covered (plan allows %v)", dep.Relationship, p.Relationships)
		}
		if p.MinAgeDays > 0 {
			if from := dep.BirthDate.AddDays(p.MinAgeDays); l.ServiceDate < from {
				x.fail(core.DependentIneligible, "born %s: under %d days old on %s (eligible from %s)", dep.BirthDate, p.MinAgeDays, l.ServiceDate, from)
			}
		}
		if p.MaxAgeYears > 0 {
			if until := dep.BirthDate.AddYears(p.MaxAgeYears); l.ServiceDate >= until {
				x.fail(core.DependentIneligible, "born %s: %d or older on %s (birthday %s)", dep.BirthDate, p.MaxAgeYears, l.ServiceDate, until)
			}
		}
	}
	if p.RequireRegistration {
		switch {
		case dep.RegisteredOn.IsZero():
			x.fail(core.DependentNotRegistered, "dependent %s has no registered_on date", dep.ID)
		case dep.RegisteredOn > l.ServiceDate:
			x.fail(core.DependentNotRegistered, "registered on %s, after the service date %s", dep.RegisteredOn, l.ServiceDate)
		}
	}
}

func payeeOf(p *Plan, l *core.Line, emp *core.Employee) (string, string) {
	kind := p.Payee
	if kind == "either" {
		kind = l.Payee
		if kind == "" {
			kind = core.PayeeProvider
		}
	}
	if kind == core.PayeeEmployee {
		return core.PayeeEmployee, emp.ID
	}
	return core.PayeeProvider, l.ProviderID
}

func unitsOf(l *core.Line) string {
	if l.HasHours && l.CareType == core.CareInHome {
		return l.Hours.String()
	}
	return "1"
}

// hold keeps a valid line of a plan that needs approval until its statement
// is approved.
func (e *Engine) hold(x *decider) error {
	ref := x.l.Ref
	ok, seen := e.approved[ref]
	if !seen {
		var err error
		if ok, err = e.hist.StatementApproved(ref); err != nil {
			return fmt.Errorf("checking approval of %s: %w", ref, err)
		}
		e.approved[ref] = ok
	}
	if ok {
		x.step("statement %s is approved", ref)
		return nil
	}
	x.d.FinalStatus = x.d.Status
	x.d.Status = core.Held
	x.d.Add(core.AwaitingApproval)
	x.step("AWAITING_APPROVAL: statement %s is held until `carepay approve %s`; it will be %s", ref, ref, x.d.FinalStatus)
	return nil
}

// record adds what x consumed to the run's state: its employee's es and
// its dependent's ds.
func (e *Engine) record(p *Plan, x *decider, es *employeeState, ds *dependentState) {
	pr := core.PriorLine{
		PlanID: p.ID, EmployeeID: x.l.EmployeeID, DependentID: x.l.DependentID,
		ProviderID: x.l.ProviderID, CareType: x.l.CareType, ServiceDate: x.l.ServiceDate,
		Status: x.d.Status, CareDay: x.d.CareDay, DayUsed: x.d.DayUsed,
		Placements: x.d.Placements, EmployeeShare: x.d.EmployeeShare, EmployerShare: x.d.EmployerShare,
	}
	es.recordClaim(p, &pr, x.claim)
	ds.record(p, &pr)
}

// ApplyApproval tells the engine that a statement was approved during the
// run, so later lines of it are not held.
func (e *Engine) ApplyApproval(ref string) { e.approved[ref] = true }

// employee returns the state of an employee under plan p, loading the
// employee's earlier lines under p on first use.
func (e *Engine) employee(p *Plan, id string) (*employeeState, error) {
	ps := e.statesOf(p)
	if n, ok := ps.empNo.Lookup(id); ok {
		return ps.emps.at(n), nil
	}
	prior, err := e.hist.EmployeeLines(id)
	if err != nil {
		return nil, fmt.Errorf("reading history of employee %s: %w", id, err)
	}
	ps.empNo.Number(id)
	s := ps.emps.add()
	for i := range prior {
		if prior[i].PlanID == p.ID {
			s.record(p, &prior[i], &e.ids)
		}
	}
	return s, nil
}

// dependent returns the state of a dependent under plan p, whichever
// employee claimed the earlier lines.
func (e *Engine) dependent(p *Plan, id string) (*dependentState, error) {
	ps := e.statesOf(p)
	if n, ok := ps.depNo.Lookup(id); ok {
		return ps.deps.at(n), nil
	}
	prior, err := e.hist.DependentLines(id)
	if err != nil {
		return nil, fmt.Errorf("reading history of dependent %s: %w", id, err)
	}
	ps.depNo.Number(id)
	s := ps.deps.add()
	for i := range prior {
		if prior[i].PlanID == p.ID {
			s.record(p, &prior[i])
		}
	}
	return s, nil
}
