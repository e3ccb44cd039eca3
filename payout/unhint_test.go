package payout

import (
	"encoding/binary"
	"testing"

	"codeberg.org/go-pdf/fpdf"
	"github.com/go-fonts/dejavu/dejavusans"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// TestUnhintKeepsOutlines: a font without its hinting draws every glyph
// with the same outline and advance, has no instructions left (simple or
// composite glyphs), and none of the tables only instructions use; the
// whole Go fonts and DejaVu Sans (whose accented letters are composite
// glyphs) are checked, and a subset cut as letters cut them.
func TestUnhintKeepsOutlines(t *testing.T) {
	fonts := map[string][]byte{
		"goregular":        goregular.TTF,
		"gobold":           gobold.TTF,
		"dejavusans":       dejavusans.TTF, // a fallback font, with composite glyphs
		"goregular subset": fpdf.UTF8CutFont(goregular.TTF, " AZaz09éÅçßĞŒ€Жжλ–"),
	}
	for name, ttf := range fonts {
		t.Run(name, func(t *testing.T) {
			out, err := unhint(ttf)
			if err != nil {
				t.Fatal(err)
			}
			// The Go fonts are hinted throughout; DejaVu Sans lightly.
			if most := len(ttf) * 3 / 4; name == "dejavusans" {
				if len(out) >= len(ttf) {
					t.Errorf("%d bytes unhinted from %d: want fewer", len(out), len(ttf))
				}
			} else if len(out) >= most {
				t.Errorf("%d bytes unhinted from %d: want under three quarters", len(out), len(ttf))
			}
			tables, err := readTables(out)
			if err != nil {
				t.Fatal(err)
			}
			for _, tag := range []string{"fpgm", "prep", "cvt "} {
				if tables[tag] != nil {
					t.Errorf("table %q kept", tag)
				}
			}
			was, err := sfnt.Parse(ttf)
			if err != nil {
				t.Fatal(err)
			}
			now, err := sfnt.Parse(out)
			if err != nil {
				t.Fatalf("unhinted font does not parse: %v", err)
			}
			if was.NumGlyphs() != now.NumGlyphs() {
				t.Fatalf("%d glyphs, want %d", now.NumGlyphs(), was.NumGlyphs())
			}
			var b1, b2 sfnt.Buffer
			ppem := fixed.I(100)
			composites := 0
			for g := range sfnt.GlyphIndex(was.NumGlyphs()) {
				s1, err1 := was.LoadGlyph(&b1, g, ppem, nil)
				s2, err2 := now.LoadGlyph(&b2, g, ppem, nil)
				if (err1 == nil) != (err2 == nil) {
					t.Fatalf("glyph %d: error %v, was %v", g, err2, err1)
				}
				if len(s1) != len(s2) {
					t.Fatalf("glyph %d: %d segments, want %d", g, len(s2), len(s1))
				}
				for i := range s1 {
					if s1[i] != s2[i] {
						t.Fatalf("glyph %d segment %d: %v, want %v", g, i, s2[i], s1[i])
					}
				}
				a1, _ := was.GlyphAdvance(&b1, g, ppem, font.HintingNone)
				a2, _ := now.GlyphAdvance(&b2, g, ppem, font.HintingNone)
				if a1 != a2 {
					t.Errorf("glyph %d: advance %v, want %v", g, a2, a1)
				}
				if glyphInstructions(t, tables, int(g), &composites) != 0 {
					t.Errorf("glyph %d keeps instructions", g)
				}
			}
			if name == "dejavusans" && composites == 0 {
				t.Error("no composite glyph met: the composite path went untested")
			}
		})
	}
}

// glyphInstructions returns how many instruction bytes glyph g holds
// (for a composite, 1 when a component still says it has some).
func glyphInstructions(t *testing.T, tables map[string][]byte, g int, composites *int) int {
	loca, glyf := tables["loca"], tables["glyf"]
	start, end := binary.BigEndian.Uint32(loca[4*g:]), binary.BigEndian.Uint32(loca[4*g+4:])
	d := glyf[start:end]
	if len(d) == 0 {
		return 0
	}
	n := int(int16(binary.BigEndian.Uint16(d)))
	if n >= 0 {
		return int(binary.BigEndian.Uint16(d[10+2*n:]))
	}
	*composites++
	for p := 10; ; {
		flags := binary.BigEndian.Uint16(d[p:])
		if flags&0x0100 != 0 {
			return 1
		}
		size := 6
		if flags&1 != 0 {
			size = 8
		}
		switch {
		case flags&0x0008 != 0:
			size += 2
		case flags&0x0040 != 0:
			size += 4
		case flags&0x0080 != 0:
			size += 8
		}
		p += size
		if flags&0x0020 == 0 {
			return 0
		}
	}
}

// TestUnhintDamagedFonts: a font cut short is refused by unhint (unless
// only its last padding is lost), and neither unhint nor replaceTables
// panics, wherever it is cut.
func TestUnhintDamagedFonts(t *testing.T) {
	ttf := fpdf.UTF8CutFont(goregular.TTF, " Aa")
	for _, n := range []int{0, 4, 11, 12, 20, 100, len(ttf) / 2} {
		if _, err := unhint(ttf[:n]); err == nil {
			t.Errorf("unhint of the first %d bytes: no error", n)
		}
	}
	for n := range len(ttf) { // no panic, whatever the cut
		unhint(ttf[:n])
		replaceTables(ttf[:n], nil, "name", "post")
	}
}
