package payout

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"sync"
	"text/template"

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
	// Replaces says which payments the bank sent back that this one pays
	// again, in words ("" when none).
	Replaces string
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

const (
	pageW      = 8.5
	marginL    = 0.875 // the #10 window's left edge
	windowTop  = 2.0   // top of the address block: inside a #10 window when tri-folded
	lineHeight = 0.19
)

// LetterRenderer lays letters out. It holds the parsed fonts, so a run
// keeps one per goroutine; it may not be used by two at once.
type LetterRenderer struct {
	style *LetterStyle
	fonts *letterFonts
	doc   *fpdf.Fpdf
}

// RenderedLetter is a letter laid out: the content of its pages and the
// blocks of characters its font subset must hold.
type RenderedLetter struct {
	Pages [][]byte
	Fonts FontSet
}

// NewRenderer returns a renderer of letters in this style.
func (s *LetterStyle) NewRenderer() (*LetterRenderer, error) {
	lf, err := loadFonts()
	if err != nil {
		return nil, err
	}
	return &LetterRenderer{style: s, fonts: lf, doc: newLayoutDoc()}, nil
}

// Render lays out the letter's pages.
func (r *LetterRenderer) Render(l *Letter) (*RenderedLetter, error) {
	texts, err := r.style.texts(l)
	if err != nil {
		return nil, err
	}
	out := &RenderedLetter{}
	tr := func(s string) string { return r.fonts.text(s, &out.Fonts) }
	tpl := r.doc.CreateTemplate(func(t *fpdf.Tpl) {
		r.style.layout(&t.Fpdf, fontFamily, tr, l, texts)
		err = t.Error()
	})
	if err != nil {
		return nil, fmt.Errorf("letter to %s %s: %w", l.Kind, l.ID, err)
	}
	for _, p := range tpl.(*fpdf.FpdfTpl).FromPages() {
		out.Pages = append(out.Pages, p.Bytes())
	}
	return out, nil
}

// WritePDF writes a rendered letter as a PDF file to w and says where its
// pages' content lies in it (for a print batch).
func (r *LetterRenderer) WritePDF(w io.Writer, l *Letter, rl *RenderedLetter) ([]PageSpan, error) {
	fo, err := r.fonts.subset(rl.Fonts)
	if err != nil {
		return nil, err
	}
	pdf := newPDFWriter(w)
	spans := make([]PageSpan, len(rl.Pages))
	for i, p := range rl.Pages {
		spans[i] = pdf.page(p)
	}
	if err := pdf.finish(fo, r.fonts.names, l.Date); err != nil {
		return nil, fmt.Errorf("letter to %s %s: %w", l.Kind, l.ID, err)
	}
	return spans, nil
}

// renderers serve WriteLetter: building one costs more than a letter.
var renderers sync.Pool

// WriteLetter renders one letter as a PDF document to w.
func (s *LetterStyle) WriteLetter(w io.Writer, l *Letter) error {
	r, _ := renderers.Get().(*LetterRenderer)
	if r == nil {
		var err error
		if r, err = s.NewRenderer(); err != nil {
			return err
		}
	}
	r.style = s
	defer renderers.Put(r)
	rl, err := r.Render(l)
	if err != nil {
		return err
	}
	_, err = r.WritePDF(w, l, rl)
	return err
}

var letterBlocks = []string{"subject", "greeting", "intro", "payment", "remaining", "closing"}

// texts returns the letter's paragraphs from the template, by block.
func (s *LetterStyle) texts(l *Letter) (map[string]string, error) {
	texts := make(map[string]string, len(letterBlocks))
	var b bytes.Buffer
	for _, name := range letterBlocks {
		b.Reset()
		if err := s.Template.ExecuteTemplate(&b, name, l); err != nil {
			return nil, fmt.Errorf("letter template block %s: %w", name, err)
		}
		texts[name] = strings.TrimSpace(b.String())
	}
	return texts, nil
}

// layout draws the letter on pdf (a template of the renderer's document);
// every text goes through tr, which keeps what the fonts can print.
func (s *LetterStyle) layout(pdf *fpdf.Fpdf, family string, tr func(string) string, l *Letter, texts map[string]string) {
	pdf.SetMargins(marginL, 0.5, 0.75)
	pdf.SetAutoPageBreak(true, 0.75)
	pdf.SetFont(family, "", 9)
	pdf.SetXY(0.5, 0.5)
	for _, r := range s.ReturnAddress {
		pdf.SetX(0.5)
		pdf.CellFormat(3.5, 0.16, tr(r), "", 1, "L", false, 0, "")
	}
	pdf.SetFont(family, "", 11)
	pdf.SetXY(marginL, windowTop)
	for _, r := range addressLines(l.Name, l.Address) {
		pdf.SetX(marginL)
		pdf.CellFormat(4.0, lineHeight, tr(r), "", 1, "L", false, 0, "")
	}
	pdf.SetXY(marginL, 3.4)
	pdf.SetFont(family, "B", 11)
	pdf.CellFormat(0, lineHeight, tr(texts["subject"]), "", 1, "L", false, 0, "")
	pdf.SetFont(family, "", 10)
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
	s.table(pdf, family, tr, l)
	para(texts["payment"])
	para(texts["remaining"])
	para(texts["closing"])
}

func addressLines(name string, a core.Address) []string {
	out := []string{name, a.Line1}
	if a.Line2 != "" {
		out = append(out, a.Line2)
	}
	return append(out, strings.TrimSpace(fmt.Sprintf("%s, %s %s", a.City, a.State, a.PostalCode)))
}

// table draws the lines and then the plain words of their reasons.
func (s *LetterStyle) table(pdf *fpdf.Fpdf, family string, tr func(string) string, l *Letter) {
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
	pdf.SetFont(family, "B", 8)
	for _, c := range cols {
		pdf.CellFormat(c.w, 0.2, c.title, "B", 0, c.align, false, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont(family, "", 8)
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
		pdf.SetFont(family, "", 8)
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
	pdf.SetFont(family, "", 10)
}

// cutRunes keeps at most n characters of s, never splitting one.
func cutRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
