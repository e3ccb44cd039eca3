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
// Go fonts lack; no CJK) to a temporary file, as a configured fallback
// font is, and returns its path.
func dejavuSans(t testing.TB) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "DejaVuSans.ttf")
	if err := os.WriteFile(path, dejavusans.TTF, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestFallbackSmoke(t *testing.T) {
	style := testLetterStyle(t)
	style.FallbackFonts = []string{dejavuSans(t)}
	l := employeeLetter()
	l.Name = "Անահիտ Սարգսյան"
	l.Address.Line1 = "Dear שרה כהן 5"
	l.Lines[0].Dependent = "ნინო"
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
	os.WriteFile("/tmp/fontsbench/smoke.pdf", buf.Bytes(), 0o644)
	t.Logf("translit %v size %d\n%s", rl.Transliterated, buf.Len(), strings.TrimSpace(pdftotext(t, buf.Bytes())))
}
