package main

import (
	"context"
	"errors"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"carepay/batch"
	"carepay/config"
	"carepay/ledger"
)

// testDaemon builds a daemon on a copy of the fixtures with jobs every
// second.
func testDaemon(t *testing.T, jobs string) (*daemon, string) {
	t.Helper()
	dir := t.TempDir()
	inbox := filepath.Join(dir, "drop")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	entries, _ := os.ReadDir("../../fixtures/drop")
	for _, e := range entries {
		b, _ := os.ReadFile(filepath.Join("../../fixtures/drop", e.Name()))
		os.WriteFile(filepath.Join(inbox, e.Name()), b, 0o644)
		// A drop that has rested longer than the folder's stable_wait.
		then := time.Now().Add(-time.Minute)
		os.Chtimes(filepath.Join(inbox, e.Name()), then, then)
	}
	path := serveConfig(t, dir, inbox, jobs)
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	c := common{configPath: path, dbPath: filepath.Join(dir, "ledger.db")}
	lg, err := c.openLedger(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	d := &daemon{cfg: cfg, lg: lg, log: c.logger(io.Discard), metrics: newMetrics()}
	d.runJob = d.run
	return d, dir
}

// serveConfig writes dir/config.toml: the shipped config with the drop
// folder inbox, archive, reports and out/ under dir, the demo key, and
// jobs (TOML [[serve.jobs]] entries) in place of the shipped [serve]
// section.
func serveConfig(t *testing.T, dir, inbox, jobs string) string {
	t.Helper()
	text, err := os.ReadFile("../../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	s := strings.Replace(string(text), `path = "drop/inbox"`, `path = "`+inbox+`"`, 1)
	s = strings.Replace(s, `archive = "drop/archive"`, `archive = "`+filepath.Join(dir, "archive")+`"`, 1)
	s = strings.Replace(s, `reports = "drop/reports"`, `reports = "`+filepath.Join(dir, "reports")+`"`, 1)
	s = strings.Replace(s, `out = "out"`, `out = "`+filepath.Join(dir, "out")+`"`, 1)
	s = strings.Replace(s, `key_file = "fixtures/demo-ledger.key"`, `key_file = "`+filepath.Join(mustAbs(t, "../../fixtures"), "demo-ledger.key")+`"`, 1)
	i, j := strings.Index(s, "[serve]"), strings.Index(s, "[letters]")
	if i < 0 || j < i {
		t.Fatal("config.toml: no [serve] section before [letters]")
	}
	s = s[:i] + s[j:] + "\n[serve]\n" + jobs
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func mustAbs(t *testing.T, p string) string {
	a, err := filepath.Abs(p)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func metricsText(d *daemon) string {
	rec := httptest.NewRecorder()
	d.handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return rec.Body.String()
}

// TestServeRunsJobsAndStopsCleanly runs the daemon with a job every second
// until it has run, then cancels it as SIGTERM would.
func TestServeRunsJobsAndStopsCleanly(t *testing.T) {
	d, dir := testDaemon(t, "[[serve.jobs]]\nname = \"pay\"\nschedule = \"@every 1s\"\npay = true\n")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- d.serve(ctx) }()
	deadline := time.Now().Add(20 * time.Second)
	for !strings.Contains(metricsText(d), `carepay_runs_total{job="pay",result="ok"}`) {
		if time.Now().After(deadline) {
			t.Fatalf("no run within 20s; metrics:\n%s", metricsText(d))
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
	m := metricsText(d)
	for _, want := range []string{`carepay_files_total{status="taken"} 8`, `carepay_lines_total{status="approved"} 40`, `carepay_paid_cents_total{method="ach"} 356150`, "carepay_up 1"} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q:\n%s", want, m)
		}
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "drop")); len(left) != 0 {
		t.Errorf("the drop folder still holds %d files", len(left))
	}
	rec := httptest.NewRecorder()
	d.handler().ServeHTTP(rec, httptest.NewRequest("GET", "/healthz", nil))
	if rec.Code != 200 || rec.Body.String() != "ok\n" {
		t.Errorf("healthz %d %q", rec.Code, rec.Body.String())
	}
}

func TestServeRecoversPanicsAndNeverOverlaps(t *testing.T) {
	d, _ := testDaemon(t, "[[serve.jobs]]\nname = \"pull\"\nschedule = \"@every 1h\"\n")
	job := d.cfg.Serve.Jobs[0]
	d.runJob = func(context.Context, config.Job) (*batch.Result, error) { panic("bug in a job") }
	d.tick(context.Background(), job)
	if m := metricsText(d); !strings.Contains(m, `carepay_errors_total{job="pull"} 1`) {
		t.Errorf("a panic was not reported:\n%s", m)
	}
	started := make(chan bool)
	finish := make(chan bool)
	var runs atomic.Int32
	d.runJob = func(context.Context, config.Job) (*batch.Result, error) {
		runs.Add(1)
		started <- true
		<-finish
		return nil, errors.New("done")
	}
	go d.tick(context.Background(), job)
	<-started
	d.tick(context.Background(), job) // the first is still running
	close(finish)
	if runs.Load() != 1 || !strings.Contains(metricsText(d), `carepay_runs_total{job="pull",result="skipped"} 1`) {
		t.Errorf("%d runs; metrics:\n%s", runs.Load(), metricsText(d))
	}
}

// TestServeRespectsTheLedgerLock: another process holding the ledger's
// run lock makes the job skip, not run alongside.
func TestServeRespectsTheLedgerLock(t *testing.T) {
	d, _ := testDaemon(t, "[[serve.jobs]]\nname = \"pull\"\nschedule = \"@every 1h\"\n")
	release, err := d.lg.Lock(context.Background(), "another carepay")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	_, err = d.run(context.Background(), d.cfg.Serve.Jobs[0])
	if !errors.Is(err, ledger.ErrLocked) {
		t.Fatalf("run with the lock held elsewhere: %v", err)
	}
	d.tick(context.Background(), d.cfg.Serve.Jobs[0])
	if m := metricsText(d); !strings.Contains(m, `carepay_runs_total{job="pull",result="skipped"} 1`) {
		t.Errorf("metrics:\n%s", m)
	}
}

func TestServeReportsMissedRuns(t *testing.T) {
	d, _ := testDaemon(t, "[[serve.jobs]]\nname = \"pay\"\nschedule = \"0 6 * * *\"\npay = true\n")
	two := time.Now().Add(-48 * time.Hour).UTC().Format(time.RFC3339)
	if _, err := d.lg.DB().Exec(`INSERT INTO runs (id, as_of, started_at, state, job) VALUES ('20200101-001', '2020-01-01', ?, 'written', 'pay')`, two); err != nil {
		t.Fatal(err)
	}
	if err := d.reportMissed(context.Background(), time.Now()); err != nil {
		t.Fatal(err)
	}
	if m := metricsText(d); !strings.Contains(m, `carepay_missed_runs_total{job="pay"} 1`) {
		t.Errorf("a missed run was not reported:\n%s", m)
	}
}
