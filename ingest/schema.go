package ingest

import (
	"slices"
	"sort"
	"strings"
)

// Kind is the kind of table a header row announces.
type Kind string

// The five input kinds of SPEC.md.
const (
	Employees  Kind = "employees"
	Dependents Kind = "dependents"
	Providers  Kind = "providers"
	Invoices   Kind = "invoices"
	Statements Kind = "statements"
	// BankReturns is a NACHA file from the bank: returns and
	// notifications of change for credits carepay sent. It is known by
	// its content (a NACHA file header), not a header row.
	BankReturns Kind = "bank_returns"
	// ClearedChecks is the bank's cleared-checks file: the checks it
	// paid, with the amount and the date. Its header names are the bank's
	// (Options.Cleared).
	ClearedChecks Kind = "cleared_checks"
)

// ClearedLayout names the bank's columns of a cleared-checks file, as its
// header spells them (case and surrounding blanks do not matter). A blank
// name takes the default: check_number, amount, cleared_date.
type ClearedLayout struct {
	CheckNumber string
	Amount      string
	ClearedDate string
}

// columns returns the normalised names of the check number, amount and
// date columns.
func (l ClearedLayout) columns() (number, amount, date string) {
	pick := func(v, def string) string {
		if n := normalise(v); n != "" {
			return n
		}
		return def
	}
	return pick(l.CheckNumber, "check_number"), pick(l.Amount, "amount"), pick(l.ClearedDate, "cleared_date")
}

// schemas are the kinds a header is recognised as: Schemas, and the
// cleared-checks file in the layout opt names.
func (opt *Options) schemas() []Schema {
	number, amount, date := opt.Cleared.columns()
	return append(slices.Clip(Schemas), Schema{ClearedChecks, []string{number, amount, date}, nil})
}

// Schema lists a kind's columns.
type Schema struct {
	Kind     Kind
	Required []string
	Optional []string
}

// Schemas are the input kinds in the order they are tried.
var Schemas = []Schema{
	{Employees, []string{"employee_id", "first_name", "last_name", "plan_id", "employment_type", "annual_income", "enrolled_on"},
		[]string{"address_line1", "address_line2", "city", "state", "postal_code", "email", "payment_method", "routing_number", "account_number", "account_type", "other_benefits", "leave_status", "last_used_on"}},
	{Dependents, []string{"employee_id", "dependent_id", "first_name", "last_name", "birth_date", "relationship"},
		[]string{"incapable_of_self_care", "registered_on"}},
	{Providers, []string{"provider_id", "name"},
		[]string{"tax_id", "address_line1", "address_line2", "city", "state", "postal_code", "email", "payment_method", "routing_number", "account_number", "account_type"}},
	{Invoices, []string{"invoice_id", "employee_id", "dependent_id", "provider_id", "care_type", "service_date", "amount_charged", "employee_signed_on", "provider_signed_on", "received_on"},
		[]string{"hours", "payee"}},
	{Statements, []string{"statement_id", "provider_id", "period", "employee_id", "dependent_id", "care_type", "service_date", "hours", "amount_charged"},
		[]string{"line_id", "received_on", "mileage"}},
}

// IsRegistry reports whether k is a registry (applied before service
// lines) rather than a kind of service line.
func (k Kind) IsRegistry() bool { return k == Employees || k == Dependents || k == Providers }

// header maps normalised column names to their positions.
type header struct {
	cols  map[string]int
	names []string // normalised, by position
	dups  [][2]int // positions of a name the header holds twice
}

func normalise(s string) string {
	return strings.ToLower(strings.TrimSpace(strings.TrimPrefix(s, "\ufeff")))
}

func parseHeader(cells []string, schemas []Schema) header {
	h := header{cols: map[string]int{}, names: make([]string, len(cells))}
	for i, c := range cells {
		n := normalise(c)
		h.names[i] = n
		if n == "" {
			continue
		}
		if j, dup := h.cols[n]; dup {
			if known(n, schemas) {
				h.dups = append(h.dups, [2]int{j, i})
			}
			continue
		}
		h.cols[n] = i
	}
	return h
}

// known reports whether some kind reads column n. A column carepay does
// not read may appear twice: it is ignored either way.
func known(n string, schemas []Schema) bool {
	for _, s := range schemas {
		if slices.Contains(s.Required, n) || slices.Contains(s.Optional, n) {
			return true
		}
	}
	return false
}

// recognise finds the kind whose required columns the header has. When
// several fit, the one that explains the most columns wins (a statement
// header also carries every providers column). When none fits it returns
// the closest kind and the columns it lacks.
func recognise(h header, schemas []Schema) (Schema, []string, bool) {
	var fit, near Schema
	fitHave, nearHave := -1, -1
	var nearMissing []string
	for _, s := range schemas {
		var missing []string
		for _, c := range s.Required {
			if _, ok := h.cols[c]; !ok {
				missing = append(missing, c)
			}
		}
		have := len(s.Required) - len(missing)
		switch {
		case len(missing) == 0 && have > fitHave:
			fit, fitHave = s, have
		case len(missing) > 0 && have > nearHave && (s.Kind != ClearedChecks || have >= 2):
			// A lone amount column does not make a cleared-checks file.
			near, nearHave, nearMissing = s, have, missing
		}
	}
	if fitHave >= 0 {
		return fit, nil, true
	}
	return near, nearMissing, false
}

// unknownColumns returns the header's columns that s does not know.
func unknownColumns(h header, s Schema) []string {
	known := map[string]bool{}
	for _, c := range s.Required {
		known[c] = true
	}
	for _, c := range s.Optional {
		known[c] = true
	}
	var out []string
	for _, n := range h.names {
		if n != "" && !known[n] {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out
}
