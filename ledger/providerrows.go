package ledger

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"carepay/core"
	"carepay/internal/record"
	"carepay/spool"
)

// providerRows gathers the rows of the providers' letters while the
// employees' letters are read (every row a provider's letter shows is
// also in an employee's, names filled in), and gives them back in the
// providers' order: by payee, service date and line id. The database
// sorted and read every line a second time for that, and looked the names
// up again. Rows are kept providerChunk at a time; a full chunk is sorted
// and written to a temporary file (removed at once: nothing is left behind
// a killed run), and the chunks are merged as they are read back, so
// memory holds one chunk however many rows there are.
type providerRows struct {
	dir   string // where the chunks go (Ledger.SetSpoolDir)
	buf   []LetterRow
	files []*os.File
	enc   []byte
}

// providerChunk is how many rows providerRows keeps in memory. A variable
// for tests.
var providerChunk = 32768

func providerLess(a, b *LetterRow) int {
	if c := cmp.Compare(a.PayeeID, b.PayeeID); c != 0 {
		return c
	}
	if c := cmp.Compare(a.ServiceDate, b.ServiceDate); c != 0 {
		return c
	}
	return cmp.Compare(a.ID, b.ID)
}

// add keeps a copy of r.
func (p *providerRows) add(r *LetterRow) error {
	p.buf = append(p.buf, *r)
	if len(p.buf) < providerChunk {
		return nil
	}
	return p.spill()
}

// spill sorts the rows in memory and writes them to a file of their own.
func (p *providerRows) spill() error {
	slices.SortFunc(p.buf, func(a, b LetterRow) int { return providerLess(&a, &b) })
	f, err := os.CreateTemp(p.dir, "carepay-provider-rows-*")
	if err != nil {
		return fmt.Errorf("spooling providers' letters: %w", err)
	}
	os.Remove(f.Name())
	p.files = append(p.files, f)
	w := bufio.NewWriterSize(f, 64<<10)
	for i := range p.buf {
		p.enc = appendLetterRow(p.enc[:0], &p.buf[i])
		if err := record.Write(w, p.enc); err != nil {
			return fmt.Errorf("spooling providers' letters: %w", err)
		}
	}
	if err := w.Flush(); err != nil {
		return fmt.Errorf("spooling providers' letters: %w", err)
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("spooling providers' letters: %w", err)
	}
	clear(p.buf)
	p.buf = p.buf[:0]
	return nil
}

// each calls fn with every row in the providers' order. It may be called
// once.
func (p *providerRows) each(fn func(*LetterRow) error) error {
	if len(p.files) == 0 {
		slices.SortFunc(p.buf, func(a, b LetterRow) int { return providerLess(&a, &b) })
		for i := range p.buf {
			if err := fn(&p.buf[i]); err != nil {
				return err
			}
		}
		return nil
	}
	if len(p.buf) > 0 {
		if err := p.spill(); err != nil {
			return err
		}
	}
	sources := make([]func() (*LetterRow, bool, error), len(p.files))
	for i, f := range p.files {
		sources[i] = (&rowSource{r: bufio.NewReaderSize(f, 64<<10)}).next
	}
	return spool.Merge(sources, func(a, b *LetterRow) bool { return providerLess(a, b) < 0 }, fn)
}

// close lets go of the temporary files.
func (p *providerRows) close() {
	for _, f := range p.files {
		f.Close()
	}
	p.files, p.buf = nil, nil
}

// rowSource reads one spilled chunk back.
type rowSource struct {
	r   *bufio.Reader
	buf []byte
	row LetterRow
}

func (s *rowSource) next() (*LetterRow, bool, error) {
	var err error
	if s.buf, err = record.Read(s.r, s.buf); errors.Is(err, io.EOF) {
		return nil, false, nil
	} else if err != nil {
		return nil, false, fmt.Errorf("reading back providers' letters: %w", err)
	}
	if s.row, err = parseLetterRow(s.buf); err != nil {
		return nil, false, fmt.Errorf("reading back providers' letters: %w", err)
	}
	return &s.row, true, nil
}

// appendLetterRow encodes r (internal/record): its numbers, its texts,
// its flags, then its reasons (counted) and its row error when flagged.
func appendLetterRow(b []byte, r *LetterRow) []byte {
	b = record.AppendInt(b, r.ID)
	for _, s := range []string{r.EmployeeID, r.EmployeeName, r.DependentID, r.Dependent, r.PlanID, r.ProviderID, r.PayeeType, r.PayeeID,
		r.CareType, r.Units, r.Status} {
		b = record.AppendString(b, s)
	}
	for _, n := range []int64{r.PaymentID, int64(r.ServiceDate), int64(r.Charged), int64(r.EmployeeShare), int64(r.EmployerShare), int64(r.Placements)} {
		b = record.AppendInt(b, n)
	}
	var flags int64
	for i, f := range []bool{r.CareDay, r.DayUsed, r.DependentKnown, r.RowError != nil, r.Reasons != nil} {
		if f {
			flags |= 1 << i
		}
	}
	b = record.AppendInt(b, flags)
	if r.Reasons != nil {
		b = record.AppendInt(b, int64(len(r.Reasons)))
		for _, s := range r.Reasons {
			b = record.AppendString(b, s)
		}
	}
	if e := r.RowError; e != nil {
		b = record.AppendString(b, e.File)
		b = record.AppendInt(b, int64(e.Row))
		b = record.AppendString(b, e.Column)
		b = record.AppendString(b, e.Value)
		b = record.AppendString(b, e.Msg)
	}
	return b
}

// parseLetterRow decodes what appendLetterRow wrote.
func parseLetterRow(b []byte) (LetterRow, error) {
	var r LetterRow
	p := record.NewReader(b)
	r.ID = p.Int()
	for _, f := range []*string{&r.EmployeeID, &r.EmployeeName, &r.DependentID, &r.Dependent, &r.PlanID, &r.ProviderID, &r.PayeeType, &r.PayeeID,
		&r.CareType, &r.Units, &r.Status} {
		*f = p.String()
	}
	r.PaymentID = p.Int()
	r.ServiceDate = core.Date(p.Int())
	r.Charged, r.EmployeeShare, r.EmployerShare = core.Cents(p.Int()), core.Cents(p.Int()), core.Cents(p.Int())
	r.Placements = int(p.Int())
	flags := p.Int()
	r.CareDay, r.DayUsed, r.DependentKnown = flags&1 != 0, flags&2 != 0, flags&4 != 0
	if flags&16 != 0 {
		r.Reasons = make([]string, p.Count())
		for i := range r.Reasons {
			r.Reasons[i] = p.String()
		}
	}
	if flags&8 != 0 {
		r.RowError = &core.RowError{File: p.String(), Row: int(p.Int()), Column: p.String(), Value: p.String(), Msg: p.String()}
	}
	return r, p.Err()
}
