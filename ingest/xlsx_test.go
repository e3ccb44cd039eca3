package ingest_test

import (
	"archive/zip"
	"bytes"
	"context"
	"io"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"carepay/core"
	"carepay/ingest"
)

// sheet is one worksheet to write: cells by reference, such as "A1".
type sheet struct {
	name  string
	cells map[string]any
}

// writeXLSX builds a workbook in a temp folder and returns its path.
func writeXLSX(t *testing.T, date1904 bool, sheets ...sheet) string {
	t.Helper()
	f := excelize.NewFile()
	defer f.Close()
	if date1904 {
		on := true
		if err := f.SetWorkbookProps(&excelize.WorkbookPropsOptions{Date1904: &on}); err != nil {
			t.Fatal(err)
		}
	}
	dateStyle, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range sheets {
		if i == 0 {
			if err := f.SetSheetName("Sheet1", s.name); err != nil {
				t.Fatal(err)
			}
		} else if _, err := f.NewSheet(s.name); err != nil {
			t.Fatal(err)
		}
		for ref, v := range s.cells {
			switch v := v.(type) {
			case serial: // a native date cell: a number shown as a date
				if err := f.SetCellValue(s.name, ref, float64(v)); err != nil {
					t.Fatal(err)
				}
				if err := f.SetCellStyle(s.name, ref, ref, dateStyle); err != nil {
					t.Fatal(err)
				}
			case noisy: // a float stored with binary noise
				if err := f.SetCellFloat(s.name, ref, float64(v), -1, 64); err != nil {
					t.Fatal(err)
				}
			default:
				if err := f.SetCellValue(s.name, ref, v); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	p := filepath.Join(t.TempDir(), "book.xlsx")
	if err := f.SaveAs(p); err != nil {
		t.Fatal(err)
	}
	return p
}

type (
	serial float64
	noisy  float64
)

// row fills cells of one row from column A.
func row(cells map[string]any, n int, values ...any) {
	for i, v := range values {
		if v == nil {
			continue
		}
		ref, _ := excelize.CoordinatesToCellName(i+1, n)
		cells[ref] = v
	}
}

func TestReadXLSX(t *testing.T) {
	opt := ingest.Options{Arrived: arrived}
	stmtCols := []any{"Statement_ID", "Provider_ID", "Period", "Employee_ID", "Dependent_ID", "Care_Type", "Service_Date", "Hours", "Amount_Charged", "Received_On"}

	t.Run("sheets_read_apart_and_rows_numbered_as_shown", func(t *testing.T) {
		st := map[string]any{}
		row(st, 2, stmtCols...) // a blank row 1 above the header
		row(st, 3, "S1", "P1", "2026-03", "E1", "D1", "center", serial(46090), nil, 120.5, nil)
		// rows 4 and 5 left empty
		row(st, 6, "S1", "P1", "2026-03", "E1", "D1", "in_home", "3/10/2026", 4.5, "abc", serial(46118))
		notes := map[string]any{}
		row(notes, 1, "note", "author")
		row(notes, 2, "call P02", "ops")
		prov := map[string]any{}
		row(prov, 1, "provider_id", "name")
		row(prov, 2, "P1", "Sunny")
		p := writeXLSX(t, false, sheet{"March", st}, sheet{"Notes", notes}, sheet{"Providers", prov}, sheet{"Empty", map[string]any{}})

		rep, recs := read(t, p, "book.xlsx", opt)
		if got, want := rep.Kinds(), []ingest.Kind{ingest.Statements, ingest.Providers}; !reflect.DeepEqual(got, want) {
			t.Fatalf("Kinds() = %v, want %v", got, want)
		}
		if rep.Rejected() {
			t.Fatal("Rejected() = true with two readable sheets")
		}
		march := table(t, rep, "book.xlsx#March")
		if march.Rows != 2 || march.RejectedRows != 1 {
			t.Errorf("March: Rows %d RejectedRows %d; want 2, 1", march.Rows, march.RejectedRows)
		}
		wantErrors(t, march.Errors, []core.RowError{{File: "book.xlsx#March", Row: 6, Column: "amount_charged", Value: "abc", Msg: wantMoney}})
		if n := table(t, rep, "book.xlsx#Notes").Rejected; !strings.HasPrefix(n, "header matches no input kind") {
			t.Errorf("Notes: Rejected = %q", n)
		}
		if e := table(t, rep, "book.xlsx#Empty").Rejected; e != "empty sheet: no header row" {
			t.Errorf("Empty: Rejected = %q", e)
		}
		if tr := table(t, rep, "book.xlsx#Providers"); tr.Rows != 1 || tr.Kind != ingest.Providers {
			t.Errorf("Providers: Kind %q Rows %d", tr.Kind, tr.Rows)
		}
		l := record(t, recs, "book.xlsx#March", 3).Line
		if l.ServiceDate != date(t, "2026-03-09") || l.Charged != 12050 || l.HasHours || l.ReceivedOn != arrived {
			t.Errorf("row 3 = date %s charged %d hours %v received %s", l.ServiceDate, l.Charged, l.HasHours, l.ReceivedOn)
		}
		l = record(t, recs, "book.xlsx#March", 6).Line
		if l.ServiceDate != date(t, "2026-03-10") || l.Hours != 450 || l.ReceivedOn != date(t, "2026-04-06") {
			t.Errorf("row 6 = date %s hours %d received %s", l.ServiceDate, l.Hours, l.ReceivedOn)
		}
	})

	t.Run("time_cell_becomes_its_date", func(t *testing.T) {
		st := map[string]any{}
		row(st, 1, stmtCols...)
		row(st, 2, "S1", "P1", "2026-03", "E1", "D1", "center", time.Date(2026, 3, 9, 0, 0, 0, 0, time.UTC), nil, 120, nil)
		_, recs := read(t, writeXLSX(t, false, sheet{"S", st}), "book.xlsx", opt)
		if len(recs) != 1 || recs[0].Line.ServiceDate != date(t, "2026-03-09") || recs[0].Line.Invalid() {
			t.Fatalf("records %+v", recs)
		}
	})

	t.Run("date1904_workbook", func(t *testing.T) {
		st := map[string]any{}
		row(st, 1, stmtCols...)
		row(st, 2, "S1", "P1", "2026-03", "E1", "D1", "center", serial(44628), nil, 120, nil)
		_, recs := read(t, writeXLSX(t, true, sheet{"S", st}), "book.xlsx", opt)
		if len(recs) != 1 || recs[0].Line.ServiceDate != date(t, "2026-03-09") {
			t.Fatalf("service date %s, want 2026-03-09", recs[0].Line.ServiceDate)
		}
	})

	t.Run("numeric_cells_with_binary_noise", func(t *testing.T) {
		st := map[string]any{}
		row(st, 1, stmtCols...)
		// 0.1+0.2 is stored as 0.30000000000000004; 4.1*3 as 12.299999999999999.
		row(st, 2, "S1", "P1", "2026-03", "E1", "D1", "in_home", serial(46090), noisy(4.1*3), noisy(0.1+0.2), nil)
		row(st, 3, "S1", "P1", "2026-03", "E1", "D1", "in_home", serial(46090), 4.125, 10.005, nil)
		rep, recs := read(t, writeXLSX(t, false, sheet{"S", st}), "book.xlsx", opt)
		l := recs[0].Line
		if l.Invalid() || l.Charged != 30 || l.Hours != 1230 {
			t.Errorf("row 2 = charged %d hours %d errors %v; want 30 and 1230", l.Charged, l.Hours, l.Errors)
		}
		wantErrors(t, only(t, rep).Errors, []core.RowError{
			{File: "book.xlsx#S", Row: 3, Column: "amount_charged", Value: "10.005", Msg: wantMoney},
			{File: "book.xlsx#S", Row: 3, Column: "hours", Value: "4.125", Msg: "want a number of hours like 4.5, at most two decimals"},
		})
	})

	t.Run("not_a_workbook", func(t *testing.T) {
		rep, recs := readBytes(t, "fake.xlsx", []byte("PK\x03\x04this is no zip at all"), opt)
		tr := only(t, rep)
		if !strings.HasPrefix(tr.Rejected, "not a readable XLSX workbook: ") || tr.Source != "fake.xlsx" || len(recs) != 0 {
			t.Fatalf("Rejected %q Source %q", tr.Rejected, tr.Source)
		}
	})
}

func TestReadBinaryRejected(t *testing.T) {
	tests := []struct {
		name string
		data []byte
	}{
		{"pdf", []byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\nstream\n\x00\x01\x02\x89\xff\nendstream\n")},
		{"pdf_longer_than_sniffed_head", append([]byte("%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"), make([]byte, 4096)...)},
		{"png", []byte("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x10")},
		{"jpeg", []byte("\xff\xd8\xff\xe0\x00\x10JFIF\x00")},
		{"tiff_scan", []byte("II*\x00\x08\x00\x00\x00")},
		// Compressed content: control bytes throughout.
		{"many_control_bytes", bytes.Repeat([]byte("ab\x01\x02\x03\x1f\x00\x8e\xfe\xc3"), 50)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rep, recs := readBytes(t, "scan.pdf", tc.data, ingest.Options{})
			tr := only(t, rep)
			want := "not a CSV or XLSX file (binary content); key it in by hand or send it as CSV or XLSX"
			if tr.Rejected != want || tr.Kind != "" || tr.Source != "scan.pdf" || !rep.Rejected() || len(recs) != 0 {
				t.Fatalf("Rejected %q Kind %q visited %d", tr.Rejected, tr.Kind, len(recs))
			}
		})
	}

	t.Run("old_excel_workbook", func(t *testing.T) {
		rep, _ := readBytes(t, "roster.xls", []byte("\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1\x00\x00"), ingest.Options{})
		want := "an Excel 97-2003 (.xls) or password-protected workbook; save it as XLSX without a password, or as CSV"
		if tr := only(t, rep); tr.Rejected != want {
			t.Fatalf("Rejected %q, want %q", tr.Rejected, want)
		}
	})

	// A PDF whose first bytes happen to be plain text is still no table.
	t.Run("pdf_with_text_start", func(t *testing.T) {
		rep, recs := readBytes(t, "scan.pdf", []byte("%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"), ingest.Options{})
		if !rep.Rejected() || len(recs) != 0 || rep.Kinds() != nil {
			t.Fatalf("tables %+v", rep.Tables[0])
		}
	})
}

// rezip copies the workbook at src, passing each part through edit; a part
// edit returns nil for is left out.
func rezip(t *testing.T, src string, edit func(name string, b []byte) []byte) []byte {
	t.Helper()
	zr, err := zip.OpenReader(src)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, f := range zr.File {
		rc, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		if b = edit(f.Name, b); b == nil {
			continue
		}
		w, err := zw.Create(f.Name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A damaged sheet is reported on its table; it neither fails the file nor
// hides the other sheets.
func TestReadXLSXDamagedSheet(t *testing.T) {
	src := filepath.Join(dropDir, "10-registry.xlsx")
	tests := []struct {
		name string
		edit func(name string, b []byte) []byte
	}{
		{"sheet_part_missing", func(name string, b []byte) []byte {
			if name == "xl/worksheets/sheet2.xml" {
				return nil
			}
			return b
		}},
		{"bad_row_number", func(name string, b []byte) []byte {
			if name == "xl/worksheets/sheet2.xml" {
				return bytes.Replace(b, []byte(`<row r="2">`), []byte(`<row r="2x">`), 1)
			}
			return b
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := rezip(t, src, tc.edit)
			p := filepath.Join(t.TempDir(), "reg.xlsx")
			writeFile(t, p, b)
			var provs int
			rep, err := ingest.ReadFile(context.Background(), p, "reg.xlsx", ingest.Options{}, func(r *ingest.Record) error {
				if r.Provider != nil {
					provs++
				}
				return nil
			})
			if err != nil {
				t.Fatalf("ReadFile: %v; want the damage reported on the Dependents table", err)
			}
			deps := table(t, rep, "reg.xlsx#Dependents")
			if deps.Rejected == "" && deps.RejectedRows == 0 {
				t.Errorf("Dependents: damage not reported: %+v", deps)
			}
			if tr := table(t, rep, "reg.xlsx#Providers"); tr.Kind != ingest.Providers || tr.Rows != 3 || provs != 3 {
				t.Errorf("Providers: Kind %q Rows %d visited %d; want providers, 3, 3", tr.Kind, tr.Rows, provs)
			}
		})
	}
}

// TestReadXLSXClearedChecks: the bank's cleared-checks list as a
// workbook, with numbers and a native date: check 100001 as a number,
// 1,360.00 as a number, and serial 46126, which is 2026-04-14 (2026-01-01
// is 46023; January 31, February 28 and March 31 days bring April 1 to
// 46113, April 14 to 46126).
func TestReadXLSXClearedChecks(t *testing.T) {
	cells := map[string]any{}
	row(cells, 1, "Check_Number", "Amount", "Cleared_Date")
	row(cells, 2, 100001, 1360.0, serial(46126))
	p := writeXLSX(t, false, sheet{"Paid", cells})
	rep, recs := read(t, p, "paid.xlsx", ingest.Options{RunDate: core.NewDate(2026, 4, 17)})
	if tb := table(t, rep, "paid.xlsx#Paid"); tb.Kind != ingest.ClearedChecks || tb.RejectedRows != 0 {
		t.Fatalf("kind %q, errors %v", tb.Kind, tb.Errors)
	}
	want := core.ClearedCheck{Row: 2, Number: 100001, Amount: 1360_00, Date: core.NewDate(2026, 4, 14)}
	if len(recs) != 1 || recs[0].Cleared == nil || *recs[0].Cleared != want {
		t.Fatalf("records %+v, want %+v", recs, want)
	}
}
