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
	// MaxWorkbookSize is how many bytes a workbook may unpack to; 0 means
	// DefaultMaxWorkbookSize. A larger workbook is rejected whole.
	MaxWorkbookSize int64
	// MaxSharedStrings is how many distinct texts a workbook may hold; 0
	// means DefaultMaxSharedStrings. Their index stays in memory.
	MaxSharedStrings int
	// Cleared names the columns of the bank's cleared-checks file
	// (checks.cleared_columns); the zero value takes the defaults.
	Cleared ClearedLayout
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
// only when the file cannot be read or visit fails. Visit is called for
// one record at a time, in row order, but for a CSV file on a goroutine of
// its own while the next rows are read; ReadFile returns once the last
// call has.
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
		err = readXLSX(ctx, f, path, name, opt, rep, visit)
	case isNACHA(head):
		err = readBankFile(f, name, opt, rep, visit)
	default:
		err = readCSV(ctx, f, name, opt, rep, visit)
	}
	return rep, err
}

// noted returns visit, adding the notes it makes to t's warnings.
func noted(t *table, visit func(*Record) error) func(*Record) error {
	return func(r *Record) error {
		err := visit(r)
		t.rep.Warnings = append(t.rep.Warnings, r.Notes...)
		return err
	}
}

// visits calls visit on a goroutine of its own, record after record in
// the order they are sent, while the table's rows are read and parsed on
// the caller's: at a million rows the two cores share a drop's reading
// and the ledger's inserts. Its notes join t's warnings; the reading adds
// none of its own once rows are sent (the header's and the encoding's
// come before).
type visits struct {
	t      *table
	visit  func(*Record) error
	ch     chan *Record
	done   chan struct{}
	failed chan struct{} // closed when visit fails
	err    error         // visit's first error, read once failed or done is closed
}

func startVisits(t *table, visit func(*Record) error) *visits {
	v := &visits{t: t, visit: visit, ch: make(chan *Record, 256), done: make(chan struct{}), failed: make(chan struct{})}
	go v.run()
	return v
}

func (v *visits) run() {
	defer close(v.done)
	for r := range v.ch {
		if v.err != nil {
			continue // drain: the reader stops at its next send
		}
		if v.err = v.call(r); v.err != nil {
			close(v.failed)
		}
		v.t.rep.Warnings = append(v.t.rep.Warnings, r.Notes...)
	}
}

// call runs visit on r, a panic made an error: on this goroutine nothing
// above it would recover one (the daemon recovers a failed job's panic on
// its own goroutine).
func (v *visits) call(r *Record) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("%s row %d: %v", v.t.rep.Source, r.Row, p)
		}
	}()
	return v.visit(r)
}

// send hands r on; once visit has failed it returns visit's error.
func (v *visits) send(r *Record) error {
	select {
	case <-v.failed:
		return v.err
	case v.ch <- r:
		return nil
	}
}

// wait lets the last records be visited and returns visit's first error.
func (v *visits) wait() error {
	close(v.ch)
	<-v.done
	return v.err
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

	// When the first row matches no kind, a few rows more are read in
	// case it was a title above the real header.
	noKind    string // why the first row is no header
	titleRow  int
	lookAhead int
}

// titleRows is how many rows below a row that matches no kind are tried
// as the real header.
const titleRows = 10

// header takes a row while no header is known. It returns true when the
// table is rejected and the rest of it is not to be read.
func (t *table) header(row int, cells []string) bool {
	if blankRow(cells) {
		return false
	}
	schemas := t.opt.schemas()
	h := parseHeader(cells, schemas)
	if t.noKind != "" {
		// Looking below a title for the real header.
		if s, _, ok := recognise(h, schemas); ok {
			t.rep.Rejected = fmt.Sprintf("row %d is a title, not the header: the %s header is at row %d; delete the rows above the header", t.titleRow, s.Kind, row)
			return true
		}
		if t.lookAhead--; t.lookAhead == 0 {
			t.rep.Rejected = t.noKind
			return true
		}
		return false
	}
	if len(h.dups) > 0 {
		d := h.dups[0]
		t.rep.Rejected = fmt.Sprintf("header names column %q twice (columns %s and %s); delete or rename one", h.names[d[0]], columnLetter(d[0]), columnLetter(d[1]))
		return true
	}
	s, missing, ok := recognise(h, schemas)
	if !ok {
		t.noKind, t.titleRow, t.lookAhead = noKindMessage(row, h, s, missing), row, titleRows
		return false
	}
	t.h = h
	t.schema = s
	t.rep.Kind = s.Kind
	if u := unknownColumns(h, s); len(u) > 0 {
		t.rep.Warnings = append(t.rep.Warnings, fmt.Sprintf("unknown columns ignored: %s", strings.Join(u, ", ")))
	}
	return false
}

// finish rejects a table whose header never came.
func (t *table) finish(empty string) {
	switch {
	case t.rep.Kind != "" || t.rep.Rejected != "":
	case t.noKind != "":
		t.rep.Rejected = t.noKind
	default:
		t.rep.Rejected = empty
	}
}

// noKindMessage says why a header row matches no kind: the columns the
// closest kind lacks, briefly.
func noKindMessage(row int, h header, near Schema, missing []string) string {
	have := len(near.Required) - len(missing)
	if have == 0 {
		var cols []string
		for _, n := range h.names {
			if n != "" {
				cols = append(cols, n)
			}
		}
		return fmt.Sprintf("header matches no input kind: row %d names no column carepay reads (%s); the header must be the first row that is not blank, with columns such as employee_id, provider_id, invoice_id or statement_id", row, brief(cols))
	}
	if len(missing) > 3 {
		return fmt.Sprintf("header matches no input kind; closest is %s, which has %d of its %d required columns and lacks %s", near.Kind, have, len(near.Required), brief(missing))
	}
	return fmt.Sprintf("header matches no input kind; closest is %s, which lacks %s", near.Kind, brief(missing))
}

// brief lists up to three names and counts the rest.
func brief(names []string) string {
	if len(names) > 3 {
		return fmt.Sprintf("%s and %d more", strings.Join(names[:3], ", "), len(names)-3)
	}
	return strings.Join(names, ", ")
}

// columnLetter names the i-th column (from 0) as a spreadsheet shows it.
func columnLetter(i int) string {
	name, err := excelize.ColumnNumberToName(i + 1)
	if err != nil {
		return fmt.Sprintf("%d", i+1)
	}
	return name
}

// columnName names the i-th column of a row for an error: its header
// name, or its letter when the header leaves it blank.
func (t *table) columnName(i int) string {
	if i < len(t.h.names) && t.h.names[i] != "" {
		return t.h.names[i]
	}
	return "column " + columnLetter(i)
}

func blankRow(cells []string) bool {
	for _, c := range cells {
		if strings.TrimSpace(c) != "" {
			return false
		}
	}
	return true
}

func (t *table) row(n int, cells []string, visit func(*Record) error) error {
	if blankRow(cells) {
		return nil
	}
	if !t.xlsx && len(cells) != len(t.h.names) {
		// Values would land in the wrong columns: the row is not read.
		// The column named is the first one missing, or the first extra.
		col := t.columnName(min(len(cells), len(t.h.names)))
		if len(cells) > len(t.h.names) {
			col = "column " + columnLetter(len(t.h.names))
		}
		return t.broken(n, col, fmt.Sprintf("has %d %s where the header has %d; a value may hold an unquoted comma, or a field is missing", len(cells), plural(len(cells), "field", "fields"), len(t.h.names)), visit)
	}
	if t.xlsx {
		// A workbook leaves trailing blank cells out; a value right of the
		// header belongs to no column.
		for i := len(t.h.names); i < len(cells); i++ {
			if strings.TrimSpace(cells[i]) != "" {
				return t.broken(n, "column "+columnLetter(i), fmt.Sprintf("has a value right of the header's last column %s; the header has %d columns", columnLetter(len(t.h.names)-1), len(t.h.names)), visit)
			}
		}
	}
	r := rowReader{source: t.rep.Source, row: n, h: t.h, cells: cells, xlsx: t.xlsx, d1904: t.d1904}
	for i, c := range cells {
		switch {
		case strings.IndexByte(c, 0) >= 0:
			cells[i] = strings.ReplaceAll(c, "\x00", "")
			r.fail(t.columnName(i), cells[i], "holds a NUL byte (a binary zero); the file may be damaged or saved in another encoding")
		case !utf8.ValidString(c):
			cells[i] = strings.ToValidUTF8(c, "\ufffd")
			r.fail(t.columnName(i), cells[i], "holds bytes that are not UTF-8 text (shown as \ufffd); save the file as CSV UTF-8")
		}
	}
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
	t := &table{rep: &TableReport{Source: name}, opt: opt}
	rep.Tables = append(rep.Tables, t.rep)
	enc, err := sniffEncoding(f)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if enc.binary != "" {
		t.rep.Rejected = enc.binary
		return nil
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if enc.warning != "" {
		t.rep.Warnings = append(t.rep.Warnings, enc.warning)
	}
	var in io.Reader = f
	if enc.decode != nil {
		in = enc.decode(f)
	}
	// The window keeps the text just read, to find the column of a quoting
	// error in it.
	win := newWindow(in, 256<<10)
	br := bufio.NewReaderSize(win, 64<<10)
	// A byte-order mark would stick to the first header name, and to its
	// opening quote when the header is quoted.
	bom := int64(0)
	if head, _ := br.Peek(3); bytes.Equal(head, []byte("\xef\xbb\xbf")) {
		br.Discard(3)
		bom = 3
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // a row of another length is reported on its own
	cr.ReuseRecord = true
	if c := separator(br); c != ',' {
		cr.Comma = c
		t.rep.Warnings = append(t.rep.Warnings, fmt.Sprintf("fields are separated by %s, not commas; read as such", map[rune]string{'\t': "tabs", ';': "semicolons"}[c]))
	}
	v := startVisits(t, visit)
	waited := false
	defer func() {
		if !waited { // the reading panicked: let the visits end
			v.wait()
		}
	}()
	err = readCSVRows(ctx, t, cr, win, bom, v.send)
	waited = true
	if verr := v.wait(); verr != nil {
		return verr // the reading stopped at it, or would have
	}
	return err
}

// readCSVRows reads a CSV table's rows after its preamble, and hands the
// records to visit.
func readCSVRows(ctx context.Context, t *table, cr *csv.Reader, win *window, bom int64, visit func(*Record) error) error {
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
				if t.noKind == "" {
					t.rep.Rejected = fmt.Sprintf("header row %d is not valid CSV: %v", row, pe.Err)
				}
				t.finish("")
				return nil
			}
			col := columnAt(func(n int) []byte { return win.from(offset+bom, n) }, pe, t.h, cr.Comma)
			if err := t.broken(row, col, fmt.Sprintf("not valid CSV: %v", pe.Err), visit); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", t.rep.Source, err)
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
			if t.header(row, rec) {
				return nil
			}
			continue
		}
		if err := t.row(row, rec, visit); err != nil {
			return err
		}
	}
	t.finish("empty: no header row")
	return nil
}

// separator guesses the field separator from the first line that is not
// blank: a comma, unless the line has none and holds tabs (what
// spreadsheet programs write as "Unicode text") or semicolons (their CSV
// where the comma is the decimal mark).
func separator(br *bufio.Reader) rune {
	head, _ := br.Peek(br.Size())
	head = bytes.TrimLeft(head, "\r\n")
	if i := bytes.IndexByte(head, '\n'); i >= 0 {
		head = head[:i]
	}
	switch {
	case bytes.IndexByte(head, ',') >= 0:
		return ','
	case bytes.IndexByte(head, '\t') >= 0:
		return '\t'
	case bytes.IndexByte(head, ';') >= 0:
		return ';'
	}
	return ','
}

// readXLSX reads every sheet of a workbook, a row at a time. The workbook
// is first checked against the limits (checkWorkbook), then opened from
// its path so that excelize reads parts where they lie instead of taking
// the whole file into memory.
func readXLSX(ctx context.Context, f *os.File, path, name string, opt Options, rep *FileReport, visit func(*Record) error) error {
	maxSize, maxStrings := opt.MaxWorkbookSize, opt.MaxSharedStrings
	if maxSize <= 0 {
		maxSize = DefaultMaxWorkbookSize
	}
	if maxStrings <= 0 {
		maxStrings = DefaultMaxSharedStrings
	}
	refused, err := checkWorkbook(f, maxSize, maxStrings)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	if refused != "" {
		rep.Tables = []*TableReport{{Source: name, Rejected: refused}}
		return nil
	}
	wb, err := excelize.OpenFile(path, excelize.Options{UnzipSizeLimit: maxSize, UnzipXMLSizeLimit: streamPart})
	if err != nil {
		if wb != nil {
			wb.Close() // removes the parts unpacked so far
		}
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
	visit = noted(t, visit)
	rows, err := wb.Rows(sheet)
	if err != nil {
		return err
	}
	defer rows.Close()
	row := 0
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
		if t.schema.Kind == "" {
			// Blank rows above the header are skipped.
			if t.header(row, cells) {
				return nil
			}
			continue
		}
		if err := t.row(row, cells, visit); err != nil {
			return fmt.Errorf("%w: %w", errVisit, err)
		}
	}
	t.finish("empty sheet: no header row")
	return rows.Error()
}

// columnAt names the column where a CSV quoting error sits: it counts the
// separators before the error in the broken record's first line, read
// back from text (where the record starts). "" when unknown.
func columnAt(text func(n int) []byte, pe *csv.ParseError, h header, comma rune) string {
	if pe.Line != pe.StartLine || pe.Column < 1 {
		return "" // inside a field spanning lines: the count starts elsewhere
	}
	line := text(pe.Column - 1)
	if len(line) < pe.Column-1 || bytes.IndexByte(line, '\n') >= 0 {
		return ""
	}
	field, quoted := 0, false
	for _, c := range string(line) {
		switch {
		case c == '"':
			quoted = !quoted
		case c == comma && !quoted:
			field++
		}
	}
	if field < len(h.names) {
		return h.names[field]
	}
	return ""
}
