package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/robfig/cron/v3"

	"carepay/batch"
	"carepay/config"
	"carepay/core"
	"carepay/ledger"
)

const serveUsage = `Usage: carepay serve [--config FILE] [--db PATH]

Run the jobs of [serve] in config.toml on their cron schedules, in the
configured time zone. Runs never overlap, in this process or across
processes on one ledger; a job that panics is recovered and reported; a
run missed while the daemon was down is reported when it starts. SIGTERM
or SIGINT stops the current run between two steps and exits. Health and
Prometheus metrics are served on serve.listen (loopback only): /healthz
and /metrics. A job with year_end = true runs carepay year-end for the
calendar year before the day it fires, under run.out. Like carepay run, serve refuses to start (and each job to
run) on a ledger that is not the one that made out/ or the deliveries,
with another key, or when the clock is before the ledger's last run.
`

var serveCmd = command{name: "serve", summary: "run the scheduled jobs as a daemon", usage: serveUsage, run: runServe}

// daemon runs scheduled jobs one at a time.
type daemon struct {
	cfg     *config.Config
	lg      *ledger.Ledger
	log     *slog.Logger
	metrics *metrics
	running sync.Mutex
	// runJob runs one job; tests replace it.
	runJob func(ctx context.Context, job config.Job) (*batch.Result, error)
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlags("serve", serveUsage, stderr)
	c.addFlags(fs, true)
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	c.verbose = true // a daemon logs its runs
	cfg, err := c.load()
	if err != nil {
		return err
	}
	if len(cfg.Serve.Jobs) == 0 {
		return errors.New("serve: config.toml has no [[serve.jobs]] to schedule")
	}
	lg, err := c.openRunLedger(ctx, cfg, cfg.Resolve(cfg.Run.Out))
	if err != nil {
		return err
	}
	defer lg.Close()
	d := &daemon{cfg: cfg, lg: lg, log: c.logger(stderr), metrics: newMetrics()}
	d.runJob = d.run
	if err := d.check(ctx, time.Now()); err != nil {
		return err
	}
	return d.serve(ctx)
}

// check refuses to start on a ledger that every run would refuse
// (batch.Check, which each run goes through again): one that is not the
// ledger that made out/ or the payroll deliveries, or a clock gone back
// before the ledger's last run.
func (d *daemon) check(ctx context.Context, now time.Time) error {
	w := &wiring{}
	defer w.Close()
	if err := w.addDelivery(d.cfg); err != nil {
		return err
	}
	asOf := core.DateOf(now.In(d.cfg.Location()))
	return batch.Check(ctx, d.lg, options(d.cfg, w, asOf, d.cfg.Resolve(d.cfg.Run.Out), d.log))
}

// serve schedules the jobs and blocks until ctx is cancelled, then waits
// for the running job to stop.
func (d *daemon) serve(ctx context.Context) error {
	loc := d.cfg.ServeLocation()
	c := cron.New(cron.WithLocation(loc), cron.WithParser(config.CronParser))
	for _, job := range d.cfg.Serve.Jobs {
		if _, err := c.AddFunc(job.Schedule, func() { d.tick(ctx, job) }); err != nil {
			return fmt.Errorf("serve: job %s: %w", job.Name, err)
		}
	}
	if err := d.reportMissed(ctx, time.Now().In(loc)); err != nil {
		return err
	}
	var srv *http.Server
	if d.cfg.Serve.Listen != "" {
		ln, err := net.Listen("tcp", d.cfg.Serve.Listen)
		if err != nil {
			return fmt.Errorf("serve: listening on %s: %w", d.cfg.Serve.Listen, err)
		}
		srv = &http.Server{Handler: d.handler(), ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		d.log.Info("health and metrics", "addr", ln.Addr().String())
	}
	d.metrics.serving()
	c.Start()
	d.log.Info("serving", "jobs", len(d.cfg.Serve.Jobs), "time_zone", loc.String())
	<-ctx.Done()
	d.log.Info("stopping: waiting for the running job to stop")
	<-c.Stop().Done()
	if srv != nil {
		shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.Shutdown(shut)
	}
	d.log.Info("stopped")
	return nil
}

// tick runs a job unless another run is going on; a panic is recovered and
// reported, never taking the daemon down.
func (d *daemon) tick(ctx context.Context, job config.Job) {
	if !d.running.TryLock() {
		d.log.Warn("skipped: the previous run is still going", "job", job.Name)
		d.metrics.skipped(job.Name)
		return
	}
	defer d.running.Unlock()
	if ctx.Err() != nil {
		return
	}
	start := time.Now()
	var res *batch.Result
	var err error
	func() {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("panic: %v", r)
			}
		}()
		res, err = d.runJob(ctx, job)
	}()
	if errors.Is(err, ledger.ErrLocked) {
		d.log.Warn("skipped: another process holds the ledger", "job", job.Name, "err", err)
		d.metrics.skipped(job.Name)
		return
	}
	if errors.Is(err, errRanElsewhere) {
		d.log.Info("skipped: another process ran this activation of the job", "job", job.Name)
		d.metrics.skipped(job.Name)
		return
	}
	if err != nil {
		d.log.Error("run failed", "job", job.Name, "err", err)
		d.metrics.run(job.Name, time.Since(start), nil, err)
		return
	}
	d.log.Info("run done", "job", job.Name, "run", res.RunID, "lines", res.Lines)
	d.metrics.run(job.Name, time.Since(start), res.Report, nil)
}

// run is one scheduled run: the ledger lock, fresh connections to the
// sources, and batch.Run.
func (d *daemon) run(ctx context.Context, job config.Job) (*batch.Result, error) {
	if job.YearEnd {
		return d.yearEnd(ctx, job, time.Now())
	}
	tickAt := time.Now()
	// On PostgreSQL, ctx from here on ends if the connection holding the
	// lock fails: the run stops as if killed, before another daemon can
	// take the lock over.
	ctx, release, err := d.lg.LockContext(ctx, fmt.Sprintf("carepay serve job %s, pid %d", job.Name, os.Getpid()))
	if err != nil {
		return nil, err
	}
	defer release()
	// Several daemons on one ledger (PostgreSQL) all tick: the first takes
	// the lock and runs, the others find the lock held, or, coming just
	// after it finished, find that the job has already run for this
	// activation (its next activation after that run is still to come).
	if ran, err := d.ranSince(ctx, job, tickAt); err != nil || ran {
		return nil, err
	}
	w, err := buildSources(d.cfg, "")
	if err != nil {
		return nil, err
	}
	defer w.Close()
	if err := w.addDelivery(d.cfg); err != nil {
		return nil, err
	}
	asOf := core.DateOf(time.Now().In(d.cfg.Location()))
	opt := options(d.cfg, w, asOf, d.cfg.Resolve(d.cfg.Run.Out), d.log.With("job", job.Name))
	opt.Job, opt.NoPayments = job.Name, !job.Pay
	res, err := batch.Run(ctx, d.lg, opt)
	return res, ledger.WithLockCause(ctx, err)
}

// errRanElsewhere says a job's activation was run already, by another
// daemon on the same ledger.
var errRanElsewhere = errors.New("the job has run for this activation already (another carepay serve on this ledger)")

// ranSince reports, as errRanElsewhere, that job's latest run is of the
// activation that fired at tickAt: the activation after that run is
// still to come.
func (d *daemon) ranSince(ctx context.Context, job config.Job, tickAt time.Time) (bool, error) {
	sched, err := config.CronParser.Parse(job.Schedule)
	if err != nil {
		return false, err
	}
	last, err := d.lg.LastRun(ctx, job.Name)
	if err != nil {
		return false, fmt.Errorf("reading the last run of %s: %w", job.Name, err)
	}
	if !last.IsZero() && sched.Next(last.In(d.cfg.ServeLocation())).After(tickAt) {
		return true, errRanElsewhere
	}
	return false, nil
}

// yearEnd is a scheduled year-end report: of the calendar year before
// the day the job fires (in run.time_zone), under run.out, refused like
// a run on a ledger that is not the one that made out/.
func (d *daemon) yearEnd(ctx context.Context, job config.Job, now time.Time) (*batch.Result, error) {
	w := &wiring{}
	defer w.Close()
	if err := w.addPayrollSink(d.cfg); err != nil {
		return nil, err
	}
	out := d.cfg.Resolve(d.cfg.Run.Out)
	log := d.log.With("job", job.Name)
	if err := batch.CheckOutputs(ctx, d.lg, options(d.cfg, w, 0, out, log)); err != nil {
		return nil, fmt.Errorf("nothing reported: %w", err)
	}
	year := now.In(d.cfg.Location()).Year() - 1
	res, err := yearEnd(ctx, d.cfg, d.lg, year, out, log, now)
	if err != nil {
		return nil, err
	}
	log.Info("year end reported", "year", year, "report", res.Report, "employees", len(res.Rows), "corrections", len(res.Corrections), "dir", res.Dir)
	return &batch.Result{OutDir: res.Dir}, nil
}

// reportMissed logs (and counts) every job whose schedule fell due while
// the daemon was down: its next activation after its last run is before
// now.
func (d *daemon) reportMissed(ctx context.Context, now time.Time) error {
	for _, job := range d.cfg.Serve.Jobs {
		sched, err := config.CronParser.Parse(job.Schedule)
		if err != nil {
			return err
		}
		last, err := d.lg.LastRun(ctx, job.Name)
		if err != nil {
			return fmt.Errorf("serve: last run of %s: %w", job.Name, err)
		}
		if last.IsZero() {
			continue
		}
		if due := sched.Next(last.In(now.Location())); due.Before(now) {
			d.log.Warn("missed run while the daemon was down", "job", job.Name, "due", due.Format(time.RFC3339), "last_run", last.Format(time.RFC3339))
			d.metrics.missedRun(job.Name)
		}
	}
	return nil
}

func (d *daemon) handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) {
		if err := d.lg.DB().PingContext(r.Context()); err != nil {
			http.Error(w, "ledger unavailable", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ok")
	})
	mux.Handle("/metrics", d.metrics.handler())
	return mux
}
