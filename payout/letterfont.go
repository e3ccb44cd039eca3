package payout

import (
	"bytes"
	"compress/zlib"
	"encoding/binary"
	"fmt"
	anyascii "github.com/anyascii/go"
	"hash/fnv"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode"

	"codeberg.org/go-pdf/fpdf"
	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/sfnt"
	"golang.org/x/image/math/fixed"
)

// Letters are set in the Go fonts (Latin, Greek and Cyrillic), embedded as
// TrueType subsets through fpdf's UTF-8 fonts, so that names print as
// written. fpdf lays the letters out; carepay writes the PDF files around
// fpdf's pages (see letterpdf.go) so that a subset is cut once for many
// letters instead of once per letter, which costs more than the letter.
//
// A subset holds printable ASCII and every character the fonts have in
// each block of 16 code points a letter uses: letters with the same blocks
// share one subset, a few kilobytes. A character neither the Go fonts
// nor a fallback font has (a name in Chinese, say) is transliterated with
// anyascii (张伟 prints as ZhangWei), and the letter says it was
// (RenderedLetter.Transliterated), for the run report.
//
// Fallback fonts (config: letters.fallback_fonts) print what the Go fonts
// lack: each such character is set in the first fallback font that has
// it, and only a character none has is transliterated. A fallback font is
// cut to the same blocks and embedded as the Go fonts are; fpdf does not
// know it: the lines that hold its characters are written in runs, one
// font each, by letterruns.go. Fallback fonts serve the Basic
// Multilingual Plane; characters beyond it (emoji) are transliterated.

const fontFamily = "go"

// chunkBits sizes the blocks of code points a subset takes whole.
const chunkBits = 4

// FontSet names the blocks of 16 code points of the Basic Multilingual
// Plane a letter uses. Its zero value means printable ASCII only.
type FontSet [65536 >> chunkBits / 64]uint64

func (s *FontSet) add(r rune) {
	c := int(r) >> chunkBits
	s[c/64] |= 1 << (c % 64)
}

// Union adds the blocks of o to s.
func (s *FontSet) Union(o FontSet) {
	for i := range s {
		s[i] |= o[i]
	}
}

func (s *FontSet) has(r rune) bool {
	c := int(r) >> chunkBits
	return s[c/64]&(1<<(c%64)) != 0
}

// letterFont is one face as letters use it.
type letterFont struct {
	style    string // fpdf style: "" or "B"
	postName string
	ttf      []byte
	sf       *sfnt.Font
	scale    float64 // glyph units to thousandths of an em
	stemV    int
	desc     string // the FontDescriptor entries apart from FontName and FontFile2
	// widths are, for a fallback font, the advance of each BMP code point
	// it prints, in thousandths of an em (fpdf measures the Go fonts).
	widths []uint16
}

type letterFonts struct {
	faces [2]*letterFont // regular, bold
	// covered marks the BMP code points both faces have a glyph for.
	covered [65536 / 64]uint64

	// names are fpdf's resource names of the faces in its pages.
	names [2]string

	// fallbacks are the fallback fonts, in the order they are tried.
	// fallbackOf gives, by BMP code point, 1 + the index of the fallback
	// that prints it: 0 where a Go font does or none can. It is nil
	// without fallbacks.
	fallbacks  []*letterFont
	fallbackOf []uint8

	mu      sync.Mutex
	subsets map[FontSet]*fontObjects
}

var (
	fontsOnce sync.Once
	fontsErr  error
	theFonts  *letterFonts

	// withFallbacks caches the fonts of each list of fallback fonts.
	fallbackMu    sync.Mutex
	withFallbacks = map[string]*fallbackEntry{}
)

type fallbackEntry struct {
	once sync.Once
	lf   *letterFonts
	err  error
}

// maxFallbacks bounds the fallback fonts of a letter (fallbackOf holds
// a byte).
const maxFallbacks = 32

// maxSubsets bounds the cache of font subsets: past it a subset is cut
// for its document alone.
const maxSubsets = 256

// loadFonts returns the letter fonts with the fallback fonts in the
// files named, in order; each list is read once per process.
func loadFonts(fallbacks []string) (*letterFonts, error) {
	fontsOnce.Do(loadGoFonts)
	if fontsErr != nil || len(fallbacks) == 0 {
		return theFonts, fontsErr
	}
	key := strings.Join(fallbacks, "\x00")
	fallbackMu.Lock()
	e := withFallbacks[key]
	if e == nil {
		e = &fallbackEntry{}
		withFallbacks[key] = e
	}
	fallbackMu.Unlock()
	e.once.Do(func() { e.lf, e.err = theFonts.withFallbacks(fallbacks) })
	if e.err != nil {
		// Not kept: a font fixed on disk is read again next time.
		fallbackMu.Lock()
		if withFallbacks[key] == e {
			delete(withFallbacks, key)
		}
		fallbackMu.Unlock()
	}
	return e.lf, e.err
}

func loadGoFonts() {
	lf := &letterFonts{subsets: map[FontSet]*fontObjects{}}
	for i, f := range []struct {
		style, name string
		ttf         []byte
		stemV       int
	}{{"", "GoRegular", goregular.TTF, 80}, {"B", "GoBold", gobold.TTF, 150}} {
		face, err := newLetterFont(f.style, f.name, f.ttf, f.stemV)
		if err != nil {
			fontsErr = err
			return
		}
		lf.faces[i] = face
	}
	var b sfnt.Buffer
	for r := rune(32); r < 65536; r++ {
		ok := true
		for _, face := range lf.faces {
			if g, err := face.sf.GlyphIndex(&b, r); err != nil || g == 0 {
				ok = false
			}
		}
		if ok && (r < 0xD800 || r > 0xDFFF) {
			lf.covered[r/64] |= 1 << (r % 64)
		}
	}
	pdf := newLayoutDoc()
	tpl := pdf.CreateTemplate(func(t *fpdf.Tpl) {
		t.SetFont(fontFamily, "", 10)
		t.SetFont(fontFamily, "B", 10)
	})
	for i, f := range bytes.SplitAfter(tpl.Bytes(), []byte("BT /F"))[1:] {
		name, _, _ := bytes.Cut(f, []byte(" "))
		if i < 2 {
			lf.names[i] = string(name)
		}
	}
	if err := pdf.Error(); err != nil || lf.names[1] == "" {
		fontsErr = fmt.Errorf("loading the letter fonts: %v", err)
		return
	}
	theFonts = lf
}

// withFallbacks returns the Go fonts with the fallback fonts read from
// the files named.
func (lf *letterFonts) withFallbacks(paths []string) (*letterFonts, error) {
	if len(paths) > maxFallbacks {
		return nil, fmt.Errorf("%d fallback fonts: at most %d", len(paths), maxFallbacks)
	}
	out := &letterFonts{faces: lf.faces, covered: lf.covered, names: lf.names, subsets: map[FontSet]*fontObjects{},
		fallbackOf: make([]uint8, 65536)}
	var b sfnt.Buffer
	for i, path := range paths {
		ttf, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("reading fallback font: %w", err)
		}
		if !hasTable(ttf, "glyf") {
			return nil, fmt.Errorf("fallback font %s: no TrueType outlines (glyf table); letters embed TrueType fonts only", path)
		}
		face, err := newLetterFont("", "Fallback"+strconv.Itoa(i+1), ttf, 80)
		if err != nil {
			return nil, fmt.Errorf("fallback font %s: %w", path, err)
		}
		if n, err := face.sf.Name(&b, sfnt.NameIDPostScript); err == nil && postScriptName(n) {
			face.postName = n
		}
		face.widths = make([]uint16, 65536)
		upem := fixed.Int26_6(face.sf.UnitsPerEm()) << 6
		first := rune(-1)
		for r := rune(33); r < 65536; r++ {
			if r >= 0xD800 && r <= 0xDFFF || lf.covered[r/64]&(1<<(r%64)) != 0 || out.fallbackOf[r] != 0 || joiningScript(r) {
				continue
			}
			g, err := face.sf.GlyphIndex(&b, r)
			if err != nil || g == 0 {
				continue
			}
			adv, err := face.sf.GlyphAdvance(&b, g, upem, font.HintingNone)
			if err != nil {
				return nil, fmt.Errorf("fallback font %s: %w", path, err)
			}
			out.fallbackOf[r] = uint8(i + 1)
			face.widths[r] = uint16(min(math.Round(float64(adv)/64*face.scale), math.MaxUint16))
			if first < 0 {
				first = r
			}
		}
		if first >= 0 {
			// fpdf's subsetter reads the whole font: try it now, not
			// in the middle of a run.
			if err := tryCut(ttf, string(first)); err != nil {
				return nil, fmt.Errorf("fallback font %s: %w", path, err)
			}
		}
		out.fallbacks = append(out.fallbacks, face)
	}
	return out, nil
}

// joiningScript reports whether r belongs to a script whose letters join
// (Arabic, Syriac, Thaana, N'Ko, Mandaic): set one glyph at a time, as
// letters are, they would print unjoined, so they are transliterated even
// with a fallback font that has them.
func joiningScript(r rune) bool {
	return r >= 0x0600 && r <= 0x08FF && (r < 0x0800 || r > 0x083F) || // less Samaritan, which does not join
		r >= 0xFB50 && r <= 0xFDFF || r >= 0xFE70 && r <= 0xFEFF
}

// postScriptName reports whether n can name a font in a PDF as it is.
func postScriptName(n string) bool {
	if n == "" || len(n) > 63 {
		return false
	}
	for _, c := range []byte(n) {
		if c <= ' ' || c > '~' || strings.IndexByte("()<>[]{}/%#", c) >= 0 {
			return false
		}
	}
	return true
}

// tryCut cuts ttf to cutset, turning a panic of the subsetter (a font it
// cannot read) into an error.
func tryCut(ttf []byte, cutset string) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("cannot subset the font: %v", p)
		}
	}()
	if _, err := sfnt.Parse(fpdf.UTF8CutFont(ttf, cutset)); err != nil {
		return fmt.Errorf("cannot subset the font: %w", err)
	}
	return nil
}

// hasTable reports whether the font file ttf has a table named tag.
func hasTable(ttf []byte, tag string) bool {
	if len(ttf) < 12 {
		return false
	}
	n := int(binary.BigEndian.Uint16(ttf[4:]))
	for i := 0; i < n && 12+16*i+16 <= len(ttf); i++ {
		if string(ttf[12+16*i:12+16*i+4]) == tag {
			return true
		}
	}
	return false
}

// fallback returns the fallback font (1-based, as fallbackOf) that prints
// r, or 0.
func (lf *letterFonts) fallback(r rune) int {
	if lf.fallbackOf == nil || r < 0 || r >= 65536 {
		return 0
	}
	return int(lf.fallbackOf[r])
}

// objectCount is how many objects fontObjects holds: six per face.
func (lf *letterFonts) objectCount() int { return 6 * (len(lf.faces) + len(lf.fallbacks)) }

func newLetterFont(style, name string, ttf []byte, stemV int) (*letterFont, error) {
	sf, err := sfnt.Parse(ttf)
	if err != nil {
		return nil, fmt.Errorf("reading font %s: %w", name, err)
	}
	upem := fixed.Int26_6(sf.UnitsPerEm()) << 6
	var b sfnt.Buffer
	m, err := sf.Metrics(&b, upem, font.HintingNone)
	if err != nil {
		return nil, fmt.Errorf("reading font %s: %w", name, err)
	}
	box, err := sf.Bounds(&b, upem, font.HintingNone)
	if err != nil {
		return nil, fmt.Errorf("reading font %s: %w", name, err)
	}
	f := &letterFont{style: style, postName: name, ttf: ttf, sf: sf, scale: 1000 / float64(sf.UnitsPerEm()), stemV: stemV}
	u := func(v fixed.Int26_6) int { return int(math.Round(float64(v) / 64 * f.scale)) }
	// Flags 4: symbolic (the glyphs are reached through CIDToGIDMap).
	f.desc = fmt.Sprintf("/Flags 4 /FontBBox [%d %d %d %d] /ItalicAngle 0 /Ascent %d /Descent %d /CapHeight %d /StemV %d /MissingWidth %d",
		u(box.Min.X), -u(box.Max.Y), u(box.Max.X), -u(box.Min.Y), u(m.Ascent), -u(m.Descent), u(m.CapHeight), stemV, 600)
	return f, nil
}

// text readies s for the page: characters the fonts lack are
// transliterated (translit is then set; "?" when anyascii has nothing for
// them), and the blocks of the others are added to set.
func (lf *letterFonts) text(s string, set *FontSet, translit *bool) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 32 || c > 126 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= 32 && r <= 126:
		case r < 65536 && lf.covered[r/64]&(1<<(r%64)) != 0:
			set.add(r)
		case r == '\n' || r == '\t':
		case lf.fallback(r) != 0:
			set.add(r)
		default:
			*translit = true
			a := anyascii.Transliterate(string(r))
			if a == "" && !unicode.IsLetter(r) {
				a = "?" // a letter anyascii writes as nothing (Arabic alef) is left out
			}
			b.WriteString(a)
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

// fontObjects are the PDF objects of the faces cut to one FontSet,
// numbered from firstFontObject, ready to copy into any document.
type fontObjects struct {
	body    []byte
	offsets []int // of each object within body
	// resources are the entries of the pages' font dictionary: the Go
	// faces and the fallback fonts the set uses.
	resources string
}

// subset returns the font objects for set, cut on first use.
func (lf *letterFonts) subset(set FontSet) (*fontObjects, error) {
	lf.mu.Lock()
	defer lf.mu.Unlock()
	if fo := lf.subsets[set]; fo != nil {
		return fo, nil
	}
	fo, err := lf.cut(set)
	if err != nil {
		return nil, err
	}
	if len(lf.subsets) < maxSubsets {
		lf.subsets[set] = fo
	}
	return fo, nil
}

// fallbackResource is the name a page gives fallback font i (1-based).
func fallbackResource(i int) string { return "CPfb" + strconv.Itoa(i) }

// cut writes the objects of every face for set: per face a Type0 font,
// its CIDFontType2, the ToUnicode map, the descriptor, CIDToGIDMap and
// the TrueType subset. Character codes in fpdf's pages (and in the runs
// letterruns.go writes) are the UTF-16 of the text, so CIDs are code
// points. A fallback font the set does not use takes six null objects,
// so that every document of these fonts numbers its objects alike.
func (lf *letterFonts) cut(set FontSet) (*fontObjects, error) {
	var runes []rune
	fbRunes := make([][]rune, len(lf.fallbacks))
	for r := rune(32); r < 65536; r++ {
		switch {
		case (r <= 126 || set.has(r)) && lf.covered[r/64]&(1<<(r%64)) != 0:
			runes = append(runes, r)
		case lf.fallbackOf != nil && lf.fallbackOf[r] != 0 && set.has(r):
			i := lf.fallbackOf[r] - 1
			fbRunes[i] = append(fbRunes[i], r)
		}
	}
	h := fnv.New32a()
	for _, w := range set {
		fmt.Fprintf(h, "%x.", w)
	}
	tag := make([]byte, 6)
	for i, v := 0, h.Sum32(); i < 6; i, v = i+1, v/26 {
		tag[i] = 'A' + byte(v%26)
	}
	fo := &fontObjects{}
	var out bytes.Buffer
	var res strings.Builder
	for i, face := range lf.faces {
		n := firstFontObject + len(fo.offsets)
		fmt.Fprintf(&res, "/F%s %d 0 R ", lf.names[i], n)
		if err := fo.face(&out, face, string(tag), runes); err != nil {
			return nil, err
		}
	}
	for i, face := range lf.fallbacks {
		n := firstFontObject + len(fo.offsets)
		if len(fbRunes[i]) == 0 {
			for range 6 {
				fo.object(&out, "null")
			}
			continue
		}
		fmt.Fprintf(&res, "/%s %d 0 R ", fallbackResource(i+1), n)
		if err := fo.face(&out, face, string(tag), fbRunes[i]); err != nil {
			return nil, err
		}
	}
	fo.body = out.Bytes()
	fo.resources = strings.TrimSuffix(res.String(), " ")
	return fo, nil
}

// object appends the next object, numbered in turn.
func (fo *fontObjects) object(out *bytes.Buffer, format string, args ...any) {
	fo.offsets = append(fo.offsets, out.Len())
	fmt.Fprintf(out, "%d 0 obj\n", firstFontObject+len(fo.offsets)-1)
	fmt.Fprintf(out, format, args...)
	out.WriteString("\nendobj\n")
}

// stream appends the next object, a stream.
func (fo *fontObjects) stream(out *bytes.Buffer, dict string, data []byte) {
	fo.offsets = append(fo.offsets, out.Len())
	fmt.Fprintf(out, "%d 0 obj\n<<%s /Length %d>>\nstream\n", firstFontObject+len(fo.offsets)-1, dict, len(data))
	out.Write(data)
	out.WriteString("\nendstream\nendobj\n")
}

// face appends the six objects of face cut to runes (ascending).
func (fo *fontObjects) face(out *bytes.Buffer, face *letterFont, tag string, runes []rune) (err error) {
	defer func() {
		if p := recover(); p != nil { // fpdf's subsetter, on a font it cannot read
			err = fmt.Errorf("cutting font %s: %v", face.postName, p)
		}
	}()
	var b sfnt.Buffer
	n := firstFontObject + len(fo.offsets)
	base := tag + "+" + face.postName
	ttf := fpdf.UTF8CutFont(face.ttf, string(runes))
	cutFont, err := sfnt.Parse(ttf)
	if err != nil {
		return fmt.Errorf("cutting font %s: %w", face.postName, err)
	}
	gids := make([]byte, 65536*2)
	var widths strings.Builder
	upem := fixed.Int26_6(face.sf.UnitsPerEm()) << 6
	for i, r := range runes {
		g, err := cutFont.GlyphIndex(&b, r)
		if err != nil {
			return fmt.Errorf("cutting font %s: %w", face.postName, err)
		}
		gids[2*r], gids[2*r+1] = byte(g>>8), byte(g)
		og, _ := face.sf.GlyphIndex(&b, r)
		adv, err := face.sf.GlyphAdvance(&b, og, upem, font.HintingNone)
		if err != nil {
			return fmt.Errorf("reading font %s: %w", face.postName, err)
		}
		if i == 0 || runes[i-1] != r-1 {
			if i > 0 {
				widths.WriteString("] ")
			}
			fmt.Fprintf(&widths, "%d [", r)
		} else {
			widths.WriteByte(' ')
		}
		fmt.Fprintf(&widths, "%d", int(math.Round(float64(adv)/64*face.scale)))
	}
	widths.WriteString("]")
	// Without hinting the subset is less than half the size (see unhint);
	// a font unhint cannot read is embedded with it.
	if u, err := unhint(ttf); err == nil {
		ttf = u
	}
	ttf = replaceTables(ttf, nil, "name", "post")
	fo.object(out, "<</Type /Font /Subtype /Type0 /BaseFont /%s /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R>>", base, n+1, n+2)
	fo.object(out, "<</Type /Font /Subtype /CIDFontType2 /BaseFont /%s /CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>>"+
		" /FontDescriptor %d 0 R /CIDToGIDMap %d 0 R /W [%s]>>", base, n+3, n+4, widths.String())
	fo.stream(out, "", []byte(toUnicodeCMap))
	fo.object(out, "<</Type /FontDescriptor /FontName /%s %s /FontFile2 %d 0 R>>", base, face.desc, n+5)
	fo.stream(out, " /Filter /FlateDecode", deflate(gids))
	fo.stream(out, fmt.Sprintf(" /Filter /FlateDecode /Length1 %d", len(ttf)), deflate(ttf))
	return nil
}

// deflate compresses a font's stream, as tightly as zlib can: a subset
// is compressed once and written into many letters. A subset past
// maxSubsets, cut for one letter, is compressed the same way, so that a
// letter's bytes never depend on what was cached before it (a run
// completed after a crash writes the same files).
func deflate(b []byte) []byte {
	var out bytes.Buffer
	w, _ := zlib.NewWriterLevel(&out, zlib.BestCompression)
	w.Write(b)
	w.Close()
	return out.Bytes()
}

// toUnicodeCMap maps each character code to the same code point: the
// codes are UTF-16, so copied text is the text written.
const toUnicodeCMap = `/CIDInit /ProcSet findresource begin
12 dict begin
begincmap
/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def
/CMapName /Adobe-Identity-UCS def
/CMapType 2 def
1 begincodespacerange
<0000> <FFFF>
endcodespacerange
1 beginbfrange
<0000> <FFFF> <0000>
endbfrange
endcmap
CMapName currentdict /CMap defineresource pop
end
end`

// newLayoutDoc returns an fpdf document holding the letter fonts: each
// letter is laid out as a template of it (see LetterRenderer), so that the
// fonts are parsed once per renderer, not once per letter.
func newLayoutDoc() *fpdf.Fpdf {
	pdf := fpdf.New("P", "in", "Letter", "")
	pdf.AddUTF8FontFromBytes(fontFamily, "", goregular.TTF)
	pdf.AddUTF8FontFromBytes(fontFamily, "B", gobold.TTF)
	return pdf
}
