package main

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"carepay/batch"
	"carepay/config"
	"carepay/core"
	"carepay/report"
)

// scrape GETs /metrics from a real HTTP server on the daemon's handler and
// parses the text format.
func scrape(t *testing.T, d *daemon) map[string]*dto.MetricFamily {
	t.Helper()
	srv := httptest.NewServer(d.handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/plain") {
		t.Fatalf("/metrics: %d, Content-Type %q", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("parsing /metrics: %v", err)
	}
	return fams
}

// sample finds the sample of a family whose labels are exactly labels
// (name, value pairs); nil when there is none.
func sample(fams map[string]*dto.MetricFamily, name string, labels ...string) *dto.Metric {
	f := fams[name]
	if f == nil {
		return nil
	}
	for _, m := range f.GetMetric() {
		if len(m.GetLabel())*2 != len(labels) {
			continue
		}
		match := true
		for i, l := range m.GetLabel() {
			if l.GetName() != labels[2*i] || l.GetValue() != labels[2*i+1] {
				match = false
			}
		}
		if match {
			return m
		}
	}
	return nil
}

// counterValue is the value of a counter sample, or -1 when it is missing.
func counterValue(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	m := sample(fams, name, labels...)
	if m == nil || m.GetCounter() == nil {
		return -1
	}
	return m.GetCounter().GetValue()
}

// TestMetricsScrapeAfterRuns scrapes /metrics after a real scheduled run, a
// failed one, a skipped one and a missed one: every family is there with
// its type, the duration histogram counted the runs and the rate histogram
// the completed one, and the failure shows in carepay_errors_total.
func TestMetricsScrapeAfterRuns(t *testing.T) {
	d, _ := testDaemon(t, "[[serve.jobs]]\nname = \"pay\"\nschedule = \"@every 1h\"\npay = true\n"+
		"[[serve.jobs]]\nname = \"pull\"\nschedule = \"0 6 * * *\"\n")
	ctx := context.Background()
	two := time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
	if _, err := d.lg.DB().Exec(`INSERT INTO runs (id, as_of, started_at, state, job) VALUES ('20200101-001', '2020-01-01', ?, 'written', 'pull')`, two); err != nil {
		t.Fatal(err)
	}
	if err := d.reportMissed(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	pay := d.cfg.Serve.Jobs[0]
	d.tick(ctx, pay)

	fams := scrape(t, d)
	if got := counterValue(fams, "carepay_runs_total", "job", "pay", "result", "ok"); got != 1 {
		t.Fatalf("carepay_runs_total{job=pay,result=ok} = %v after one run", got)
	}
	if got := counterValue(fams, "carepay_errors_total", "job", "pay"); got != -1 {
		t.Errorf("carepay_errors_total{job=pay} = %v before any failure", got)
	}
	dur := sample(fams, "carepay_run_duration_seconds", "job", "pay").GetHistogram()
	if dur.GetSampleCount() != 1 || dur.GetSampleSum() <= 0 {
		t.Errorf("duration histogram after one run: count %d, sum %v", dur.GetSampleCount(), dur.GetSampleSum())
	}
	rate := sample(fams, "carepay_run_lines_per_second", "job", "pay").GetHistogram()
	if rate.GetSampleCount() != 1 || math.Abs(rate.GetSampleSum()-lines(fams)/dur.GetSampleSum()) > 1e-6*rate.GetSampleSum() {
		t.Errorf("rate histogram: count %d, sum %v; want one sample of %v lines over %vs",
			rate.GetSampleCount(), rate.GetSampleSum(), lines(fams), dur.GetSampleSum())
	}

	d.runJob = func(context.Context, config.Job) (*batch.Result, error) { return nil, errors.New("source down") }
	d.tick(ctx, pay)
	d.running.Lock() // a run still going: the next tick skips
	d.tick(ctx, pay)
	d.running.Unlock()
	d.metrics.serving()

	fams = scrape(t, d)
	want := map[string]dto.MetricType{
		"carepay_runs_total":                 dto.MetricType_COUNTER,
		"carepay_files_total":                dto.MetricType_COUNTER,
		"carepay_lines_total":                dto.MetricType_COUNTER,
		"carepay_paid_cents_total":           dto.MetricType_COUNTER,
		"carepay_payments_held_total":        dto.MetricType_COUNTER,
		"carepay_errors_total":               dto.MetricType_COUNTER,
		"carepay_missed_runs_total":          dto.MetricType_COUNTER,
		"carepay_last_run_timestamp_seconds": dto.MetricType_GAUGE,
		"carepay_last_run_success":           dto.MetricType_GAUGE,
		"carepay_last_run_duration_seconds":  dto.MetricType_GAUGE,
		"carepay_up":                         dto.MetricType_GAUGE,
		"carepay_run_duration_seconds":       dto.MetricType_HISTOGRAM,
		"carepay_run_lines_per_second":       dto.MetricType_HISTOGRAM,
	}
	for name, typ := range want {
		f := fams[name]
		if f == nil {
			t.Errorf("/metrics has no %s", name)
			continue
		}
		if f.GetType() != typ || f.GetHelp() == "" {
			t.Errorf("%s: type %v, help %q; want %v with a help text", name, f.GetType(), f.GetHelp(), typ)
		}
	}
	for name := range fams {
		if _, ok := want[name]; !ok {
			t.Errorf("/metrics has an unexpected family %s", name)
		}
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"carepay_errors_total", []string{"job", "pay"}, 1},
		{"carepay_runs_total", []string{"job", "pay", "result", "ok"}, 1},
		{"carepay_runs_total", []string{"job", "pay", "result", "failed"}, 1},
		{"carepay_runs_total", []string{"job", "pay", "result", "skipped"}, 1},
		{"carepay_missed_runs_total", []string{"job", "pull"}, 1},
		{"carepay_files_total", []string{"status", "taken"}, 8},
		{"carepay_lines_total", []string{"status", "approved"}, 40},
		{"carepay_paid_cents_total", []string{"method", "ach"}, 356150},
	} {
		if got := counterValue(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	if got := sample(fams, "carepay_last_run_success", "job", "pay").GetGauge().GetValue(); got != 0 {
		t.Errorf("carepay_last_run_success{job=pay} = %v after a failed run", got)
	}
	if got := sample(fams, "carepay_up").GetGauge().GetValue(); got != 1 {
		t.Errorf("carepay_up = %v while serving", got)
	}
	dur = sample(fams, "carepay_run_duration_seconds", "job", "pay").GetHistogram()
	if dur.GetSampleCount() != 2 {
		t.Errorf("duration histogram counted %d runs, want 2 (the skipped run is no run)", dur.GetSampleCount())
	}
	var bounds []float64
	for _, b := range dur.GetBucket() {
		bounds = append(bounds, b.GetUpperBound())
	}
	if want := append(slices.Clone(runDurationBuckets), math.Inf(1)); !slices.Equal(bounds, want) {
		t.Errorf("duration buckets %v, want %v", bounds, want)
	}
	if n := sample(fams, "carepay_run_lines_per_second", "job", "pay").GetHistogram().GetSampleCount(); n != 1 {
		t.Errorf("rate histogram counted %d runs, want only the completed one", n)
	}
}

// lines adds up carepay_lines_total over its statuses.
func lines(fams map[string]*dto.MetricFamily) float64 {
	var n float64
	for _, m := range fams["carepay_lines_total"].GetMetric() {
		n += m.GetCounter().GetValue()
	}
	return n
}

// TestMetricsRunHistograms: a run's duration and lines per second land in
// the right buckets; failed runs and runs that decided nothing have no
// rate.
func TestMetricsRunHistograms(t *testing.T) {
	m := newMetrics()
	sum := &report.Summary{Lines: 5000, ByStatus: map[string]int{"approved": 4000, "denied": 1000},
		ByMethod: map[string]*report.MethodTotals{"check": {Amount: core.Cents(1234)}},
		Held:     []report.HeldPayment{{}, {}}, Files: report.FileCounts{Taken: []string{"a", "b"}, Rejected: []string{"c"}}}
	m.run("pay", 2*time.Second, sum, nil)                           // 2,500 lines/s
	m.run("pay", 90*time.Second, &report.Summary{}, nil)            // nothing decided
	m.run("pay", 400*time.Second, nil, errors.New("ledger locked")) // failed
	m.run("pull", 1500*time.Millisecond, &report.Summary{Lines: 300000}, nil)

	expected := `
# HELP carepay_run_lines_per_second Service lines decided per second of run, for each completed run of a job that decided lines.
# TYPE carepay_run_lines_per_second histogram
carepay_run_lines_per_second_bucket{job="pay",le="100"} 0
carepay_run_lines_per_second_bucket{job="pay",le="250"} 0
carepay_run_lines_per_second_bucket{job="pay",le="500"} 0
carepay_run_lines_per_second_bucket{job="pay",le="1000"} 0
carepay_run_lines_per_second_bucket{job="pay",le="2500"} 1
carepay_run_lines_per_second_bucket{job="pay",le="5000"} 1
carepay_run_lines_per_second_bucket{job="pay",le="10000"} 1
carepay_run_lines_per_second_bucket{job="pay",le="25000"} 1
carepay_run_lines_per_second_bucket{job="pay",le="50000"} 1
carepay_run_lines_per_second_bucket{job="pay",le="100000"} 1
carepay_run_lines_per_second_bucket{job="pay",le="250000"} 1
carepay_run_lines_per_second_bucket{job="pay",le="500000"} 1
carepay_run_lines_per_second_bucket{job="pay",le="1e+06"} 1
carepay_run_lines_per_second_bucket{job="pay",le="+Inf"} 1
carepay_run_lines_per_second_sum{job="pay"} 2500
carepay_run_lines_per_second_count{job="pay"} 1
carepay_run_lines_per_second_bucket{job="pull",le="100"} 0
carepay_run_lines_per_second_bucket{job="pull",le="250"} 0
carepay_run_lines_per_second_bucket{job="pull",le="500"} 0
carepay_run_lines_per_second_bucket{job="pull",le="1000"} 0
carepay_run_lines_per_second_bucket{job="pull",le="2500"} 0
carepay_run_lines_per_second_bucket{job="pull",le="5000"} 0
carepay_run_lines_per_second_bucket{job="pull",le="10000"} 0
carepay_run_lines_per_second_bucket{job="pull",le="25000"} 0
carepay_run_lines_per_second_bucket{job="pull",le="50000"} 0
carepay_run_lines_per_second_bucket{job="pull",le="100000"} 0
carepay_run_lines_per_second_bucket{job="pull",le="250000"} 1
carepay_run_lines_per_second_bucket{job="pull",le="500000"} 1
carepay_run_lines_per_second_bucket{job="pull",le="1e+06"} 1
carepay_run_lines_per_second_bucket{job="pull",le="+Inf"} 1
carepay_run_lines_per_second_sum{job="pull"} 200000
carepay_run_lines_per_second_count{job="pull"} 1
# HELP carepay_run_duration_seconds How long each completed or failed run of a job took, in seconds.
# TYPE carepay_run_duration_seconds histogram
carepay_run_duration_seconds_bucket{job="pay",le="1"} 0
carepay_run_duration_seconds_bucket{job="pay",le="2.5"} 1
carepay_run_duration_seconds_bucket{job="pay",le="5"} 1
carepay_run_duration_seconds_bucket{job="pay",le="10"} 1
carepay_run_duration_seconds_bucket{job="pay",le="30"} 1
carepay_run_duration_seconds_bucket{job="pay",le="60"} 1
carepay_run_duration_seconds_bucket{job="pay",le="120"} 2
carepay_run_duration_seconds_bucket{job="pay",le="300"} 2
carepay_run_duration_seconds_bucket{job="pay",le="600"} 3
carepay_run_duration_seconds_bucket{job="pay",le="1200"} 3
carepay_run_duration_seconds_bucket{job="pay",le="1800"} 3
carepay_run_duration_seconds_bucket{job="pay",le="3600"} 3
carepay_run_duration_seconds_bucket{job="pay",le="+Inf"} 3
carepay_run_duration_seconds_sum{job="pay"} 492
carepay_run_duration_seconds_count{job="pay"} 3
carepay_run_duration_seconds_bucket{job="pull",le="1"} 0
carepay_run_duration_seconds_bucket{job="pull",le="2.5"} 1
carepay_run_duration_seconds_bucket{job="pull",le="5"} 1
carepay_run_duration_seconds_bucket{job="pull",le="10"} 1
carepay_run_duration_seconds_bucket{job="pull",le="30"} 1
carepay_run_duration_seconds_bucket{job="pull",le="60"} 1
carepay_run_duration_seconds_bucket{job="pull",le="120"} 1
carepay_run_duration_seconds_bucket{job="pull",le="300"} 1
carepay_run_duration_seconds_bucket{job="pull",le="600"} 1
carepay_run_duration_seconds_bucket{job="pull",le="1200"} 1
carepay_run_duration_seconds_bucket{job="pull",le="1800"} 1
carepay_run_duration_seconds_bucket{job="pull",le="3600"} 1
carepay_run_duration_seconds_bucket{job="pull",le="+Inf"} 1
carepay_run_duration_seconds_sum{job="pull"} 1.5
carepay_run_duration_seconds_count{job="pull"} 1
# HELP carepay_errors_total Runs that failed or panicked, by job.
# TYPE carepay_errors_total counter
carepay_errors_total{job="pay"} 1
# HELP carepay_runs_total Scheduled runs by job and result (ok, failed, skipped).
# TYPE carepay_runs_total counter
carepay_runs_total{job="pay",result="failed"} 1
carepay_runs_total{job="pay",result="ok"} 2
carepay_runs_total{job="pull",result="ok"} 1
# HELP carepay_last_run_duration_seconds How long the last run of a job took.
# TYPE carepay_last_run_duration_seconds gauge
carepay_last_run_duration_seconds{job="pay"} 400
carepay_last_run_duration_seconds{job="pull"} 1.5
# HELP carepay_last_run_success 1 when the last run of a job completed, 0 when it failed.
# TYPE carepay_last_run_success gauge
carepay_last_run_success{job="pay"} 0
carepay_last_run_success{job="pull"} 1
# HELP carepay_lines_total Service lines decided, by status.
# TYPE carepay_lines_total counter
carepay_lines_total{status="approved"} 4000
carepay_lines_total{status="denied"} 1000
# HELP carepay_files_total Input files by what became of them.
# TYPE carepay_files_total counter
carepay_files_total{status="rejected"} 1
carepay_files_total{status="skipped"} 0
carepay_files_total{status="taken"} 2
# HELP carepay_paid_cents_total Money paid, in cents, by payment method.
# TYPE carepay_paid_cents_total counter
carepay_paid_cents_total{method="check"} 1234
# HELP carepay_payments_held_total Payments held for bank details.
# TYPE carepay_payments_held_total counter
carepay_payments_held_total 2
`
	if err := testutil.GatherAndCompare(m.reg, strings.NewReader(expected),
		"carepay_run_lines_per_second", "carepay_run_duration_seconds", "carepay_errors_total", "carepay_runs_total",
		"carepay_last_run_duration_seconds", "carepay_last_run_success", "carepay_lines_total", "carepay_files_total",
		"carepay_paid_cents_total", "carepay_payments_held_total"); err != nil {
		t.Error(err)
	}
	if ts := testutil.ToFloat64(m.lastRun.WithLabelValues("pay")); math.Abs(ts-float64(time.Now().Unix())) > 5 {
		t.Errorf("carepay_last_run_timestamp_seconds{job=pay} = %v, now is %v", ts, time.Now().Unix())
	}
}

// TestMetricsRegistryPerDaemon: two daemons' metrics never share a count
// (and building the second does not collide with the first's names).
func TestMetricsRegistryPerDaemon(t *testing.T) {
	a, b := newMetrics(), newMetrics()
	a.run("pay", time.Second, nil, errors.New("down"))
	a.skipped("pay")
	a.missedRun("pay")
	a.serving()
	if n := testutil.ToFloat64(a.errors.WithLabelValues("pay")); n != 1 {
		t.Errorf("first daemon: %v errors", n)
	}
	if n, err := testutil.GatherAndCount(b.reg, "carepay_errors_total", "carepay_runs_total", "carepay_missed_runs_total", "carepay_run_duration_seconds"); err != nil || n != 0 {
		t.Errorf("second daemon: %d samples (%v), want none", n, err)
	}
	if up := testutil.ToFloat64(b.up); up != 0 {
		t.Errorf("second daemon up = %v before serving", up)
	}
}
