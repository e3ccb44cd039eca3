package ingest

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"carepay/core"
)

// Record is one parsed row: exactly one of Employee, Dependent, Provider,
// Line, Bank or Cleared is set. A registry row with Errors is not to be applied; a service
// line with errors is still a line, to be rejected INVALID_ROW.
type Record struct {
	Kind      Kind
	Source    string
	Row       int
	Employee  *core.Employee
	Dependent *core.Dependent
	Provider  *core.Provider
	Line      *core.Line
	Bank      *core.BankNotice   // an entry of a bank's return or NOC file
	Cleared   *core.ClearedCheck // a row of the bank's cleared-checks file; not to be applied when Errors
	Errors    []*core.RowError
	// Notes are what the visitor found worth telling whoever dropped the
	// file about the row (a NOC kept, a return matching nothing): they
	// join the table's warnings in the acknowledgement.
	Notes []string
}

// rowReader pulls typed values out of one row, collecting an error for
// every value that does not parse.
type rowReader struct {
	source string
	row    int
	h      header
	cells  []string
	xlsx   bool // values come from a workbook: dates may be serials
	d1904  bool
	errs   []*core.RowError
}

func (r *rowReader) raw(col string) string {
	i, ok := r.h.cols[col]
	if !ok || i >= len(r.cells) {
		return ""
	}
	return strings.TrimSpace(r.cells[i])
}

func (r *rowReader) fail(col, value, msg string) {
	r.errs = append(r.errs, &core.RowError{File: r.source, Row: r.row, Column: col, Value: value, Msg: msg})
}

// str returns a text value; required ones must not be blank.
func (r *rowReader) str(col string, required bool) string {
	v := r.raw(col)
	if v == "" && required {
		r.fail(col, "", "is blank; a value is required")
	}
	return v
}

// formulaStarts are the characters that make a spreadsheet run a cell as
// a formula (= + - @), or that some programs strip before doing so (tab,
// carriage return).
const formulaStarts = "=+-@\t\r"

// text returns a name or address value, refusing text a spreadsheet would
// run: such a value would travel to the check register, the payroll file
// and the letters, where someone opens it.
func (r *rowReader) text(col string, required bool) string {
	v := r.str(col, required)
	if i, ok := r.h.cols[col]; ok && i < len(r.cells) {
		if s := strings.TrimLeft(r.cells[i], " "); s != "" && strings.IndexByte(formulaStarts, s[0]) >= 0 {
			what := strconv.Quote(s[:1])
			switch s[0] {
			case '\t':
				what = "a tab"
			case '\r':
				what = "a carriage return"
			}
			r.fail(col, r.cells[i], "starts with "+what+", which a spreadsheet may run as a formula; remove the leading character")
			return ""
		}
	}
	return v
}

func (r *rowReader) date(col string, required bool) core.Date {
	v := r.raw(col)
	if v == "" {
		if required {
			r.fail(col, "", "is blank; want a date like 2026-03-09")
		}
		return 0
	}
	if r.xlsx {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			d, err := core.DateFromExcelSerial(f, r.d1904)
			if err != nil {
				r.fail(col, v, "want a date like 2026-03-09")
			}
			return d
		}
	}
	d, err := core.ParseDate(v)
	if err != nil {
		r.fail(col, v, "want a date like 2026-03-09 or 3/9/2026")
	}
	return d
}

func (r *rowReader) money(col string, required bool) core.Cents {
	v := r.raw(col)
	if v == "" {
		if required {
			r.fail(col, "", "is blank; want an amount like 123.45")
		}
		return 0
	}
	c, err := core.ParseMoney(v)
	if err != nil && r.xlsx {
		// A numeric cell may hold binary noise such as 123.45000000000001.
		if f, ferr := strconv.ParseFloat(v, 64); ferr == nil {
			if cents := math.Round(f * 100); math.Abs(f*100-cents) < 1e-6 && math.Abs(cents) < 1e15 {
				return core.Cents(cents)
			}
		}
	}
	if err != nil {
		r.fail(col, v, "want an amount like 123.45 or $1,234.50")
		return 0
	}
	if c < 0 {
		r.fail(col, v, "must not be negative")
		return 0
	}
	return c
}

// hours reads a number of hours. A negative number is read as such, for
// the rules to refuse (INVALID_HOURS: hours must be above 0); more than two
// decimals does not parse.
func (r *rowReader) hours(col string) (core.Hours, bool) {
	v := r.raw(col)
	if v == "" {
		return 0, false
	}
	if rest, neg := strings.CutPrefix(v, "-"); neg {
		if h, err := core.ParseHours(rest); err == nil {
			return -h, true
		}
	}
	h, err := core.ParseHours(v)
	if err != nil && r.xlsx {
		if f, ferr := strconv.ParseFloat(v, 64); ferr == nil && f > -1e6 && f < 1e6 {
			if hh := math.Round(f * 100); math.Abs(f*100-hh) < 1e-6 {
				return core.Hours(hh), true
			}
		}
	}
	if err != nil {
		r.fail(col, v, "want a number of hours like 4.5, at most two decimals")
		return 0, false
	}
	return h, true
}

func (r *rowReader) boolean(col string) bool {
	v := strings.ToLower(r.raw(col))
	switch v {
	case "", "false", "no", "n", "0":
		return false
	case "true", "yes", "y", "1":
		return true
	}
	r.fail(col, v, "want true/false, yes/no, y/n or 1/0")
	return false
}

// enum returns a value that must be one of allowed (blank gives def).
func (r *rowReader) enum(col string, allowed []string, def string, required bool) string {
	v := strings.ToLower(r.raw(col))
	if v == "" {
		if required {
			r.fail(col, "", "is blank; want one of "+strings.Join(allowed, ", "))
		}
		return def
	}
	if !slices.Contains(allowed, v) {
		r.fail(col, r.raw(col), "want one of "+strings.Join(allowed, ", "))
		return def
	}
	return v
}

func (r *rowReader) address() core.Address {
	return core.Address{
		Line1: r.text("address_line1", false), Line2: r.text("address_line2", false),
		City: r.text("city", false), State: r.raw("state"), PostalCode: r.raw("postal_code"),
	}
}

func (r *rowReader) bank() core.BankAccount {
	b := core.BankAccount{Routing: r.raw("routing_number"), Number: r.raw("account_number")}
	b.Type = r.enum("account_type", core.AccountTypes, "", false) // blank stays blank: an ACH payee without one is held, never guessed
	for _, c := range []string{"routing_number", "account_number"} {
		if v := r.raw(c); strings.Trim(v, "0123456789") != "" {
			r.fail(c, core.MaskAccount(v), "want digits only")
		}
	}
	return b
}

// MaxServiceAge is how many days before the run date a service date may
// be: 730 days is accepted, 731 is a typo rather than care to pay for.
const MaxServiceAge = 730

// parse turns the row into a Record of kind k.
func (r *rowReader) parse(k Kind, opt *Options) Record {
	rec := Record{Kind: k, Source: r.source, Row: r.row}
	switch k {
	case Employees:
		e := &core.Employee{
			ID: r.str("employee_id", true), FirstName: r.text("first_name", true), LastName: r.text("last_name", true),
			PlanID:         r.str("plan_id", true),
			EmploymentType: r.enum("employment_type", core.EmploymentTypes, "", true),
			AnnualIncome:   r.money("annual_income", true),
			EnrolledOn:     r.date("enrolled_on", true),
			Address:        r.address(), Email: r.raw("email"),
			PaymentMethod: r.enum("payment_method", core.PaymentMethods, core.MethodCheck, false),
			Bank:          r.bank(),
			OtherBenefits: r.money("other_benefits", false),
			LeaveStatus:   r.enum("leave_status", core.LeaveStatuses, "none", false),
			LastUsedOn:    r.date("last_used_on", false),
		}
		rec.Employee = e
	case Dependents:
		rec.Dependent = &core.Dependent{
			EmployeeID: r.str("employee_id", true), ID: r.str("dependent_id", true),
			FirstName: r.text("first_name", true), LastName: r.text("last_name", true),
			BirthDate:       r.date("birth_date", true),
			Relationship:    r.enum("relationship", core.Relationships, "", true),
			IncapableOfSelf: r.boolean("incapable_of_self_care"),
			RegisteredOn:    r.date("registered_on", false),
		}
	case Providers:
		p := &core.Provider{
			ID: r.str("provider_id", true), Name: r.text("name", true), TaxID: r.raw("tax_id"),
			Address: r.address(), Email: r.raw("email"),
			PaymentMethod: r.enum("payment_method", []string{core.MethodACH, core.MethodCheck}, core.MethodCheck, false),
			Bank:          r.bank(),
		}
		rec.Provider = p
	case Invoices, Statements:
		rec.Line = r.line(k, opt.Arrived)
		r.sanity(rec.Line, opt)
	case ClearedChecks:
		rec.Cleared = r.cleared(opt)
	}
	rec.Errors = r.errs
	if rec.Line != nil {
		rec.Line.Errors = r.errs
	}
	return rec
}

// cleared reads a row of the bank's cleared-checks file: a check number
// (digits), the amount paid and the date, not after the run date.
func (r *rowReader) cleared(opt *Options) *core.ClearedCheck {
	numberCol, amountCol, dateCol := opt.Cleared.columns()
	c := &core.ClearedCheck{Row: r.row}
	if v := r.raw(numberCol); v == "" {
		r.fail(numberCol, "", "is blank; want the check number")
	} else if n, err := strconv.ParseInt(v, 10, 64); err != nil || n <= 0 || strings.Trim(v, "0123456789") != "" {
		r.fail(numberCol, v, "want a check number (digits only)")
	} else {
		c.Number = n
	}
	c.Amount = r.money(amountCol, true)
	c.Date = r.date(dateCol, true)
	if !c.Date.IsZero() && !opt.RunDate.IsZero() && c.Date > opt.RunDate {
		r.fail(dateCol, r.raw(dateCol), "is after the run date "+opt.RunDate.String()+"; the bank cannot have paid the check on a later day")
	}
	return c
}

func (r *rowReader) line(k Kind, arrived core.Date) *core.Line {
	l := &core.Line{
		Source: r.source, Row: r.row,
		EmployeeID: r.str("employee_id", true), DependentID: r.str("dependent_id", true),
		ProviderID:  r.str("provider_id", true),
		CareType:    r.enum("care_type", core.CareTypes, "", true),
		ServiceDate: r.date("service_date", true),
		Charged:     r.money("amount_charged", true),
	}
	l.Hours, l.HasHours = r.hours("hours")
	if k == Invoices {
		l.Kind = core.Invoice
		l.Ref = r.str("invoice_id", true)
		l.EmployeeSignedOn = r.date("employee_signed_on", false)
		l.ProviderSignedOn = r.date("provider_signed_on", false)
		l.ReceivedOn = r.date("received_on", true)
		l.Payee = r.enum("payee", []string{core.PayeeEmployee, core.PayeeProvider}, "", false)
		return l
	}
	l.Kind = core.Statement
	l.Ref = r.str("statement_id", true)
	l.LineID = r.raw("line_id")
	if r.raw("mileage") != "" {
		// Read as money so that a bad value is reported; never paid.
		r.money("mileage", false)
		l.Mileage = r.raw("mileage")
	}
	if v := r.raw("period"); v == "" {
		r.fail("period", "", "is blank; want a month like 2026-03")
	} else if p, err := core.ParsePeriod(v); err != nil {
		r.fail("period", v, "want a month like 2026-03")
	} else {
		l.Period = p
		if !l.ServiceDate.IsZero() && !p.Contains(l.ServiceDate) {
			r.fail("service_date", l.ServiceDate.String(), "is outside the statement period "+p.String())
		}
	}
	l.ReceivedOn = r.date("received_on", false)
	if l.ReceivedOn.IsZero() {
		l.ReceivedOn = arrived
	}
	return l
}

// sanity applies SPEC.md's sanity limits to a service line, so that a typo
// never becomes a payment: a service date after the run date or more than
// MaxServiceAge days before it, and a charge above the line limit, do not
// parse (INVALID_ROW); such a row does not count towards its invoice's
// first and last service dates.
func (r *rowReader) sanity(l *core.Line, opt *Options) {
	if d := l.ServiceDate; !d.IsZero() && !opt.RunDate.IsZero() {
		earliest := opt.RunDate.AddDays(-MaxServiceAge)
		switch {
		case d > opt.RunDate:
			r.fail("service_date", r.raw("service_date"), "is after the run date "+opt.RunDate.String()+"; care cannot be claimed before it took place")
		case d < earliest:
			r.fail("service_date", r.raw("service_date"), fmt.Sprintf("is more than %d days before the run date %s (the earliest accepted is %s)", MaxServiceAge, opt.RunDate, earliest))
		}
	}
	if opt.MaxLineCharge > 0 && l.Charged > opt.MaxLineCharge {
		r.fail("amount_charged", r.raw("amount_charged"), "is above the limit of "+opt.MaxLineCharge.Dollars()+" a line (limits.max_line_charge in config.toml)")
	}
}
