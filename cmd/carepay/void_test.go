package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestVoidCommand drives `carepay void` on the demo: the run of
// 2026-04-10 cuts check 100001 to provider P03 for 1,360.00 (17 days of
// family child care at 90.00 less a 10.00 copay). Voided, it is refused a
// second time; the run of 2026-04-17 pays the 1,360.00 again by check
// 100002 and its positive pay carries the void of 100001 and the issue
// of 100002.
func TestVoidCommand(t *testing.T) {
	dir := t.TempDir()
	out, common := demoRun(t, dir)
	for _, tt := range []struct {
		name string
		args []string
		code int
		err  string
	}{
		{"no_reason", []string{"void", "--by", "ops", "100001"}, exitUsage, "--reason is required"},
		{"blank_reason", []string{"void", "--by", "ops", "--reason", "  ", "100001"}, exitUsage, "--reason is required"},
		{"not_a_number", []string{"void", "--reason", "lost", "CHK-1"}, exitUsage, `"CHK-1" is not a check number`},
		{"two_checks", []string{"void", "--reason", "lost", "100001", "100002"}, exitUsage, "name exactly one check number"},
		{"unknown_check", []string{"void", "--by", "ops", "--reason", "lost", "100002"}, exitFailed,
			"carepay void: voiding check 100002: no such check: carepay issued no check with that number\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, errs := carepay(t, append(tt.args, common...)...)
			if code != tt.code || !strings.Contains(errs, tt.err) || stdout != "" || strings.Count(errs, "\n") != 1 {
				t.Errorf("exit %d, stdout %q, stderr %q; want %d and %q", code, stdout, errs, tt.code, tt.err)
			}
		})
	}
	code, stdout, errs := carepay(t, append([]string{"void", "100001", "--reason", "lost in the mail", "--by", "ops-lead"}, common...)...)
	if code != exitOK || !strings.HasPrefix(stdout, "voided check 100001 (PAY-1, provider P03, $1,360.00), issued 2026-04-10 (run 20260410-001), by ops-lead: lost in the mail;") {
		t.Fatalf("void: %d %q %q", code, stdout, errs)
	}
	code, _, errs = carepay(t, append([]string{"void", "100001", "--reason", "again", "--by", "someone"}, common...)...)
	if code != exitFailed || !strings.Contains(errs, "was already voided at ") || !strings.Contains(errs, "by ops-lead (lost in the mail)") || strings.Count(errs, "\n") != 1 {
		t.Errorf("voiding twice: %d %q", code, errs)
	}
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(empty, 0o700)
	code, stdout, errs = carepay(t, append([]string{"run", "--inbox", empty, "--out", out, "--as-of", "2026-04-17"}, common...)...)
	if code != exitOK || !strings.Contains(stdout, "check voided: 100001 (PAY-1, provider P03, $1,360.00, issued 2026-04-10): lost in the mail, by ops-lead") ||
		!strings.Contains(stdout, "paid by check        1 payments    $1,360.00") {
		t.Fatalf("run after the void: %d\n%s%s", code, stdout, errs)
	}
	pp, err := os.ReadFile(filepath.Join(out, "20260417-001", "positive-pay.csv"))
	want := "000987654321,100001,1360.00,04/10/2026,GRANDMA'S FAMILY CARE,V\n000987654321,100002,1360.00,04/17/2026,GRANDMA'S FAMILY CARE,I\n"
	if err != nil || string(pp) != want {
		t.Errorf("positive-pay.csv: %v\n%s\nwant:\n%s", err, pp, want)
	}
	code, stdout, errs = carepay(t, append([]string{"run", "--inbox", empty, "--out", out, "--as-of", "2026-04-24"}, common...)...)
	if code != exitOK || strings.Contains(stdout, "paid by") || strings.Contains(stdout, "check voided") {
		t.Errorf("third run: %d\n%s%s", code, stdout, errs)
	}
}

// TestValidateClearedChecks: validate knows the bank's cleared-checks file
// by the header config.toml's [checks.cleared_columns] names, and reports
// a bad row by file, row and column.
func TestValidateClearedChecks(t *testing.T) {
	p := filepath.Join(t.TempDir(), "cleared.csv")
	if err := os.WriteFile(p, []byte("check_number,amount,cleared_date\n100001,1360.00,2026-04-14\n100002,12.3.4,2026-04-14\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := carepay(t, "validate", "--config", "../../config.toml", "--as-of", "2026-04-17", p)
	if code != exitFailed || out != p+":3:amount: want an amount like 123.45 or $1,234.50 (value \"12.3.4\")\n" {
		t.Errorf("validate: %d %q", code, out)
	}
}

// demoRun runs the demo drop of 2026-04-10 into a fresh ledger and out
// folder in dir, and returns out and the flags naming them.
func demoRun(t *testing.T, dir string) (out string, common []string) {
	t.Helper()
	out = filepath.Join(dir, "out")
	common = []string{"--config", "../../config.toml", "--db", filepath.Join(dir, "l.db")}
	if code, _, errs := carepay(t, append([]string{"run", "--inbox", "../../fixtures/drop", "--out", out, "--as-of", "2026-04-10"}, common...)...); code != exitOK {
		t.Fatalf("run: %d %s", code, errs)
	}
	return out, common
}
