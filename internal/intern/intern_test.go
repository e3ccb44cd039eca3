package intern

import (
	"strconv"
	"testing"
)

// TestNumbersAgreeWithAMap numbers many keys, some met again, and checks
// every number against a map doing the same, through the table's growth.
func TestNumbersAgreeWithAMap(t *testing.T) {
	var tb Table
	if _, ok := tb.Lookup("x"); ok {
		t.Fatal("the zero Table found a key")
	}
	want := map[string]uint32{}
	for i := range 50000 {
		k := "E" + strconv.Itoa(i*7919%20011) // repeats after 20011
		n, added := tb.Number(k)
		w, seen := want[k]
		if !seen {
			w = uint32(len(want))
			want[k] = w
		}
		if n != w || added == seen {
			t.Fatalf("Number(%q) = %d, %v; want %d, %v", k, n, added, w, !seen)
		}
	}
	if tb.Len() != len(want) {
		t.Fatalf("Len = %d, want %d", tb.Len(), len(want))
	}
	for k, w := range want {
		if n, ok := tb.Lookup(k); !ok || n != w {
			t.Fatalf("Lookup(%q) = %d, %v; want %d", k, n, ok, w)
		}
		if got := tb.Key(w); got != k {
			t.Fatalf("Key(%d) = %q, want %q", w, got, k)
		}
	}
	for _, k := range []string{"", "E", "E20011", "e1"} {
		if n, ok := tb.Lookup(k); ok {
			t.Errorf("Lookup(%q) found %d; it was never numbered", k, n)
		}
	}
}

// TestPairs checks that pairs are told apart however their texts split.
func TestPairs(t *testing.T) {
	var tb Table
	cases := []struct{ a, b string }{
		{"ab", "c"}, {"a", "bc"}, {"", "abc"}, {"abc", ""}, {"", ""},
		{"\x01a", "b"}, {"copay", "E1"}, {"daily", "E1"},
	}
	for i, c := range cases {
		if n, added := tb.NumberPair(c.a, c.b); n != uint32(i) || !added {
			t.Fatalf("NumberPair(%q, %q) = %d, %v; want %d, new", c.a, c.b, n, added, i)
		}
	}
	for i, c := range cases {
		if n, added := tb.NumberPair(c.a, c.b); n != uint32(i) || added {
			t.Errorf("NumberPair(%q, %q) again = %d, %v; want %d, not new", c.a, c.b, n, added, i)
		}
		if n, ok := tb.LookupPair(c.a, c.b); n != uint32(i) || !ok {
			t.Errorf("LookupPair(%q, %q) = %d, %v; want %d", c.a, c.b, n, ok, i)
		}
		if a, b := tb.Pair(uint32(i)); a != c.a || b != c.b {
			t.Errorf("Pair(%d) = %q, %q; want %q, %q", i, a, b, c.a, c.b)
		}
	}
	if _, ok := tb.LookupPair("x", "y"); ok {
		t.Error("LookupPair found a pair never numbered")
	}
}
