package payout

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"strings"

	"carepay/core"
)

// CellSafe keeps a spreadsheet from running a CSV cell as a formula: a
// cell whose first character after any spaces is =, +, -, @, a tab or a
// carriage return gets a leading apostrophe, as register.xlsx does. A
// plain number such as -12.50 is left alone: a spreadsheet reads it as a
// number and runs nothing (money written here is never negative anyway).
func CellSafe(s string) string {
	t := strings.TrimLeft(s, " ")
	if t == "" || !strings.ContainsRune("=+-@\t\r", rune(t[0])) || plainNumber(t) {
		return s
	}
	return "'" + s
}

// plainNumber reports whether s is -digits with at most one decimal point.
func plainNumber(s string) bool {
	s = strings.TrimPrefix(s, "-")
	digits, dot := 0, false
	for _, c := range s {
		switch {
		case c >= '0' && c <= '9':
			digits++
		case c == '.' && !dot:
			dot = true
		default:
			return false
		}
	}
	return digits > 0
}

// safeRow applies CellSafe to every cell of a row.
func safeRow(cells []string) []string {
	for i, c := range cells {
		cells[i] = CellSafe(c)
	}
	return cells
}

// CheckRegisterColumns are the columns of checks.csv.
var CheckRegisterColumns = []string{"check_number", "issue_date", "payee_type", "payee_id", "payee_name",
	"amount", "address_line1", "address_line2", "city", "state", "postal_code", "memo"}

// WriteChecks writes checks.csv: one row per check, in the order given
// (the ledger numbers checks in that order).
func WriteChecks(w io.Writer, issued core.Date, payments []*core.Payment) error {
	cw := csv.NewWriter(w)
	cw.Write(CheckRegisterColumns)
	for _, p := range payments {
		if p.Method != core.MethodCheck || p.Amount <= 0 {
			continue // nothing to pay: no check is cut
		}
		a := p.Address
		cw.Write(safeRow([]string{strconv.FormatInt(p.CheckNumber, 10), issued.String(), p.PayeeType, p.PayeeID, p.Name,
			p.Amount.String(), a.Line1, a.Line2, a.City, a.State, a.PostalCode, memo(p)}))
	}
	cw.Flush()
	return cw.Error()
}

func memo(p *core.Payment) string {
	m := "carepay " + strings.Join(p.Refs, " ")
	if len(m) > 80 {
		m = m[:77] + "..."
	}
	return m
}

// PositivePay is the bank's positive pay layout: the columns in order and
// the date format. Column names: account, check_number, amount,
// amount_cents, issue_date, payee, issue_flag.
type PositivePay struct {
	Account    string   // the employer's checking account the checks draw on
	Columns    []string // default DefaultPositivePayColumns
	DateFormat string   // Go layout, default 01/02/2006
	Header     bool
}

// DefaultPositivePayColumns is the common CSV layout banks take.
var DefaultPositivePayColumns = []string{"account", "check_number", "amount", "issue_date", "payee", "issue_flag"}

// ValidPositivePayColumn reports whether a layout names a known column.
func ValidPositivePayColumn(c string) bool {
	switch c {
	case "account", "check_number", "amount", "amount_cents", "issue_date", "payee", "issue_flag":
		return true
	}
	return false
}

// WritePositivePay writes positive-pay.csv for the checks of a run.
func WritePositivePay(w io.Writer, pp PositivePay, issued core.Date, payments []*core.Payment) error {
	cols := pp.Columns
	if len(cols) == 0 {
		cols = DefaultPositivePayColumns
	}
	layout := pp.DateFormat
	if layout == "" {
		layout = "01/02/2006"
	}
	cw := csv.NewWriter(w)
	if pp.Header {
		cw.Write(cols)
	}
	for _, p := range payments {
		if p.Method != core.MethodCheck || p.Amount <= 0 {
			continue
		}
		row := make([]string, len(cols))
		for i, c := range cols {
			switch c {
			case "account":
				row[i] = pp.Account
			case "check_number":
				row[i] = strconv.FormatInt(p.CheckNumber, 10)
			case "amount":
				row[i] = p.Amount.String()
			case "amount_cents":
				row[i] = strconv.FormatInt(int64(p.Amount), 10)
			case "issue_date":
				row[i] = issued.Time().Format(layout)
			case "payee":
				// 40 characters, the apostrophe of an escaped name included.
				row[i] = cut(ASCII(p.Name), 40)
				if CellSafe(row[i]) != row[i] {
					row[i] = CellSafe(cut(ASCII(p.Name), 39))
				}
			case "issue_flag":
				row[i] = "I"
			default:
				return fmt.Errorf("positive pay: unknown column %q", c)
			}
		}
		cw.Write(safeRow(row))
	}
	cw.Flush()
	return cw.Error()
}

// PayrollColumns are the columns of payroll.csv.
var PayrollColumns = []string{"employee_id", "employee_name", "earning_code", "amount", "pay_date", "memo"}

// WritePayroll writes payroll.csv: reimbursements to add to the next
// paycheck, one row per employee paid through payroll.
func WritePayroll(w io.Writer, earningCode string, payDate core.Date, payments []*core.Payment) error {
	cw := csv.NewWriter(w)
	cw.Write(PayrollColumns)
	for _, p := range payments {
		if p.Method != core.MethodPayroll || p.Amount <= 0 {
			continue
		}
		cw.Write(safeRow([]string{p.PayeeID, p.Name, earningCode, p.Amount.String(), payDate.String(), memo(p)}))
	}
	cw.Flush()
	return cw.Error()
}
