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
