package payout

import (
	"bytes"
	"sync"
	"testing"

	"carepay/core"
	"carepay/templates"
)

// TestLettersRenderInParallel renders one letter on several goroutines at
// once, as a run does: every copy must be the same bytes (the code-page
// translator of the PDF library is not safe for concurrent use).
func TestLettersRenderInParallel(t *testing.T) {
	tmpl, err := templates.Letter()
	if err != nil {
		t.Fatal(err)
	}
	style := &LetterStyle{Template: tmpl, ReasonWords: map[string]string{}}
	l := &Letter{Kind: core.PayeeEmployee, ID: "E1", Name: "José Núñez", RunID: "R1", Date: core.NewDate(2026, 4, 10),
		Address: core.Address{Line1: "1 Main St", City: "Dover", State: "DE", PostalCode: "19901"},
		Lines:   []LetterLine{{Date: core.NewDate(2026, 3, 2), Dependent: "Zoë", CareType: "center", Units: "1", Charged: 12000, Status: "approved"}}}
	var want bytes.Buffer
	if err := style.WriteLetter(&want, l); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan string, 8)
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 25; i++ {
				var b bytes.Buffer
				if err := style.WriteLetter(&b, l); err != nil || !bytes.Equal(b.Bytes(), want.Bytes()) {
					errs <- "a letter rendered in parallel differs"
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
