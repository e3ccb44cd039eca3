package payout

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"carepay/core"
)

func TestRegisterSheetsMoneyAndFormulaSafety(t *testing.T) {
	lines := []struct {
		l core.Line
		d core.Decision
	}{
		{core.Line{Source: "a.csv", Row: 2, Kind: core.Statement, Ref: "=HYPERLINK(\"http://x\")", EmployeeID: "+E1", Charged: 12050},
			core.Decision{Status: core.Rejected, Reasons: []core.Reason{core.Late}, EmployeeShare: 12050}},
		{core.Line{Source: "a.csv", Row: 3, Kind: core.Statement, Ref: "S1", EmployeeID: "@E2", Charged: 10000},
			core.Decision{Status: core.Approved, EmployerShare: 8000, EmployeeShare: 2000}},
		{core.Line{Source: "a.csv", Row: 4, Kind: core.Statement, Ref: "S1", EmployeeID: "E3",
			Errors: []*core.RowError{{File: "a.csv", Row: 4, Column: "amount_charged", Value: "12,3x", Msg: "want an amount like 123.45"}}},
			core.Decision{Status: core.Rejected, Reasons: []core.Reason{core.InvalidRow}}},
	}
	r := Register{
		Date:     core.NewDate(2026, 4, 10),
		Summary:  [][2]any{{"run", "R1"}, {"approved", core.Cents(8000)}},
		Payments: []*core.Payment{{ID: 7, PayeeType: "provider", PayeeID: "-P1", Name: "Sunny", Method: "ach", Amount: 8000, Lines: 1, Bank: core.BankAccount{Number: "123456789"}}},
		Holds:    []core.PaymentHold{{PayeeType: "provider", PayeeID: "P4", Amount: 14000, Reason: core.PaymentDetails, Detail: "routing number fails"}},
		EachDecision: func(fn func(*core.Line, *core.Decision) error) error {
			for i := range lines {
				if err := fn(&lines[i].l, &lines[i].d); err != nil {
					return err
				}
			}
			return nil
		},
		ReasonWords: map[string]string{"LATE": "The claim arrived after the deadline for submission.", "INVALID_ROW": "A value on this line could not be read."},
		LettersHeld: []string{"provider P4"},
	}
	f := writeAndOpen(t, r)
	for _, c := range []struct{ sheet, cell, want string }{
		{"Decisions", "D2", "'=HYPERLINK(\"http://x\")"}, // a formula kept as text
		{"Decisions", "F2", "'+E1"},
		{"Decisions", "F3", "'@E2"},
		{"Payments", "C2", "'-P1"},
		{"Payments", "I2", "****6789"}, // masked, never the number
		{"Exceptions", "A2", "payment held"},
		{"Exceptions", "G3", "LATE: The claim arrived after the deadline for submission."},
		// An unreadable line says which value and what was wrong;
		// Decisions keeps the code alone.
		{"Exceptions", "G4", `INVALID_ROW: A value on this line could not be read. Column amount_charged, value "12,3x": want an amount like 123.45.`},
		{"Decisions", "P4", "INVALID_ROW"},
		{"Exceptions", "A5", "letter held"}, // letters held end the sheet
		{"Exceptions", "E5", "provider P4"},
	} {
		got, err := f.GetCellValue(c.sheet, c.cell)
		if err != nil || got != c.want {
			t.Errorf("%s!%s = %q (%v), want %q", c.sheet, c.cell, got, err, c.want)
		}
		if formula, _ := f.GetCellFormula(c.sheet, c.cell); formula != "" {
			t.Errorf("%s!%s holds a formula %q", c.sheet, c.cell, formula)
		}
	}
	// Money is a number (80.00), shown in a currency format.
	raw, _ := f.GetCellValue("Payments", "F2", excelize.Options{RawCellValue: true})
	if raw != "80" {
		t.Errorf("amount cell holds %q, want the number 80", raw)
	}
	shown, _ := f.GetCellValue("Payments", "F2")
	if shown != "$80.00" {
		t.Errorf("amount shows as %q", shown)
	}
	panes, err := f.GetPanes("Decisions")
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("Decisions header not frozen: %+v %v", panes, err)
	}
	// Rendered twice, the workbook is the same bytes.
	var again bytes.Buffer
	if err := WriteRegister(&again, r); err != nil {
		t.Fatal(err)
	}
	var first bytes.Buffer
	WriteRegister(&first, r)
	if !bytes.Equal(first.Bytes(), again.Bytes()) {
		t.Error("register.xlsx is not deterministic")
	}
}

// TestRegisterSheetOverflow: a sheet never holds more rows than a sheet
// can (MaxSheetRows, here 3 to keep the test small): Decisions continues
// in Decisions 2 and 3, shown before Exceptions, each sheet with its
// header, its frozen pane and its own filter.
func TestRegisterSheetOverflow(t *testing.T) {
	if MaxSheetRows != 1<<20 {
		t.Fatalf("MaxSheetRows = %d, want Excel's 1,048,576", MaxSheetRows)
	}
	var lines []core.Line
	var decisions []core.Decision
	for i := range 5 {
		lines = append(lines, core.Line{Source: "a.csv", Row: i + 2, Kind: core.Statement, Ref: "S" + strconv.Itoa(i), Charged: 1000})
		d := core.Decision{Status: core.Approved, EmployerShare: 1000}
		if i%2 == 0 {
			d = core.Decision{Status: core.Rejected, Reasons: []core.Reason{core.Late}, EmployeeShare: 1000}
		}
		decisions = append(decisions, d)
	}
	r := Register{
		Date:    core.NewDate(2026, 4, 10),
		Summary: [][2]any{{"run", "R1"}},
		Holds:   []core.PaymentHold{{PayeeType: "provider", PayeeID: "P4", Amount: 14000, Reason: core.PaymentDetails, Detail: "x"}},
		EachDecision: func(fn func(*core.Line, *core.Decision) error) error {
			for i := range lines {
				if err := fn(&lines[i], &decisions[i]); err != nil {
					return err
				}
			}
			return nil
		},
	}
	var buf bytes.Buffer
	if err := writeRegister(&buf, r, 3); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	want := []string{"Summary", "Payments", "Reconciliation", "Decisions", "Decisions 2", "Decisions 3", "Exceptions", "Exceptions 2"}
	if got := f.GetSheetList(); !slices.Equal(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	opensOnSummary(t, f, buf.Bytes())
	wellFormed(t, buf.Bytes())
	refs := map[string][]string{
		"Decisions": {"S0", "S1"}, "Decisions 2": {"S2", "S3"}, "Decisions 3": {"S4"},
		"Exceptions": {"", "S0"}, "Exceptions 2": {"S2", "S4"},
	}
	for sheet, want := range refs {
		rows, err := f.GetRows(sheet)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != len(want)+1 || len(rows) > 3 {
			t.Errorf("%s holds %d rows, want a header and %d", sheet, len(rows), len(want))
			continue
		}
		if rows[0][0] != "source" && rows[0][0] != "what" {
			t.Errorf("%s has no header: %q", sheet, rows[0])
		}
		for i, ref := range want {
			if got := rows[i+1][3]; got != ref {
				t.Errorf("%s row %d ref %q, want %q", sheet, i+2, got, ref)
			}
		}
		if panes, err := f.GetPanes(sheet); err != nil || !panes.Freeze {
			t.Errorf("%s header not frozen: %+v %v", sheet, panes, err)
		}
	}
	// Every sheet's filter is named at its own position.
	filters := map[string]string{}
	for _, dn := range f.GetDefinedName() {
		if dn.Name == "_xlnm._FilterDatabase" {
			filters[dn.Scope] = dn.RefersTo
		}
	}
	for _, sheet := range want {
		if !strings.HasPrefix(filters[sheet], "'"+sheet+"'!") {
			t.Errorf("filter of %s: %q", sheet, filters[sheet])
		}
	}
	var again bytes.Buffer
	if err := writeRegister(&again, r, 3); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(buf.Bytes(), again.Bytes()) {
		t.Error("register.xlsx is not deterministic")
	}
}

// opensOnSummary checks that the register opens on its first sheet,
// Summary: the workbook's active tab, and the only sheet selected (the
// one whose header starts "item").
func opensOnSummary(t *testing.T, f *excelize.File, xlsx []byte) {
	t.Helper()
	if i := f.GetActiveSheetIndex(); i != 0 {
		t.Errorf("active sheet %d, want 0 (Summary)", i)
	}
	zr, err := zip.NewReader(bytes.NewReader(xlsx), int64(len(xlsx)))
	if err != nil {
		t.Fatal(err)
	}
	var selected []string
	for _, part := range zr.File {
		if !strings.HasPrefix(part.Name, "xl/worksheets/sheet") {
			continue
		}
		r, err := part.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(b, []byte(`tabSelected="true"`)) || bytes.Contains(b, []byte(`tabSelected="1"`)) {
			selected = append(selected, part.Name)
			if !bytes.Contains(b, []byte(`<t>item</t>`)) {
				t.Errorf("%s is selected, not Summary", part.Name)
			}
		}
	}
	if len(selected) != 1 {
		t.Errorf("selected sheets %v, want Summary alone", selected)
	}
}

// TestRegisterWaits: a register written while the letters are asks for
// its Summary and the letters held once every line is written, and puts
// them where they belong: Summary first, letters held after the lines.
func TestRegisterWaits(t *testing.T) {
	linesDone := false
	r := Register{
		Date: core.NewDate(2026, 4, 10),
		EachDecision: func(fn func(*core.Line, *core.Decision) error) error {
			err := fn(&core.Line{Source: "a.csv", Row: 2, Kind: core.Invoice, Ref: "INV-1", EmployeeID: "E1", Charged: 100},
				&core.Decision{Status: core.Rejected, Reasons: []core.Reason{core.Late}})
			linesDone = true
			return err
		},
		ReasonWords: map[string]string{"LATE": "Late."},
		Wait: func(r *Register) error {
			if !linesDone {
				t.Error("Wait called before the lines were written")
			}
			r.Summary = [][2]any{{"letters written", 3}}
			r.LettersHeld = []string{"employee E9"}
			return nil
		},
	}
	f := writeAndOpen(t, r)
	for _, c := range []struct{ sheet, cell, want string }{
		{"Summary", "A2", "letters written"},
		{"Summary", "B2", "3"},
		{"Exceptions", "A2", "line rejected"},
		{"Exceptions", "A3", "letter held"},
		{"Exceptions", "E3", "employee E9"},
		{"Exceptions", "A4", ""},
	} {
		if got, err := f.GetCellValue(c.sheet, c.cell); err != nil || got != c.want {
			t.Errorf("%s!%s = %q (%v), want %q", c.sheet, c.cell, got, err, c.want)
		}
	}
	// A Wait that fails fails the register.
	stop := errors.New("letters failed")
	r.Wait = func(*Register) error { return stop }
	if err := WriteRegister(io.Discard, r); !errors.Is(err, stop) {
		t.Errorf("WriteRegister: %v, want Wait's error", err)
	}
}

// writeAndOpen writes r and opens it, checking its five sheets and that
// it opens on Summary.
func writeAndOpen(t *testing.T, r Register) *excelize.File {
	t.Helper()
	var buf bytes.Buffer
	if err := WriteRegister(&buf, r); err != nil {
		t.Fatal(err)
	}
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if got := f.GetSheetList(); !slices.Equal(got, []string{"Summary", "Payments", "Reconciliation", "Decisions", "Exceptions"}) {
		t.Fatalf("sheets %v", got)
	}
	opensOnSummary(t, f, buf.Bytes())
	wellFormed(t, buf.Bytes())
	return f
}
