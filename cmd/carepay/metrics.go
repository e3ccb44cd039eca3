package main

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"carepay/report"
)

// Buckets of the run histograms. Scheduled runs take from about a second
// (an empty drop) to tens of minutes (a month's drop); deciding runs at
// hundreds to a million service lines a second.
var (
	runDurationBuckets = []float64{1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600}
	linesPerSecBuckets = []float64{100, 250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000}
)

// metrics are what `carepay serve` shows on /metrics: client_golang
// collectors on a registry of the daemon's own, so that several daemons in
// one process (as in tests) never share a count.
type metrics struct {
	reg *prometheus.Registry

	runs, files, lines, paid, errors, missed *prometheus.CounterVec
	held                                     prometheus.Counter
	lastRun, lastSuccess, lastDuration       *prometheus.GaugeVec
	up                                       prometheus.Gauge
	duration, rate                           *prometheus.HistogramVec
}

func newMetrics() *metrics {
	counter := func(name, help string, labels ...string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: name, Help: help}, labels)
	}
	gauge := func(name, help string, labels ...string) *prometheus.GaugeVec {
		return prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: name, Help: help}, labels)
	}
	m := &metrics{
		reg:          prometheus.NewRegistry(),
		runs:         counter("carepay_runs_total", "Scheduled runs by job and result (ok, failed, skipped).", "job", "result"),
		files:        counter("carepay_files_total", "Input files by what became of them.", "status"),
		lines:        counter("carepay_lines_total", "Service lines decided, by status.", "status"),
		paid:         counter("carepay_paid_cents_total", "Money paid, in cents, by payment method.", "method"),
		errors:       counter("carepay_errors_total", "Runs that failed or panicked, by job.", "job"),
		missed:       counter("carepay_missed_runs_total", "Scheduled runs missed while the daemon was down, by job.", "job"),
		held:         prometheus.NewCounter(prometheus.CounterOpts{Name: "carepay_payments_held_total", Help: "Payments held for bank details."}),
		lastRun:      gauge("carepay_last_run_timestamp_seconds", "When the last run of a job ended.", "job"),
		lastSuccess:  gauge("carepay_last_run_success", "1 when the last run of a job completed, 0 when it failed.", "job"),
		lastDuration: gauge("carepay_last_run_duration_seconds", "How long the last run of a job took.", "job"),
		up:           prometheus.NewGauge(prometheus.GaugeOpts{Name: "carepay_up", Help: "1 while the daemon is serving."}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "carepay_run_duration_seconds",
			Help:    "How long each completed or failed run of a job took, in seconds.",
			Buckets: runDurationBuckets,
		}, []string{"job"}),
		rate: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "carepay_run_lines_per_second",
			Help:    "Service lines decided per second of run, for each completed run of a job that decided lines.",
			Buckets: linesPerSecBuckets,
		}, []string{"job"}),
	}
	m.reg.MustRegister(m.runs, m.files, m.lines, m.paid, m.errors, m.missed, m.held,
		m.lastRun, m.lastSuccess, m.lastDuration, m.up, m.duration, m.rate)
	return m
}

// handler serves the registry in the exposition format the scraper asks
// for (the Prometheus text format by default).
func (m *metrics) handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// serving marks the daemon as up.
func (m *metrics) serving() { m.up.Set(1) }

// skipped counts a run of job that did not happen: the previous run was
// still going, or another process held the ledger.
func (m *metrics) skipped(job string) { m.runs.WithLabelValues(job, "skipped").Inc() }

// missedRun counts a scheduled run of job missed while the daemon was down.
func (m *metrics) missedRun(job string) { m.missed.WithLabelValues(job).Inc() }

// run records a finished run of a job that took elapsed: its result, its
// duration and, for a completed run, what it decided (sum) and how fast.
func (m *metrics) run(job string, elapsed time.Duration, sum *report.Summary, err error) {
	result, ok := "ok", 1.0
	if err != nil {
		result, ok = "failed", 0
		m.errors.WithLabelValues(job).Inc()
	}
	secs := elapsed.Seconds()
	m.runs.WithLabelValues(job, result).Inc()
	m.lastRun.WithLabelValues(job).Set(float64(time.Now().Unix()))
	m.lastDuration.WithLabelValues(job).Set(secs)
	m.lastSuccess.WithLabelValues(job).Set(ok)
	m.duration.WithLabelValues(job).Observe(secs)
	if sum == nil {
		return
	}
	m.files.WithLabelValues("taken").Add(float64(len(sum.Files.Taken)))
	m.files.WithLabelValues("skipped").Add(float64(len(sum.Files.Skipped)))
	m.files.WithLabelValues("rejected").Add(float64(len(sum.Files.Rejected)))
	for status, n := range sum.ByStatus {
		m.lines.WithLabelValues(status).Add(float64(n))
	}
	for method, t := range sum.ByMethod {
		m.paid.WithLabelValues(method).Add(float64(t.Amount))
	}
	m.held.Add(float64(len(sum.Held)))
	if sum.Lines > 0 && secs > 0 {
		m.rate.WithLabelValues(job).Observe(float64(sum.Lines) / secs)
	}
}
