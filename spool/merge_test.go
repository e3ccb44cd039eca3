package spool

import (
	"errors"
	"fmt"
	"testing"
)

// TestMerge: sources merge in order, equal items in source order, and
// an error from a source or from fn stops the merge with it.
func TestMerge(t *testing.T) {
	type item struct{ key, src int }
	from := func(src int, keys ...int) func() (item, bool, error) {
		return func() (item, bool, error) {
			if len(keys) == 0 {
				return item{}, false, nil
			}
			k := keys[0]
			keys = keys[1:]
			return item{k, src}, true, nil
		}
	}
	less := func(a, b item) bool { return a.key < b.key }
	var got []item
	err := Merge([]func() (item, bool, error){from(0, 1, 3, 3, 9), from(1), from(2, 0, 3, 10), from(3, 3)}, less, func(x item) error {
		got = append(got, x)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := "[{0 2} {1 0} {3 0} {3 0} {3 2} {3 3} {9 0} {10 2}]"
	if fmt.Sprint(got) != want {
		t.Errorf("merged %v, want %s", got, want)
	}

	boom := errors.New("boom")
	failing := func() (item, bool, error) { return item{}, false, boom }
	if err := Merge([]func() (item, bool, error){from(0, 1), failing}, less, func(item) error { return nil }); !errors.Is(err, boom) {
		t.Errorf("a failing source: %v, want its error", err)
	}
	n := 0
	err = Merge([]func() (item, bool, error){from(0, 1, 2, 3)}, less, func(item) error {
		if n++; n == 2 {
			return boom
		}
		return nil
	})
	if !errors.Is(err, boom) || n != 2 {
		t.Errorf("fn failing at the second item: %v after %d items", err, n)
	}
}
