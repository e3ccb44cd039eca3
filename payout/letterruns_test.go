package payout

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	"codeberg.org/go-pdf/fpdf"
)

// TestPlainPathMatchesFpdf draws random sequences of cells and
// paragraphs at random places, sizes, styles, alignments and borders,
// over text with the bytes fpdf escapes, carriage returns, tabs, runs of
// spaces, words longer than a line, trailing line breaks and a Chinese
// character (a break point for MultiCell): through cells.plainCell and
// cells.plainPara, and through fpdf's CellFormat and MultiCell alone. The
// pages are the same bytes, and every call leaves x, y and the height Ln
// moves by where fpdf leaves them, page breaks included.
func TestPlainPathMatchesFpdf(t *testing.T) {
	pieces := []string{"a", "b", "word", "W", " ", "  ", "\n", "\r", "\r\n", "Ĩ", "(", ")", "\\", "č", "ℜ", "\t", "é",
		"Supercalifragilisticexpialidocious", strings.Repeat("m", 38), "中", "x\n\n"}
	r := rand.New(rand.NewPCG(1, 2))
	text := func() string {
		var b strings.Builder
		for range r.IntN(60) {
			b.WriteString(pieces[r.IntN(len(pieces))])
		}
		return b.String()
	}
	type call struct {
		para          bool
		s             string
		w, h, x, y    float64
		ln            int
		align, border string
		size          float64
		style         string
	}
	draw := func(calls []call, plain bool) string {
		var moves []string
		tpl := newLayoutDoc().CreateTemplate(func(tp *fpdf.Tpl) {
			pdf := &tp.Fpdf
			c := &cells{pdf: pdf, lf: &letterFonts{}, widths: map[string]map[rune]int{}}
			pdf.SetMargins(0.5, 0.5, 0.7)
			pdf.SetAutoPageBreak(true, 0.5)
			pdf.AddPage()
			for _, o := range calls {
				pdf.SetFont(fontFamily, o.style, o.size)
				pdf.SetXY(o.x, o.y)
				switch {
				case o.para:
					if !plain || !c.plainPara(o.h, o.s) {
						pdf.MultiCell(0, o.h, o.s, "", "L", false)
					}
				default:
					if !plain || !c.plainCell(o.w, o.h, o.s, o.border, o.ln, o.align) {
						pdf.CellFormat(o.w, o.h, o.s, o.border, o.ln, o.align, false, 0, "")
					}
				}
				x, y := pdf.GetXY()
				pdf.Ln(-1) // moves by the last cell's height
				moves = append(moves, fmt.Sprintf("%v %v %v", x, y, pdf.GetY()))
			}
		})
		var b bytes.Buffer
		for _, p := range tpl.(*fpdf.FpdfTpl).FromPages() {
			b.Write(p.Bytes())
			b.WriteString("\n----\n")
		}
		return b.String() + strings.Join(moves, "\n")
	}
	aligns := []string{"", "L", "R", "C"}
	for i := range 120 {
		var calls []call
		for range 5 {
			o := call{para: r.IntN(2) == 0, s: text(), w: 0.1 + r.Float64()*6, h: 0.1 + r.Float64()*0.3,
				ln: r.IntN(3), align: aligns[r.IntN(4)], x: 0.5 + r.Float64()*5, y: 0.5 + r.Float64()*10.3,
				size: float64(6 + r.IntN(10)), style: []string{"", "B"}[r.IntN(2)]}
			if r.IntN(2) == 0 {
				o.border = "B"
			}
			calls = append(calls, o)
		}
		if plain, slow := draw(calls, true), draw(calls, false); plain != slow {
			p, s := strings.Split(plain, "\n"), strings.Split(slow, "\n")
			for j := range min(len(p), len(s)) {
				if p[j] != s[j] {
					t.Fatalf("sequence %d: line %d differs\nplain: %q\nfpdf:  %q\ncalls %+v", i, j, p[j], s[j], calls)
				}
			}
			t.Fatalf("sequence %d: %d lines against %d", i, len(p), len(s))
		}
	}
}

// TestAppendFixedIsStrconv: appendFixed writes what strconv writes with
// two decimals, for the numbers a page holds and for every case its fast
// path hands back (ties, near-ties, negative zero, the large, the
// infinite and NaN).
func TestAppendFixedIsStrconv(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 8))
	vals := []float64{0, math.Copysign(0, -1), -0.001, -0.004999, -0.005, 0.005, 0.015, 0.125, 0.375, 2.675, 1.005, -1.005,
		612, 792, 0.57, 1e6 - 0.005, 999999.995, 1e7, -1e7, 1e300, math.Inf(1), math.Inf(-1), math.NaN(), math.SmallestNonzeroFloat64, -math.SmallestNonzeroFloat64}
	for i := -100000; i <= 100000; i++ {
		vals = append(vals, float64(i)/1000, float64(i)/200, float64(i)/100, float64(i)*72/100)
	}
	for range 1_000_000 {
		v := (rng.Float64() - 0.5) * 4000
		vals = append(vals, v, math.Nextafter(float64(int(v*200))/200, math.Inf(1)), math.Nextafter(float64(int(v*200))/200, math.Inf(-1)))
	}
	for _, v := range vals {
		if got, want := string(appendFixed(nil, v)), strconv.FormatFloat(v, 'f', 2, 64); got != want {
			t.Fatalf("appendFixed(%v) = %q, strconv says %q", v, got, want)
		}
	}
}

// TestXrefEntryIsFmt: cross-reference entries are fmt's "%010d 00000 n \n".
func TestXrefEntryIsFmt(t *testing.T) {
	for _, off := range []int64{0, 9, 10, 15, 999, 123456789, 9999999999, 1e10, 12345678901, -1} {
		if got, want := string(appendXrefEntry([]byte("x"), off)), fmt.Sprintf("x%010d 00000 n \n", off); got != want {
			t.Errorf("offset %d: %q, want %q", off, got, want)
		}
	}
}
