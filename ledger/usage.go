package ledger

import (
	"context"
	"database/sql"
	"encoding/binary"
	"errors"
	"fmt"
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
	var flags int64
	if p.CareDay {
		flags |= 1
	}
	if p.DayUsed {
		flags |= 2
	}
	for _, v := range []int64{int64(p.ServiceDate), flags, int64(p.Placements), int64(p.EmployeeShare), int64(p.EmployerShare)} {
		b.recs = binary.AppendVarint(b.recs, v)
	}
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

// counts reports whether a line counts towards duplicates and limits in
// later runs: any line not rejected, and a rejected day of care.
func counts(status core.Status, careDay bool) bool {
	return status != core.Rejected || careDay
}

// keepUsage adds a decided line of this run to its employee's and
// dependent's usage, written at the commit.
func (t *Tx) keepUsage(l *core.Line, d *core.Decision) {
	if !counts(d.Status, d.CareDay) {
		return
	}
	p := core.PriorLine{PlanID: d.PlanID, EmployeeID: l.EmployeeID, DependentID: l.DependentID, ProviderID: l.ProviderID,
		CareType: l.CareType, ServiceDate: l.ServiceDate, Status: d.Status, CareDay: d.CareDay, DayUsed: d.DayUsed,
		Placements: d.Placements, EmployeeShare: d.EmployeeShare, EmployerShare: d.EmployerShare}
	for _, k := range []struct {
		m  map[string]*usageBuilder
		id string
	}{{t.empUsage, l.EmployeeID}, {t.depUsage, l.DependentID}} {
		b := k.m[k.id]
		if b == nil {
			b = &usageBuilder{}
			k.m[k.id] = b
		}
		b.add(&p)
	}
}

// putUsage writes the run's usage rows, in key order, and lets go of them.
func (t *Tx) putUsage() error {
	in := newInserter(t, `INSERT INTO usage (kind, id, run_id, lines) VALUES `, 4)
	for _, k := range []struct {
		kind string
		m    map[string]*usageBuilder
	}{{"d", t.depUsage}, {"e", t.empUsage}} {
		ids := make([]string, 0, len(k.m))
		for id := range k.m {
			ids = append(ids, id)
		}
		slices.Sort(ids)
		for _, id := range ids {
			if err := in.add(k.kind, id, t.RunID, k.m[id].bytes()); err != nil {
				return fmt.Errorf("recording usage: %w", err)
			}
			delete(k.m, id)
		}
	}
	if err := in.flush(); err != nil {
		return fmt.Errorf("recording usage: %w", err)
	}
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
