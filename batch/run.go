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
	"time"

	"carepay/core"
	"carepay/ingest"
	"carepay/ledger"
	"carepay/rules"
)

// Options configure one run.
type Options struct {
	AsOf    core.Date
	OutDir  string
	Sources []ingest.Source
	Plans   map[string]*rules.Plan
	Logger  *slog.Logger
	// Progress, when set, is told how many files and lines are done.
	Progress func(stage string, done, total int)
	// Now gives the wall clock (tests fix it).
	Now func() time.Time
}

// Result is what a run did.
type Result struct {
	RunID   string
	OutDir  string
	Summary string
	// Recovered lists earlier runs whose outputs this run completed.
	Recovered []string
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
	res := &Result{}
	// A run killed after its commit left outputs to write: write them
	// first, from the ledger, so that nothing decided is left unreported.
	pending, err := lg.PendingRuns(ctx)
	if err != nil {
		return nil, err
	}
	for _, p := range pending {
		opt.Logger.Info("completing outputs of an earlier run", "run", p.ID)
		if _, err := writeOutputs(ctx, lg, p, opt); err != nil {
			return nil, fmt.Errorf("completing run %s: %w", p.ID, err)
		}
		res.Recovered = append(res.Recovered, p.ID)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}

	tx, err := lg.Begin(ctx, opt.AsOf, opt.Now())
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	log := opt.Logger.With("run", tx.RunID)
	released, err := tx.ReleaseApproved()
	if err != nil {
		return nil, err
	}
	if released > 0 {
		log.Info("released approved statements", "lines", released)
	}
	if err := pull(ctx, tx, opt, log); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if err := decide(ctx, tx, opt, log); err != nil {
		return nil, err
	}
	if err := tx.Commit(nil); err != nil {
		return nil, err
	}
	info := ledger.RunInfo{ID: tx.RunID, AsOf: opt.AsOf, State: ledger.StateDecided}
	sum, err := writeOutputs(ctx, lg, info, opt)
	if err != nil {
		return nil, fmt.Errorf("run %s is decided and committed, but its outputs are incomplete (the next run completes them): %w", tx.RunID, err)
	}
	res.RunID, res.OutDir, res.Summary = tx.RunID, runDir(opt.OutDir, tx.RunID), sum.Text()
	return res, nil
}

// pull takes every waiting file of every source: bytes seen before are
// skipped; the rest are read, their registries applied and their lines
// staged.
func pull(ctx context.Context, tx *ledger.Tx, opt Options, log *slog.Logger) error {
	seq := 0
	for _, src := range opt.Sources {
		names, err := src.List(ctx)
		if err != nil {
			return fmt.Errorf("source %s: %w", src.Name(), err)
		}
		for i, name := range names {
			if err := ctx.Err(); err != nil {
				return err
			}
			seq++
			opt.Progress("files", i, len(names))
			if err := pullFile(ctx, tx, src, name, seq, opt, log); err != nil {
				return err
			}
		}
		opt.Progress("files", len(names), len(names))
	}
	return nil
}

func pullFile(ctx context.Context, tx *ledger.Tx, src ingest.Source, name string, seq int, opt Options, log *slog.Logger) error {
	tmp, err := os.CreateTemp("", "carepay-drop-*")
	if err != nil {
		return fmt.Errorf("spooling %s: %w", name, err)
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	h := sha256.New()
	if err := src.Fetch(ctx, name, io.MultiWriter(tmp, h)); err != nil {
		return fmt.Errorf("source %s: %w", src.Name(), err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("spooling %s: %w", name, err)
	}
	sha := hex.EncodeToString(h.Sum(nil))
	if first, seen, err := tx.FileSeen(sha); err != nil {
		return err
	} else if seen {
		log.Info("file seen before: skipped", "file", name, "first_run", first)
		return tx.RecordSkip(sha, name, src.Name(), first)
	}
	rep, err := ingest.ReadFile(ctx, tmp.Name(), name, ingest.Options{Arrived: opt.AsOf}, func(r *ingest.Record) error {
		return apply(tx, r, seq)
	})
	if err != nil {
		return err
	}
	status := "taken"
	if rep.Rejected() {
		status = "rejected"
	}
	log.Info("file read", "file", name, "status", status, "kinds", fmt.Sprint(rep.Kinds()))
	return tx.RecordFile(sha, name, src.Name(), status, rep)
}

// apply puts a registry row into the ledger at once (so the registries of a
// drop are in place before any of its lines is decided) and stages a
// service line.
func apply(tx *ledger.Tx, r *ingest.Record, seq int) error {
	switch {
	case r.Line != nil:
		r.Line.Seq = seq
		return tx.Stage(r.Line)
	case len(r.Errors) > 0:
		return nil // a bad registry row changes nothing; its errors are in the report
	case r.Employee != nil:
		return tx.PutEmployee(r.Employee)
	case r.Dependent != nil:
		return tx.PutDependent(r.Dependent)
	case r.Provider != nil:
		return tx.PutProvider(r.Provider)
	}
	return errors.New("empty record")
}

// decide runs every staged line through the rules in decision order.
func decide(ctx context.Context, tx *ledger.Tx, opt Options, log *slog.Logger) error {
	invoices, err := tx.Invoices()
	if err != nil {
		return err
	}
	engine := rules.NewEngine(opt.Plans, tx, tx)
	n := 0
	err = tx.EachStaged(func(l *core.Line) error {
		n++
		if n%8192 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
			opt.Progress("lines", n, 0)
		}
		var inv *core.InvoiceSummary
		if l.Kind == core.Invoice {
			inv = invoices[l.Ref]
		}
		d, err := engine.Decide(l, inv)
		if err != nil {
			return err
		}
		return tx.PutDecision(l, &d)
	})
	if err != nil {
		return err
	}
	log.Info("lines decided", "lines", n)
	return nil
}
