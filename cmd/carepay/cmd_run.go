package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"carepay/batch"
	"carepay/core"
	"carepay/ledger"
)

const runUsage = `Usage: carepay run [--config FILE] [--inbox DIR] [--out DIR] [--db PATH] [--as-of YYYY-MM-DD]
                   [--cpuprofile FILE] [--memprofile FILE]

One full pass: pull every drop, decide every line of care, record it in the
ledger, pay, and write out/<run-id>/:
  decisions.csv     every line decided, with status, reasons and shares
  run.json          the run report (the summary printed here, in full)
  acks/             one acknowledgement per file taken, with every problem
  payments.ach      the NACHA file, when anything goes by ACH
  checks.csv        the check register, and positive-pay.csv for the bank,
                    when checks are cut
  payroll.csv       the payroll import, when anything goes through payroll
  register.xlsx     Summary, Payments, Reconciliation, Decisions, Exceptions
  letters/          a PDF letter per family and provider, and
                    print-batch.pdf (print-batch-2.pdf...) for the post
  ledger-id         which ledger made the folder
--inbox replaces the configured sources with DIR, read in place: nothing
there is moved or deleted, and acknowledgements go to out/<run-id>/acks/.
A file whose size or time changes within 1s is still being written: it is
left for a later run and listed as waiting (a configured folder source
follows its stable rule: by default a file must have rested 5s).

The run refuses, before reading anything, when the ledger is not the one
that made out/ (or the payroll deliveries): a ledger that is new,
emptied, restored from an older copy or opened with another key would
pay again what was paid. The run date never goes back: --as-of before
the ledger's last run, or outside 2000-01-01..2099-12-31, is refused.

With -v every stage logs how long it took; run.json has the same timings.
--cpuprofile and --memprofile write pprof profiles of the run (go tool
pprof FILE).
`

type runOptions struct {
	common
	inbox      string
	out        string
	asOf       string
	cpuProfile string
	memProfile string
}

var runCmd = command{name: "run", summary: "pull, decide, record and report one batch", usage: runUsage, run: runRun}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o runOptions
	fs := newFlags("run", runUsage, stderr)
	o.addFlags(fs, true)
	fs.StringVar(&o.inbox, "inbox", "", "read drops from `DIR` in place instead of the configured sources")
	fs.StringVar(&o.out, "out", "", "write run folders under `DIR` (default: run.out in the config)")
	fs.StringVar(&o.asOf, "as-of", "", "run date `YYYY-MM-DD` (default: today in run.time_zone)")
	fs.StringVar(&o.cpuProfile, "cpuprofile", "", "write a CPU profile of the run to `FILE`")
	fs.StringVar(&o.memProfile, "memprofile", "", "write a heap profile to `FILE` when the run ends")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	var asOf core.Date
	if o.asOf != "" {
		if asOf, err = core.ParseDate(o.asOf); err != nil {
			return &usageError{fmt.Sprintf("--as-of: %v", err)}
		}
	}
	cfg, err := o.load()
	if err != nil {
		return err
	}
	if asOf.IsZero() {
		asOf = core.DateOf(time.Now().In(cfg.Location()))
	}
	out := o.out
	if out == "" {
		out = cfg.Resolve(cfg.Run.Out)
	}
	// The ledger first: a wrong key stops the run before any source is
	// reached, and no ledger is created where out/ holds runs.
	lg, err := o.openRunLedger(ctx, cfg, out)
	if err != nil {
		return err
	}
	defer lg.Close()
	// On PostgreSQL ctx ends if the connection holding the run lock
	// fails: the run stops as if killed (see ledger.LockContext).
	ctx, release, err := lg.LockContext(ctx, fmt.Sprintf("carepay run, pid %d", os.Getpid()))
	if err != nil {
		return err
	}
	defer release()
	w, err := buildSources(cfg, o.inbox)
	if err != nil {
		return err
	}
	defer w.Close()
	if err := w.addDelivery(cfg); err != nil {
		return err
	}
	opt := options(cfg, w, asOf, out, o.logger(stderr))
	if isTerminal(stderr) {
		opt.Progress = progress(stderr)
	}
	stopProfiles, err := startProfiles(o.cpuProfile, o.memProfile)
	if err != nil {
		return err
	}
	res, err := batch.Run(ctx, lg, opt)
	err = ledger.WithLockCause(ctx, err)
	if perr := stopProfiles(); err == nil {
		err = perr
	}
	if err != nil {
		return err
	}
	for _, r := range res.Recovered {
		fmt.Fprintf(stdout, "completed the outputs of interrupted run %s\n", r)
	}
	fmt.Fprint(stdout, res.Summary)
	fmt.Fprintf(stdout, "outputs: %s\n", res.OutDir)
	return nil
}

// startProfiles starts a CPU profile into cpu (when named); the function
// it returns stops it and writes a heap profile into mem (when named).
func startProfiles(cpu, mem string) (stop func() error, err error) {
	var cpuFile *os.File
	if cpu != "" {
		if cpuFile, err = os.Create(cpu); err != nil {
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
		if err := pprof.StartCPUProfile(cpuFile); err != nil {
			cpuFile.Close()
			return nil, fmt.Errorf("--cpuprofile: %w", err)
		}
	}
	return func() error {
		if cpuFile != nil {
			pprof.StopCPUProfile()
			if err := cpuFile.Close(); err != nil {
				return fmt.Errorf("--cpuprofile: %w", err)
			}
		}
		if mem == "" {
			return nil
		}
		f, err := os.Create(mem)
		if err != nil {
			return fmt.Errorf("--memprofile: %w", err)
		}
		err = pprof.Lookup("heap").WriteTo(f, 0)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("--memprofile: %w", err)
		}
		return nil
	}, nil
}
