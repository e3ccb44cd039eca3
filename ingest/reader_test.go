package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"carepay/core"
	"carepay/ingest"
)

const (
	stmtHeader = "statement_id,provider_id,period,employee_id,dependent_id,care_type,service_date,hours,amount_charged"
	invHeader  = "invoice_id,employee_id,dependent_id,provider_id,care_type,service_date,amount_charged,employee_signed_on,provider_signed_on,received_on,hours,payee"
)

func csvOf(lines ...string) []byte { return []byte(strings.Join(lines, "\n") + "\n") }

func TestReadCSVHeader(t *testing.T) {
	opt := ingest.Options{Arrived: arrived}

	t.Run("case_insensitive_after_trimming", func(t *testing.T) {
		rep, recs := readBytes(t, "deps.csv", csvOf(
			`"  Employee_ID ",DEPENDENT_ID,First_Name, last_name ,Birth_Date,RELATIONSHIP`,
			"E1,D1,Mia,Alvarez,2020-05-05,Child",
		), opt)
		tr := only(t, rep)
		if tr.Kind != ingest.Dependents || tr.Rejected != "" || len(tr.Warnings) != 0 {
			t.Fatalf("Kind %q Rejected %q Warnings %q", tr.Kind, tr.Rejected, tr.Warnings)
		}
		wantErrors(t, tr.Errors, nil)
		want := core.Dependent{EmployeeID: "E1", ID: "D1", FirstName: "Mia", LastName: "Alvarez", BirthDate: date(t, "2020-05-05"), Relationship: "child"}
		if len(recs) != 1 || !reflect.DeepEqual(*recs[0].Dependent, want) {
			t.Fatalf("records %+v", recs)
		}
	})

	t.Run("bom_and_crlf", func(t *testing.T) {
		b := []byte("\ufeffprovider_id,name\r\nP1,Sunny Days\r\n\r\n")
		rep, recs := readBytes(t, "prov.csv", b, opt)
		tr := only(t, rep)
		if tr.Kind != ingest.Providers || tr.Rows != 1 || len(recs) != 1 {
			t.Fatalf("Kind %q Rows %d Rejected %q", tr.Kind, tr.Rows, tr.Rejected)
		}
		if p := recs[0].Provider; p.ID != "P1" || p.Name != "Sunny Days" {
			t.Fatalf("provider %+v", p)
		}
	})

	// Spreadsheet programs may quote every header cell; the byte-order mark
	// then sits right before the opening quote.
	t.Run("bom_before_quoted_header", func(t *testing.T) {
		b := []byte("\ufeff\"provider_id\",\"name\"\r\n\"P1\",\"Sunny Days\"\r\n")
		rep, recs := readBytes(t, "prov.csv", b, opt)
		tr := only(t, rep)
		if tr.Kind != ingest.Providers || tr.Rejected != "" || len(recs) != 1 {
			t.Fatalf("Kind %q Rejected %q records %d", tr.Kind, tr.Rejected, len(recs))
		}
	})

	t.Run("unknown_columns_warned_and_ignored", func(t *testing.T) {
		rep, recs := readBytes(t, "prov.csv", csvOf("provider_id,Notes,name, Extra ", "P1,call first,Sunny,x"), opt)
		tr := only(t, rep)
		if want := []string{"unknown columns ignored: extra, notes"}; !reflect.DeepEqual(tr.Warnings, want) {
			t.Fatalf("Warnings = %q, want %q", tr.Warnings, want)
		}
		if len(recs) != 1 || recs[0].Provider.Name != "Sunny" {
			t.Fatalf("records %+v", recs)
		}
	})

	t.Run("missing_required_column_rejects_whole_table", func(t *testing.T) {
		// A statement without its hours column.
		rep, recs := readBytes(t, "st.csv", csvOf(
			"statement_id,provider_id,period,employee_id,dependent_id,care_type,service_date,amount_charged",
			"S1,P1,2026-03,E1,D1,center,2026-03-09,120.00",
		), opt)
		tr := only(t, rep)
		if want := "header matches no input kind; closest is statements, which lacks hours"; tr.Rejected != want {
			t.Fatalf("Rejected = %q, want %q", tr.Rejected, want)
		}
		if tr.Kind != "" || tr.Rows != 0 || len(recs) != 0 || !rep.Rejected() || rep.Kinds() != nil {
			t.Fatalf("Kind %q Rows %d visited %d", tr.Kind, tr.Rows, len(recs))
		}
	})

	t.Run("missing_columns_all_named", func(t *testing.T) {
		rep, _ := readBytes(t, "inv.csv", csvOf(
			"invoice_id,employee_id,dependent_id,provider_id,care_type,service_date,amount_charged,received_on",
			"I1,E1,D1,P1,center,2026-03-09,120.00,2026-03-10",
		), opt)
		want := "header matches no input kind; closest is invoices, which lacks employee_signed_on, provider_signed_on"
		if tr := only(t, rep); tr.Rejected != want {
			t.Fatalf("Rejected = %q, want %q", tr.Rejected, want)
		}
	})

	// As in a workbook, blank rows above the header are skipped and the rows
	// keep the numbers a spreadsheet shows.
	t.Run("leading_blank_lines_before_header", func(t *testing.T) {
		rep, recs := readBytes(t, "prov.csv", []byte("\ufeff\r\n\r\nprovider_id,name\r\nP1,\r\n"), opt)
		tr := only(t, rep)
		if tr.Kind != ingest.Providers || tr.Rejected != "" || tr.Rows != 1 || len(recs) != 1 {
			t.Fatalf("Kind %q Rejected %q Rows %d visited %d", tr.Kind, tr.Rejected, tr.Rows, len(recs))
		}
		wantErrors(t, tr.Errors, []core.RowError{{File: "prov.csv", Row: 4, Column: "name", Msg: "is blank; a value is required"}})
	})

	t.Run("quoting_error_in_header_after_blank_line", func(t *testing.T) {
		for _, tc := range []struct{ name, in string }{
			{"alone", "\n\"provider_id\"x,name\n"},
			{"with_rows", "\n\"provider_id\"x,name\nP1,Sunny\n"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				rep, recs := readBytes(t, "prov.csv", []byte(tc.in), opt)
				tr := only(t, rep)
				bad := !strings.HasPrefix(tr.Rejected, "header row") || !strings.Contains(tr.Rejected, "not valid CSV")
				if bad || tr.Kind != "" || tr.Rows != 0 || len(tr.Errors) != 0 || len(recs) != 0 {
					t.Fatalf("Rejected %q Kind %q Rows %d Errors %v visited %d", tr.Rejected, tr.Kind, tr.Rows, tr.Errors, len(recs))
				}
			})
		}
	})

	t.Run("empty_file", func(t *testing.T) {
		rep, recs := readBytes(t, "empty.csv", nil, opt)
		if tr := only(t, rep); tr.Rejected != "empty: no header row" || len(recs) != 0 || !rep.Rejected() {
			t.Fatalf("Rejected = %q", tr.Rejected)
		}
	})

	t.Run("header_only", func(t *testing.T) {
		rep, recs := readBytes(t, "st.csv", csvOf(stmtHeader), opt)
		if tr := only(t, rep); tr.Kind != ingest.Statements || tr.Rows != 0 || tr.Rejected != "" || len(recs) != 0 {
			t.Fatalf("Kind %q Rows %d Rejected %q", tr.Kind, tr.Rows, tr.Rejected)
		}
	})
}

func TestReadCSVRows(t *testing.T) {
	opt := ingest.Options{Arrived: arrived}

	t.Run("blank_rows_skipped", func(t *testing.T) {
		rep, recs := readBytes(t, "st.csv", csvOf(
			stmtHeader,
			"S1,P1,2026-03,E1,D1,center,2026-03-09,,120.00",
			",,,,,,,,",
			"   ,  ,,,,,,,",
			"S1,P1,2026-03,E1,D1,center,2026-03-10,x,120.00",
			",,,,,,,,",
		), opt)
		tr := only(t, rep)
		if tr.Rows != 2 || tr.RejectedRows != 1 || len(recs) != 2 {
			t.Fatalf("Rows %d RejectedRows %d visited %d; want 2, 1, 2", tr.Rows, tr.RejectedRows, len(recs))
		}
		wantErrors(t, tr.Errors, []core.RowError{{File: "st.csv", Row: 5, Column: "hours", Value: "x", Msg: "want a number of hours like 4.5, at most two decimals"}})
		if recs[0].Row != 2 || recs[1].Row != 5 {
			t.Fatalf("rows %d, %d; want 2, 5", recs[0].Row, recs[1].Row)
		}
	})

	// An empty line is a row in a spreadsheet too: the rows after it keep
	// the numbers the person fixing the file sees.
	t.Run("empty_line_keeps_row_numbers", func(t *testing.T) {
		rep, recs := readBytes(t, "st.csv", csvOf(
			stmtHeader,
			"S1,P1,2026-03,E1,D1,center,2026-03-09,,120.00",
			"",
			"S1,P1,2026-03,E1,D1,center,2026-03-10,x,120.00",
		), opt)
		tr := only(t, rep)
		if tr.Rows != 2 || len(recs) != 2 {
			t.Fatalf("Rows %d visited %d; want 2, 2", tr.Rows, len(recs))
		}
		wantErrors(t, tr.Errors, []core.RowError{{File: "st.csv", Row: 4, Column: "hours", Value: "x", Msg: "want a number of hours like 4.5, at most two decimals"}})
		if recs[1].Row != 4 {
			t.Fatalf("second record at row %d, want 4", recs[1].Row)
		}
	})

	// A quoted value may hold a line break; it is still one spreadsheet row.
	t.Run("quoted_line_break_is_one_row", func(t *testing.T) {
		rep, recs := readBytes(t, "prov.csv", csvOf(
			"provider_id,name,address_line1",
			"P1,Sunny,\"500 Market St\nSuite 4\"",
			"P2,,x",
		), opt)
		wantErrors(t, only(t, rep).Errors, []core.RowError{{File: "prov.csv", Row: 3, Column: "name", Msg: "is blank; a value is required"}})
		if len(recs) != 2 || recs[0].Provider.Address.Line1 != "500 Market St\nSuite 4" {
			t.Fatalf("records %+v", recs)
		}
	})

	t.Run("quoting_error_rejects_only_its_row", func(t *testing.T) {
		rep, recs := readBytes(t, "inv.csv", csvOf(
			invHeader,
			"I1,E1,D1,P1,center,2026-03-02,100.00,2026-03-03,2026-03-03,2026-03-04,,",
			`I2,E1,D1,P1,cen"ter,2026-03-03,100.00,2026-03-04,2026-03-04,2026-03-05,,`,
			"I3,E1,D1,P1,center,2026-03-04,100.00,2026-03-05,2026-03-05,2026-03-06,,",
		), opt)
		tr := only(t, rep)
		if tr.Kind != ingest.Invoices || tr.Rows != 3 || tr.RejectedRows != 1 || tr.Taken() != 2 {
			t.Fatalf("Kind %q Rows %d RejectedRows %d", tr.Kind, tr.Rows, tr.RejectedRows)
		}
		if len(tr.Errors) != 1 {
			t.Fatalf("errors %v", tr.Errors)
		}
		if e := tr.Errors[0]; e.File != "inv.csv" || e.Row != 3 || !strings.Contains(e.Msg, "not valid CSV") {
			t.Fatalf("error %+v", e)
		}
		// The broken row is still a service line, with no values, so that
		// it is decided INVALID_ROW.
		if len(recs) != 3 || recs[0].Line.Ref != "I1" || recs[1].Row != 3 || !recs[1].Line.Invalid() || recs[2].Line.Ref != "I3" || recs[2].Row != 4 {
			t.Fatalf("records %+v", recs)
		}
	})

	// The person fixing the file needs the column, not a byte offset.
	t.Run("quoting_error_names_its_column", func(t *testing.T) {
		rep, _ := readBytes(t, "inv.csv", csvOf(
			invHeader,
			`I2,E1,D1,P1,cen"ter,2026-03-03,100.00,2026-03-04,2026-03-04,2026-03-05,,`,
			`I3,E1,D1,P1,center,2026-03-03,"100.00"x,2026-03-04,2026-03-04,2026-03-05,,`,
		), opt)
		var got []string
		for _, e := range only(t, rep).Errors {
			got = append(got, fmt.Sprintf("%d:%s", e.Row, e.Column))
		}
		if want := []string{"2:care_type", "3:amount_charged"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("quoting errors at %q, want %q", got, want)
		}
	})

	// A row of another length than the header would put values in the
	// wrong columns: it is not read, whether fields are missing or extra.
	t.Run("ragged_rows_rejected_with_both_counts", func(t *testing.T) {
		rep, recs := readBytes(t, "prov.csv", csvOf("provider_id,name,email", "P1", "P2,Sunny,a@b.c", "P3,Sunny, Days,a@b.c"), opt)
		tr := only(t, rep)
		msg := " where the header has 3; a value may hold an unquoted comma, or a field is missing"
		wantErrors(t, tr.Errors, []core.RowError{
			{File: "prov.csv", Row: 2, Column: "name", Msg: "has 1 field" + msg},
			{File: "prov.csv", Row: 4, Column: "column D", Msg: "has 4 fields" + msg},
		})
		if tr.Rows != 3 || tr.Taken() != 1 || len(recs) != 1 || recs[0].Provider.ID != "P2" {
			t.Fatalf("Rows %d Taken %d records %+v", tr.Rows, tr.Taken(), recs)
		}
	})

	// A ragged service line is still a line, to be rejected INVALID_ROW.
	t.Run("ragged_line_passed_on_invalid", func(t *testing.T) {
		rep, recs := readBytes(t, "st.csv", csvOf(stmtHeader,
			"S1,P1,2026-03,E1,D1,center,2026-03-09,,120.00,extra",
			"S1,P1,2026-03,E1,D1,center,2026-03-10,,120.00"), opt)
		tr := only(t, rep)
		wantErrors(t, tr.Errors, []core.RowError{{File: "st.csv", Row: 2, Column: "column J", Msg: "has 10 fields where the header has 9; a value may hold an unquoted comma, or a field is missing"}})
		if len(recs) != 2 || !recs[0].Line.Invalid() || recs[1].Line.Invalid() || recs[1].Row != 3 {
			t.Fatalf("records %+v", recs)
		}
	})

	t.Run("every_bad_value_of_a_row_reported", func(t *testing.T) {
		rep, recs := readBytes(t, "inv.csv", csvOf(
			invHeader,
			"I1,E1,,P1,daycare,2026-02-30,-5.00,yesterday,2026-03-03,,4.333,boss",
		), opt)
		tr := only(t, rep)
		f := "inv.csv"
		wantErrors(t, tr.Errors, []core.RowError{
			{File: f, Row: 2, Column: "dependent_id", Msg: "is blank; a value is required"},
			{File: f, Row: 2, Column: "care_type", Value: "daycare", Msg: "want one of center, family_child_care, in_home, adult_care"},
			{File: f, Row: 2, Column: "service_date", Value: "2026-02-30", Msg: wantDate},
			{File: f, Row: 2, Column: "amount_charged", Value: "-5.00", Msg: "must not be negative"},
			{File: f, Row: 2, Column: "hours", Value: "4.333", Msg: "want a number of hours like 4.5, at most two decimals"},
			{File: f, Row: 2, Column: "employee_signed_on", Value: "yesterday", Msg: wantDate},
			{File: f, Row: 2, Column: "received_on", Msg: "is blank; want a date like 2026-03-09"},
			{File: f, Row: 2, Column: "payee", Value: "boss", Msg: "want one of employee, provider"},
		})
		if tr.Rows != 1 || tr.RejectedRows != 1 || len(recs) != 1 {
			t.Fatalf("Rows %d RejectedRows %d visited %d", tr.Rows, tr.RejectedRows, len(recs))
		}
		l := recs[0].Line
		if !l.Invalid() || len(l.Errors) != 8 || l.Charged != 0 || !l.ServiceDate.IsZero() || l.Payee != "" {
			t.Fatalf("line %+v", l)
		}
	})

	t.Run("max_errors_counts_the_rest", func(t *testing.T) {
		rep, _ := readBytes(t, "st.csv", csvOf(
			stmtHeader,
			"S1,P1,2026-03,E1,D1,center,2026-03-09,x,120.00",
			"S1,P1,2026-03,E1,D1,center,2026-03-09,y,120.00",
			"S1,P1,2026-03,E1,D1,center,2026-03-09,z,120.00",
		), ingest.Options{MaxErrors: 2})
		tr := only(t, rep)
		if len(tr.Errors) != 2 || tr.MoreErrors != 1 || tr.RejectedRows != 3 {
			t.Fatalf("Errors %d MoreErrors %d RejectedRows %d; want 2, 1, 3", len(tr.Errors), tr.MoreErrors, tr.RejectedRows)
		}
	})

	t.Run("max_errors_counts_csv_quoting_errors", func(t *testing.T) {
		rep, _ := readBytes(t, "st.csv", csvOf(
			stmtHeader,
			`S1,P1,2026-03,E1,D1,cen"ter,2026-03-09,,120.00`,
			`S1,P1,2026-03,E1,D1,cen"ter,2026-03-10,,120.00`,
		), ingest.Options{MaxErrors: 1})
		tr := only(t, rep)
		if len(tr.Errors) != 1 || tr.MoreErrors != 1 || tr.RejectedRows != 2 {
			t.Fatalf("Errors %d MoreErrors %d RejectedRows %d; want 1, 1, 2", len(tr.Errors), tr.MoreErrors, tr.RejectedRows)
		}
	})

	t.Run("visit_error_stops_and_is_returned", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "st.csv")
		writeFile(t, p, csvOf(stmtHeader,
			"S1,P1,2026-03,E1,D1,center,2026-03-09,,120.00",
			"S1,P1,2026-03,E1,D1,center,2026-03-10,,120.00"))
		stop := errors.New("stop")
		n := 0
		_, err := ingest.ReadFile(context.Background(), p, "st.csv", ingest.Options{}, func(*ingest.Record) error {
			n++
			return stop
		})
		if !errors.Is(err, stop) || n != 1 {
			t.Fatalf("err %v after %d visits; want stop after 1", err, n)
		}
	})

	t.Run("missing_file_is_an_error", func(t *testing.T) {
		_, err := ingest.ReadFile(context.Background(), filepath.Join(t.TempDir(), "nope.csv"), "nope.csv", ingest.Options{}, func(*ingest.Record) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "nope.csv") {
			t.Fatalf("err = %v, want one naming nope.csv", err)
		}
	})
}

func TestReadStatementRows(t *testing.T) {
	opt := ingest.Options{Arrived: arrived}

	t.Run("service_date_outside_period", func(t *testing.T) {
		rep, recs := readBytes(t, "st.csv", csvOf(
			stmtHeader,
			"S1,P1,2026-03,E1,D1,center,2026-04-01,,120.00",
			"S1,P1,2026-03,E1,D1,center,2026-02-28,,120.00",
			"S1,P1,2026-03,E1,D1,center,2026-03-31,,120.00",
		), opt)
		tr := only(t, rep)
		wantErrors(t, tr.Errors, []core.RowError{
			{File: "st.csv", Row: 2, Column: "service_date", Value: "2026-04-01", Msg: "is outside the statement period 2026-03"},
			{File: "st.csv", Row: 3, Column: "service_date", Value: "2026-02-28", Msg: "is outside the statement period 2026-03"},
		})
		if tr.RejectedRows != 2 || len(recs) != 3 || recs[2].Line.Invalid() {
			t.Fatalf("RejectedRows %d visited %d", tr.RejectedRows, len(recs))
		}
		if l := recs[0].Line; l.ServiceDate != date(t, "2026-04-01") || l.Period != (core.Period{Year: 2026, Month: 3}) {
			t.Fatalf("line %+v", l)
		}
	})

	t.Run("bad_period", func(t *testing.T) {
		rep, _ := readBytes(t, "st.csv", csvOf(
			stmtHeader,
			"S1,P1,March,E1,D1,center,2026-03-09,,120.00",
			"S1,P1,,E1,D1,center,2026-03-09,,120.00",
		), opt)
		wantErrors(t, only(t, rep).Errors, []core.RowError{
			{File: "st.csv", Row: 2, Column: "period", Value: "March", Msg: "want a month like 2026-03"},
			{File: "st.csv", Row: 3, Column: "period", Msg: "is blank; want a month like 2026-03"},
		})
	})

	t.Run("received_on_defaults_to_arrival", func(t *testing.T) {
		_, recs := readBytes(t, "st.csv", csvOf(
			stmtHeader+",received_on",
			"S1,P1,2026-03,E1,D1,center,2026-03-09,,120.00,",
			"S1,P1,2026-03,E1,D1,center,2026-03-10,,120.00,2026-04-02",
		), opt)
		if got := recs[0].Line.ReceivedOn; got != arrived {
			t.Errorf("blank received_on = %s, want arrival %s", got, arrived)
		}
		if got := recs[1].Line.ReceivedOn; got != date(t, "2026-04-02") {
			t.Errorf("received_on = %s, want 2026-04-02", got)
		}
	})

	t.Run("received_on_column_absent", func(t *testing.T) {
		_, recs := readBytes(t, "st.csv", csvOf(stmtHeader, "S1,P1,2026-03,E1,D1,center,2026-03-09,,120.00"), opt)
		if got := recs[0].Line.ReceivedOn; got != arrived {
			t.Errorf("received_on = %s, want arrival %s", got, arrived)
		}
	})

	t.Run("hours_blank_for_day_care", func(t *testing.T) {
		rep, recs := readBytes(t, "st.csv", csvOf(
			stmtHeader,
			"S1,P1,2026-03,E1,D1,center,2026-03-09,,120.00",
			"S1,P1,2026-03,E1,D1,family_child_care,2026-03-10, ,90.00",
			"S1,P1,2026-03,E1,D2,adult_care,2026-03-10,,90.00",
		), opt)
		wantErrors(t, only(t, rep).Errors, nil)
		for _, r := range recs {
			if r.Line.HasHours || r.Line.Hours != 0 || r.Line.Invalid() {
				t.Errorf("row %d: HasHours %v Hours %d errors %v", r.Row, r.Line.HasHours, r.Line.Hours, r.Line.Errors)
			}
		}
	})

	t.Run("line_id_and_mileage_kept", func(t *testing.T) {
		_, recs := readBytes(t, "st.csv", csvOf(
			stmtHeader+",line_id,mileage",
			"S1,P1,2026-03,E1,D1,In_Home,2026-03-09,4.5,63.00,L7,12.5",
		), opt)
		l := recs[0].Line
		if l.Invalid() || l.LineID != "L7" || l.Mileage != "12.5" || l.CareType != core.CareInHome || l.Hours != 450 || !l.HasHours || l.Charged != 6300 {
			t.Fatalf("line %+v", l)
		}
	})
}

func TestReadInvoiceRows(t *testing.T) {
	opt := ingest.Options{Arrived: arrived}
	rep, recs := readBytes(t, "inv.csv", csvOf(
		invHeader,
		"I1,E1,D1,P1,center,2026-03-02,100.00,2026-03-03,2026-03-03,2026-03-04,,",
		"I1,E1,D1,P1,center,2026-03-03,100.00,2026-03-04,2026-03-04,2026-03-05,,Employee",
		"I1,E1,D1,P1,center,2026-03-04,100.00,2026-03-05,2026-03-05,2026-03-06,,PROVIDER ",
		"I1,E1,D1,P1,center,2026-03-05,100.00,2026-03-06,2026-03-06,2026-03-07,,employer",
		"I2,E1,D1,P1,in_home,2026-03-05,$80,,,2026-03-07,8,",
	), opt)
	tr := only(t, rep)
	wantErrors(t, tr.Errors, []core.RowError{
		{File: "inv.csv", Row: 5, Column: "payee", Value: "employer", Msg: "want one of employee, provider"},
	})
	t.Run("payee_values", func(t *testing.T) {
		want := []string{"", core.PayeeEmployee, core.PayeeProvider, ""}
		for i, w := range want {
			if got := recs[i].Line.Payee; got != w {
				t.Errorf("row %d payee %q, want %q", recs[i].Row, got, w)
			}
		}
	})
	t.Run("received_on_not_defaulted", func(t *testing.T) {
		for _, r := range recs {
			if r.Line.ReceivedOn == arrived {
				t.Errorf("row %d took the arrival date", r.Row)
			}
		}
	})
	t.Run("unsigned_is_not_a_row_error", func(t *testing.T) {
		l := recs[4].Line
		if l.Invalid() || !l.EmployeeSignedOn.IsZero() || !l.ProviderSignedOn.IsZero() || l.Charged != 8000 || l.Hours != 800 {
			t.Fatalf("line %+v", l)
		}
	})
}
