package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"carepay/config"
	"carepay/core"
	"carepay/ingest"
	"carepay/internal/ledgertest"
	"carepay/ledger"
	"carepay/report"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

const testKey = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"

type env struct {
	t   *testing.T
	cfg *config.Config
	lg  *ledger.Ledger
	dir string
	db  string
}

// newEnv is a test's configuration and a new ledger, on the driver the
// suite runs on (see ledgertest.Target).
func newEnv(t *testing.T) *env {
	t.Helper()
	return newEnvAt(t, ledgertest.Target(t, "ledger.db"))
}

// newSQLiteEnv is newEnv on a SQLite file, for tests of what only a file
// can do (copies of it).
func newSQLiteEnv(t *testing.T) *env {
	t.Helper()
	return newEnvAt(t, filepath.Join(t.TempDir(), "ledger.db"))
}

func newEnvAt(t *testing.T, target string) *env {
	t.Helper()
	cfg, err := config.Load("../config.toml")
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, cfg: cfg, dir: t.TempDir(), db: target}
	e.open()
	return e
}

func (e *env) open() {
	key, err := ledger.ParseKey(testKey)
	if err != nil {
		e.t.Fatal(err)
	}
	if e.lg, err = ledger.Open(context.Background(), e.db, key); err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { e.lg.Close() })
}

func (e *env) run(inbox string, asOf core.Date) *Result {
	e.t.Helper()
	res, err := Run(context.Background(), e.lg, Options{
		AsOf: asOf, OutDir: filepath.Join(e.dir, "out"),
		Sources: []ingest.Source{&ingest.Folder{SourceName: "inbox", Dir: inbox, ReadOnly: true, StableWait: time.Nanosecond}},
		Plans:   e.cfg.Plans,
		Payout:  PayoutOf(e.cfg.Payout, e.cfg.Limits, e.cfg.Returns, e.cfg.ACH),
		Checks:  ChecksOf(e.cfg.Checks),
		Now:     func() time.Time { return time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC) },
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func readDecisions(t *testing.T, path string) []map[string]string {
	t.Helper()
	recs := readCSV(t, path)
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

func find(rows []map[string]string, source, row string) map[string]string {
	for _, r := range rows {
		if r["source"] == source && r["row"] == row {
			return r
		}
	}
	return nil
}

var fixtureDay = core.NewDate(2026, 4, 10)

// TestFixtureDrop runs the shipped sample drop and checks decisions.csv
// against the golden file, then line by line for the numbers worked out by
// hand in the comments.
func TestFixtureDrop(t *testing.T) {
	e := newEnv(t)
	res := e.run("../fixtures/drop", fixtureDay)
	if res.RunID != "20260410-001" {
		t.Fatalf("run id %q", res.RunID)
	}
	got, err := os.ReadFile(filepath.Join(res.OutDir, "decisions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	golden := filepath.Join("testdata", "fixture-decisions.csv")
	if *update {
		if err := os.WriteFile(golden, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("decisions.csv differs from %s (run with -update after checking the change)", golden)
	}
	header := strings.SplitN(string(got), "\n", 2)[0]
	if header != "run_id,source,row,kind,ref,plan_id,employee_id,dependent_id,provider_id,care_type,service_date,units,charged,employee_share,employer_share,status,reasons,payee_type,payee_id" {
		t.Errorf("header %q is not SPEC.md's", header)
	}

	rows := readDecisions(t, filepath.Join(res.OutDir, "decisions.csv"))
	cases := []struct {
		name, source, row                   string
		status, reasons, employee, employer string
	}{
		// bright-backup, E100 income 55,000 (tier 1: copay 10, family max 25).
		{"first_child_copay", "20-statements-bright.csv", "2", "approved", "", "10.00", "110.00"},        // 120 - 10
		{"second_child_copay", "20-statements-bright.csv", "3", "approved", "", "10.00", "110.00"},       // 10 used, 15 left
		{"family_max_on_third_child", "20-statements-bright.csv", "4", "approved", "", "5.00", "115.00"}, // 20 used, 25-20 = 5
		{"saturday_not_workday", "20-statements-bright.csv", "5", "rejected", "NOT_WORKDAY", "100.00", "0.00"},
		// in-home 12 h, 300.00: covered 10 h, copay 6 x 10 = 60, uncovered 300 x 2/12 = 50.
		{"in_home_capped", "20-statements-bright.csv", "6", "partial", "HOURS_CAPPED", "110.00", "190.00"},
		// second in-home line that date: no copay, uncovered 50 only.
		{"in_home_second_line_no_copay", "20-statements-bright.csv", "7", "partial", "HOURS_CAPPED", "50.00", "250.00"},
		// 3 h billed as 4: copay 6 x 4 = 24, employer 84 - 24 = 60.
		{"in_home_minimum_4_hours", "20-statements-bright.csv", "8", "approved", "", "24.00", "60.00"},
		{"duplicate_line", "20-statements-bright.csv", "9", "rejected", "DUPLICATE", "120.00", "0.00"},
		// E101 income 85,000 (tier 2: copay 20, family max 50); D1011 turns 13 on 2026-03-10.
		{"day_before_13th_birthday", "20-statements-bright.csv", "10", "approved", "", "20.00", "130.00"},
		{"13th_birthday", "20-statements-bright.csv", "11", "rejected", "DEPENDENT_INELIGIBLE", "150.00", "0.00"},
		// D1012 born 2026-01-26: 42 days later is 2026-03-09.
		{"under_6_weeks", "20-statements-bright.csv", "12", "rejected", "DEPENDENT_INELIGIBLE", "150.00", "0.00"},
		{"exactly_6_weeks", "20-statements-bright.csv", "13", "approved", "", "20.00", "130.00"},
		{"registered_after_service", "20-statements-bright.csv", "14", "rejected", "DEPENDENT_NOT_REGISTERED", "150.00", "0.00"},
		{"dependent_unknown", "20-statements-bright.csv", "15", "rejected", "DEPENDENT_UNKNOWN", "150.00", "0.00"},
		// E102 income 150,000 (tier 3: copay 40) on military leave, a Saturday.
		{"military_leave_weekend", "20-statements-bright.csv", "16", "approved", "", "40.00", "160.00"},
		{"money_with_sign_and_us_date", "20-statements-bright.csv", "17", "approved", "", "40.00", "1194.50"}, // $1,234.50 - 40
		{"hours_over_24", "20-statements-bright.csv", "18", "rejected", "INVALID_HOURS", "700.00", "0.00"},
		{"bad_date_invalid_row", "20-statements-bright.csv", "19", "rejected", "INVALID_ROW", "120.00", "0.00"},
		// D1001 used 20 days in March (17 family care + 9, 10, 11): the 30th is the 21st.
		{"twentieth_day", "21-statements-family-care.csv", "18", "approved", "", "10.00", "80.00"},
		{"twenty_first_day", "21-statements-family-care.csv", "19", "rejected", "DAY_LIMIT", "90.00", "0.00"},
		// January statement received 2026-04-02: Jan 31 + 60 days = Apr 1.
		{"statement_late_by_one_day", "21-statements-family-care.csv", "20", "rejected", "LATE", "140.00", "0.00"},
		{"provider_unknown", "21-statements-family-care.csv", "21", "rejected", "PROVIDER_UNKNOWN", "150.00", "0.00"},
		// pinch-hourly, E200 income 39,999.99: 8.00 an hour; all held until approval.
		{"pinch_6_hours", "22-statement-pinch.xlsx#March", "2", "held", "AWAITING_APPROVAL", "36.00", "48.00"},   // 8 x 6
		{"pinch_minimum_4", "22-statement-pinch.xlsx#March", "3", "held", "AWAITING_APPROVAL", "24.00", "32.00"}, // 8 x 4
		{"pinch_13_hours_two_placements", "22-statement-pinch.xlsx#March", "4", "held", "AWAITING_APPROVAL", "78.00", "104.00"},
		// placements used 1+1+2+5 = 9: 14 h needs 2, 1 left: 12 h x 8 = 96.
		{"tenth_placement_split", "22-statement-pinch.xlsx#March", "10", "held", "PLACEMENT_LIMIT;AWAITING_APPROVAL", "100.00", "96.00"},
		{"no_placement_left", "22-statement-pinch.xlsx#March", "11", "rejected", "PLACEMENT_LIMIT", "70.00", "0.00"},
		{"parent_not_incapable", "22-statement-pinch.xlsx#March", "12", "rejected", "DEPENDENT_INELIGIBLE", "70.00", "0.00"},
		{"zero_hours", "22-statement-pinch.xlsx#March", "13", "rejected", "INVALID_HOURS", "0.00", "0.00"},
		// E201 income 75,000: 6.00 an hour; other benefits 4,900: 100 left.
		{"cap_room_100", "22-statement-pinch.xlsx#March", "14", "held", "AWAITING_APPROVAL", "80.00", "60.00"},            // 6 x 10 = 60
		{"cap_crossed", "22-statement-pinch.xlsx#March", "15", "held", "ANNUAL_CAP;AWAITING_APPROVAL", "100.00", "40.00"}, // 100 - 60 = 40
		{"cap_reached", "22-statement-pinch.xlsx#March", "16", "rejected", "ANNUAL_CAP", "70.00", "0.00"},
		{"temporary_ineligible", "22-statement-pinch.xlsx#March", "17", "rejected", "EMPLOYEE_INELIGIBLE", "84.00", "0.00"},
		{"benefit_maxed", "22-statement-pinch.xlsx#March", "18", "rejected", "BENEFIT_MAXED", "84.00", "0.00"},
		// jitc-invoice: 80% of 110.00 = 88.00, at most 80.00.
		{"jitc_daily_max", "30-invoices-march.csv", "2", "approved", "", "30.00", "80.00"},
		{"jitc_80_percent", "30-invoices-march.csv", "5", "approved", "", "18.00", "72.00"}, // 90 x 0.8
		{"unsigned_and_signed_before_last_day", "30-invoices-march.csv", "6", "rejected", "UNSIGNED_EMPLOYEE;SIGNED_BEFORE_SERVICE", "100.00", "0.00"},
		// enrolled 2026-03-20, first service 2026-02-10 + 30 days = 2026-03-12.
		{"enrolled_too_late", "30-invoices-march.csv", "8", "rejected", "NOT_ENROLLED", "100.00", "0.00"},
		{"consecutive_day_9", "30-invoices-march.csv", "17", "approved", "", "20.00", "80.00"},
		{"consecutive_day_10", "30-invoices-march.csv", "18", "rejected", "CONSECUTIVE_LIMIT", "100.00", "0.00"},
		{"tenth_day_of_year", "30-invoices-march.csv", "19", "approved", "", "20.00", "80.00"},
		{"eleventh_day_of_year", "30-invoices-march.csv", "20", "rejected", "DAY_LIMIT", "100.00", "0.00"},
		// last used 2022-06-01, more than 3 years before 2026-03-03, enrolled 2020.
		{"enrollment_lapsed", "30-invoices-march.csv", "21", "rejected", "ENROLLMENT_LAPSED", "100.00", "0.00"},
		// service 2026-01-05 + 60 days = 2026-03-06; received 2026-03-07.
		{"invoice_late_by_one_day", "30-invoices-march.csv", "22", "rejected", "LATE", "100.00", "0.00"},
		{"invoice_provider_unknown", "30-invoices-march.csv", "23", "rejected", "PROVIDER_UNKNOWN", "100.00", "0.00"},
		// 2025-12-29 + 60 is in time, but after January 31 2026.
		{"after_january_31", "30-invoices-march.csv", "24", "rejected", "LATE", "100.00", "0.00"},
		{"unknown_plan", "30-invoices-march.csv", "25", "rejected", "UNKNOWN_PLAN", "100.00", "0.00"},
		{"not_in_roster", "30-invoices-march.csv", "26", "rejected", "NOT_ENROLLED", "100.00", "0.00"},
		{"provider_unsigned", "30-invoices-march.csv", "27", "rejected", "UNSIGNED_PROVIDER", "100.00", "0.00"},
		{"bad_amount", "30-invoices-march.csv", "28", "rejected", "INVALID_ROW", "0.00", "0.00"},
		{"invoice_resent_duplicate", "31-invoices-resent.csv", "2", "rejected", "DUPLICATE", "110.00", "0.00"},
		// P04's routing number 011000016 fails the check digit: approved,
		// its payment held.
		{"payment_details", "20-statements-bright.csv", "20", "approved", "PAYMENT_DETAILS", "40.00", "140.00"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := find(rows, c.source, c.row)
			if r == nil {
				t.Fatalf("no decision for %s row %s", c.source, c.row)
			}
			if r["status"] != c.status || r["reasons"] != c.reasons || r["employee_share"] != c.employee || r["employer_share"] != c.employer {
				t.Errorf("got %s [%s] employee %s employer %s; want %s [%s] employee %s employer %s",
					r["status"], r["reasons"], r["employee_share"], r["employer_share"], c.status, c.reasons, c.employee, c.employer)
			}
		})
	}
	seen := map[string]bool{}
	for _, r := range rows {
		for _, code := range strings.Split(r["reasons"], ";") {
			seen[code] = true
		}
	}
	for _, code := range core.AllReasons {
		// A payment above limits.max_payment needs eleven lines near the
		// line limit: TestPaymentReviewLimit proves PAYMENT_REVIEW with a
		// drop of its own, so that the demo drop stays small.
		if !seen[string(code)] && code != core.PaymentReview {
			t.Errorf("the fixture drop never produces %s", code)
		}
	}
}

func TestSecondRunDecidesNothing(t *testing.T) {
	e := newEnv(t)
	e.run("../fixtures/drop", fixtureDay)
	res := e.run("../fixtures/drop", fixtureDay)
	if res.RunID != "20260410-002" {
		t.Fatalf("run id %q", res.RunID)
	}
	if !strings.Contains(res.Summary, "0 taken, 9 skipped (seen before), 0 rejected") || !strings.Contains(res.Summary, "nothing new to decide") {
		t.Errorf("summary does not say the second run skipped everything:\n%s", res.Summary)
	}
	rows := readDecisions(t, filepath.Join(res.OutDir, "decisions.csv"))
	if len(rows) != 0 {
		t.Errorf("second run decided %d lines", len(rows))
	}
	var sum report.Summary
	b, _ := os.ReadFile(filepath.Join(res.OutDir, "run.json"))
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Files.Skipped) != 9 || sum.Lines != 0 {
		t.Errorf("run.json: %d skipped, %d lines", len(sum.Files.Skipped), sum.Lines)
	}
	ack, err := os.ReadFile(filepath.Join(res.OutDir, "acks", "01-employees.csv.ack.txt"))
	if err != nil || !strings.Contains(string(ack), "skipped: the same bytes were processed in run 20260410-001") {
		t.Errorf("ack of a skipped file: %q, %v", ack, err)
	}
}

func TestApprovalReleasesHeldLines(t *testing.T) {
	e := newEnv(t)
	e.run("../fixtures/drop", fixtureDay)
	if err := e.lg.Approve(context.Background(), []string{"ST-P02-2026-03"}, "ops-lead", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := e.lg.Approve(context.Background(), []string{"ST-P02-2026-03"}, "ops-lead", time.Now()); err == nil {
		t.Error("approving twice succeeded")
	}
	if err := e.lg.Approve(context.Background(), []string{"ST-NOPE"}, "ops-lead", time.Now()); err == nil {
		t.Error("approving an unknown statement succeeded")
	}
	res := e.run("../fixtures/drop", fixtureDay.AddDays(1))
	rows := readDecisions(t, filepath.Join(res.OutDir, "decisions.csv"))
	// The 11 held pinch-hourly lines reappear with their final status:
	// 9 approved and 2 partial (PLACEMENT_LIMIT, ANNUAL_CAP).
	if len(rows) != 11 {
		t.Fatalf("released %d lines, want 11", len(rows))
	}
	status := map[string]int{}
	for _, r := range rows {
		status[r["status"]]++
		if strings.Contains(r["reasons"], "AWAITING_APPROVAL") {
			t.Errorf("released line still awaiting approval: %v", r)
		}
	}
	if status["approved"] != 9 || status["partial"] != 2 {
		t.Errorf("released statuses %v", status)
	}
	split := find(rows, "22-statement-pinch.xlsx#March", "10")
	if split == nil || split["status"] != "partial" || split["reasons"] != "PLACEMENT_LIMIT" || split["employer_share"] != "96.00" {
		t.Errorf("released split placement: %v", split)
	}
	if !strings.Contains(res.Summary, "11 released from hold") {
		t.Errorf("summary: %s", res.Summary)
	}
}

// TestInterruptedOutputsAreCompleted simulates a run killed after the
// ledger committed but before its outputs were written: the next run
// writes them, every file byte-identical to an uninterrupted run's.
func TestInterruptedOutputsAreCompleted(t *testing.T) {
	e := newEnv(t)
	res := e.run("../fixtures/drop", fixtureDay)
	want := map[string][]byte{}
	filepath.WalkDir(res.OutDir, func(path string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			b, _ := os.ReadFile(path)
			rel, _ := filepath.Rel(res.OutDir, path)
			want[rel] = b
		}
		return nil
	})
	for _, name := range []string{"decisions.csv", "run.json", "payments.ach", "checks.csv", "positive-pay.csv",
		"register.xlsx", "letters/print-batch.pdf", "letters/employee-E100.pdf", "letters/provider-P01.pdf", "acks/01-employees.csv.ack.txt"} {
		if len(want[name]) == 0 {
			t.Errorf("the run wrote no %s", name)
		}
	}
	if err := os.RemoveAll(res.OutDir); err != nil {
		t.Fatal(err)
	}
	if err := e.lg.MarkPending(context.Background(), res.RunID); err != nil {
		t.Fatal(err)
	}
	next := e.run("../fixtures/drop", fixtureDay)
	if len(next.Recovered) != 1 || next.Recovered[0] != res.RunID {
		t.Fatalf("recovered %v", next.Recovered)
	}
	for name, w := range want {
		got, err := os.ReadFile(filepath.Join(res.OutDir, name))
		if err != nil {
			t.Errorf("not rewritten: %v", err)
			continue
		}
		if !bytes.Equal(untimed(t, name, got), untimed(t, name, w)) {
			t.Errorf("%s rewritten from the ledger differs from the original", name)
		}
	}
}

// untimed returns run.json without its timings, which describe the
// process that wrote it; other files as they are.
func untimed(t *testing.T, name string, b []byte) []byte {
	t.Helper()
	if filepath.Base(name) != "run.json" {
		return b
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if _, ok := m["timings"]; !ok {
		t.Errorf("%s has no timings", name)
	}
	delete(m, "timings")
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestFolderSourceArchivesAfterCommit uses a configured (not read-only)
// folder: taken files move to the archive and acknowledgements go to the
// reports folder, and the drop folder is left empty.
func TestFolderSourceArchivesAfterCommit(t *testing.T) {
	e := newEnv(t)
	inbox := filepath.Join(e.dir, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"01-employees.csv", "10-registry.xlsx", "30-invoices-march.csv"} {
		b, err := os.ReadFile(filepath.Join("../fixtures/drop", n))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(inbox, n), b, 0o644); err != nil {
			t.Fatal(err)
		}
		rested(t, filepath.Join(inbox, n))
	}
	src := &ingest.Folder{SourceName: "ops", Dir: inbox, ArchiveDir: filepath.Join(e.dir, "archive"), ReportsDir: filepath.Join(e.dir, "reports")}
	_, err := Run(context.Background(), e.lg, Options{AsOf: fixtureDay, OutDir: filepath.Join(e.dir, "out"), Sources: []ingest.Source{src}, Plans: e.cfg.Plans, Payout: PayoutOf(e.cfg.Payout, e.cfg.Limits, e.cfg.Returns, e.cfg.ACH)})
	if err != nil {
		t.Fatal(err)
	}
	left, _ := os.ReadDir(inbox)
	if len(left) != 0 {
		t.Errorf("drop folder still holds %d files", len(left))
	}
	for _, n := range []string{"01-employees.csv", "10-registry.xlsx", "30-invoices-march.csv"} {
		if _, err := os.Stat(filepath.Join(e.dir, "archive", n)); err != nil {
			t.Errorf("not archived: %v", err)
		}
		ack, err := os.ReadFile(filepath.Join(e.dir, "reports", n+".ack.txt"))
		if err != nil || !strings.Contains(string(ack), "status: taken") {
			t.Errorf("ack of %s: %q %v", n, ack, err)
		}
	}
}

// TestRegisterFailureStopsTheOutputs: the register is written beside the
// letters; when it cannot be written the run fails with its error, stays
// pending, and the next run completes every output as the first would
// have.
func TestRegisterFailureStopsTheOutputs(t *testing.T) {
	e := newEnv(t)
	res := e.run("../fixtures/drop", fixtureDay)
	want, err := os.ReadFile(filepath.Join(res.OutDir, "letters", "employee-E100.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(res.OutDir); err != nil {
		t.Fatal(err)
	}
	if err := e.lg.MarkPending(context.Background(), res.RunID); err != nil {
		t.Fatal(err)
	}
	// A folder where register.xlsx goes: it cannot be replaced.
	blocker := filepath.Join(res.OutDir, "register.xlsx")
	if err := os.MkdirAll(filepath.Join(blocker, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	_, err = Run(context.Background(), e.lg, Options{
		AsOf: fixtureDay, OutDir: filepath.Join(e.dir, "out"), Plans: e.cfg.Plans,
		Payout: PayoutOf(e.cfg.Payout, e.cfg.Limits, e.cfg.Returns, e.cfg.ACH), Checks: ChecksOf(e.cfg.Checks),
		Now: func() time.Time { return time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC) },
	})
	if err == nil || !strings.Contains(err.Error(), "register.xlsx") || errors.Is(err, context.Canceled) {
		t.Fatalf("run with an unwritable register: %v, want the register's error", err)
	}
	if err := os.RemoveAll(blocker); err != nil {
		t.Fatal(err)
	}
	next := e.run("../fixtures/drop", fixtureDay)
	if len(next.Recovered) != 1 || next.Recovered[0] != res.RunID {
		t.Fatalf("recovered %v", next.Recovered)
	}
	got, err := os.ReadFile(filepath.Join(res.OutDir, "letters", "employee-E100.pdf"))
	if err != nil || !bytes.Equal(got, want) {
		t.Errorf("letter after completing the run: %v, same bytes %v", err, bytes.Equal(got, want))
	}
	if _, err := os.Stat(filepath.Join(res.OutDir, "register.xlsx")); err != nil {
		t.Error(err)
	}
}

// TestLettersFailureStopsTheRegister: letters that fail (here, the mail
// server refuses them) stop the register waiting for them, and the run
// reports the letters' error, not the cancellation it caused.
func TestLettersFailureStopsTheRegister(t *testing.T) {
	e := newEnv(t)
	res := e.run("../fixtures/drop", fixtureDay)
	if err := os.RemoveAll(res.OutDir); err != nil {
		t.Fatal(err)
	}
	if err := e.lg.MarkPending(context.Background(), res.RunID); err != nil {
		t.Fatal(err)
	}
	mailDown := errors.New("mail server refused")
	_, err := Run(context.Background(), e.lg, Options{
		AsOf: fixtureDay, OutDir: filepath.Join(e.dir, "out"), Plans: e.cfg.Plans,
		Payout: PayoutOf(e.cfg.Payout, e.cfg.Limits, e.cfg.Returns, e.cfg.ACH), Checks: ChecksOf(e.cfg.Checks),
		Now:    func() time.Time { return time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC) },
		Mailer: failingMailer{mailDown}, EmailLetter: func(kind, _ string) bool { return kind == "employee" },
	})
	if !errors.Is(err, mailDown) || errors.Is(err, context.Canceled) {
		t.Fatalf("run whose letters cannot be emailed: %v, want the mailer's error", err)
	}
	if _, err := os.Stat(filepath.Join(res.OutDir, "register.xlsx")); !os.IsNotExist(err) {
		t.Errorf("register.xlsx written while the letters failed: %v", err)
	}
}

// failingMailer refuses every letter with err.
type failingMailer struct{ err error }

func (m failingMailer) SendLetter(context.Context, string, string, string, string, []byte) error {
	return m.err
}
