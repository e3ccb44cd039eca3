package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"carepay/report"
)

// metrics are the counters `carepay serve` shows on /metrics, in the
// Prometheus text format.
type metrics struct {
	mu       sync.Mutex
	counters map[string]float64 // name{labels} -> value
	gauges   map[string]float64
	help     map[string]string
}

func newMetrics() *metrics {
	return &metrics{counters: map[string]float64{}, gauges: map[string]float64{}, help: map[string]string{
		"carepay_runs_total":                 "Scheduled runs by job and result (ok, failed, skipped).",
		"carepay_files_total":                "Input files by what became of them.",
		"carepay_lines_total":                "Service lines decided, by status.",
		"carepay_paid_cents_total":           "Money paid, in cents, by payment method.",
		"carepay_payments_held_total":        "Payments held for bank details.",
		"carepay_errors_total":               "Runs that failed or panicked, by job.",
		"carepay_missed_runs_total":          "Scheduled runs missed while the daemon was down, by job.",
		"carepay_last_run_timestamp_seconds": "When the last run of a job ended.",
		"carepay_last_run_success":           "1 when the last run of a job completed, 0 when it failed.",
		"carepay_last_run_duration_seconds":  "How long the last run of a job took.",
		"carepay_up":                         "1 while the daemon is serving.",
	}}
}

func key(name string, labels ...string) string {
	if len(labels) == 0 {
		return name
	}
	var b strings.Builder
	b.WriteString(name + "{")
	for i := 0; i+1 < len(labels); i += 2 {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, "%s=%q", labels[i], labels[i+1])
	}
	b.WriteByte('}')
	return b.String()
}

func (m *metrics) add(v float64, name string, labels ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.counters[key(name, labels...)] += v
}

func (m *metrics) set(v float64, name string, labels ...string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.gauges[key(name, labels...)] = v
}

// run records a finished run of a job.
func (m *metrics) run(job string, start time.Time, sum *report.Summary, err error) {
	result := "ok"
	if err != nil {
		result = "failed"
		m.add(1, "carepay_errors_total", "job", job)
	}
	m.add(1, "carepay_runs_total", "job", job, "result", result)
	m.set(float64(time.Now().Unix()), "carepay_last_run_timestamp_seconds", "job", job)
	m.set(time.Since(start).Seconds(), "carepay_last_run_duration_seconds", "job", job)
	ok := 0.0
	if err == nil {
		ok = 1
	}
	m.set(ok, "carepay_last_run_success", "job", job)
	if sum == nil {
		return
	}
	m.add(float64(len(sum.Files.Taken)), "carepay_files_total", "status", "taken")
	m.add(float64(len(sum.Files.Skipped)), "carepay_files_total", "status", "skipped")
	m.add(float64(len(sum.Files.Rejected)), "carepay_files_total", "status", "rejected")
	for status, n := range sum.ByStatus {
		m.add(float64(n), "carepay_lines_total", "status", status)
	}
	for method, t := range sum.ByMethod {
		m.add(float64(t.Amount), "carepay_paid_cents_total", "method", method)
	}
	m.add(float64(len(sum.Held)), "carepay_payments_held_total")
}

// write renders the metrics, sorted, in the Prometheus text format.
func (m *metrics) write(w io.Writer) {
	m.mu.Lock()
	defer m.mu.Unlock()
	type sample struct {
		key  string
		v    float64
		kind string
	}
	byName := map[string][]sample{}
	for k, v := range m.counters {
		byName[metricName(k)] = append(byName[metricName(k)], sample{k, v, "counter"})
	}
	for k, v := range m.gauges {
		byName[metricName(k)] = append(byName[metricName(k)], sample{k, v, "gauge"})
	}
	names := make([]string, 0, len(byName))
	for n := range byName {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		ss := byName[n]
		sort.Slice(ss, func(i, j int) bool { return ss[i].key < ss[j].key })
		fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n", n, m.help[n], n, ss[0].kind)
		for _, s := range ss {
			fmt.Fprintf(w, "%s %g\n", s.key, s.v)
		}
	}
}

func metricName(k string) string {
	name, _, _ := strings.Cut(k, "{")
	return name
}
