package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"

	"carepay/core"
	"carepay/ledger"
	"carepay/payout"
	"carepay/rules"
	"carepay/safefile"
	"carepay/templates"
)

// YearEndOptions configure a year-end report.
type YearEndOptions struct {
	Year   int
	OutDir string // the report goes into OutDir/year-end-YYYY
	Plans  map[string]*rules.Plan
	// Limit is the year's dependent care exclusion limit (a household's).
	Limit core.Cents
	// EarningCode is the payroll earning code of the excess (taxable
	// wages), as written in each row.
	EarningCode   string
	ReturnAddress []string
	// FallbackFonts are as Options.FallbackFonts, for the statements.
	FallbackFonts []string
	// PrintBatchSize is how many statements one print batch file holds
	// (0: DefaultPrintBatchSize).
	PrintBatchSize int
	// Date is the day of the report: the statements' date.
	Date   core.Date
	Now    func() time.Time
	Logger *slog.Logger
}

// YearEndResult is what a year-end report wrote.
type YearEndResult struct {
	Dir        string
	Year       int
	Report     int // 1 for the year's first report, then 2...
	Rows       []payout.W2Row
	Total      core.Cents // employer-provided, all employees
	Excess     core.Cents
	OverLimit  int // employees above the exclusion limit
	Statements int
	Posted     int // statements in the print batch
	// Corrections are the employees whose figures changed since the last
	// report of the year; nil on the year's first report.
	Corrections []payout.W2Correction
	// Open is set when the ledger has no run dated after the year: runs
	// still to come in the year may change it.
	Open bool
}

// YearEndDir is the folder of a year's report under out.
func YearEndDir(out string, year int) string {
	return filepath.Join(out, "year-end-"+strconv.Itoa(year))
}

// YearEnd reports a calendar year to payroll and families from the
// ledger: dependent-care-w2.csv, year-end.xlsx, one annual statement per
// employee of the roster with a line paid or refused in the year
// (statements/, and the
// postal ones in print-batch.pdf), and, when the year was reported
// before, dependent-care-w2-corrections.csv with the employees whose
// figures changed. A line belongs to the calendar year of the run date
// of the run that issued its live payment, whatever its plan year. The
// report is recorded in the ledger once its folder is in place.
func YearEnd(ctx context.Context, lg *ledger.Ledger, opt YearEndOptions) (*YearEndResult, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	y := opt.Year
	res := &YearEndResult{Dir: YearEndDir(opt.OutDir, y), Year: y}
	paid, err := lg.PaidInYear(ctx, y)
	if err != nil {
		return nil, err
	}
	refused, err := lg.RefusedInYear(ctx, y)
	if err != nil {
		return nil, err
	}
	yearEnd := core.NewDate(y, time.December, 31)
	after, err := lg.LinesThrough(ctx, yearEnd)
	if err != nil {
		return nil, err
	}
	later, err := lg.RunsAfter(ctx, yearEnd)
	if err != nil {
		return nil, err
	}
	res.Open = later == 0
	plans := yearPlans(opt.Plans, paid)

	// The employees: with a line paid (a W-2 row) or refused in the year.
	byEmp := map[string]*yearEmployee{}
	var ids []string
	get := func(id string) *yearEmployee {
		e := byEmp[id]
		if e == nil {
			e = &yearEmployee{}
			byEmp[id] = e
			ids = append(ids, id)
		}
		return e
	}
	for i := range paid {
		e := get(paid[i].EmployeeID)
		e.paid = append(e.paid, paid[i])
	}
	for i := range refused {
		e := get(refused[i].EmployeeID)
		e.refused = append(e.refused, refused[i])
	}
	sort.Strings(ids)
	history, err := yearHistory(ctx, lg, byEmp, after, yearEnd)
	if err != nil {
		return nil, err
	}
	var shared map[string][]core.PriorLine
	for _, p := range opt.Plans {
		if p.DayLimitPer == "dependent" {
			if shared, err = lg.SharedDependentUsage(ctx); err != nil {
				return nil, err
			}
			break
		}
	}
	providers := map[string]string{}
	providerName := func(id string) string {
		if n, ok := providers[id]; ok {
			return n
		}
		n, _, _, err := lg.Contact(ctx, core.PayeeProvider, id)
		if err != nil {
			n = id
		}
		providers[id] = n
		return n
	}
	var statements []*payout.Statement
	figures := map[string]payout.W2Row{}
	for _, id := range ids {
		e := byEmp[id]
		who, err := lg.YearEmployee(ctx, id)
		if err != nil {
			return nil, err
		}
		st := &payout.Statement{Year: y, Date: opt.Date, ID: id, Name: who.Name, Address: who.Address, Email: who.Email,
			OtherBenefits: who.OtherBenefits, Limit: opt.Limit}
		row := payout.W2Row{EmployeeID: id, EmployeeName: who.Name, ByPlan: map[string]core.Cents{}, OtherBenefits: who.OtherBenefits,
			ExclusionLimit: opt.Limit, EarningCode: opt.EarningCode}
		for i := range e.paid {
			l := &e.paid[i]
			row.ByPlan[l.PlanID] += l.EmployerShare
			row.EmployerProvided += l.EmployerShare
			_, month, _ := l.PaidOn.YMD()
			if n := len(st.Months); n == 0 || st.Months[n-1].Month != month {
				st.Months = append(st.Months, payout.StatementMonth{Month: month})
			}
			m := &st.Months[len(st.Months)-1]
			to := "you"
			if l.PayeeType == core.PayeeProvider {
				to = providerName(l.PayeeID)
			}
			m.Lines = append(m.Lines, statementLine(l, to))
			m.Total += l.EmployerShare
		}
		for i := range e.refused {
			st.Refused = append(st.Refused, statementLine(&e.refused[i], ""))
		}
		row.Excess = max(row.EmployerProvided+row.OtherBenefits-opt.Limit, 0)
		st.Total, st.Excess = row.EmployerProvided, row.Excess
		for _, p := range plans {
			if v, ok := row.ByPlan[p]; ok {
				st.ByPlan = append(st.ByPlan, payout.PlanTotal{Plan: p, Amount: v})
			}
		}
		planID := who.PlanID
		if planID == "" && len(e.paid) > 0 {
			planID = e.paid[len(e.paid)-1].PlanID
		}
		if p := opt.Plans[planID]; p != nil {
			st.Remaining = yearRemaining(p, who, history[id], shared, yearEnd)
		}
		if who.InRoster {
			// An employee the roster never had (NOT_ENROLLED lines) has
			// nobody to write to, as with run letters.
			statements = append(statements, st)
		}
		if len(e.paid) == 0 {
			continue
		}
		for _, p := range plans {
			if _, ok := row.ByPlan[p]; !ok {
				row.ByPlan[p] = 0
			}
		}
		res.Rows = append(res.Rows, row)
		figures[id] = row
		res.Total += row.EmployerProvided
		res.Excess += row.Excess
		if row.Excess > 0 {
			res.OverLimit++
		}
	}

	last, err := lg.LastYearReport(ctx, y)
	if err != nil {
		return nil, err
	}
	res.Report = 1
	if last != nil {
		res.Report = last.Seq + 1
		var before map[string]payout.W2Row
		if err := json.Unmarshal(last.Figures, &before); err != nil {
			return nil, fmt.Errorf("reading report %d of %d: %w", last.Seq, y, err)
		}
		res.Corrections = corrections(before, figures, plans)
	}
	if err := writeYearEnd(ctx, res, plans, statements, opt); err != nil {
		return nil, err
	}
	data, err := json.Marshal(figures)
	if err != nil {
		return nil, fmt.Errorf("recording the report of %d: %w", y, err)
	}
	if _, err := lg.RecordYearReport(ctx, y, opt.Now(), data); err != nil {
		return nil, fmt.Errorf("the report of %d is written in %s, but not recorded in the ledger (run it again): %w", y, res.Dir, err)
	}
	opt.Logger.Info("year end reported", "year", y, "report", res.Report, "employees", len(res.Rows), "employer_provided", res.Total.Dollars(),
		"over_limit", res.OverLimit, "corrections", len(res.Corrections))
	return res, nil
}

type yearEmployee struct {
	paid, refused []ledger.YearLine
}

// yearPlans returns the configured plan IDs, sorted, then any other plan
// that paid in the year (one no longer configured).
func yearPlans(configured map[string]*rules.Plan, paid []ledger.YearLine) []string {
	var plans []string
	for id := range configured {
		plans = append(plans, id)
	}
	sort.Strings(plans)
	var extra []string
	for i := range paid {
		if p := paid[i].PlanID; configured[p] == nil && !slices.Contains(extra, p) {
			extra = append(extra, p)
		}
	}
	sort.Strings(extra)
	return append(plans, extra...)
}

func statementLine(l *ledger.YearLine, to string) payout.StatementLine {
	return payout.StatementLine{Date: l.ServiceDate, Dependent: l.Dependent, CareType: l.CareType, PaidTo: to, Charged: l.Charged,
		Paid: l.EmployerShare, Status: l.Status, Reasons: l.Reasons}
}

// yearHistory reads, for the employees of the report, the lines that
// count towards limits known at the end of the year (decided by runs
// dated in it or before), served within the year before its last day.
func yearHistory(ctx context.Context, lg *ledger.Ledger, emps map[string]*yearEmployee, before int64, yearEnd core.Date) (map[string][]core.PriorLine, error) {
	out := map[string][]core.PriorLine{}
	err := lg.EachEmployeeUsage(ctx, before, yearEnd.AddDays(-366), func(id string, lines []core.PriorLine) error {
		if emps[id] != nil {
			out[id] = slices.Clone(lines)
		}
		return nil
	})
	return out, err
}

// yearRemaining is what was left of the employee's allowance in the plan
// year holding the last day of the calendar year.
func yearRemaining(p *rules.Plan, who *ledger.YearEmployee, lines []core.PriorLine, shared map[string][]core.PriorLine, yearEnd core.Date) []string {
	deps := map[string]string{}
	for i := range lines {
		if lines[i].PlanID == p.ID {
			dep := lines[i].DependentID
			deps[dep] = who.Dependents[dep]
			if deps[dep] == "" {
				deps[dep] = dep
			}
		}
	}
	byDep := map[string][]core.PriorLine{}
	if p.DayLimitPer == "dependent" {
		for dep := range deps {
			if s, ok := shared[dep]; ok {
				var upTo []core.PriorLine
				for i := range s {
					if s[i].ServiceDate <= yearEnd {
						upTo = append(upTo, s[i])
					}
				}
				byDep[dep] = upTo
				continue
			}
			var own []core.PriorLine
			for i := range lines {
				if lines[i].DependentID == dep {
					own = append(own, lines[i])
				}
			}
			byDep[dep] = own
		}
	}
	emp := &core.Employee{ID: who.ID, OtherBenefits: who.OtherBenefits}
	return rules.Remaining(p, emp, p.YearOf(yearEnd), lines, byDep, deps)
}

// corrections compares the figures reported before with those of now:
// an employee whose figures changed, or who appears or drops out, is a
// correction, in employee order.
func corrections(before, now map[string]payout.W2Row, plans []string) []payout.W2Correction {
	ids := map[string]bool{}
	for id := range before {
		ids[id] = true
	}
	for id := range now {
		ids[id] = true
	}
	sorted := make([]string, 0, len(ids))
	for id := range ids {
		sorted = append(sorted, id)
	}
	sort.Strings(sorted)
	out := []payout.W2Correction{}
	for _, id := range sorted {
		b, hadB := before[id]
		n, hasN := now[id]
		if hadB && hasN && n.Same(&b) {
			continue
		}
		if !hasN {
			// Nothing paid in the year any more: every figure of carepay's is
			// 0.00 now; the roster's are kept as reported.
			n = payout.W2Row{EmployeeID: id, EmployeeName: b.EmployeeName, ByPlan: map[string]core.Cents{}, OtherBenefits: b.OtherBenefits,
				ExclusionLimit: b.ExclusionLimit, EarningCode: b.EarningCode}
			n.Excess = max(n.OtherBenefits-n.ExclusionLimit, 0)
			for _, p := range plans {
				n.ByPlan[p] = 0
			}
		}
		if !hadB {
			b = payout.W2Row{EmployeeID: id, EmployeeName: n.EmployeeName}
		}
		out = append(out, payout.W2Correction{Reported: b, Row: n})
	}
	return out
}

// writeYearEnd writes the report's folder aside and puts it in place.
func writeYearEnd(ctx context.Context, res *YearEndResult, plans []string, statements []*payout.Statement, opt YearEndOptions) error {
	folder, err := safefile.NewFolder(res.Dir)
	if err != nil {
		return err
	}
	defer folder.Abort()
	write := func(name string, fill func(f *os.File) error) error {
		f, err := os.OpenFile(folder.Path(name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, safefile.Perm())
		if err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		err = fill(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		return nil
	}
	if err := write("dependent-care-w2.csv", func(f *os.File) error { return payout.WriteW2(f, plans, res.Rows) }); err != nil {
		return err
	}
	if res.Corrections != nil {
		if err := write("dependent-care-w2-corrections.csv", func(f *os.File) error {
			return payout.WriteW2Corrections(f, plans, res.Corrections)
		}); err != nil {
			return err
		}
	}
	book := payout.YearEndBook{Year: res.Year, Date: opt.Date, Plans: plans, Rows: res.Rows, Corrections: res.Corrections, Reported: res.Report}
	if err := write("year-end.xlsx", func(f *os.File) error { return payout.WriteYearEndBook(f, book) }); err != nil {
		return err
	}
	tmpl, err := templates.Letter()
	if err != nil {
		return err
	}
	words, err := templates.Reasons()
	if err != nil {
		return err
	}
	style := &payout.LetterStyle{Template: tmpl, ReasonWords: words, ReturnAddress: opt.ReturnAddress, FallbackFonts: opt.FallbackFonts}
	r, err := style.NewRenderer()
	if err != nil {
		return err
	}
	if err := os.Mkdir(folder.Path("statements"), safefile.DirPerm()); err != nil {
		return fmt.Errorf("writing statements: %w", err)
	}
	queue := &printQueue{}
	var buf bytes.Buffer
	for _, st := range statements {
		if err := ctx.Err(); err != nil {
			return err
		}
		rl, err := r.RenderStatement(st)
		if err != nil {
			return err
		}
		l := st.Letter()
		buf.Reset()
		spans, err := r.WritePDF(&buf, l, rl)
		if err != nil {
			return err
		}
		name := filepath.Join("statements", "employee-"+safeName(st.ID)+".pdf")
		if err := write(name, func(f *os.File) error { _, err := f.Write(buf.Bytes()); return err }); err != nil {
			return err
		}
		res.Statements++
		if l.Postal() {
			queue.add(l, folder.Path(name), spans, rl.Fonts)
			res.Posted++
		}
	}
	if queue.len() > 0 {
		if err := writePrintBatch(folder, opt.Date, queue, opt.PrintBatchSize, opt.FallbackFonts); err != nil {
			return err
		}
	}
	return folder.Commit()
}
