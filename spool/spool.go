// Package spool sorts the service lines of a drop into decision order
// (service date, then arrival of the file, then row) with bounded memory:
// lines are gathered in runs of a fixed size, each run sorted and written
// to a temporary file, and the runs merged as they are read back. However
// large the drop, memory holds one run while writing and one line per run
// while reading.
package spool

import (
	"bufio"
	"carepay/internal/record"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"time"

	"carepay/core"
)

// DefaultRunSize is how many lines a run holds in memory.
const DefaultRunSize = 50_000

// Sorter gathers lines and gives them back in decision order.
type Sorter struct {
	dir     string
	runSize int
	buf     []*core.Line
	runs    []*os.File
	n       int
	// pending is the run being written in the background, if any.
	pending chan spilled
}

// spilled is a run written to its file, or why it could not be.
type spilled struct {
	f   *os.File
	err error
}

// New returns a Sorter that writes its runs under dir (the system's
// temporary folder when empty). runSize 0 means DefaultRunSize.
func New(dir string, runSize int) *Sorter {
	if runSize <= 0 {
		runSize = DefaultRunSize
	}
	return &Sorter{dir: dir, runSize: runSize}
}

// Len is the number of lines added.
func (s *Sorter) Len() int { return s.n }

// Less orders lines as SPEC.md decides them: service date, then arrival of
// the file, then row. Lines whose service date did not parse come first.
func Less(a, b *core.Line) bool {
	if a.ServiceDate != b.ServiceDate {
		return a.ServiceDate < b.ServiceDate
	}
	if a.Seq != b.Seq {
		return a.Seq < b.Seq
	}
	return a.Row < b.Row
}

// Add keeps l (the Sorter takes ownership of it). A full run is sorted
// and written on a goroutine of its own while the next fills, so that
// reading the drop and spooling it share the two cores: memory holds at
// most two runs.
func (s *Sorter) Add(l *core.Line) error {
	s.buf = append(s.buf, l)
	s.n++
	if len(s.buf) >= s.runSize {
		if err := s.wait(); err != nil {
			return err
		}
		buf := s.buf
		s.buf = make([]*core.Line, 0, s.runSize)
		ch := make(chan spilled, 1)
		s.pending = ch
		go func() {
			f, err := s.write(buf)
			ch <- spilled{f, err}
		}()
	}
	return nil
}

// wait waits for the run being written, if any, and keeps its file.
func (s *Sorter) wait() error {
	if s.pending == nil {
		return nil
	}
	r := <-s.pending
	s.pending = nil
	if r.err != nil {
		return r.err
	}
	s.runs = append(s.runs, r.f)
	return nil
}

// spill writes the lines gathered as a run, now.
func (s *Sorter) spill() error {
	if err := s.wait(); err != nil {
		return err
	}
	f, err := s.write(s.buf)
	if err != nil {
		return err
	}
	s.runs = append(s.runs, f)
	clear(s.buf)
	s.buf = s.buf[:0]
	return nil
}

// write sorts buf and writes it to a new run file, which it returns
// positioned at its start.
func (s *Sorter) write(buf []*core.Line) (*os.File, error) {
	slices.SortStableFunc(buf, func(a, b *core.Line) int {
		switch {
		case Less(a, b):
			return -1
		case Less(b, a):
			return 1
		}
		return 0
	})
	f, err := os.CreateTemp(s.dir, "carepay-spool-*")
	if err != nil {
		return nil, fmt.Errorf("spooling lines: %w", err)
	}
	// The file is only ever read through this handle.
	os.Remove(f.Name())
	w := bufio.NewWriterSize(f, 256<<10)
	var e encoder
	for _, l := range buf {
		if err := e.write(w, l); err != nil {
			f.Close()
			return nil, fmt.Errorf("spooling lines: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return nil, fmt.Errorf("spooling lines: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, fmt.Errorf("spooling lines: %w", err)
	}
	return f, nil
}

// Each calls fn for every line in decision order. It may be called once.
func (s *Sorter) Each(fn func(*core.Line) error) error {
	defer s.Close()
	if err := s.wait(); err != nil {
		return err
	}
	if len(s.runs) == 0 {
		sort.SliceStable(s.buf, func(i, j int) bool { return Less(s.buf[i], s.buf[j]) })
		for _, l := range s.buf {
			if err := fn(l); err != nil {
				return err
			}
		}
		return nil
	}
	if len(s.buf) > 0 {
		if err := s.spill(); err != nil {
			return err
		}
	}
	sources := make([]func() (*core.Line, bool, error), len(s.runs))
	for i, f := range s.runs {
		r := &runReader{r: bufio.NewReaderSize(f, 64<<10)}
		sources[i] = r.next
	}
	return Merge(sources, Less, fn)
}

// Close releases the run files.
func (s *Sorter) Close() error {
	var errs []error
	if s.pending != nil {
		if r := <-s.pending; r.f != nil {
			errs = append(errs, r.f.Close())
		}
		s.pending = nil
	}
	for _, f := range s.runs {
		errs = append(errs, f.Close())
	}
	s.runs, s.buf = nil, nil
	return errors.Join(errs...)
}

type runReader struct {
	r *bufio.Reader
	d decoder
}

func (r *runReader) next() (*core.Line, bool, error) {
	l, err := r.d.read(r.r)
	if errors.Is(err, io.EOF) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading spooled lines: %w", err)
	}
	return l, true, nil
}

// encoder writes lines in a compact binary form: varints and
// length-prefixed strings, in a fixed field order.
type encoder struct{ b []byte }

func (e *encoder) write(w io.Writer, l *core.Line) error {
	b := e.b[:0]
	str := func(s string) { b = record.AppendString(b, s) }
	num := func(v int64) { b = record.AppendInt(b, v) }
	str(string(l.Kind))
	str(l.Source)
	num(int64(l.Row))
	num(int64(l.Seq))
	str(l.Ref)
	str(l.LineID)
	str(l.EmployeeID)
	str(l.DependentID)
	str(l.ProviderID)
	str(l.CareType)
	num(int64(l.ServiceDate))
	num(int64(l.Hours))
	hasHours := int64(0)
	if l.HasHours {
		hasHours = 1
	}
	num(hasHours)
	num(int64(l.Charged))
	num(int64(l.EmployeeSignedOn))
	num(int64(l.ProviderSignedOn))
	num(int64(l.ReceivedOn))
	str(l.Payee)
	num(int64(l.Period.Year))
	num(int64(l.Period.Month))
	str(l.Mileage)
	num(int64(len(l.Errors)))
	for _, re := range l.Errors {
		str(re.File)
		num(int64(re.Row))
		str(re.Column)
		str(re.Value)
		str(re.Msg)
	}
	e.b = b
	return record.Write(w, b)
}

type decoder struct{ b []byte }

func (d *decoder) read(r *bufio.Reader) (*core.Line, error) {
	var err error
	if d.b, err = record.Read(r, d.b); err != nil {
		return nil, err
	}
	p := record.NewReader(d.b)
	l := &core.Line{}
	l.Kind = core.LineKind(p.String())
	l.Source = p.String()
	l.Row = int(p.Int())
	l.Seq = int(p.Int())
	l.Ref = p.String()
	l.LineID = p.String()
	l.EmployeeID = p.String()
	l.DependentID = p.String()
	l.ProviderID = p.String()
	l.CareType = p.String()
	l.ServiceDate = core.Date(p.Int())
	l.Hours = core.Hours(p.Int())
	l.HasHours = p.Int() == 1
	l.Charged = core.Cents(p.Int())
	l.EmployeeSignedOn = core.Date(p.Int())
	l.ProviderSignedOn = core.Date(p.Int())
	l.ReceivedOn = core.Date(p.Int())
	l.Payee = p.String()
	l.Period.Year = int(p.Int())
	l.Period.Month = time.Month(p.Int())
	l.Mileage = p.String()
	for n := p.Count(); n > 0; n-- {
		l.Errors = append(l.Errors, &core.RowError{File: p.String(), Row: int(p.Int()), Column: p.String(), Value: p.String(), Msg: p.String()})
	}
	if err := p.Err(); err != nil {
		return nil, fmt.Errorf("spooled line: %w", err)
	}
	return l, nil
}
