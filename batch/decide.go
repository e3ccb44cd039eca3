package batch

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"

	"carepay/core"
	"carepay/ledger"
	"carepay/report"
	"carepay/rules"
	"carepay/safefile"
	"carepay/spool"
)

// liveOutputs are the outputs written while deciding: decisions.csv aside
// (renamed into place only after the ledger commits) and the summary.
type liveOutputs struct {
	decisions *safefile.File
	summary   *report.Summary
}

type decided struct {
	line *core.Line
	d    core.Decision
}

// decideWindow is how many lines are decided between two prefetches of
// their families.
const decideWindow = 1024

// decide runs every spooled line through the rules in decision order. The
// rules run on one goroutine, the ledger inserts on another and
// decisions.csv on a third, so that the two cores share the work.
func decide(ctx context.Context, tx *ledger.Tx, opt Options, lines *spool.Sorter, invoices map[string]*invoice, pay *payer, log *slog.Logger) (*liveOutputs, error) {
	// A run killed before its commit left its temporary files here; its
	// run ID is used again now.
	if err := safefile.RemoveStale(runDir(opt.OutDir, tx.RunID)); err != nil {
		return nil, err
	}
	f, err := safefile.Create(filepath.Join(runDir(opt.OutDir, tx.RunID), "decisions.csv"))
	if err != nil {
		return nil, err
	}
	live := &liveOutputs{decisions: f, summary: report.NewSummary(tx.RunID, opt.AsOf)}
	dw := report.NewDecisionsWriter(f)
	write := func(l *core.Line, d *core.Decision) error {
		live.summary.Add(l, d)
		return dw.Write(report.NewDecisionRow(tx.RunID, l, d))
	}
	if err := tx.EachReleased(write); err != nil {
		f.Abort()
		return nil, err
	}
	live.summary.Released = live.summary.Lines

	// Whether an earlier run saw each invoice, asked in a few queries.
	refs := make([]string, 0, len(invoices))
	for ref := range invoices {
		refs = append(refs, ref)
	}
	seen, err := tx.InvoicesSeen(refs)
	if err != nil {
		f.Abort()
		return nil, err
	}
	for ref, inv := range invoices {
		inv.sum.SeenBefore, inv.looked = seen[ref], true
	}

	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	// Decided lines go to the inserts a window at a time; the inserts
	// hand each window's slice back to be filled again.
	out, free := make(chan []decided, 4), make(chan []decided, 6)
	errc := make(chan error, 1)
	engine := rules.NewEngine(opt.Plans, tx, tx)
	total := lines.Len()
	go func() {
		defer close(out)
		n := 0
		// Lines are decided a window at a time: the families of a window
		// are looked up together first (Tx.Prefetch), a few queries
		// instead of two per family, each holding the run's connection
		// that the inserts need too.
		window := make([]*core.Line, 0, decideWindow)
		ids := make([]string, 0, decideWindow)
		each := func() error {
			var batch []decided
			select {
			case batch = <-free:
			default:
				batch = make([]decided, 0, decideWindow)
			}
			ids = ids[:0]
			for _, l := range window {
				ids = append(ids, l.EmployeeID)
			}
			if err := tx.Prefetch(ids); err != nil {
				return err
			}
			for _, l := range window {
				n++
				if n%8192 == 0 {
					opt.Progress("lines", n, total)
				}
				inv, err := invoiceOf(tx, invoices, l)
				if err != nil {
					return err
				}
				d, err := engine.Decide(l, inv)
				if err != nil {
					return err
				}
				batch = append(batch, decided{l, d})
			}
			if len(batch) > 0 {
				select {
				case out <- batch:
				case <-ctx.Done():
					return ctx.Err()
				}
			}
			clear(window)
			window = window[:0]
			return nil
		}
		err := lines.Each(func(l *core.Line) error {
			if window = append(window, l); len(window) == decideWindow {
				return each()
			}
			return nil
		})
		if err == nil {
			err = each()
		}
		errc <- err
	}()
	// decisions.csv and the summary are written on a goroutine of their
	// own, in decision order, so that the ledger's inserts do not wait
	// for them.
	toWrite := make(chan decided, 4096)
	written := make(chan error, 1)
	go func() {
		var err error
		for x := range toWrite {
			if err == nil {
				err = write(x.line, &x.d)
			}
		}
		written <- err
	}()
	var werr error
	var payees [][2]string
	for batch := range out {
		if werr != nil {
			continue // drain so that the producer can finish
		}
		// The window's payees the payer has not met, looked up together.
		if pay != nil {
			payees = payees[:0]
			for i := range batch {
				if d := &batch[i].d; (d.Status == core.Approved || d.Status == core.Partial) && !pay.met(d.PayeeType, d.PayeeID) {
					payees = append(payees, [2]string{d.PayeeType, d.PayeeID})
				}
			}
			if werr = tx.PrefetchPayees(payees); werr != nil {
				cancel()
				continue
			}
		}
		for _, x := range batch {
			if werr = decideOne(tx, pay, x, toWrite); werr != nil {
				cancel()
				break
			}
		}
		clear(batch)
		select {
		case free <- batch[:0]:
		default:
		}
	}
	close(toWrite)
	if err := <-written; err != nil && werr == nil {
		werr = err
	}
	if err := <-errc; err != nil && werr == nil {
		werr = err
	}
	if werr == nil {
		werr = dw.Close()
	}
	if werr != nil {
		f.Abort()
		return nil, fmt.Errorf("deciding: %w", werr)
	}
	opt.Progress("lines", total, total)
	log.Info("lines decided", "lines", total)
	return live, nil
}

// decideOne puts a decided line on its payee's payment, records it in the
// ledger and hands it to decisions.csv.
func decideOne(tx *ledger.Tx, pay *payer, x decided, toWrite chan<- decided) error {
	var paymentID int64
	if pay != nil && (x.d.Status == core.Approved || x.d.Status == core.Partial) {
		var err error
		if paymentID, err = pay.assign(x.d.PayeeType, x.d.PayeeID, x.line.Ref, x.d.EmployerShare); err != nil {
			return err
		}
		if paymentID == 0 {
			// Approved, but its payee's payment waits for bank details.
			x.d.Add(core.PaymentDetails)
		}
	}
	if err := tx.PutDecision(x.line, &x.d, paymentID); err != nil {
		return err
	}
	toWrite <- x
	return nil
}

// invoiceOf returns the summary of l's invoice, asking the ledger once per
// invoice whether an earlier run saw it.
func invoiceOf(tx *ledger.Tx, invoices map[string]*invoice, l *core.Line) (*core.InvoiceSummary, error) {
	if l.Kind != core.Invoice {
		return nil, nil
	}
	inv := invoices[l.Ref]
	if inv == nil {
		return nil, fmt.Errorf("invoice %s was not gathered", l.Ref)
	}
	// The last row of an invoice frees its summary: memory holds only the
	// invoices still being decided.
	if inv.decided++; inv.decided == inv.sum.Rows {
		delete(invoices, l.Ref)
	}
	if !inv.looked {
		seen, err := tx.InvoiceSeen(l.Ref)
		if err != nil {
			return nil, err
		}
		inv.sum.SeenBefore, inv.looked = seen, true
	}
	return &inv.sum, nil
}
