package main

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"carepay/batch"
	"carepay/ledger"
)

// TestServeRefusesAnotherLedgersOut: serve refuses to start, and a job to
// run, when out/ holds a run folder of another ledger.
func TestServeRefusesAnotherLedgersOut(t *testing.T) {
	d, dir := testDaemon(t, "[[serve.jobs]]\nname = \"pay\"\nschedule = \"@every 1h\"\npay = true\n")
	ctx := context.Background()
	if err := d.check(ctx, time.Now()); err != nil {
		t.Fatalf("a new ledger with an empty out/: %v", err)
	}
	run := filepath.Join(dir, "out", "20260410-001")
	os.MkdirAll(run, 0o755)
	os.WriteFile(filepath.Join(run, batch.LedgerIDFile), []byte("0123456789abcdef0123456789abcdef\n"), 0o600)
	os.WriteFile(filepath.Join(run, "checks.csv"), []byte("check_number\n100001\n"), 0o600)
	err := d.check(ctx, time.Now())
	if !errors.Is(err, batch.ErrNotThisLedger) || !strings.Contains(err.Error(), "0123456789abcdef0123456789abcdef") {
		t.Fatalf("start-up check: %v", err)
	}
	if _, err := d.run(ctx, d.cfg.Serve.Jobs[0]); !errors.Is(err, batch.ErrNotThisLedger) {
		t.Fatalf("a job: %v", err)
	}
	d.tick(ctx, d.cfg.Serve.Jobs[0])
	if m := metricsText(d); !strings.Contains(m, `carepay_errors_total{job="pay"} 1`) {
		t.Errorf("the refused job is not counted as an error:\n%s", m)
	}
	var runs int
	d.lg.DB().QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&runs)
	if left, _ := os.ReadDir(filepath.Join(dir, "drop")); runs != 0 || len(left) == 0 {
		t.Errorf("%d runs recorded, %d files left in the drop", runs, len(left))
	}
}

// TestServeClockBeforeTheLastRun: serve's run date is today; a ledger
// whose last run is later refuses to start and to run.
func TestServeClockBeforeTheLastRun(t *testing.T) {
	d, _ := testDaemon(t, "[[serve.jobs]]\nname = \"pull\"\nschedule = \"@every 1h\"\n")
	ctx := context.Background()
	tomorrow := time.Now().In(d.cfg.Location()).AddDate(0, 0, 1)
	if _, err := d.lg.DB().Exec(`INSERT INTO runs (id, as_of, started_at, state) VALUES (?, ?, ?, 'written')`,
		tomorrow.Format("20060102")+"-001", tomorrow.Format("2006-01-02"), time.Now().UTC().Format(time.RFC3339)); err != nil {
		t.Fatal(err)
	}
	if err := d.check(ctx, time.Now()); !errors.Is(err, ledger.ErrRunDate) {
		t.Fatalf("start-up check: %v", err)
	}
	if _, err := d.run(ctx, d.cfg.Serve.Jobs[0]); !errors.Is(err, ledger.ErrRunDate) {
		t.Fatalf("a job: %v", err)
	}
	if err := d.check(ctx, tomorrow); err != nil {
		t.Errorf("the day of the last run: %v", err)
	}
}
