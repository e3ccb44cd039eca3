package ingest_test

import (
	"bytes"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"carepay/core"
	"carepay/ingest"
)

const dropDir = "../fixtures/drop"

const (
	wantDate  = "want a date like 2026-03-09 or 3/9/2026"
	wantMoney = "want an amount like 123.45 or $1,234.50"
	wantBool  = "want true/false, yes/no, y/n or 1/0"
)

type wantTable struct {
	source       string
	kind         ingest.Kind
	rejected     string
	warnings     []string
	rows         int
	rejectedRows int
	errors       []core.RowError
}

// TestReadFileFixtures reads every file of the sample drop and checks what
// each table became, down to the exact row errors.
func TestReadFileFixtures(t *testing.T) {
	tests := []struct {
		file   string
		kinds  []ingest.Kind
		tables []wantTable
	}{
		{"01-employees.csv", []ingest.Kind{ingest.Employees}, []wantTable{{
			source: "01-employees.csv", kind: ingest.Employees, rows: 13, rejectedRows: 1,
			errors: []core.RowError{{File: "01-employees.csv", Row: 14, Column: "annual_income", Value: "abc", Msg: wantMoney}},
		}}},
		{"10-registry.xlsx", []ingest.Kind{ingest.Dependents, ingest.Providers}, []wantTable{
			{
				source: "10-registry.xlsx#Dependents", kind: ingest.Dependents, rows: 19, rejectedRows: 1,
				errors: []core.RowError{
					{File: "10-registry.xlsx#Dependents", Row: 20, Column: "birth_date", Value: "31/31/2020", Msg: wantDate},
					{File: "10-registry.xlsx#Dependents", Row: 20, Column: "incapable_of_self_care", Value: "maybe", Msg: wantBool},
				},
			},
			{
				source: "10-registry.xlsx#Providers", kind: ingest.Providers, rows: 3,
				warnings: []string{"unknown columns ignored: contact_person"},
			},
		}},
		{"11-providers-new.csv", []ingest.Kind{ingest.Providers}, []wantTable{{
			source: "11-providers-new.csv", kind: ingest.Providers, rows: 1,
		}}},
		{"20-statements-bright.csv", []ingest.Kind{ingest.Statements}, []wantTable{{
			source: "20-statements-bright.csv", kind: ingest.Statements, rows: 19, rejectedRows: 1,
			errors: []core.RowError{{File: "20-statements-bright.csv", Row: 19, Column: "service_date", Value: "2026-13-45", Msg: wantDate}},
		}}},
		{"21-statements-family-care.csv", []ingest.Kind{ingest.Statements}, []wantTable{{
			source: "21-statements-family-care.csv", kind: ingest.Statements, rows: 20,
		}}},
		{"22-statement-pinch.xlsx", []ingest.Kind{ingest.Statements}, []wantTable{{
			source: "22-statement-pinch.xlsx#March", kind: ingest.Statements, rows: 17,
		}}},
		{"30-invoices-march.csv", []ingest.Kind{ingest.Invoices}, []wantTable{{
			source: "30-invoices-march.csv", kind: ingest.Invoices, rows: 27, rejectedRows: 1,
			errors: []core.RowError{{File: "30-invoices-march.csv", Row: 28, Column: "amount_charged", Value: "12.3.4", Msg: wantMoney}},
		}}},
		{"31-invoices-resent.csv", []ingest.Kind{ingest.Invoices}, []wantTable{{
			source: "31-invoices-resent.csv", kind: ingest.Invoices, rows: 3,
		}}},
		{"40-ops-notes.csv", nil, []wantTable{{
			source:   "40-ops-notes.csv",
			rejected: "header matches no input kind: row 1 names no column carepay reads (note, author); the header must be the first row that is not blank, with columns such as employee_id, provider_id, invoice_id or statement_id",
		}}},
	}
	t.Run("every_fixture_listed", func(t *testing.T) {
		entries, err := os.ReadDir(dropDir)
		if err != nil {
			t.Fatal(err)
		}
		listed := map[string]bool{}
		for _, tc := range tests {
			listed[tc.file] = true
		}
		for _, e := range entries {
			if !listed[e.Name()] {
				t.Errorf("fixture %s has no expectations here", e.Name())
			}
		}
	})
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			rep, recs := read(t, filepath.Join(dropDir, tc.file), tc.file, ingest.Options{Arrived: arrived})
			if rep.Name != tc.file {
				t.Errorf("Name = %q", rep.Name)
			}
			if got := rep.Kinds(); !reflect.DeepEqual(got, tc.kinds) {
				t.Errorf("Kinds() = %v, want %v", got, tc.kinds)
			}
			if got, want := rep.Rejected(), tc.kinds == nil; got != want {
				t.Errorf("Rejected() = %v, want %v", got, want)
			}
			if len(rep.Tables) != len(tc.tables) {
				t.Fatalf("%d tables, want %d", len(rep.Tables), len(tc.tables))
			}
			visited := map[string]int{}
			for _, r := range recs {
				visited[r.Source]++
				if r.Kind == "" || r.Row < 2 {
					t.Errorf("record %s row %d kind %q", r.Source, r.Row, r.Kind)
				}
			}
			for i, w := range tc.tables {
				tr := rep.Tables[i]
				if tr.Source != w.source {
					t.Fatalf("table %d is %q, want %q", i, tr.Source, w.source)
				}
				if tr.Kind != w.kind {
					t.Errorf("%s: Kind = %q, want %q", w.source, tr.Kind, w.kind)
				}
				if tr.Rejected != w.rejected {
					t.Errorf("%s: Rejected =\n  %q\nwant\n  %q", w.source, tr.Rejected, w.rejected)
				}
				if !reflect.DeepEqual(tr.Warnings, w.warnings) {
					t.Errorf("%s: Warnings = %q, want %q", w.source, tr.Warnings, w.warnings)
				}
				if tr.Rows != w.rows || tr.RejectedRows != w.rejectedRows || tr.Taken() != w.rows-w.rejectedRows {
					t.Errorf("%s: Rows %d, RejectedRows %d, Taken %d; want %d, %d, %d",
						w.source, tr.Rows, tr.RejectedRows, tr.Taken(), w.rows, w.rejectedRows, w.rows-w.rejectedRows)
				}
				if visited[w.source] != w.rows {
					t.Errorf("%s: visited %d records, want %d", w.source, visited[w.source], w.rows)
				}
				if tr.MoreErrors != 0 {
					t.Errorf("%s: MoreErrors = %d", w.source, tr.MoreErrors)
				}
				wantErrors(t, tr.Errors, w.errors)
			}
		})
	}
}

// TestReadFileFixtureValues checks that values in their various written
// forms become the right typed values.
func TestReadFileFixtureValues(t *testing.T) {
	opt := ingest.Options{Arrived: arrived}

	t.Run("employees_bom_crlf_trailing_blank_row", func(t *testing.T) {
		// Guard the fixture itself: these are the traits under test.
		b, err := os.ReadFile(filepath.Join(dropDir, "01-employees.csv"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("\ufeffemployee_id,")) || !bytes.HasSuffix(b, []byte("\r\n\r\n")) || bytes.Count(b, []byte("\r\n")) != 15 {
			t.Fatal("01-employees.csv no longer starts with a BOM, uses CRLF and ends with a blank row")
		}
		_, recs := read(t, filepath.Join(dropDir, "01-employees.csv"), "01-employees.csv", opt)
		if len(recs) != 13 {
			t.Fatalf("%d records, want 13", len(recs))
		}
		e100 := record(t, recs, "01-employees.csv", 2).Employee
		want := core.Employee{
			ID: "E100", FirstName: "Ana", LastName: "Alvarez", PlanID: "bright-backup",
			EmploymentType: core.RegularFullTime, AnnualIncome: 5500000, EnrolledOn: date(t, "2025-01-15"),
			Address: core.Address{Line1: "12 Elm St", City: "Wilmington", State: "DE", PostalCode: "19801"},
			Email:   "ana@example.com", PaymentMethod: core.MethodACH,
			Bank:        core.BankAccount{Routing: "011000015", Number: "123456789", Type: "checking"},
			LeaveStatus: "none",
		}
		if e100 == nil || !reflect.DeepEqual(*e100, want) {
			t.Errorf("E100 =\n  %+v\nwant\n  %+v", e100, want)
		}
		// The last field of each CRLF line must not keep the \r.
		if r := record(t, recs, "01-employees.csv", 11).Employee; r.ID != "E303" || r.LastUsedOn != date(t, "2022-06-01") {
			t.Errorf("E303 last_used_on = %s, want 2022-06-01", r.LastUsedOn)
		}
	})

	t.Run("employees_dollar_thousands_and_us_date", func(t *testing.T) {
		_, recs := read(t, filepath.Join(dropDir, "01-employees.csv"), "01-employees.csv", opt)
		e101 := record(t, recs, "01-employees.csv", 3)
		if len(e101.Errors) != 0 {
			t.Fatalf("E101 errors: %v", e101.Errors)
		}
		e := e101.Employee
		if e.ID != "E101" || e.AnnualIncome != 8500000 || e.EnrolledOn != date(t, "2025-02-01") {
			t.Errorf("E101 = %s income %d enrolled %s; want E101 8500000 2025-02-01", e.ID, e.AnnualIncome, e.EnrolledOn)
		}
		if e.PaymentMethod != core.MethodPayroll || e.Address.Line2 != "Apt 2" || e.Address.PostalCode != "07102" {
			t.Errorf("E101 method %q line2 %q postal %q", e.PaymentMethod, e.Address.Line2, e.Address.PostalCode)
		}
		if e := record(t, recs, "01-employees.csv", 8).Employee; e.ID != "E203" || e.OtherBenefits != 500000 || e.AnnualIncome != 7500001 {
			t.Errorf("E203 = %s other %d income %d; want 500000 and 7500001", e.ID, e.OtherBenefits, e.AnnualIncome)
		}
		if e := record(t, recs, "01-employees.csv", 4).Employee; !e.OnMilitaryLeave() || e.PaymentMethod != core.MethodCheck {
			t.Errorf("E102 leave %q method %q", e.LeaveStatus, e.PaymentMethod)
		}
		bad := record(t, recs, "01-employees.csv", 14)
		if bad.Employee == nil || bad.Employee.ID != "E999" || len(bad.Errors) != 1 {
			t.Errorf("E999 record: %+v", bad)
		}
	})

	t.Run("registry_native_excel_dates", func(t *testing.T) {
		_, recs := read(t, filepath.Join(dropDir, "10-registry.xlsx"), "10-registry.xlsx", opt)
		src := "10-registry.xlsx#Dependents"
		d := record(t, recs, src, 2).Dependent
		want := core.Dependent{
			EmployeeID: "E100", ID: "D1001", FirstName: "Mia", LastName: "Alvarez",
			BirthDate: date(t, "2020-05-05"), Relationship: "child", RegisteredOn: date(t, "2025-01-20"),
		}
		if d == nil || !reflect.DeepEqual(*d, want) {
			t.Errorf("D1001 =\n  %+v\nwant\n  %+v", d, want)
		}
		d = record(t, recs, src, 15).Dependent
		if d.ID != "D3012" || d.Relationship != "parent" || !d.IncapableOfSelf || d.BirthDate != date(t, "1944-04-04") {
			t.Errorf("D3012 = %+v; want parent, incapable, born 1944-04-04", d)
		}
		if d := record(t, recs, src, 10).Dependent; d.ID != "D2002" || d.BirthDate != date(t, "1950-02-02") {
			t.Errorf("D2002 = %s born %s, want 1950-02-02", d.ID, d.BirthDate)
		}
		bad := record(t, recs, src, 20)
		if bad.Dependent.ID != "D1004" || !bad.Dependent.BirthDate.IsZero() || len(bad.Errors) != 2 {
			t.Errorf("D1004 record: %+v errors %v", bad.Dependent, bad.Errors)
		}
	})

	t.Run("registry_providers", func(t *testing.T) {
		_, recs := read(t, filepath.Join(dropDir, "10-registry.xlsx"), "10-registry.xlsx", opt)
		src := "10-registry.xlsx#Providers"
		p := record(t, recs, src, 2).Provider
		want := core.Provider{
			ID: "P01", Name: "Sunny Days Learning Center", TaxID: "12-3456789",
			Address: core.Address{Line1: "500 Market St", Line2: "Suite 4", City: "Wilmington", State: "DE", PostalCode: "19801"},
			Email:   "billing@sunnydays.example", PaymentMethod: core.MethodACH,
			Bank: core.BankAccount{Routing: "011000015", Number: "55501234", Type: "checking"},
		}
		if p == nil || !reflect.DeepEqual(*p, want) {
			t.Errorf("P01 =\n  %+v\nwant\n  %+v", p, want)
		}
		if p := record(t, recs, src, 4).Provider; p.Name != "Grandma's Family Care" || p.PaymentMethod != core.MethodCheck || p.Bank.Type != "" {
			t.Errorf("P03 = %+v", p)
		}
	})

	t.Run("statements_csv", func(t *testing.T) {
		src := "20-statements-bright.csv"
		_, recs := read(t, filepath.Join(dropDir, src), src, opt)
		l := record(t, recs, src, 2).Line
		want := core.Line{
			Kind: core.Statement, Source: src, Row: 2, Ref: "ST-P01-2026-03", LineID: "1",
			EmployeeID: "E100", DependentID: "D1001", ProviderID: "P01", CareType: core.CareCenter,
			ServiceDate: date(t, "2026-03-09"), Charged: 12000, ReceivedOn: date(t, "2026-04-05"),
			Period: core.Period{Year: 2026, Month: 3},
		}
		if l == nil || !reflect.DeepEqual(*l, want) {
			t.Errorf("row 2 =\n  %+v\nwant\n  %+v", l, want)
		}
		if l := record(t, recs, src, 6).Line; l.CareType != core.CareInHome || !l.HasHours || l.Hours != 1200 || l.Charged != 30000 {
			t.Errorf("row 6 = %s hours %v/%d charged %d", l.CareType, l.HasHours, l.Hours, l.Charged)
		}
		if l := record(t, recs, src, 17).Line; l.ServiceDate != date(t, "2026-03-16") || l.Charged != 123450 || l.Invalid() {
			t.Errorf("row 17 = %s charged %d errors %v", l.ServiceDate, l.Charged, l.Errors)
		}
		bad := record(t, recs, src, 19)
		if !bad.Line.Invalid() || !bad.Line.ServiceDate.IsZero() || len(bad.Line.Errors) != 1 || bad.Line.Errors[0] != bad.Errors[0] {
			t.Errorf("row 19 = %+v", bad.Line)
		}
	})

	t.Run("statements_xlsx_native_dates_and_numbers", func(t *testing.T) {
		src := "22-statement-pinch.xlsx#March"
		_, recs := read(t, filepath.Join(dropDir, "22-statement-pinch.xlsx"), "22-statement-pinch.xlsx", opt)
		l := record(t, recs, src, 2).Line
		want := core.Line{
			Kind: core.Statement, Source: src, Row: 2, Ref: "ST-P02-2026-03", LineID: "1",
			EmployeeID: "E200", DependentID: "D2001", ProviderID: "P02", CareType: core.CareInHome,
			ServiceDate: date(t, "2026-03-02"), Hours: 600, HasHours: true, Charged: 8400,
			ReceivedOn: date(t, "2026-04-06"), Period: core.Period{Year: 2026, Month: 3}, Mileage: "12.5",
		}
		if l == nil || !reflect.DeepEqual(*l, want) {
			t.Errorf("row 2 =\n  %+v\nwant\n  %+v", l, want)
		}
		if l := record(t, recs, src, 13).Line; !l.HasHours || l.Hours != 0 || l.Charged != 0 || l.ServiceDate != date(t, "2026-03-17") {
			t.Errorf("row 13 = hours %v/%d charged %d date %s", l.HasHours, l.Hours, l.Charged, l.ServiceDate)
		}
	})

	t.Run("invoices_csv", func(t *testing.T) {
		src := "30-invoices-march.csv"
		_, recs := read(t, filepath.Join(dropDir, src), src, opt)
		l := record(t, recs, src, 2).Line
		want := core.Line{
			Kind: core.Invoice, Source: src, Row: 2, Ref: "INV-1001",
			EmployeeID: "E301", DependentID: "D3011", ProviderID: "P03", CareType: core.CareCenter,
			ServiceDate: date(t, "2026-03-02"), Charged: 11000,
			EmployeeSignedOn: date(t, "2026-03-05"), ProviderSignedOn: date(t, "2026-03-05"),
			ReceivedOn: date(t, "2026-03-10"), Payee: core.PayeeEmployee,
		}
		if l == nil || !reflect.DeepEqual(*l, want) {
			t.Errorf("row 2 =\n  %+v\nwant\n  %+v", l, want)
		}
		if l := record(t, recs, src, 5).Line; l.Ref != "INV-1002" || l.Payee != "" || l.CareType != core.CareAdult {
			t.Errorf("row 5 = %s payee %q care %s", l.Ref, l.Payee, l.CareType)
		}
		if l := record(t, recs, src, 6).Line; l.Ref != "INV-1003" || !l.EmployeeSignedOn.IsZero() || l.Invalid() {
			t.Errorf("row 6 = %s employee signed %s errors %v", l.Ref, l.EmployeeSignedOn, l.Errors)
		}
		if l := record(t, recs, src, 9).Line; l.Charged != 10000 || l.Hours != 800 || l.Payee != core.PayeeProvider {
			t.Errorf("row 9 = charged %d hours %d payee %q", l.Charged, l.Hours, l.Payee)
		}
		if l := record(t, recs, src, 28).Line; l.Ref != "INV-1015" || l.Charged != 0 || !l.Invalid() {
			t.Errorf("row 28 = %s charged %d errors %v", l.Ref, l.Charged, l.Errors)
		}
	})

	t.Run("providers_utf8_name", func(t *testing.T) {
		src := "11-providers-new.csv"
		_, recs := read(t, filepath.Join(dropDir, src), src, opt)
		p := record(t, recs, src, 2).Provider
		want := core.Provider{
			ID: "P04", Name: "Crèche Étoile", TaxID: "55-1234567", PaymentMethod: core.MethodACH,
			Bank: core.BankAccount{Routing: "011000016", Number: "44445555", Type: "checking"},
		}
		if p == nil || !reflect.DeepEqual(*p, want) {
			t.Errorf("P04 =\n  %+v\nwant\n  %+v", p, want)
		}
	})

	t.Run("ops_notes_visits_nothing", func(t *testing.T) {
		_, recs := read(t, filepath.Join(dropDir, "40-ops-notes.csv"), "40-ops-notes.csv", opt)
		if len(recs) != 0 {
			t.Fatalf("visited %d records of a rejected file", len(recs))
		}
	})
}
