package batch

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"carepay/payout"
)

// letterSpool keeps the postal letters of a run on disk until the print
// batch is rendered, with only their sort keys in memory: a run may write
// tens of thousands of letters. Each letter is one JSON record, read back
// on its own.
type letterSpool struct {
	f    *os.File
	keys []spooledLetter
	size int64
}

type spooledLetter struct {
	postal, kind, id string
	offset, length   int64
}

func newLetterSpool(dir string) (*letterSpool, error) {
	f, err := os.CreateTemp(dir, "carepay-letters-*")
	if err != nil {
		return nil, fmt.Errorf("spooling letters: %w", err)
	}
	os.Remove(f.Name()) // read back through this handle only
	return &letterSpool{f: f}, nil
}

// add keeps a letter for the print batch.
func (s *letterSpool) add(l *payout.Letter) error {
	b, err := json.Marshal(l)
	if err != nil {
		return fmt.Errorf("spooling letters: %w", err)
	}
	if _, err := s.f.WriteAt(b, s.size); err != nil {
		return fmt.Errorf("spooling letters: %w", err)
	}
	s.keys = append(s.keys, spooledLetter{l.Address.PostalCode, l.Kind, l.ID, s.size, int64(len(b))})
	s.size += int64(len(b))
	return nil
}

func (s *letterSpool) len() int { return len(s.keys) }

// each calls fn with the letters from..to (in sorted order): sorted by
// postal code, then kind and ID.
func (s *letterSpool) each(from, to int, fn func(*payout.Letter) error) error {
	if !sort.SliceIsSorted(s.keys, s.less) {
		sort.SliceStable(s.keys, s.less)
	}
	for _, k := range s.keys[from:to] {
		b := make([]byte, k.length)
		if _, err := s.f.ReadAt(b, k.offset); err != nil {
			return fmt.Errorf("reading spooled letters: %w", err)
		}
		var l payout.Letter
		if err := json.Unmarshal(b, &l); err != nil {
			return fmt.Errorf("reading spooled letters: %w", err)
		}
		if err := fn(&l); err != nil {
			return err
		}
	}
	return nil
}

func (s *letterSpool) less(i, j int) bool {
	a, b := s.keys[i], s.keys[j]
	if a.postal != b.postal {
		return a.postal < b.postal
	}
	if a.kind != b.kind {
		return a.kind < b.kind
	}
	return a.id < b.id
}

func (s *letterSpool) close() { s.f.Close() }
