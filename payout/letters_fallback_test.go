package payout

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/go-fonts/dejavu/dejavusans"
)

// dejavuSans writes DejaVu Sans (Hebrew, Armenian, Georgian and more the
// Go fonts lack; no Chinese, and Arabic is transliterated all the same)
// to a temporary file, as a configured fallback font is, and returns its
// path.
func dejavuSans(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "DejaVuSans.ttf")
	if err := os.WriteFile(path, dejavusans.TTF, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// fallbackScripts is an employee letter whose names and address are in
// scripts the Go fonts lack: a Hebrew name, an Armenian street, and
// dependents in Georgian and Armenian, one of them long enough to wrap.
func fallbackScripts() *Letter {
	l := employeeLetter()
	l.Name = "שרה כהן"
	l.Address.Line1 = "Աբովյան փողոց 12"
	l.Lines[0].Dependent = "ნინო"
	l.Lines[1].Dependent = "Անահիտ Սարգսյան-Պետրոսյան"
	return l
}

// renderWith renders l with the fallback fonts given and returns the PDF
// file and whether a character was transliterated.
func renderWith(t *testing.T, l *Letter, fallbacks ...string) ([]byte, bool) {
	t.Helper()
	style := testLetterStyle(t)
	style.FallbackFonts = fallbacks
	r, err := style.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	rl, err := r.Render(l)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := r.WritePDF(&buf, l, rl); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes(), rl.Transliterated
}

// plainText drops the bidirectional marks poppler puts around
// right-to-left text it reads.
func plainText(s string) string {
	return strings.NewReplacer("\u202a", "", "\u202b", "", "\u202c", "", "\u202d", "", "\u202e", "").Replace(s)
}

// TestFallbackFontsPrintNames checks, with poppler, that names and an
// address in Hebrew, Armenian and Georgian print as written with DejaVu
// Sans as a fallback font, in the address block, the greeting (a
// paragraph), the page header and the table, with no letter flagged
// transliterated; and compares the whole text with
// testdata/employee-fallback-scripts.golden.txt (-update rewrites it).
func TestFallbackFontsPrintNames(t *testing.T) {
	pdf, translit := renderWith(t, fallbackScripts(), dejavuSans(t))
	if translit {
		t.Error("the letter is flagged transliterated, though the fallback font has every character")
	}
	got := plainText(pdftotext(t, pdf))
	lines := strings.Split(got, "\n")
	for _, want := range []string{"שרה כהן", "Աբովյան փողոց 12", "ნინო", "Dear שרה כהן,", "Անահիտ", "Սարգսյան-", "Պետրոսյան"} {
		found := false
		for _, l := range lines {
			if strings.Contains(l, want) {
				found = true
			}
		}
		if !found {
			t.Errorf("pdftotext does not read %q in the letter:\n%s", want, got)
		}
	}
	checkGolden(t, "employee-fallback-scripts", got)
}

// TestFallbackFontsTransliterate checks which characters are still
// transliterated: all the Go fonts lack when no fallback font is
// configured (the old behaviour), and with DejaVu Sans only those it
// lacks (Chinese) or cannot join (Arabic).
func TestFallbackFontsTransliterate(t *testing.T) {
	dejavu := dejavuSans(t)
	tests := []struct {
		name      string
		fallbacks []string
		dependent string
		translit  bool
		want      string // what poppler reads in the table
	}{
		{"no_fallback_armenian", nil, "Անահիտ", true, "Anahit"},
		{"no_fallback_hebrew", nil, "שרה", true, "srh"},
		{"no_fallback_greek", nil, "Σοφία", false, "Σοφία"},
		{"dejavu_armenian", []string{dejavu}, "Անահիտ", false, "Անահիտ"},
		{"dejavu_georgian", []string{dejavu}, "ნინო", false, "ნინო"},
		{"dejavu_hebrew", []string{dejavu}, "שרה", false, "שרה"},
		{"dejavu_greek_stays_go", []string{dejavu}, "Σοφία", false, "Σοφία"},
		{"dejavu_chinese", []string{dejavu}, "张伟", true, "ZhangWei"},
		{"dejavu_arabic_does_not_join", []string{dejavu}, "سارة", true, "srh"},
		{"dejavu_emoji_beyond_the_plane", []string{dejavu}, "Ana 😀", true, "Ana"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := employeeLetter()
			l.Lines[0].Dependent = tt.dependent
			pdf, translit := renderWith(t, l, tt.fallbacks...)
			if translit != tt.translit {
				t.Errorf("Transliterated = %v, want %v", translit, tt.translit)
			}
			if text := plainText(pdftotext(t, pdf)); !strings.Contains(text, "2026-03-02      "+tt.want) {
				t.Errorf("pdftotext does not read %q as the first line's dependent:\n%s", tt.want, text)
			}
		})
	}
}

// TestFallbackFontIsSubset checks that a letter with a name in a fallback
// font embeds a subset of it: the Go faces' subsets come to about 28 KiB
// and a fallback cut to the blocks of one name to a few KiB, while DejaVu
// Sans whole is 740 KiB (over 300 KiB deflated). 64 KiB leaves room for
// the page and for growth of the Go subsets, and none for the whole font.
func TestFallbackFontIsSubset(t *testing.T) {
	l := employeeLetter()
	l.Name = "Անահիտ Սարգսյան"
	pdf, _ := renderWith(t, l, dejavuSans(t))
	plain, _ := renderWith(t, employeeLetter(), dejavuSans(t))
	if len(pdf) > 64<<10 {
		t.Errorf("a letter with an Armenian name is %d bytes: the fallback font embedded whole?", len(pdf))
	}
	// A letter that uses no fallback character embeds no fallback font.
	if bytes.Contains(plain, []byte("/CPfb1 ")) || !bytes.Contains(pdf, []byte("/CPfb1 ")) {
		t.Errorf("the fallback font is in the letter that needs it: %v; in the one that does not: %v",
			bytes.Contains(pdf, []byte("/CPfb1 ")), bytes.Contains(plain, []byte("/CPfb1 ")))
	}
	if len(plain) >= len(pdf) {
		t.Errorf("the letter without fallback characters (%d bytes) is not smaller than the one with them (%d)", len(plain), len(pdf))
	}
}

// TestFallbackPrintBatch checks that a print batch of letters in fallback
// fonts, assembled from their files, prints their names, each letter on
// its page.
func TestFallbackPrintBatch(t *testing.T) {
	style := testLetterStyle(t)
	style.FallbackFonts = []string{dejavuSans(t)}
	first, second := fallbackScripts(), providerLetter()
	second.Name = "Բարի Մանկապարտեզ"
	r, err := style.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	var batch bytes.Buffer
	pb, err := NewPrintBatch(&batch, first.Date, style.FallbackFonts)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []*Letter{first, second} {
		rl, err := r.Render(l)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		spans, err := r.WritePDF(&buf, l, rl)
		if err != nil {
			t.Fatal(err)
		}
		if err := pb.Add(bytes.NewReader(buf.Bytes()), spans, rl.Fonts); err != nil {
			t.Fatal(err)
		}
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
	pages := strings.Split(plainText(pdftotext(t, batch.Bytes())), "\f")
	if len(pages) < 2 || !strings.Contains(pages[0], "Dear שרה כהן,") || !strings.Contains(pages[1], "Dear Բարի Մանկապարտեզ,") {
		t.Errorf("the print batch does not hold the two letters, in order, one a page:\n%s", strings.Join(pages, "\f"))
	}
}

// TestVisualOrder checks the drawing order of lines with right-to-left
// text: a Hebrew stretch reversed, its numbers and the marks on its
// letters kept in order, left-to-right text around it left alone.
func TestVisualOrder(t *testing.T) {
	tests := []struct{ in, want string }{
		{"Dear Jane,", "Dear Jane,"},
		{"שרה", "הרש"},
		{"Dear שרה כהן,", "Dear ןהכ הרש,"},
		{"רחוב 12 הרצל", "לצרה 12 בוחר"},
		{"שָׁלוֹם", "םוֹלשָׁ"}, // ש with its two marks stays one
		{"Ana שרה 5", "Ana הרש 5"},
	}
	for _, tt := range tests {
		if got := visual(tt.in); got != tt.want {
			t.Errorf("visual(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// TestWrapCellFallback checks that text in a fallback font is measured in
// it: a long Armenian name wraps to lines no wider than the cell, losing
// no character, and the same name takes more lines in a narrower cell.
func TestWrapCellFallback(t *testing.T) {
	lf, err := loadFonts([]string{dejavuSans(t)})
	if err != nil {
		t.Fatal(err)
	}
	pdf := newLayoutDoc()
	pdf.AddPage()
	pdf.SetFont(fontFamily, "", 8)
	c := &cells{pdf: pdf, lf: lf}
	const name = "Անահիտ Սարգսյան-Պետրոսյան"
	if c.width(name) <= pdf.GetStringWidth("Anahit") {
		t.Fatalf("width of %q = %.3f: not measured in the fallback font", name, c.width(name))
	}
	prev := 0
	for _, w := range []float64{3, 1.2, 0.8, 0.5} {
		lines := wrapCell(c, name, w)
		if strings.ReplaceAll(strings.Join(lines, ""), " ", "") != strings.ReplaceAll(name, " ", "") {
			t.Errorf("wrapCell(%.1f) lost characters: %q", w, lines)
		}
		for _, l := range lines {
			if c.width(l) > w-2*pdf.GetCellMargin()+1e-9 {
				t.Errorf("wrapCell(%.1f): %q is wider than the cell", w, l)
			}
		}
		if len(lines) < prev {
			t.Errorf("wrapCell(%.1f) = %d lines, fewer than in a wider cell", w, len(lines))
		}
		prev = len(lines)
	}
	if prev < 3 {
		t.Errorf("the name takes %d lines in a 0.5 in cell, want at least 3", prev)
	}
}

// TestFallbackFontErrors checks that a fallback font that cannot be read
// stops the renderer with an error naming the file.
func TestFallbackFontErrors(t *testing.T) {
	dir := t.TempDir()
	notFont := filepath.Join(dir, "notes.ttf")
	if err := os.WriteFile(notFont, []byte("not a font at all"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{filepath.Join(dir, "missing.ttf"), notFont} {
		style := testLetterStyle(t)
		style.FallbackFonts = []string{path}
		if _, err := style.NewRenderer(); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("NewRenderer with fallback %s: error %v, want one naming the file", path, err)
		}
	}
}
