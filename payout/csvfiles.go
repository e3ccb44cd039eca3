package payout

import (
	"encoding/csv"
	"fmt"
	"io"
	"slices"
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
// amount_cents, issue_date, payee, issue_flag (I for an issued check, V
// for a void), void (V for a void, blank for an issued check).
type PositivePay struct {
	Account    string   // the employer's checking account the checks draw on
	Columns    []string // default DefaultPositivePayColumns
	DateFormat string   // Go layout, default 01/02/2006
	Header     bool
}

// DefaultPositivePayColumns is the common CSV layout banks take.
var DefaultPositivePayColumns = []string{"account", "check_number", "amount", "issue_date", "payee", "issue_flag"}

// PositivePayColumns are the columns a positive pay layout may name.
var PositivePayColumns = []string{"account", "check_number", "amount", "amount_cents", "issue_date", "payee", "issue_flag", "void"}

// ValidPositivePayColumn reports whether a layout names a known column.
func ValidPositivePayColumn(c string) bool { return slices.Contains(PositivePayColumns, c) }

// TellsVoids reports whether a layout tells a void record from an issue
// record: it has an issue_flag or a void column. Without one, a void
// would read as a check issued again.
func TellsVoids(columns []string) bool {
	if len(columns) == 0 {
		columns = DefaultPositivePayColumns
	}
	return slices.Contains(columns, "issue_flag") || slices.Contains(columns, "void")
}

// VoidRecord is a check voided after issue, as positive pay tells the
// bank: the check number, amount, date and payee it was issued with. The
// bank refuses the check when it is presented.
type VoidRecord struct {
	CheckNumber int64
	Amount      core.Cents
	Issued      core.Date
	Payee       string
}

// WritePositivePay writes positive-pay.csv: a void record for each check
// of voids (issue_flag V), then an issue record for each check the run
// issued (issue_flag I).
func WritePositivePay(w io.Writer, pp PositivePay, issued core.Date, payments []*core.Payment, voids []VoidRecord) error {
	cols := pp.Columns
	if len(cols) == 0 {
		cols = DefaultPositivePayColumns
	}
	if len(voids) > 0 && !TellsVoids(cols) {
		return fmt.Errorf("positive pay: the layout has neither an issue_flag nor a void column, so the void of check %d would read as an issue", voids[0].CheckNumber)
	}
	layout := pp.DateFormat
	if layout == "" {
		layout = "01/02/2006"
	}
	cw := csv.NewWriter(w)
	if pp.Header {
		cw.Write(cols)
	}
	for _, v := range voids {
		row, err := positivePayRow(pp, cols, layout, v, true)
		if err != nil {
			return err
		}
		cw.Write(row)
	}
	for _, p := range payments {
		if p.Method != core.MethodCheck || p.Amount <= 0 {
			continue
		}
		row, err := positivePayRow(pp, cols, layout, VoidRecord{CheckNumber: p.CheckNumber, Amount: p.Amount, Issued: issued, Payee: p.Name}, false)
		if err != nil {
			return err
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// positivePayRow is the record of one check: an issue, or a void.
func positivePayRow(pp PositivePay, cols []string, layout string, c VoidRecord, void bool) ([]string, error) {
	row := make([]string, len(cols))
	for i, col := range cols {
		switch col {
		case "account":
			row[i] = pp.Account
		case "check_number":
			row[i] = strconv.FormatInt(c.CheckNumber, 10)
		case "amount":
			row[i] = c.Amount.String()
		case "amount_cents":
			row[i] = strconv.FormatInt(int64(c.Amount), 10)
		case "issue_date":
			row[i] = c.Issued.Time().Format(layout)
		case "payee":
			// 40 characters, the apostrophe of an escaped name included.
			row[i] = cut(ASCII(c.Payee), 40)
			if CellSafe(row[i]) != row[i] {
				row[i] = CellSafe(cut(ASCII(c.Payee), 39))
			}
		case "issue_flag":
			row[i] = "I"
			if void {
				row[i] = "V"
			}
		case "void":
			if void {
				row[i] = "V"
			}
		default:
			return nil, fmt.Errorf("positive pay: unknown column %q", col)
		}
	}
	return safeRow(row), nil
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
