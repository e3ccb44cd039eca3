package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"runtime/debug"
	"strings"
	"testing"
	"time"
)

func carepay(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(context.Background(), args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestHelpOnEveryCommand(t *testing.T) {
	for _, c := range append(commands, command{name: "--help"}) {
		t.Run(c.name, func(t *testing.T) {
			args := []string{c.name, "--help"}
			if c.name == "--help" {
				args = []string{"--help"}
			}
			code, out, errs := carepay(t, args...)
			if code != exitOK {
				t.Errorf("exit %d", code)
			}
			if !strings.Contains(out+errs, "Usage: carepay") {
				t.Errorf("no usage in %q", out+errs)
			}
			// Flags are listed as the usage line writes them.
			if regexp.MustCompile(`\n  -[a-z]`).MatchString(out + errs) {
				t.Errorf("a flag listed with one dash:\n%s", out+errs)
			}
		})
	}
	_, _, errs := carepay(t, "run", "--help")
	for _, want := range []string{"decisions.csv", "run.json", "acks/", "payments.ach", "checks.csv", "positive-pay.csv", "payroll.csv",
		"register.xlsx", "letters/", "print-batch.pdf", "ledger-id", "\n  --as-of YYYY-MM-DD\n"} {
		if !strings.Contains(errs, want) {
			t.Errorf("run --help lacks %q:\n%s", want, errs)
		}
	}
}

// approve says what to do when nobody is named, and that invoices need
// no approval.
func TestApproveGuidance(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "l.db")
	common := []string{"--config", "../../config.toml", "--db", db}
	if code, _, errs := carepay(t, append([]string{"run", "--inbox", "../../fixtures/drop", "--out", filepath.Join(dir, "out"), "--as-of", "2026-04-10"}, common...)...); code != exitOK {
		t.Fatalf("run: %s", errs)
	}
	t.Setenv("USER", "")
	code, _, errs := carepay(t, append([]string{"approve", "ST-P02-2026-03"}, common...)...)
	if code != exitUsage || !strings.Contains(errs, "say who you are with --by NAME (USER is not set, as under cron or in a container), e.g. carepay approve --by jane.doe ST-P02-2026-03") {
		t.Errorf("approve without --by or USER: exit %d %q", code, errs)
	}
	code, _, errs = carepay(t, append([]string{"approve", "--by", "ops-lead", "INV-1001"}, common...)...)
	if code != exitFailed || !strings.Contains(errs, "INV-1001 is an invoice, and invoices need no approval") {
		t.Errorf("approve of an invoice: exit %d %q", code, errs)
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{{}, {"frobnicate"}, {"run", "--no-such-flag"}, {"validate"}, {"explain"}, {"run", "--as-of", "31/31/2026"}} {
		code, _, errs := carepay(t, args...)
		if code != exitUsage {
			t.Errorf("%v: exit %d, want %d (stderr %q)", args, code, exitUsage, errs)
		}
	}
}

func TestValidate(t *testing.T) {
	code, out, errs := carepay(t, "validate", "../../fixtures/drop/01-employees.csv", "../../fixtures/drop/40-ops-notes.csv", "../../fixtures/drop/10-registry.xlsx")
	if code != exitFailed {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		`01-employees.csv:14:annual_income: want an amount like 123.45 or $1,234.50 (value "abc")`,
		`40-ops-notes.csv:1:-: header matches no input kind`,
		`10-registry.xlsx#Dependents:20:birth_date:`,
		`10-registry.xlsx#Providers:1:-: warning: unknown columns ignored: contact_person`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(errs, "problems in 3 files") {
		t.Errorf("stderr %q", errs)
	}
	code, _, _ = carepay(t, "validate", "../../fixtures/drop/31-invoices-resent.csv")
	if code != exitOK {
		t.Errorf("a clean file: exit %d", code)
	}
	// Two files of one name: each problem names the one it is in.
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a", "roster.csv"), filepath.Join(dir, "b", "roster.csv")
	roster, _ := os.ReadFile("../../fixtures/drop/01-employees.csv")
	os.MkdirAll(filepath.Dir(a), 0o700)
	os.MkdirAll(filepath.Dir(b), 0o700)
	os.WriteFile(a, roster, 0o600)
	os.WriteFile(b, []byte(strings.Replace(string(roster), "2025-05-01", "May first", 1)), 0o600)
	_, out, _ = carepay(t, "validate", a, b)
	if !strings.Contains(out, a+":14:annual_income:") || !strings.Contains(out, b+":14:annual_income:") || strings.Count(out, ":enrolled_on:") != 1 ||
		!strings.Contains(out, b+":9:enrolled_on:") {
		t.Errorf("two files named roster.csv:\n%s", out)
	}
}

// TestRunApproveExplain drives the commands as a user would, on the
// shipped fixtures, and checks that a second run decides nothing.
func TestRunApproveExplain(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "l.db")
	out := filepath.Join(dir, "out")
	common := []string{"--config", "../../config.toml", "--db", db}
	code, stdout, errs := carepay(t, append([]string{"run", "--inbox", "../../fixtures/drop", "--out", out, "--as-of", "2026-04-10"}, common...)...)
	if code != exitOK {
		t.Fatalf("run: exit %d, %s", code, errs)
	}
	if !strings.Contains(stdout, "files: 8 taken, 0 skipped (seen before), 1 rejected") || !strings.Contains(stdout, "86 decided") {
		t.Errorf("run summary:\n%s", stdout)
	}
	_, stdout, _ = carepay(t, append([]string{"run", "--inbox", "../../fixtures/drop", "--out", out, "--as-of", "2026-04-10"}, common...)...)
	if !strings.Contains(stdout, "nothing new to decide") {
		t.Errorf("second run:\n%s", stdout)
	}
	// A file already processed gets a note, and its problems still show,
	// named by the path as given.
	code, stdout, _ = carepay(t, append([]string{"validate", "../../fixtures/drop/31-invoices-resent.csv"}, common...)...)
	if code != exitOK || !strings.Contains(stdout, "../../fixtures/drop/31-invoices-resent.csv: note: these bytes were processed in run 20260410-001; a run would skip the file") {
		t.Errorf("validate of a processed file without problems: %d %q", code, stdout)
	}
	code, stdout, _ = carepay(t, append([]string{"validate", "../../fixtures/drop/30-invoices-march.csv"}, common...)...)
	if code != exitFailed || !strings.Contains(stdout, "30-invoices-march.csv: note: these bytes were processed in run 20260410-001") ||
		!strings.Contains(stdout, `../../fixtures/drop/30-invoices-march.csv:28:amount_charged:`) {
		t.Errorf("validate of a processed file with a bad row: %d %q", code, stdout)
	}
	code, stdout, errs = carepay(t, append([]string{"approve", "--by", "ops-lead", "ST-P02-2026-03"}, common...)...)
	if code != exitOK || !strings.Contains(stdout, "approved ST-P02-2026-03 by ops-lead") {
		t.Errorf("approve: %d %q %q", code, stdout, errs)
	}
	code, _, errs = carepay(t, append([]string{"approve", "--by", "ops-lead", "ST-NOPE"}, common...)...)
	if code != exitFailed || !strings.Contains(errs, "ST-NOPE") || strings.Count(errs, "\n") != 1 {
		t.Errorf("approving an unknown statement: %d %q", code, errs)
	}
	code, stdout, _ = carepay(t, append([]string{"explain", "INV-1005"}, common...)...)
	for _, want := range []string{"CONSECUTIVE_LIMIT", "80% of 100.00 = 80.00", "consecutive day 9 of care"} {
		if !strings.Contains(stdout, want) {
			t.Errorf("explain lacks %q:\n%s", want, stdout)
		}
	}
	if code != exitOK {
		t.Errorf("explain exit %d", code)
	}
	// The demo cuts check 100001 to P03 for 1,360.00 (PAY-1) and pays
	// P01 3,321.50 by ACH (PAY-3, trace 121042880000006).
	for _, c := range []struct{ ref, want string }{
		{"100001", "payment PAY-1\n  - 2026-04-10 (run 20260410-001) formed: $1,360.00 to provider P03"},
		{"100001", "  - 2026-04-10 (run 20260410-001) issued: check 100001\n"},
		{"pay-3", "  - 2026-04-10 (run 20260410-001) issued: ACH entry, trace 121042880000006, to account ****1234\n"},
	} {
		code, stdout, errs = carepay(t, append([]string{"explain", c.ref}, common...)...)
		if code != exitOK || !strings.Contains(stdout, c.want) {
			t.Errorf("explain %s: exit %d, lacks %q:\n%s%s", c.ref, code, c.want, stdout, errs)
		}
	}
	code, _, errs = carepay(t, append([]string{"explain", "999999"}, common...)...)
	if code != exitFailed || !strings.Contains(errs, `no invoice, statement, payment or check "999999"`) {
		t.Errorf("explain of an unknown check: exit %d %q", code, errs)
	}
}

func TestRunWithoutKeyFailsClearly(t *testing.T) {
	dir := t.TempDir()
	cfg, err := os.ReadFile("../../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Replace(string(cfg), `key_file = "fixtures/demo-ledger.key"`, `key_file = "missing.key"`, 1)
	path := filepath.Join(dir, "config.toml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("CAREPAY_LEDGER_KEY", "")
	os.Unsetenv("CAREPAY_LEDGER_KEY") // t.Setenv restores it after the test
	code, _, errs := carepay(t, "run", "--config", path, "--inbox", "../../fixtures/drop", "--as-of", "2026-04-10")
	if code != exitFailed || !strings.Contains(errs, "ledger key: reading ledger.key_file") || strings.Count(errs, "\n") != 1 {
		t.Errorf("exit %d, stderr %q", code, errs)
	}
	if _, err := os.Stat(filepath.Join(dir, "carepay.db")); !os.IsNotExist(err) {
		t.Errorf("a ledger was created without a key: %v", err)
	}
}

// TestValidateAppliesSanityLimits: validate holds service dates and charges
// to the limits a run on --as-of would, so that it never passes a file a
// run would reject.
func TestValidateAppliesSanityLimits(t *testing.T) {
	path := filepath.Join(t.TempDir(), "invoices.csv")
	body := "invoice_id,employee_id,dependent_id,provider_id,care_type,service_date,amount_charged,employee_signed_on,provider_signed_on,received_on\n" +
		"I1,E1,D1,P1,center,2026-04-20,10.00,2026-04-21,2026-04-21,2026-04-21\n" + // 10 days after --as-of 2026-04-10
		"I2,E1,D1,P1,center,2024-04-09,10.00,2024-04-10,2024-04-10,2024-04-10\n" + // 731 days before it
		"I3,E1,D1,P1,center,2026-04-01,5000.01,2026-04-02,2026-04-02,2026-04-02\n" + // one cent over 5,000.00
		"I4,E1,D1,P1,center,2024-04-10,5000.00,2024-04-11,2024-04-11,2024-04-11\n" // exactly 730 days, at the limit: fine
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	code, out, _ := carepay(t, "validate", "--config", "../../config.toml", "--db", filepath.Join(t.TempDir(), "none.db"), "--as-of", "2026-04-10", path)
	if code != exitFailed {
		t.Errorf("exit %d, want 1", code)
	}
	for _, want := range []string{
		`invoices.csv:2:service_date: is after the run date 2026-04-10`,
		`invoices.csv:3:service_date: is more than 730 days before the run date 2026-04-10`,
		`invoices.csv:4:amount_charged: is above the limit of $5,000.00 a line`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "invoices.csv:5:") {
		t.Errorf("a line within every limit was refused:\n%s", out)
	}
}

// TestInboxLeavesAGrowingFileWaiting: a file in the --inbox folder that
// grows while the run looks at it is still being written, so the run
// leaves it for the next run and says so in the summary; once nothing
// writes to it, it is taken, however recently it was written.
func TestInboxLeavesAGrowingFileWaiting(t *testing.T) {
	dir := t.TempDir()
	inbox := filepath.Join(dir, "inbox")
	if err := os.MkdirAll(inbox, 0o700); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("../../fixtures/drop/01-employees.csv")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(inbox, "01-employees.csv")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	common := []string{"--config", "../../config.toml", "--db", filepath.Join(dir, "l.db"), "--out", filepath.Join(dir, "out"), "--inbox", inbox}

	// A writer appends a blank line every 100ms until the run is over.
	stop, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
		if err != nil {
			t.Error(err)
			return
		}
		defer f.Close()
		for {
			select {
			case <-stop:
				return
			case <-time.After(100 * time.Millisecond):
				f.Write([]byte("\n"))
			}
		}
	}()
	code, out, errs := carepay(t, append([]string{"run", "--as-of", "2026-04-10"}, common...)...)
	close(stop)
	<-done
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	if !strings.Contains(out, "files: 0 taken") || !strings.Contains(out, "waiting: 01-employees.csv: still changing") {
		t.Errorf("a growing file was not left waiting:\n%s", out)
	}
	// Written a moment ago, but no longer changing: taken.
	_, out, _ = carepay(t, append([]string{"run", "--as-of", "2026-04-10"}, common...)...)
	if !strings.Contains(out, "files: 1 taken") || strings.Contains(out, "waiting:") {
		t.Errorf("a file no longer written to was not taken:\n%s", out)
	}
}

// TestRunProfilesAndTimings: -v logs each stage's time, run.json carries
// them, and --cpuprofile and --memprofile write profiles; run.memory_limit
// sets the heap's soft limit.
func TestRunProfilesAndTimings(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "") // run.memory_limit applies only when the environment sets none
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(math.MaxInt64))
	dir := t.TempDir()
	cpu, mem := filepath.Join(dir, "cpu.pprof"), filepath.Join(dir, "mem.pprof")
	code, _, errs := carepay(t, "run", "-v", "--config", "../../config.toml", "--db", filepath.Join(dir, "l.db"), "--inbox", "../../fixtures/drop",
		"--out", filepath.Join(dir, "out"), "--as-of", "2026-04-10", "--cpuprofile", cpu, "--memprofile", mem)
	if code != exitOK {
		t.Fatalf("run: exit %d, %s", code, errs)
	}
	for _, stage := range []string{"pull", "decide", "commit", "payment_files", "register", "letters", "print_batch", "acks"} {
		if !strings.Contains(errs, "stage="+stage+" ") {
			t.Errorf("-v log has no time for stage %s", stage)
		}
	}
	for _, p := range []string{cpu, mem} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("profile %s: %v", p, err)
		}
	}
	js, err := os.ReadFile(filepath.Join(dir, "out", "20260410-001", "run.json"))
	if err != nil || !strings.Contains(string(js), `"register_seconds"`) {
		t.Errorf("run.json has no timings (%v):\n%s", err, js)
	}
	if got := debug.SetMemoryLimit(-1); got != 384<<20 {
		t.Errorf("memory limit %d, want run.memory_limit's 384MiB", got)
	}
}
