package ingest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"unicode/utf8"

	"github.com/xuri/excelize/v2"

	"carepay/core"
)

// Options tune ReadFile. The zero value is ready to use.
type Options struct {
	// Arrived is the day the file arrived, the default received_on of
	// statement rows.
	Arrived core.Date
	// RunDate, when set, bounds service dates (SPEC.md's sanity limits): a
	// service line dated after it, or more than MaxServiceAge days before
	// it, does not parse.
	RunDate core.Date
	// MaxLineCharge, when above 0, is the largest amount_charged a service
	// line may carry (limits.max_line_charge).
	MaxLineCharge core.Cents
	// MaxErrors is how many row errors a table report keeps (the rest are
	// counted); 0 means 1000.
	MaxErrors int
}

// TableReport says what became of one table: a CSV file or one sheet.
type TableReport struct {
	Source       string // name, or name#Sheet for a workbook
	Kind         Kind   // empty when the table was rejected whole
	Rejected     string // why the whole table was rejected
	Warnings     []string
	Rows         int // data rows read, blank rows not counted
	RejectedRows int // rows with at least one bad value
	Errors       []*core.RowError
	MoreErrors   int // row errors beyond those kept in Errors
}

// Taken is the number of rows read without error.
func (t *TableReport) Taken() int { return t.Rows - t.RejectedRows }

// FileReport gathers the table reports of one file.
type FileReport struct {
	Name   string
	Tables []*TableReport
}

// Rejected reports whether no table of the file could be read.
func (f *FileReport) Rejected() bool {
	for _, t := range f.Tables {
		if t.Rejected == "" {
			return false
		}
	}
	return true
}

// Kinds lists the kinds of the file's readable tables.
func (f *FileReport) Kinds() []Kind {
	var out []Kind
	for _, t := range f.Tables {
		if t.Kind != "" {
			out = append(out, t.Kind)
		}
	}
	return out
}

// ReadFile reads the file at path, dropped under name, and calls visit for
// every non-blank data row of every table it recognises. Bad values are
// reported in the FileReport and never stop the file; an error is returned
// only when the file cannot be read or visit fails.
func ReadFile(ctx context.Context, path, name string, opt Options, visit func(*Record) error) (*FileReport, error) {
	if opt.MaxErrors == 0 {
		opt.MaxErrors = 1000
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", name, err)
	}
	defer f.Close()
	head := make([]byte, 512)
	n, rerr := io.ReadFull(f, head)
	if rerr != nil && !errors.Is(rerr, io.ErrUnexpectedEOF) && !errors.Is(rerr, io.EOF) {
		return nil, fmt.Errorf("reading %s: %w", name, rerr)
	}
	head = head[:n]
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	rep := &FileReport{Name: name}
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")):
		err = readXLSX(ctx, f, name, opt, rep, visit)
	case looksLikeText(head):
		err = readCSV(ctx, f, name, opt, rep, visit)
	default:
		rep.Tables = []*TableReport{{Source: name, Rejected: "not a CSV or XLSX file (binary content); key it in by hand or send it as CSV or XLSX"}}
	}
	return rep, err
}

func looksLikeText(b []byte) bool {
	if len(b) == 0 {
		return true
	}
	if bytes.IndexByte(b, 0) >= 0 {
		return false
	}
	// The sample may end inside a multi-byte rune.
	for i := 0; i < 3 && !utf8.Valid(b) && len(b) > 0; i++ {
		b = b[:len(b)-1]
	}
	return utf8.Valid(b)
}

// errVisit marks an error of the caller's visit function: it stops the
// file, where damaged content only rejects its table.
var errVisit = errors.New("storing a row")

// table drives one table: header first, then rows.
type table struct {
	rep    *TableReport
	schema Schema
	h      header
	opt    Options
	xlsx   bool
	d1904  bool
}

// start reads the header row; it returns false if the table is rejected.
func (t *table) start(cells []string) bool {
	t.h = parseHeader(cells)
	s, missing, ok := recognise(t.h)
	if !ok {
		if len(t.h.cols) == 0 {
			t.rep.Rejected = "empty: no header row"
		} else {
			t.rep.Rejected = fmt.Sprintf("header matches no input kind; closest is %s, which lacks %s", s.Kind, strings.Join(missing, ", "))
		}
		return false
	}
	t.schema = s
	t.rep.Kind = s.Kind
	if u := unknownColumns(t.h, s); len(u) > 0 {
		t.rep.Warnings = append(t.rep.Warnings, fmt.Sprintf("unknown columns ignored: %s", strings.Join(u, ", ")))
	}
	return true
}

func (t *table) row(n int, cells []string, visit func(*Record) error) error {
	blank := true
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			blank = false
			break
		}
	}
	if blank {
		return nil
	}
	r := rowReader{source: t.rep.Source, row: n, h: t.h, cells: cells, xlsx: t.xlsx, d1904: t.d1904}
	rec := r.parse(t.schema.Kind, &t.opt)
	t.rep.Rows++
	if len(rec.Errors) > 0 {
		t.rep.RejectedRows++
		for _, e := range rec.Errors {
			t.keep(e)
		}
	}
	return visit(&rec)
}

// broken reports a row that could not be split into columns. A row of
// invoices or statements is still a service line, so it is passed on
// (without values) to be rejected INVALID_ROW: every line gets a decision.
func (t *table) broken(row int, column, msg string, visit func(*Record) error) error {
	e := &core.RowError{File: t.rep.Source, Row: row, Column: column, Msg: msg}
	t.rep.Rows++
	t.rep.RejectedRows++
	t.keep(e)
	var kind core.LineKind
	switch t.schema.Kind {
	case Invoices:
		kind = core.Invoice
	case Statements:
		kind = core.Statement
	default:
		return nil
	}
	l := &core.Line{Kind: kind, Source: t.rep.Source, Row: row, Errors: []*core.RowError{e}}
	return visit(&Record{Kind: t.schema.Kind, Source: t.rep.Source, Row: row, Line: l, Errors: l.Errors})
}

// keep records a row error, or counts it once MaxErrors are kept.
func (t *table) keep(e *core.RowError) {
	if len(t.rep.Errors) < t.opt.MaxErrors {
		t.rep.Errors = append(t.rep.Errors, e)
	} else {
		t.rep.MoreErrors++
	}
}

func readCSV(ctx context.Context, f *os.File, name string, opt Options, rep *FileReport, visit func(*Record) error) error {
	br := bufio.NewReaderSize(f, 64<<10)
	// A byte-order mark would stick to the first header name, and to its
	// opening quote when the header is quoted.
	bom := int64(0)
	if head, _ := br.Peek(3); bytes.Equal(head, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
		bom = 3
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	t := &table{rep: &TableReport{Source: name}, opt: opt}
	rep.Tables = append(rep.Tables, t.rep)
	// row is the spreadsheet row: encoding/csv skips blank lines, which a
	// spreadsheet counts, and a quoted field may span several lines, which
	// a spreadsheet does not.
	row, lastLine := 0, 0
	for n := 1; ; n++ {
		offset := cr.InputOffset()
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			row += 1 + max(pe.StartLine-lastLine-1, 0)
			lastLine = pe.Line
			if t.schema.Kind == "" {
				t.rep.Rejected = fmt.Sprintf("header row %d is not valid CSV: %v", row, pe.Err)
				return nil
			}
			col := columnAt(f, offset+bom, pe, t.h)
			if err := t.broken(row, col, fmt.Sprintf("not valid CSV: %v", pe.Err), visit); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		start, _ := cr.FieldPos(0)
		row += 1 + max(start-lastLine-1, 0)
		lastLine = start
		for _, c := range rec {
			lastLine += strings.Count(c, "\n")
		}
		if n%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if t.schema.Kind == "" {
			// The header is the first row that is not blank.
			if !t.start(rec) {
				return nil
			}
			continue
		}
		if err := t.row(row, rec, visit); err != nil {
			return err
		}
	}
	if row == 0 {
		t.rep.Rejected = "empty: no header row"
	}
	return nil
}

func readXLSX(ctx context.Context, f io.Reader, name string, opt Options, rep *FileReport, visit func(*Record) error) error {
	wb, err := excelize.OpenReader(f, excelize.Options{UnzipXMLSizeLimit: 8 << 20})
	if err != nil {
		rep.Tables = []*TableReport{{Source: name, Rejected: fmt.Sprintf("not a readable XLSX workbook: %v", err)}}
		return nil
	}
	defer wb.Close()
	d1904 := false
	if props, err := wb.GetWorkbookProps(); err == nil && props.Date1904 != nil {
		d1904 = *props.Date1904
	}
	for _, sheet := range wb.GetSheetList() {
		t := &table{rep: &TableReport{Source: name + "#" + sheet}, opt: opt, xlsx: true, d1904: d1904}
		rep.Tables = append(rep.Tables, t.rep)
		if err := readSheet(ctx, wb, sheet, t, visit); err != nil {
			if ctx.Err() != nil || errors.Is(err, errVisit) {
				return fmt.Errorf("reading %s: %w", t.rep.Source, err)
			}
			// A damaged sheet is rejected; the other sheets go on. Rows
			// read before the damage were taken and stay so.
			t.rep.Rejected = fmt.Sprintf("sheet is damaged after row %d: %v", t.rep.Rows+1, err)
		}
	}
	return nil
}

func readSheet(ctx context.Context, wb *excelize.File, sheet string, t *table, visit func(*Record) error) error {
	rows, err := wb.Rows(sheet)
	if err != nil {
		return err
	}
	defer rows.Close()
	row, started := 0, false
	for rows.Next() {
		row++
		cells, err := rows.Columns(excelize.Options{RawCellValue: true})
		if err != nil {
			return err
		}
		if row%4096 == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		if !started {
			if len(cells) == 0 {
				continue // leading blank rows before the header
			}
			started = true
			if !t.start(cells) {
				return nil
			}
			continue
		}
		if err := t.row(row, cells, visit); err != nil {
			return fmt.Errorf("%w: %w", errVisit, err)
		}
	}
	if !started {
		t.rep.Rejected = "empty sheet: no header row"
	}
	return rows.Error()
}

// columnAt names the column where a CSV quoting error sits: it reads the
// broken record's text back from the file (the record starts at byte
// start) and counts the separators before the error. "" when unknown.
func columnAt(f *os.File, start int64, pe *csv.ParseError, h header) string {
	buf := make([]byte, 64<<10)
	n, _ := f.ReadAt(buf, start)
	lines := strings.SplitAfter(string(buf[:n]), "\n")
	i := pe.Line - pe.StartLine
	if i < 0 || i >= len(lines) {
		return ""
	}
	line := lines[i]
	if pe.Column-1 > len(line) || pe.Column < 1 {
		return ""
	}
	if i > 0 {
		return "" // inside a field spanning lines: the count starts elsewhere
	}
	field, quoted := 0, false
	for _, c := range line[:pe.Column-1] {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			field++
		}
	}
	if field < len(h.names) {
		return h.names[field]
	}
	return ""
}
