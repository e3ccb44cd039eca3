package ingest_test

import (
	"archive/zip"
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"carepay/ingest"
)

// rawWorkbook writes a workbook part by part, the way a spreadsheet
// program lays it out, with one sheet called Data whose XML sheet writes
// and a shared strings table whose items strings writes (nil: none). It
// streams, so a test can build a workbook larger than memory allows.
func rawWorkbook(t *testing.T, sheet, strings func(w io.Writer), extra map[string][]byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "book.xlsx")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	zw := zip.NewWriter(f)
	put := func(name string, write func(w io.Writer)) {
		w, err := zw.Create(name)
		if err != nil {
			t.Fatal(err)
		}
		bw := bufio.NewWriterSize(w, 64<<10)
		write(bw)
		if err := bw.Flush(); err != nil {
			t.Fatal(err)
		}
	}
	text := func(s string) func(io.Writer) { return func(w io.Writer) { io.WriteString(w, s) } }
	ssType, ssRel := "", ""
	if strings != nil {
		ssType = `<Override PartName="/xl/sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/>`
		ssRel = `<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>`
	}
	put("[Content_Types].xml", text(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>`+ssType+`</Types>`))
	put("_rels/.rels", text(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`))
	put("xl/workbook.xml", text(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>`))
	put("xl/_rels/workbook.xml.rels", text(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>`+ssRel+`</Relationships>`))
	put("xl/worksheets/sheet1.xml", func(w io.Writer) {
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>`)
		sheet(w)
		io.WriteString(w, `</sheetData></worksheet>`)
	})
	if strings != nil {
		put("xl/sharedStrings.xml", func(w io.Writer) {
			io.WriteString(w, `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">`)
			strings(w)
			io.WriteString(w, `</sst>`)
		})
	}
	for name, b := range extra {
		put(name, text(string(b)))
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return p
}

// providerRows writes a providers header and n rows whose name is shared
// string i (the table holds n strings, "Provider i").
func providerRows(n int) (sheet, strings func(io.Writer)) {
	sheet = func(w io.Writer) {
		io.WriteString(w, `<row r="1"><c r="A1" t="inlineStr"><is><t>provider_id</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c></row>`)
		for i := 0; i < n; i++ {
			fmt.Fprintf(w, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>P%d</t></is></c><c r="B%d" t="s"><v>%d</v></c></row>`, i+2, i+2, i, i+2, i)
		}
	}
	strings = func(w io.Writer) {
		for i := 0; i < n; i++ {
			fmt.Fprintf(w, `<si><t>Provider %d</t></si>`, i)
		}
	}
	return sheet, strings
}

// TestReadXLSXLimits drops workbooks over each limit: each is rejected
// whole with a message naming the limit, and nothing of it is visited. A
// workbook just within the limits is read.
func TestReadXLSXLimits(t *testing.T) {
	sheet3, strings3 := providerRows(3)
	big := func(n int, s string) func(io.Writer) {
		return func(w io.Writer) {
			io.WriteString(w, `<row r="1"><c r="A1" t="inlineStr"><is><t>provider_id</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c></row>`)
			io.WriteString(w, `<row r="2"><c r="A2" t="inlineStr"><is><t>P1</t></is></c><c r="B2" t="inlineStr"><is><t>`)
			io.WriteString(w, strings.Repeat(s, n))
			io.WriteString(w, `</t></is></c></row>`)
		}
	}
	wideRow := func(w io.Writer) {
		io.WriteString(w, `<row r="1"><c r="A1" t="inlineStr"><is><t>provider_id</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c></row><row r="2">`)
		for i := 0; i < 16000; i++ {
			io.WriteString(w, `<c t="s"><v>0</v></c>`)
		}
		io.WriteString(w, `</row>`)
	}
	bigString := func(w io.Writer) { fmt.Fprintf(w, "<si><t>%s</t></si>", strings.Repeat("x", 900<<10)) }
	tests := []struct {
		name          string
		sheet, ss     func(io.Writer)
		extra         map[string][]byte
		opt           ingest.Options
		want          string
		wantProviders int
	}{
		{"within_the_limits", sheet3, strings3, nil, ingest.Options{MaxSharedStrings: 3}, "", 3},
		{"unpacks_over_the_size_limit", sheet3, strings3, nil, ingest.Options{MaxWorkbookSize: 2000},
			"workbook unpacks to more than the 2.0 KiB limit; split it into smaller workbooks or send it as CSV", 0},
		{"size_limit_in_mib", big(3<<20, "a"), nil, nil, ingest.Options{MaxWorkbookSize: 2 << 20},
			"workbook unpacks to more than the 2 MiB limit; split it into smaller workbooks or send it as CSV", 0},
		{"too_many_shared_strings", sheet3, strings3, nil, ingest.Options{MaxSharedStrings: 2},
			"workbook holds 3 distinct texts, over the limit of 2; split it into smaller workbooks or send it as CSV", 0},
		{"cell_over_1_mib", big(1<<20+1, "a"), nil, nil, ingest.Options{},
			"a cell or tag of the workbook holds more than 1 MiB (a cell holds at most 32,767 characters); the workbook is damaged or not from a spreadsheet program", 0},
		// A comment cannot hide a long text behind its ">" characters.
		{"comment_over_1_mib", func(w io.Writer) {
			io.WriteString(w, "<!--"+strings.Repeat("a>", 600<<10)+"-->")
			sheet3(w)
		}, strings3, nil, ingest.Options{},
			"a cell or tag of the workbook holds more than 1 MiB (a cell holds at most 32,767 characters); the workbook is damaged or not from a spreadsheet program", 0},
		// 16,000 cells each naming a 900 KiB shared string: 14 GB of text
		// from a sheet of 400 KB.
		{"row_over_32_mib", wideRow, bigString, nil, ingest.Options{},
			"a row of the workbook (row 2 of a sheet) holds more than 32 MiB of text; send the data as CSV", 0},
		{"other_parts_over_16_mib", sheet3, strings3,
			map[string][]byte{"xl/media/image1.png": make([]byte, 17<<20)}, ingest.Options{},
			"workbook parts other than its sheets (styles, pictures, small sheets) unpack to 17.0 MiB, over the 16 MiB limit; send the data as CSV", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := rawWorkbook(t, tt.sheet, tt.ss, tt.extra)
			tt.opt.Arrived = arrived
			rep, recs := read(t, p, "book.xlsx", tt.opt)
			if tt.want == "" {
				tr := table(t, rep, "book.xlsx#Data")
				if tr.Kind != ingest.Providers || tr.Taken() != tt.wantProviders || len(recs) != tt.wantProviders {
					t.Fatalf("Kind %q Rejected %q Taken %d", tr.Kind, tr.Rejected, tr.Taken())
				}
				if recs[2].Provider.Name != "Provider 2" {
					t.Fatalf("third provider %+v", recs[2].Provider)
				}
				return
			}
			tr := only(t, rep)
			if tr.Rejected != tt.want || tr.Source != "book.xlsx" || len(recs) != 0 {
				t.Fatalf("Rejected = %q\n    want %q\nsource %q, visited %d", tr.Rejected, tt.want, tr.Source, len(recs))
			}
		})
	}
}

// TestReadXLSXStreams reads a workbook that unpacks to more than the
// memory bound, most of it in one sheet and a large shared strings table,
// and checks the live heap while reading and after: sheets are streamed
// from temporary files, and only the index of the shared strings stays
// in memory. It bounds memory, not time.
func TestReadXLSXStreams(t *testing.T) {
	const (
		rows  = 150_000
		bound = 48 << 20 // bytes of live heap
	)
	pad := strings.Repeat("x", 300)
	sheet := func(w io.Writer) {
		io.WriteString(w, `<row r="1"><c r="A1" t="inlineStr"><is><t>provider_id</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c><c r="C1" t="inlineStr"><is><t>note</t></is></c></row>`)
		for i := 0; i < rows; i++ {
			fmt.Fprintf(w, `<row r="%d"><c r="A%d" t="inlineStr"><is><t>P%d</t></is></c><c r="B%d" t="s"><v>%d</v></c><c r="C%d" t="inlineStr"><is><t>%s</t></is></c></row>`, i+2, i+2, i, i+2, i, i+2, pad)
		}
	}
	ss := func(w io.Writer) {
		for i := 0; i < rows; i++ {
			fmt.Fprintf(w, `<si><t>Provider number %d of the big workbook</t></si>`, i)
		}
	}
	p := rawWorkbook(t, sheet, ss, nil)
	zr, err := zip.OpenReader(p)
	if err != nil {
		t.Fatal(err)
	}
	var unpacked uint64
	for _, f := range zr.File {
		unpacked += f.UncompressedSize64
	}
	zr.Close()
	if unpacked <= bound {
		t.Fatalf("workbook unpacks to %d bytes; it must exceed the %d bound to prove anything", unpacked, bound)
	}
	heap := liveHeap
	var n int
	var during uint64
	rep, err := ingest.ReadFile(context.Background(), p, "big.xlsx", ingest.Options{Arrived: arrived}, func(r *ingest.Record) error {
		n++
		if r.Provider == nil || len(r.Errors) != 0 {
			return fmt.Errorf("row %d: %+v", r.Row, r.Errors)
		}
		if n%(rows/4) == 0 {
			during = max(during, heap())
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	after := heap()
	runtime.KeepAlive(rep)
	t.Logf("workbook unpacks to %d MiB; live heap at most %d KiB while reading, %d KiB after", unpacked>>20, during>>10, after>>10)
	if n != rows {
		t.Fatalf("visited %d rows, want %d", n, rows)
	}
	if during == 0 || during > bound {
		t.Errorf("live heap while reading = %d bytes, want at most %d", during, bound)
	}
	if after > bound {
		t.Errorf("live heap after reading = %d bytes, want at most %d", after, bound)
	}
}
