package ledger

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"carepay/core"
	"carepay/internal/intern"
)

// The lines of each invoice and statement are found through doc_lines,
// one row per document and run listing its line ids, rather than through
// an index of every line by ref: at a million lines a run, that index's
// random inserts cost a third of deciding. A run notes each line's
// document as it decides (keepDoc) and writes the rows at its commit
// (putDocs); what asks for a document's lines (an approval, explain,
// whether an invoice was seen) reads its rows, then the lines by id.

// runDocs is what a run keeps of its documents' lines until its commit:
// every document met, numbered by its kind and ref, and each line as its
// document's number, its id and whether it was accepted, in decision
// order (ids ascend). Neither holds pointers: at a million lines the
// collector marks them without reading them.
type runDocs struct {
	num   intern.Table // pairs of kind and ref
	lines []docLine
}

type docLine struct {
	doc uint32 // the document's number << 1 | 1 if the line was accepted
	off uint32 // the line's id less the run's base (Tx.base)
}

func (l docLine) number() uint32 { return l.doc >> 1 }
func (l docLine) accepted() bool { return l.doc&1 != 0 }

// keepDoc notes line id, decided as status, under its document.
func (t *Tx) keepDoc(l *core.Line, id int64, status core.Status) {
	if t.docs == nil {
		t.docs = &runDocs{}
	}
	n, _ := t.docs.num.NumberPair(string(l.Kind), l.Ref)
	doc := n << 1
	if status != core.Rejected {
		doc |= 1
	}
	t.docs.lines = append(t.docs.lines, docLine{doc: doc, off: uint32(id - t.base)})
}

// putDocs writes the run's doc_lines rows, in key order.
func (t *Tx) putDocs() error {
	if t.docs == nil {
		return nil
	}
	d := t.docs
	type docKey struct{ kind, ref string }
	keys := make([]docKey, d.num.Len()) // by number
	for n := range keys {
		keys[n].kind, keys[n].ref = d.num.Pair(uint32(n))
	}
	// order lists the documents in key order; rank gives each its place.
	order := make([]int32, len(keys))
	for i := range order {
		order[i] = int32(i)
	}
	slices.SortFunc(order, func(a, b int32) int {
		ka, kb := keys[a], keys[b]
		if c := strings.Compare(ka.kind, kb.kind); c != 0 {
			return c
		}
		return strings.Compare(ka.ref, kb.ref)
	})
	rank := make([]int32, len(keys))
	for r, n := range order {
		rank[n] = int32(r)
	}
	// Stable: a document's lines keep their ascending ids.
	slices.SortStableFunc(d.lines, func(a, b docLine) int { return int(rank[a.number()]) - int(rank[b.number()]) })
	in := newRawInserter(t, `INSERT INTO doc_lines (kind, ref, run_id, ids, accepted) VALUES `, 5)
	var ids []byte
	for from := 0; from < len(d.lines); {
		doc := d.lines[from].number()
		ids = ids[:0]
		accepted := 0
		to := from
		for ; to < len(d.lines) && d.lines[to].number() == doc; to++ {
			if to > from {
				ids = append(ids, ',')
			}
			ids = strconv.AppendInt(ids, t.base+int64(d.lines[to].off), 10)
			if d.lines[to].accepted() {
				accepted++
			}
		}
		k := keys[doc]
		if err := in.add(k.kind, k.ref, t.RunID, string(ids), accepted); err != nil {
			return fmt.Errorf("recording the lines of %s %s: %w", k.kind, k.ref, err)
		}
		from = to
	}
	if err := in.flush(); err != nil {
		return fmt.Errorf("recording the lines of invoices and statements: %w", err)
	}
	t.docs = nil
	return nil
}

// rowQuerier is what *sql.DB, *sql.Tx and *sql.Conn share for queries.
type rowQuerier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
}

// docLineIDs returns the ids of the lines, in every run, of the document
// ref of kind ("invoice", "statement", or "" for either), ascending.
func docLineIDs(ctx context.Context, q rowQuerier, kind, ref string) ([]int64, error) {
	query, args := `SELECT ids FROM doc_lines WHERE ref = ?`, []any{ref}
	if kind != "" {
		query, args = `SELECT ids FROM doc_lines WHERE kind = ? AND ref = ?`, []any{kind, ref}
	}
	rows, err := q.QueryContext(ctx, query, args...)
	if err != nil {
		return nil, fmt.Errorf("reading the lines of %s: %w", ref, err)
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var list string
		if err := rows.Scan(&list); err != nil {
			return nil, fmt.Errorf("reading the lines of %s: %w", ref, err)
		}
		for _, s := range strings.Split(list, ",") {
			id, err := strconv.ParseInt(s, 10, 64)
			if err != nil {
				return nil, fmt.Errorf("reading the lines of %s: line id %q: %w", ref, s, err)
			}
			ids = append(ids, id)
		}
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("reading the lines of %s: %w", ref, err)
	}
	slices.Sort(ids)
	return ids, nil
}

// idChunk bounds the ids one statement names (SQLite takes 32766
// parameters).
const idChunk = 500

// eachIDChunk calls fn with ids, idChunk at a time, as "?, ?, ..." and
// the ids as arguments after first.
func eachIDChunk(ids []int64, first []any, fn func(marks string, args []any) error) error {
	for len(ids) > 0 {
		n := min(len(ids), idChunk)
		args := append(slices.Clone(first), make([]any, 0, n)...)
		for _, id := range ids[:n] {
			args = append(args, id)
		}
		if err := fn(strings.TrimSuffix(strings.Repeat("?,", n), ","), args); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

// backfillDocLines fills doc_lines from the lines of earlier runs
// (migration 14).
func backfillDocLines(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT kind, ref, run_id, id, status FROM lines ORDER BY kind, ref, run_id, id`)
	if err != nil {
		return fmt.Errorf("filling doc_lines: %w", err)
	}
	defer rows.Close()
	ins, err := tx.PrepareContext(ctx, `INSERT INTO doc_lines (kind, ref, run_id, ids, accepted) VALUES (?, ?, ?, ?, ?)`)
	if err != nil {
		return fmt.Errorf("filling doc_lines: %w", err)
	}
	defer ins.Close()
	var cur struct{ kind, ref, run string }
	var ids []byte
	accepted, n := 0, 0
	put := func() error {
		if n == 0 {
			return nil
		}
		_, err := ins.ExecContext(ctx, cur.kind, cur.ref, cur.run, string(ids), accepted)
		ids, accepted, n = ids[:0], 0, 0
		return err
	}
	for rows.Next() {
		var kind, ref, run, status string
		var id int64
		if err := rows.Scan(&kind, &ref, &run, &id, &status); err != nil {
			return fmt.Errorf("filling doc_lines: %w", err)
		}
		if kind != cur.kind || ref != cur.ref || run != cur.run {
			if err := put(); err != nil {
				return fmt.Errorf("filling doc_lines: %w", err)
			}
			cur.kind, cur.ref, cur.run = kind, ref, run
		}
		if n > 0 {
			ids = append(ids, ',')
		}
		ids = strconv.AppendInt(ids, id, 10)
		n++
		if status != string(core.Rejected) {
			accepted++
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("filling doc_lines: %w", err)
	}
	if err := put(); err != nil {
		return fmt.Errorf("filling doc_lines: %w", err)
	}
	return nil
}
