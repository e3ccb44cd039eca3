package ledger

import (
	"bufio"
	"cmp"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"

	"carepay/core"
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
		if _, err := w.Write(binary.AppendUvarint(nil, uint64(len(p.enc)))); err != nil {
			return fmt.Errorf("spooling providers' letters: %w", err)
		}
		if _, err := w.Write(p.enc); err != nil {
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
	n, err := binary.ReadUvarint(s.r)
	if errors.Is(err, io.EOF) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("reading back providers' letters: %w", err)
	}
	s.buf = slices.Grow(s.buf[:0], int(n))[:n]
	if _, err := io.ReadFull(s.r, s.buf); err != nil {
		return nil, false, fmt.Errorf("reading back providers' letters: %w", err)
	}
	if s.row, err = parseLetterRow(s.buf); err != nil {
		return nil, false, fmt.Errorf("reading back providers' letters: %w", err)
	}
	return &s.row, true, nil
}

// appendLetterRow encodes r: its numbers as varints, its texts each
// length first, its reasons counted, its row error (if any) flagged.
func appendLetterRow(b []byte, r *LetterRow) []byte {
	str := func(s string) {
		b = binary.AppendUvarint(b, uint64(len(s)))
		b = append(b, s...)
	}
	b = binary.AppendVarint(b, r.ID)
	for _, s := range []string{r.EmployeeID, r.EmployeeName, r.DependentID, r.Dependent, r.PlanID, r.ProviderID, r.PayeeType, r.PayeeID,
		r.CareType, r.Units, r.Status} {
		str(s)
	}
	for _, n := range []int64{r.PaymentID, int64(r.ServiceDate), int64(r.Charged), int64(r.EmployeeShare), int64(r.EmployerShare), int64(r.Placements)} {
		b = binary.AppendVarint(b, n)
	}
	var flags byte
	for i, f := range []bool{r.CareDay, r.DayUsed, r.DependentKnown, r.RowError != nil, r.Reasons != nil} {
		if f {
			flags |= 1 << i
		}
	}
	b = append(b, flags)
	if r.Reasons != nil {
		b = binary.AppendUvarint(b, uint64(len(r.Reasons)))
		for _, s := range r.Reasons {
			str(s)
		}
	}
	if e := r.RowError; e != nil {
		str(e.File)
		b = binary.AppendVarint(b, int64(e.Row))
		str(e.Column)
		str(e.Value)
		str(e.Msg)
	}
	return b
}

var errRowCorrupt = errors.New("a spooled row is damaged")

// parseLetterRow decodes what appendLetterRow wrote.
func parseLetterRow(b []byte) (LetterRow, error) {
	var r LetterRow
	bad := false
	num := func() int64 {
		v, n := binary.Varint(b)
		if n <= 0 {
			bad = true
			return 0
		}
		b = b[n:]
		return v
	}
	count := func() int {
		v, n := binary.Uvarint(b)
		if n <= 0 || v > uint64(len(b)) {
			bad = true
			return 0
		}
		b = b[n:]
		return int(v)
	}
	str := func() string {
		n := count()
		if bad || n > len(b) {
			bad = true
			return ""
		}
		s := string(b[:n])
		b = b[n:]
		return s
	}
	r.ID = num()
	for _, p := range []*string{&r.EmployeeID, &r.EmployeeName, &r.DependentID, &r.Dependent, &r.PlanID, &r.ProviderID, &r.PayeeType, &r.PayeeID,
		&r.CareType, &r.Units, &r.Status} {
		*p = str()
	}
	r.PaymentID = num()
	r.ServiceDate = core.Date(num())
	r.Charged, r.EmployeeShare, r.EmployerShare = core.Cents(num()), core.Cents(num()), core.Cents(num())
	r.Placements = int(num())
	if bad || len(b) == 0 {
		return r, errRowCorrupt
	}
	flags := b[0]
	b = b[1:]
	r.CareDay, r.DayUsed, r.DependentKnown = flags&1 != 0, flags&2 != 0, flags&4 != 0
	if flags&16 != 0 {
		r.Reasons = make([]string, count())
		for i := range r.Reasons {
			r.Reasons[i] = str()
		}
	}
	if flags&8 != 0 {
		e := &core.RowError{}
		e.File = str()
		e.Row = int(num())
		e.Column, e.Value, e.Msg = str(), str(), str()
		r.RowError = e
	}
	if bad || len(b) != 0 {
		return r, errRowCorrupt
	}
	return r, nil
}
