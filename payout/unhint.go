package payout

import (
	"encoding/binary"
	"errors"
	"slices"
)

// unhint returns the TrueType font ttf without its hinting: the
// instructions of every glyph, and the tables only instructions use (fpgm,
// prep, cvt). Hinting fits outlines to the pixel grid of small screen
// sizes; PDF viewers and printers scale outlines and mostly ignore it,
// and in a letter's font subset it is more than half the bytes (the Go
// fonts' 95 ASCII glyphs: 18.8 KB with it, 8 KB without), written into
// every letter. The outlines, metrics and character map are unchanged.
//
// The glyphs are written with 4-byte offsets (loca's long format, head's
// indexToLocFormat 1), each padded to 4 bytes.
func unhint(ttf []byte) ([]byte, error) {
	tables, err := readTables(ttf)
	if err != nil {
		return nil, err
	}
	head, maxp, loca, glyf := tables["head"], tables["maxp"], tables["loca"], tables["glyf"]
	if len(head) < 54 || len(maxp) < 6 || glyf == nil || loca == nil {
		return nil, errors.New("unhint: missing head, maxp, loca or glyf")
	}
	numGlyphs := int(binary.BigEndian.Uint16(maxp[4:]))
	long := binary.BigEndian.Uint16(head[50:]) == 1
	offset := func(i int) (int, bool) {
		if long {
			if 4*i+4 > len(loca) {
				return 0, false
			}
			return int(binary.BigEndian.Uint32(loca[4*i:])), true
		}
		if 2*i+2 > len(loca) {
			return 0, false
		}
		return 2 * int(binary.BigEndian.Uint16(loca[2*i:])), true
	}
	newGlyf := make([]byte, 0, len(glyf))
	newLoca := make([]byte, 4*(numGlyphs+1))
	for i := range numGlyphs {
		start, ok1 := offset(i)
		end, ok2 := offset(i + 1)
		if !ok1 || !ok2 || start > end || end > len(glyf) {
			return nil, errors.New("unhint: loca points outside glyf")
		}
		binary.BigEndian.PutUint32(newLoca[4*i:], uint32(len(newGlyf)))
		if newGlyf, err = appendUnhinted(newGlyf, glyf[start:end]); err != nil {
			return nil, err
		}
		for len(newGlyf)%4 != 0 {
			newGlyf = append(newGlyf, 0)
		}
	}
	binary.BigEndian.PutUint32(newLoca[4*numGlyphs:], uint32(len(newGlyf)))
	newHead := slices.Clone(head)
	binary.BigEndian.PutUint16(newHead[50:], 1)
	return replaceTables(ttf, map[string][]byte{"glyf": newGlyf, "loca": newLoca, "head": newHead}, "fpgm", "prep", "cvt "), nil
}

// appendUnhinted appends glyph g (one glyf entry) without instructions.
func appendUnhinted(out, g []byte) ([]byte, error) {
	if len(g) == 0 {
		return out, nil
	}
	if len(g) < 10 {
		return nil, errors.New("unhint: glyph shorter than its header")
	}
	contours := int(int16(binary.BigEndian.Uint16(g)))
	if contours >= 0 {
		// header, endPtsOfContours, instructionLength, instructions, then
		// flags and coordinates to the end.
		p := 10 + 2*contours
		if p+2 > len(g) {
			return nil, errors.New("unhint: simple glyph cut short")
		}
		n := int(binary.BigEndian.Uint16(g[p:]))
		if p+2+n > len(g) {
			return nil, errors.New("unhint: instructions run past the glyph")
		}
		out = append(out, g[:p]...)
		out = append(out, 0, 0)
		return append(out, g[p+2+n:]...), nil
	}
	// A composite glyph: its components, then instructions when a
	// component's flags say WE_HAVE_INSTRUCTIONS.
	at := len(out)
	p := 10
	for {
		if p+4 > len(g) {
			return nil, errors.New("unhint: composite glyph cut short")
		}
		flags := binary.BigEndian.Uint16(g[p:])
		size := componentSize(flags)
		if p+size > len(g) {
			return nil, errors.New("unhint: composite glyph cut short")
		}
		p += size
		if flags&moreComps == 0 {
			break
		}
	}
	out = append(out, g[:p]...)
	// Clear WE_HAVE_INSTRUCTIONS in every component's flags.
	for q := at + 10; ; {
		flags := binary.BigEndian.Uint16(out[q:])
		binary.BigEndian.PutUint16(out[q:], flags&^haveInstr)
		q += componentSize(flags)
		if flags&moreComps == 0 {
			break
		}
	}
	return out, nil
}

// The flags of a composite glyph's component.
const (
	argsAreWords = 0x0001
	haveScale    = 0x0008
	moreComps    = 0x0020
	haveXYScale  = 0x0040
	have2x2      = 0x0080
	haveInstr    = 0x0100
)

// componentSize is the size of a composite glyph's component with these
// flags: flags, glyph index, its two arguments and its transform.
func componentSize(flags uint16) int {
	size := 4 + 2
	if flags&argsAreWords != 0 {
		size = 4 + 4
	}
	switch {
	case flags&haveScale != 0:
		size += 2
	case flags&haveXYScale != 0:
		size += 4
	case flags&have2x2 != 0:
		size += 8
	}
	return size
}

// readTables returns the tables of a TrueType font by tag.
func readTables(ttf []byte) (map[string][]byte, error) {
	if len(ttf) < 12 {
		return nil, errors.New("font shorter than its header")
	}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	tables := make(map[string][]byte, n)
	for i := range n {
		if 12+16*i+16 > len(ttf) {
			return nil, errors.New("font's table directory cut short")
		}
		rec := ttf[12+16*i:]
		off, size := int(binary.BigEndian.Uint32(rec[8:])), int(binary.BigEndian.Uint32(rec[12:]))
		if off+size > len(ttf) || off+size < off {
			return nil, errors.New("font table past the end of the font")
		}
		tables[string(rec[:4])] = ttf[off : off+size]
	}
	return tables, nil
}

// replaceTables returns ttf with the tables in with replaced (by tag)
// and the tables named in drop left out (a table past the end of the
// font is left out too).
// A font too short for its table directory is returned as it is.
func replaceTables(ttf []byte, with map[string][]byte, drop ...string) []byte {
	if len(ttf) < 12 {
		return ttf
	}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	if 12+16*n > len(ttf) {
		return ttf
	}
	type table struct {
		rec  []byte
		data []byte
	}
	var keep []table
	for i := range n {
		rec := ttf[12+16*i : 12+16*i+16]
		tag := string(rec[:4])
		if slices.Contains(drop, tag) {
			continue
		}
		data := with[tag]
		if data == nil {
			off, size := binary.BigEndian.Uint32(rec[8:]), binary.BigEndian.Uint32(rec[12:])
			if int(off)+int(size) > len(ttf) {
				continue
			}
			data = ttf[off : off+size]
		}
		keep = append(keep, table{rec, data})
	}
	out := make([]byte, 12+16*len(keep))
	copy(out, ttf[:12])
	// numTables, then searchRange, entrySelector and rangeShift, which
	// follow from it.
	binary.BigEndian.PutUint16(out[4:], uint16(len(keep)))
	sel := 0
	for 2<<sel <= len(keep) {
		sel++
	}
	binary.BigEndian.PutUint16(out[6:], uint16(16<<sel))
	binary.BigEndian.PutUint16(out[8:], uint16(sel))
	binary.BigEndian.PutUint16(out[10:], uint16(16*len(keep)-16<<sel))
	for i, t := range keep {
		rec := out[12+16*i:]
		copy(rec, t.rec[:4]) // tag
		binary.BigEndian.PutUint32(rec[4:], tableChecksum(t.data))
		binary.BigEndian.PutUint32(rec[8:], uint32(len(out)))
		binary.BigEndian.PutUint32(rec[12:], uint32(len(t.data)))
		out = append(out, t.data...)
		for len(out)%4 != 0 {
			out = append(out, 0)
		}
	}
	return out
}

// tableChecksum is the sum of a table's big-endian 32-bit words.
func tableChecksum(b []byte) uint32 {
	var sum uint32
	for i := 0; i < len(b); i += 4 {
		var w [4]byte
		copy(w[:], b[i:])
		sum += binary.BigEndian.Uint32(w[:])
	}
	return sum
}
