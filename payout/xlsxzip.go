package payout

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"io/fs"
	"sort"

	"github.com/xuri/excelize/v2"
)

// writeZip compresses a workbook straight into out, its parts in name
// order. excelize's own WriteTo builds the whole archive in memory first,
// and hands streamed sheets over in map order: a register rebuilt for the
// same run must be the same bytes.
//
// excelize gives every part to a ZipWriter it takes from f.ZipWriter,
// meant to write to its in-memory buffer; the one set here holds the parts
// until excelize closes it, then writes them to out in order. A streamed
// sheet is not copied: excelize hands over a reader of its temporary file
// (or of the buffer a small sheet stays in), which stays open until
// f.Close, and the sheet is read from it once, as it is compressed.
func writeZip(f *excelize.File, out io.Writer) error {
	zw := &orderedZip{out: out}
	f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zw })
	// What excelize writes to its own buffer is nothing: every byte goes
	// through zw.
	if _, err := f.WriteTo(io.Discard); err != nil {
		return fmt.Errorf("register: %w", err)
	}
	if !zw.closed {
		return fmt.Errorf("register: the workbook was not written")
	}
	return zw.err
}

// orderedZip is an excelize.ZipWriter that writes its parts in name
// order when closed.
type orderedZip struct {
	out    io.Writer
	parts  []*zipPart
	closed bool
	err    error
}

// zipPart is one part of the archive: bytes written to it, or a reader
// that holds them (a streamed sheet).
type zipPart struct {
	name string
	buf  bytes.Buffer
	src  io.ReaderAt
	size int64
}

func (p *zipPart) Write(b []byte) (int, error) {
	if p.src != nil {
		return 0, fmt.Errorf("register part %s: written to after being read from", p.name)
	}
	return p.buf.Write(b)
}

// ReadFrom keeps a reader that can be read again later (excelize's
// streamed sheets) instead of copying what it holds.
func (p *zipPart) ReadFrom(r io.Reader) (int64, error) {
	if ra, ok := r.(interface {
		io.ReaderAt
		Size() int64
	}); ok && p.src == nil && p.buf.Len() == 0 {
		p.src, p.size = ra, ra.Size()
		return p.size, nil
	}
	return p.buf.ReadFrom(r)
}

// Create starts a part.
func (z *orderedZip) Create(name string) (io.Writer, error) {
	p := &zipPart{name: name}
	z.parts = append(z.parts, p)
	return p, nil
}

// AddFS is not used by excelize's writer.
func (z *orderedZip) AddFS(fs.FS) error {
	return fmt.Errorf("register: adding a file system to the workbook is not supported")
}

// Close writes every part to out, in name order, and the archive's
// directory.
func (z *orderedZip) Close() error {
	if z.closed {
		return z.err
	}
	z.closed = true
	sort.Slice(z.parts, func(i, j int) bool { return z.parts[i].name < z.parts[j].name })
	w := zip.NewWriter(z.out)
	// Deflate's fastest level: at a million lines, compressing the
	// Decisions sheet at the default level took longer than writing it.
	w.RegisterCompressor(zip.Deflate, func(out io.Writer) (io.WriteCloser, error) {
		return flate.NewWriter(out, flate.BestSpeed)
	})
	for _, p := range z.parts {
		fw, err := w.Create(p.name)
		if err != nil {
			z.err = fmt.Errorf("register part %s: %w", p.name, err)
			return z.err
		}
		var src io.Reader = &p.buf
		if p.src != nil {
			src = io.NewSectionReader(p.src, 0, p.size)
		}
		if _, err := io.Copy(fw, src); err != nil {
			z.err = fmt.Errorf("register part %s: %w", p.name, err)
			return z.err
		}
		p.buf = bytes.Buffer{}
	}
	if err := w.Close(); err != nil {
		z.err = fmt.Errorf("register: %w", err)
	}
	return z.err
}
