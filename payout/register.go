package payout

import (
	"io"
	"strconv"
	"strings"
	"time"

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
	// TempDir holds the sheets while they are written, compressed (the
	// system's temporary folder when empty).
	TempDir string
	// FileExceptions are rows of the Exceptions sheet for what the run's
	// files did not give (tables rejected whole, registry rows and bank
	// entries rejected): what, source, row, ref, who, amount, why.
	FileExceptions [][]any
}

// WriteRegister writes register.xlsx: Summary, Payments, Reconciliation,
// Decisions and Exceptions sheets, money as numbers in a currency format,
// the header row frozen and filtered, no sheet longer than MaxSheetRows.
// Decisions stream in one pass; each sheet is compressed as it is written
// into a temporary file in r.TempDir, and the files are copied into out
// at the end, so a large run needs no more memory than a small one.
func WriteRegister(out io.Writer, r Register) error {
	return writeRegister(out, r, MaxSheetRows)
}

// writeRegister is WriteRegister with the row limit of a sheet as a
// parameter, so that tests can overflow a sheet with a few rows.
func writeRegister(out io.Writer, r Register, maxRows int) error {
	stamp := r.Date.Time().Add(12 * time.Hour).Format(time.RFC3339)
	book := newXLSXBook(r.TempDir, "carepay register", stamp)
	defer book.close()

	// Summary is the first sheet, filled last: see Wait.
	summary, err := book.sheet("Summary", []float64{34, 20}, []string{"item", "value"}, maxRows)
	if err != nil {
		return err
	}

	payments, err := book.sheet("Payments", []float64{8, 10, 12, 30, 9, 14, 7, 12, 12, 18, 40},
		[]string{"payment", "payee_type", "payee_id", "payee", "method", "amount", "lines", "check_number", "account", "trace_number", "remittance"}, maxRows)
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
		[]string{"what", "payment", "payee_type", "payee_id", "method", "amount", "date", "check_or_trace", "detail"}, maxRows)
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
			"units", "charged", "employee_share", "employer_share", "status", "reasons", "payee_type", "payee_id"}, maxRows)
	if err != nil {
		return err
	}
	exceptions, err := book.sheet("Exceptions", []float64{12, 26, 9, 16, 12, 11, 60},
		[]string{"what", "source", "row", "ref", "who", "amount", "why"}, maxRows)
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
	return book.writeTo(out)
}

// sheet starts a sheet of the workbook, continued in another past maxRows
// rows.
func (b *xlsxBook) sheet(name string, widths []float64, header []string, maxRows int) (*sheetWriter, error) {
	w := &sheetWriter{book: b, base: name, widths: widths, header: header, part: 1, maxRows: maxRows}
	return w, w.open()
}

// sheetWriter streams the rows of one sheet of the register, going on in
// a new sheet (Decisions 2, ...) when one is full.
type sheetWriter struct {
	book    *xlsxBook
	base    string
	widths  []float64
	header  []string
	maxRows int
	part    int // 1: the sheet named base; n: base + " n"

	sheet *xlsxSheet
	cells []any
}

// open starts the sheet's next part, shown right after the parts before
// it: continuations of Decisions come before Exceptions, which was
// started alongside.
func (w *sheetWriter) open() error {
	name := w.base
	if w.part > 1 {
		name = w.base + " " + strconv.Itoa(w.part)
	}
	pos := len(w.book.sheets)
	for i, s := range w.book.sheets {
		if s.name == w.base || strings.HasPrefix(s.name, w.base+" ") {
			pos = i + 1
		}
	}
	s, err := w.book.addSheet(pos, name, w.widths, w.header)
	if err != nil {
		return err
	}
	w.sheet = s
	return nil
}

// write adds a row: money in the currency format, text made safe from
// being read as a formula.
func (w *sheetWriter) write(values ...any) error {
	if w.sheet.rows >= w.maxRows {
		if err := w.close(); err != nil {
			return err
		}
		w.part++
		if err := w.open(); err != nil {
			return err
		}
	}
	cells := w.cells[:0]
	for _, v := range values {
		if x, ok := v.(string); ok {
			v = CellSafe(x)
		}
		cells = append(cells, v)
	}
	w.cells = cells
	return w.sheet.row(styleNone, cells)
}

// close ends the sheet: the header's filter spans its rows.
func (w *sheetWriter) close() error { return w.sheet.finish() }
