package payout

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"carepay/core"
)

var csvIssued = core.NewDate(2026, time.March, 9)

// testCSVPayments holds one payment of each method, two checks and two
// payroll payments, names with accents, a comma and a CJK character.
func testCSVPayments() []*core.Payment {
	return []*core.Payment{
		{ID: 1, PayeeType: core.PayeeEmployee, PayeeID: "E001", Name: "José Núñez", Method: core.MethodACH,
			Amount: 1234_56, Refs: []string{"INV-1001"},
			Bank: core.BankAccount{Routing: "121042882", Number: "123456789", Type: "checking"}},
		{ID: 2, PayeeType: core.PayeeEmployee, PayeeID: "E003", Name: "Bob O'Neil", Method: core.MethodCheck,
			Amount: 50_00, Refs: []string{"INV-1005"}, CheckNumber: 100001,
			Address: core.Address{Line1: "12 Elm St", Line2: "Apt 3", City: "Springfield", State: "IL", PostalCode: "62701"}},
		{ID: 3, PayeeType: core.PayeeEmployee, PayeeID: "E005", Name: "Zoë Martín", Method: core.MethodPayroll,
			Amount: 120_50, Refs: []string{"INV-1007", "INV-1008"}},
		{ID: 4, PayeeType: core.PayeeProvider, PayeeID: "P03", Name: "Crèche Étoile, LLC", Method: core.MethodCheck,
			Amount: 2500_00, Refs: []string{"ST-2026-03-P03"}, CheckNumber: 100002,
			Address: core.Address{Line1: "1 Rue Way", City: "Boston", State: "MA", PostalCode: "02101"}},
		{ID: 5, PayeeType: core.PayeeEmployee, PayeeID: "E006", Name: "Li 李 Wei", Method: core.MethodPayroll,
			Amount: 12_00, Refs: []string{"INV-1009"}},
	}
}

const checksHeader = "check_number,issue_date,payee_type,payee_id,payee_name,amount," +
	"address_line1,address_line2,city,state,postal_code,memo\n"

func TestWriteChecks(t *testing.T) {
	long := &core.Payment{ID: 9, PayeeType: core.PayeeProvider, PayeeID: "P09", Name: "Many Refs", Method: core.MethodCheck,
		Amount: 1_00, CheckNumber: 100003, Address: core.Address{Line1: "9 Oak", City: "Troy", State: "NY", PostalCode: "12180"}}
	for i := 1; i <= 10; i++ {
		long.Refs = append(long.Refs, fmt.Sprintf("INV-2026-%04d", i))
	}
	tests := []struct {
		name     string
		payments []*core.Payment
		want     string
	}{
		{"checks_only_in_order", testCSVPayments(), checksHeader +
			"100001,2026-03-09,employee,E003,Bob O'Neil,50.00,12 Elm St,Apt 3,Springfield,IL,62701,carepay INV-1005\n" +
			`100002,2026-03-09,provider,P03,"Crèche Étoile, LLC",2500.00,1 Rue Way,,Boston,MA,02101,carepay ST-2026-03-P03` + "\n"},
		{"no_checks_header_only", testCSVPayments()[:1], checksHeader},
		{"no_payments_header_only", nil, checksHeader},
		// "carepay " (8) + four refs and a blank (4*14) + the fifth ref (13)
		// = 77 characters, then "...": 80 in all.
		{"memo_cut_at_80", []*core.Payment{long}, checksHeader +
			"100003,2026-03-09,provider,P09,Many Refs,1.00,9 Oak,,Troy,NY,12180," +
			"carepay INV-2026-0001 INV-2026-0002 INV-2026-0003 INV-2026-0004 INV-2026-0005...\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteChecks(&buf, csvIssued, tt.payments); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("checks.csv:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestWritePositivePay(t *testing.T) {
	manyLetters := &core.Payment{ID: 8, PayeeType: core.PayeeProvider, PayeeID: "P08",
		Name: "The Very Long Name Child Development Center of Springfield", Method: core.MethodCheck,
		Amount: 7_05, CheckNumber: 100009}
	tests := []struct {
		name     string
		pp       PositivePay
		payments []*core.Payment
		want     string
	}{
		{"default_layout_no_header", PositivePay{Account: "000123456789"}, testCSVPayments(),
			"000123456789,100001,50.00,03/09/2026,BOB O'NEIL,I\n" +
				`000123456789,100002,2500.00,03/09/2026,"CRECHE ETOILE, LLC",I` + "\n"},
		{"default_layout_header", PositivePay{Account: "000123456789", Header: true}, testCSVPayments(),
			"account,check_number,amount,issue_date,payee,issue_flag\n" +
				"000123456789,100001,50.00,03/09/2026,BOB O'NEIL,I\n" +
				`000123456789,100002,2500.00,03/09/2026,"CRECHE ETOILE, LLC",I` + "\n"},
		{"custom_layout_header_amount_cents", PositivePay{Account: "000123456789", Header: true,
			Columns:    []string{"check_number", "amount_cents", "issue_date", "payee", "account", "issue_flag"},
			DateFormat: "20060102"}, testCSVPayments(),
			"check_number,amount_cents,issue_date,payee,account,issue_flag\n" +
				"100001,5000,20260309,BOB O'NEIL,000123456789,I\n" +
				`100002,250000,20260309,"CRECHE ETOILE, LLC",000123456789,I` + "\n"},
		{"iso_date", PositivePay{Account: "42", Columns: []string{"check_number", "issue_date"}, DateFormat: "2006-01-02"},
			testCSVPayments(), "100001,2026-03-09\n100002,2026-03-09\n"},
		{"mmddyy_date", PositivePay{Account: "42", Columns: []string{"issue_date", "amount"}, DateFormat: "010206"},
			testCSVPayments(), "030926,50.00\n030926,2500.00\n"},
		// 40 characters: THE(3) VERY(8) LONG(13) NAME(18) CHILD(24)
		// DEVELOPMENT(36) CEN(40), with the blanks between.
		{"payee_cut_to_40", PositivePay{Account: "42", Columns: []string{"payee"}}, []*core.Payment{manyLetters},
			"THE VERY LONG NAME CHILD DEVELOPMENT CEN\n"},
		{"no_checks_nothing", PositivePay{Account: "42"}, testCSVPayments()[:1], ""},
		{"no_checks_header_only", PositivePay{Account: "42", Header: true}, nil,
			"account,check_number,amount,issue_date,payee,issue_flag\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WritePositivePay(&buf, tt.pp, csvIssued, tt.payments, nil); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("positive-pay.csv:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

func TestWritePositivePayUnknownColumn(t *testing.T) {
	var buf bytes.Buffer
	err := WritePositivePay(&buf, PositivePay{Account: "42", Columns: []string{"check_number", "memo"}}, csvIssued, testCSVPayments(), nil)
	if err == nil || !strings.Contains(err.Error(), `unknown column "memo"`) {
		t.Errorf("error %v, want one naming the unknown column memo", err)
	}
}

func TestValidPositivePayColumn(t *testing.T) {
	for _, c := range []string{"account", "check_number", "amount", "amount_cents", "issue_date", "payee", "issue_flag"} {
		t.Run(c, func(t *testing.T) {
			if !ValidPositivePayColumn(c) {
				t.Errorf("%s refused", c)
			}
		})
	}
	for _, c := range []string{"memo", "Amount", "", "payee_name"} {
		t.Run("refused_"+c, func(t *testing.T) {
			if ValidPositivePayColumn(c) {
				t.Errorf("%q accepted", c)
			}
		})
	}
}

// TestZeroCheckLeftOut: a check payment of nothing gets no check number
// from the ledger (ledger.PutPayments numbers checks with Amount > 0
// only), so it must not reach the check register or the bank's positive
// pay file as check 0 for 0.00; WriteNACHA leaves zero ACH payments out
// the same way.
func TestZeroCheckLeftOut(t *testing.T) {
	zero := &core.Payment{ID: 6, PayeeType: core.PayeeEmployee, PayeeID: "E007", Name: "Nil Amount", Method: core.MethodCheck,
		Amount: 0, Refs: []string{"INV-1010"}, Address: core.Address{Line1: "1 Main", City: "Troy", State: "NY", PostalCode: "12180"}}
	payments := append(testCSVPayments(), zero)
	t.Run("checks_csv", func(t *testing.T) {
		var buf bytes.Buffer
		if err := WriteChecks(&buf, csvIssued, payments); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "E007") {
			t.Errorf("checks.csv holds the zero check:\n%s", buf.String())
		}
	})
	t.Run("positive_pay_csv", func(t *testing.T) {
		var buf bytes.Buffer
		if err := WritePositivePay(&buf, PositivePay{Account: "42"}, csvIssued, payments, nil); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(buf.String(), "NIL AMOUNT") {
			t.Errorf("positive-pay.csv holds the zero check:\n%s", buf.String())
		}
	})
}

const payrollHeader = "employee_id,employee_name,earning_code,amount,pay_date,memo\n"

func TestWritePayroll(t *testing.T) {
	payDate := core.NewDate(2026, time.March, 10)
	tests := []struct {
		name     string
		code     string
		payments []*core.Payment
		want     string
	}{
		{"payroll_only", "DCREIMB", testCSVPayments(), payrollHeader +
			"E005,Zoë Martín,DCREIMB,120.50,2026-03-10,carepay INV-1007 INV-1008\n" +
			"E006,Li 李 Wei,DCREIMB,12.00,2026-03-10,carepay INV-1009\n"},
		{"other_earning_code", "R42", testCSVPayments()[2:3], payrollHeader +
			"E005,Zoë Martín,R42,120.50,2026-03-10,carepay INV-1007 INV-1008\n"},
		{"no_payroll_header_only", "DCREIMB", testCSVPayments()[:2], payrollHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WritePayroll(&buf, tt.code, payDate, tt.payments); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("payroll.csv:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
}

// TestWritePositivePayVoids: a void record carries the check's number,
// amount, original issue date and payee, flagged V, before the run's
// issue records. Check 99001 of 1,360.00 issued 2026-01-05 to Oak Tree is
// voided by the run of 2026-03-09 (csvIssued), which issues checks 100001
// (50.00) and 100002 (2,500.00); amount_cents of 1,360.00 is 136000.
func TestWritePositivePayVoids(t *testing.T) {
	void := []VoidRecord{{CheckNumber: 99001, Amount: 1360_00, Issued: core.NewDate(2026, 1, 5), Payee: "Oak Tree"}}
	tests := []struct {
		name     string
		pp       PositivePay
		payments []*core.Payment
		want     string
	}{
		{"issue_flag_V_then_issues", PositivePay{Account: "42"}, testCSVPayments(),
			"42,99001,1360.00,01/05/2026,OAK TREE,V\n" +
				"42,100001,50.00,03/09/2026,BOB O'NEIL,I\n" +
				`42,100002,2500.00,03/09/2026,"CRECHE ETOILE, LLC",I` + "\n"},
		{"void_column_V_or_blank", PositivePay{Account: "42", Header: true, Columns: []string{"check_number", "amount_cents", "void"}},
			testCSVPayments(),
			"check_number,amount_cents,void\n99001,136000,V\n100001,5000,\n100002,250000,\n"},
		{"voids_alone", PositivePay{Account: "42", Columns: []string{"check_number", "issue_flag"}}, nil, "99001,V\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WritePositivePay(&buf, tt.pp, csvIssued, tt.payments, void); err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("positive-pay.csv:\n%s\nwant:\n%s", got, tt.want)
			}
		})
	}
	// A layout that cannot tell a void from an issue writes nothing.
	var buf bytes.Buffer
	err := WritePositivePay(&buf, PositivePay{Columns: []string{"check_number", "amount"}}, csvIssued, nil, void)
	if err == nil || !strings.Contains(err.Error(), "the void of check 99001 would read as an issue") {
		t.Errorf("layout without a flag: %v", err)
	}
	if TellsVoids([]string{"check_number", "amount"}) || !TellsVoids(nil) || !TellsVoids([]string{"void"}) {
		t.Error("TellsVoids")
	}
}

// A payee named in another script is transliterated on the positive pay
// file, never left blank: the bank matches the payee line.
func TestPositivePayPayeeInAnyScript(t *testing.T) {
	var buf bytes.Buffer
	payments := []*core.Payment{{ID: 1, PayeeType: core.PayeeEmployee, PayeeID: "E9", Name: "张伟", Method: core.MethodCheck, Amount: 12_00, CheckNumber: 100007}}
	if err := WritePositivePay(&buf, PositivePay{Account: "42", Columns: []string{"check_number", "payee", "issue_flag"}}, csvIssued, payments, nil); err != nil {
		t.Fatal(err)
	}
	if got := buf.String(); got != "100007,ZHANGWEI,I\n" {
		t.Errorf("positive pay %q, want the payee transliterated (Zhang Wei)", got)
	}
}
