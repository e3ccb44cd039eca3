package payout

import (
	"archive/zip"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"carepay/core"
)

// Register is what register.xlsx shows of a run.
type Register struct {
	// Date stamps the workbook's properties: a workbook rebuilt for the
	// same run is byte-identical.
	Date core.Date
	// Summary rows: a label and a value (text, a number or core.Cents).
	Summary [][2]any
	// Payments and Holds of the run.
	Payments []*core.Payment
	Holds    []core.PaymentHold
	// EachDecision streams the run's decided lines (it is called twice:
	// for the Decisions and the Exceptions sheets).
	EachDecision func(fn func(*core.Line, *core.Decision) error) error
	ReasonWords  map[string]string
	// LettersHeld names letters that could not go by post.
	LettersHeld []string
}

type sheetWriter struct {
	sw    *excelize.StreamWriter
	money int
	row   int
}

func (w *sheetWriter) write(values ...any) error {
	w.row++
	cells := make([]any, len(values))
	for i, v := range values {
		switch x := v.(type) {
		case core.Cents:
			cells[i] = excelize.Cell{StyleID: w.money, Value: float64(x) / 100}
		case string:
			cells[i] = CellSafe(x)
		default:
			cells[i] = v
		}
	}
	cell, _ := excelize.CoordinatesToCellName(1, w.row)
	return w.sw.SetRow(cell, cells)
}

// WriteRegister writes register.xlsx: Summary, Payments, Decisions and
// Exceptions sheets, money as numbers in a currency format, the header row
// frozen and filtered. Decisions stream, so a large run needs no more
// memory than a small one.
func WriteRegister(out io.Writer, r Register) error {
	f := excelize.NewFile()
	defer f.Close()
	stamp := r.Date.Time().Add(12 * time.Hour).Format(time.RFC3339)
	if err := f.SetDocProps(&excelize.DocProperties{Created: stamp, Modified: stamp, Creator: "carepay", Title: "carepay register"}); err != nil {
		return err
	}
	format := `"$"#,##0.00;[Red]\-"$"#,##0.00`
	money, err := f.NewStyle(&excelize.Style{CustomNumFmt: &format})
	if err != nil {
		return err
	}
	bold, err := f.NewStyle(&excelize.Style{Font: &excelize.Font{Bold: true}})
	if err != nil {
		return err
	}
	sheet := func(name string, widths []float64, header []string, fill func(w *sheetWriter) error) error {
		if _, err := f.NewSheet(name); err != nil {
			return err
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return err
		}
		for i, wd := range widths {
			if err := sw.SetColWidth(i+1, i+1, wd); err != nil {
				return err
			}
		}
		if err := sw.SetPanes(&excelize.Panes{Freeze: true, YSplit: 1, TopLeftCell: "A2", ActivePane: "bottomLeft"}); err != nil {
			return err
		}
		cells := make([]any, len(header))
		for i, h := range header {
			cells[i] = excelize.Cell{StyleID: bold, Value: h}
		}
		if err := sw.SetRow("A1", cells); err != nil {
			return err
		}
		w := &sheetWriter{sw: sw, money: money, row: 1}
		if err := fill(w); err != nil {
			return fmt.Errorf("register sheet %s: %w", name, err)
		}
		if err := sw.Flush(); err != nil {
			return err
		}
		last, _ := excelize.CoordinatesToCellName(len(header), max(w.row, 2))
		return f.AutoFilter(name, "A1:"+last, nil)
	}
	err = sheet("Summary", []float64{34, 20}, []string{"item", "value"}, func(w *sheetWriter) error {
		for _, row := range r.Summary {
			if err := w.write(row[0], row[1]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	err = sheet("Payments", []float64{8, 10, 12, 30, 9, 14, 7, 12, 12, 18, 40},
		[]string{"payment", "payee_type", "payee_id", "payee", "method", "amount", "lines", "check_number", "account", "trace_number", "remittance"},
		func(w *sheetWriter) error {
			for _, p := range r.Payments {
				var check any
				if p.CheckNumber != 0 {
					check = p.CheckNumber
				}
				if err := w.write(p.ID, p.PayeeType, p.PayeeID, p.Name, p.Method, p.Amount, p.Lines, check, p.Bank.Masked(),
					p.TraceNumber, strings.Join(p.Refs, " ")); err != nil {
					return err
				}
			}
			return nil
		})
	if err != nil {
		return err
	}
	err = sheet("Decisions", []float64{26, 9, 10, 16, 14, 10, 10, 10, 16, 11, 7, 11, 11, 11, 9, 30, 9, 10},
		[]string{"source", "row", "kind", "ref", "plan_id", "employee_id", "dependent_id", "provider_id", "care_type", "service_date",
			"units", "charged", "employee_share", "employer_share", "status", "reasons", "payee_type", "payee_id"},
		func(w *sheetWriter) error {
			return r.EachDecision(func(l *core.Line, d *core.Decision) error {
				return w.write(l.Source, l.Row, string(l.Kind), l.Ref, d.PlanID, l.EmployeeID, l.DependentID, l.ProviderID, l.CareType,
					l.ServiceDate.String(), d.Units, l.Charged, d.EmployeeShare, d.EmployerShare, string(d.Status), d.ReasonList(), d.PayeeType, d.PayeeID)
			})
		})
	if err != nil {
		return err
	}
	err = sheet("Exceptions", []float64{12, 26, 9, 16, 12, 11, 60},
		[]string{"what", "source", "row", "ref", "who", "amount", "why"},
		func(w *sheetWriter) error {
			for _, h := range r.Holds {
				if err := w.write("payment held", "", "", "", h.PayeeType+" "+h.PayeeID, h.Amount, string(h.Reason)+": "+h.Detail); err != nil {
					return err
				}
			}
			for _, id := range r.LettersHeld {
				if err := w.write("letter held", "", "", "", id, "", "no postal address"); err != nil {
					return err
				}
			}
			return r.EachDecision(func(l *core.Line, d *core.Decision) error {
				if d.Status != core.Rejected && d.Status != core.Partial {
					return nil
				}
				why := make([]string, len(d.Reasons))
				for i, code := range d.Reasons {
					why[i] = string(code) + ": " + r.ReasonWords[string(code)]
				}
				return w.write("line "+string(d.Status), l.Source, l.Row, l.Ref, l.EmployeeID, l.Charged-d.EmployerShare, strings.Join(why, " "))
			})
		})
	if err != nil {
		return err
	}
	if err := f.DeleteSheet("Sheet1"); err != nil {
		return err
	}
	f.SetActiveSheet(0)
	// The workbook goes to a temporary file first (a million decisions
	// make tens of megabytes), then is copied out in entry order.
	tmp, err := os.CreateTemp("", "carepay-register-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	defer tmp.Close()
	size, err := f.WriteTo(tmp)
	if err != nil {
		return err
	}
	return sortedZip(out, tmp, size)
}

// sortedZip copies a zip archive with its entries in name order: excelize
// writes streamed sheets in map order, and a register rebuilt for the same
// run must be the same bytes. Entries are copied still compressed.
func sortedZip(out io.Writer, archive io.ReaderAt, size int64) error {
	zr, err := zip.NewReader(archive, size)
	if err != nil {
		return err
	}
	files := append([]*zip.File(nil), zr.File...)
	sort.Slice(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	zw := zip.NewWriter(out)
	for _, f := range files {
		r, err := f.OpenRaw()
		if err != nil {
			return err
		}
		w, err := zw.CreateRaw(&f.FileHeader)
		if err != nil {
			return err
		}
		if _, err := io.Copy(w, r); err != nil {
			return err
		}
	}
	return zw.Close()
}
