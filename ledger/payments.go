package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"

	"carepay/core"
)

// Payee returns what paying someone needs: name, method, bank details
// (account number unsealed, in memory only), address and email. ok is
// false when the payee is not in the registry.
func (t *Tx) Payee(payeeType, id string) (*core.Payment, bool, error) {
	if p, ok := t.payees[[2]string{payeeType, id}]; ok {
		delete(t.payees, [2]string{payeeType, id}) // the caller keeps it
		return p, p != nil, nil
	}
	q, err := payeeQuery(payeeType, "= ?")
	if err != nil {
		return nil, false, err
	}
	p := &core.Payment{PayeeType: payeeType}
	var sealed []byte
	err = t.scanRow(q, []any{id}, payeeColumns(p, &sealed)...)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("looking up payee %s %s: %w", payeeType, id, err)
	}
	if p.Bank.Number, err = t.l.key.open(sealed); err != nil {
		return nil, false, fmt.Errorf("payee %s %s: %w", payeeType, id, err)
	}
	return p, true, nil
}

// payeeQuery is the query of a payee of payeeType whose id matches match
// ("= ?", "IN (...)"), for payeeColumns.
func payeeQuery(payeeType, match string) (string, error) {
	switch payeeType {
	case core.PayeeEmployee:
		return `SELECT employee_id, first_name || ' ' || last_name, payment_method, COALESCE(routing_number,''), account_sealed, COALESCE(account_type,''),
 COALESCE(address_line1,''), COALESCE(address_line2,''), COALESCE(city,''), COALESCE(state,''), COALESCE(postal_code,''), COALESCE(email,'')
 FROM employees WHERE employee_id ` + match, nil
	case core.PayeeProvider:
		return `SELECT provider_id, name, payment_method, COALESCE(routing_number,''), account_sealed, COALESCE(account_type,''),
 COALESCE(address_line1,''), COALESCE(address_line2,''), COALESCE(city,''), COALESCE(state,''), COALESCE(postal_code,''), COALESCE(email,'')
 FROM providers WHERE provider_id ` + match, nil
	}
	return "", fmt.Errorf("unknown payee type %q", payeeType)
}

// payeeColumns are where payeeQuery's columns go.
func payeeColumns(p *core.Payment, sealed *[]byte) []any {
	a := &p.Address
	return []any{&p.PayeeID, &p.Name, &p.Method, &p.Bank.Routing, sealed, &p.Bank.Type, &a.Line1, &a.Line2, &a.City, &a.State, &a.PostalCode, &p.Email}
}

// PrefetchPayees looks up, prefetchChunk per query, the payees of keys
// (payee type, id) for the calls of Payee that follow, which take each
// from the cache once. Deciding asks it for a window of lines at a time:
// a few queries instead of one per payee.
func (t *Tx) PrefetchPayees(keys [][2]string) error {
	byType := map[string][]string{}
	for _, k := range keys {
		if _, ok := t.payees[k]; !ok {
			byType[k[0]] = append(byType[k[0]], k[1])
		}
	}
	for _, typ := range []string{core.PayeeEmployee, core.PayeeProvider} {
		ids := byType[typ]
		if len(ids) == 0 {
			continue
		}
		if err := t.flushRegistry(); err != nil {
			return err
		}
		slices.Sort(ids)
		ids = slices.Compact(ids)
		for len(ids) > 0 {
			n := min(len(ids), prefetchChunk)
			if err := t.prefetchPayees(typ, ids[:n]); err != nil {
				return err
			}
			ids = ids[n:]
		}
	}
	return nil
}

func (t *Tx) prefetchPayees(payeeType string, ids []string) error {
	q, err := payeeQuery(payeeType, "IN ("+prefetchMarks+")")
	if err != nil {
		return err
	}
	st, err := t.stmt(q)
	if err != nil {
		return err
	}
	args := prefetchArgs(ids)
	if t.payees == nil {
		t.payees = map[[2]string]*core.Payment{}
	}
	t.connMu.Lock()
	defer t.connMu.Unlock()
	rows, err := st.QueryContext(t.ctx, args...)
	if err != nil {
		return fmt.Errorf("looking up payees: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		p := &core.Payment{PayeeType: payeeType}
		var sealed []byte
		if err := rows.Scan(payeeColumns(p, &sealed)...); err != nil {
			return fmt.Errorf("looking up payees: %w", err)
		}
		if p.Bank.Number, err = t.l.key.open(sealed); err != nil {
			return fmt.Errorf("payee %s %s: %w", payeeType, p.PayeeID, err)
		}
		t.payees[[2]string{payeeType, p.PayeeID}] = p
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("looking up payees: %w", err)
	}
	for _, id := range ids {
		if _, ok := t.payees[[2]string{payeeType, id}]; !ok {
			t.payees[[2]string{payeeType, id}] = nil // not in the registry
		}
	}
	return nil
}

// Unpaid is a line approved in an earlier run (or released from hold in
// this one) that no payment carries yet.
type Unpaid struct {
	ID        int64
	PayeeType string
	PayeeID   string
	Ref       string
	Amount    core.Cents
}

// Unpaid returns every line that is approved or partial and unpaid.
func (t *Tx) Unpaid() ([]Unpaid, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id, payee_type, payee_id, ref, employer_share FROM lines
 WHERE payment_id IS NULL AND status IN ('approved', 'partial') ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("reading unpaid lines: %w", err)
	}
	defer rows.Close()
	var out []Unpaid
	for rows.Next() {
		var u Unpaid
		var amount int64
		if err := rows.Scan(&u.ID, &u.PayeeType, &u.PayeeID, &u.Ref, &amount); err != nil {
			return nil, fmt.Errorf("reading unpaid lines: %w", err)
		}
		u.Amount = core.Cents(amount)
		out = append(out, u)
	}
	return out, rows.Err()
}

// MarkPaid puts an earlier line on a payment of this run.
func (t *Tx) MarkPaid(lineID, paymentID int64) error {
	if err := t.exec(`UPDATE lines SET payment_id = ?, paid_run = ? WHERE id = ? AND payment_id IS NULL`, paymentID, t.RunID, lineID); err != nil {
		return fmt.Errorf("paying line %d: %w", lineID, err)
	}
	return nil
}

// FirstPaymentID is the ID the run's first payment takes; payments of a run
// are numbered from it in the order they are first met.
func (t *Tx) FirstPaymentID() (int64, error) {
	var id int64
	if err := t.tx.QueryRowContext(t.ctx, `SELECT COALESCE(MAX(id), 0) + 1 FROM payments`).Scan(&id); err != nil {
		return 0, fmt.Errorf("numbering payments: %w", err)
	}
	return id, nil
}

// Unpay takes every line off a payment that cannot be made after all (its
// total is too large for its method); they stay payable.
func (t *Tx) Unpay(paymentID int64) error {
	if err := t.flush(); err != nil {
		return err
	}
	if err := t.exec(`UPDATE lines SET payment_id = NULL, paid_run = NULL WHERE payment_id = ?`, paymentID); err != nil {
		return fmt.Errorf("holding payment %d: %w", paymentID, err)
	}
	return nil
}

// PutPayments records the run's payments and holds. Checks are numbered
// from the ledger's sequence (starting at firstCheck the first time), in
// the order given; the run's NACHA file gets the next file ID modifier of
// its day when any payment goes by ACH or a prenote is sent.
func (t *Tx) PutPayments(asOf core.Date, payments []*core.Payment, holds []core.PaymentHold, firstCheck int64) error {
	if err := t.flush(); err != nil {
		return err
	}
	next := firstCheck
	err := t.tx.QueryRowContext(t.ctx, `SELECT value + 1 FROM counters WHERE name = 'check_number'`).Scan(&next)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("reading the check sequence: %w", err)
	}
	ach := false
	for _, p := range payments {
		var check any
		if p.Method == core.MethodCheck && p.Amount > 0 {
			p.CheckNumber = next
			check = next
			next++
		}
		ach = ach || (p.Method == core.MethodACH && p.Amount > 0) || p.Method == core.MethodPrenote
		if p.RunID != "" && p.RunID != t.RunID {
			// Formed by an earlier run, held for review and approved: issued
			// now as formed and approved.
			if err := t.issue(p, check); err != nil {
				return err
			}
			continue
		}
		sealed, err := t.l.key.seal(p.Bank.Number)
		if err != nil {
			return err
		}
		a := p.Address
		if err := t.exec(`INSERT INTO payments (id, run_id, issued_run, payee_type, payee_id, payee_name, method, amount, lines, refs, check_number,
 routing_number, account_sealed, account_type, address_line1, address_line2, city, state, postal_code, email, trace_number, fallback)
 VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
			p.ID, t.RunID, t.RunID, p.PayeeType, p.PayeeID, p.Name, p.Method, int64(p.Amount), p.Lines, joinRefs(p.Refs), check,
			p.Bank.Routing, sealed, p.Bank.Type, a.Line1, a.Line2, a.City, a.State, a.PostalCode, p.Email, traceArg(p), p.Fallback); err != nil {
			return fmt.Errorf("recording payment to %s %s: %w", p.PayeeType, p.PayeeID, err)
		}
	}
	if next != firstCheck {
		if err := t.exec(`INSERT INTO counters (name, value) VALUES ('check_number', ?) ON CONFLICT (name) DO UPDATE SET value = excluded.value`, next-1); err != nil {
			return fmt.Errorf("advancing the check sequence: %w", err)
		}
	}
	for _, h := range holds {
		var payment any
		if h.PaymentID != 0 {
			payment = h.PaymentID
		}
		if err := t.exec(`INSERT INTO payment_holds (run_id, payee_type, payee_id, payee_name, method, amount, lines, reason, detail, payment_id) VALUES (?,?,?,?,?,?,?,?,?,?)`,
			t.RunID, h.PayeeType, h.PayeeID, h.Name, h.Method, int64(h.Amount), h.Lines, string(h.Reason), h.Detail, payment); err != nil {
			return fmt.Errorf("recording held payment to %s %s: %w", h.PayeeType, h.PayeeID, err)
		}
	}
	if ach {
		var n int
		if err := t.tx.QueryRowContext(t.ctx, `SELECT COUNT(*) FROM runs WHERE as_of = ? AND ach_modifier != ''`, asOf.String()).Scan(&n); err != nil {
			return fmt.Errorf("choosing the NACHA file ID modifier: %w", err)
		}
		const modifiers = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		if n >= len(modifiers) {
			return fmt.Errorf("more than %d NACHA files on %s: the file ID modifier has no value left", len(modifiers), asOf)
		}
		if err := t.exec(`UPDATE runs SET ach_modifier = ? WHERE id = ?`, modifiers[n:n+1], t.RunID); err != nil {
			return fmt.Errorf("recording the NACHA file ID modifier: %w", err)
		}
	}
	return nil
}

const paymentColumns = `id, run_id, payee_type, payee_id, payee_name, method, amount, lines, refs, COALESCE(check_number, 0),
 COALESCE(routing_number,''), account_sealed, COALESCE(account_type,''), COALESCE(address_line1,''), COALESCE(address_line2,''),
 COALESCE(city,''), COALESCE(state,''), COALESCE(postal_code,''), COALESCE(email,'')`

// Payments returns the payments a run issued (its payment files carry
// them) in ID order, account numbers unsealed: the payments it formed,
// and those formed by an earlier run, held for review and approved since.
// A payment's RunID is the run that formed it. Prenotes are not payments
// here: see Prenotes.
func (l *Ledger) Payments(ctx context.Context, runID string) ([]*core.Payment, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT `+issuedColumns+` FROM payments WHERE issued_run = ? AND method != 'prenote' ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("reading payments of run %s: %w", runID, err)
	}
	out, err := scanPayments(rows, l.key)
	if err != nil {
		return nil, fmt.Errorf("reading payments of run %s: %w", runID, err)
	}
	return out, nil
}

// issuedColumns are what scanPayments reads of an issued payment.
const issuedColumns = paymentColumns + `, fallback, COALESCE(trace_number, '')`

// scanPayments reads rows of issuedColumns.
func scanPayments(rows *sql.Rows, key *Key) ([]*core.Payment, error) {
	defer rows.Close()
	var out []*core.Payment
	for rows.Next() {
		p := &core.Payment{}
		var amount int64
		var refs string
		var sealed []byte
		a := &p.Address
		if err := rows.Scan(&p.ID, &p.RunID, &p.PayeeType, &p.PayeeID, &p.Name, &p.Method, &amount, &p.Lines, &refs, &p.CheckNumber,
			&p.Bank.Routing, &sealed, &p.Bank.Type, &a.Line1, &a.Line2, &a.City, &a.State, &a.PostalCode, &p.Email, &p.Fallback, &p.TraceNumber); err != nil {
			return nil, err
		}
		p.Amount = core.Cents(amount)
		p.Refs = splitRefs(refs)
		var err error
		if p.Bank.Number, err = key.open(sealed); err != nil {
			return nil, fmt.Errorf("payment %d: %w", p.ID, err)
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Holds returns the payments a run held, with the reasons.
func (l *Ledger) Holds(ctx context.Context, runID string) ([]core.PaymentHold, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT payee_type, payee_id, payee_name, method, amount, lines, reason, detail, COALESCE(payment_id, 0)
 FROM payment_holds WHERE run_id = ? ORDER BY payee_type, payee_id, payment_id`, runID)
	if err != nil {
		return nil, fmt.Errorf("reading held payments of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []core.PaymentHold
	for rows.Next() {
		h := core.PaymentHold{RunID: runID}
		var amount int64
		var reason string
		if err := rows.Scan(&h.PayeeType, &h.PayeeID, &h.Name, &h.Method, &amount, &h.Lines, &reason, &h.Detail, &h.PaymentID); err != nil {
			return nil, fmt.Errorf("reading held payments of run %s: %w", runID, err)
		}
		h.Amount, h.Reason = core.Cents(amount), core.Reason(reason)
		out = append(out, h)
	}
	return out, rows.Err()
}

// ACHModifier returns the NACHA file ID modifier of a run ("" without ACH
// payments) and when the run started (the file's creation time).
func (l *Ledger) ACHModifier(ctx context.Context, runID string) (string, string, error) {
	var mod, started string
	if err := l.db.QueryRowContext(ctx, `SELECT ach_modifier, started_at FROM runs WHERE id = ?`, runID).Scan(&mod, &started); err != nil {
		return "", "", fmt.Errorf("reading run %s: %w", runID, err)
	}
	return mod, started, nil
}

// traceArg is the trace number to record for a payment: its NACHA
// entry's, set by the payer for ACH payments and prenotes (NULL
// otherwise).
func traceArg(p *core.Payment) any {
	if p.Method != core.MethodACH && p.Method != core.MethodPrenote || p.TraceNumber == "" {
		return nil
	}
	return p.TraceNumber
}

func joinRefs(refs []string) string { return strings.Join(refs, " ") }

func splitRefs(s string) []string { return strings.Fields(s) }
