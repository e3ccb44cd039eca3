package payout

import (
	"bytes"
	"encoding/csv"
	"strings"
	"testing"

	"carepay/core"
)

func TestCellSafe(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"equals", "=1+1", "'=1+1"},
		{"plus", "+1+1", "'+1+1"},
		{"minus_formula", "-2+3", "'-2+3"},
		{"minus_text", "-cmd", "'-cmd"},
		{"at", "@SUM(A1)", "'@SUM(A1)"},
		{"tab", "\t=1", "'\t=1"},
		{"carriage_return", "\r=1", "'\r=1"},
		{"after_spaces", "  =1+1", "'  =1+1"},
		{"negative_amount_left_alone", "-12.50", "-12.50"},
		{"negative_integer_left_alone", "-3", "-3"},
		{"minus_alone", "-", "'-"},
		{"minus_dot", "-.", "'-."},
		{"two_dots", "-1.2.3", "'-1.2.3"},
		{"plain_text", "Bob O'Neil", "Bob O'Neil"},
		{"dash_inside", "Mary-Jane", "Mary-Jane"},
		{"amount", "2500.00", "2500.00"},
		{"blank", "", ""},
		{"spaces", "   ", "   "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CellSafe(tt.in); got != tt.want {
				t.Errorf("CellSafe(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// hostilePayments are payments whose every text came from someone else's
// file (a registry loaded before names were checked, an id, a reference).
func hostilePayments() []*core.Payment {
	return []*core.Payment{
		{ID: 1, PayeeType: core.PayeeProvider, PayeeID: "=P01", Name: "=HYPERLINK(\"http://x\",\"pay\")", Method: core.MethodCheck,
			Amount: 50_00, Refs: []string{"INV-1"}, CheckNumber: 100001,
			Address: core.Address{Line1: "+1 Main", Line2: "-2+3", City: "@Troy", State: "\tNY", PostalCode: "\r12180"}},
		{ID: 2, PayeeType: core.PayeeEmployee, PayeeID: "@E01", Name: "-cmd|' /c calc'!A1", Method: core.MethodPayroll,
			Amount: 12_00, Refs: []string{"INV-2"}},
		{ID: 3, PayeeType: core.PayeeProvider, PayeeID: "P02", Name: "=" + strings.Repeat("A", 45), Method: core.MethodCheck,
			Amount: 1_00, Refs: []string{"INV-3"}, CheckNumber: 100002},
	}
}

// readBack parses a written CSV file and fails on any cell a spreadsheet
// would run.
func readBack(t *testing.T, name string, b []byte) [][]string {
	t.Helper()
	cr := csv.NewReader(bytes.NewReader(b))
	cr.FieldsPerRecord = -1
	rows, err := cr.ReadAll()
	if err != nil {
		t.Fatalf("%s does not parse back: %v", name, err)
	}
	for i, row := range rows {
		for j, c := range row {
			if CellSafe(c) != c {
				t.Errorf("%s row %d column %d: %q would run in a spreadsheet", name, i+1, j+1, c)
			}
		}
	}
	return rows
}

func TestCSVFilesHoldNoFormula(t *testing.T) {
	t.Run("checks_csv", func(t *testing.T) {
		var buf bytes.Buffer
		if err := WriteChecks(&buf, csvIssued, hostilePayments()); err != nil {
			t.Fatal(err)
		}
		rows := readBack(t, "checks.csv", buf.Bytes())
		want := []string{"100001", "2026-03-09", "provider", "'=P01", `'=HYPERLINK("http://x","pay")`, "50.00",
			"'+1 Main", "'-2+3", "'@Troy", "'\tNY", "'\r12180", "carepay INV-1"}
		if len(rows) != 3 || strings.Join(rows[1], "|") != strings.Join(want, "|") {
			t.Errorf("row 2 = %q\nwant    %q", rows[1], want)
		}
	})
	t.Run("positive_pay_csv", func(t *testing.T) {
		var buf bytes.Buffer
		if err := WritePositivePay(&buf, PositivePay{Account: "42", Header: true}, csvIssued, hostilePayments(), nil); err != nil {
			t.Fatal(err)
		}
		rows := readBack(t, "positive-pay.csv", buf.Bytes())
		// The escaped payee keeps to 40 characters: the apostrophe, the
		// "=" and 38 letters.
		want := [][]string{
			{"account", "check_number", "amount", "issue_date", "payee", "issue_flag"},
			{"42", "100001", "50.00", "03/09/2026", `'=HYPERLINK("HTTP://X","PAY")`, "I"},
			{"42", "100002", "1.00", "03/09/2026", "'=" + strings.Repeat("A", 38), "I"},
		}
		if len(rows) != len(want) {
			t.Fatalf("%d rows, want %d", len(rows), len(want))
		}
		for i := range want {
			if strings.Join(rows[i], "|") != strings.Join(want[i], "|") {
				t.Errorf("row %d = %q\nwant    %q", i+1, rows[i], want[i])
			}
		}
	})
	t.Run("payroll_csv", func(t *testing.T) {
		var buf bytes.Buffer
		if err := WritePayroll(&buf, "=CODE", core.NewDate(2026, 3, 10), hostilePayments()); err != nil {
			t.Fatal(err)
		}
		rows := readBack(t, "payroll.csv", buf.Bytes())
		want := []string{"'@E01", "'-cmd|' /c calc'!A1", "'=CODE", "12.00", "2026-03-10", "carepay INV-2"}
		if len(rows) != 2 || strings.Join(rows[1], "|") != strings.Join(want, "|") {
			t.Errorf("row 2 = %q\nwant    %q", rows[1], want)
		}
	})
}
