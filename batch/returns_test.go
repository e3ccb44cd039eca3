package batch

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"carepay/core"
	"carepay/internal/achtest"
	"carepay/ledger"
	"carepay/payout"
)

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// paymentsOf returns a run's payments by payee ID.
func paymentsOf(t *testing.T, lg *ledger.Ledger, runID string) map[string]*core.Payment {
	t.Helper()
	ps, err := lg.Payments(context.Background(), runID)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*core.Payment{}
	for _, p := range ps {
		if out[p.PayeeID] != nil {
			t.Fatalf("run %s pays %s twice", runID, p.PayeeID)
		}
		out[p.PayeeID] = p
	}
	return out
}

// TestBankReturns follows the demo's two ACH payments after they leave.
// The demo run of 2026-04-10 pays by ACH:
//
//   - PAY-2, employee E301 (Ivy Ito), 240.00: INV-1001's three days at
//     110.00 less the 30.00 copay, 80.00 each; trace 121042880000004
//     (ODFI 12104288, twice the payment ID).
//   - PAY-3, provider P01, 3,321.50; trace 121042880000006.
//
// The bank then sends one file: R03 (no account) for PAY-3, C01 (account
// number corrected to 99887766) for PAY-2, and an R03 for a trace carepay
// never sent. The run of 2026-04-17 takes it with one new invoice of
// E301 (a day at 110.00: 80.00 to E301).
func TestBankReturns(t *testing.T) {
	e := newEnv(t)
	first := e.run("../fixtures/drop", fixtureDay)
	sent, err := os.ReadFile(filepath.Join(first.OutDir, "payments.ach"))
	if err != nil {
		t.Fatal(err)
	}
	pays := paymentsOf(t, e.lg, first.RunID)
	if p := pays["P01"]; p == nil || p.Method != core.MethodACH || p.Amount != 3321_50 {
		t.Fatalf("the demo's ACH payment to P01: %+v", p)
	}
	if p := pays["E301"]; p == nil || p.Method != core.MethodACH || p.Amount != 240_00 {
		t.Fatalf("the demo's ACH payment to E301: %+v", p)
	}

	drop := filepath.Join(e.dir, "drop2")
	returns := achtest.BankFile(t, sent, "260414", []achtest.Notice{
		{Code: "R03", Trace: "121042880000006"},
		{Code: "C01", Trace: "121042880000004", Account: "99887766"},
		{Code: "R03", Trace: "121042880009998", Amount: 50_00},
	})
	writeFile(t, filepath.Join(drop, "bank-0414.txt"), returns)
	writeFile(t, filepath.Join(drop, "inv-april.csv"), []byte(
		"invoice_id,employee_id,dependent_id,provider_id,care_type,service_date,amount_charged,employee_signed_on,provider_signed_on,received_on,hours,payee\n"+
			"INV-2001,E301,D3011,P03,center,4/6/2026,110.00,4/8/2026,4/8/2026,4/15/2026,,employee\n"))
	second := e.run(drop, core.NewDate(2026, 4, 17))
	pays = paymentsOf(t, e.lg, second.RunID)

	t.Run("returned_payment_reissued_by_check_once", func(t *testing.T) {
		p := pays["P01"]
		if p == nil || p.Method != core.MethodCheck || p.Amount != 3321_50 || p.CheckNumber == 0 {
			t.Fatalf("P01 in run %s: %+v, want a check for 3,321.50", second.RunID, p)
		}
		var returned, code string
		if err := e.lg.DB().QueryRow(`SELECT returned_run, return_code FROM payments WHERE trace_number = '121042880000006'`).Scan(&returned, &code); err != nil {
			t.Fatal(err)
		}
		if returned != second.RunID || code != "R03" {
			t.Errorf("PAY-3 returned in %q with %q", returned, code)
		}
		// Every line of P01 is on exactly one live payment: the check.
		var onCheck, unpaid int
		e.lg.DB().QueryRow(`SELECT COUNT(*) FROM lines WHERE payee_id = 'P01' AND payment_id = ?`, p.ID).Scan(&onCheck)
		e.lg.DB().QueryRow(`SELECT COUNT(*) FROM lines WHERE payee_id = 'P01' AND status IN ('approved','partial') AND payment_id IS NULL`).Scan(&unpaid)
		if onCheck == 0 || unpaid != 0 {
			t.Errorf("P01: %d lines on the check, %d unpaid", onCheck, unpaid)
		}
		checks, err := os.ReadFile(filepath.Join(second.OutDir, "checks.csv"))
		if err != nil || !strings.Contains(string(checks), "3321.50") {
			t.Errorf("checks.csv of run %s: %v\n%s", second.RunID, err, checks)
		}
	})

	t.Run("noc_corrects_the_account_used_by_the_same_run", func(t *testing.T) {
		p := pays["E301"]
		if p == nil || p.Method != core.MethodACH || p.Amount != 80_00 || p.Bank.Number != "99887766" {
			t.Fatalf("E301 in run %s: %+v, want 80.00 by ACH to 99887766", second.RunID, p)
		}
		ach2, err := os.ReadFile(filepath.Join(second.OutDir, "payments.ach"))
		if err != nil || !strings.Contains(string(ach2), "99887766") || strings.Contains(string(ach2), "987654321") {
			t.Errorf("payments.ach of run %s does not pay E301 to the corrected account: %v\n%s", second.RunID, err, ach2)
		}
		var oldMasked, newMasked string
		if err := e.lg.DB().QueryRow(`SELECT old_masked, new_masked FROM bank_changes WHERE payee_id = 'E301' AND code = 'C01'`).Scan(&oldMasked, &newMasked); err != nil {
			t.Fatal(err)
		}
		if oldMasked != "routing 011000015, account ****4321, checking" || newMasked != "routing 011000015, account ****7766, checking" {
			t.Errorf("audit: %q -> %q", oldMasked, newMasked)
		}
	})

	// As of 2026-04-17: sent the check to P01 (3,321.50) and 80.00 by ACH
	// to E301, 3,401.50; PAY-3 returned (3,321.50) and reissued by that
	// check; one NOC; checks outstanding: the demo's 100001 to P03 (1,360.00) and
	// the new one, 4,681.50.
	t.Run("reconciliation", func(t *testing.T) {
		want := "reconciliation: 2 sent $3,401.50, 1 returned $3,321.50, 1 reissued $3,321.50, 1 noc applied, 2 outstanding check $4,681.50 (register.xlsx, Reconciliation)"
		if !strings.Contains(second.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, second.Summary)
		}
		rows := sheetRows(t, filepath.Join(second.OutDir, "register.xlsx"), "Reconciliation")
		var got []string
		for _, r := range rows[1:] {
			got = append(got, r[0]+" "+r[1]+" "+r[3]+" "+r[7])
		}
		check := strconv.FormatInt(pays["P01"].CheckNumber, 10)
		wantRows := []string{
			"sent " + core.PaymentRef(pays["P01"].ID) + " P01 " + check,
			"sent " + core.PaymentRef(pays["E301"].ID) + " E301 " + payout.TraceNumber("121042882", pays["E301"].ID),
			"returned PAY-3 P01 121042880000006",
			"reissued " + core.PaymentRef(pays["P01"].ID) + " P01 " + check,
			"noc applied PAY-2 E301 121042880000004",
			"outstanding check PAY-1 P03 100001",
			"outstanding check " + core.PaymentRef(pays["P01"].ID) + " P01 " + check,
		}
		if strings.Join(got, "\n") != strings.Join(wantRows, "\n") {
			t.Errorf("Reconciliation sheet:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantRows, "\n"))
		}
	})

	// PAY-3 carried the demo's 21 lines of P01 (counted in the demo's
	// ledger: lines with payment_id 3).
	t.Run("payment_life", func(t *testing.T) {
		life, err := e.lg.PaymentLife(context.Background(), 3)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, ev := range life {
			got = append(got, ev.Date.String()+" "+ev.RunID+" "+ev.What)
		}
		want := []string{
			"2026-04-10 20260410-001 formed: $3,321.50 to provider P01 (Sunny Days Learning Center), 21 lines, by ach",
			"2026-04-10 20260410-001 issued: ACH entry, trace 121042880000006, to account ****1234",
			"2026-04-14 20260417-001 bank return R03 (applied): payment PAY-3 of $3,321.50 (20260410-001, ACH to ****1234) came back from the bank: R03 No Account/Unable to Locate Account; those bank details are not used again until the registry brings different ones; its lines are paid again by this run",
			"2026-04-14 20260417-001 21 of its lines are paid again by " + core.PaymentRef(pays["P01"].ID),
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("life of PAY-3:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	})

	t.Run("letter_says_the_payment_came_back", func(t *testing.T) {
		pdf, err := os.ReadFile(filepath.Join(second.OutDir, "letters", "provider-P01.pdf"))
		if err != nil {
			t.Fatal(err)
		}
		text := strings.Join(strings.Fields(pdfText(pdf)), " ")
		for _, want := range []string{
			"Our payment PAY-3 of $3,321.50, sent by direct deposit to account ****1234 in run 20260410-001, came back from your bank on 2026-04-14 (R03: No Account/Unable to Locate Account); the payment below pays it again.",
			"Check number " + strconv.FormatInt(pays["P01"].CheckNumber, 10) + " for $3,321.50",
		} {
			if !strings.Contains(text, want) {
				t.Errorf("P01's letter lacks %q:\n%s", want, text)
			}
		}
	})

	ack, err := os.ReadFile(filepath.Join(second.OutDir, "acks", "bank-0414.txt.ack.txt"))
	if err != nil {
		t.Fatal(err)
	}
	t.Run("run_report_lists_the_notices", func(t *testing.T) {
		for _, want := range []string{
			"bank return R03 (bank-0414.txt entry 1): applied: payment PAY-3 of $3,321.50",
			"bank noc C01 (bank-0414.txt entry 2): applied: NOC C01",
			"bank return R03 (bank-0414.txt entry 3): changed nothing:",
		} {
			if !strings.Contains(second.Summary, want) {
				t.Errorf("summary lacks %q:\n%s", want, second.Summary)
			}
		}
		js, err := os.ReadFile(filepath.Join(second.OutDir, "run.json"))
		if err != nil || !strings.Contains(string(js), `"bank_notices"`) || !strings.Contains(string(js), `"payment_id": "PAY-3"`) {
			t.Errorf("run.json: %v\n%s", err, js)
		}
	})

	t.Run("unknown_trace_reported", func(t *testing.T) {
		if !strings.Contains(string(ack), "121042880009998, which matches no payment") {
			t.Errorf("ack:\n%s", ack)
		}
		var applied int
		e.lg.DB().QueryRow(`SELECT applied FROM bank_notices WHERE trace = '121042880009998'`).Scan(&applied)
		if applied != 0 {
			t.Error("a notice for an unknown trace was applied")
		}
	})

	t.Run("second_copy_changes_nothing", func(t *testing.T) {
		drop3 := filepath.Join(e.dir, "drop3")
		writeFile(t, filepath.Join(drop3, "bank-0414-again.txt"), returns)
		// The same return sent again in another file (another day).
		writeFile(t, filepath.Join(drop3, "bank-0420.txt"), achtest.BankFile(t, sent, "260420", []achtest.Notice{
			{Code: "R03", Trace: "121042880000006"},
			{Code: "R01", Trace: "121042880000004", Amount: 1_00}, // PAY-2 was 240.00
		}))
		// And the roster again, with E301's old account.
		roster, err := os.ReadFile("../fixtures/drop/01-employees.csv")
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(string(roster), "\n")
		for _, l := range lines {
			if strings.HasPrefix(l, "E301,") {
				writeFile(t, filepath.Join(drop3, "roster.csv"), []byte(lines[0]+"\n"+l+"\n"))
			}
		}
		third := e.run(drop3, core.NewDate(2026, 4, 24))
		if got := paymentsOf(t, e.lg, third.RunID); len(got) != 0 {
			t.Errorf("run %s pays %v", third.RunID, got)
		}
		ack3, err := os.ReadFile(filepath.Join(third.OutDir, "acks", "bank-0420.txt.ack.txt"))
		if err != nil || !strings.Contains(string(ack3), "already returned in run "+second.RunID) ||
			!strings.Contains(string(ack3), "is for $1.00, but the payment was $240.00: nothing changed") {
			t.Errorf("ack of the second return: %v\n%s", err, ack3)
		}
		// PAY-3's lines came back once, and all sit on the check.
		var back, onCheck int
		e.lg.DB().QueryRow(`SELECT COUNT(*) FROM returned_lines`).Scan(&back)
		e.lg.DB().QueryRow(`SELECT COUNT(*) FROM lines WHERE payment_id = ?`, pays["P01"].ID).Scan(&onCheck)
		if back == 0 || back != onCheck {
			t.Errorf("%d lines returned, %d on the check", back, onCheck)
		}
		ackRoster, err := os.ReadFile(filepath.Join(third.OutDir, "acks", "roster.csv.ack.txt"))
		if err != nil || !strings.Contains(string(ackRoster), "corrected by NOC C01 on 2026-04-14; the corrected details (routing 011000015, account ****7766, checking) are kept") {
			t.Errorf("roster ack: %v\n%s", err, ackRoster)
		}
		var last4 string
		e.lg.DB().QueryRow(`SELECT account_last4 FROM employees WHERE employee_id = 'E301'`).Scan(&last4)
		if last4 != "7766" {
			t.Errorf("E301's account ends %s after the roster came again, want the NOC's 7766", last4)
		}
		var returned int
		e.lg.DB().QueryRow(`SELECT COUNT(*) FROM payments WHERE returned_run IS NOT NULL`).Scan(&returned)
		if returned != 1 {
			t.Errorf("%d payments returned, want PAY-3 alone", returned)
		}
		var p01 int
		e.lg.DB().QueryRow(`SELECT COUNT(*) FROM payments WHERE payee_id = 'P01'`).Scan(&p01)
		if p01 != 2 {
			t.Errorf("%d payments to P01, want the returned ACH and its check", p01)
		}
	})
}

// TestPermanentReturnHolds runs with returns.fallback = "hold". The demo
// pays E301 240.00 by ACH (PAY-2, trace 121042880000004, account
// 987654321); the bank returns it R02 (account closed). Worked by hand:
//
//   - 2026-04-17, the return and INV-2001 (80.00 to E301): E301's four
//     lines (240.00 + 80.00 = 320.00) are held, PAYMENT_DETAILS.
//   - 2026-04-24, INV-2002 (80.00), no new details: still held, now
//     because the closed account is blocked (400.00).
//   - 2026-05-01, the roster brings account 55556666: 400.00 by ACH to it.
func TestPermanentReturnHolds(t *testing.T) {
	e := newEnv(t)
	e.cfg.Returns.Fallback = "hold"
	first := e.run("../fixtures/drop", fixtureDay)
	sent, err := os.ReadFile(filepath.Join(first.OutDir, "payments.ach"))
	if err != nil {
		t.Fatal(err)
	}
	const header = "invoice_id,employee_id,dependent_id,provider_id,care_type,service_date,amount_charged,employee_signed_on,provider_signed_on,received_on,hours,payee\n"
	held := func(res *Result) *core.PaymentHold {
		t.Helper()
		holds, err := e.lg.Holds(context.Background(), res.RunID)
		if err != nil {
			t.Fatal(err)
		}
		for i := range holds {
			if holds[i].PayeeID == "E301" {
				return &holds[i]
			}
		}
		return nil
	}

	drop := filepath.Join(e.dir, "d2")
	writeFile(t, filepath.Join(drop, "bank.txt"), achtest.BankFile(t, sent, "260414", []achtest.Notice{{Code: "R02", Trace: "121042880000004"}}))
	writeFile(t, filepath.Join(drop, "inv.csv"), []byte(header+"INV-2001,E301,D3011,P03,center,4/6/2026,110.00,4/8/2026,4/8/2026,4/15/2026,,employee\n"))
	second := e.run(drop, core.NewDate(2026, 4, 17))
	h := held(second)
	if h == nil || h.Amount != 320_00 || h.Lines != 4 || !strings.Contains(h.Detail, `held (returns.fallback = "hold")`) {
		t.Fatalf("run %s, E301's hold: %+v", second.RunID, h)
	}
	if p := paymentsOf(t, e.lg, second.RunID)["E301"]; p != nil {
		t.Fatalf("run %s pays E301: %+v", second.RunID, p)
	}

	drop = filepath.Join(e.dir, "d3")
	writeFile(t, filepath.Join(drop, "inv.csv"), []byte(header+"INV-2002,E301,D3011,P03,center,4/13/2026,110.00,4/15/2026,4/15/2026,4/22/2026,,employee\n"))
	third := e.run(drop, core.NewDate(2026, 4, 24))
	h = held(third)
	if h == nil || h.Amount != 400_00 || !strings.Contains(h.Detail, "with R02; they are not used again until the registry brings different ones") {
		t.Fatalf("run %s, E301's hold: %+v", third.RunID, h)
	}

	roster, err := os.ReadFile("../fixtures/drop/01-employees.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(roster), "\n")
	drop = filepath.Join(e.dir, "d4")
	for _, l := range lines {
		if strings.HasPrefix(l, "E301,") {
			writeFile(t, filepath.Join(drop, "roster.csv"), []byte(lines[0]+"\n"+strings.Replace(l, ",987654321,", ",55556666,", 1)+"\n"))
		}
	}
	fourth := e.run(drop, core.NewDate(2026, 5, 1))
	p := paymentsOf(t, e.lg, fourth.RunID)["E301"]
	if p == nil || p.Method != core.MethodACH || p.Amount != 400_00 || p.Bank.Number != "55556666" {
		t.Fatalf("run %s, E301: %+v, want 400.00 by ACH to 55556666", fourth.RunID, p)
	}
	if h := held(fourth); h != nil {
		t.Errorf("run %s still holds E301: %+v", fourth.RunID, h)
	}
}

// The demo drop's Exceptions sheet lists what its files did not give: the
// notes file no header of which matches an input kind, the roster's row 14
// (annual_income "abc") and the workbook's dependent row 20 (a birth date
// and an incapable_of_self_care flag that do not read), beside the lines
// and payments.
func TestRegisterExceptionsListFiles(t *testing.T) {
	e := newEnv(t)
	res := e.run("../fixtures/drop", fixtureDay)
	rows := sheetRows(t, filepath.Join(res.OutDir, "register.xlsx"), "Exceptions")
	var got []string
	for _, r := range rows[1:] {
		if strings.HasPrefix(r[0], "file") || strings.HasPrefix(r[0], "registry") {
			got = append(got, strings.Join(r[:3], " ")+" | "+r[len(r)-1])
		}
	}
	want := []string{
		"registry row rejected 01-employees.csv 14 | annual_income: want an amount like 123.45 or $1,234.50",
		"registry row rejected 10-registry.xlsx#Dependents 20 | birth_date:",
		"registry row rejected 10-registry.xlsx#Dependents 20 | incapable_of_self_care:",
		"file rejected 40-ops-notes.csv  | header matches no input kind",
	}
	if len(got) != len(want) {
		t.Fatalf("file exceptions:\n%s", strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("row %d: %q, want it to start %q", i, got[i], want[i])
		}
	}
}

// sheetRows returns the rows of a sheet of a workbook a run wrote.
func sheetRows(t *testing.T, path, sheet string, opts ...excelize.Options) [][]string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := f.GetRows(sheet, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}
