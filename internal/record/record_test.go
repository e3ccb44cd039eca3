package record

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// TestRecords: records written with their fields framed read back field
// by field; a record cut anywhere, or with bytes left over, is refused;
// the stream ends with io.EOF between records and io.ErrUnexpectedEOF
// inside one.
func TestRecords(t *testing.T) {
	var rec []byte
	rec = AppendInt(rec, -42)
	rec = AppendString(rec, "Zoë")
	rec = AppendInt(rec, 2) // a count of the two texts after it
	rec = AppendString(rec, "")
	rec = AppendString(rec, "ANNUAL_CAP")
	rec = AppendInt(rec, 1<<40)

	read := func(b []byte) error {
		r := NewReader(b)
		if v := r.Int(); v != -42 && r.err == nil {
			t.Errorf("Int: %d", v)
		}
		if s := r.String(); s != "Zoë" && r.err == nil {
			t.Errorf("String: %q", s)
		}
		n := r.Count()
		for i := 0; i < n; i++ {
			_ = r.String()
		}
		if v := r.Int(); v != 1<<40 && r.err == nil {
			t.Errorf("Int: %d", v)
		}
		return r.Err()
	}
	if err := read(rec); err != nil {
		t.Fatal(err)
	}
	for cut := range len(rec) {
		if err := read(rec[:cut]); !errors.Is(err, ErrCorrupt) {
			t.Errorf("cut to %d of %d bytes: %v, want ErrCorrupt", cut, len(rec), err)
		}
	}
	if err := read(append(rec, 0)); !errors.Is(err, ErrCorrupt) {
		t.Errorf("a byte left over: %v, want ErrCorrupt", err)
	}
	if r := NewReader(AppendInt(nil, 5)); r.Count() != 0 || r.Err() == nil {
		t.Error("a count larger than the bytes left was taken")
	}

	var file bytes.Buffer
	for range 3 {
		if err := Write(&file, rec); err != nil {
			t.Fatal(err)
		}
	}
	whole := file.Bytes()
	r := bufio.NewReader(bytes.NewReader(whole))
	var buf []byte
	for i := range 3 {
		var err error
		if buf, err = Read(r, buf); err != nil || !bytes.Equal(buf, rec) {
			t.Fatalf("record %d: %q, %v", i, buf, err)
		}
	}
	if _, err := Read(r, buf); err != io.EOF {
		t.Errorf("after the last record: %v, want io.EOF", err)
	}
	if _, err := Read(bufio.NewReader(bytes.NewReader(whole[:len(whole)-1])), nil); err != nil {
		t.Fatal(err) // the first record is whole
	}
	short := bufio.NewReader(bytes.NewReader(whole[:len(rec)]))
	if _, err := Read(short, nil); err != io.ErrUnexpectedEOF {
		t.Errorf("a record cut short: %v, want io.ErrUnexpectedEOF", err)
	}
}
