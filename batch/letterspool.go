package batch

import (
	"fmt"
	"io"
	"os"
	"sort"
	"sync"

	"carepay/core"
	"carepay/payout"
)

// printQueue keeps the postal letters of a run until the print batch is
// written: for each, its sort key and where its pages lie in its file
// (a letter is rendered once; the print batch copies its pages).
type printQueue struct {
	mu      sync.Mutex
	letters []queuedLetter
	fonts   map[payout.FontSet]*payout.FontSet // a few distinct sets, shared
}

type queuedLetter struct {
	postal, kind, id string
	file             string
	pages            []payout.PageSpan
	fonts            *payout.FontSet
}

// add queues a letter written to file; safe for concurrent use.
func (q *printQueue) add(l *payout.Letter, file string, pages []payout.PageSpan, fonts payout.FontSet) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.fonts == nil {
		q.fonts = map[payout.FontSet]*payout.FontSet{}
	}
	fs := q.fonts[fonts]
	if fs == nil {
		fs = &fonts
		q.fonts[fonts] = fs
	}
	q.letters = append(q.letters, queuedLetter{l.Address.PostalCode, l.Kind, l.ID, file, pages, fs})
}

func (q *printQueue) len() int { return len(q.letters) }

// sort puts the letters in mailing order: by postal code, then kind and
// ID.
func (q *printQueue) sort() {
	sort.Slice(q.letters, func(i, j int) bool {
		a, b := &q.letters[i], &q.letters[j]
		if a.postal != b.postal {
			return a.postal < b.postal
		}
		if a.kind != b.kind {
			return a.kind < b.kind
		}
		return a.id < b.id
	})
}

// write writes letters from..to (in sorted order) as one print batch.
func (q *printQueue) write(w io.Writer, date core.Date, fallbackFonts []string, from, to int) error {
	batch, err := payout.NewPrintBatch(w, date, fallbackFonts)
	if err != nil {
		return err
	}
	for _, l := range q.letters[from:to] {
		f, err := os.Open(l.file)
		if err != nil {
			return fmt.Errorf("reading letter to %s %s: %w", l.kind, l.id, err)
		}
		err = batch.Add(f, l.pages, *l.fonts)
		f.Close()
		if err != nil {
			return fmt.Errorf("letter to %s %s: %w", l.kind, l.id, err)
		}
	}
	return batch.Close()
}
