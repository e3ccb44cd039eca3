package batch

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"time"

	"carepay/config"
	"carepay/core"
	"carepay/ingest"
	"carepay/ledger"
	"carepay/payout"
	"carepay/report"
	"carepay/rules"
	"carepay/spool"
)

// GCPercent is the GOGC the command sets unless GOGC is given: the
// collector runs when the heap grows by four times what is live (or nears
// the memory limit), not at every doubling: with Go's default, collection
// was a fifth of a large run's CPU while the limit was far away.
const GCPercent = 400

// SetMemoryDefaults applies the heap's soft limit (run.memory_limit) and
// GCPercent where the environment (GOMEMLIMIT, GOGC) does not say
// otherwise. The command calls it once the config is loaded; benchmarks
// call it to measure what the command does.
func SetMemoryDefaults(limit int64) {
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(limit)
	}
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(GCPercent)
	}
}

// Options configure one run.
type Options struct {
	AsOf    core.Date
	OutDir  string
	Sources []ingest.Source
	Plans   map[string]*rules.Plan
	Logger  *slog.Logger
	// Progress, when set, is told how far a stage is (total 0: unknown).
	Progress func(stage string, done, total int)
	// Now gives the wall clock (tests fix it).
	Now func() time.Time
	// Stage, when set, is told as each stage of the run ends
	// (report.Stages) and how long it took. The register's stage ends
	// beside the letters': Stage may be called from two goroutines, never
	// at once, and holds up the other stage while it runs.
	Stage func(stage string, took time.Duration)
	// SpoolDir holds the sorted runs of lines of a large drop (default:
	// the system's temporary folder).
	SpoolDir string
	// MaxLineCharge is the largest charge a service line may carry
	// (limits.max_line_charge); a line above it is INVALID_ROW. 0 means
	// DefaultMaxLineCharge.
	MaxLineCharge core.Cents
	// Payout says how payments are made and written.
	Payout Payout
	// Checks says what happens to checks after issue.
	Checks Checks
	// ReturnAddress heads every letter.
	ReturnAddress []string
	// FallbackFonts are the TrueType files (paths as given to the
	// process: the config's, resolved) that print the characters of
	// letters the Go fonts lack (letters.fallback_fonts).
	FallbackFonts []string
	// PrintBatchSize is how many letters one print batch file holds
	// (0: DefaultPrintBatchSize).
	PrintBatchSize int

	// Job names the scheduled job the run belongs to ("" for `carepay run`).
	Job string
	// NoPayments decides and reports without paying: approved lines are
	// paid by a later run that pays.
	NoPayments bool
	// Sinks receive the payment files (payroll's SFTP folder).
	Sinks []Sink
	// Mailer sends letters by email when EmailLetter says so; the others
	// go to the print batch.
	Mailer      Mailer
	EmailLetter func(kind, planID string) bool

	// timer times the stages of the run being written (nil: untimed).
	timer *stageTimer
}

// DefaultMaxLineCharge is SPEC.md's default limits.max_line_charge.
const DefaultMaxLineCharge core.Cents = 5_000_00

// Payout is the employer's payment set-up, from config.toml.
type Payout struct {
	Originator       payout.Originator
	PositivePay      payout.PositivePay
	EarningCode      string // payroll.csv earning code
	FirstCheckNumber int64  // the check sequence starts here
	// MaxPayment is the largest payment a run makes without a second
	// person's approval (limits.max_payment; 0: DefaultMaxPayment). A
	// larger one is held, with its lines, until `carepay approve PAY-n`.
	MaxPayment core.Cents
	// HoldReturned holds (PAYMENT_DETAILS) what a returned ACH payment
	// carried, and later payments to the details it came back from,
	// instead of paying them by check (returns.fallback = "hold").
	HoldReturned bool
	// Prenote sends a zero-dollar prenote for a payee's new or changed ACH
	// details (ach.prenote); live credits to them wait PrenoteDays banking
	// days after its settlement date (ach.prenote_days; 0:
	// DefaultPrenoteDays) and take the fallback meanwhile.
	Prenote     bool
	PrenoteDays int
}

// DefaultPrenoteDays is config.toml's default ach.prenote_days: NACHA's
// three banking days.
const DefaultPrenoteDays = 3

// PayoutOf returns the payment set-up of a configuration.
func PayoutOf(c config.Payout, l config.Limits, r config.Returns, a config.ACH) Payout {
	return Payout{Originator: c.Originator(), PositivePay: c.PositivePayLayout(),
		EarningCode: c.PayrollEarningCode, FirstCheckNumber: c.FirstCheckNumber, MaxPayment: l.MaxPayment,
		HoldReturned: r.Fallback == "hold", Prenote: a.Prenote, PrenoteDays: a.PrenoteDays}
}

// Checks is what happens to checks after issue, from config.toml's
// [checks].
type Checks struct {
	// StaleAfter is how many days after its issue date an uncleared
	// check is stale (0: config.DefaultStaleAfter).
	StaleAfter int
	// VoidStale voids stale checks in the run that finds them.
	VoidStale bool
	// Cleared names the columns of the bank's cleared-checks file.
	Cleared ingest.ClearedLayout
}

// ChecksOf returns the check settings of a configuration.
func ChecksOf(c config.Checks) Checks {
	return Checks{StaleAfter: c.StaleAfter, VoidStale: c.VoidStale, Cleared: c.ClearedLayout()}
}

// Result is what a run did.
type Result struct {
	RunID   string
	OutDir  string
	Summary string
	// Recovered lists earlier runs whose outputs this run completed.
	Recovered []string
	// Lines decided and letters written; how long deciding (pull, decide,
	// commit) and writing the outputs took.
	Lines, Letters  int
	Decide, Outputs time.Duration
	// Timings of each stage, as in run.json.
	Timings *report.Timings
	// Report is what run.json says.
	Report *report.Summary
}

// Run performs one full pass.
func Run(ctx context.Context, lg *ledger.Ledger, opt Options) (*Result, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Progress == nil {
		opt.Progress = func(string, int, int) {}
	}
	lg.SetSpoolDir(opt.SpoolDir)
	res := &Result{}
	// Nothing is read, decided or written by a ledger that is not the one
	// that made out/ and the deliveries, or on a run date gone back.
	if err := Check(ctx, lg, opt); err != nil {
		return nil, err
	}
	// Before any run folder is written there: the guard of every later
	// run, approval and rekey checks it too, wherever --out points then.
	if err := lg.RecordOutDir(ctx, opt.OutDir); err != nil {
		return nil, err
	}
	// A run killed after its commit left outputs to write: write them
	// first, from the ledger, so that nothing decided is left unreported.
	pending, err := lg.PendingRuns(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range pending {
		opt.Logger.Info("completing outputs of an earlier run", "run", p.ID)
		popt := opt
		popt.timer = newStageTimer(opt, p.ID)
		if _, err := writeOutputs(ctx, lg, p, popt, nil, nil); err != nil {
			return nil, fmt.Errorf("completing run %s: %w", p.ID, err)
		}
		res.Recovered = append(res.Recovered, p.ID)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	start := time.Now()
	tx, err := lg.Begin(ctx, opt.AsOf, opt.Now())
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	log := opt.Logger.With("run", tx.RunID)
	opt.timer = newStageTimer(opt, tx.RunID)
	if opt.Job != "" {
		if err := tx.SetJob(opt.Job); err != nil {
			return nil, err
		}
	}
	// Checks voided since the last run (carepay void): their void records
	// go into this run's positive pay, and their lines are payable again.
	voids, err := tx.SendVoids()
	if err != nil {
		return nil, err
	}
	if voids > 0 {
		log.Info("voided checks taken into this run", "checks", voids)
	}
	released, err := tx.ReleaseApproved()
	if err != nil {
		return nil, err
	}
	if released > 0 {
		log.Info("released approved statements", "lines", released)
	}
	lines := spool.New(opt.SpoolDir, 0)
	defer lines.Close()
	invoices := map[string]*invoice{}
	read, waiting, err := pull(ctx, tx, opt, lines, invoices, log)
	if err != nil {
		return nil, err
	}
	opt.timer.done(report.StagePull, start)
	stageStart := time.Now()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// After the bank's cleared-checks file (pulled above) and before
	// paying: a stale check voided now has its lines paid by this run.
	staleAfter := opt.Checks.StaleAfter
	if staleAfter <= 0 {
		staleAfter = config.DefaultStaleAfter
	}
	stale, err := tx.StaleChecks(staleAfter, opt.Checks.VoidStale)
	if err != nil {
		return nil, err
	}
	for _, c := range stale {
		log.Warn("stale check", "check", c.CheckNumber, "voided", c.Applied, "detail", c.Detail)
	}
	var pay *payer
	if !opt.NoPayments {
		if pay, err = newPayer(tx, opt.AsOf, opt.Payout); err != nil {
			return nil, err
		}
		if err := pay.payHeld(); err != nil {
			return nil, err
		}
		if err := pay.payEarlier(); err != nil {
			return nil, err
		}
	}
	live, err := decide(ctx, tx, opt, lines, invoices, pay, log)
	if err != nil {
		return nil, err
	}
	defer live.decisions.Abort()
	if pay != nil {
		if err := pay.finish(opt.AsOf, opt.Payout.FirstCheckNumber); err != nil {
			return nil, err
		}
	}
	opt.timer.done(report.StageDecide, stageStart)
	stageStart = time.Now()
	if err := verifyRead(ctx, read); err != nil {
		return nil, err
	}
	if err := tx.Commit(nil); err != nil {
		return nil, err
	}
	opt.timer.done(report.StageCommit, stageStart)
	if pay != nil && pay.reviewed > 0 {
		// Lines of a payment held for review took PAYMENT_REVIEW after
		// their rows were written: decisions.csv and the summary are
		// rebuilt from the ledger, as for an interrupted run.
		live.decisions.Abort()
		live = nil
	}
	decided := time.Now()
	opt.Progress("outputs", 0, 0)
	info := ledger.RunInfo{ID: tx.RunID, AsOf: opt.AsOf, State: ledger.StateDecided}
	sum, err := writeOutputs(ctx, lg, info, opt, live, waiting)
	if err != nil {
		return nil, fmt.Errorf("run %s is decided and committed, but its outputs are incomplete (the next run completes them): %w", tx.RunID, err)
	}
	if n := len(sum.ReportedYears); n > 0 {
		log.Warn(report.ReportedYearNote, "lines", n)
	}
	res.RunID, res.OutDir, res.Summary = tx.RunID, runDir(opt.OutDir, tx.RunID), sum.Text()
	res.Lines, res.Letters, res.Report = sum.Lines, sum.Letters.Written, sum
	res.Decide, res.Outputs = decided.Sub(start), time.Since(decided)
	res.Timings = &opt.timer.timings
	return res, nil
}

// invoice gathers what the rules need to know of a whole invoice while its
// rows stream by.
type invoice struct {
	sum                core.InvoiceSummary
	employee, provider string
	looked             bool
	decided            int
}

func (inv *invoice) add(l *core.Line) {
	s := &inv.sum
	if s.Rows == 0 {
		s.FirstSeq = l.Seq
	}
	s.Rows++
	// Only the first copy to arrive makes the summary: a later copy in the
	// same drop is a DUPLICATE whatever it holds.
	if l.Seq != s.FirstSeq {
		return
	}
	// Every row names its employee and provider, a row with a bad value
	// too; an invoice naming two of either is INVALID_ROW as a whole.
	inv.employee, s.Employees = named(inv.employee, l.EmployeeID, s.Employees)
	inv.provider, s.Providers = named(inv.provider, l.ProviderID, s.Providers)
	// An INVALID_ROW row (a date past the run date, say) moves no service
	// date.
	if l.Invalid() {
		return
	}
	if s.FirstService.IsZero() || l.ServiceDate < s.FirstService {
		s.FirstService = l.ServiceDate
	}
	if l.ServiceDate > s.LastService {
		s.LastService = l.ServiceDate
	}
}

// named counts the distinct IDs an invoice names, up to two: it returns the
// first ID named and 0, 1 or 2. A blank ID names no one.
func named(first, id string, n int) (string, int) {
	switch {
	case id == "" || id == first:
		return first, n
	case n == 0:
		return id, 1
	}
	return first, 2
}

// pull takes every waiting file of every source: bytes seen before are
// skipped; the rest are read, their registries applied and their lines
// spooled for sorting. A file that changes while it is fetched is left
// for a later run, which takes it whole. pull returns the files whose
// bytes the run read, for verifyRead, and the files the sources left
// waiting because they may still be being written, for the summary.
func pull(ctx context.Context, tx *ledger.Tx, opt Options, lines *spool.Sorter, invoices map[string]*invoice, log *slog.Logger) ([]readFile, []report.WaitingFile, error) {
	p := &puller{tx: tx, opt: opt, lines: lines, invoices: invoices, log: log}
	for _, src := range opt.Sources {
		names, err := src.List(ctx)
		if err != nil {
			return nil, nil, fmt.Errorf("source %s: %w", src.Name(), err)
		}
		if w, ok := src.(interface{ Waiting() []ingest.Waiting }); ok {
			for _, f := range w.Waiting() {
				log.Info("file not complete yet: left for a later run", "source", src.Name(), "file", f.Name, "why", f.Why)
				p.waiting = append(p.waiting, report.WaitingFile{Source: src.Name(), Name: f.Name, Why: f.Why})
			}
		}
		for i, name := range names {
			if err := ctx.Err(); err != nil {
				return nil, nil, err
			}
			opt.Progress("files", i, len(names))
			if err := p.file(ctx, src, name); err != nil {
				return nil, nil, err
			}
		}
		opt.Progress("files", len(names), len(names))
		if f, ok := src.(interface{ Filed() []ingest.IMAPFiling }); ok {
			// Messages rejected or filed for keying by hand (their allowed
			// senders got a reply; others none): the operator sees them here.
			for _, m := range f.Filed() {
				log.Warn("message not taken", "source", src.Name(), "uid", m.UID, "subject", m.Subject,
					"folder", m.Folder, "reason", m.Reason, "replied", m.Replied, "error", m.Err)
			}
		}
	}
	return p.read, p.waiting, nil
}

// readFile is a file whose bytes a run read and recorded.
type readFile struct {
	src       ingest.Source
	name, sha string
}

// verifyRead checks, just before the commit, that every file the run
// decided from still holds the bytes it read. One that changed fails the
// run, so that nothing is committed: decisions from bytes that cannot be
// archived would be decided again, with the rest, when the file is taken
// whole.
func verifyRead(ctx context.Context, files []readFile) error {
	for _, f := range files {
		if err := f.src.Verify(ctx, f.name, f.sha); err != nil {
			if errors.Is(err, ingest.ErrChanged) {
				return fmt.Errorf("source %s: %s changed after this run read it, so nothing was committed: run again once it is complete (it is then taken whole): %w", f.src.Name(), f.name, err)
			}
			return fmt.Errorf("source %s: %w", f.src.Name(), err)
		}
	}
	return nil
}

type puller struct {
	tx       *ledger.Tx
	opt      Options
	lines    *spool.Sorter
	invoices map[string]*invoice
	log      *slog.Logger
	seq      int    // arrival order of tables: files in name order, sheets in book order
	table    string // source of the current table
	read     []readFile
	waiting  []report.WaitingFile
}

func (p *puller) file(ctx context.Context, src ingest.Source, name string) error {
	tmp, err := os.CreateTemp(p.opt.SpoolDir, "carepay-drop-*")
	if err != nil {
		return fmt.Errorf("spooling %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	if err := src.Fetch(ctx, name, io.MultiWriter(tmp, h)); err != nil {
		if errors.Is(err, ingest.ErrChanged) {
			// Still being written: nothing of it is decided now.
			p.log.Warn("file changed while being read: left for a later run, which takes it whole", "source", src.Name(), "file", name, "error", err)
			p.waiting = append(p.waiting, report.WaitingFile{Source: src.Name(), Name: name, Why: "changed while being read"})
			return nil
		}
		return fmt.Errorf("source %s: %w", src.Name(), err)
	}
	sha := hex.EncodeToString(h.Sum(nil))
	if first, seen, err := p.tx.FileSeen(sha); err != nil {
		return err
	} else if seen {
		p.log.Info("file seen before: skipped", "file", name, "first_run", first)
		return p.tx.RecordSkip(sha, name, src.Name(), first)
	}
	maxCharge := p.opt.MaxLineCharge
	if maxCharge <= 0 {
		maxCharge = DefaultMaxLineCharge
	}
	rep, err := ingest.ReadFile(ctx, tmp.Name(), name, ingest.Options{Arrived: p.opt.AsOf, RunDate: p.opt.AsOf, MaxLineCharge: maxCharge, Cleared: p.opt.Checks.Cleared}, p.apply)
	if err != nil {
		return err
	}
	status := "taken"
	if rep.Rejected() {
		status = "rejected"
	}
	p.log.Info("file read", "file", name, "status", status, "kinds", fmt.Sprint(rep.Kinds()))
	p.read = append(p.read, readFile{src: src, name: name, sha: sha})
	return p.tx.RecordFile(sha, name, src.Name(), status, rep)
}

// keepCorrected keeps a NOC's correction when a registry row brings back
// the details the bank corrected, and tells whoever dropped the row.
func (p *puller) keepCorrected(r *ingest.Record, payeeType, id string, b *core.BankAccount) error {
	note, err := p.tx.KeepCorrected(payeeType, id, b)
	if note != "" {
		r.Notes = append(r.Notes, fmt.Sprintf("row %d: %s", r.Row, note))
	}
	return err
}

// apply puts a registry row into the ledger at once (so that the
// registries of a drop are in place before any of its lines is decided)
// and spools a service line.
func (p *puller) apply(r *ingest.Record) error {
	if r.Source != p.table {
		p.seq++
		p.table = r.Source
	}
	switch {
	case r.Line != nil:
		r.Line.Seq = p.seq
		if r.Line.Kind == core.Invoice {
			inv := p.invoices[r.Line.Ref]
			if inv == nil {
				inv = &invoice{sum: core.InvoiceSummary{Ref: r.Line.Ref}}
				p.invoices[r.Line.Ref] = inv
			}
			inv.add(r.Line)
		}
		return p.lines.Add(r.Line)
	case r.Bank != nil:
		// Before this run pays: a returned payment's lines are paid again
		// by it, and a NOC's correction is used by it.
		o, err := p.tx.ApplyBankNotice(r.Source, r.Bank)
		if err != nil {
			return err
		}
		p.log.Info("bank notice", "file", r.Source, "entry", r.Row, "kind", r.Bank.Kind, "code", r.Bank.Code, "applied", o.Applied, "detail", o.Detail)
		r.Notes = append(r.Notes, fmt.Sprintf("entry %d: %s", r.Row, o.Detail))
		return nil
	case len(r.Errors) > 0:
		return nil // a bad registry or cleared-checks row changes nothing; its errors are in the report
	case r.Cleared != nil:
		// Before the stale checks are listed: a check cleared now is not.
		n, err := p.tx.ApplyCleared(r.Source, r.Cleared)
		if err != nil {
			return err
		}
		if n.Alert {
			p.log.Error("voided check paid by the bank", "file", r.Source, "row", r.Row, "check", r.Cleared.Number, "detail", n.Detail)
		} else {
			p.log.Info("cleared check", "file", r.Source, "row", r.Row, "check", r.Cleared.Number, "applied", n.Applied, "detail", n.Detail)
		}
		if !n.Applied {
			// The ack tells the sender what changed nothing; run.json lists every row.
			r.Notes = append(r.Notes, fmt.Sprintf("row %d: %s", r.Row, n.Detail))
		}
		return nil
	case r.Employee != nil:
		if err := p.keepCorrected(r, core.PayeeEmployee, r.Employee.ID, &r.Employee.Bank); err != nil {
			return err
		}
		return p.tx.PutEmployee(r.Employee)
	case r.Dependent != nil:
		return p.tx.PutDependent(r.Dependent)
	case r.Provider != nil:
		if err := p.keepCorrected(r, core.PayeeProvider, r.Provider.ID, &r.Provider.Bank); err != nil {
			return err
		}
		return p.tx.PutProvider(r.Provider)
	}
	return errors.New("empty record")
}
