package ingest_test

import (
	"testing"

	"carepay/core"
	"carepay/ingest"
)

// TestFormulaTextNotApplied drops registries whose names and addresses a
// spreadsheet would run: each such row carries an error naming file, row
// and column (so it is not applied), and plain names with a dash or an
// apostrophe inside are taken.
func TestFormulaTextNotApplied(t *testing.T) {
	opt := ingest.Options{Arrived: arrived}
	msg := func(c string) string {
		return "starts with " + c + ", which a spreadsheet may run as a formula; remove the leading character"
	}
	tests := []struct {
		name  string
		file  string
		lines []string
		want  []core.RowError
		taken []int // rows taken without error
	}{
		{
			name: "employees",
			file: "emp.csv",
			lines: []string{
				"employee_id,first_name,last_name,plan_id,employment_type,annual_income,enrolled_on,address_line1,address_line2,city",
				`E1,"=HYPERLINK(""http://x"")",Diaz,p,casual,1,2025-01-01,,,`,
				"E2,Ana,  +1+1,p,casual,1,2025-01-01,,,",
				"E3,Ana,Diaz,p,casual,1,2025-01-01,@SUM(A1),,",
				"E4,Ana,Diaz,p,casual,1,2025-01-01,1 Elm St,-,",
				"E5,Ana,Diaz,p,casual,1,2025-01-01,1 Elm St,,\"\tBoston\"",
				"E6,Mary-Jane,O'Neil-Diaz,p,casual,1,2025-01-01,1 Elm St = Main,Apt -3,Winston-Salem",
			},
			want: []core.RowError{
				{File: "emp.csv", Row: 2, Column: "first_name", Value: `=HYPERLINK("http://x")`, Msg: msg(`"="`)},
				{File: "emp.csv", Row: 3, Column: "last_name", Value: "  +1+1", Msg: msg(`"+"`)},
				{File: "emp.csv", Row: 4, Column: "address_line1", Value: "@SUM(A1)", Msg: msg(`"@"`)},
				{File: "emp.csv", Row: 5, Column: "address_line2", Value: "-", Msg: msg(`"-"`)},
				{File: "emp.csv", Row: 6, Column: "city", Value: "\tBoston", Msg: msg("a tab")},
			},
			taken: []int{7},
		},
		{
			name: "dependents",
			file: "deps.csv",
			lines: []string{
				"employee_id,dependent_id,first_name,last_name,birth_date,relationship",
				"E1,D1,\"\rMia\",Diaz,2020-01-01,child",
				"E1,D2,Mia,-2+3,2020-01-01,child",
				"E1,D3,Mia,Diaz,2020-01-01,child",
			},
			want: []core.RowError{
				{File: "deps.csv", Row: 2, Column: "first_name", Value: "\rMia", Msg: msg("a carriage return")},
				{File: "deps.csv", Row: 3, Column: "last_name", Value: "-2+3", Msg: msg(`"-"`)},
			},
			taken: []int{4},
		},
		{
			name: "providers",
			file: "prov.csv",
			lines: []string{
				"provider_id,name,address_line1,city",
				"P1,=1+1,,",
				"P2,Sunny Days,=cmd|'/c calc'!A1,",
				"P3,Sunny Days,1 Elm St,Boston",
			},
			want: []core.RowError{
				{File: "prov.csv", Row: 2, Column: "name", Value: "=1+1", Msg: msg(`"="`)},
				{File: "prov.csv", Row: 3, Column: "address_line1", Value: "=cmd|'/c calc'!A1", Msg: msg(`"="`)},
			},
			taken: []int{4},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, recs := readBytes(t, tt.file, csvOf(tt.lines...), opt)
			tr := only(t, rep)
			wantErrors(t, tr.Errors, tt.want)
			if tr.Rows != len(tt.lines)-1 || tr.RejectedRows != len(tt.want) {
				t.Errorf("Rows %d RejectedRows %d, want %d, %d", tr.Rows, tr.RejectedRows, len(tt.lines)-1, len(tt.want))
			}
			for _, row := range tt.taken {
				if r := record(t, recs, tt.file, row); len(r.Errors) != 0 {
					t.Errorf("row %d: errors %v, want none", row, r.Errors)
				}
			}
		})
	}
}
