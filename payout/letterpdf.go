package payout

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strconv"

	"carepay/core"
)

// A letter's PDF file and a print batch are written here around the pages
// fpdf lays out (uncompressed content streams), with the font subsets cut
// once and copied. Every document numbers its objects the same way, and
// dates come from the run, so that a file written again for the same run
// is byte-identical.
const (
	catalogObject   = 1
	pagesObject     = 2
	infoObject      = 3
	resourcesObject = 4
	firstFontObject = 5 // then the fonts' objects (letterFonts.objectCount), then a page and its content stream, in turns
)

// PageSpan is where a page's content stream lies in a PDF file written by
// WriteLetter or a PrintBatch: a print batch copies letters' pages from
// their files.
type PageSpan struct{ Offset, Length int64 }

// pdfWriter writes one PDF document, pages first as they come.
type pdfWriter struct {
	w         io.Writer
	firstPage int // the number of the first page's object
	n         int64
	offsets   []int64 // by object number; 0 for objects not yet written
	kids      []int
	err       error
	buf       []byte
}

func newPDFWriter(w io.Writer, lf *letterFonts) *pdfWriter {
	first := firstFontObject + lf.objectCount()
	p := &pdfWriter{w: w, firstPage: first, offsets: make([]int64, first)}
	p.write([]byte("%PDF-1.4\n%\xe2\xe3\xcf\xd3\n"))
	return p
}

func (p *pdfWriter) write(b []byte) {
	if p.err != nil {
		return
	}
	n, err := p.w.Write(b)
	p.n += int64(n)
	p.err = err
}

func (p *pdfWriter) startObject(n int) {
	for len(p.offsets) <= n {
		p.offsets = append(p.offsets, 0)
	}
	p.offsets[n] = p.n
	p.buf = strconv.AppendInt(p.buf[:0], int64(n), 10)
	p.buf = append(p.buf, " 0 obj\n"...)
	p.write(p.buf)
}

// page adds a page with the given content stream and says where the
// stream's bytes went.
func (p *pdfWriter) page(content []byte) PageSpan {
	n := len(p.offsets)
	if n < p.firstPage {
		n = p.firstPage
	}
	p.kids = append(p.kids, n)
	p.startObject(n)
	p.buf = fmt.Appendf(p.buf[:0], "<</Type /Page /Parent %d 0 R /MediaBox [0 0 612 792] /Resources %d 0 R /Contents %d 0 R>>\nendobj\n",
		pagesObject, resourcesObject, n+1)
	p.write(p.buf)
	p.startObject(n + 1)
	p.buf = fmt.Appendf(p.buf[:0], "<</Length %d>>\nstream\n", len(content))
	p.write(p.buf)
	span := PageSpan{Offset: p.n, Length: int64(len(content))}
	p.write(content)
	p.write([]byte("\nendstream\nendobj\n"))
	return span
}

// finish writes the fonts, the page tree, the catalog, the document
// information and the cross-reference table.
func (p *pdfWriter) finish(fonts *fontObjects, date core.Date) error {
	base := p.n
	for i, off := range fonts.offsets {
		p.offsets[firstFontObject+i] = base + int64(off)
	}
	p.write(fonts.body)
	p.startObject(resourcesObject)
	p.buf = append(append(append(p.buf[:0], "<</ProcSet [/PDF /Text] /Font <<"...), fonts.resources...), ">>>>\nendobj\n"...)
	p.write(p.buf)
	p.startObject(pagesObject)
	kids := strconv.AppendInt(append(p.buf[:0], "<</Type /Pages /Count "...), int64(len(p.kids)), 10)
	kids = append(kids, " /Kids ["...)
	for i, k := range p.kids {
		if i > 0 {
			kids = append(kids, ' ')
		}
		kids = strconv.AppendInt(kids, int64(k), 10)
		kids = append(kids, " 0 R"...)
	}
	p.buf = append(kids, "]>>\nendobj\n"...)
	p.write(p.buf)
	p.startObject(catalogObject)
	p.write([]byte(catalog))
	stamp := date.Time().Format("20060102") + "120000"
	p.startObject(infoObject)
	p.buf = append(append(append(append(append(p.buf[:0], "<</Producer (carepay) /CreationDate (D:"...), stamp...), ") /ModDate (D:"...), stamp...), ")>>\nendobj\n"...)
	p.write(p.buf)
	xref := p.n
	x := strconv.AppendInt(append(p.buf[:0], "xref\n0 "...), int64(len(p.offsets)), 10)
	x = append(x, "\n0000000000 65535 f \n"...)
	for _, off := range p.offsets[1:] {
		x = appendXrefEntry(x, off)
	}
	x = strconv.AppendInt(append(x, "trailer\n<</Size "...), int64(len(p.offsets)), 10)
	x = append(x, trailerRefs...)
	x = strconv.AppendInt(x, xref, 10)
	p.buf = append(x, "\n%%EOF\n"...)
	p.write(p.buf)
	if bw, ok := p.w.(*bufio.Writer); ok && p.err == nil {
		p.err = bw.Flush()
	}
	return p.err
}

// catalog is the catalog object's body; trailerRefs the trailer's after
// its size.
var (
	catalog     = "<</Type /Catalog /Pages " + strconv.Itoa(pagesObject) + " 0 R>>\nendobj\n"
	trailerRefs = " /Root " + strconv.Itoa(catalogObject) + " 0 R /Info " + strconv.Itoa(infoObject) + " 0 R>>\nstartxref\n"
)

// appendXrefEntry appends the cross-reference entry of an object at
// offset off: fmt's "%010d 00000 n \n", written by hand (it was a twentieth
// of a letter's time through fmt).
func appendXrefEntry(x []byte, off int64) []byte {
	if off < 0 || off >= 1e10 { // past what an entry holds: as fmt writes it
		return fmt.Appendf(x, "%010d 00000 n \n", off)
	}
	var d [10]byte
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = byte('0' + off%10)
		off /= 10
	}
	x = append(x, d[:]...)
	return append(x, " 00000 n \n"...)
}

// PrintBatch is one print batch document: the pages of many letters,
// copied from their files, with one font subset for all.
type PrintBatch struct {
	lf    *letterFonts
	pdf   *pdfWriter
	buf   []byte
	fonts FontSet
	date  core.Date
}

// NewPrintBatch starts a print batch written to w, of letters rendered
// with the fallback fonts in the files named (LetterStyle.FallbackFonts).
func NewPrintBatch(w io.Writer, date core.Date, fallbackFonts []string) (*PrintBatch, error) {
	lf, err := loadFonts(fallbackFonts)
	if err != nil {
		return nil, err
	}
	return &PrintBatch{lf: lf, pdf: newPDFWriter(bufio.NewWriterSize(w, 64<<10), lf), date: date}, nil
}

// Add appends a letter's pages, read from its file at the spans
// WriteLetter returned; fonts are the letter's (RenderedLetter.Fonts).
func (b *PrintBatch) Add(letter io.ReaderAt, pages []PageSpan, fonts FontSet) error {
	for _, s := range pages {
		b.buf = slices.Grow(b.buf[:0], int(s.Length))[:s.Length]
		if _, err := letter.ReadAt(b.buf, s.Offset); err != nil {
			return fmt.Errorf("reading a letter's page: %w", err)
		}
		b.pdf.page(b.buf)
	}
	b.fonts.Union(fonts)
	return b.pdf.err
}

// Close writes the end of the document; it does not close w.
func (b *PrintBatch) Close() error {
	fo, err := b.lf.subset(b.fonts)
	if err != nil {
		return err
	}
	return b.pdf.finish(fo, b.date)
}
