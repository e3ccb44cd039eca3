package ingest_test

import (
	"encoding/binary"
	"reflect"
	"strings"
	"testing"
	"unicode/utf16"

	"carepay/core"
	"carepay/ingest"
)

const rosterHeader = "employee_id,first_name,last_name,plan_id,employment_type,annual_income,enrolled_on,city"

// utf16Bytes encodes s as UTF-16 with a byte-order mark (unless bom is
// false), little- or big-endian.
func utf16Bytes(s string, big, bom bool) []byte {
	units := utf16.Encode([]rune(s))
	if bom {
		units = append([]uint16{0xfeff}, units...)
	}
	out := make([]byte, 2*len(units))
	for i, u := range units {
		if big {
			binary.BigEndian.PutUint16(out[2*i:], u)
		} else {
			binary.LittleEndian.PutUint16(out[2*i:], u)
		}
	}
	return out
}

// TestReadEncodings drops rosters as spreadsheet programs save them: each
// is decoded, its rows taken with their accents, and its acknowledgement
// warns which encoding was read.
func TestReadEncodings(t *testing.T) {
	opt := ingest.Options{Arrived: arrived}
	roster := rosterHeader + "\r\n" +
		"E1,José,Núñez,p,casual,1,2025-01-01,Montréal\r\n" +
		"E2,Zoë,Ångström,p,casual,1,2025-01-01,Köln\r\n"
	// Windows-1252: é E9, ú FA, ñ F1, ë EB, Å C5, ö F6.
	cp1252 := []byte(rosterHeader + "\r\n" +
		"E1,Jos\xe9,N\xfa\xf1ez,p,casual,1,2025-01-01,Montr\xe9al\r\n" +
		"E2,Zo\xeb,\xc5ngstr\xf6m,p,casual,1,2025-01-01,K\xf6ln\r\n")
	tabbed := strings.ReplaceAll(roster, ",", "\t")
	const (
		wantCP1252 = "file is not UTF-8; read as Windows-1252 (what spreadsheet programs write as CSV): check accented names, or save as CSV UTF-8"
		wantLE     = "file is UTF-16 (little-endian); read as such"
		wantBE     = "file is UTF-16 (big-endian); read as such"
		wantTabs   = "fields are separated by tabs, not commas; read as such"
	)
	tests := []struct {
		name     string
		data     []byte
		warnings []string
	}{
		{"utf8", []byte(roster), nil},
		{"utf8_with_bom", []byte("\ufeff" + roster), nil},
		{"windows_1252", cp1252, []string{wantCP1252}},
		{"utf16_le_bom", utf16Bytes(roster, false, true), []string{wantLE}},
		{"utf16_be_bom", utf16Bytes(roster, true, true), []string{wantBE}},
		{"utf16_le_no_bom", utf16Bytes(roster, false, false), []string{"file is UTF-16 (little-endian) without a byte-order mark; read as such"}},
		// What a spreadsheet program saves as "Unicode text".
		{"utf16_le_tab_separated", utf16Bytes(tabbed, false, true), []string{wantLE, wantTabs}},
		{"semicolons", []byte(strings.ReplaceAll(roster, ",", ";")), []string{"fields are separated by semicolons, not commas; read as such"}},
	}
	want := []struct{ first, last, city string }{{"José", "Núñez", "Montréal"}, {"Zoë", "Ångström", "Köln"}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, recs := readBytes(t, "roster.csv", tt.data, opt)
			tr := only(t, rep)
			if tr.Kind != ingest.Employees || tr.Rejected != "" {
				t.Fatalf("Kind %q Rejected %q", tr.Kind, tr.Rejected)
			}
			if !reflect.DeepEqual(tr.Warnings, tt.warnings) {
				t.Errorf("Warnings = %q, want %q", tr.Warnings, tt.warnings)
			}
			wantErrors(t, tr.Errors, nil)
			if len(recs) != 2 || tr.Taken() != 2 {
				t.Fatalf("%d records, %d taken; want 2", len(recs), tr.Taken())
			}
			for i, w := range want {
				e := recs[i].Employee
				if e.FirstName != w.first || e.LastName != w.last || e.Address.City != w.city || recs[i].Row != i+2 {
					t.Errorf("row %d: %q %q %q, want %q %q %q", recs[i].Row, e.FirstName, e.LastName, e.Address.City, w.first, w.last, w.city)
				}
			}
		})
	}
}

// TestReadBadBytes: a NUL byte, or bytes that are no text in the file's
// encoding, reject their row (naming the column), not the file.
func TestReadBadBytes(t *testing.T) {
	opt := ingest.Options{Arrived: arrived}
	const nulMsg = "holds a NUL byte (a binary zero); the file may be damaged or saved in another encoding"

	t.Run("nul_byte_in_roster", func(t *testing.T) {
		rep, recs := readBytes(t, "roster.csv", []byte(rosterHeader+"\n"+
			"E1,Ana,Diaz,p,casual,1,2025-01-01,Troy\n"+
			"E2,Ana,Di\x00az,p,casual,1,2025-01-01,Troy\n"+
			"E3,Ana,Diaz,p,casual,1,2025-01-01,Troy\n"), opt)
		tr := only(t, rep)
		wantErrors(t, tr.Errors, []core.RowError{{File: "roster.csv", Row: 3, Column: "last_name", Value: "Diaz", Msg: nulMsg}})
		if tr.Rows != 3 || tr.Taken() != 2 || len(tr.Warnings) != 0 {
			t.Fatalf("Rows %d Taken %d Warnings %q", tr.Rows, tr.Taken(), tr.Warnings)
		}
		if r := record(t, recs, "roster.csv", 3); len(r.Errors) != 1 {
			t.Fatalf("row 3 errors %v", r.Errors)
		}
	})

	// A NUL in a service line leaves the line in the run, to be rejected
	// INVALID_ROW; its other values are kept.
	t.Run("nul_byte_in_statement_line", func(t *testing.T) {
		rep, recs := readBytes(t, "st.csv", csvOf(stmtHeader,
			"S1,P1,2026-03,E1,D1,center,2026-03-09,,120.00",
			"S1,P1,2026-03,E1\x00,D1,center,2026-03-10,,120.00",
		), opt)
		wantErrors(t, only(t, rep).Errors, []core.RowError{{File: "st.csv", Row: 3, Column: "employee_id", Value: "E1", Msg: nulMsg}})
		l := record(t, recs, "st.csv", 3).Line
		if !l.Invalid() || l.Ref != "S1" || l.EmployeeID != "E1" || l.Charged != 12000 {
			t.Fatalf("line %+v", l)
		}
	})

	t.Run("nul_in_a_column_without_name", func(t *testing.T) {
		rep, _ := readBytes(t, "prov.csv", csvOf("provider_id,name,", "P1,Sunny,x\x00"), opt)
		wantErrors(t, only(t, rep).Errors, []core.RowError{{File: "prov.csv", Row: 2, Column: "column C", Value: "x", Msg: nulMsg}})
	})

	// UTF-8 with a byte no Windows-1252 text holds (0x81): read as UTF-8,
	// the row with the stray byte rejected, the others taken.
	t.Run("invalid_utf8_not_windows_1252", func(t *testing.T) {
		rep, recs := readBytes(t, "roster.csv", []byte(rosterHeader+"\n"+
			"E1,José,Diaz,p,casual,1,2025-01-01,Troy\n"+
			"E2,Ana,Di\x81az,p,casual,1,2025-01-01,Troy\n"), opt)
		tr := only(t, rep)
		wantErrors(t, tr.Errors, []core.RowError{{File: "roster.csv", Row: 3, Column: "last_name", Value: "Di\ufffdaz",
			Msg: "holds bytes that are not UTF-8 text (shown as \ufffd); save the file as CSV UTF-8"}})
		if want := []string{"file holds 1 bytes that are not UTF-8 text; rows holding them are rejected; save the file as CSV UTF-8"}; !reflect.DeepEqual(tr.Warnings, want) {
			t.Errorf("Warnings = %q, want %q", tr.Warnings, want)
		}
		if tr.Taken() != 1 || recs[0].Employee.FirstName != "José" {
			t.Fatalf("Taken %d, first name %q", tr.Taken(), recs[0].Employee.FirstName)
		}
	})

	// A UTF-8 byte-order mark says the file is UTF-8, whatever its other
	// bytes: the row with a Windows-1252 byte is rejected.
	t.Run("utf8_bom_then_windows_1252_byte", func(t *testing.T) {
		rep, recs := readBytes(t, "roster.csv", []byte("\ufeff"+rosterHeader+"\n"+
			"E1,Ana,Diaz,p,casual,1,2025-01-01,Troy\n"+
			"E2,Jos\xe9,Diaz,p,casual,1,2025-01-01,Troy\n"), opt)
		tr := only(t, rep)
		if tr.Kind != ingest.Employees || len(tr.Errors) != 1 || tr.Errors[0].Row != 3 || tr.Errors[0].Column != "first_name" {
			t.Fatalf("Kind %q Rejected %q errors %v", tr.Kind, tr.Rejected, tr.Errors)
		}
		if tr.Taken() != 1 || recs[0].Employee.ID != "E1" {
			t.Fatalf("Taken %d", tr.Taken())
		}
	})

	// Mostly UTF-8 with one stray Windows-1252 byte: the accents written
	// in UTF-8 outnumber it, so the file stays UTF-8.
	t.Run("utf8_with_one_stray_byte", func(t *testing.T) {
		rep, recs := readBytes(t, "roster.csv", []byte(rosterHeader+"\n"+
			"E1,José,Núñez,p,casual,1,2025-01-01,Troy\n"+
			"E2,Ana,Di\xe9z,p,casual,1,2025-01-01,Troy\n"), opt)
		tr := only(t, rep)
		if len(tr.Errors) != 1 || tr.Errors[0].Row != 3 || tr.Errors[0].Column != "last_name" {
			t.Fatalf("errors %v", tr.Errors)
		}
		if recs[0].Employee.LastName != "Núñez" {
			t.Fatalf("last name %q", recs[0].Employee.LastName)
		}
	})

	// One name in UTF-8 and one in Windows-1252, as many stray bytes as
	// accents: any valid UTF-8 accent makes the file UTF-8, so the name
	// written right is kept and the other row is rejected, naming its
	// column, rather than every accent garbled ("ZoÃ« Utf").
	t.Run("utf8_name_and_windows_1252_name", func(t *testing.T) {
		rep, recs := readBytes(t, "providers.csv", []byte("provider_id,name\n"+
			"P40,Zo\u00eb Utf\n"+
			"P41,Zo\xeb Latin\n"), opt)
		tr := only(t, rep)
		wantErrors(t, tr.Errors, []core.RowError{{File: "providers.csv", Row: 3, Column: "name", Value: "Zo\ufffd Latin",
			Msg: "holds bytes that are not UTF-8 text (shown as \ufffd); save the file as CSV UTF-8"}})
		if want := []string{"file holds 1 bytes that are not UTF-8 text; rows holding them are rejected; save the file as CSV UTF-8"}; !reflect.DeepEqual(tr.Warnings, want) {
			t.Errorf("Warnings = %q, want %q", tr.Warnings, want)
		}
		if tr.Taken() != 1 || recs[0].Provider.Name != "Zo\u00eb Utf" {
			t.Fatalf("Taken %d, records %+v", tr.Taken(), recs)
		}
	})
}

// TestReadHeaderProblems: the header names a column twice, sits below a
// title, or matches no kind; each rejects the table with a message saying
// what to fix, briefly.
func TestReadHeaderProblems(t *testing.T) {
	opt := ingest.Options{Arrived: arrived}
	tests := []struct {
		name string
		data string
		want string
	}{
		{"duplicate_column", "provider_id,name,Provider_ID \nP1,Sunny,P2\n",
			`header names column "provider_id" twice (columns A and C); delete or rename one`},
		{"title_row_above_header", "Roster for March 2026,,,,,,\n" + rosterHeader + "\nE1,Ana,Diaz,p,casual,1,2025-01-01,Troy\n",
			"row 1 is a title, not the header: the employees header is at row 2; delete the rows above the header"},
		{"title_and_blank_line_above_header", "Providers\n\n,,\nprovider_id,name\nP1,Sunny\n",
			"row 1 is a title, not the header: the providers header is at row 4; delete the rows above the header"},
		{"no_kind_columns_named_briefly", "Amount,Date,Notes,Who,Total\nx,1,2,3,4\n",
			"header matches no input kind: row 1 names no column carepay reads (amount, date, notes and 2 more); the header must be the first row that is not blank, with columns such as employee_id, provider_id, invoice_id or statement_id"},
		{"closest_kind_briefly", "invoice_id,employee_id,dependent_id\nI1,E1,D1\n",
			"header matches no input kind; closest is invoices, which has 3 of its 10 required columns and lacks provider_id, care_type, service_date and 4 more"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rep, recs := readBytes(t, "drop.csv", []byte(tt.data), opt)
			tr := only(t, rep)
			if tr.Rejected != tt.want || tr.Kind != "" || tr.Rows != 0 || len(recs) != 0 {
				t.Fatalf("Rejected = %q\n    want %q\nKind %q Rows %d visited %d", tr.Rejected, tt.want, tr.Kind, tr.Rows, len(recs))
			}
		})
	}

	// A column carepay does not read may appear twice: it is ignored.
	t.Run("unknown_column_twice_ignored", func(t *testing.T) {
		rep, recs := readBytes(t, "prov.csv", []byte("provider_id,notes,name,notes\nP1,a,Sunny,b\n"), opt)
		tr := only(t, rep)
		if tr.Kind != ingest.Providers || len(recs) != 1 || recs[0].Provider.Name != "Sunny" {
			t.Fatalf("Kind %q Rejected %q records %d", tr.Kind, tr.Rejected, len(recs))
		}
	})

	t.Run("title_row_in_a_workbook", func(t *testing.T) {
		cells := map[string]any{}
		row(cells, 1, "Providers, March 2026")
		row(cells, 3, "provider_id", "name")
		row(cells, 4, "P1", "Sunny")
		rep, recs := read(t, writeXLSX(t, false, sheet{"Providers", cells}), "book.xlsx", opt)
		want := "row 1 is a title, not the header: the providers header is at row 3; delete the rows above the header"
		if tr := only(t, rep); tr.Rejected != want || len(recs) != 0 {
			t.Fatalf("Rejected = %q, want %q", tr.Rejected, want)
		}
	})

	t.Run("duplicate_column_in_a_workbook", func(t *testing.T) {
		cells := map[string]any{}
		row(cells, 1, "provider_id", "name", "email", "Name")
		row(cells, 2, "P1", "Sunny", "a@b.c", "Sunny Days")
		rep, _ := read(t, writeXLSX(t, false, sheet{"Providers", cells}), "book.xlsx", opt)
		want := `header names column "name" twice (columns B and D); delete or rename one`
		if tr := only(t, rep); tr.Rejected != want {
			t.Fatalf("Rejected = %q, want %q", tr.Rejected, want)
		}
	})

	// In a workbook trailing blank cells are left out, so a short row is
	// fine; a value right of the header's last column is not.
	t.Run("value_right_of_header_in_a_workbook", func(t *testing.T) {
		cells := map[string]any{}
		row(cells, 1, "provider_id", "name", "email")
		row(cells, 2, "P1", "Sunny")
		row(cells, 3, "P2", "Sunny", nil, nil, "stray")
		rep, recs := read(t, writeXLSX(t, false, sheet{"Providers", cells}), "book.xlsx", opt)
		tr := only(t, rep)
		wantErrors(t, tr.Errors, []core.RowError{{File: "book.xlsx#Providers", Row: 3, Column: "column E",
			Msg: "has a value right of the header's last column C; the header has 3 columns"}})
		if tr.Taken() != 1 || len(recs) != 1 || recs[0].Provider.ID != "P1" {
			t.Fatalf("Taken %d records %d", tr.Taken(), len(recs))
		}
	})
}

// The column of a quoting error is found in the decoded text, not in the
// file's bytes.
func TestReadQuotingErrorInDecodedFile(t *testing.T) {
	text := invHeader + "\r\n" +
		"I1,E1,D1,P1,center,2026-03-02,100.00,2026-03-03,2026-03-03,2026-03-04,,\r\n" +
		`I2,É1,D1,P1,cen"ter,2026-03-03,100.00,2026-03-04,2026-03-04,2026-03-05,,` + "\r\n"
	for _, tc := range []struct {
		name string
		data []byte
	}{
		{"utf16_le", utf16Bytes(text, false, true)},
		{"windows_1252", []byte(strings.ReplaceAll(text, "É", "\xc9"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rep, recs := readBytes(t, "inv.csv", tc.data, ingest.Options{Arrived: arrived})
			tr := only(t, rep)
			if len(tr.Errors) != 1 || tr.Errors[0].Row != 3 || tr.Errors[0].Column != "care_type" {
				t.Fatalf("errors %v, want one at row 3, care_type", tr.Errors)
			}
			if len(recs) != 2 || recs[0].Line.Invalid() || !recs[1].Line.Invalid() {
				t.Fatalf("records %+v", recs)
			}
		})
	}
}
