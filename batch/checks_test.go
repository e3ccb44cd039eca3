package batch

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"carepay/core"
	"carepay/ledger"
	"carepay/report"
)

// The demo run of 2026-04-10 cuts one check: 100001, PAY-1, to provider
// P03 (Grandma's Family Care) for 21-statements-family-care.csv rows 2 to
// 18: 17 days of family child care at 90.00 less the 10.00 copay of the
// lowest tier (E100 earns 55,000.00), 80.00 each, 17 x 80.00 = 1,360.00.
// Its positive pay issue record reads
// 000987654321,100001,1360.00,04/10/2026,GRANDMA'S FAMILY CARE,I.

const (
	demoCheck       = 100001
	demoCheckAmount = core.Cents(1360_00)
	demoCheckLines  = 17
)

// demoCheckPayment runs the demo and checks the check it cut from the
// ledger.
func demoCheckPayment(t *testing.T, e *env) (*Result, *core.Payment) {
	t.Helper()
	first := e.run("../fixtures/drop", fixtureDay)
	p := paymentsOf(t, e.lg, first.RunID)["P03"]
	if p == nil || p.Method != core.MethodCheck || p.CheckNumber != demoCheck || p.Amount != demoCheckAmount || p.Lines != demoCheckLines {
		t.Fatalf("the demo's check: %+v, want 100001 to P03 for 1,360.00 (17 lines)", p)
	}
	return first, p
}

// linesOn counts P03's lines on a payment, and P03's payable lines no
// payment carries.
func linesOn(t *testing.T, e *env, paymentID int64) (on, unpaid int) {
	t.Helper()
	if err := e.lg.DB().QueryRow(`SELECT COUNT(*) FROM lines WHERE payment_id = ?`, paymentID).Scan(&on); err != nil {
		t.Fatal(err)
	}
	if err := e.lg.DB().QueryRow(`SELECT COUNT(*) FROM lines WHERE payee_id = 'P03' AND status IN ('approved','partial') AND payment_id IS NULL`).Scan(&unpaid); err != nil {
		t.Fatal(err)
	}
	return on, unpaid
}

func emptyDrop(t *testing.T, e *env, name string) string {
	t.Helper()
	dir := filepath.Join(e.dir, name)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return dir
}

func runJSON(t *testing.T, res *Result) *report.Summary {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(res.OutDir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	var s report.Summary
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return &s
}

func readOut(t *testing.T, res *Result, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(res.OutDir, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var voidedAt = time.Date(2026, 4, 13, 15, 0, 0, 0, time.UTC)

// TestVoidedCheckReissuedOnce voids check 100001 (1,360.00 to P03) on
// 2026-04-13. The run of 2026-04-17 pays its 17 lines again by the next
// check of the sequence, 100002, for the same 1,360.00, and its positive
// pay carries the void of 100001 (issued 04/10/2026) and the issue of
// 100002 (04/17/2026). The run of 2026-04-24 pays nothing and writes no
// positive pay: nothing is paid twice.
func TestVoidedCheckReissuedOnce(t *testing.T) {
	e := newEnv(t)
	first, pay1 := demoCheckPayment(t, e)
	ctx := context.Background()
	c, err := e.lg.VoidCheck(ctx, demoCheck, "lost in the mail", "ops-lead", voidedAt)
	if err != nil || c.PaymentID != pay1.ID || c.Amount != demoCheckAmount || c.IssuedRun != first.RunID {
		t.Fatalf("void: %+v %v", c, err)
	}
	_, err = e.lg.VoidCheck(ctx, demoCheck, "again", "someone", voidedAt)
	if !errors.Is(err, ledger.ErrCheckNotVoidable) || !strings.Contains(err.Error(), "already voided at 2026-04-13T15:00:00Z by ops-lead (lost in the mail); the next run sends the void record") {
		t.Errorf("voiding twice before the next run: %v", err)
	}

	second := e.run(emptyDrop(t, e, "d2"), core.NewDate(2026, 4, 17))
	pays := paymentsOf(t, e.lg, second.RunID)
	p := pays["P03"]
	if len(pays) != 1 || p == nil || p.Method != core.MethodCheck || p.CheckNumber != 100002 || p.Amount != demoCheckAmount || p.Lines != demoCheckLines {
		t.Fatalf("run %s pays %+v, want check 100002 to P03 for 1,360.00 alone", second.RunID, pays)
	}
	if on, unpaid := linesOn(t, e, p.ID); on != demoCheckLines || unpaid != 0 {
		t.Errorf("%d lines on check 100002, %d unpaid, want 17 and 0", on, unpaid)
	}
	if on, _ := linesOn(t, e, pay1.ID); on != 0 {
		t.Errorf("%d lines still on the voided check", on)
	}
	want := "000987654321,100001,1360.00,04/10/2026,GRANDMA'S FAMILY CARE,V\n" +
		"000987654321,100002,1360.00,04/17/2026,GRANDMA'S FAMILY CARE,I\n"
	if got := readOut(t, second, "positive-pay.csv"); got != want {
		t.Errorf("positive-pay.csv of run %s:\n%s\nwant:\n%s", second.RunID, got, want)
	}
	if !strings.Contains(second.Summary, "check voided: 100001 (PAY-1, provider P03, $1,360.00, issued 2026-04-10): lost in the mail, by ops-lead;") {
		t.Errorf("summary:\n%s", second.Summary)
	}
	// P03's letter says which check the new one replaces (the void was
	// sent by the run of 2026-04-17).
	pdf, err := os.ReadFile(filepath.Join(second.OutDir, "letters", "provider-P03.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if text := strings.Join(strings.Fields(pdfText(pdf)), " "); !strings.Contains(text,
		"Our check number 100001 of $1,360.00 (run 20260410-001) was cancelled on 2026-04-17 (lost in the mail): do not cash it; the payment below replaces it.") {
		t.Errorf("P03's letter:\n%s", text)
	}
	// As of 2026-04-17: sent 100002 (1,360.00), which pays PAY-1 again;
	// 100001 voided; outstanding: 100002 alone.
	if want := "reconciliation: 1 sent $1,360.00, 1 reissued $1,360.00, 1 voided check $1,360.00, 1 outstanding check $1,360.00"; !strings.Contains(second.Summary, want) {
		t.Errorf("summary lacks %q:\n%s", want, second.Summary)
	}
	js := runJSON(t, second)
	if v := js.Checks.Voided; len(v) != 1 || v[0].CheckNumber != demoCheck || v[0].Amount != demoCheckAmount || v[0].IssuedRun != first.RunID || v[0].Reason != "lost in the mail" {
		t.Errorf("run.json voided: %+v", v)
	}
	_, err = e.lg.VoidCheck(ctx, demoCheck, "again", "someone", voidedAt)
	if !errors.Is(err, ledger.ErrCheckNotVoidable) || !strings.Contains(err.Error(), "run "+second.RunID+" sent the void record") {
		t.Errorf("voiding twice after the run: %v", err)
	}

	third := e.run(emptyDrop(t, e, "d3"), core.NewDate(2026, 4, 24))
	if pays := paymentsOf(t, e.lg, third.RunID); len(pays) != 0 {
		t.Errorf("run %s pays %+v", third.RunID, pays)
	}
	if _, err := os.Stat(filepath.Join(third.OutDir, "positive-pay.csv")); !os.IsNotExist(err) {
		t.Errorf("run %s wrote positive-pay.csv (%v)", third.RunID, err)
	}
	var back int
	e.lg.DB().QueryRow(`SELECT COUNT(*) FROM returned_lines WHERE payment_id = ?`, pay1.ID).Scan(&back)
	if back != demoCheckLines {
		t.Errorf("%d lines taken back from the voided check, want 17", back)
	}
	// P03 was paid 1,360.00 by the live check, once: the voided check's
	// 1,360.00 does not count.
	var live int64
	e.lg.DB().QueryRow(`SELECT SUM(amount) FROM payments WHERE payee_id = 'P03' AND voided_at IS NULL`).Scan(&live)
	if core.Cents(live) != demoCheckAmount {
		t.Errorf("P03's live checks total %s, want $1,360.00", core.Cents(live).Dollars())
	}
}

// TestVoidRefused: a check number carepay never issued (100002 is the
// next of the sequence, 2 is PAY-2's ID, an ACH payment), and a returned
// check, are refused; nothing changes.
func TestVoidRefused(t *testing.T) {
	e := newEnv(t)
	demoCheckPayment(t, e)
	ctx := context.Background()
	for _, n := range []int64{424242, 100002, 2} {
		if _, err := e.lg.VoidCheck(ctx, n, "x", "ops", voidedAt); !errors.Is(err, ledger.ErrUnknownCheck) {
			t.Errorf("void %d: %v, want ErrUnknownCheck", n, err)
		}
	}
	// A payment the bank returned has had its lines paid again already.
	// Returns match ACH traces, so a check is marked returned here by hand.
	if _, err := e.lg.DB().Exec(`UPDATE payments SET returned_run = '20260414-001' WHERE check_number = ?`, demoCheck); err != nil {
		t.Fatal(err)
	}
	_, err := e.lg.VoidCheck(ctx, demoCheck, "x", "ops", voidedAt)
	if !errors.Is(err, ledger.ErrCheckNotVoidable) || !strings.Contains(err.Error(), "was returned in run 20260414-001") {
		t.Errorf("void of a returned check: %v", err)
	}
	var voided int
	e.lg.DB().QueryRow(`SELECT COUNT(*) FROM payments WHERE voided_at IS NOT NULL`).Scan(&voided)
	if voided != 0 {
		t.Errorf("%d payments voided", voided)
	}
}

// TestStaleChecks: check 100001, issued 2026-04-10, is stale once more
// than 180 days old. From 2026-04-10: 20 days to April 30, then May 31,
// June 30, July 31, August 31, September 30 = 173 on September 30, so
// 2026-10-07 is day 180 (not stale) and 2026-10-08 day 181 (stale,
// listed, not voided). With checks.void_stale the run of 2026-10-09 (day
// 182) voids it and pays its 1,360.00 again, by check 100002 issued
// that day; the run of 2026-10-10 lists nothing stale.
func TestStaleChecks(t *testing.T) {
	e := newEnv(t)
	_, pay1 := demoCheckPayment(t, e)

	day180 := e.run(emptyDrop(t, e, "d180"), core.NewDate(2026, 10, 7))
	if s := runJSON(t, day180).Checks.Stale; len(s) != 0 || strings.Contains(day180.Summary, "stale check") {
		t.Errorf("day 180: stale %+v\n%s", s, day180.Summary)
	}

	day181 := e.run(emptyDrop(t, e, "d181"), core.NewDate(2026, 10, 8))
	s := runJSON(t, day181).Checks.Stale
	if len(s) != 1 || s[0].CheckNumber != demoCheck || s[0].Days != 181 || s[0].Voided || s[0].Amount != demoCheckAmount || s[0].IssuedOn != "2026-04-10" {
		t.Fatalf("day 181: stale %+v", s)
	}
	if !strings.Contains(day181.Summary, "stale check: check 100001 (PAY-1, provider P03, $1,360.00) to Grandma's Family Care, issued 2026-04-10 in run 20260410-001, not cleared after 181 days (checks.stale_after = 180); carepay void 100001") {
		t.Errorf("day 181 summary:\n%s", day181.Summary)
	}
	if pays := paymentsOf(t, e.lg, day181.RunID); len(pays) != 0 {
		t.Errorf("day 181 pays %+v", pays)
	}

	e.cfg.Checks.VoidStale = true
	day182 := e.run(emptyDrop(t, e, "d182"), core.NewDate(2026, 10, 9))
	s = runJSON(t, day182).Checks.Stale
	if len(s) != 1 || s[0].Days != 182 || !s[0].Voided {
		t.Fatalf("day 182: stale %+v", s)
	}
	p := paymentsOf(t, e.lg, day182.RunID)["P03"]
	if p == nil || p.CheckNumber != 100002 || p.Amount != demoCheckAmount || p.Lines != demoCheckLines {
		t.Fatalf("day 182 pays P03 %+v, want check 100002 for 1,360.00", p)
	}
	want := "000987654321,100001,1360.00,04/10/2026,GRANDMA'S FAMILY CARE,V\n" +
		"000987654321,100002,1360.00,10/09/2026,GRANDMA'S FAMILY CARE,I\n"
	if got := readOut(t, day182, "positive-pay.csv"); got != want {
		t.Errorf("positive-pay.csv:\n%s\nwant:\n%s", got, want)
	}
	var by, reason, voidRun string
	e.lg.DB().QueryRow(`SELECT voided_by, void_reason, void_run FROM payments WHERE id = ?`, pay1.ID).Scan(&by, &reason, &voidRun)
	if by != ledger.StaleVoider || reason != "stale" || voidRun != day182.RunID {
		t.Errorf("void of 100001: by %q, reason %q, run %q", by, reason, voidRun)
	}

	next := e.run(emptyDrop(t, e, "d183"), core.NewDate(2026, 10, 10))
	if s := runJSON(t, next).Checks.Stale; len(s) != 0 {
		t.Errorf("after the void: stale %+v", s)
	}
	if pays := paymentsOf(t, e.lg, next.RunID); len(pays) != 0 {
		t.Errorf("run after the void pays %+v", pays)
	}
}

// TestClearedChecks: the bank's cleared-checks file of 2026-04-20. Row 2
// names 100001 for 1,306.00 (the check is 1,360.00): nothing changes.
// Row 3 names it for 1,360.00 paid 2026-04-15: cleared. Row 4 repeats
// it: already cleared. Row 5 names 100999, never issued. Row 6 has a bad
// amount: rejected in the ack. Row 7 says 100001 cleared on 2026-04-09,
// the day before it was issued: nothing changes. A cleared check is never stale (day 181
// is 2026-10-08, see TestStaleChecks) and cannot be voided.
func TestClearedChecks(t *testing.T) {
	e := newEnv(t)
	_, pay1 := demoCheckPayment(t, e)
	drop := emptyDrop(t, e, "d2")
	writeFile(t, filepath.Join(drop, "cleared-0420.csv"), []byte("check_number,amount,cleared_date\n"+
		"100001,1306.00,2026-04-15\n"+
		"100001,1360.00,2026-04-15\n"+
		"100001,1360.00,4/15/2026\n"+
		"100999,5.00,2026-04-16\n"+
		"100002,12.3.4,2026-04-16\n"+
		"100001,1360.00,2026-04-09\n"))
	second := e.run(drop, core.NewDate(2026, 4, 20))
	rows := runJSON(t, second).Checks.Cleared
	type outcome struct {
		row     int
		applied bool
		detail  string
	}
	want := []outcome{
		{2, false, "check 100001 cleared on 2026-04-15 for $1,306.00, but carepay issued it for $1,360.00: nothing changed"},
		{3, true, "check 100001 (PAY-1, provider P03, $1,360.00) issued 2026-04-10 cleared on 2026-04-15"},
		{4, false, "already cleared on 2026-04-15 (run " + second.RunID + "): nothing changed"},
		{5, false, "check 100999 cleared on 2026-04-16 for $5.00 matches no check carepay issued: nothing changed"},
		{7, false, "check 100001 cleared on 2026-04-09, before carepay issued it on 2026-04-10: nothing changed"},
	}
	if len(rows) != len(want) {
		t.Fatalf("run.json cleared rows: %+v", rows)
	}
	for i, w := range want {
		if rows[i].Row != w.row || rows[i].Applied != w.applied || !strings.Contains(rows[i].Detail, w.detail) || rows[i].Alert {
			t.Errorf("row %d: %+v, want applied %v and %q", w.row, rows[i], w.applied, w.detail)
		}
	}
	ack := readOut(t, second, filepath.Join("acks", "cleared-0420.csv.ack.txt"))
	for _, w := range []string{"row 2: check 100001 cleared on 2026-04-15 for $1,306.00, but carepay issued it for $1,360.00",
		"row 5: check 100999 cleared on 2026-04-16 for $5.00 matches no check", "cleared-0420.csv:6:amount"} {
		if !strings.Contains(ack, w) {
			t.Errorf("ack lacks %q:\n%s", w, ack)
		}
	}
	if strings.Contains(ack, "row 3:") {
		t.Errorf("the ack lists a row that cleared its check:\n%s", ack)
	}
	if !strings.Contains(second.Summary, "cleared checks: 5 rows, 1 marked cleared, 4 changed nothing") {
		t.Errorf("summary:\n%s", second.Summary)
	}
	var cleared, clearedRun string
	e.lg.DB().QueryRow(`SELECT cleared_on, cleared_run FROM payments WHERE id = ?`, pay1.ID).Scan(&cleared, &clearedRun)
	if cleared != "2026-04-15" || clearedRun != second.RunID {
		t.Errorf("check 100001 cleared on %q in %q", cleared, clearedRun)
	}
	_, err := e.lg.VoidCheck(context.Background(), demoCheck, "late", "ops", voidedAt)
	if !errors.Is(err, ledger.ErrCheckNotVoidable) || !strings.Contains(err.Error(), "cleared on 2026-04-15") {
		t.Errorf("void of a cleared check: %v", err)
	}
	day181 := e.run(emptyDrop(t, e, "d181"), core.NewDate(2026, 10, 8))
	if s := runJSON(t, day181).Checks.Stale; len(s) != 0 {
		t.Errorf("a cleared check listed stale: %+v", s)
	}
}

// TestVoidedCheckClearedAlert: check 100001 is voided and its 1,360.00
// paid again by check 100002 (run of 2026-04-17); then the bank reports
// 100001 paid on 2026-04-16. P03 may have 2,720.00 for 1,360.00 of care:
// the run says so first, in capitals, and changes nothing.
func TestVoidedCheckClearedAlert(t *testing.T) {
	e := newEnv(t)
	_, pay1 := demoCheckPayment(t, e)
	if _, err := e.lg.VoidCheck(context.Background(), demoCheck, "lost", "ops-lead", voidedAt); err != nil {
		t.Fatal(err)
	}
	second := e.run(emptyDrop(t, e, "d2"), core.NewDate(2026, 4, 17))
	drop := emptyDrop(t, e, "d3")
	writeFile(t, filepath.Join(drop, "cleared.csv"), []byte("check_number,amount,cleared_date\n100001,1360.00,2026-04-16\n"))
	third := e.run(drop, core.NewDate(2026, 4, 20))
	lines := strings.Split(third.Summary, "\n")
	if !strings.HasPrefix(lines[1], "!!! 1 ALERT(S): the bank paid checks carepay had voided") ||
		!strings.HasPrefix(lines[2], "ALERT: check 100001 (PAY-1, provider P03, $1,360.00) was VOIDED") ||
		!strings.Contains(lines[2], "its lines were paid again in run "+second.RunID) {
		t.Errorf("summary:\n%s", third.Summary)
	}
	js := runJSON(t, third)
	if js.Checks.Alerts != 1 || len(js.Checks.Cleared) != 1 || !js.Checks.Cleared[0].Alert || js.Checks.Cleared[0].Applied {
		t.Errorf("run.json checks: %+v", js.Checks)
	}
	if ack := readOut(t, third, filepath.Join("acks", "cleared.csv.ack.txt")); !strings.Contains(ack, "ALERT: check 100001") {
		t.Errorf("ack:\n%s", ack)
	}
	var cleared any
	e.lg.DB().QueryRow(`SELECT cleared_on FROM payments WHERE id = ?`, pay1.ID).Scan(&cleared)
	if cleared != nil {
		t.Errorf("the voided check was marked cleared: %v", cleared)
	}
	if pays := paymentsOf(t, e.lg, third.RunID); len(pays) != 0 {
		t.Errorf("run %s pays %+v", third.RunID, pays)
	}
}

// TestInterruptedVoidRunRebuilt: the run of 2026-04-17 that sends the
// void of check 100001, pays its 1,360.00 again by check 100002 and takes
// a cleared-checks row for an unknown check is killed after its commit.
// The next run (2026-04-24) writes its positive-pay.csv, run.json and ack
// again from the ledger, byte for byte, and sends the void no second
// time: it writes no positive pay of its own.
func TestInterruptedVoidRunRebuilt(t *testing.T) {
	e := newEnv(t)
	demoCheckPayment(t, e)
	if _, err := e.lg.VoidCheck(context.Background(), demoCheck, "lost", "ops-lead", voidedAt); err != nil {
		t.Fatal(err)
	}
	drop := emptyDrop(t, e, "d2")
	writeFile(t, filepath.Join(drop, "cleared.csv"), []byte("check_number,amount,cleared_date\n100777,20.00,2026-04-15\n"))
	second := e.run(drop, core.NewDate(2026, 4, 17))
	names := []string{"positive-pay.csv", "checks.csv", "run.json", filepath.Join("acks", "cleared.csv.ack.txt")}
	want := map[string][]byte{}
	for _, n := range names {
		want[n] = []byte(readOut(t, second, n))
	}
	if js := runJSON(t, second); len(js.Checks.Voided) != 1 || len(js.Checks.Cleared) != 1 {
		t.Fatalf("run.json checks: %+v", js.Checks)
	}
	if err := os.RemoveAll(second.OutDir); err != nil {
		t.Fatal(err)
	}
	if err := e.lg.MarkPending(context.Background(), second.RunID); err != nil {
		t.Fatal(err)
	}
	third := e.run(emptyDrop(t, e, "d3"), core.NewDate(2026, 4, 24))
	if len(third.Recovered) != 1 || third.Recovered[0] != second.RunID {
		t.Fatalf("recovered %v", third.Recovered)
	}
	for _, n := range names {
		if got := readOut(t, second, n); !bytes.Equal(untimed(t, n, []byte(got)), untimed(t, n, want[n])) {
			t.Errorf("%s rebuilt from the ledger differs:\n%s\nwas:\n%s", n, got, want[n])
		}
	}
	if _, err := os.Stat(filepath.Join(third.OutDir, "positive-pay.csv")); !os.IsNotExist(err) {
		t.Errorf("run %s wrote positive-pay.csv (%v)", third.RunID, err)
	}
	if js := runJSON(t, third); len(js.Checks.Voided) != 0 || len(js.Checks.Cleared) != 0 {
		t.Errorf("run %s repeats the checks: %+v", third.RunID, js.Checks)
	}
}
