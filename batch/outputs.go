package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sync/errgroup"

	"carepay/core"
	"carepay/ingest"
	"carepay/ledger"
	"carepay/payout"
	"carepay/report"
	"carepay/safefile"
	"carepay/templates"
)

func runDir(out, id string) string { return filepath.Join(out, id) }

// writeOutputs writes decisions.csv, run.json and the acknowledgements of
// a committed run from the ledger alone, hands each acknowledgement back to
// its source and archives the files taken; then marks the run written.
// Written again for the same run, every file comes out byte-identical.
//
// live carries what the run wrote while deciding; nil (an interrupted run
// completed later) rebuilds decisions.csv and the summary from the ledger.
// waiting are the files the sources left for a later run, for the summary
// (nil when completing an interrupted run: its sources were not listed).
func writeOutputs(ctx context.Context, lg *ledger.Ledger, run ledger.RunInfo, opt Options, live *liveOutputs, waiting []report.WaitingFile) (*report.Summary, error) {
	dir := runDir(opt.OutDir, run.ID)
	if live == nil {
		// Completing an interrupted run: clear what its killed writes left.
		// (A live run cleared its folder before deciding.)
		if err := safefile.RemoveStale(dir); err != nil {
			return nil, err
		}
	}
	// First the ledger's mark: a folder holding anything of a committed
	// run names the ledger that made it (see Check).
	if err := safefile.WriteBytes(filepath.Join(dir, LedgerIDFile), []byte(lg.ID()+"\n")); err != nil {
		return nil, err
	}
	var sum *report.Summary
	if live != nil {
		if err := live.decisions.Commit(); err != nil {
			return nil, err
		}
		sum = live.summary
	} else {
		sum = report.NewSummary(run.ID, run.AsOf)
		err := safefile.Write(filepath.Join(dir, "decisions.csv"), func(w io.Writer) error {
			dw := report.NewDecisionsWriter(w)
			if err := lg.RunLines(ctx, run.ID, func(l *core.Line, d *core.Decision) error {
				sum.Add(l, d)
				return dw.Write(report.NewDecisionRow(run.ID, l, d))
			}); err != nil {
				return err
			}
			return dw.Close()
		})
		if err != nil {
			return nil, err
		}
		released, err := lg.ReleasedIn(ctx, run.ID)
		if err != nil {
			return nil, err
		}
		sum.Released = released
	}
	sum.Waiting = append(sum.Waiting, waiting...)
	start := time.Now()
	files, err := lg.RunFiles(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	sources := map[string]ingest.Source{}
	for _, s := range opt.Sources {
		sources[s.Name()] = s
	}
	var fileExceptions [][]any
	for _, f := range files {
		var rep *ingest.FileReport
		if f.Report != "" {
			rep = &ingest.FileReport{}
			if err := json.Unmarshal([]byte(f.Report), rep); err != nil {
				return nil, fmt.Errorf("reading report of %s: %w", f.Name, err)
			}
			fileExceptions = append(fileExceptions, exceptionsOf(rep)...)
		}
		switch f.Status {
		case "taken":
			sum.Files.Taken = append(sum.Files.Taken, f.Name)
		case "skipped":
			sum.Files.Skipped = append(sum.Files.Skipped, f.Name)
		default:
			sum.Files.Rejected = append(sum.Files.Rejected, f.Name)
		}
		ack := report.Ack(run.ID, run.AsOf.String(), f.Name, f.Status, f.FirstRun, rep)
		if err := safefile.WriteBytes(filepath.Join(dir, "acks", f.Name+ingest.AckSuffix), ack); err != nil {
			return nil, err
		}
		src := sources[f.Source]
		if src == nil {
			continue // the source is no longer configured; the ack stays in out/
		}
		if err := src.Ack(ctx, f.Name, ack); err != nil {
			return nil, fmt.Errorf("acknowledging %s: %w", f.Name, err)
		}
		err := src.Archive(ctx, f.Name, f.SHA256)
		var changed *ingest.ChangedError
		if !errors.As(err, &changed) {
			if err != nil {
				return nil, err
			}
			continue
		}
		// Not archived: the ledger holds the rows of the bytes read, and
		// the file now holds others. Say so where the sender looks.
		opt.Logger.Warn("file changed after the run read it: not archived", "run", run.ID, "source", f.Source,
			"file", f.Name, "held_as", changed.HeldAs, "detail", changed.Detail)
		ack = append(ack, changedNote(run.ID, f.SHA256, changed)...)
		if err := safefile.WriteBytes(filepath.Join(dir, "acks", f.Name+ingest.AckSuffix), ack); err != nil {
			return nil, err
		}
		if err := src.Ack(ctx, f.Name, ack); err != nil {
			return nil, fmt.Errorf("acknowledging %s: %w", f.Name, err)
		}
	}
	opt.timer.done(report.StageAcks, start)
	start = time.Now()
	payments, holds, err := writePayments(ctx, lg, run, opt, dir, sum)
	if err != nil {
		return nil, err
	}
	opt.timer.done(report.StagePaymentFiles, start)
	// The register is written beside the letters, which leave a core
	// partly idle; it waits for them only to count them in its Summary.
	// Letters that fail stop the register; a register that fails lets the
	// letters finish (one may be on its way to a mail server), and the
	// run reports the first failure.
	g, gctx := errgroup.WithContext(ctx)
	lettersDone := make(chan struct{})
	g.Go(func() error {
		start := time.Now()
		var waited time.Duration
		err := writeRegister(gctx, lg, run, dir, opt.SpoolDir, sum.Reconciliation, payments, holds, fileExceptions, func(r *payout.Register) error {
			from := time.Now()
			select {
			case <-lettersDone:
			case <-gctx.Done():
				return gctx.Err()
			}
			waited = time.Since(from)
			r.Summary, r.LettersHeld = sum.Rows(), sum.Letters.NoAddress
			return nil
		})
		if err == nil {
			opt.timer.took(report.StageRegister, time.Since(start)-waited)
		}
		return err
	})
	g.Go(func() error {
		letters, err := writeLetters(ctx, lg, run, opt, dir)
		if err != nil {
			return err
		}
		sum.Letters = report.LetterCounts{Written: letters.Written, Postal: letters.Postal, Emailed: letters.Emailed, NoAddress: letters.NoAddress,
			Transliterated: letters.Transliterated}
		close(lettersDone)
		return nil
	})
	if err := g.Wait(); err != nil {
		return nil, err
	}
	start = time.Now()
	if err := deliver(ctx, lg, run.ID, dir, opt.Sinks); err != nil {
		return nil, err
	}
	opt.timer.done(report.StageDeliver, start)
	if opt.timer != nil {
		sum.Timings = &opt.timer.timings
	}
	js, err := sum.JSON()
	if err != nil {
		return nil, err
	}
	if err := safefile.WriteBytes(filepath.Join(dir, "run.json"), js); err != nil {
		return nil, err
	}
	return sum, lg.MarkWritten(ctx, run.ID)
}

// changedNote ends the acknowledgement of a file that changed after the
// run read it, and was therefore not archived.
func changedNote(runID, sha string, e *ingest.ChangedError) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "\nwarning: %s changed after run %s read it (%s), so it was not archived.\n", e.Name, runID, e.Detail)
	fmt.Fprintf(&b, "  Its rows as read (SHA-256 %s) are decided and in the ledger; decisions.csv\n  lists them by file and row.\n", sha)
	if e.HeldAs != "" {
		fmt.Fprintf(&b, "  The file as it is now was renamed %s beside the drop, where no run takes it,\n", e.HeldAs)
		b.WriteString("  so that no row is decided twice. Take out the rows already decided and drop\n  the rest as a new file.\n")
	} else {
		b.WriteString("  The file was left as it is: taken again, all its rows would be decided again.\n")
		b.WriteString("  Take out the rows already decided and drop the rest as a new file.\n")
	}
	return []byte(b.String())
}

// exceptionsOf lists what a file's acknowledgement reports as not taken,
// as rows of the register's Exceptions sheet (what, source, row, ref,
// who, amount, why): a table rejected whole, and each rejected row of a
// registry or of a bank's file. Rejected rows of invoices and statements
// are not listed here: they are decided INVALID_ROW, and listed as lines.
func exceptionsOf(rep *ingest.FileReport) [][]any {
	var out [][]any
	for _, t := range rep.Tables {
		if t.Rejected != "" {
			out = append(out, []any{"file rejected", t.Source, "", "", "", "", t.Rejected})
			continue
		}
		switch t.Kind {
		case ingest.Employees, ingest.Dependents, ingest.Providers, ingest.BankReturns:
		default:
			continue
		}
		what := "registry row rejected"
		if t.Kind == ingest.BankReturns {
			what = "bank entry skipped"
		}
		for _, e := range t.Errors {
			out = append(out, []any{what, t.Source, e.Row, "", "", "", e.Column + ": " + e.Msg})
		}
		if t.MoreErrors > 0 {
			out = append(out, []any{what, t.Source, "", "", "", "", fmt.Sprintf("%d more rows rejected: see the file's acknowledgement", t.MoreErrors)})
		}
	}
	return out
}

// writePayments writes the payment files of a run from the ledger:
// payments.ach (when anything goes by ACH, prenotes included), checks.csv, positive-pay.csv
// and payroll.csv.
func writePayments(ctx context.Context, lg *ledger.Ledger, run ledger.RunInfo, opt Options, dir string, sum *report.Summary) ([]*core.Payment, []core.PaymentHold, error) {
	// The reconciliation reads as much as the payments do, and nothing
	// here changes what it reads: it is read on another connection
	// meanwhile.
	type reconciled struct {
		items []core.ReconItem
		err   error
	}
	recon := make(chan reconciled, 1)
	reconCtx, stopRecon := context.WithCancel(ctx)
	go func() {
		items, err := lg.Reconciliation(reconCtx, run.ID)
		recon <- reconciled{items, err}
	}()
	reconRead := false
	defer func() {
		stopRecon()
		if !reconRead {
			<-recon // an error came first: wait for the stopped query
		}
	}()
	payments, err := lg.Payments(ctx, run.ID)
	if err != nil {
		return nil, nil, err
	}
	holds, err := lg.Holds(ctx, run.ID)
	if err != nil {
		return nil, nil, err
	}
	sum.AddPayments(payments, holds)
	prenotes, err := lg.Prenotes(ctx, run.ID)
	if err != nil {
		return nil, nil, err
	}
	days := opt.Payout.PrenoteDays
	if days <= 0 {
		days = DefaultPrenoteDays
	}
	sum.AddPrenotes(prenotes, prenoteLiveFrom(run.AsOf, days))
	notices, err := lg.BankNotices(ctx, run.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, n := range notices {
		bn := report.BankNotice{File: n.File, Entry: n.Notice.Row, Kind: n.Notice.Kind, Code: n.Notice.Code, Trace: n.Notice.OriginalTrace,
			Amount: n.Notice.Amount, Date: n.Notice.Date.String(), PayeeType: n.PayeeType, PayeeID: n.PayeeID, Applied: n.Applied, Detail: n.Detail}
		if n.PaymentID != 0 {
			bn.PaymentID = core.PaymentRef(n.PaymentID)
		}
		sum.Bank = append(sum.Bank, bn)
	}
	r := <-recon
	reconRead = true
	if r.err != nil {
		return nil, nil, r.err
	}
	sum.Reconciliation = r.items
	changes, err := lg.ReportedYearChanges(ctx, run.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range changes {
		sum.ReportedYears = append(sum.ReportedYears, report.ReportedYearChange{Year: c.Year, EmployeeID: c.EmployeeID, PlanID: c.PlanID,
			LineID: c.LineID, Amount: c.Amount, Change: c.Change, PaymentID: core.PaymentRef(c.PaymentID)})
	}
	if len(changes) > 0 {
		sum.ReportedYearsNote = report.ReportedYearNote
	}
	voids, err := checksReport(ctx, lg, run, sum)
	if err != nil {
		return nil, nil, err
	}
	mod, started, err := lg.ACHModifier(ctx, run.ID)
	if err != nil {
		return nil, nil, err
	}
	if mod != "" {
		t, err := time.Parse(time.RFC3339, started)
		if err != nil {
			return nil, nil, fmt.Errorf("run %s start time %q: %w", run.ID, started, err)
		}
		f := payout.NACHAFile{Created: run.AsOf, CreatedTime: t.Format("1504"), IDModifier: mod, EffectiveDate: payout.NextBankingDay(run.AsOf)}
		if err := safefile.Write(filepath.Join(dir, "payments.ach"), func(w io.Writer) error {
			entries := append(append(make([]*core.Payment, 0, len(payments)+len(prenotes)), payments...), prenotes...)
			return payout.WriteNACHA(w, opt.Payout.Originator, f, entries)
		}); err != nil {
			return nil, nil, err
		}
	}
	// A file is written only when it has something to pay: payroll is
	// not sent an empty register. Positive pay is written for voids too.
	has := map[string]bool{}
	for _, p := range payments {
		if p.Amount > 0 {
			has[p.Method] = true
		}
	}
	positivePay := core.MethodCheck
	if len(voids) > 0 {
		positivePay = "void"
		has[positivePay] = true
	}
	files := []struct {
		name, method string
		write        func(io.Writer) error
	}{
		{"checks.csv", core.MethodCheck, func(w io.Writer) error { return payout.WriteChecks(w, run.AsOf, payments) }},
		{"positive-pay.csv", positivePay, func(w io.Writer) error {
			return payout.WritePositivePay(w, opt.Payout.PositivePay, run.AsOf, payments, voids)
		}},
		{"payroll.csv", core.MethodPayroll, func(w io.Writer) error {
			return payout.WritePayroll(w, opt.Payout.EarningCode, payout.NextBankingDay(run.AsOf), payments)
		}},
	}
	for _, f := range files {
		if !has[f.method] {
			continue
		}
		if err := safefile.Write(filepath.Join(dir, f.name), f.write); err != nil {
			return nil, nil, err
		}
	}
	return payments, holds, nil
}

// checksReport puts what the run did with checks after issue into the
// summary, from the ledger, and returns the void records of its positive
// pay file.
func checksReport(ctx context.Context, lg *ledger.Ledger, run ledger.RunInfo, sum *report.Summary) ([]payout.VoidRecord, error) {
	voided, err := lg.Voids(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	var voids []payout.VoidRecord
	for _, c := range voided {
		voids = append(voids, payout.VoidRecord{CheckNumber: c.Number, Amount: c.Amount, Issued: c.Issued, Payee: c.PayeeName})
		sum.Checks.Voided = append(sum.Checks.Voided, report.VoidedCheck{CheckNumber: c.Number, PaymentID: core.PaymentRef(c.PaymentID),
			PayeeType: c.PayeeType, PayeeID: c.PayeeID, Amount: c.Amount, IssuedOn: c.Issued.String(), IssuedRun: c.IssuedRun,
			VoidedAt: c.VoidedAt, VoidedBy: c.VoidedBy, Reason: c.VoidReason})
	}
	notices, err := lg.CheckNotices(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	for _, n := range notices {
		ref := ""
		if n.PaymentID != 0 {
			ref = core.PaymentRef(n.PaymentID)
		}
		switch n.Kind {
		case ledger.CheckStale:
			sum.Checks.Stale = append(sum.Checks.Stale, report.StaleCheck{CheckNumber: n.CheckNumber, PaymentID: ref, PayeeType: n.PayeeType,
				PayeeID: n.PayeeID, Amount: n.Amount, IssuedOn: n.Date.String(), Days: n.Days(run.AsOf), Voided: n.Applied, Detail: n.Detail})
		default:
			sum.Checks.Cleared = append(sum.Checks.Cleared, report.ClearedRow{File: n.File, Row: n.Row, CheckNumber: n.CheckNumber,
				Amount: n.Amount, ClearedOn: n.Date.String(), PaymentID: ref, Applied: n.Applied, Alert: n.Alert, Detail: n.Detail})
			if n.Alert {
				sum.Checks.Alerts++
			}
		}
	}
	return voids, nil
}

// writeRegister writes register.xlsx from the reconciliation, the
// payments (with their trace numbers) and the run's lines in the ledger;
// wait gives it the summary (see payout.Register.Wait). Its sheets are
// compressed into temporary files in tempDir while they are written.
func writeRegister(ctx context.Context, lg *ledger.Ledger, run ledger.RunInfo, dir, tempDir string, recon []core.ReconItem, payments []*core.Payment,
	holds []core.PaymentHold, fileExceptions [][]any, wait func(*payout.Register) error) error {
	words, err := templates.Reasons()
	if err != nil {
		return err
	}
	reg := payout.Register{
		Date:           run.AsOf,
		Reconciliation: recon,
		FileExceptions: fileExceptions,
		Payments:       payments,
		Holds:          holds,
		ReasonWords:    words,
		Wait:           wait,
		TempDir:        tempDir,
		EachDecision: func(fn func(*core.Line, *core.Decision) error) error {
			return lg.RunLines(ctx, run.ID, fn)
		},
	}
	return safefile.Write(filepath.Join(dir, "register.xlsx"), func(w io.Writer) error { return payout.WriteRegister(w, reg) })
}
