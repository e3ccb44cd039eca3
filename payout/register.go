package payout

import (
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"carepay/core"
)

// MaxSheetRows is the most rows a sheet of an Excel workbook can hold,
// its header row included. A register sheet that would hold more continues
// in another sheet of the same name and a number: Decisions 2, Decisions
// 3, and on.
const MaxSheetRows = 1_048_576

// Register is what register.xlsx shows of a run.
type Register struct {
	// Date stamps the workbook's properties: a workbook rebuilt for the
	// same run is byte-identical.
	Date core.Date
	// Summary rows: a label and a value (text, a number or core.Cents).
	// Read after Wait.
	Summary [][2]any
	// Payments and Holds of the run.
	Payments []*core.Payment
	Holds    []core.PaymentHold
	// EachDecision streams the run's decided lines, once: each goes to the
	// Decisions sheet, and a rejected or partial one to Exceptions too.
	EachDecision func(fn func(*core.Line, *core.Decision) error) error
	ReasonWords  map[string]string
	// LettersHeld names letters that could not go by post. Read after
	// Wait.
	LettersHeld []string
	// Wait, when set, is called once every line is written, and may set
	// Summary and LettersHeld: a run writes its register while its
	// letters are written, and the Summary counts them. The Summary sheet
	// still comes first, and letters held end the Exceptions sheet.
	Wait func(*Register) error
	// Reconciliation says what became of the money as of the run.
	Reconciliation []core.ReconItem
	// FileExceptions are rows of the Exceptions sheet for what the run's
	// files did not give (tables rejected whole, registry rows and bank
	// entries rejected): what, source, row, ref, who, amount, why.
	FileExceptions [][]any
}

// WriteRegister writes register.xlsx: Summary, Payments, Reconciliation,
// Decisions and Exceptions sheets, money as numbers in a currency format, the header row
// frozen and filtered, no sheet longer than MaxSheetRows. Decisions
// stream in one pass, and the workbook is compressed straight into out,
// so a large run needs no more memory than a small one.
func WriteRegister(out io.Writer, r Register) error {
	return writeRegister(out, r, MaxSheetRows)
}

// writeRegister is WriteRegister with the row limit of a sheet as a
// parameter, so that tests can overflow a sheet with a few rows.
func writeRegister(out io.Writer, r Register, maxRows int) error {
	f := excelize.NewFile()
	defer f.Close()
	stamp := r.Date.Time().Add(12 * time.Hour).Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{Created: stamp, Modified: stamp, Creator: "carepay", Title: "carepay register"}); err != nil {
		return fmt.Errorf("register properties: %w", err)
	}
	format := `"$"#,##0.00;[Red]\-"$"#,##0.00`
	money, err := f.NewStyle(&excelize.Style{CustomNumFmt: &format})
	if err != nil {
		return fmt.Errorf("register money style: %w", err)
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return fmt.Errorf("register header style: %w", err)
	}
	book := &workbook{f: f, money: money, bold: bold, maxRows: maxRows}

	// Summary is the first sheet, filled last: see Wait.
	summary, err := book.sheet("Summary", []float64{34, 20}, []string{"item", "value"})
	if err != nil {
		return err
	}

	payments, err := book.sheet("Payments", []float64{8, 10, 12, 30, 9, 14, 7, 12, 12, 18, 40},
		[]string{"payment", "payee_type", "payee_id", "payee", "method", "amount", "lines", "check_number", "account", "trace_number", "remittance"})
	if err != nil {
		return err
	}
	for _, p := range r.Payments {
		var check any
		if p.CheckNumber != 0 {
			check = p.CheckNumber
		}
		if err := payments.write(p.ID, p.PayeeType, p.PayeeID, p.Name, p.Method, p.Amount, p.Lines, check, p.Bank.Masked(),
			p.TraceNumber, strings.Join(p.Refs, " ")); err != nil {
			return err
		}
	}
	if err := payments.close(); err != nil {
		return err
	}

	recon, err := book.sheet("Reconciliation", []float64{18, 10, 10, 12, 9, 14, 12, 18, 60},
		[]string{"what", "payment", "payee_type", "payee_id", "method", "amount", "date", "check_or_trace", "detail"})
	if err != nil {
		return err
	}
	for _, it := range r.Reconciliation {
		if err := recon.write(it.What, core.PaymentRef(it.PaymentID), it.PayeeType, it.PayeeID, it.Method, it.Amount, it.Date.String(),
			it.Reference, it.Detail); err != nil {
			return err
		}
	}
	if err := recon.close(); err != nil {
		return err
	}

	// Decisions and Exceptions fill together, from one pass over the lines.
	decisions, err := book.sheet("Decisions", []float64{26, 9, 10, 16, 14, 10, 10, 10, 16, 11, 7, 11, 11, 11, 9, 30, 9, 10},
		[]string{"source", "row", "kind", "ref", "plan_id", "employee_id", "dependent_id", "provider_id", "care_type", "service_date",
			"units", "charged", "employee_share", "employer_share", "status", "reasons", "payee_type", "payee_id"})
	if err != nil {
		return err
	}
	exceptions, err := book.sheet("Exceptions", []float64{12, 26, 9, 16, 12, 11, 60},
		[]string{"what", "source", "row", "ref", "who", "amount", "why"})
	if err != nil {
		return err
	}
	for _, row := range r.FileExceptions {
		if err := exceptions.write(row...); err != nil {
			return err
		}
	}
	for _, h := range r.Holds {
		if err := exceptions.write("payment held", "", "", "", h.PayeeType+" "+h.PayeeID, h.Amount, string(h.Reason)+": "+h.Detail); err != nil {
			return err
		}
	}
	var why strings.Builder
	err = r.EachDecision(func(l *core.Line, d *core.Decision) error {
		if err := decisions.write(l.Source, l.Row, string(l.Kind), l.Ref, d.PlanID, l.EmployeeID, l.DependentID, l.ProviderID, l.CareType,
			l.ServiceDate.String(), d.Units, l.Charged, d.EmployeeShare, d.EmployerShare, string(d.Status), d.ReasonList(), d.PayeeType, d.PayeeID); err != nil {
			return err
		}
		if d.Status != core.Rejected && d.Status != core.Partial {
			return nil
		}
		why.Reset()
		for i, code := range d.Reasons {
			if i > 0 {
				why.WriteByte(' ')
			}
			why.WriteString(string(code))
			why.WriteString(": ")
			why.WriteString(r.ReasonWords[string(code)])
			if code == core.InvalidRow && len(l.Errors) > 0 {
				why.WriteByte(' ')
				why.WriteString(l.Errors[0].Plain())
			}
		}
		return exceptions.write("line "+string(d.Status), l.Source, l.Row, l.Ref, l.EmployeeID, l.Charged-d.EmployerShare, why.String())
	})
	if err != nil {
		return err
	}
	if err := decisions.close(); err != nil {
		return err
	}
	if r.Wait != nil {
		if err := r.Wait(&r); err != nil {
			return err
		}
	}
	for _, id := range r.LettersHeld {
		if err := exceptions.write("letter held", "", "", "", id, "", "no postal address"); err != nil {
			return err
		}
	}
	if err := exceptions.close(); err != nil {
		return err
	}
	for _, row := range r.Summary {
		if err := summary.write(row[0], row[1]); err != nil {
			return err
		}
	}
	if err := summary.close(); err != nil {
		return err
	}
	if err := book.finish(); err != nil {
		return err
	}
	return writeZip(f, out)
}

// workbook makes the register's sheets and keeps their order: a sheet
// continued past maxRows is placed right after the one it continues.
type workbook struct {
	f           *excelize.File
	money, bold int
	maxRows     int
	order       []string          // the sheets in the order they are shown
	made        []string          // the sheets in the order they were made
	filters     map[string]string // each sheet's filtered range
}

// sheet starts a sheet with its column widths and a bold header row.
func (b *workbook) sheet(name string, widths []float64, header []string) (*sheetWriter, error) {
	if b.filters == nil {
		b.filters = map[string]string{}
	}
	w := &sheetWriter{book: b, base: name, widths: widths, header: header, part: 1}
	if err := w.open(); err != nil {
		return nil, err
	}
	return w, nil
}

// finish puts the sheets in order: continuations after the sheets they
// continue.
func (b *workbook) finish() error {
	if slices.Equal(b.order, b.made) {
		return nil
	}
	for i := len(b.order) - 1; i > 0; i-- {
		if err := b.f.MoveSheet(b.order[i-1], b.order[i]); err != nil {
			return fmt.Errorf("register: ordering sheet %s: %w", b.order[i-1], err)
		}
	}
	// A filter is named by the position of its sheet, which MoveSheet
	// leaves as it was: name each again at its sheet's new position.
	for _, name := range b.order {
		if err := b.f.AutoFilter(name, b.filters[name], nil); err != nil {
			return fmt.Errorf("register sheet %s: %w", name, err)
		}
	}
	return nil
}

// sheetWriter streams the rows of one sheet of the register, going on in
// a new sheet (Decisions 2, ...) when one is full.
type sheetWriter struct {
	book   *workbook
	base   string
	widths []float64
	header []string
	part   int // 1: the sheet named base; n: base + " n"

	name  string
	sw    *excelize.StreamWriter
	row   int
	cells []any
}

func (w *sheetWriter) open() error {
	w.name = w.base
	if w.part > 1 {
		w.name = w.base + " " + strconv.Itoa(w.part)
	}
	b := w.book
	// The sheets are ordered once written: continuations of Decisions
	// belong before Exceptions, which was started alongside.
	pos := len(b.order)
	for i, n := range b.order {
		if n == w.base || strings.HasPrefix(n, w.base+" ") {
			pos = i + 1
		}
	}
	b.order = slices.Insert(b.order, pos, w.name)
	b.made = append(b.made, w.name)
	if _, err := b.f.NewSheet(w.name); err != nil {
		return fmt.Errorf("register sheet %s: %w", w.name, err)
	}
	if len(b.made) == 1 {
		// Drop the sheet a new workbook starts with now, while no sheet
		// is streamed: excelize then reads every sheet to make the first
		// one active, and would parse back each streamed sheet still in
		// memory (seconds, at a million lines) to change nothing.
		if err := b.f.DeleteSheet("Sheet1"); err != nil {
			return fmt.Errorf("register: %w", err)
		}
	}
	sw, err := b.f.NewStreamWriter(w.name)
	if err != nil {
		return fmt.Errorf("register sheet %s: %w", w.name, err)
	}
	w.sw, w.row = sw, 1
	for i, wd := range w.widths {
		if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
			return fmt.Errorf("register sheet %s: %w", w.name, err)
		}
	}
	if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
		return fmt.Errorf("register sheet %s: %w", w.name, err)
	}
	cells := make([]any, len(w.header))
	for i, h := range w.header {
		cells[i] = excelize.Cell{StyleID: b.bold, Value: h}
	}
	if err := sw.SetRow("A1", cells); err != nil {
		return fmt.Errorf("register sheet %s: %w", w.name, err)
	}
	return nil
}

// write adds a row: money in the currency format, text made safe from
// being read as a formula.
func (w *sheetWriter) write(values ...any) error {
	if w.row >= w.book.maxRows {
		if err := w.close(); err != nil {
			return err
		}
		w.part++
		if err := w.open(); err != nil {
			return err
		}
	}
	w.row++
	cells := w.cells[:0]
	for _, v := range values {
		switch x := v.(type) {
		case core.Cents:
			v = excelize.Cell{StyleID: w.book.money, Value: float64(x) / 100}
		case string:
			v = CellSafe(x)
		}
		cells = append(cells, v)
	}
	w.cells = cells
	if err := w.sw.SetRow("A"+strconv.Itoa(w.row), cells); err != nil {
		return fmt.Errorf("register sheet %s row %d: %w", w.name, w.row, err)
	}
	return nil
}

// close ends the sheet: the header's filter spans its rows.
func (w *sheetWriter) close() error {
	last, err := excelize.CoordinatesToCellName(len(w.header), max(w.row, 2))
	if err == nil {
		// Set before Flush, which writes the sheet's autoFilter element.
		w.book.filters[w.name] = "A1:" + last
		err = w.book.f.AutoFilter(w.name, "A1:"+last, nil)
	}
	if err == nil {
		err = w.sw.Flush()
	}
	if err != nil {
		return fmt.Errorf("register sheet %s: %w", w.name, err)
	}
	return nil
}
