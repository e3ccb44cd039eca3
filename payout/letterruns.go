package payout

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
	"unsafe"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/text/unicode/bidi"
)

// cells writes the text of a letter's cells. fpdf knows the Go fonts
// only, and sets a cell in one font: text that holds characters of a
// fallback font is measured and written here instead, as runs of one font
// each (the Go face of the current style, or the fallback font that
// prints the run; a fallback font serves bold text as it is). Every other
// text goes to fpdf as before, so that letters with no fallback character
// are laid out, and cost, as without fallback fonts.
type cells struct {
	pdf *fpdf.Fpdf
	lf  *letterFonts // nil where fpdf's own fonts set every text (WriteLetterCoreFont)
	buf []byte
	// widths caches characters' widths by font (see runeWidths).
	widths map[string]map[rune]int
}

// mixed reports whether s holds a character set in a fallback font.
func (c *cells) mixed(s string) bool {
	if c.lf == nil || c.lf.fallbackOf == nil {
		return false
	}
	for _, r := range s {
		if r >= 0x80 && c.lf.fallback(r) != 0 {
			return true
		}
	}
	return false
}

// runs calls fn with each run of s in one font: 0 for the current Go
// face, else the fallback font (1-based).
func (c *cells) runs(s string, fn func(font int, run string)) {
	start, cur := 0, -1
	for i, r := range s {
		f := c.lf.fallback(r)
		if f != cur {
			if cur >= 0 {
				fn(cur, s[start:i])
			}
			start, cur = i, f
		}
	}
	if cur >= 0 {
		fn(cur, s[start:])
	}
}

// width is how wide s is set in the current font, in user units.
func (c *cells) width(s string) float64 {
	if !c.mixed(s) {
		return c.pdf.GetStringWidth(s)
	}
	_, size := c.pdf.GetFontSize()
	w := 0.0
	c.runs(s, func(font int, run string) {
		if font == 0 {
			w += c.pdf.GetStringWidth(run)
			return
		}
		widths := c.lf.fallbacks[font-1].widths
		n := 0
		for _, r := range run {
			n += int(widths[r])
		}
		w += float64(n) * size / 1000
	})
	return w
}

// cell writes s in a cell as fpdf's CellFormat does, with no border or
// fill; w 0 reaches the right margin.
func (c *cells) cell(w, h float64, s string, ln int, align string) {
	pdf := c.pdf
	if !c.mixed(s) {
		if !c.plainCell(w, h, s, "", ln, align) {
			pdf.CellFormat(w, h, s, "", ln, align, false, 0, "")
		}
		return
	}
	x := pdf.GetX()
	pw, ph := pdf.GetPageSize()
	if w == 0 {
		_, _, right, _ := pdf.GetMargins()
		w = pw - right - x
	}
	// An empty cell breaks the page where the text would, and moves on.
	pdf.CellFormat(w, h, "", "", ln, align, false, 0, "")
	y := pdf.GetY()
	if ln > 0 {
		y -= h
	}
	dx := pdf.GetCellMargin()
	if strings.Contains(align, "R") {
		dx = w - dx - c.width(s)
	}
	k := pdf.GetConversionRatio()
	pt, size := pdf.GetFontSize()
	goFace := c.lf.names[0]
	if strings.Contains(pdf.GetFontStyle(), "B") {
		goFace = c.lf.names[1]
	}
	s = visual(s)
	// q and Q keep fpdf's font for the text that follows.
	b := append(c.buf[:0], "q BT "...)
	b = appendFixed(b, (x+dx)*k)
	b = append(b, ' ')
	b = appendFixed(b, (ph-(y+.5*h+.3*size))*k)
	b = append(b, " Td"...)
	c.runs(s, func(font int, run string) {
		if font == 0 {
			b = append(b, " /F"...)
			b = append(b, goFace...)
		} else {
			b = append(b, " /"...)
			b = append(b, fallbackResource(font)...)
		}
		b = append(b, ' ')
		b = appendFixed(b, pt)
		b = append(b, " Tf <"...)
		for _, r := range run {
			b = append(b, hexDigits[r>>12&15], hexDigits[r>>8&15], hexDigits[r>>4&15], hexDigits[r&15])
		}
		b = append(b, "> Tj"...)
	})
	b = append(b, " ET Q"...)
	rawWrite(pdf, b)
	c.buf = b
}

// plainCellOff turns plainCell off, for the test that compares it with
// CellFormat.
var plainCellOff = false

// plainState reports whether text may be written on the plain path now:
// a letter font (not fpdf's core fonts), no error, no underline or
// strikeout, and the text colour the fill colour (fpdf then sets no
// colour around the text).
func (c *cells) plainState() bool {
	pdf := c.pdf
	if plainCellOff || c.lf == nil || pdf.Err() || strings.ContainsAny(pdf.GetFontStyle(), "US") {
		return false
	}
	tr, tg, tb := pdf.GetTextColor()
	fr, fg, fb := pdf.GetFillColor()
	return tr == fr && tg == fg && tb == fb
}

// plainCell writes s in a cell of the Go face as CellFormat(w, h, s,
// border, ln, align, false, 0, "") does, byte for byte, without its formatting
// through fmt and its bookkeeping of the characters used (the letters'
// fonts are subset from the run's FontSet, not from fpdf's): a third of
// the cost of a letter went there. It reports false, writing nothing,
// where CellFormat does more than set text and a bottom border (border
// "" or "B"): a page break, a width to the
// margin, vertical alignment, underline or strikeout, a text colour, a
// core font, or a character outside the Basic Multilingual Plane (which
// fpdf would garble, and the Go fonts do not have).
func (c *cells) plainCell(w, h float64, s, border string, ln int, align string) bool {
	pdf := c.pdf
	if !c.plainState() || s == "" || w <= 0 || border != "" && border != "B" {
		return false
	}
	switch align {
	case "", "L", "R", "C":
	default:
		return false
	}
	x, y := pdf.GetXY()
	if auto, _ := pdf.GetAutoPageBreak(); auto && y+h > pageBottom(pdf) {
		return false
	}
	for _, r := range s {
		if r >= 0x10000 || r == utf8.RuneError {
			return false
		}
	}
	dx := pdf.GetCellMargin()
	switch align {
	case "R":
		dx = w - dx - pdf.GetStringWidth(s)
	case "C":
		dx = (w - pdf.GetStringWidth(s)) / 2
	}
	k := pdf.GetConversionRatio()
	_, ph := pdf.GetPageSize()
	_, size := pdf.GetFontSize()
	b := c.buf[:0]
	if border == "B" {
		bottom := (ph - (y + h)) * k
		b = appendFixed(b, x*k)
		b = append(b, ' ')
		b = appendFixed(b, bottom)
		b = append(b, " m "...)
		b = appendFixed(b, (x+w)*k)
		b = append(b, ' ')
		b = appendFixed(b, bottom)
		b = append(b, " l S "...)
	}
	b = append(b, "BT "...)
	b = appendFixed(b, (x+dx)*k)
	b = append(b, ' ')
	b = appendFixed(b, (ph-(y+.5*h+.3*size))*k)
	b = append(b, " Td ("...)
	// UTF-16BE, escaped as fpdf escapes it: a backslash before \, ( and
	// ) and \r for a carriage return, wherever those bytes fall.
	for _, r := range s {
		for _, u := range [2]byte{byte(r >> 8), byte(r)} {
			switch u {
			case '\\', '(', ')':
				b = append(b, '\\', u)
			case '\r':
				b = append(b, '\\', 'r')
			default:
				b = append(b, u)
			}
		}
	}
	b = append(b, ")Tj ET"...)
	rawWrite(pdf, b)
	c.buf = b
	// An empty cell moves on as the cell would, and writes nothing.
	pdf.CellFormat(w, h, "", "", ln, align, false, 0, "")
	return true
}

const hexDigits = "0123456789ABCDEF"

// appendFixed appends v with two decimals, as fpdf writes coordinates
// (strconv.AppendFloat(b, v, 'f', 2, 64), the same bytes). A letter writes
// some 200 numbers; strconv's exact rounding is a fifth of its cells'
// cost. Page coordinates are small: v*100 is then within a hundred
// millionth of the exact product, and rounding it is exact unless it lies
// that close to a half, which strconv settles.
func appendFixed(b []byte, v float64) []byte {
	x := math.Abs(v) * 100
	if !(x < 1e8) { // large, infinite or NaN
		return strconv.AppendFloat(b, v, 'f', 2, 64)
	}
	n := math.Floor(x)
	if f := x - n; f > 0.5-1e-7 && f < 0.5+1e-7 {
		return strconv.AppendFloat(b, v, 'f', 2, 64)
	} else if f > 0.5 {
		n++
	}
	if math.Signbit(v) {
		b = append(b, '-')
	}
	c := int64(n)
	b = strconv.AppendInt(b, c/100, 10)
	return append(b, '.', byte('0'+c%100/10), byte('0'+c%10))
}

// para writes s as fpdf's MultiCell(0, h, s, "", "L", false) does: lines
// wrapped between words to the right margin, each ending where the next
// starts.
func (c *cells) para(h float64, s string) {
	pdf := c.pdf
	if !c.mixed(s) {
		if !c.plainPara(h, s) {
			pdf.MultiCell(0, h, s, "", "L", false)
		}
		return
	}
	x := pdf.GetX()
	pw, _ := pdf.GetPageSize()
	_, _, right, _ := pdf.GetMargins()
	w := pw - right - x
	for _, part := range strings.Split(s, "\n") {
		lines := wrapCell(c, part, w)
		if len(lines) == 0 {
			lines = []string{""}
		}
		for _, l := range lines {
			pdf.SetX(x)
			c.cell(w, h, l, 1, "L")
		}
	}
}

// plainPara writes s as MultiCell(0, h, s, "", "L", false) does, byte for
// byte: the same lines, broken where MultiCell breaks them, each written
// as plainCell writes a cell. It reports false, writing nothing, where
// plainCell would not serve (see there). MultiCell counts a character the
// font lacks as the font's missing width, which plainPara cannot read;
// text reaches here only through the letter fonts' filter (letterFonts
// text), which leaves no such character.
func (c *cells) plainPara(h float64, s string) bool {
	pdf := c.pdf
	if !c.plainState() {
		return false
	}
	text := []rune(strings.ReplaceAll(s, "\r", ""))
	for _, r := range text {
		if r >= 0x10000 || r == utf8.RuneError {
			return false
		}
	}
	for len(text) > 0 && text[len(text)-1] == '\n' {
		text = text[:len(text)-1]
	}
	left, _, right, _ := pdf.GetMargins()
	pw, _ := pdf.GetPageSize()
	w := pw - right - pdf.GetX()
	_, size := pdf.GetFontSize()
	wmax := int(math.Ceil((w - 2*pdf.GetCellMargin()) * 1000 / size))
	line := func(rs []rune) {
		if t := string(rs); !c.plainCell(w, h, t, "", 2, "L") {
			pdf.CellFormat(w, h, t, "0", 2, "L", false, 0, "")
		}
	}
	widths := c.runeWidths()
	sep, i, j, l := -1, 0, 0, 0
	for i < len(text) {
		r := text[i]
		if r == '\n' {
			line(text[j:i])
			i++
			sep, j, l = -1, i, 0
			continue
		}
		if r == ' ' || r >= 0x4e00 && r <= 0x9fa5 {
			sep = i
		}
		wr, ok := widths[r]
		if !ok {
			wr = pdf.GetStringSymbolWidth(string(r))
			widths[r] = wr
		}
		l += wr
		if l <= wmax {
			i++
			continue
		}
		if sep == -1 {
			if i == j {
				i++
			}
			line(text[j:i])
		} else {
			line(text[j:sep])
			i = sep + 1
		}
		sep, j, l = -1, i, 0
	}
	line(text[j:])
	pdf.SetX(left)
	return true
}

// runeWidths are the widths of characters in the current font, in
// thousandths of its size, as measured so far.
func (c *cells) runeWidths() map[rune]int {
	key := c.pdf.GetFontFamily() + "\x00" + c.pdf.GetFontStyle()
	if c.widths == nil {
		c.widths = map[string]map[rune]int{}
	}
	m := c.widths[key]
	if m == nil {
		m = map[rune]int{}
		c.widths[key] = m
	}
	return m
}

// visual returns the line s in the order its characters are drawn, left
// to right, in a left-to-right letter: each stretch of right-to-left
// text (a Hebrew name, say, with the spaces and numbers between its
// words) is reversed, its numbers kept left to right and combining marks
// with their letters. This is the Unicode bidirectional algorithm for a
// line of a left-to-right paragraph with no explicit embeddings. Only
// lines that hold fallback characters need it: the Go fonts have no
// right-to-left script.
func visual(s string) string {
	class := func(r rune) bidi.Class {
		p, _ := bidi.LookupRune(r)
		return p.Class()
	}
	rs := []rune(s)
	if !slices.ContainsFunc(rs, func(r rune) bool { c := class(r); return c == bidi.R || c == bidi.AL }) {
		return s
	}
	out := make([]rune, 0, len(rs))
	for i := 0; i < len(rs); {
		if c := class(rs[i]); c != bidi.R && c != bidi.AL {
			out = append(out, rs[i])
			i++
			continue
		}
		// The stretch ends after its last right-to-left letter (and
		// the marks on it): neutrals and numbers after it stay where
		// they are.
		end := i
		for k := i; k < len(rs); k++ {
			switch class(rs[k]) {
			case bidi.R, bidi.AL:
				end = k + 1
				continue
			case bidi.NSM:
				if end == k {
					end = k + 1
				}
				continue
			case bidi.L:
			default:
				continue
			}
			break
		}
		// Its units, reversed: a letter with its marks, a number, or
		// one neutral character.
		var units [][]rune
		for k := i; k < end; k++ {
			c := class(rs[k])
			digit := c == bidi.EN || c == bidi.AN
			if n := len(units); n > 0 && (c == bidi.NSM || digit && isDigitUnit(units[n-1], class)) {
				units[n-1] = append(units[n-1], rs[k])
				continue
			}
			units = append(units, []rune{rs[k]})
		}
		for u := len(units) - 1; u >= 0; u-- {
			out = append(out, units[u]...)
		}
		i = end
	}
	return string(out)
}

// isDigitUnit reports whether u is a number, for visual.
func isDigitUnit(u []rune, class func(rune) bidi.Class) bool {
	c := class(u[0])
	return c == bidi.EN || c == bidi.AN
}

// rawWrite appends b to the page as fpdf's RawWriteStr does, without
// copying b into a string first: fpdf copies the text into the page's
// buffer before it returns, and b is not changed until then.
func rawWrite(pdf *fpdf.Fpdf, b []byte) {
	if len(b) == 0 {
		pdf.RawWriteStr("")
		return
	}
	pdf.RawWriteStr(unsafe.String(&b[0], len(b)))
}
