package batch

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"slices"
	"strings"
	"sync"
	"time"

	"carepay/core"
	"carepay/ledger"
	"carepay/payout"
	"carepay/report"
	"carepay/rules"
	"carepay/safefile"
	"carepay/templates"
)

// LetterReport says which letters a run wrote and which it could not post.
type LetterReport struct {
	Written int
	Postal  int
	Emailed int
	// NotInRoster counts employees with decided lines but no roster row:
	// no letter can reach them.
	NotInRoster int
	// NoAddress lists letters written but held from the print batch: the
	// recipient has no postal address.
	NoAddress []string
	// Transliterated lists letters in which a name or address held
	// characters no letter font has, written in Latin letters instead.
	Transliterated []string
}

// writeLetters writes letters/<kind>-<id>.pdf for every employee with a
// decided line and every provider paid, and letters/print-batch.pdf with
// the postal letters sorted by postal code.
//
// One goroutine reads each letter's data from the ledger in one ordered
// pass (see letterSource); a renderer per core lays each letter out once
// and writes its file; the print batch then copies the postal letters'
// pages from their files, in postal order.
func writeLetters(ctx context.Context, lg *ledger.Ledger, run ledger.RunInfo, opt Options, dir string) (*LetterReport, error) {
	start := time.Now()
	tmpl, err := templates.Letter()
	if err != nil {
		return nil, err
	}
	words, err := templates.Reasons()
	if err != nil {
		return nil, err
	}
	style := &payout.LetterStyle{Template: tmpl, ReasonWords: words, ReturnAddress: opt.ReturnAddress, FallbackFonts: opt.FallbackFonts}
	folder, err := safefile.NewFolder(filepath.Join(dir, "letters"))
	if err != nil {
		return nil, err
	}
	defer folder.Abort()
	defer tuneGCForLetters()()

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	src, err := newLetterSource(ctx, lg, run, opt)
	if err != nil {
		return nil, err
	}
	workers := runtime.NumCPU()
	renderers := make([]*payout.LetterRenderer, workers)
	for i := range renderers {
		if renderers[i], err = style.NewRenderer(); err != nil {
			return nil, err
		}
	}
	queue := &printQueue{}
	var translit struct {
		sync.Mutex
		names []string
	}
	jobs := make(chan *payout.Letter, 64)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for _, r := range renderers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for l := range jobs {
				t, err := writeLetter(ctx, r, &buf, folder, queue, lg, opt, run.ID, l)
				if t {
					translit.Lock()
					translit.names = append(translit.names, l.Kind+" "+l.ID)
					translit.Unlock()
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
					cancel()
				}
			}
		}()
	}
	rep := &LetterReport{}
	err = src.each(ctx, func(l *payout.Letter) error {
		if l == nil {
			rep.NotInRoster++
			return nil
		}
		rep.Written++
		l.ByEmail = opt.Mailer != nil && l.Email != "" && opt.EmailLetter != nil && opt.EmailLetter(l.Kind, l.Plan)
		switch {
		case l.ByEmail:
			rep.Emailed++
		case l.Postal():
			rep.Postal++
		default:
			rep.NoAddress = append(rep.NoAddress, l.Kind+" "+l.ID)
		}
		select {
		case jobs <- l:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	close(jobs)
	wg.Wait()
	select {
	case werr := <-errs:
		err = werr // the cause, not the cancellation it made
	default:
	}
	if err != nil {
		return nil, err
	}
	// Workers finish letters in any order: the report lists them sorted.
	slices.Sort(translit.names)
	rep.Transliterated = translit.names
	opt.timer.done(report.StageLetters, start)
	start = time.Now()
	if err := writePrintBatch(folder, run.AsOf, queue, opt.PrintBatchSize, opt.FallbackFonts); err != nil {
		return nil, err
	}
	opt.timer.done(report.StagePrintBatch, start)
	if err := folder.Commit(); err != nil {
		return nil, err
	}
	return rep, nil
}

// writeLetter renders one letter, writes its file, sends it when it goes
// by email, and queues a postal letter for the print batch.
func writeLetter(ctx context.Context, r *payout.LetterRenderer, buf *bytes.Buffer, folder *safefile.Folder, queue *printQueue,
	lg *ledger.Ledger, opt Options, runID string, l *payout.Letter) (transliterated bool, err error) {
	rl, err := r.Render(l)
	if err != nil {
		return false, err
	}
	buf.Reset()
	pages, err := r.WritePDF(buf, l, rl)
	if err != nil {
		return false, err
	}
	name := l.Kind + "-" + safeName(l.ID) + ".pdf"
	if err := os.WriteFile(folder.Path(name), buf.Bytes(), safefile.Perm()); err != nil {
		return false, fmt.Errorf("writing letter %s: %w", name, err)
	}
	if l.ByEmail {
		return rl.Transliterated, mailLetter(ctx, lg, opt.Mailer, runID, l, name, buf.Bytes())
	}
	if l.Postal() {
		queue.add(l, folder.Path(name), pages, rl.Fonts)
	}
	return rl.Transliterated, nil
}

// letterHeadroom is how far the heap may grow past what is live while
// letters are written before the collector runs (see tuneGCForLetters).
// The register is written meanwhile and keeps about 100 MiB live (its
// sheets' buffers): with 160 MiB the collector ran twice a second.
const letterHeadroom = 320 << 20

// tuneGCForLetters lets the heap grow during the letter phase, which
// allocates much and keeps little: the collector runs at five times the
// live heap and, under a memory limit, by the time the heap is
// letterHeadroom above what was live when the phase began (or at the
// limit, if lower). A collection then marks little, and costs little,
// while the process stays far below the limit (waiting for the limit
// itself made the letter phase the run's peak of memory), and a small
// run's heap stays small. It returns the function that restores the
// settings.
func tuneGCForLetters() func() {
	limit := debug.SetMemoryLimit(-1)
	if limit == math.MaxInt64 {
		old := debug.SetGCPercent(400)
		return func() { debug.SetGCPercent(old) }
	}
	live := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(live)
	cap := limit
	if live[0].Value.Kind() == metrics.KindUint64 {
		cap = min(limit, int64(live[0].Value.Uint64())+letterHeadroom)
	}
	debug.SetMemoryLimit(cap)
	old := debug.SetGCPercent(400)
	return func() {
		debug.SetGCPercent(old)
		debug.SetMemoryLimit(limit)
	}
}

// DefaultPrintBatchSize is how many letters one print batch file holds.
const DefaultPrintBatchSize = 5000

// writePrintBatch writes the postal letters, sorted by postal code, into
// print-batch.pdf, and past size letters into print-batch-2.pdf and on
// (mail houses take batches of bounded size), copying each letter's pages
// from its file; the volumes are written in parallel. fallbackFonts are
// the letters' (Options.FallbackFonts).
func writePrintBatch(folder *safefile.Folder, date core.Date, queue *printQueue, size int, fallbackFonts []string) error {
	if size <= 0 {
		size = DefaultPrintBatchSize
	}
	queue.sort()
	vols := (queue.len() + size - 1) / size
	errs := make(chan error, vols)
	sem := make(chan struct{}, runtime.NumCPU())
	for vol := range vols {
		sem <- struct{}{}
		go func() {
			defer func() { <-sem }()
			name := "print-batch.pdf"
			if vol > 0 {
				name = fmt.Sprintf("print-batch-%d.pdf", vol+1)
			}
			f, err := os.OpenFile(folder.Path(name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, safefile.Perm())
			if err == nil {
				err = queue.write(f, date, fallbackFonts, vol*size, min((vol+1)*size, queue.len()))
				if cerr := f.Close(); err == nil {
					err = cerr
				}
			}
			if err != nil {
				err = fmt.Errorf("writing %s: %w", name, err)
			}
			errs <- err
		}()
	}
	var first error
	for range vols {
		if err := <-errs; err != nil && first == nil {
			first = err
		}
	}
	return first
}

// safeName keeps an ID usable as a file name.
func safeName(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// letterSource builds the letters of a run from the ledger in one pass:
// the run's lines sorted by employee (then by provider), the history of
// earlier runs merged in the same order when there is one.
type letterSource struct {
	lg      *ledger.Ledger
	run     ledger.RunInfo
	opt     Options
	from    int64
	to      int64
	byPayee map[[2]string][]payout.LetterPayment
	// history yields earlier runs' lines of each employee, in employee
	// order; nil in a ledger's first run.
	history *usageCursor
	// shared holds every line of dependents registered to two employees.
	shared    map[string][]core.PriorLine
	providers map[string]string // names, as looked up
}

func newLetterSource(ctx context.Context, lg *ledger.Ledger, run ledger.RunInfo, opt Options) (*letterSource, error) {
	s := &letterSource{lg: lg, run: run, opt: opt, byPayee: map[[2]string][]payout.LetterPayment{}, providers: map[string]string{}}
	payments, err := lg.Payments(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	holds, err := lg.Holds(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	reissues, err := lg.Reissues(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	for _, p := range payments {
		lp := payout.LetterPayment{Method: p.Method, Amount: p.Amount, CheckNumber: p.CheckNumber, Replaces: replaces(reissues[p.ID])}
		if p.Method == core.MethodACH {
			lp.Account = p.Bank.Masked()
		}
		k := [2]string{p.PayeeType, p.PayeeID}
		s.byPayee[k] = append(s.byPayee[k], lp)
	}
	for _, h := range holds {
		k := [2]string{h.PayeeType, h.PayeeID}
		s.byPayee[k] = append(s.byPayee[k], payout.LetterPayment{Method: h.Method, Amount: h.Amount, Held: h.Detail})
	}
	if s.from, s.to, err = lg.RunRange(ctx, run.ID); err != nil {
		return nil, err
	}
	for _, p := range opt.Plans {
		if p.DayLimitPer == "dependent" {
			if s.shared, err = lg.SharedDependentUsage(ctx); err != nil {
				return nil, err
			}
			break
		}
	}
	history, err := lg.HasLinesOutside(ctx, s.from, s.to)
	if err != nil {
		return nil, err
	}
	if history {
		// A plan year is at most a year long: older lines count for none
		// of the allowances a letter shows.
		s.history = newUsageCursor(ctx, lg, s.from, run.AsOf.AddDays(-366))
	}
	return s, nil
}

// each calls fn with every letter: employees' (nil for an employee with
// no roster row), then providers'.
func (s *letterSource) each(ctx context.Context, fn func(*payout.Letter) error) error {
	if s.history != nil {
		defer s.history.close()
	}
	return s.lg.EachLetter(ctx, s.run.ID, func(id string, who *ledger.Recipient, rows []ledger.LetterRow) error {
		if !who.InRoster {
			// Nobody to write to. Its lines are in decisions.csv and the
			// acknowledgement of the file.
			return fn(nil)
		}
		l, err := s.employee(ctx, id, who, rows)
		if err != nil {
			return err
		}
		return fn(l)
	}, func(id string, rows []ledger.LetterRow) error {
		name, addr, email, err := s.lg.Contact(ctx, core.PayeeProvider, id)
		if err != nil {
			return err
		}
		l := &payout.Letter{Kind: core.PayeeProvider, ID: id, Name: name, Address: addr, Email: email, RunID: s.run.ID, Date: s.run.AsOf,
			Payments: s.byPayee[[2]string{core.PayeeProvider, id}]}
		for i := range rows {
			l.Lines = append(l.Lines, lineOf(&rows[i]))
		}
		return fn(l)
	})
}

// replaces says, for a letter, which returned payments a payment pays
// again.
func replaces(back []ledger.ReturnedPayment) string {
	var b strings.Builder
	for i, r := range back {
		if i > 0 {
			b.WriteString(" ")
		}
		if r.Check != 0 {
			fmt.Fprintf(&b, "Our check number %d of %s (run %s) was cancelled on %s (%s): do not cash it; the payment below replaces it.",
				r.Check, r.Amount.Dollars(), r.IssuedRun, r.ReturnedOn, r.VoidReason)
			continue
		}
		fmt.Fprintf(&b, "Our payment %s of %s, sent by direct deposit to account %s in run %s, came back from your bank on %s (%s: %s); the payment below pays it again.",
			core.PaymentRef(r.ID), r.Amount.Dollars(), r.Account, r.IssuedRun, r.ReturnedOn, r.Code, payout.ReturnReason(r.Code))
	}
	return b.String()
}

func lineOf(r *ledger.LetterRow) payout.LetterLine {
	return payout.LetterLine{Date: r.ServiceDate, Employee: r.EmployeeName, Dependent: r.Dependent, CareType: r.CareType,
		Units: r.Units, Charged: r.Charged, EmployeeShare: r.EmployeeShare, EmployerShare: r.EmployerShare,
		Status: r.Status, Reasons: r.Reasons, RowError: r.RowError}
}

func (s *letterSource) employee(ctx context.Context, id string, who *ledger.Recipient, rows []ledger.LetterRow) (*payout.Letter, error) {
	l := &payout.Letter{Kind: core.PayeeEmployee, ID: id, Name: who.Name, Address: who.Address, Email: who.Email, RunID: s.run.ID,
		Date: s.run.AsOf, Payments: s.byPayee[[2]string{core.PayeeEmployee, id}], Lines: make([]payout.LetterLine, 0, len(rows))}
	toProviders := map[string]core.Cents{}
	var providers []string
	deps := map[string]string{}
	plan := ""
	for i := range rows {
		r := &rows[i]
		l.Lines = append(l.Lines, lineOf(r))
		if r.PayeeType == core.PayeeProvider && (r.Status == string(core.Approved) || r.Status == string(core.Partial)) && r.EmployerShare > 0 {
			if _, ok := toProviders[r.PayeeID]; !ok {
				providers = append(providers, r.PayeeID)
			}
			toProviders[r.PayeeID] += r.EmployerShare
		}
		if r.PlanID != "" {
			plan = r.PlanID
			// Only registered dependents have an allowance to show: a line
			// naming another is rejected DEPENDENT_UNKNOWN, and says so.
			if r.DependentKnown {
				deps[r.DependentID] = r.Dependent
			}
		}
	}
	for _, p := range providers {
		name, ok := s.providers[p]
		if !ok {
			var err error
			if name, _, _, err = s.lg.Contact(ctx, core.PayeeProvider, p); err != nil {
				name = p
			}
			s.providers[p] = name
		}
		l.PaidToOthers = append(l.PaidToOthers, fmt.Sprintf("Your employer pays %s of this care to %s.", toProviders[p].Dollars(), name))
	}
	l.Plan = plan
	var history []core.PriorLine
	if s.history != nil {
		var err error
		if history, err = s.history.next(id); err != nil {
			return nil, err
		}
	}
	if p := s.opt.Plans[plan]; p != nil {
		l.Remaining = s.remaining(p, id, who, rows, history, deps)
	}
	return l, nil
}

// remaining works out the allowance left this plan year: the employee's
// lines of earlier runs and of this one, and each dependent's, whichever
// parent claimed them.
func (s *letterSource) remaining(p *rules.Plan, id string, who *ledger.Recipient, rows []ledger.LetterRow, history []core.PriorLine,
	deps map[string]string) []string {
	lines := history
	for i := range rows {
		if r := &rows[i]; r.ID >= s.from && r.ID <= s.to && r.Counts() {
			lines = append(lines, r.Prior())
		}
	}
	byDep := map[string][]core.PriorLine{}
	if p.DayLimitPer == "dependent" {
		for dep := range deps {
			if shared, ok := s.shared[dep]; ok {
				byDep[dep] = shared
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
	emp := &core.Employee{ID: id, OtherBenefits: who.OtherBenefits}
	return rules.Remaining(p, emp, p.YearOf(s.run.AsOf), lines, byDep, deps)
}

// usageCursor walks earlier runs' lines by employee, in the order of the
// letters, from a query running on its own goroutine.
type usageCursor struct {
	cancel context.CancelFunc
	groups chan usageGroup
	cur    *usageGroup
	err    chan error
	done   bool
}

type usageGroup struct {
	id    string
	lines []core.PriorLine
}

func newUsageCursor(ctx context.Context, lg *ledger.Ledger, before int64, since core.Date) *usageCursor {
	ctx, cancel := context.WithCancel(ctx)
	c := &usageCursor{cancel: cancel, groups: make(chan usageGroup, 64), err: make(chan error, 1)}
	go func() {
		defer close(c.groups)
		c.err <- lg.EachEmployeeUsage(ctx, before, since, func(id string, lines []core.PriorLine) error {
			select {
			case c.groups <- usageGroup{id, lines}:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	return c
}

// next returns the lines of employee id; ids must come in increasing
// order.
func (c *usageCursor) next(id string) ([]core.PriorLine, error) {
	for !c.done && (c.cur == nil || c.cur.id < id) {
		g, ok := <-c.groups
		if !ok {
			c.done = true
			if err := <-c.err; err != nil {
				return nil, err
			}
			break
		}
		c.cur = &g
	}
	if c.cur != nil && c.cur.id == id {
		return c.cur.lines, nil
	}
	return nil, nil
}

func (c *usageCursor) close() {
	c.cancel()
	for range c.groups {
	}
}

// mailLetter sends a letter by email once: the ledger records every letter
// sent, so a run completed after a crash does not send it again.
func mailLetter(ctx context.Context, lg *ledger.Ledger, m Mailer, runID string, l *payout.Letter, name string, pdf []byte) error {
	sent, err := lg.LetterSent(ctx, runID, l.Kind, l.ID)
	if err != nil || sent {
		return err
	}
	if err := lg.CheckRunLock(ctx); err != nil {
		return fmt.Errorf("emailing the letter to %s %s: %w", l.Kind, l.ID, err)
	}
	body := fmt.Sprintf("Dear %s,\n\nYour remittance letter for payment run %s is attached.\n\nBenefits Operations\n", l.Name, runID)
	if err := m.SendLetter(ctx, l.Email, "Backup care remittance "+runID, body, name, pdf); err != nil {
		return fmt.Errorf("emailing the letter to %s %s: %w", l.Kind, l.ID, err)
	}
	// Sent: record it even if the run is being stopped, or the next run
	// would send it again.
	return lg.RecordLetterSent(context.WithoutCancel(ctx), runID, l.Kind, l.ID, l.Email)
}
