package ledger

import (
	"bufio"
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"slices"

	"carepay/core"
)

// usageBuilder encodes the lines that count (see core.PriorLine) of one
// employee or dependent in one run, for a row of table usage: the texts
// the lines name (plan, IDs, care type, status), each once, then one
// record per line of varints, indexes into those texts for the texts.
// A family names a handful of texts, so a line takes about 16 bytes.
//
//	row    = uvarint(texts) { uvarint(len) bytes } { record }
//	record = plan employee dependent provider care_type status (uvarint text
//	         indexes) date flags placements employee_share employer_share
//	         (varints; flags: 1 care day, 2 day used)
type usageBuilder struct {
	texts []string
	recs  []byte
}

func (b *usageBuilder) text(s string) {
	i := slices.Index(b.texts, s)
	if i < 0 {
		i = len(b.texts)
		b.texts = append(b.texts, s)
	}
	b.recs = binary.AppendUvarint(b.recs, uint64(i))
}

func (b *usageBuilder) add(p *core.PriorLine) {
	b.text(p.PlanID)
	b.text(p.EmployeeID)
	b.text(p.DependentID)
	b.text(p.ProviderID)
	b.text(p.CareType)
	b.text(string(p.Status))
	b.recs = appendNumbers(b.recs, p)
}

// appendNumbers appends a line's numbers as a usage record holds them:
// date flags placements employee_share employer_share, varints (flags: 1
// care day, 2 day used).
func appendNumbers(b []byte, p *core.PriorLine) []byte {
	var flags int64
	if p.CareDay {
		flags |= 1
	}
	if p.DayUsed {
		flags |= 2
	}
	for _, v := range []int64{int64(p.ServiceDate), flags, int64(p.Placements), int64(p.EmployeeShare), int64(p.EmployerShare)} {
		b = binary.AppendVarint(b, v)
	}
	return b
}

func (b *usageBuilder) bytes() []byte {
	out := binary.AppendUvarint(nil, uint64(len(b.texts)))
	for _, s := range b.texts {
		out = binary.AppendUvarint(out, uint64(len(s)))
		out = append(out, s...)
	}
	return append(out, b.recs...)
}

var errUsage = errors.New("malformed usage row")

// decodeUsage appends the lines of one usage row to out.
func decodeUsage(out []core.PriorLine, b []byte) ([]core.PriorLine, error) {
	uv := func() uint64 {
		v, n := binary.Uvarint(b)
		if n <= 0 {
			b = nil
			return 0
		}
		b = b[n:]
		return v
	}
	n := uv()
	if n > uint64(len(b)) {
		return out, errUsage
	}
	texts := make([]string, n)
	for i := range texts {
		l := uv()
		if l > uint64(len(b)) {
			return out, errUsage
		}
		texts[i], b = string(b[:l]), b[l:]
	}
	var bad bool
	text := func() string {
		i := uv()
		if i >= uint64(len(texts)) {
			bad = true
			return ""
		}
		return texts[i]
	}
	v := func() int64 {
		x, n := binary.Varint(b)
		if n <= 0 {
			bad, b = true, nil
			return 0
		}
		b = b[n:]
		return x
	}
	for len(b) > 0 && !bad {
		var p core.PriorLine
		p.PlanID, p.EmployeeID, p.DependentID, p.ProviderID, p.CareType, p.Status = text(), text(), text(), text(), text(), core.Status(text())
		p.ServiceDate = core.Date(v())
		flags := v()
		p.CareDay, p.DayUsed = flags&1 != 0, flags&2 != 0
		p.Placements, p.EmployeeShare, p.EmployerShare = int(v()), core.Cents(v()), core.Cents(v())
		out = append(out, p)
	}
	if bad {
		return out, errUsage
	}
	return out, nil
}

// usageLog holds the run's lines that count until the commit writes them
// into table usage, grouped by employee and by dependent. The lines go
// into a temporary file in decision order while the run decides (so that
// they take no memory beside the rules' own state), and at the commit
// into one byte arena, with no pointers for the collector to follow
// however large the drop, grouped by sorting their offsets.
//
//	record = employee dependent plan provider care_type status (uvarint
//	         length, bytes) date flags placements employee_share
//	         employer_share (varints, as in usageBuilder)
type usageLog struct {
	dir   string // where its file goes (Ledger.SetSpoolDir)
	f     *os.File
	w     *bufio.Writer
	size  int
	rec   []byte
	arena []byte
	offs  []int // where each record starts
}

func appendText(b []byte, s string) []byte {
	return append(binary.AppendUvarint(b, uint64(len(s))), s...)
}

func (u *usageLog) add(p *core.PriorLine) error {
	if u.f == nil {
		f, err := os.CreateTemp(u.dir, "carepay-usage-*")
		if err != nil {
			return fmt.Errorf("spooling usage: %w", err)
		}
		// Unlinked at once: a run killed now leaves nothing behind.
		os.Remove(f.Name())
		u.f, u.w = f, bufio.NewWriterSize(f, 64<<10)
	}
	b := u.rec[:0]
	for _, s := range []string{p.EmployeeID, p.DependentID, p.PlanID, p.ProviderID, p.CareType, string(p.Status)} {
		b = appendText(b, s)
	}
	b = appendNumbers(b, p)
	u.rec = b
	if _, err := u.w.Write(b); err != nil {
		return fmt.Errorf("spooling usage: %w", err)
	}
	u.offs = append(u.offs, u.size)
	u.size += len(b)
	return nil
}

// load reads the spooled records back into the arena.
func (u *usageLog) load() error {
	if u.f == nil {
		return nil
	}
	defer u.close()
	if err := u.w.Flush(); err != nil {
		return fmt.Errorf("reading usage back: %w", err)
	}
	u.arena = make([]byte, u.size)
	if _, err := u.f.ReadAt(u.arena, 0); err != nil {
		return fmt.Errorf("reading usage back: %w", err)
	}
	return nil
}

// close lets go of the spool file.
func (u *usageLog) close() {
	if u.f != nil {
		u.f.Close()
		u.f, u.w = nil, nil
	}
}

// text returns the text at b and what follows it.
func text(b []byte) (s, rest []byte) {
	n, k := binary.Uvarint(b)
	return b[k : k+int(n)], b[k+int(n):]
}

// key returns the employee (field 0) or dependent (field 1) of the record
// at off.
func (u *usageLog) key(off, field int) []byte {
	at, n := u.keyAt(off, field)
	return u.arena[at : at+n]
}

// keyAt returns where in the arena key(off, field) lies, and its length.
func (u *usageLog) keyAt(off, field int) (at, n int) {
	for i := 0; ; i++ {
		l, k := binary.Uvarint(u.arena[off:])
		if i == field {
			return off + k, int(l)
		}
		off += k + int(l)
	}
}

// usageKey is a record of the log with its employee or dependent found
// once: sorting compares the first eight bytes of the key as a number,
// then the whole key, then where the records lie (decision order).
type usageKey struct {
	prefix uint64 // the key's first 8 bytes, big-endian, zero after its end
	at, n  int    // the key in the arena
	off    int    // the record
}

// keyOf returns k's key.
func (u *usageLog) keyOf(k *usageKey) []byte { return u.arena[k.at : k.at+k.n] }

// sorted returns the log's records sorted by employee (field 0) or
// dependent (field 1), each's in decision order.
func (u *usageLog) sorted(field int) []usageKey {
	keys := make([]usageKey, len(u.offs))
	for i, off := range u.offs {
		at, n := u.keyAt(off, field)
		var p [8]byte
		copy(p[:], u.arena[at:at+n])
		keys[i] = usageKey{prefix: binary.BigEndian.Uint64(p[:]), at: at, n: n, off: off}
	}
	slices.SortFunc(keys, func(a, b usageKey) int {
		if c := cmp.Compare(a.prefix, b.prefix); c != 0 {
			return c
		}
		if c := bytes.Compare(u.keyOf(&a), u.keyOf(&b)); c != 0 {
			return c
		}
		return cmp.Compare(a.off, b.off)
	})
	return keys
}

// addTo adds the record at off to a usage row.
func (u *usageLog) addTo(b *usageBuilder, off int) {
	rest := u.arena[off:]
	var f [6][]byte // employee dependent plan provider care_type status
	for i := range f {
		f[i], rest = text(rest)
	}
	for _, i := range []int{2, 0, 1, 3, 4, 5} { // usageBuilder's order
		b.textBytes(f[i])
	}
	for range 5 {
		_, n := binary.Varint(rest)
		b.recs = append(b.recs, rest[:n]...)
		rest = rest[n:]
	}
}

// textBytes is text for a text still in the log's arena: it is copied
// only when the row meets it first.
func (b *usageBuilder) textBytes(s []byte) {
	i := slices.IndexFunc(b.texts, func(t string) bool { return t == string(s) })
	if i < 0 {
		i = len(b.texts)
		b.texts = append(b.texts, string(s))
	}
	b.recs = binary.AppendUvarint(b.recs, uint64(i))
}

// counts reports whether a line counts towards duplicates and limits in
// later runs: any line not rejected, and a rejected day of care.
func counts(status core.Status, careDay bool) bool {
	return status != core.Rejected || careDay
}

// keepUsage adds a decided line of this run to the usage log, written at
// the commit.
func (t *Tx) keepUsage(l *core.Line, d *core.Decision) error {
	if !counts(d.Status, d.CareDay) {
		return nil
	}
	t.used.dir = t.l.spoolDir
	return t.used.add(&core.PriorLine{PlanID: d.PlanID, EmployeeID: l.EmployeeID, DependentID: l.DependentID, ProviderID: l.ProviderID,
		CareType: l.CareType, ServiceDate: l.ServiceDate, Status: d.Status, CareDay: d.CareDay, DayUsed: d.DayUsed,
		Placements: d.Placements, EmployeeShare: d.EmployeeShare, EmployerShare: d.EmployerShare})
}

// putUsage writes the run's usage rows, one per dependent and one per
// employee in key order, each holding its lines in decision order, and
// lets go of the log.
func (t *Tx) putUsage() error {
	in := newInserter(t, `INSERT INTO usage (kind, id, run_id, lines) VALUES `, 4)
	u := &t.used
	if err := u.load(); err != nil {
		return err
	}
	// The two orders are sorted at once, one on each core: the commit
	// waits for them.
	byDependent := make(chan []usageKey, 1)
	go func() { byDependent <- u.sorted(1) }()
	byEmployee := u.sorted(0)
	for _, k := range []struct {
		kind string
		keys []usageKey
	}{{"d", <-byDependent}, {"e", byEmployee}} {
		keys := k.keys
		for i := 0; i < len(keys); {
			id := u.keyOf(&keys[i])
			b := &usageBuilder{}
			for ; i < len(keys) && bytes.Equal(u.keyOf(&keys[i]), id); i++ {
				u.addTo(b, keys[i].off)
			}
			if err := in.add(k.kind, string(id), t.RunID, b.bytes()); err != nil {
				return fmt.Errorf("recording usage: %w", err)
			}
		}
	}
	if err := in.flush(); err != nil {
		return fmt.Errorf("recording usage: %w", err)
	}
	*u = usageLog{}
	return nil
}

// usage returns the lines that count of an employee (kind "e") or a
// dependent ("d"), from committed runs.
func (t *Tx) usage(kind, id string) ([]core.PriorLine, error) {
	if err := t.loadPriorIDs(); err != nil {
		return nil, err
	}
	if !t.priorIDs[kind+id] {
		return nil, nil
	}
	st, err := t.stmt(`SELECT lines FROM usage WHERE kind = ? AND id = ? ORDER BY run_id`)
	if err != nil {
		return nil, err
	}
	t.connMu.Lock()
	defer t.connMu.Unlock()
	rows, err := st.QueryContext(t.ctx, kind, id)
	if err != nil {
		return nil, err
	}
	return scanUsage(rows)
}

// scanUsage decodes rows of one column, usage.lines.
func scanUsage(rows *sql.Rows) ([]core.PriorLine, error) {
	defer rows.Close()
	var out []core.PriorLine
	var b []byte
	for rows.Next() {
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		var err error
		if out, err = decodeUsage(out, b); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

// backfillUsage fills table usage from the lines of a ledger made before
// it existed, one family at a time (in the order of the per-line indexes
// that it replaces, so that memory holds one family's lines).
func backfillUsage(ctx context.Context, tx *sql.Tx) error {
	for _, k := range []struct{ kind, column string }{{"e", "employee_id"}, {"d", "dependent_id"}} {
		if err := backfill(ctx, tx, k.kind, k.column); err != nil {
			return fmt.Errorf("filling usage by %s: %w", k.column, err)
		}
	}
	return nil
}

func backfill(ctx context.Context, tx *sql.Tx, kind, column string) error {
	rows, err := tx.QueryContext(ctx, `SELECT run_id, plan_id, employee_id, dependent_id, provider_id, care_type, service_date, status,
 care_day, day_used, placements, employee_share, employer_share FROM lines WHERE status != 'rejected' OR care_day = 1 ORDER BY `+column+`, run_id, id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO usage (kind, id, run_id, lines) VALUES (?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer ins.Close()
	var cur struct{ id, run string }
	b := &usageBuilder{}
	put := func() error {
		if len(b.recs) == 0 {
			return nil
		}
		_, err := ins.ExecContext(ctx, kind, cur.id, cur.run, b.bytes())
		b = &usageBuilder{}
		return err
	}
	for rows.Next() {
		var run, date, status string
		var p core.PriorLine
		var es, er int64
		if err := rows.Scan(&run, &p.PlanID, &p.EmployeeID, &p.DependentID, &p.ProviderID, &p.CareType, &date, &status,
			&p.CareDay, &p.DayUsed, &p.Placements, &es, &er); err != nil {
			return err
		}
		p.ServiceDate, p.Status, p.EmployeeShare, p.EmployerShare = pd(date), core.Status(status), core.Cents(es), core.Cents(er)
		id := p.EmployeeID
		if kind == "d" {
			id = p.DependentID
		}
		if id != cur.id || run != cur.run {
			if err := put(); err != nil {
				return err
			}
			cur.id, cur.run = id, run
		}
		b.add(&p)
	}
	if err := rows.Err(); err != nil {
		return err
	}
	return put()
}
