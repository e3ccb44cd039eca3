package batch

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moov-io/ach"

	"carepay/core"
	"carepay/internal/achtest"
)

// The dates of these tests, by the Federal Reserve's calendar (no federal
// holiday falls between 2026-04-10 and 2026-04-30):
//
//   - a prenote sent by the run of Friday 2026-04-10 settles on the file's
//     effective date, Monday 2026-04-13; the third banking day after it
//     is Thursday 2026-04-16 (Tue 14, Wed 15, Thu 16): live credits may
//     go from the run of 2026-04-16 on, not in that of Wed 2026-04-15.
//   - one sent on Friday 2026-04-17 settles Monday 04-20; live credits
//     from Thursday 2026-04-23 on (Tue 21, Wed 22, Thu 23).
//
// The demo run pays, in the order met: PAY-1 (a check), PAY-2 E301 Ivy
// Ito 240.00 and PAY-3 provider P01 3,321.50, both by ACH without
// prenotes (see TestBankReturns). With prenotes on, the prenotes take the
// IDs after the payments: first those of the payees paid (E301 PAY-4,
// P01 PAY-5), then the other ACH payees of the registry rows the run
// took, employees then providers, each in ID order: E100 (checking) PAY-6
// and E200 (savings) PAY-7; P04's routing number fails its check digit,
// so it gets none. Traces are the ODFI's 12104288 then twice the ID.
const prenoteInvoiceHeader = "invoice_id,employee_id,dependent_id,provider_id,care_type,service_date,amount_charged,employee_signed_on,provider_signed_on,received_on,hours,payee\n"

// invoiceE301 is one day of center care for E301's D3011 at 110.00 on
// service date day: 110.00 less the jitc-invoice copay of 30.00 is 80.00
// to E301.
func invoiceE301(id, day, received string) []byte {
	return []byte(prenoteInvoiceHeader + id + ",E301,D3011,P03,center," + day + ",110.00," + day + "," + day + "," + received + ",,employee\n")
}

// achEntries reads a run's payments.ach with moov-io/ach (validated)
// and returns its entries by trace number; nil when the run wrote none.
func achEntries(t *testing.T, dir string) map[string]*ach.EntryDetail {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "payments.ach"))
	if os.IsNotExist(err) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	f, err := ach.NewReader(bytes.NewReader(b)).Read()
	if err != nil {
		t.Fatalf("payments.ach: %v", err)
	}
	if err := f.Validate(); err != nil {
		t.Fatalf("payments.ach does not validate: %v", err)
	}
	out := map[string]*ach.EntryDetail{}
	for _, batch := range f.Batches {
		for _, e := range batch.GetEntries() {
			out[e.TraceNumber] = e
		}
	}
	return out
}

// rosterRow returns the header and the row of employee id from the demo
// roster, with replace applied to the row.
func rosterRow(t *testing.T, id string, replace ...string) string {
	t.Helper()
	roster, err := os.ReadFile("../fixtures/drop/01-employees.csv")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(roster), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, id+",") {
			return lines[0] + "\n" + strings.NewReplacer(replace...).Replace(l) + "\n"
		}
	}
	t.Fatalf("%s not in the roster", id)
	return ""
}

// TestPrenotes follows E301 through prenotes with returns.fallback =
// "check": new details get a prenote and no live credit until the wait
// has passed; new details from the roster get a new prenote.
func TestPrenotes(t *testing.T) {
	e := newEnv(t)
	e.cfg.ACH.Prenote = true
	first := e.run("../fixtures/drop", fixtureDay)
	pays := paymentsOf(t, e.lg, first.RunID)

	t.Run("demo_pays_by_check_and_sends_prenotes", func(t *testing.T) {
		for _, w := range []struct {
			id     string
			ref    int64
			amount core.Cents
		}{{"E301", 2, 240_00}, {"P01", 3, 3321_50}} {
			p := pays[w.id]
			if p == nil || p.ID != w.ref || p.Method != core.MethodCheck || p.Amount != w.amount || p.CheckNumber == 0 {
				t.Fatalf("%s: %+v, want PAY-%d, %s by check", w.id, p, w.ref, w.amount.Dollars())
			}
			if !strings.Contains(p.Fallback, "are new: this run sends them a prenote; live credits to them may go from 2026-04-16 on") {
				t.Errorf("%s's payment says %q", w.id, p.Fallback)
			}
		}
		entries := achEntries(t, first.OutDir)
		want := map[string]struct {
			code    int
			account string
		}{
			"121042880000008": {ach.CheckingPrenoteCredit, "987654321"}, // PAY-4 E301
			"121042880000010": {ach.CheckingPrenoteCredit, "55501234"},  // PAY-5 P01
			"121042880000012": {ach.CheckingPrenoteCredit, "123456789"}, // PAY-6 E100
			"121042880000014": {ach.SavingsPrenoteCredit, "4400112233"}, // PAY-7 E200
		}
		if len(entries) != len(want) {
			t.Errorf("payments.ach has %d entries, want the %d prenotes alone", len(entries), len(want))
		}
		for trace, w := range want {
			got := entries[trace]
			if got == nil {
				t.Errorf("no entry with trace %s", trace)
				continue
			}
			if got.TransactionCode != w.code || got.Amount != 0 || strings.TrimSpace(got.DFIAccountNumber) != w.account {
				t.Errorf("trace %s: code %d amount %d account %q, want code %d, 0, %q", trace, got.TransactionCode, got.Amount,
					strings.TrimSpace(got.DFIAccountNumber), w.code, w.account)
			}
		}
		sum := runJSON(t, first)
		if len(sum.Prenotes) != 4 || sum.Prenotes[0].PaymentID != "PAY-4" || sum.Prenotes[0].LiveFrom != "2026-04-16" ||
			sum.Prenotes[0].Account != "****4321" {
			t.Errorf("run.json prenotes_sent: %+v", sum.Prenotes)
		}
		if !strings.Contains(first.Summary, "prenotes sent: 4\n") {
			t.Errorf("summary:\n%s", first.Summary)
		}
		// Three checks (PAY-1, PAY-2, PAY-3): 4,921.50 in all, and no row
		// of 0.00 for a prenote.
		checks := readCSV(t, filepath.Join(first.OutDir, "checks.csv"))
		if len(checks) != 4 {
			t.Errorf("checks.csv has %d rows, want a header and 3 checks", len(checks))
		}
		pp := readCSV(t, filepath.Join(first.OutDir, "positive-pay.csv"))
		if len(pp) != 3 {
			t.Errorf("positive-pay.csv has %d rows, want the 3 checks", len(pp))
		}
		for _, rows := range [][][]string{checks, pp} {
			for _, row := range rows {
				for _, cell := range row {
					if cell == "0.00" || cell == "0" {
						t.Errorf("a row of 0.00: %q", row)
					}
				}
			}
		}
	})

	// Wednesday 2026-04-15: the wait is not over.
	drop := filepath.Join(e.dir, "d2")
	writeFile(t, filepath.Join(drop, "inv.csv"), invoiceE301("INV-2001", "4/6/2026", "4/14/2026"))
	second := e.run(drop, core.NewDate(2026, 4, 15))
	t.Run("before_the_wait_still_by_check", func(t *testing.T) {
		p := paymentsOf(t, e.lg, second.RunID)["E301"]
		if p == nil || p.Method != core.MethodCheck || p.Amount != 80_00 {
			t.Fatalf("E301: %+v, want 80.00 by check", p)
		}
		if !strings.Contains(p.Fallback, "were prenoted by PAY-4 on 2026-04-10; live credits to them may go from 2026-04-16 on") {
			t.Errorf("E301's payment says %q", p.Fallback)
		}
		if entries := achEntries(t, second.OutDir); entries != nil {
			t.Errorf("run %s wrote payments.ach: %v", second.RunID, entries)
		}
	})

	// Thursday 2026-04-16: live credits go.
	drop = filepath.Join(e.dir, "d3")
	writeFile(t, filepath.Join(drop, "inv.csv"), invoiceE301("INV-2002", "4/7/2026", "4/15/2026"))
	third := e.run(drop, core.NewDate(2026, 4, 16))
	t.Run("after_the_wait_by_ach", func(t *testing.T) {
		p := paymentsOf(t, e.lg, third.RunID)["E301"]
		if p == nil || p.Method != core.MethodACH || p.Amount != 80_00 || p.Bank.Number != "987654321" || p.Fallback != "" {
			t.Fatalf("E301: %+v, want 80.00 by ACH to 987654321", p)
		}
		entries := achEntries(t, third.OutDir)
		if len(entries) != 1 || entries[p.TraceNumber] == nil || entries[p.TraceNumber].TransactionCode != ach.CheckingCredit ||
			entries[p.TraceNumber].Amount != 80_00 {
			t.Errorf("payments.ach: %v, want one credit (22) of 80.00 with trace %s", entries, p.TraceNumber)
		}
	})

	// Friday 2026-04-17: the roster brings E301 a new account, and E100's
	// row again unchanged.
	drop = filepath.Join(e.dir, "d4")
	writeFile(t, filepath.Join(drop, "01-roster.csv"), []byte(rosterRow(t, "E301", ",987654321,", ",55556666,")+
		strings.SplitN(rosterRow(t, "E100"), "\n", 2)[1]))
	writeFile(t, filepath.Join(drop, "inv.csv"), invoiceE301("INV-2003", "4/8/2026", "4/16/2026"))
	fourth := e.run(drop, core.NewDate(2026, 4, 17))
	t.Run("changed_details_get_a_new_prenote", func(t *testing.T) {
		p := paymentsOf(t, e.lg, fourth.RunID)["E301"]
		if p == nil || p.Method != core.MethodCheck || p.Amount != 80_00 ||
			!strings.Contains(p.Fallback, "account ****6666) are new: this run sends them a prenote; live credits to them may go from 2026-04-23 on") {
			t.Fatalf("E301: %+v, want 80.00 by check while 55556666 waits", p)
		}
		sum := runJSON(t, fourth)
		if len(sum.Prenotes) != 1 || sum.Prenotes[0].PayeeID != "E301" || sum.Prenotes[0].Account != "****6666" {
			t.Errorf("prenotes_sent: %+v, want E301's new account alone (E100's are unchanged)", sum.Prenotes)
		}
		entries := achEntries(t, fourth.OutDir)
		if len(entries) != 1 {
			t.Fatalf("payments.ach: %d entries, want the prenote alone", len(entries))
		}
		for _, en := range entries {
			if en.TransactionCode != ach.CheckingPrenoteCredit || en.Amount != 0 || strings.TrimSpace(en.DFIAccountNumber) != "55556666" {
				t.Errorf("entry: code %d amount %d account %q", en.TransactionCode, en.Amount, en.DFIAccountNumber)
			}
		}
	})

	// Thursday 2026-04-23: the new account's wait is over.
	drop = filepath.Join(e.dir, "d5")
	writeFile(t, filepath.Join(drop, "inv.csv"), invoiceE301("INV-2004", "4/9/2026", "4/22/2026"))
	fifth := e.run(drop, core.NewDate(2026, 4, 23))
	t.Run("new_details_paid_after_their_wait", func(t *testing.T) {
		p := paymentsOf(t, e.lg, fifth.RunID)["E301"]
		if p == nil || p.Method != core.MethodACH || p.Amount != 80_00 || p.Bank.Number != "55556666" {
			t.Fatalf("E301: %+v, want 80.00 by ACH to 55556666", p)
		}
	})

	t.Run("every_line_paid_once", func(t *testing.T) {
		// 240.00 + 4 x 80.00 = 560.00 to E301, each line on one payment,
		// prenotes carrying none.
		var total, unpaid, prenoteLines int64
		e.lg.DB().QueryRow(`SELECT COALESCE(SUM(l.employer_share), 0) FROM lines l JOIN payments p ON p.id = l.payment_id WHERE l.payee_id = 'E301'`).Scan(&total)
		e.lg.DB().QueryRow(`SELECT COUNT(*) FROM lines WHERE payee_id = 'E301' AND status IN ('approved', 'partial') AND payment_id IS NULL`).Scan(&unpaid)
		e.lg.DB().QueryRow(`SELECT COUNT(*) FROM lines l JOIN payments p ON p.id = l.payment_id WHERE p.method = 'prenote'`).Scan(&prenoteLines)
		if total != 560_00 || unpaid != 0 || prenoteLines != 0 {
			t.Errorf("E301 paid %d cents (want 56000), %d lines unpaid, %d lines on prenotes", total, unpaid, prenoteLines)
		}
	})
}

// TestPrenoteHold: with returns.fallback = "hold", the demo's payments to
// E301 (240.00) and P01 (3,321.50) wait, PAYMENT_DETAILS, and the run of
// 2026-04-16 pays them by ACH.
func TestPrenoteHold(t *testing.T) {
	e := newEnv(t)
	e.cfg.ACH.Prenote = true
	e.cfg.Returns.Fallback = "hold"
	first := e.run("../fixtures/drop", fixtureDay)
	holds, err := e.lg.Holds(context.Background(), first.RunID)
	if err != nil {
		t.Fatal(err)
	}
	held := map[string]core.PaymentHold{}
	for _, h := range holds {
		held[h.PayeeID] = h
	}
	for id, amount := range map[string]core.Cents{"E301": 240_00, "P01": 3321_50} {
		h := held[id]
		if h.Amount != amount || h.Reason != core.PaymentDetails ||
			!strings.Contains(h.Detail, `live credits to them may go from 2026-04-16 on (ach.prenote_days = 3 banking days after its settlement date); held meanwhile (returns.fallback = "hold")`) {
			t.Errorf("%s's hold: %+v, want %s held for the prenote", id, h, amount.Dollars())
		}
		if p := paymentsOf(t, e.lg, first.RunID)[id]; p != nil {
			t.Errorf("run %s pays %s: %+v", first.RunID, id, p)
		}
	}

	// Nothing new on 2026-04-15: still held.
	empty := filepath.Join(e.dir, "empty")
	if err := os.MkdirAll(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	second := e.run(empty, core.NewDate(2026, 4, 15))
	if p := paymentsOf(t, e.lg, second.RunID); len(p) != 0 {
		t.Errorf("run of 2026-04-15 pays %v", p)
	}
	third := e.run(empty, core.NewDate(2026, 4, 16))
	pays := paymentsOf(t, e.lg, third.RunID)
	for id, amount := range map[string]core.Cents{"E301": 240_00, "P01": 3321_50} {
		if p := pays[id]; p == nil || p.Method != core.MethodACH || p.Amount != amount {
			t.Errorf("run of 2026-04-16, %s: %+v, want %s by ACH", id, p, amount.Dollars())
		}
	}
}

// TestPrenoteReturned: the bank answers the demo's prenotes (E301's
// PAY-4, trace 121042880000008; P01's PAY-5, trace 121042880000010) with
// R03 (no account) for E301's and C01 (account number corrected to
// 99887766) for P01's. The run of Tuesday 2026-04-14 takes the file with
// INV-2001 (80.00 to E301): E301's details are blocked, so E301 is paid
// by check, now and after the wait; P01's corrected details are new
// details and get their own prenote.
func TestPrenoteReturned(t *testing.T) {
	e := newEnv(t)
	e.cfg.ACH.Prenote = true
	first := e.run("../fixtures/drop", fixtureDay)
	sent, err := os.ReadFile(filepath.Join(first.OutDir, "payments.ach"))
	if err != nil {
		t.Fatal(err)
	}
	drop := filepath.Join(e.dir, "d2")
	writeFile(t, filepath.Join(drop, "bank.txt"), achtest.BankFile(t, sent, "260413", []achtest.Notice{
		{Code: "R03", Trace: "121042880000008"},
		{Code: "C01", Trace: "121042880000010", Account: "99887766"},
	}))
	writeFile(t, filepath.Join(drop, "inv.csv"), invoiceE301("INV-2001", "4/6/2026", "4/13/2026"))
	second := e.run(drop, core.NewDate(2026, 4, 14))

	t.Run("return_blocks_the_details", func(t *testing.T) {
		var returned, code string
		if err := e.lg.DB().QueryRow(`SELECT returned_run, return_code FROM payments WHERE id = 4 AND method = 'prenote'`).Scan(&returned, &code); err != nil {
			t.Fatal(err)
		}
		if returned != second.RunID || code != "R03" {
			t.Errorf("PAY-4 returned in %q with %q", returned, code)
		}
		var blocks int
		e.lg.DB().QueryRow(`SELECT COUNT(*) FROM bank_blocks WHERE payee_id = 'E301' AND code = 'R03' AND payment_id = 4`).Scan(&blocks)
		if blocks != 1 {
			t.Errorf("%d blocks of E301's details, want 1", blocks)
		}
		if !strings.Contains(second.Summary, "applied: prenote PAY-4 (20260410-001, to ****4321) came back from the bank: R03") {
			t.Errorf("summary:\n%s", second.Summary)
		}
		p := paymentsOf(t, e.lg, second.RunID)["E301"]
		if p == nil || p.Method != core.MethodCheck || p.Amount != 80_00 || !strings.Contains(p.Fallback, "came back from the bank: R03") {
			t.Fatalf("E301: %+v, want 80.00 by check", p)
		}
	})

	t.Run("noc_corrects_and_the_new_details_are_prenoted", func(t *testing.T) {
		sum := runJSON(t, second)
		if len(sum.Prenotes) != 1 || sum.Prenotes[0].PayeeID != "P01" || sum.Prenotes[0].Account != "****7766" {
			t.Fatalf("prenotes_sent: %+v, want P01's corrected account alone (E301's details are blocked)", sum.Prenotes)
		}
		entries := achEntries(t, second.OutDir)
		en := entries[sum.Prenotes[0].Trace]
		if len(entries) != 1 || en == nil || en.TransactionCode != ach.CheckingPrenoteCredit || strings.TrimSpace(en.DFIAccountNumber) != "99887766" {
			t.Errorf("payments.ach: %v", entries)
		}
	})

	// Monday 2026-04-20, past E301's wait (2026-04-16): still no ACH to
	// the blocked details, and no new prenote to them.
	drop = filepath.Join(e.dir, "d3")
	writeFile(t, filepath.Join(drop, "inv.csv"), invoiceE301("INV-2002", "4/7/2026", "4/17/2026"))
	third := e.run(drop, core.NewDate(2026, 4, 20))
	t.Run("blocked_details_stay_unpaid_by_ach", func(t *testing.T) {
		p := paymentsOf(t, e.lg, third.RunID)["E301"]
		if p == nil || p.Method != core.MethodCheck || p.Amount != 80_00 || !strings.Contains(p.Fallback, "with R03") {
			t.Fatalf("E301: %+v, want 80.00 by check", p)
		}
		if entries := achEntries(t, third.OutDir); entries != nil {
			t.Errorf("payments.ach: %v, want none", entries)
		}
	})
}

// TestPrenoteOff: with ach.prenote off (the default) nothing changes: the
// demo pays E301 and P01 by ACH at once and sends no prenote.
func TestPrenoteOff(t *testing.T) {
	e := newEnv(t)
	first := e.run("../fixtures/drop", fixtureDay)
	pays := paymentsOf(t, e.lg, first.RunID)
	for _, id := range []string{"E301", "P01"} {
		if p := pays[id]; p == nil || p.Method != core.MethodACH || p.Fallback != "" {
			t.Errorf("%s: %+v, want ACH", id, p)
		}
	}
	for trace, en := range achEntries(t, first.OutDir) {
		if en.TransactionCode == ach.CheckingPrenoteCredit || en.TransactionCode == ach.SavingsPrenoteCredit {
			t.Errorf("prenote %s sent with ach.prenote off", trace)
		}
	}
	var prenotes int
	e.lg.DB().QueryRow(`SELECT COUNT(*) FROM payments WHERE method = 'prenote'`).Scan(&prenotes)
	if prenotes != 0 || len(runJSON(t, first).Prenotes) != 0 {
		t.Errorf("%d prenotes recorded with ach.prenote off", prenotes)
	}
}

// TestPrenoteApprovedWaits: with returns.fallback = "hold" and
// limits.max_payment = 3,000.00, the demo's 3,321.50 to P01 is above the
// limit and its details wait for their prenote: it is formed, held for
// review, and approved the same day. Approved, it is paid as formed, by
// ACH, so it waits for the prenote: not on 2026-04-15, on 2026-04-16.
func TestPrenoteApprovedWaits(t *testing.T) {
	e := newEnv(t)
	e.cfg.ACH.Prenote = true
	e.cfg.Returns.Fallback = "hold"
	e.cfg.Limits.MaxPayment = 3000_00
	ctx := context.Background()
	first := e.run("../fixtures/drop", fixtureDay)
	holds, err := e.lg.Holds(ctx, first.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var ref string
	for _, h := range holds {
		if h.PayeeID == "P01" {
			if h.Reason != core.PaymentReview || h.Amount != 3321_50 || h.PaymentID == 0 || !strings.Contains(h.Detail, "are new: this run sends them a prenote") {
				t.Fatalf("P01's hold: %+v", h)
			}
			ref = core.PaymentRef(h.PaymentID)
		}
	}
	if ref == "" {
		t.Fatalf("P01 not held: %+v", holds)
	}
	if err := e.lg.Approve(ctx, []string{ref}, "ops-lead", fixtureDay.Time()); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(e.dir, "empty")
	if err := os.MkdirAll(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	second := e.run(empty, core.NewDate(2026, 4, 15))
	if p := paymentsOf(t, e.lg, second.RunID)["P01"]; p != nil {
		t.Fatalf("run of 2026-04-15 pays P01: %+v", p)
	}
	holds, err = e.lg.Holds(ctx, second.RunID)
	if err != nil {
		t.Fatal(err)
	}
	waits := false
	for _, h := range holds {
		waits = waits || h.PayeeID == "P01" && h.Reason == core.PaymentDetails &&
			strings.Contains(h.Detail, "is approved and waits for its bank details' prenote") && strings.Contains(h.Detail, "may go from 2026-04-16 on")
	}
	if !waits {
		t.Errorf("run of 2026-04-15 does not say P01's approved payment waits: %+v", holds)
	}
	third := e.run(empty, core.NewDate(2026, 4, 16))
	p := paymentsOf(t, e.lg, third.RunID)["P01"]
	if p == nil || core.PaymentRef(p.ID) != ref || p.Method != core.MethodACH || p.Amount != 3321_50 {
		t.Fatalf("run of 2026-04-16, P01: %+v, want %s, 3,321.50 by ACH", p, ref)
	}
}
