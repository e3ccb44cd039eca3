package payout

import (
	"bytes"
	"testing"

	"carepay/templates"
)

// benchStyle is testLetterStyle for benchmarks.
func benchStyle(b *testing.B) *LetterStyle {
	tmpl, err := templates.Letter()
	if err != nil {
		b.Fatal(err)
	}
	words, err := templates.Reasons()
	if err != nil {
		b.Fatal(err)
	}
	return &LetterStyle{Template: tmpl, ReasonWords: words, ReturnAddress: []string{"Benefits Opérations", "Acme Corp", "1 Main St", "Troy, NY 12180"}}
}

// BenchmarkWriteLetter renders and writes one letter at a time on one
// goroutine, the cost a run pays per letter with the Go fonts alone:
//
//	go test ./payout -run '^$' -bench WriteLetter -benchtime 2000x
func BenchmarkWriteLetter(b *testing.B) {
	style := benchStyle(b)
	l := employeeLetter()
	var buf bytes.Buffer
	for b.Loop() {
		buf.Reset()
		if err := style.WriteLetter(&buf, l); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteLetterFallback is BenchmarkWriteLetter with DejaVu Sans
// as a fallback font: for a letter that needs none of it (latin), and one
// whose name and a dependent are in Armenian (armenian).
func BenchmarkWriteLetterFallback(b *testing.B) {
	style := benchStyle(b)
	style.FallbackFonts = []string{dejavuSans(b)}
	armenian := employeeLetter()
	armenian.Name = "Անահիտ Սարգսյան"
	armenian.Lines[0].Dependent = "Արամ"
	for _, bb := range []struct {
		name   string
		letter *Letter
	}{{"latin", employeeLetter()}, {"armenian", armenian}} {
		b.Run(bb.name, func(b *testing.B) {
			var buf bytes.Buffer
			for b.Loop() {
				buf.Reset()
				if err := style.WriteLetter(&buf, bb.letter); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
