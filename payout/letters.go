package payout

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/template"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"carepay/core"
)

// Letter is one remittance letter: to an employee with a decided line in
// the run, or to a provider paid in it.
type Letter struct {
	Kind         string // employee or provider
	ID           string
	Name         string
	Address      core.Address
	Email        string
	RunID        string
	Date         core.Date
	Lines        []LetterLine
	Payments     []LetterPayment
	PaidToOthers []string // employee letters: what went to providers
	Remaining    []string // what is left of the year's allowance
	Plan         string   // employee letters: the employee's plan
	ByEmail      bool     // sent as an email attachment, not posted
}

// LetterLine is one line of care in a letter. Providers' letters leave
// shares of the employee out of their wording but show the amounts paid.
type LetterLine struct {
	Date          core.Date
	Employee      string // provider letters: whose care
	Dependent     string // first name
	CareType      string
	Units         string
	Charged       core.Cents
	EmployeeShare core.Cents
	EmployerShare core.Cents
	Status        string
	Reasons       []string // codes
}

// LetterPayment is a payment the letter announces.
type LetterPayment struct {
	Method      string
	Amount      core.Cents
	Account     string // masked: ****1234
	CheckNumber int64
	Held        string // why it is held; empty when paid
}

// Postal reports whether the letter can go by post.
func (l *Letter) Postal() bool {
	a := l.Address
	return a.Line1 != "" && a.City != "" && a.PostalCode != ""
}

// LetterStyle is what every letter of a run shares.
type LetterStyle struct {
	Template      *template.Template // letter.tmpl
	ReasonWords   map[string]string  // reasons.txt
	ReturnAddress []string
}

// translators turn UTF-8 into the code page of the PDF core fonts,
// keeping José and Crèche. Building one costs more than a letter, and one
// may not be used by two goroutines at once (it reuses a buffer), so they
// are pooled.
var translators = sync.Pool{New: func() any {
	return fpdf.New("P", "in", "Letter", "").UnicodeTranslatorFromDescriptor("")
}}

const (
	pageW      = 8.5
	marginL    = 0.875 // the #10 window's left edge
	windowTop  = 2.0   // top of the address block: inside a #10 window when tri-folded
	lineHeight = 0.19
)

// NewDocument starts a PDF for letters. Dates inside it are fixed to the
// run date so that a document rebuilt for the same run is byte-identical.
func NewDocument(date core.Date) *fpdf.Fpdf {
	pdf := fpdf.New("P", "in", "Letter", "")
	pdf.SetMargins(marginL, 0.5, 0.75)
	pdf.SetAutoPageBreak(true, 0.75)
	pdf.SetCatalogSort(true)
	// Compressing costs a new deflate writer per page, most of a letter's
	// rendering time; a letter's text is small either way.
	pdf.SetCompression(false)
	t := date.Time().Add(12 * time.Hour)
	pdf.SetCreationDate(t)
	pdf.SetModificationDate(t)
	return pdf
}

// Render adds the letter's pages to pdf.
func (s *LetterStyle) Render(pdf *fpdf.Fpdf, l *Letter) error {
	tr := translators.Get().(func(string) string)
	defer translators.Put(tr)
	block := func(name string) (string, error) {
		var b bytes.Buffer
		if err := s.Template.ExecuteTemplate(&b, name, l); err != nil {
			return "", fmt.Errorf("letter template block %s: %w", name, err)
		}
		return strings.TrimSpace(b.String()), nil
	}
	texts := map[string]string{}
	for _, name := range []string{"subject", "greeting", "intro", "payment", "remaining", "closing"} {
		t, err := block(name)
		if err != nil {
			return err
		}
		texts[name] = t
	}
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 9)
	pdf.SetXY(0.5, 0.5)
	for _, r := range s.ReturnAddress {
		pdf.SetX(0.5)
		pdf.CellFormat(3.5, 0.16, tr(r), "", 1, "L", false, 0, "")
	}
	pdf.SetFont("Helvetica", "", 11)
	pdf.SetXY(marginL, windowTop)
	for _, r := range addressLines(l.Name, l.Address) {
		pdf.SetX(marginL)
		pdf.CellFormat(4.0, lineHeight, tr(r), "", 1, "L", false, 0, "")
	}
	pdf.SetXY(marginL, 3.4)
	pdf.SetFont("Helvetica", "B", 11)
	pdf.CellFormat(0, lineHeight, tr(texts["subject"]), "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	pdf.Ln(0.1)
	para := func(t string) {
		if t == "" {
			return
		}
		pdf.MultiCell(0, 0.18, tr(t), "", "L", false)
		pdf.Ln(0.08)
	}
	para(texts["greeting"])
	para(texts["intro"])
	s.table(pdf, tr, l)
	para(texts["payment"])
	para(texts["remaining"])
	para(texts["closing"])
	return nil
}

func addressLines(name string, a core.Address) []string {
	out := []string{name, a.Line1}
	if a.Line2 != "" {
		out = append(out, a.Line2)
	}
	return append(out, strings.TrimSpace(fmt.Sprintf("%s, %s %s", a.City, a.State, a.PostalCode)))
}

// table draws the lines and then the plain words of their reasons.
func (s *LetterStyle) table(pdf *fpdf.Fpdf, tr func(string) string, l *Letter) {
	type col struct {
		title string
		w     float64
		align string
	}
	cols := []col{{"Date", 0.8, "L"}, {"For", 0.9, "L"}, {"Care", 1.1, "L"}, {"Units", 0.5, "R"}, {"Charged", 0.8, "R"},
		{"You pay", 0.8, "R"}, {"Employer", 0.8, "R"}, {"Status", 1.2, "L"}}
	if l.Kind == core.PayeeProvider {
		cols[1].title, cols[5].title, cols[6].title = "Employee", "Family", "Paid"
	}
	pdf.SetFont("Helvetica", "B", 8)
	for _, c := range cols {
		pdf.CellFormat(c.w, 0.2, c.title, "B", 0, c.align, false, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("Helvetica", "", 8)
	seen := map[string]bool{}
	var reasons []string
	for _, ln := range l.Lines {
		who := ln.Dependent
		if l.Kind == core.PayeeProvider {
			who = ln.Employee + " " + ln.Dependent
		}
		status := ln.Status
		if len(ln.Reasons) > 0 {
			status += " *"
		}
		cells := []string{ln.Date.String(), who, strings.ReplaceAll(ln.CareType, "_", " "), ln.Units, ln.Charged.String(),
			ln.EmployeeShare.String(), ln.EmployerShare.String(), status}
		for i, c := range cols {
			pdf.CellFormat(c.w, 0.18, tr(cutRunes(cells[i], 22)), "", 0, c.align, false, 0, "")
		}
		pdf.Ln(-1)
		for _, r := range ln.Reasons {
			if !seen[r] {
				seen[r] = true
				reasons = append(reasons, r)
			}
		}
	}
	pdf.Ln(0.08)
	if len(reasons) > 0 {
		pdf.SetFont("Helvetica", "", 8)
		pdf.MultiCell(0, 0.16, "* Why a line was not paid in full:", "", "L", false)
		for _, r := range reasons {
			words := s.ReasonWords[r]
			if words == "" {
				words = r
			}
			pdf.MultiCell(0, 0.16, tr("- "+words), "", "L", false)
		}
		pdf.Ln(0.08)
	}
	pdf.SetFont("Helvetica", "", 10)
}

// WriteLetter renders one letter as a PDF document to w.
func (s *LetterStyle) WriteLetter(w io.Writer, l *Letter) error {
	pdf := NewDocument(l.Date)
	if err := s.Render(pdf, l); err != nil {
		return err
	}
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("letter to %s %s: %w", l.Kind, l.ID, err)
	}
	return nil
}

// cutRunes keeps at most n characters of s, never splitting one.
func cutRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
