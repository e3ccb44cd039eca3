package batch

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moov-io/ach"

	"carepay/core"
)

func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// TestPaymentFilesOfTheFixtureDrop reads payments.ach back with moov-io/ach
// and checks every amount against the ledger, and the check files.
func TestPaymentFilesOfTheFixtureDrop(t *testing.T) {
	e := newEnv(t)
	res := e.run("../fixtures/drop", fixtureDay)
	payments, err := e.lg.Payments(context.Background(), res.RunID)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]core.Cents{}
	for _, p := range payments {
		want[p.PayeeType+" "+p.PayeeID+" "+p.Method] = p.Amount
	}
	// Worked out from the fixture decisions. P01: ST-P01-2026-03 rows 2-4
	// (110 + 110 + 115), 6-7 (190 + 250), 8 (60), 10 and 13 (130 + 130),
	// 16-17 (160 + 1,194.50) = 2,449.50; plus INV-1002 72.00, INV-1005
	// 9 x 80.00 and INV-1006 80.00 = 872.00; 3,321.50 in all.
	if got := want["provider P01 ach"]; got != 332150 {
		t.Errorf("P01 paid %s, want 3321.50", got)
	}
	if got := want["employee E301 ach"]; got != 24000 { // INV-1001: 3 x 80.00
		t.Errorf("E301 paid %s, want 240.00", got)
	}
	if got := want["provider P03 check"]; got != 136000 { // 17 family care days x 80.00
		t.Errorf("P03 paid %s, want 1360.00", got)
	}
	if _, ok := want["provider P04 ach"]; ok {
		t.Error("P04 was paid although its routing number fails")
	}

	f, err := os.Open(filepath.Join(res.OutDir, "payments.ach"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	file, err := ach.NewReader(f).Read()
	if err != nil {
		t.Fatalf("moov-io/ach cannot read payments.ach: %v", err)
	}
	if err := file.Validate(); err != nil {
		t.Fatalf("payments.ach does not validate: %v", err)
	}
	got := map[string]core.Cents{}
	var total core.Cents
	for _, b := range file.Batches {
		sec := b.GetHeader().StandardEntryClassCode
		for _, en := range b.GetEntries() {
			payee := "provider"
			if sec == ach.PPD {
				payee = "employee"
			}
			got[payee+" "+strings.TrimSpace(en.IdentificationNumber)+" ach"] += core.Cents(en.Amount)
			total += core.Cents(en.Amount)
			if en.Addenda05 == nil || !strings.HasPrefix(en.Addenda05[0].PaymentRelatedInformation, "CAREPAY ") {
				t.Errorf("entry %s has no remittance addenda", en.IdentificationNumber)
			}
		}
		if want := map[string]string{"employee": ach.PPD, "provider": ach.CCD}; sec != ach.PPD && sec != ach.CCD {
			t.Errorf("batch class %s; want %v", sec, want)
		}
	}
	var achTotal core.Cents
	for k, v := range want {
		if strings.HasSuffix(k, " ach") {
			achTotal += v
			if got[k] != v {
				t.Errorf("%s: NACHA %s, ledger %s", k, got[k], v)
			}
		}
	}
	if total != achTotal || len(got) != 2 {
		t.Errorf("NACHA total %s over %d payees, ledger %s", total, len(got), achTotal)
	}
	if eff := file.Batches[0].GetHeader().EffectiveEntryDate; eff != "260413" {
		t.Errorf("effective date %s: 2026-04-10 is a Friday, the next banking day is Monday 260413", eff)
	}
	if mod := file.Header.FileIDModifier; mod != "A" {
		t.Errorf("first file of the day has modifier %q", mod)
	}

	checks := readCSV(t, filepath.Join(res.OutDir, "checks.csv"))
	if len(checks) != 2 || checks[1][0] != "100001" || checks[1][3] != "P03" || checks[1][5] != "1360.00" {
		t.Errorf("checks.csv %v", checks)
	}
	pp := readCSV(t, filepath.Join(res.OutDir, "positive-pay.csv"))
	if len(pp) != 1 || strings.Join(pp[0], ",") != "000987654321,100001,1360.00,04/10/2026,GRANDMA'S FAMILY CARE,I" {
		t.Errorf("positive-pay.csv %v", pp)
	}
}

// TestNeverPaidTwice re-runs the same drop, approves, fixes P04's bank
// details and runs again: every payable line ends on exactly one payment.
func TestNeverPaidTwice(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.run("../fixtures/drop", fixtureDay)
	second := e.run("../fixtures/drop", fixtureDay)
	if p, _ := e.lg.Payments(ctx, second.RunID); len(p) != 0 {
		t.Errorf("a re-run made %d payments", len(p))
	}
	if _, err := os.Stat(filepath.Join(second.OutDir, "payments.ach")); !os.IsNotExist(err) {
		t.Errorf("a re-run wrote payments.ach: %v", err)
	}
	if err := e.lg.Approve(ctx, []string{"ST-P02-2026-03"}, "ops", fixtureDay.Time()); err != nil {
		t.Fatal(err)
	}
	fix := t.TempDir()
	fixed := "provider_id,name,tax_id,address_line1,address_line2,city,state,postal_code,email,payment_method,routing_number,account_number,account_type\n" +
		"P04,Crèche Étoile,55-1234567,1 Rue Way,,Newark,NJ,07102,,ach,011000015,44445555,checking\n"
	if err := os.WriteFile(filepath.Join(fix, "providers-fixed.csv"), []byte(fixed), 0o644); err != nil {
		t.Fatal(err)
	}
	rested(t, filepath.Join(fix, "providers-fixed.csv"))
	third := e.run(fix, fixtureDay.AddDays(3))
	payments, err := e.lg.Payments(ctx, third.RunID)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]core.Cents{}
	for _, p := range payments {
		got[p.PayeeID+" "+p.Method] = p.Amount
	}
	// Released pinch-hourly lines: E200 (ach) 48+32+104+5x64+96 = 600.00;
	// E201 (payroll) 60+40 = 100.00. P04's held 140.00 is paid now.
	want := map[string]core.Cents{"E200 ach": 60000, "E201 payroll": 10000, "P04 ach": 14000}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s paid %s, want %s", k, got[k], v)
		}
	}
	if len(got) != len(want) {
		t.Errorf("payments %v", got)
	}
	payroll := readCSV(t, filepath.Join(third.OutDir, "payroll.csv"))
	if len(payroll) != 2 || payroll[1][0] != "E201" || payroll[1][2] != "DCARE" || payroll[1][3] != "100.00" {
		t.Errorf("payroll.csv %v", payroll)
	}
	// Every approved or partial line is on exactly one payment, and the
	// payments add up to the lines they carry.
	var unpaid, lines int
	var sumLines, sumPayments int64
	if err := e.lg.DB().QueryRow(`SELECT COUNT(*) FROM lines WHERE status IN ('approved','partial') AND payment_id IS NULL`).Scan(&unpaid); err != nil {
		t.Fatal(err)
	}
	e.lg.DB().QueryRow(`SELECT COUNT(*), COALESCE(SUM(employer_share), 0) FROM lines WHERE payment_id IS NOT NULL`).Scan(&lines, &sumLines)
	e.lg.DB().QueryRow(`SELECT COALESCE(SUM(amount), 0) FROM payments`).Scan(&sumPayments)
	if unpaid != 0 || sumLines != sumPayments {
		t.Errorf("%d lines unpaid; lines %d cents, payments %d cents", unpaid, sumLines, sumPayments)
	}
}
