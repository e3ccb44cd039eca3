package payout

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// TestLetterImageColumnsClear renders the first page of letters with
// poppler's pdftoppm and looks at the pixels: down every inner edge of
// the table of lines, over the rows of the table, there is no ink, so no
// text runs from one column into the next or over another's. The same
// scan through the middle of a word of each column finds ink: the check
// reads the image it means to, and fails when text crosses an edge.
func TestLetterImageColumnsClear(t *testing.T) {
	crowded := providerLetter()
	crowded.Lines[0].Employee, crowded.Lines[0].Dependent = "Maria-Fernanda Castellanos", "Guillermina"
	crowded.Lines[1].CareType = "family_child_care"
	for _, tt := range []struct {
		name   string
		letter *Letter
	}{
		{"provider", crowded},
		{"employee-three-rejected", rejectedThreeWays()},
		{"employee-two-pages", longLetter()},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pdf, _ := renderWith(t, tt.letter)
			words := wordBoxes(t, pdf) // skips or fails without poppler, as the other letter tests
			img := pdftoppm(t, pdf, dpi)
			var table []word
			for _, w := range tableWords(words) {
				if w.Page == 1 {
					table = append(table, w)
				}
			}
			if len(table) < 10 {
				t.Fatalf("only %d words of the table on page 1", len(table))
			}
			top, bottom := math.Inf(1), math.Inf(-1)
			for _, w := range table {
				top, bottom = min(top, w.YMin), max(bottom, w.YMax)
			}
			cols := tableColumns(tt.letter.Kind)
			edges := []float64{marginL * 72}
			for _, c := range cols {
				edges = append(edges, edges[len(edges)-1]+c.w*72)
			}
			for i, x := range edges[1 : len(edges)-1] {
				if y, ink := img.inkDown(x, top, bottom, 1); ink {
					t.Errorf("ink at the edge between columns %q and %q (x %.1f pt, y %.1f pt): text crosses it", cols[i].title, cols[i+1].title, x, y)
				}
			}
			// The control: through the middle of a word, the same scan
			// finds ink, in every column that holds one.
			seen := map[int]bool{}
			for _, w := range table {
				for c := range cols {
					if w.XMin >= edges[c] && w.XMax <= edges[c+1] && !seen[c] && w.XMax-w.XMin > 4 {
						seen[c] = true
						if _, ink := img.inkDown((w.XMin+w.XMax)/2, w.YMin, w.YMax, 3); !ink {
							t.Errorf("no ink found through the word %q of column %q: the scan does not see the text", w.Text, cols[c].title)
						}
					}
				}
			}
			if len(seen) < 4 {
				t.Errorf("words found in only %d columns", len(seen))
			}
		})
	}
}

// dpi is the resolution the pages are rendered at.
const dpi = 144

// grayImage is a page as pdftoppm -gray writes it (PGM, 8 bits).
type grayImage struct {
	w, h int
	px   []byte
	dpi  float64
}

// inkDown reports whether any pixel within half pixels of the column at
// x (in points) is dark between y0 and y1 (in points from the top), and
// where. A rule (a row dark for a seventh of an inch around x, as under the
// table's header) is not ink of text.
func (g grayImage) inkDown(x, y0, y1 float64, half int) (float64, bool) {
	px := int(math.Round(x * g.dpi / 72))
	dark := func(x, y int) bool { return x >= 0 && x < g.w && g.px[y*g.w+x] < 128 }
	for y := int(y0 * g.dpi / 72); y <= int(math.Ceil(y1*g.dpi/72)) && y < g.h; y++ {
		rule := true
		for x := px - int(g.dpi)/14; x <= px+int(g.dpi)/14; x++ {
			if !dark(x, y) {
				rule = false
				break
			}
		}
		if rule {
			continue
		}
		for x := px - half; x <= px+half; x++ {
			if dark(x, y) {
				return float64(y) * 72 / g.dpi, true
			}
		}
	}
	return 0, false
}

// pdftoppm renders the first page of pdf in gray at dpi.
func pdftoppm(t *testing.T, pdf []byte, dpi int) grayImage {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "letter.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	prefix := filepath.Join(dir, "page")
	if out, err := exec.Command("pdftoppm", "-gray", "-r", fmt.Sprint(dpi), "-f", "1", "-l", "1", "-singlefile", path, prefix).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v: %s", err, out)
	}
	f, err := os.Open(prefix + ".pgm")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r := bufio.NewReader(f)
	var magic string
	var w, h, maxv int
	if _, err := fmt.Fscan(r, &magic, &w, &h, &maxv); err != nil || magic != "P5" || maxv != 255 {
		t.Fatalf("pdftoppm wrote no 8-bit PGM (%s %d): %v", magic, maxv, err)
	}
	r.ReadByte() // the one white space after the header
	px := make([]byte, w*h)
	if _, err := io.ReadFull(r, px); err != nil {
		t.Fatalf("reading the page's pixels: %v", err)
	}
	if bytes.Count(px, []byte{255}) == len(px) {
		t.Fatal("the rendered page is blank")
	}
	return grayImage{w: w, h: h, px: px, dpi: float64(dpi)}
}
