// Package intern numbers keys: each distinct key gets the next number, 0,
// 1, 2 and on, in the order first met.
//
// A run meets hundreds of thousands of employees, dependents, providers
// and documents and keeps what it learns of each until its commit. A Go
// map keyed by their ID strings holds a pointer an entry (to the key's
// bytes, a small allocation of its own), which the garbage collector
// follows at every cycle. A Table holds no pointers: the keys' bytes are
// appended to one slice and the hash slots are numbers, so it takes less
// memory than such a map (no string header and no allocation a key) and
// the collector marks it without reading it. What is kept per key goes in
// a slice indexed by the key's number.
package intern

import (
	"encoding/binary"
	"hash/maphash"
	"math"
)

// Table numbers keys. The zero Table is ready to use. A Table is not safe
// for concurrent use.
type Table struct {
	seed  maphash.Seed
	slots []uint64 // a key's tag << 32 | its number + 1, at or after its hash's slot; 0: free
	ends  []uint32 // key n's bytes are text[ends[n-1]:ends[n]] (from 0 for n = 0)
	text  []byte
	pair  []byte // Pair's scratch key
}

// Len is how many keys the table has numbered.
func (t *Table) Len() int { return len(t.ends) }

// Number returns key's number, numbering it first if it is new (added).
func (t *Table) Number(key string) (n uint32, added bool) {
	t.init()
	return number(t, key, maphash.String(t.seed, key))
}

// Lookup returns key's number, if it has one.
func (t *Table) Lookup(key string) (uint32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	return lookup(t, key, maphash.String(t.seed, key))
}

// NumberPair numbers the key made of a then b, a's length written first
// so that no two pairs make the same key. A table numbers pairs or single
// keys, not both: a single key can have a pair's bytes.
func (t *Table) NumberPair(a, b string) (n uint32, added bool) {
	t.init()
	k := t.pairKey(a, b)
	return number(t, k, maphash.Bytes(t.seed, k))
}

// LookupPair returns the number of the pair a, b, if it has one.
func (t *Table) LookupPair(a, b string) (uint32, bool) {
	if len(t.slots) == 0 {
		return 0, false
	}
	k := t.pairKey(a, b)
	return lookup(t, k, maphash.Bytes(t.seed, k))
}

// Key returns key n as a string (a copy).
func (t *Table) Key(n uint32) string { return string(t.key(n)) }

// Pair returns the two halves of pair n, as NumberPair was given them.
func (t *Table) Pair(n uint32) (a, b string) {
	k := t.key(n)
	la, w := binary.Uvarint(k)
	if w <= 0 || uint64(len(k)-w) < la {
		panic("intern: key is not a pair")
	}
	k = k[w:]
	return string(k[:la]), string(k[la:])
}

func (t *Table) key(n uint32) []byte {
	start := uint32(0)
	if n > 0 {
		start = t.ends[n-1]
	}
	return t.text[start:t.ends[n]]
}

func (t *Table) pairKey(a, b string) []byte {
	k := binary.AppendUvarint(t.pair[:0], uint64(len(a)))
	k = append(append(k, a...), b...)
	t.pair = k
	return k
}

func (t *Table) init() {
	if len(t.slots) == 0 {
		t.seed = maphash.MakeSeed()
		t.slots = make([]uint64, 64)
	}
}

// tag is what a slot keeps of a key's hash h besides its place: a key's
// bytes are compared only when its slot's tag matches, not at every slot
// a probe passes.
func tag(h uint64) uint64 { return h >> 32 << 32 }

// find returns the slot of key: the slot holding its number + 1 (n), or
// the free slot where it would go (n = 0).
func find[K string | []byte](t *Table, key K, h uint64) (slot int, n uint32) {
	mask, tg := uint64(len(t.slots)-1), tag(h)
	for i := h & mask; ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return int(i), 0
		}
		if s&^0xffffffff == tg && string(t.key(uint32(s)-1)) == string(key) {
			return int(i), uint32(s)
		}
	}
}

// lookup returns key's number, h its hash, if it has one.
func lookup[K string | []byte](t *Table, key K, h uint64) (uint32, bool) {
	_, n := find(t, key, h)
	return n - 1, n != 0
}

// number returns key's number, h its hash, numbering it if it is new.
func number[K string | []byte](t *Table, key K, h uint64) (uint32, bool) {
	slot, n := find(t, key, h)
	if n != 0 {
		return n - 1, false
	}
	if uint64(len(t.text))+uint64(len(key)) > math.MaxUint32 || len(t.ends) == math.MaxUint32-1 {
		panic("intern: more than 4 GiB of keys") // a run's IDs are a few MiB
	}
	t.text = append(t.text, key...)
	t.ends = append(t.ends, uint32(len(t.text)))
	n = uint32(len(t.ends)) // the new key's number + 1
	t.slots[slot] = tag(h) | uint64(n)
	if 2*len(t.ends) > len(t.slots) {
		t.grow()
	}
	return n - 1, true
}

// grow doubles the slots, keeping them at most half full, so that a probe
// ends within a few slots.
func (t *Table) grow() {
	old := t.slots
	t.slots = make([]uint64, 2*len(old))
	mask := uint64(len(t.slots) - 1)
	for _, s := range old {
		if s == 0 {
			continue
		}
		h := maphash.Bytes(t.seed, t.key(uint32(s)-1))
		i := h & mask
		for t.slots[i] != 0 {
			i = (i + 1) & mask
		}
		t.slots[i] = s
	}
}
