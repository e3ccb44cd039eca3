package payout

import (
	"bytes"
	"strings"
	"testing"

	"github.com/moov-io/ach"

	"carepay/core"
)

// TestWriteNACHAPrenotes: a prenote is a zero-dollar entry with
// transaction code 23 (checking) or 33 (savings) and no addenda, in the
// batch of its payee type (PPD for employees, CCD for providers), beside
// live credits (22, 32) or alone.
func TestWriteNACHAPrenotes(t *testing.T) {
	// PAY-8: employee E301 with a checking account; PAY-9: provider P01
	// with a savings account; PAY-1: a live credit of 1,234.56 to E001.
	// Traces are the ODFI's eight digits 02100002 then twice the ID:
	// PAY-1 -> 0000002, PAY-8 -> 0000016, PAY-9 -> 0000018.
	prenotes := func() []*core.Payment {
		return []*core.Payment{
			{ID: 8, PayeeType: core.PayeeEmployee, PayeeID: "E301", Name: "Ivy Ito", Method: core.MethodPrenote,
				Bank: core.BankAccount{Routing: "011000015", Number: "987654321", Type: "checking"}},
			{ID: 9, PayeeType: core.PayeeProvider, PayeeID: "P01", Name: "Little Sprouts", Method: core.MethodPrenote,
				Bank: core.BankAccount{Routing: "121042882", Number: "55501234", Type: "savings"}},
		}
	}
	live := &core.Payment{ID: 1, PayeeType: core.PayeeEmployee, PayeeID: "E001", Name: "Ann Lee", Method: core.MethodACH,
		Amount: 1234_56, Refs: []string{"INV-1001"}, Bank: core.BankAccount{Routing: "121042882", Number: "123456789", Type: "checking"}}
	type entry struct {
		code    int
		amount  int
		account string
		trace   string
		addenda bool
	}
	tests := []struct {
		name     string
		payments []*core.Payment
		offset   bool
		want     [][]entry // per batch: PPD, then CCD
	}{
		{"prenotes_alone", prenotes(), false, [][]entry{
			{{ach.CheckingPrenoteCredit, 0, "987654321", "021000020000016", false}},
			{{ach.SavingsPrenoteCredit, 0, "55501234", "021000020000018", false}},
		}},
		{"beside_a_live_credit", append([]*core.Payment{live}, prenotes()...), false, [][]entry{
			{{ach.CheckingCredit, 1234_56, "123456789", "021000020000002", true},
				{ach.CheckingPrenoteCredit, 0, "987654321", "021000020000016", false}},
			{{ach.SavingsPrenoteCredit, 0, "55501234", "021000020000018", false}},
		}},
		// A balanced file: the PPD batch offsets 1,234.56 (one debit of
		// code 27); the CCD batch holds 0.00 and gets no offset entry.
		{"balanced_file", append([]*core.Payment{live}, prenotes()...), true, [][]entry{
			{{ach.CheckingCredit, 1234_56, "123456789", "021000020000002", true},
				{ach.CheckingPrenoteCredit, 0, "987654321", "021000020000016", false},
				{ach.CheckingDebit, 1234_56, "7778889990", "021000020000017", false}},
			{{ach.SavingsPrenoteCredit, 0, "55501234", "021000020000018", false}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOriginator()
			if tt.offset {
				o.OffsetRouting, o.OffsetAccount, o.OffsetAccountType = "021000021", "7778889990", "checking"
			}
			var buf bytes.Buffer
			if err := WriteNACHA(&buf, o, testNACHAFile(), tt.payments); err != nil {
				t.Fatal(err)
			}
			file := readNACHA(t, buf.Bytes()) // moov-io/ach reads and validates it
			if len(file.Batches) != len(tt.want) {
				t.Fatalf("%d batches, want %d", len(file.Batches), len(tt.want))
			}
			for i, b := range file.Batches {
				sec := []string{ach.PPD, ach.CCD}[i]
				if got := b.GetHeader().StandardEntryClassCode; got != sec {
					t.Errorf("batch %d is %s, want %s", i+1, got, sec)
				}
				got := b.GetEntries()
				if len(got) != len(tt.want[i]) {
					t.Fatalf("batch %d has %d entries, want %d", i+1, len(got), len(tt.want[i]))
				}
				for j, w := range tt.want[i] {
					e := got[j]
					if e.TransactionCode != w.code || e.Amount != w.amount || strings.TrimSpace(e.DFIAccountNumber) != w.account ||
						e.TraceNumber != w.trace || (e.Addenda05 != nil) != w.addenda {
						t.Errorf("batch %d entry %d: code %d amount %d account %q trace %s addenda %v; want code %d amount %d account %q trace %s addenda %v",
							i+1, j+1, e.TransactionCode, e.Amount, strings.TrimSpace(e.DFIAccountNumber), e.TraceNumber, e.Addenda05 != nil,
							w.code, w.amount, w.account, w.trace, w.addenda)
					}
				}
			}
			for _, p := range tt.payments {
				if p.TraceNumber == "" {
					t.Errorf("%s %s: no trace number set", p.Method, p.PayeeID)
				}
			}
		})
	}
}

// TestWriteNACHAPrenoteWithAmount: a prenote carrying money is a bug, not
// a file to send.
func TestWriteNACHAPrenoteWithAmount(t *testing.T) {
	p := &core.Payment{ID: 8, PayeeType: core.PayeeEmployee, PayeeID: "E301", Name: "Ivy Ito", Method: core.MethodPrenote, Amount: 1,
		Bank: core.BankAccount{Routing: "011000015", Number: "987654321", Type: "checking"}}
	var buf bytes.Buffer
	err := WriteNACHA(&buf, testOriginator(), testNACHAFile(), []*core.Payment{p})
	if err == nil || !strings.Contains(err.Error(), "a prenote is for 0.00") {
		t.Fatalf("error %v, want a prenote refused for its amount", err)
	}
	if buf.Len() != 0 {
		t.Errorf("wrote %d bytes despite the error", buf.Len())
	}
}
