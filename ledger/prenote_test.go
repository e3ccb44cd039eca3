package ledger

import (
	"carepay/internal/ledgertest"
	"context"
	"fmt"
	"testing"
	"time"

	"carepay/core"
)

// TestBankProof: what proves an employee's details when prenotes are on.
// Run 2026-04-10 sends PAY-1, a prenote to A (routing 011000015, 111122223333
// checking), and PAY-2, a live credit of 50.00 to B (021000021, 4444
// savings); run 2026-04-13 sends PAY-3, a prenote to C (011000015, 5555
// checking), which the bank then returns R03.
func TestBankProof(t *testing.T) {
	l := open(t, ledgertest.Target(t, "l.db"))
	ctx := context.Background()
	a := core.BankAccount{Routing: "011000015", Number: "111122223333", Type: "checking"}
	b := core.BankAccount{Routing: "021000021", Number: "4444", Type: "savings"}
	c := core.BankAccount{Routing: "011000015", Number: "5555", Type: "checking"}
	pay := func(id int64, method string, amount core.Cents, bank core.BankAccount) *core.Payment {
		return &core.Payment{ID: id, PayeeType: core.PayeeEmployee, PayeeID: "E1", Name: "Ann Lee", Method: method, Amount: amount,
			Bank: bank, TraceNumber: fmt.Sprintf("12104288%07d", 2*id)}
	}
	for _, r := range []struct {
		day      core.Date
		payments []*core.Payment
	}{
		{core.NewDate(2026, 4, 10), []*core.Payment{pay(1, core.MethodPrenote, 0, a), pay(2, core.MethodACH, 50_00, b)}},
		{core.NewDate(2026, 4, 13), []*core.Payment{pay(3, core.MethodPrenote, 0, c)}},
	} {
		tx, err := l.Begin(ctx, r.day, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if err := tx.PutPayments(r.day, r.payments, nil, 100001); err != nil {
			t.Fatal(err)
		}
		if err := tx.Commit(nil); err != nil {
			t.Fatal(err)
		}
	}
	tx, err := l.Begin(ctx, core.NewDate(2026, 4, 14), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	o, err := tx.ApplyBankNotice("bank.txt", &core.BankNotice{Kind: core.NoticeReturn, Code: "R03", OriginalTrace: "121042880000006",
		Date: core.NewDate(2026, 4, 14), Row: 1})
	if err != nil || !o.Applied || o.PaymentID != 3 {
		t.Fatalf("return of PAY-3: %+v, %v", o, err)
	}

	tests := []struct {
		name string
		bank core.BankAccount
		want *BankProof
	}{
		{"prenoted", a, &BankProof{PaymentID: 1, Prenote: true, SentOn: core.NewDate(2026, 4, 10)}},
		{"paid_live", b, &BankProof{PaymentID: 2, SentOn: core.NewDate(2026, 4, 10)}},
		{"prenote_returned", c, nil},
		{"other_account_number", core.BankAccount{Routing: a.Routing, Number: "111122223334", Type: a.Type}, nil},
		{"other_routing", core.BankAccount{Routing: "021000021", Number: a.Number, Type: a.Type}, nil},
		{"other_type", core.BankAccount{Routing: a.Routing, Number: a.Number, Type: "savings"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tx.BankProof(core.PayeeEmployee, "E1", tt.bank)
			if err != nil {
				t.Fatal(err)
			}
			if (got == nil) != (tt.want == nil) || got != nil && *got != *tt.want {
				t.Errorf("BankProof = %+v, want %+v", got, tt.want)
			}
		})
	}
	t.Run("other_payee", func(t *testing.T) {
		if got, err := tx.BankProof(core.PayeeEmployee, "E2", a); got != nil || err != nil {
			t.Errorf("E2: %+v, %v", got, err)
		}
	})
	t.Run("prenotes_are_not_payments", func(t *testing.T) {
		ps, err := l.Payments(ctx, "20260410-001")
		if err != nil || len(ps) != 1 || ps[0].ID != 2 {
			t.Errorf("Payments: %v %v, want PAY-2 alone", ps, err)
		}
		pn, err := l.Prenotes(ctx, "20260410-001")
		if err != nil || len(pn) != 1 || pn[0].ID != 1 || pn[0].Bank != a || pn[0].TraceNumber != "121042880000002" {
			t.Errorf("Prenotes: %+v %v, want PAY-1 to A with trace 121042880000002", pn, err)
		}
	})
}
