package payout

import (
	"archive/zip"
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"carepay/core"
)

// TestXLSXCells writes text XML must escape or cannot hold, numbers and
// money, and reads them back with excelize: every part of the archive is
// well-formed XML, and every cell says what was written.
func TestXLSXCells(t *testing.T) {
	long := strings.Repeat("é", maxCellChars+5)
	emoji := strings.Repeat("😀", maxCellChars) // two UTF-16 units each
	cases := []struct {
		in   any
		want string // as excelize reads it back, raw
	}{
		{"plain", "plain"},
		{"a & b < c > d", "a & b < c > d"},
		{`"quoted" 'single'`, `"quoted" 'single'`},
		{"  two spaces around  ", "  two spaces around  "},
		{"line\nbreak\ttab", "line\nbreak\ttab"},
		{"cr\r\nlf", "cr\r\nlf"},
		{"bell\x07 nul\x00", "bell\uFFFD nul\uFFFD"},
		{"bad \xff utf-8", "bad \uFFFD utf-8"},
		{"Zoë 李 😀", "Zoë 李 😀"},
		{long, long[:2*maxCellChars]},       // é is two bytes, one UTF-16 unit: cut at 32767
		{emoji, emoji[:4*(maxCellChars/2)]}, // 😀 is four bytes, two units: 16383 of them
		// Excel reads _xHHHH_ as the character HHHH: written as text, it
		// stays text (and "=cmd" never appears).
		{"_x003D_cmd|' /C calc'!A0", "_x003D_cmd|' /C calc'!A0"},
		{"a_x0041_b_x00_c_xZZZZ_ _X0041_", "a_x0041_b_x00_c_xZZZZ_ _X0041_"},
		{42, "42"},
		{int64(-7), "-7"},
		{1.25, "1.25"},
		{core.Cents(0), "0"},
		{core.Cents(-10001), "-100.01"},
		{core.Cents(123456789012), "1234567890.12"},
		{nil, ""},
		{"", ""},
	}
	book := newXLSXBook(t.TempDir(), "t & t", "2026-04-10T12:00:00Z")
	defer book.close()
	header := make([]string, len(cases))
	values := make([]any, len(cases))
	for i, c := range cases {
		header[i] = "h" + string(appendColumn(nil, i))
		values[i] = c.in
	}
	s, err := book.addSheet(0, "Cells & <things>", nil, header)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.row(styleNone, values); err != nil {
		t.Fatal(err)
	}
	if err := s.row(styleNone, []any{struct{}{}}); err == nil {
		t.Error("a value of no cell type was written")
	}
	if err := s.finish(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := book.writeTo(&buf); err != nil {
		t.Fatal(err)
	}
	wellFormed(t, buf.Bytes())

	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if got := f.GetSheetList(); len(got) != 1 || got[0] != "Cells & <things>" {
		t.Fatalf("sheets %q", got)
	}
	for i, c := range cases {
		cell := string(appendColumn(nil, i)) + "2"
		got, err := f.GetCellValue("Cells & <things>", cell, excelize.Options{RawCellValue: true})
		if err != nil || got != c.want {
			t.Errorf("%s (%T) = %.40q (%v), want %.40q", cell, c.in, got, err, c.want)
		}
		if _, ok := c.in.(core.Cents); ok {
			if st, _ := f.GetCellStyle("Cells & <things>", cell); st != styleMoney {
				t.Errorf("%s: money in style %d", cell, st)
			}
		}
	}
	if got, _ := f.GetCellValue("Cells & <things>", "R2"); got != "-$100.01" {
		t.Errorf("negative money shows as %q", got)
	}
	if props, err := f.GetDocProps(); err != nil || props.Title != "t & t" || props.Created != "2026-04-10T12:00:00Z" {
		t.Errorf("properties %+v %v", props, err)
	}
}

// TestXLSXColumns: columns past Z are named AA, AB...
func TestXLSXColumns(t *testing.T) {
	for col, want := range map[int]string{0: "A", 25: "Z", 26: "AA", 27: "AB", 51: "AZ", 52: "BA", 701: "ZZ", 702: "AAA"} {
		if got := string(appendColumn(nil, col)); got != want {
			t.Errorf("column %d: %s, want %s", col, got, want)
		}
	}
}

// TestXLSXUnfinished: a workbook with a sheet not finished is not
// written, and its sheets' temporary files never show in the folder (a
// process killed while writing leaves nothing behind).
func TestXLSXUnfinished(t *testing.T) {
	dir := t.TempDir()
	book := newXLSXBook(dir, "t", "2026-04-10T12:00:00Z")
	s, err := book.addSheet(0, "S", nil, []string{"a"})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.row(styleNone, []any{"x"}); err != nil {
		t.Fatal(err)
	}
	if left, _ := listDir(dir); len(left) != 0 {
		t.Errorf("temporary files in the folder while writing: %v", left)
	}
	if err := book.writeTo(io.Discard); err == nil {
		t.Error("a workbook with an unfinished sheet was written")
	}
	book.close()
	if left, _ := listDir(dir); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// wellFormed checks that every part of the archive is well-formed XML.
func wellFormed(t *testing.T, xlsx []byte) {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(xlsx), int64(len(xlsx)))
	if err != nil {
		t.Fatal(err)
	}
	for _, part := range zr.File {
		r, err := part.Open()
		if err != nil {
			t.Fatal(err)
		}
		d := xml.NewDecoder(r)
		for {
			if _, err := d.Token(); err != nil {
				if !errors.Is(err, io.EOF) {
					t.Errorf("%s: %v", part.Name, err)
				}
				break
			}
		}
		r.Close()
	}
}

func listDir(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names, err
}
