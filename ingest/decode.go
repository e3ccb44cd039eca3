package ingest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// textEncoding is what a text file was written in, as far as its bytes
// tell: carepay reads UTF-8, and decodes what spreadsheet programs write
// otherwise (Windows-1252 "CSV", UTF-16 "Unicode text").
type textEncoding struct {
	name    string // "" for UTF-8
	decode  func(io.Reader) io.Reader
	warning string // for the acknowledgement; "" for clean UTF-8
	binary  string // why the file is no text at all; "" for text
}

// notText is the rejection of a file that is no table at all.
const notText = "not a CSV or XLSX file (binary content); key it in by hand or send it as CSV or XLSX"

// magics are the starts of files that get dropped by mistake, with what
// to tell the sender.
var magics = []struct {
	prefix, msg string
}{
	{"%PDF-", notText},
	{"\x89PNG", notText},
	{"\xff\xd8\xff", notText},
	{"GIF8", notText},
	{"II*\x00", notText},
	{"MM\x00*", notText},
	{"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an Excel 97-2003 (.xls) or password-protected workbook; save it as XLSX without a password, or as CSV"},
}

// sniffEncoding reads the whole file once, a block at a time, and decides
// how to decode it. It keeps nothing of the content, so memory does not
// grow with the file.
func sniffEncoding(r io.Reader) (textEncoding, error) {
	buf := make([]byte, 64<<10)
	n, err := io.ReadFull(r, buf)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
		return textEncoding{}, err
	}
	head := buf[:n]
	utf8BOM := bytes.HasPrefix(head, []byte("\xef\xbb\xbf"))
	for _, m := range magics {
		if bytes.HasPrefix(head, []byte(m.prefix)) {
			return textEncoding{binary: m.msg}, nil
		}
	}
	switch {
	case bytes.HasPrefix(head, []byte("\xff\xfe")):
		return utf16Encoding(unicode.LittleEndian, unicode.ExpectBOM, "UTF-16 (little-endian)"), nil
	case bytes.HasPrefix(head, []byte("\xfe\xff")):
		return utf16Encoding(unicode.BigEndian, unicode.ExpectBOM, "UTF-16 (big-endian)"), nil
	}
	if e, ok := utf16WithoutBOM(head); ok {
		return e, nil
	}
	var s textStats
	eof := errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF)
	carry := s.scan(head, eof)
	for !eof {
		k := copy(buf, head[len(head)-carry:])
		n, err = io.ReadFull(r, buf[k:])
		if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && !errors.Is(err, io.EOF) {
			return textEncoding{}, err
		}
		eof = err != nil
		head = buf[:k+n]
		carry = s.scan(head, eof)
	}
	if utf8BOM {
		// A UTF-8 byte-order mark says what the file is: its stray bytes
		// reject their rows rather than turn it into Windows-1252.
		s.multibyte++
	}
	return s.decide(), nil
}

// textStats counts what tells text from binary and UTF-8 from
// Windows-1252.
type textStats struct {
	total     int64
	control   int64 // C0 controls other than tab, LF, CR, FF; NUL included
	invalid   int64 // bytes that are not part of valid UTF-8
	multibyte int64 // valid UTF-8 sequences beyond ASCII
	undefined int64 // invalid bytes that Windows-1252 leaves undefined
}

// scan counts b; unless eof, an incomplete rune at its end is left
// uncounted and its length returned, to be scanned with the next block.
func (s *textStats) scan(b []byte, eof bool) int {
	i := 0
	for i < len(b) {
		c := b[i]
		if c < utf8.RuneSelf {
			if (c < 0x20 && c != '\t' && c != '\n' && c != '\r' && c != '\f') || c == 0x7f {
				s.control++
			}
			s.total++
			i++
			continue
		}
		if !eof && !utf8.FullRune(b[i:]) {
			return len(b) - i
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size == 1 {
			s.invalid++
			switch c {
			case 0x81, 0x8d, 0x8f, 0x90, 0x9d:
				s.undefined++
			}
		} else {
			s.multibyte++
		}
		s.total += int64(size)
		i += size
	}
	return 0
}

// decide names the encoding. A few NUL or control bytes leave the file
// text (their rows are rejected one by one); many make it binary. A file
// holding any valid multi-byte UTF-8 is UTF-8, whatever else it holds:
// read as Windows-1252, its names written right would all be garbled
// ("ZoÃ«"), so only the rows holding invalid bytes are rejected. Only a
// file with no multi-byte UTF-8 at all, whose other bytes Windows-1252
// all defines, is Windows-1252.
func (s textStats) decide() textEncoding {
	if s.control >= 8 && s.control*20 > s.total {
		return textEncoding{binary: notText}
	}
	if s.invalid == 0 {
		return textEncoding{}
	}
	if s.undefined == 0 && s.multibyte == 0 {
		return textEncoding{
			name:    "Windows-1252",
			decode:  func(r io.Reader) io.Reader { return charmap.Windows1252.NewDecoder().Reader(r) },
			warning: "file is not UTF-8; read as Windows-1252 (what spreadsheet programs write as CSV): check accented names, or save as CSV UTF-8",
		}
	}
	return textEncoding{
		warning: fmt.Sprintf("file holds %d bytes that are not UTF-8 text; rows holding them are rejected; save the file as CSV UTF-8", s.invalid),
	}
}

func utf16Encoding(e unicode.Endianness, bom unicode.BOMPolicy, name string) textEncoding {
	enc := unicode.UTF16(e, bom)
	w := "file is " + name + "; read as such"
	if bom == unicode.IgnoreBOM {
		w = "file is " + name + " without a byte-order mark; read as such"
	}
	return textEncoding{
		name:    name,
		decode:  func(r io.Reader) io.Reader { return enc.NewDecoder().Reader(r) },
		warning: w,
	}
}

// utf16WithoutBOM recognises UTF-16 text without a byte-order mark by
// its zero bytes: for ASCII text every other byte is zero, the odd ones in
// little-endian, the even ones in big-endian.
func utf16WithoutBOM(head []byte) (textEncoding, bool) {
	if len(head) < 8 {
		return textEncoding{}, false
	}
	head = head[:len(head)&^1]
	var evenZero, oddZero int
	for i := 0; i < len(head); i += 2 {
		if head[i] == 0 {
			evenZero++
		}
		if head[i+1] == 0 {
			oddZero++
		}
	}
	pairs := len(head) / 2
	switch {
	case oddZero*10 >= pairs*9 && evenZero*10 < pairs:
		return utf16Encoding(unicode.LittleEndian, unicode.IgnoreBOM, "UTF-16 (little-endian)"), true
	case evenZero*10 >= pairs*9 && oddZero*10 < pairs:
		return utf16Encoding(unicode.BigEndian, unicode.IgnoreBOM, "UTF-16 (big-endian)"), true
	}
	return textEncoding{}, false
}

// window is a reader that remembers the last bytes read through it, so
// that a CSV quoting error can be shown in its column even when the text
// was decoded on the fly. Memory is the window's size, whatever the file.
type window struct {
	r   io.Reader
	buf []byte
	n   int64 // bytes read so far
}

func newWindow(r io.Reader, size int) *window { return &window{r: r, buf: make([]byte, size)} }

func (w *window) Read(p []byte) (int, error) {
	n, err := w.r.Read(p)
	for b := p[:n]; len(b) > 0; {
		c := copy(w.buf[int(w.n%int64(len(w.buf))):], b)
		b = b[c:]
		w.n += int64(c)
	}
	return n, err
}

// from returns up to n bytes read from offset off on, or nil once they
// have left the window.
func (w *window) from(off int64, n int) []byte {
	size := int64(len(w.buf))
	if off < 0 || off > w.n || off < w.n-size || n < 0 {
		return nil
	}
	stop := min(w.n, off+int64(n))
	out := make([]byte, 0, stop-off)
	for off < stop {
		i := off % size
		end := min(size, i+(stop-off))
		out = append(out, w.buf[i:end]...)
		off += end - i
	}
	return out
}
