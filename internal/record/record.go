// Package record writes and reads the compact binary records carepay
// spools to temporary files (the sorted runs of a drop's lines, the rows
// of the providers' letters): numbers as varints, texts length first, and
// each record framed by its length, so that a reader takes one record at
// a time into a reused buffer.
package record

import (
	"bufio"
	"encoding/binary"
	"errors"
	"io"
)

// AppendInt appends v as a varint.
func AppendInt(b []byte, v int64) []byte { return binary.AppendVarint(b, v) }

// AppendString appends s, its length first.
func AppendString(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

// Write writes rec to w, framed by its length.
func Write(w io.Writer, rec []byte) error {
	var n [binary.MaxVarintLen64]byte
	if _, err := w.Write(n[:binary.PutUvarint(n[:], uint64(len(rec)))]); err != nil {
		return err
	}
	_, err := w.Write(rec)
	return err
}

// Read reads the next framed record from r into buf (grown as needed)
// and returns it; io.EOF when r ends between records.
func Read(r *bufio.Reader, buf []byte) ([]byte, error) {
	size, err := binary.ReadUvarint(r)
	if err != nil {
		return buf, err
	}
	if uint64(cap(buf)) < size {
		buf = make([]byte, size)
	}
	buf = buf[:size]
	if _, err := io.ReadFull(r, buf); err != nil {
		return buf, io.ErrUnexpectedEOF
	}
	return buf, nil
}

// ErrCorrupt is what a Reader says of a record that does not hold what
// was read from it.
var ErrCorrupt = errors.New("record damaged")

// Reader takes the fields of one record in the order they were appended.
// After the first field that is not there it returns zero values, and
// Err says so.
type Reader struct {
	b   []byte
	err error
}

// NewReader reads the record rec.
func NewReader(rec []byte) *Reader { return &Reader{b: rec} }

// Int reads a number AppendInt wrote.
func (r *Reader) Int() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b)
	if n <= 0 {
		r.err = ErrCorrupt
		return 0
	}
	r.b = r.b[n:]
	return v
}

// Count reads a number AppendInt wrote that counts what follows: it is
// refused when negative or larger than the bytes left.
func (r *Reader) Count() int {
	v := r.Int()
	if v < 0 || v > int64(len(r.b)) {
		r.fail()
		return 0
	}
	return int(v)
}

// String reads a text AppendString wrote.
func (r *Reader) String() string {
	if r.err != nil {
		return ""
	}
	n, k := binary.Uvarint(r.b)
	if k <= 0 || uint64(len(r.b)-k) < n {
		r.err = ErrCorrupt
		return ""
	}
	s := string(r.b[k : k+int(n)])
	r.b = r.b[k+int(n):]
	return s
}

// Err is ErrCorrupt once a field was missing, and also when bytes are
// left over after the last field read (call it when the record is read).
func (r *Reader) Err() error {
	if r.err == nil && len(r.b) != 0 {
		r.err = ErrCorrupt
	}
	return r.err
}

func (r *Reader) fail() {
	if r.err == nil {
		r.err = ErrCorrupt
	}
}
