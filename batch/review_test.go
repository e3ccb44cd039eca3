package batch

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/moov-io/ach"

	"carepay/core"
	"carepay/ledger"
	"carepay/report"
)

// Registries of the payment tests: two bright-backup families with income
// 55,000.00 (tier 1: copay 10.00 a child a day) and three providers.
const (
	reviewEmployees = "employee_id,first_name,last_name,plan_id,employment_type,annual_income,enrolled_on,address_line1,city,state,postal_code,payment_method\n" +
		"E1,Ann,Ames,bright-backup,regular_full_time,55000.00,2025-01-01,1 A St,Dover,DE,19901,check\n" +
		"E2,Bob,Boyd,bright-backup,regular_full_time,55000.00,2025-01-01,2 B St,Dover,DE,19901,check\n"
	reviewDependents = "employee_id,dependent_id,first_name,last_name,birth_date,relationship,registered_on\n" +
		"E1,D1,Cal,Ames,2020-01-01,child,2025-01-01\n" +
		"E2,D2,Dot,Boyd,2020-01-01,child,2025-01-01\n"
	providersHeader = "provider_id,name,address_line1,city,state,postal_code,payment_method,routing_number,account_number,account_type\n"
	reviewProviders = providersHeader +
		"PA,Alpha Care,1 Main St,Dover,DE,19901,ach,011000015,12345678,checking\n" +
		"PC,Cedar Care,2 Main St,Dover,DE,19901,check,,,\n" +
		"PB,Birch Care,3 Main St,Dover,DE,19901,ach,011000016,87654321,checking\n" // routing fails the check digit
	statementsHeader = "statement_id,provider_id,period,employee_id,dependent_id,care_type,service_date,hours,amount_charged\n"
)

// marchWorkdays are the Mondays to Fridays of March 2026 (the 2nd is a
// Monday).
var marchWorkdays = []int{2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 16, 17, 18, 19, 20}

// centerDays writes one statement row of center care a day, 5,000.00 each
// (the line limit): the employer pays 5,000.00 - 10.00 copay = 4,990.00 a
// line.
func centerDays(statement, provider, employee, dependent string, days []int) string {
	var b strings.Builder
	for _, d := range days {
		fmt.Fprintf(&b, "%s,%s,2026-03,%s,%s,center,2026-03-%02d,,5000.00\n", statement, provider, employee, dependent, d)
	}
	return b.String()
}

func readSummary(t *testing.T, res *Result) report.Summary {
	t.Helper()
	var sum report.Summary
	b, err := os.ReadFile(filepath.Join(res.OutDir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &sum); err != nil {
		t.Fatal(err)
	}
	return sum
}

// nachaEntries reads payments.ach back with moov-io/ach: amount by
// payee ID.
func nachaEntries(t *testing.T, dir string) map[string]core.Cents {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "payments.ach"))
	if os.IsNotExist(err) {
		return map[string]core.Cents{}
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	file, err := ach.NewReader(f).Read()
	if err != nil {
		t.Fatalf("moov-io/ach cannot read payments.ach: %v", err)
	}
	got := map[string]core.Cents{}
	for _, b := range file.Batches {
		for _, en := range b.GetEntries() {
			got[strings.TrimSpace(en.IdentificationNumber)] += core.Cents(en.Amount)
		}
	}
	return got
}

// checkRegister reads checks.csv: check number and amount by payee ID.
func checkRegister(t *testing.T, dir string) map[string][2]string {
	t.Helper()
	got := map[string][2]string{}
	if _, err := os.Stat(filepath.Join(dir, "checks.csv")); os.IsNotExist(err) {
		return got
	}
	for _, r := range readCSV(t, filepath.Join(dir, "checks.csv"))[1:] {
		got[r[3]] = [2]string{r[0], r[5]}
	}
	return got
}

// ledgerBalances checks the money in the ledger: every payment is the sum
// of the lines it carries, and no line is on two payments (a line has one
// payment_id), and returns the payable lines no payment carries.
func ledgerBalances(t *testing.T, e *env) (unpaid int) {
	t.Helper()
	db := e.lg.DB()
	var bad int
	if err := db.QueryRow(`SELECT COUNT(*) FROM (SELECT p.id FROM payments p LEFT JOIN lines l ON l.payment_id = p.id GROUP BY p.id
 HAVING p.amount != COALESCE(SUM(l.employer_share), 0) OR p.lines != COUNT(l.id)) AS differing`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d payments differ from the lines they carry", bad)
	}
	if err := db.QueryRow(`SELECT COUNT(*) FROM lines WHERE status IN ('approved', 'partial') AND payment_id IS NULL`).Scan(&unpaid); err != nil {
		t.Fatal(err)
	}
	return unpaid
}

// TestPaymentReviewLimit: a payment above limits.max_payment is held with
// its lines (PAYMENT_REVIEW) and named in the summary; at or below it, it
// is paid. Each line pays 4,990.00 (5,000.00 - 10.00 copay).
func TestPaymentReviewLimit(t *testing.T) {
	tests := []struct {
		name  string
		lines int
		max   core.Cents // 0: config.toml's 50,000.00
		held  bool
		total core.Cents
	}{
		{"ten_lines_under_default_limit", 10, 0, false, 49_900_00},          // 10 x 4,990.00 = 49,900.00 <= 50,000.00
		{"eleven_lines_over_default_limit", 11, 0, true, 54_890_00},         // 11 x 4,990.00 = 54,890.00 > 50,000.00
		{"exactly_the_limit_is_paid", 10, 49_900_00, false, 49_900_00},      // 49,900.00 is not above 49,900.00
		{"one_cent_over_the_limit_is_held", 10, 49_899_99, true, 49_900_00}, // 49,900.00 > 49,899.99
		{"one_line_over_a_low_limit_is_held", 1, 4_989_99, true, 4_990_00},  // 4,990.00 > 4,989.99
		{"one_line_at_a_low_limit_is_paid", 1, 4_990_00, false, 4_990_00},   // 4,990.00 = 4,990.00
		{"ach_eleven_lines_over_default_limit", 11, 0, true, 54_890_00},     // the same by ACH
		{"ach_ten_lines_under_default_limit", 10, 0, false, 49_900_00},      // paid by ACH
		{"details_fail_and_over_the_limit", 11, 0, true, 54_890_00},         // PB: both holds
		{"details_fail_under_the_limit", 10, 0, false, 49_900_00},           // PB: details only
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			if c.max != 0 {
				e.cfg.Limits.MaxPayment = c.max
			}
			provider := "PC"
			switch {
			case strings.HasPrefix(c.name, "ach_"):
				provider = "PA"
			case strings.HasPrefix(c.name, "details_"):
				provider = "PB"
			}
			in := drop(t, map[string]string{"01-employees.csv": reviewEmployees, "02-dependents.csv": reviewDependents,
				"03-providers.csv":  reviewProviders,
				"20-statements.csv": statementsHeader + centerDays("ST-1", provider, "E1", "D1", marchWorkdays[:c.lines])})
			res := e.run(in, fixtureDay)
			rows := readDecisions(t, filepath.Join(res.OutDir, "decisions.csv"))
			if len(rows) != c.lines {
				t.Fatalf("%d decisions, want %d", len(rows), c.lines)
			}
			details := provider == "PB"
			want := ""
			switch {
			case c.held && details:
				want = "PAYMENT_DETAILS;PAYMENT_REVIEW"
			case c.held:
				want = "PAYMENT_REVIEW"
			case details:
				want = "PAYMENT_DETAILS"
			}
			for _, r := range rows {
				if r["status"] != "approved" || r["reasons"] != want || r["employer_share"] != "4990.00" {
					t.Errorf("line %s: %s [%s] %s; want approved [%s] 4990.00", r["row"], r["status"], r["reasons"], r["employer_share"], want)
				}
			}
			sum := readSummary(t, res)
			checks, entries := checkRegister(t, res.OutDir), nachaEntries(t, res.OutDir)
			paid := map[string]core.Cents{}
			for id, c := range checks {
				cents, _ := core.ParseMoney(c[1])
				paid[id] += cents
			}
			for id, a := range entries {
				paid[id] += a
			}
			if c.held || details {
				if len(paid) != 0 {
					t.Errorf("a held payment was paid: %v", paid)
				}
				if len(sum.Held) != 1 || sum.Held[0].Amount != c.total || sum.Held[0].Lines != c.lines || sum.Held[0].PayeeID != provider {
					t.Fatalf("run.json held %+v; want %s for %d lines", sum.Held, c.total, c.lines)
				}
				h := sum.Held[0]
				if c.held {
					// The first payment of a new ledger is PAY-1.
					if h.PaymentID != "PAY-1" || h.Reason != "PAYMENT_REVIEW" || !strings.Contains(res.Summary, "carepay approve PAY-1") {
						t.Errorf("held payment %+v; summary:\n%s", h, res.Summary)
					}
				} else if h.PaymentID != "" || h.Reason != "PAYMENT_DETAILS" {
					t.Errorf("held for details only: %+v", h)
				}
				if sum.ByReason["PAYMENT_REVIEW"] != map[bool]int{true: c.lines}[c.held] {
					t.Errorf("run.json counts %d PAYMENT_REVIEW lines", sum.ByReason["PAYMENT_REVIEW"])
				}
			} else {
				if len(sum.Held) != 0 || paid[provider] != c.total || len(paid) != 1 {
					t.Errorf("paid %v, held %+v; want %s to %s", paid, sum.Held, c.total, provider)
				}
			}
			// A payment held for review keeps its lines; one held for
			// details leaves them unpaid.
			unpaid := ledgerBalances(t, e)
			if wantUnpaid := map[bool]int{true: c.lines}[details && !c.held]; unpaid != wantUnpaid {
				t.Errorf("%d lines unpaid, want %d", unpaid, wantUnpaid)
			}
		})
	}
}

// TestHeldPaymentIsPaidOnceApproved follows two payments above the limit
// from hold to payment: later lines of the payee form new payments, the
// approved payment is paid as formed in the next run (a NACHA entry, a
// check number then), and its lines are not decided or listed again.
func TestHeldPaymentIsPaidOnceApproved(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	days := marchWorkdays[:11]
	// PA (ach) for E1's child and PC (check) for E2's: the first line
	// decided is PA's, so PA's payment is PAY-1 and PC's PAY-2.
	first := e.run(drop(t, map[string]string{"01-employees.csv": reviewEmployees, "02-dependents.csv": reviewDependents,
		"03-providers.csv":  reviewProviders,
		"20-statements.csv": statementsHeader + centerDays("ST-A", "PA", "E1", "D1", days) + centerDays("ST-C", "PC", "E2", "D2", days)}), fixtureDay)
	sum := readSummary(t, first)
	if len(sum.Held) != 2 || sum.Held[0].PaymentID != "PAY-1" || sum.Held[0].PayeeID != "PA" || sum.Held[1].PaymentID != "PAY-2" ||
		sum.Held[1].PayeeID != "PC" || sum.Held[0].Amount != 54_890_00 || sum.Held[1].Amount != 54_890_00 {
		t.Fatalf("held %+v", sum.Held)
	}
	if len(checkRegister(t, first.OutDir)) != 0 || len(nachaEntries(t, first.OutDir)) != 0 {
		t.Fatal("the first run paid a held payment")
	}
	explained, err := e.lg.Explain(ctx, "ST-C")
	if err != nil || len(explained) != 11 || !strings.Contains(strings.Join(explained[0].Steps, "\n"), "payment PAY-2 (provider PC, $54,890.00) is above the limit") {
		t.Errorf("explain ST-C: %+v %v", explained, err)
	}

	// Refusals: an unknown payment, one that was never held; nothing of
	// a refused call is recorded.
	if _, err := e.lg.ApproveRefs(ctx, []string{"PAY-99"}, "ops-lead", fixtureDay.Time()); !errors.Is(err, ledger.ErrUnknownPayment) {
		t.Errorf("approving PAY-99: %v", err)
	}
	a, err := e.lg.ApproveRefs(ctx, []string{"pay-1"}, "ops-lead", fixtureDay.Time())
	if err != nil {
		t.Fatal(err)
	}
	if len(a) != 1 || a[0].Ref != "PAY-1" || a[0].Kind != ledger.ApprovePayment || a[0].Amount != 54_890_00 || a[0].Lines != 11 || a[0].PayeeID != "PA" {
		t.Errorf("approval %+v", a)
	}
	if err := e.lg.Approve(ctx, []string{"PAY-1"}, "someone-else", fixtureDay.Time()); err == nil || !strings.Contains(err.Error(), "already approved by ops-lead at 2026-04-10") {
		t.Errorf("approving PAY-1 twice: %v", err)
	}
	var by string
	if err := e.lg.DB().QueryRow(`SELECT approved_by FROM approvals WHERE kind = 'payment' AND ref = 'PAY-1'`).Scan(&by); err != nil || by != "ops-lead" {
		t.Errorf("recorded approver %q %v", by, err)
	}

	// Run 2: one more line for PC (Mar 17: 4,990.00) forms PAY-3, paid by
	// check 100001; PAY-1 is paid by ACH, as formed; PAY-2 still waits.
	second := e.run(drop(t, map[string]string{"20-statements-more.csv": statementsHeader + centerDays("ST-C2", "PC", "E2", "D2", []int{17})}),
		fixtureDay.AddDays(3))
	rows := readDecisions(t, filepath.Join(second.OutDir, "decisions.csv"))
	if len(rows) != 1 || rows[0]["ref"] != "ST-C2" || rows[0]["reasons"] != "" {
		t.Errorf("run 2 decided %v; the held payment's lines must not be listed again", rows)
	}
	if got := nachaEntries(t, second.OutDir); len(got) != 1 || got["PA"] != 54_890_00 {
		t.Errorf("run 2 NACHA entries %v; want PA 54,890.00", got)
	}
	if got := checkRegister(t, second.OutDir); len(got) != 1 || got["PC"] != [2]string{"100001", "4990.00"} {
		t.Errorf("run 2 checks %v; want PC 4,990.00 on 100001", got)
	}
	sum = readSummary(t, second)
	if len(sum.Held) != 1 || sum.Held[0].PaymentID != "PAY-2" || sum.Held[0].Reason != "PAYMENT_REVIEW" {
		t.Errorf("run 2 held %+v; want PAY-2 still waiting", sum.Held)
	}
	if r := sum.PaidAfterReview; len(r) != 1 || r[0].PaymentID != "PAY-1" || r[0].FormedIn != first.RunID || r[0].Amount != 54_890_00 ||
		!strings.Contains(second.Summary, "paid after review: PAY-1 provider PA $54,890.00 by ach (held in run "+first.RunID+")") {
		t.Errorf("run 2 paid after review %+v; summary:\n%s", r, second.Summary)
	}
	paid, err := e.lg.Payments(ctx, second.RunID)
	if err != nil {
		t.Fatal(err)
	}
	if len(paid) != 2 || paid[0].ID != 1 || paid[0].RunID != first.RunID || paid[1].ID != 3 {
		t.Errorf("run 2 payments %+v", paid)
	}
	if _, err := e.lg.ApproveRefs(ctx, []string{"PAY-3"}, "ops-lead", fixtureDay.Time()); err == nil || !strings.Contains(err.Error(), "was not held for review") {
		t.Errorf("approving PAY-3, paid without review: %v", err)
	}

	// Run 3: PAY-2 approved, paid by the next check, 100002; nothing decided.
	if err := e.lg.Approve(ctx, []string{"PAY-2"}, "ops-lead", fixtureDay.Time()); err != nil {
		t.Fatal(err)
	}
	third := e.run(drop(t, nil), fixtureDay.AddDays(4))
	if rows := readDecisions(t, filepath.Join(third.OutDir, "decisions.csv")); len(rows) != 0 {
		t.Errorf("run 3 decided %d lines", len(rows))
	}
	if got := checkRegister(t, third.OutDir); len(got) != 1 || got["PC"] != [2]string{"100002", "54890.00"} {
		t.Errorf("run 3 checks %v; want PC 54,890.00 on 100002", got)
	}
	if len(nachaEntries(t, third.OutDir)) != 0 || len(readSummary(t, third).Held) != 0 {
		t.Error("run 3 paid by ACH or held something")
	}
	// A fourth run pays nothing again.
	fourth := e.run(drop(t, nil), fixtureDay.AddDays(5))
	if p, _ := e.lg.Payments(ctx, fourth.RunID); len(p) != 0 {
		t.Errorf("a fourth run paid %d payments", len(p))
	}
	// 23 lines: 2 x 54,890.00 + 4,990.00 = 114,770.00, all paid once.
	if unpaid := ledgerBalances(t, e); unpaid != 0 {
		t.Errorf("%d lines unpaid", unpaid)
	}
	var total int64
	var n int
	e.lg.DB().QueryRow(`SELECT COUNT(*), SUM(amount) FROM payments WHERE issued_run IS NOT NULL`).Scan(&n, &total)
	if n != 3 || total != 114_770_00 {
		t.Errorf("%d payments issued, %d cents; want 3, 114,770.00", n, total)
	}
}

// TestHeldPaymentCarriesEarlierLines: lines carried from a run that held
// the payee for bank details count towards the payment the next run forms.
func TestHeldPaymentCarriesEarlierLines(t *testing.T) {
	e := newEnv(t)
	// Run 1: PB's routing number fails: 6 x 4,990.00 = 29,940.00 unpaid.
	first := e.run(drop(t, map[string]string{"01-employees.csv": reviewEmployees, "02-dependents.csv": reviewDependents,
		"03-providers.csv":  reviewProviders,
		"20-statements.csv": statementsHeader + centerDays("ST-B", "PB", "E1", "D1", marchWorkdays[:6])}), fixtureDay)
	if h := readSummary(t, first).Held; len(h) != 1 || h[0].Amount != 29_940_00 || h[0].PaymentID != "" {
		t.Fatalf("run 1 held %+v", h)
	}
	// Run 2: details fixed, 5 more lines: 29,940.00 + 5 x 4,990.00 =
	// 54,890.00 > 50,000.00: held for review with all 11 lines.
	second := e.run(drop(t, map[string]string{
		"03-providers.csv":  providersHeader + "PB,Birch Care,3 Main St,Dover,DE,19901,ach,011000015,87654321,checking\n",
		"20-statements.csv": statementsHeader + centerDays("ST-B2", "PB", "E1", "D1", marchWorkdays[6:11])}), fixtureDay.AddDays(3))
	h := readSummary(t, second).Held
	if len(h) != 1 || h[0].Amount != 54_890_00 || h[0].Lines != 11 || h[0].PaymentID != "PAY-1" || h[0].Reason != "PAYMENT_REVIEW" {
		t.Fatalf("run 2 held %+v", h)
	}
	if len(nachaEntries(t, second.OutDir)) != 0 {
		t.Error("run 2 paid the held payment")
	}
	var carried string
	e.lg.DB().QueryRow(`SELECT reasons FROM lines WHERE ref = 'ST-B' LIMIT 1`).Scan(&carried)
	if carried != "PAYMENT_DETAILS;PAYMENT_REVIEW" {
		t.Errorf("a carried line carries %q", carried)
	}
	if err := e.lg.Approve(context.Background(), []string{"PAY-1"}, "ops-lead", time.Now()); err != nil {
		t.Fatal(err)
	}
	third := e.run(drop(t, nil), fixtureDay.AddDays(4))
	if got := nachaEntries(t, third.OutDir); len(got) != 1 || got["PB"] != 54_890_00 {
		t.Errorf("run 3 entries %v; want PB 54,890.00", got)
	}
	if unpaid := ledgerBalances(t, e); unpaid != 0 {
		t.Errorf("%d lines unpaid", unpaid)
	}
}

// TestApprovedPaymentWaitsForBankDetails: a payment over the limit to a
// payee whose details fail is formed with its lines; approved, it waits
// for the details. It cannot be paid as formed: once a registry file
// brings valid details it takes them and is held for approval again (a
// registry file never bypasses dual control), and is paid to them once
// approved.
func TestApprovedPaymentWaitsForBankDetails(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.run(drop(t, map[string]string{"01-employees.csv": reviewEmployees, "02-dependents.csv": reviewDependents,
		"03-providers.csv":  reviewProviders,
		"20-statements.csv": statementsHeader + centerDays("ST-B", "PB", "E1", "D1", marchWorkdays[:11])}), fixtureDay)
	a, err := e.lg.ApproveRefs(ctx, []string{"PAY-1"}, "ops-lead", time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if why := PayToProblem(a[0].To); !strings.Contains(why, "fails the ABA check digit") {
		t.Errorf("the approval does not see the failing details: %q", why)
	}
	// Approved, details still failing: not paid, listed with its ID.
	second := e.run(drop(t, nil), fixtureDay.AddDays(3))
	h := readSummary(t, second).Held
	if len(h) != 1 || h[0].PaymentID != "PAY-1" || h[0].Reason != "PAYMENT_DETAILS" || !strings.Contains(h[0].Detail, "fails the ABA check digit") {
		t.Errorf("run 2 held %+v", h)
	}
	if len(nachaEntries(t, second.OutDir)) != 0 {
		t.Error("paid to a routing number that fails")
	}
	// The registry brings valid details: held for approval again, not paid.
	third := e.run(drop(t, map[string]string{
		"03-providers.csv": providersHeader + "PB,Birch Care,3 Main St,Dover,DE,19901,ach,011000015,87654321,savings\n"}), fixtureDay.AddDays(4))
	if got := nachaEntries(t, third.OutDir); len(got) != 0 {
		t.Errorf("run 3 paid %v on an approval given to other details", got)
	}
	h = readSummary(t, third).Held
	if len(h) != 1 || h[0].PaymentID != "PAY-1" || h[0].Reason != "PAYMENT_REVIEW" ||
		!strings.Contains(third.Summary, "payment held: PAY-1 provider PB $54,890.00: payment PAY-1 was approved with details that failed (routing number 011000016 fails the ABA check digit); "+
			"it now takes the payee's new details (ach to Birch Care, savings account ****4321, routing 011000015) and waits for a second person's approval of them: carepay approve PAY-1") {
		t.Errorf("run 3 held %+v; summary:\n%s", h, third.Summary)
	}
	if rows := readDecisions(t, filepath.Join(third.OutDir, "decisions.csv")); len(rows) != 0 {
		t.Errorf("run 3 listed %d lines again", len(rows))
	}
	a, err = e.lg.ApproveRefs(ctx, []string{"PAY-1"}, "ops-lead", time.Now())
	if err != nil {
		t.Fatalf("approving PAY-1 again: %v", err)
	}
	if to := PayTo(a[0].To); to != "ach to Birch Care, savings account ****4321, routing 011000015" || PayToProblem(a[0].To) != "" {
		t.Errorf("the second approval pays to %q", to)
	}
	fourth := e.run(drop(t, nil), fixtureDay.AddDays(5))
	if got := nachaEntries(t, fourth.OutDir); len(got) != 1 || got["PB"] != 54_890_00 {
		t.Errorf("run 4 entries %v; want PB 54,890.00", got)
	}
	if unpaid := ledgerBalances(t, e); unpaid != 0 {
		t.Errorf("%d lines unpaid", unpaid)
	}
	var n int
	e.lg.DB().QueryRow(`SELECT COUNT(*) FROM payments WHERE issued_run IS NOT NULL`).Scan(&n)
	if n != 1 {
		t.Errorf("%d payments issued, want 1", n)
	}
}

// TestBlankAccountTypeIsNotGuessed: an ACH payee with no account_type is
// held for its details, not paid as checking.
func TestBlankAccountTypeIsNotGuessed(t *testing.T) {
	e := newEnv(t)
	res := e.run(drop(t, map[string]string{"01-employees.csv": reviewEmployees, "02-dependents.csv": reviewDependents,
		"03-providers.csv":  providersHeader + "PA,Alpha Care,1 Main St,Dover,DE,19901,ach,011000015,12345678,\n",
		"20-statements.csv": statementsHeader + centerDays("ST-A", "PA", "E1", "D1", marchWorkdays[:1])}), fixtureDay)
	rows := readDecisions(t, filepath.Join(res.OutDir, "decisions.csv"))
	if len(rows) != 1 || rows[0]["status"] != "approved" || rows[0]["reasons"] != "PAYMENT_DETAILS" {
		t.Errorf("decisions %v", rows)
	}
	if got := nachaEntries(t, res.OutDir); len(got) != 0 {
		t.Errorf("paid %v", got)
	}
	h := readSummary(t, res).Held
	if len(h) != 1 || h[0].Detail != "account type missing" || h[0].Amount != 4_990_00 {
		t.Errorf("held %+v", h)
	}
}

// TestHeldPaymentOutputsRebuilt: the outputs of a run that held a payment
// for review come out the same when an interrupted run is completed from
// the ledger.
func TestHeldPaymentOutputsRebuilt(t *testing.T) {
	e := newEnv(t)
	res := e.run(drop(t, map[string]string{"01-employees.csv": reviewEmployees, "02-dependents.csv": reviewDependents,
		"03-providers.csv":  reviewProviders,
		"20-statements.csv": statementsHeader + centerDays("ST-C", "PC", "E1", "D1", marchWorkdays[:11])}), fixtureDay)
	names := []string{"decisions.csv", "run.json", "register.xlsx", "letters/provider-PC.pdf", "letters/employee-E1.pdf"}
	want := map[string][]byte{}
	for _, n := range names {
		b, err := os.ReadFile(filepath.Join(res.OutDir, n))
		if err != nil {
			t.Fatal(err)
		}
		want[n] = b
	}
	if !strings.Contains(string(want["decisions.csv"]), "PAYMENT_REVIEW") {
		t.Fatal("decisions.csv does not show PAYMENT_REVIEW")
	}
	if err := os.RemoveAll(res.OutDir); err != nil {
		t.Fatal(err)
	}
	if err := e.lg.MarkPending(context.Background(), res.RunID); err != nil {
		t.Fatal(err)
	}
	e.run(drop(t, nil), fixtureDay)
	for _, n := range names {
		got, err := os.ReadFile(filepath.Join(res.OutDir, n))
		if err != nil || string(untimed(t, n, got)) != string(untimed(t, n, want[n])) {
			t.Errorf("%s rebuilt from the ledger differs (%v)", n, err)
		}
	}
}
