package gendrop

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"
)

// maxInvoiceRows is the most rows one invoice holds.
const maxInvoiceRows = 5

// Row defects, applied to InvalidPercent of the service rows.
const (
	defectBadDate           = iota // service_date that does not parse
	defectBadAmount                // amount_charged that does not parse
	defectBadHours                 // hours that is not a number
	defectFutureService            // service_date after received_on
	defectUnknownDependent         // dependent_id not registered to the employee
	defectBlankEmployeeSign        // invoices: employee_signed_on blank
	defectBlankProviderSign        // invoices: provider_signed_on blank
	defectUnknownEmployee          // statements: employee_id not in the roster
)

const (
	statementDefects = 6 // defectBadDate .. defectUnknownDependent, and defectUnknownEmployee
	invoiceDefects   = 7 // defectBadDate .. defectBlankProviderSign
)

// lineWriter holds the state of the service line stream.
type lineWriter struct {
	g        *generator
	r        *rand.Rand
	st       *Stats
	inv, stm *rotator
	rec      []string
	seen     []bool // statement ids written, by provider*12 + month-1
	lineSeq  int
}

// writeLines writes the service lines into rotating invoice and statement
// files.
func (g *generator) writeLines(ctx context.Context, st *Stats, maxRows int) error {
	w := &lineWriter{
		g:    g,
		r:    g.rng(streamLines, 0),
		st:   st,
		inv:  &rotator{dir: g.dir, prefix: "10-invoices", header: invoiceColumns, max: maxRows, st: st},
		stm:  &rotator{dir: g.dir, prefix: "20-statements", header: statementColumns, max: maxRows, st: st},
		rec:  make([]string, max(len(invoiceColumns), len(statementColumns))),
		seen: make([]bool, g.providers*12),
	}
	err := w.run(ctx)
	if err != nil {
		w.inv.abort()
		w.stm.abort()
		return err
	}
	if err := w.inv.close(); err != nil {
		w.stm.abort()
		return err
	}
	return w.stm.close()
}

func (w *lineWriter) run(ctx context.Context) error {
	g, r := w.g, w.r
	nextCheck := 0
	for remaining := g.lines; remaining > 0; {
		if done := g.lines - remaining; done >= nextCheck {
			if err := ctx.Err(); err != nil {
				return fmt.Errorf("gendrop: %w", err)
			}
			nextCheck = done + 8192
		}
		e := g.employee(r.IntN(g.employees), false)
		// An invoice holds three rows on average: draw jitc-invoice
		// employees a third as often, so each plan gets about a third of
		// the rows.
		if e.plan == PlanJITCInvoice && r.IntN(3) != 0 {
			continue
		}
		var err error
		switch e.plan {
		case PlanJITCInvoice:
			n := min(1+r.IntN(maxInvoiceRows), remaining)
			n, err = w.invoice(ctx, &e, n)
			remaining -= n
		default:
			err = w.statementLine(ctx, &e)
			remaining--
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// defect returns the defect kind for the next row out of n kinds, or -1.
func (w *lineWriter) defect(p float64, n int) int {
	if w.r.Float64() >= p {
		return -1
	}
	return w.r.IntN(n)
}

// statementLine writes one statement row for a bright-backup or
// pinch-hourly employee.
func (w *lineWriter) statementLine(ctx context.Context, e *employee) error {
	g, r := w.g, w.r
	k := r.IntN(e.deps)
	dep := g.dependent(e, k)
	prov := e.provider
	if r.IntN(5) == 0 {
		prov = r.IntN(g.providers)
	}
	day := g.serviceDay(r, daysIn(g.year))
	month := int(day.Month())
	pid := providerID(prov)
	period := strconv.Itoa(g.year) + "-" + pad(month, 2)
	received := g.statementReceived(prov, month)

	var care, hours, mileage string
	var charge int64
	if e.plan == PlanPinchHourly {
		care = "in_home"
		halves := randomHalves(r, 2, 14)
		hours = formatHalves(halves)
		charge = 700 * int64(halves)
		if r.IntN(10) < 3 {
			tenths := 5 + r.IntN(400)
			mileage = strconv.Itoa(tenths/10) + "." + strconv.Itoa(tenths%10)
		}
	} else {
		switch n := r.IntN(100); {
		case n < 45:
			care = "center"
			charge = 9500 + 50*int64(r.IntN(131))
		case n < 75:
			care = "family_child_care"
			charge = 9500 + 50*int64(r.IntN(131))
		default:
			care = "in_home"
			halves := randomHalves(r, 2, 12)
			hours = formatHalves(halves)
			charge = 700 * int64(halves)
		}
	}
	w.lineSeq++
	rec := w.rec[:len(statementColumns)]
	rec[0] = "ST-" + pid + "-" + period
	rec[1] = pid
	rec[2] = period
	rec[3] = e.id
	rec[4] = dep.id
	rec[5] = care
	rec[6] = day.Format(time.DateOnly)
	rec[7] = hours
	rec[8] = money(charge)
	rec[9] = "L" + pad(w.lineSeq, 8)
	rec[10] = received.Format(time.DateOnly)
	rec[11] = mileage
	// Statement defects are the common ones (defectBadDate to
	// defectUnknownDependent) plus an unknown employee, drawn as the last.
	switch d := w.defect(g.pDefect, statementDefects); d {
	case -1:
	case statementDefects - 1:
		rec[3] = w.unknownEmployee()
	default:
		w.applyDefect(d, rec, 6, 8, 7, 4, received, e)
	}
	if err := w.stm.reserve(ctx, 1); err != nil {
		return err
	}
	if err := w.stm.write(rec); err != nil {
		return err
	}
	w.st.Lines++
	if s := prov*12 + month - 1; !w.seen[s] {
		w.seen[s] = true
		w.st.Statements++
	}
	return nil
}

// invoice writes one invoice of up to n rows (fewer when its first day is
// a weekend day) for a jitc-invoice employee and returns the rows written.
func (w *lineWriter) invoice(ctx context.Context, e *employee, n int) (int, error) {
	g, r := w.g, w.r
	k := r.IntN(e.deps)
	dep := g.dependent(e, k)
	prov := e.provider
	if r.IntN(5) == 0 {
		prov = r.IntN(g.providers)
	}
	var care string
	var daily int64 // cents per day, or per hour for in_home
	if dep.relationship == "parent" {
		if r.IntN(10) < 7 {
			care, daily = "adult_care", 9000+50*int64(r.IntN(181))
		} else {
			care, daily = "in_home", 100*int64(16+r.IntN(15))
		}
	} else {
		switch m := r.IntN(100); {
		case m < 40:
			care, daily = "center", 8000+50*int64(r.IntN(141))
		case m < 70:
			care, daily = "family_child_care", 6000+50*int64(r.IntN(121))
		default:
			care, daily = "in_home", 100*int64(16+r.IntN(15))
		}
	}
	var days [maxInvoiceRows]time.Time
	days[0] = g.serviceDay(r, daysIn(g.year)-10)
	if isWeekend(days[0]) {
		n = 1
	}
	for i := 1; i < n; i++ {
		days[i] = nextWeekday(days[i-1])
	}
	last := days[n-1]
	empSigned := last.AddDate(0, 0, r.IntN(4))
	provSigned := last.AddDate(0, 0, r.IntN(4))
	received := empSigned
	if provSigned.After(received) {
		received = provSigned
	}
	received = received.AddDate(0, 0, 1+r.IntN(6))
	payee := [3]string{"", "employee", "provider"}[r.IntN(3)]

	w.st.Invoices++
	id := "INV-" + pad(w.st.Invoices, 6)
	empID := e.id
	// An unknown employee concerns the whole invoice, whose rows must
	// share one employee_id; it takes one eighth of the defect share.
	rowDefect := g.pDefect
	if r.Float64() < g.pDefect/8 {
		empID = w.unknownEmployee()
	} else {
		rowDefect = g.pDefect * 7 / 8
	}
	if err := w.inv.reserve(ctx, n); err != nil {
		return 0, err
	}
	rec := w.rec[:len(invoiceColumns)]
	for i := range n {
		var hours string
		charge := daily
		if care == "in_home" {
			halves := randomHalves(r, 3, 10)
			hours = formatHalves(halves)
			charge = daily * int64(halves) / 2
		}
		rec[0] = id
		rec[1] = empID
		rec[2] = dep.id
		rec[3] = providerID(prov)
		rec[4] = care
		rec[5] = days[i].Format(time.DateOnly)
		rec[6] = money(charge)
		rec[7] = empSigned.Format(time.DateOnly)
		rec[8] = provSigned.Format(time.DateOnly)
		rec[9] = received.Format(time.DateOnly)
		rec[10] = hours
		rec[11] = payee
		if d := w.defect(rowDefect, invoiceDefects); d >= 0 {
			switch d {
			case defectBlankEmployeeSign:
				rec[7] = ""
			case defectBlankProviderSign:
				rec[8] = ""
			default:
				w.applyDefect(d, rec, 5, 6, 10, 2, received, e)
			}
		}
		if err := w.inv.write(rec); err != nil {
			return i, err
		}
		w.st.Lines++
	}
	return n, nil
}

// applyDefect applies a defect common to invoices and statements, given
// the column positions of service_date, amount_charged, hours and
// dependent_id.
func (w *lineWriter) applyDefect(d int, rec []string, dateCol, amountCol, hoursCol, depCol int, received time.Time, e *employee) {
	switch d {
	case defectBadDate:
		rec[dateCol] = strconv.Itoa(w.g.year) + "-13-45"
	case defectBadAmount:
		rec[amountCol] = "12.3.4"
	case defectBadHours:
		rec[hoursCol] = "abc"
	case defectFutureService:
		rec[dateCol] = received.AddDate(0, 0, 1+w.r.IntN(10)).Format(time.DateOnly)
	case defectUnknownDependent:
		// Dependents are numbered 1 to 3; 7 to 9 are never registered.
		rec[depCol] = dependentID(e.idx, 6+w.r.IntN(3))
	}
}

// unknownEmployee returns an employee_id that is not in the roster.
func (w *lineWriter) unknownEmployee() string {
	return employeeID(w.g.employees + w.r.IntN(1000))
}

// statementReceived is the day the statement of provider prov for month
// (1-12) of the plan year arrived: within the month after the period. It
// depends only on the seed, provider and month, so every row of one
// statement carries the same date.
func (g *generator) statementReceived(prov, month int) time.Time {
	h := splitmix(g.seed ^ splitmix(uint64(prov)<<8|uint64(month)))
	return time.Date(g.year, time.Month(month)+1, 1+int(h%28), 0, 0, 0, 0, time.UTC)
}

// serviceDay draws a day among the first n days of the plan year: mostly
// weekdays, about 3% weekend days.
func (g *generator) serviceDay(r *rand.Rand, n int) time.Time {
	for {
		d := g.dayOfYear(g.year, r.IntN(n))
		if !isWeekend(d) || r.IntN(100) < 8 {
			return d
		}
	}
}

func isWeekend(d time.Time) bool {
	wd := d.Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

func nextWeekday(d time.Time) time.Time {
	for {
		d = d.AddDate(0, 0, 1)
		if !isWeekend(d) {
			return d
		}
	}
}

// randomHalves draws hours between lo and hi, whole hours mostly and a
// half hour one time in four, and returns them in half hours.
func randomHalves(r *rand.Rand, lo, hi int) int {
	h := lo + r.IntN(hi-lo+1)
	halves := 2 * h
	if h < hi && r.IntN(4) == 0 {
		halves++
	}
	return halves
}

func formatHalves(halves int) string {
	if halves%2 == 0 {
		return strconv.Itoa(halves / 2)
	}
	return strconv.Itoa(halves/2) + ".5"
}
