package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"carepay/config"
)

// TestYearEndCommand drives `carepay year-end` on the demo run of
// 2026-04-10: its usage errors, a year with no configured limit, the
// report's files and their mode (run.file_mode 0600), and a second report
// with nothing changed.
func TestYearEndCommand(t *testing.T) {
	dir := t.TempDir()
	out, common := demoRun(t, dir)
	for _, tt := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no_year", []string{"year-end", "--out", out}, exitUsage, "--year is required"},
		{"bad_year", []string{"year-end", "--year", "26", "--out", out}, exitUsage, `--year "26": want a calendar year`},
		{"extra", []string{"year-end", "--year", "2026", "--out", out, "2027"}, exitUsage, `unexpected argument "2027"`},
		{"no_limit", []string{"year-end", "--year", "2024", "--out", out}, exitFailed, `year_end.exclusion_limits has no limit for 2024`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, errs := carepay(t, append(tt.args, common...)...)
			if code != tt.code || !strings.Contains(errs, tt.err) || stdout != "" || strings.Count(errs, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", code, stdout, errs, tt.code, tt.err)
			}
		})
	}
	if code, stdout, _ := carepay(t, "year-end", "--help"); code != exitOK || stdout != "" {
		t.Errorf("--help: %d %q", code, stdout)
	}
	code, stdout, errs := carepay(t, append([]string{"year-end", "--year", "2026", "--out", out}, common...)...)
	if code != exitOK || !strings.Contains(stdout, "year end 2026 (report 1): ") || !strings.Contains(stdout, "note: the ledger has no run dated after 2026") {
		t.Fatalf("year-end: %d\n%s%s", code, stdout, errs)
	}
	report := filepath.Join(out, "year-end-2026")
	for _, name := range []string{"dependent-care-w2.csv", "year-end.xlsx", "print-batch.pdf", "statements/employee-E301.pdf"} {
		fi, err := os.Stat(filepath.Join(report, name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s has mode %v, want run.file_mode 0600", name, fi.Mode().Perm())
		}
	}
	f, err := os.Open(filepath.Join(report, "dependent-care-w2.csv"))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(f).ReadAll()
	f.Close()
	if err != nil || len(rows) < 2 || rows[0][len(rows[0])-1] != "earning_code" || rows[1][len(rows[1])-1] != "DCEXCESS" {
		t.Fatalf("dependent-care-w2.csv: %v %q", err, rows)
	}
	code, stdout, errs = carepay(t, append([]string{"year-end", "--year", "2026", "--out", out}, common...)...)
	if code != exitOK || !strings.Contains(stdout, "year end 2026 (report 2): ") || !strings.Contains(stdout, "corrections: none; no figure changed since report 1") {
		t.Errorf("year-end again: %d\n%s%s", code, stdout, errs)
	}
}

// TestServeYearEndJob: a job with year_end = true fired on 2027-01-15
// reports 2026 under run.out, and a year_end job that also pays is a
// configuration error.
func TestServeYearEndJob(t *testing.T) {
	d, dir := testDaemon(t, "[[serve.jobs]]\nname = \"pay\"\nschedule = \"@every 1h\"\npay = true\n\n"+
		"[[serve.jobs]]\nname = \"year-end\"\nschedule = \"0 7 15 1 *\"\nyear_end = true\n")
	ctx := context.Background()
	if _, err := d.runJob(ctx, d.cfg.Serve.Jobs[0]); err != nil {
		t.Fatal(err)
	}
	res, err := d.yearEnd(ctx, d.cfg.Serve.Jobs[1], time.Date(2027, 1, 15, 12, 0, 0, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "out", "year-end-2026")
	if res.OutDir != want {
		t.Errorf("year-end job wrote %s, want %s", res.OutDir, want)
	}
	if _, err := os.Stat(filepath.Join(want, "dependent-care-w2.csv")); err != nil {
		t.Error(err)
	}
	text, err := os.ReadFile(d.cfg.Path())
	if err != nil {
		t.Fatal(err)
	}
	bad := strings.Replace(string(text), "year_end = true\n", "year_end = true\npay = true\n", 1)
	if _, err := config.Parse("config.toml", []byte(bad)); err == nil || !strings.Contains(err.Error(), "a year-end job reports, it does not pay") {
		t.Errorf("a paying year-end job: %v", err)
	}
}
