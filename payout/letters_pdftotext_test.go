package payout

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// pdftotext returns the text poppler reads from pdf, laid out; it skips
// the test where poppler-utils is not installed, outside CI (scripts/test
// installs it).
func pdftotext(t *testing.T, pdf []byte) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("pdftotext not installed under CI: scripts/test installs poppler-utils")
		}
		t.Skip("pdftotext not installed (poppler-utils; scripts/test installs it)")
	}
	path := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext: %v: %s", err, out)
	}
	return string(out)
}

// TestLettersReadByPoppler checks, with a real PDF reader, that names in
// Latin, Greek and Cyrillic print as written in a letter and in a print
// batch assembled from letters' files, that the print batch holds each
// letter's page in order, and that the embedded fonts are subsets.
func TestLettersReadByPoppler(t *testing.T) {
	style := testLetterStyle(t)
	first := employeeLetter()
	first.Name = "Дмитрий Łukasz"
	first.Lines[0].Dependent = "Σοφία"
	second := providerLetter()
	second.Name = "Şahin Crèche"

	var files [][]byte
	var spans [][]PageSpan
	r, err := style.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	var fonts FontSet
	for _, l := range []*Letter{first, second} {
		rl, err := r.Render(l)
		if err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		s, err := r.WritePDF(&buf, l, rl)
		if err != nil {
			t.Fatal(err)
		}
		// A subset of two faces, not the fonts whole (130 KiB each).
		if buf.Len() > 120<<10 {
			t.Errorf("letter to %s is %d bytes: fonts embedded whole?", l.Name, buf.Len())
		}
		files, spans = append(files, buf.Bytes()), append(spans, s)
		fonts.Union(rl.Fonts)
	}
	text := pdftotext(t, files[0])
	for _, want := range []string{"Дмитрий Łukasz", "Dear Дмитрий Łukasz,", "Σοφία", "Springfield, IL 62701"} {
		if !strings.Contains(text, want) {
			t.Errorf("pdftotext does not read %q in the letter:\n%s", want, text)
		}
	}

	var batch bytes.Buffer
	pb, err := NewPrintBatch(&batch, first.Date, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := range files {
		if err := pb.Add(bytes.NewReader(files[i]), spans[i], fonts); err != nil {
			t.Fatal(err)
		}
	}
	if err := pb.Close(); err != nil {
		t.Fatal(err)
	}
	text = pdftotext(t, batch.Bytes())
	pages := strings.Split(text, "\f")
	if len(pages) < 2 || !strings.Contains(pages[0], "Dear Дмитрий Łukasz,") || !strings.Contains(pages[1], "Dear Şahin Crèche,") {
		t.Errorf("the print batch does not hold the two letters, in order, one a page:\n%s", text)
	}
}
