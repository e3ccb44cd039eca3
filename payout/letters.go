package payout

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
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
	// RowError is, for a line that could not be read (INVALID_ROW), the
	// first value at fault: its column and what was wrong. nil otherwise.
	RowError *core.RowError
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
	// FallbackFonts are TrueType font files tried in order for characters
	// the Go fonts lack (config: letters.fallback_fonts); a character none
	// has is transliterated.
	FallbackFonts []string
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
	// widths are the letter fonts' character widths measured so far
	// (cells.runeWidths), kept from letter to letter.
	widths map[string]map[rune]int
}

// RenderedLetter is a letter laid out: the content of its pages and the
// blocks of characters its font subset must hold.
type RenderedLetter struct {
	Pages [][]byte
	Fonts FontSet
	// Transliterated is set when a character no letter font has (a name
	// in a script neither the Go fonts nor a fallback font has) was
	// written in Latin letters.
	Transliterated bool
}

// NewRenderer returns a renderer of letters in this style.
func (s *LetterStyle) NewRenderer() (*LetterRenderer, error) {
	lf, err := loadFonts(s.FallbackFonts)
	if err != nil {
		return nil, err
	}
	return &LetterRenderer{style: s, fonts: lf, doc: newLayoutDoc(), widths: map[string]map[rune]int{}}, nil
}

// Render lays out the letter's pages.
func (r *LetterRenderer) Render(l *Letter) (*RenderedLetter, error) {
	texts, err := r.style.texts(l)
	if err != nil {
		return nil, err
	}
	out := &RenderedLetter{}
	tr := func(s string) string { return r.fonts.text(s, &out.Fonts, &out.Transliterated) }
	tpl := r.doc.CreateTemplate(func(t *fpdf.Tpl) {
		r.style.layout(&cells{pdf: &t.Fpdf, lf: r.fonts, widths: r.widths}, fontFamily, tr, l, texts)
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
	pdf := newPDFWriter(w, r.fonts)
	spans := make([]PageSpan, len(rl.Pages))
	for i, p := range rl.Pages {
		spans[i] = pdf.page(p)
	}
	if err := pdf.finish(fo, l.Date); err != nil {
		return nil, fmt.Errorf("letter to %s %s: %w", l.Kind, l.ID, err)
	}
	return spans, nil
}

// renderers serve WriteLetter: building one costs more than a letter.
var renderers sync.Pool

// WriteLetter renders one letter as a PDF document to w.
func (s *LetterStyle) WriteLetter(w io.Writer, l *Letter) error {
	r, _ := renderers.Get().(*LetterRenderer)
	if r != nil && (len(s.FallbackFonts) > 0 || r.fonts.fallbacks != nil) {
		if lf, err := loadFonts(s.FallbackFonts); err != nil || lf != r.fonts {
			r = nil // a renderer of other fallback fonts
		}
	}
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

// layout draws the letter on c's document (a template of the renderer's);
// every text goes through tr, which keeps what the fonts can print, and
// is then written through c, which sets the characters of fallback fonts.
func (s *LetterStyle) layout(c *cells, family string, tr func(string) string, l *Letter, texts map[string]string) {
	pdf := c.pdf
	pdf.SetMargins(marginL, 0.5, marginR)
	pdf.SetAutoPageBreak(true, 0.75)
	pdf.SetFont(family, "", 9)
	pdf.SetXY(0.5, 0.5)
	for _, r := range s.ReturnAddress {
		pdf.SetX(0.5)
		c.cell(3.5, 0.16, tr(r), 1, "L")
	}
	// Pages after the first say whose letter they continue.
	pdf.SetHeaderFunc(func() {
		if pdf.PageNo() < 2 {
			return
		}
		pdf.SetFont(family, "", 8)
		pdf.SetXY(marginL, 0.5)
		c.cell(0, 0.16, tr(fmt.Sprintf("%s - %s - page %d", l.Name, texts["subject"], pdf.PageNo())), 1, "L")
		pdf.Ln(0.12)
	})
	pdf.SetFont(family, "", 11)
	pdf.SetXY(marginL, windowTop)
	for _, r := range addressLines(l.Name, l.Address) {
		pdf.SetX(marginL)
		c.cell(4.0, lineHeight, tr(r), 1, "L")
	}
	pdf.SetXY(marginL, 3.4)
	pdf.SetFont(family, "B", 11)
	c.cell(0, lineHeight, tr(texts["subject"]), 1, "L")
	pdf.SetFont(family, "", 10)
	pdf.Ln(0.1)
	para := func(t string) {
		if t == "" {
			return
		}
		c.para(0.18, tr(t))
		pdf.Ln(0.08)
	}
	para(texts["greeting"])
	para(texts["intro"])
	s.table(c, family, tr, l)
	para(texts["payment"])
	para(texts["remaining"])
	para(texts["closing"])
}

// addressLines returns the address block: the name, then the address
// lines that are not blank, so that a recipient with no address on file
// gets their name alone, never a line holding a lone comma.
func addressLines(name string, a core.Address) []string {
	out := []string{name}
	for _, s := range []string{a.Line1, a.Line2} {
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	city := strings.TrimSpace(a.City)
	region := strings.TrimSpace(strings.TrimSpace(a.State) + " " + strings.TrimSpace(a.PostalCode))
	switch {
	case city != "" && region != "":
		out = append(out, city+", "+region)
	case city != "" || region != "":
		out = append(out, city+region)
	}
	return out
}

// letterColumn is one column of a letter's table of lines.
type letterColumn struct {
	title string
	w     float64 // inches
	align string
}

// tableColumns returns the columns of a letter's table of lines. They fit
// between the margins (tableRightEdge); a cell too long for its column
// wraps onto more lines of the same row instead of running into the next.
func tableColumns(kind string) []letterColumn {
	if kind == core.PayeeProvider {
		return []letterColumn{{"Date", 0.72, "L"}, {"Employee", 1.1, "L"}, {"For", 0.7, "L"}, {"Care", 0.95, "L"}, {"Units", 0.45, "R"},
			{"Charged", 0.65, "R"}, {"Family", 0.6, "R"}, {"Paid", 0.65, "R"}, {"Status", 0.62, "L"}, {"Why", 0.4, "L"}}
	}
	return []letterColumn{{"Date", 0.75, "L"}, {"For", 1.0, "L"}, {"Care", 1.15, "L"}, {"Units", 0.5, "R"}, {"Charged", 0.7, "R"},
		{"You pay", 0.7, "R"}, {"Employer", 0.7, "R"}, {"Status", 0.75, "L"}, {"Why", 0.5, "L"}}
}

const (
	marginR   = 0.75
	cellLine  = 0.16 // a line of text in the table
	noteLine  = 0.17 // a line of a note under it
	noteLabel = 0.3  // the width of a note's number; its text hangs beside it
)

// notes numbers the explanations under a letter's table: each distinct
// text once, numbered in the order lines first cite it.
type notes struct {
	texts []string
	num   map[string]int
}

func (n *notes) cite(text string) int {
	if k, ok := n.num[text]; ok {
		return k
	}
	if n.num == nil {
		n.num = map[string]int{}
	}
	n.texts = append(n.texts, text)
	n.num[text] = len(n.texts)
	return len(n.texts)
}

// reasonText is the explanation of one reason of a line: the plain words
// of its code and, for a line that could not be read, which value and what
// was wrong with it.
func (s *LetterStyle) reasonText(code string, ln *LetterLine) string {
	words := s.ReasonWords[code]
	if words == "" {
		words = code
	}
	if code == string(core.InvalidRow) && ln.RowError != nil {
		words = strings.TrimSpace(words + " " + ln.RowError.Plain())
	}
	return words
}

// wrapCell breaks text into the lines a cell w wide holds in the current
// font (and the fallback fonts of its characters): between words, else
// after a hyphen (Anna-|Maria), and a word longer than the cell between
// characters.
func wrapCell(c *cells, text string, w float64) []string {
	avail := w - 2*c.pdf.GetCellMargin()
	if text == "" {
		return nil
	}
	if c.width(text) <= avail {
		return []string{text}
	}
	var lines []string
	cur := ""
	for _, word := range strings.Fields(text) {
		for i, part := range splitAfterHyphens(word) {
			cand := part
			if cur != "" {
				cand = cur + part
				if i == 0 {
					cand = cur + " " + part
				}
			}
			if c.width(cand) <= avail {
				cur = cand
				continue
			}
			if cur != "" {
				lines = append(lines, cur)
			}
			cur = part
			for c.width(cur) > avail {
				r := []rune(cur)
				n := 1
				for n < len(r) && c.width(string(r[:n+1])) <= avail {
					n++
				}
				lines = append(lines, string(r[:n]))
				cur = string(r[n:])
			}
		}
	}
	if cur != "" {
		lines = append(lines, cur)
	}
	return lines
}

// splitAfterHyphens splits a word after each of its inner hyphens.
func splitAfterHyphens(word string) []string {
	var parts []string
	for {
		i := strings.Index(word, "-")
		if i < 0 || i == len(word)-1 {
			return append(parts, word)
		}
		parts = append(parts, word[:i+1])
		word = word[i+1:]
	}
}

// pageBottom is where the body of a page ends.
func pageBottom(pdf *fpdf.Fpdf) float64 {
	_, h := pdf.GetPageSize()
	_, m := pdf.GetAutoPageBreak()
	return h - m
}

// table draws the lines, each marked in its Why column with the numbers
// of the notes that explain it, and then the numbered notes. A row or a
// note that would not fit on the page starts the next one, where the
// table's header is repeated and a note keeps its hanging indent.
func (s *LetterStyle) table(c *cells, family string, tr func(string) string, l *Letter) {
	pdf := c.pdf
	cols := tableColumns(l.Kind)
	header := func() {
		pdf.SetFont(family, "B", 8)
		pdf.SetX(marginL)
		for _, col := range cols {
			if !c.plainCell(col.w, 0.2, col.title, "B", 0, col.align) {
				pdf.CellFormat(col.w, 0.2, col.title, "B", 0, col.align, false, 0, "")
			}
		}
		pdf.Ln(-1)
		pdf.SetFont(family, "", 8)
	}
	header()
	var ns notes
	row := make([]string, len(cols))
	wrapped := make([][]string, len(cols))
	for i := range l.Lines {
		ln := &l.Lines[i]
		var why []string
		for _, r := range ln.Reasons {
			why = append(why, strconv.Itoa(ns.cite(s.reasonText(r, ln))))
		}
		row = append(row[:0], ln.Date.String())
		if l.Kind == core.PayeeProvider {
			row = append(row, ln.Employee)
		}
		row = append(row, ln.Dependent, strings.ReplaceAll(ln.CareType, "_", " "), ln.Units, ln.Charged.String(),
			ln.EmployeeShare.String(), ln.EmployerShare.String(), ln.Status, strings.Join(why, ", "))
		n := 1
		for i := range cols {
			wrapped[i] = wrapCell(c, tr(row[i]), cols[i].w)
			n = max(n, len(wrapped[i]))
		}
		h := float64(n) * cellLine
		if pdf.GetY()+h > pageBottom(pdf) {
			pdf.AddPage()
			header()
		}
		y, x := pdf.GetY(), marginL
		for i, col := range cols {
			for j, t := range wrapped[i] {
				pdf.SetXY(x, y+float64(j)*cellLine)
				c.cell(col.w, cellLine, t, 0, col.align)
			}
			x += col.w
		}
		pdf.SetXY(marginL, y+h)
	}
	pdf.Ln(0.08)
	if len(ns.texts) > 0 {
		pdf.SetFont(family, "", 9)
		heading := "Why a line was not paid in full (the numbers in the Why column):"
		textW := pageW - marginL - marginR - noteLabel
		for i, t := range ns.texts {
			lines := wrapCell(c, tr(t), textW)
			h := float64(len(lines)) * noteLine
			if i == 0 {
				h += noteLine + 0.04 // the heading stays with the first note
			}
			if pdf.GetY()+h > pageBottom(pdf) {
				pdf.AddPage()
			}
			if i == 0 {
				pdf.SetX(marginL)
				pdf.CellFormat(0, noteLine, heading, "", 1, "L", false, 0, "")
				pdf.Ln(0.04)
			}
			y := pdf.GetY()
			pdf.SetXY(marginL, y)
			pdf.CellFormat(noteLabel, noteLine, strconv.Itoa(i+1)+".", "", 0, "L", false, 0, "")
			for j, t := range lines {
				pdf.SetXY(marginL+noteLabel, y+float64(j)*noteLine)
				c.cell(textW, noteLine, t, 0, "L")
			}
			pdf.SetXY(marginL, y+float64(len(lines))*noteLine)
		}
		pdf.Ln(0.08)
	}
	pdf.SetFont(family, "", 10)
}
