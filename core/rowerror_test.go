package core_test

import (
	"errors"
	"testing"

	"carepay/core"
)

func TestRowErrorError(t *testing.T) {
	tests := []struct {
		name string
		err  *core.RowError
		want string
	}{
		{
			"with_value",
			&core.RowError{File: "01-employees.csv", Row: 14, Column: "annual_income", Value: "abc", Msg: "want an amount like 123.45 or $1,234.50"},
			`01-employees.csv:14:annual_income: want an amount like 123.45 or $1,234.50 (value "abc")`,
		},
		{
			"sheet_source",
			&core.RowError{File: "10-registry.xlsx#Dependents", Row: 20, Column: "birth_date", Value: "31/31/2020", Msg: "want a date like 2026-03-09 or 3/9/2026"},
			`10-registry.xlsx#Dependents:20:birth_date: want a date like 2026-03-09 or 3/9/2026 (value "31/31/2020")`,
		},
		{
			"blank_value",
			&core.RowError{File: "a.csv", Row: 3, Column: "period", Msg: "is blank; a value is required"},
			`a.csv:3:period: is blank; a value is required`,
		},
		{
			"no_column",
			&core.RowError{File: "a.csv", Row: 2, Msg: "not valid CSV"},
			`a.csv:2:-: not valid CSV`,
		},
		{
			"value_with_quote_is_escaped",
			&core.RowError{File: "a.csv", Row: 5, Column: "hours", Value: `4"`, Msg: "want a number of hours like 4.5"},
			`a.csv:5:hours: want a number of hours like 4.5 (value "4\"")`,
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var err error = tc.err
			if got := err.Error(); got != tc.want {
				t.Fatalf("Error() =\n  %s\nwant\n  %s", got, tc.want)
			}
			var re *core.RowError
			if !errors.As(err, &re) || re != tc.err {
				t.Fatal("errors.As does not find the *RowError")
			}
		})
	}
}

// TestRowErrorPlain checks the words a letter and the register give an
// unreadable value: its column, its value (an account number masked) and
// what was wrong, as one sentence.
func TestRowErrorPlain(t *testing.T) {
	tests := []struct {
		name string
		e    core.RowError
		want string
	}{
		{"column_and_value", core.RowError{Column: "amount_charged", Value: "12,3x", Msg: "want an amount like 123.45"},
			`Column amount_charged, value "12,3x": want an amount like 123.45.`},
		{"blank_value", core.RowError{Column: "service_date", Msg: "is blank; want a date like 2026-03-09"},
			"Column service_date: is blank; want a date like 2026-03-09."},
		{"no_column", core.RowError{Msg: "the row has 9 fields, the header 11."}, "the row has 9 fields, the header 11."},
		{"account_masked", core.RowError{Column: "Account_Number", Value: "123456789", Msg: "want digits only"},
			`Column Account_Number, value "****6789": want digits only.`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.e.Plain(); got != tt.want {
				t.Errorf("Plain() = %q, want %q", got, tt.want)
			}
		})
	}
}
