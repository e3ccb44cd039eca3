package payout

import (
	"fmt"
	"io"
	"sync"
	"time"

	"codeberg.org/go-pdf/fpdf"
)

// translators turn UTF-8 into the code page of fpdf's core fonts. One may
// not be used by two goroutines at once, so they are pooled.
var translators = sync.Pool{New: func() any {
	return fpdf.New("P", "in", "Letter", "").UnicodeTranslatorFromDescriptor("")
}}

// WriteLetterCoreFont renders l as carepay's letters are laid out, with
// fpdf alone: a document per letter, its core Helvetica font (Latin-1
// only, no font embedded) and its own Output. It is the floor that the
// letter benchmarks compare carepay's letters with; runs do not use it.
func (s *LetterStyle) WriteLetterCoreFont(w io.Writer, l *Letter) error {
	texts, err := s.texts(l)
	if err != nil {
		return err
	}
	tr := translators.Get().(func(string) string)
	defer translators.Put(tr)
	pdf := fpdf.New("P", "in", "Letter", "")
	pdf.SetCompression(false)
	t := l.Date.Time().Add(12 * time.Hour)
	pdf.SetCreationDate(t)
	pdf.SetModificationDate(t)
	pdf.AddPage()
	s.layout(&cells{pdf: pdf}, "Helvetica", tr, l, texts)
	if err := pdf.Output(w); err != nil {
		return fmt.Errorf("letter to %s %s: %w", l.Kind, l.ID, err)
	}
	return nil
}
