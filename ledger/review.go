package ledger

import (
	"fmt"

	"carepay/core"
)

// HeldPayment is a payment an earlier run formed and held for review
// (PAYMENT_REVIEW): it keeps its lines until it is issued.
type HeldPayment struct {
	*core.Payment
	// Approved is set once `carepay approve PAY-n` was given: the next run
	// that pays issues it.
	Approved bool
}

// HeldForReview returns the payments held for review and not yet issued,
// in ID order. Bank details are those recorded when each was formed.
func (t *Tx) HeldForReview() ([]HeldPayment, error) {
	if err := t.flush(); err != nil {
		return nil, err
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT `+paymentColumns+`, review FROM payments
 WHERE review != '' AND issued_run IS NULL ORDER BY id`)
	if err != nil {
		return nil, fmt.Errorf("reading payments held for review: %w", err)
	}
	defer rows.Close()
	var out []HeldPayment
	for rows.Next() {
		p := &core.Payment{}
		var amount int64
		var refs, review string
		var sealed []byte
		a := &p.Address
		if err := rows.Scan(&p.ID, &p.RunID, &p.PayeeType, &p.PayeeID, &p.Name, &p.Method, &amount, &p.Lines, &refs, &p.CheckNumber,
			&p.Bank.Routing, &sealed, &p.Bank.Type, &a.Line1, &a.Line2, &a.City, &a.State, &a.PostalCode, &p.Email, &review); err != nil {
			return nil, fmt.Errorf("reading payments held for review: %w", err)
		}
		p.Amount = core.Cents(amount)
		p.Refs = splitRefs(refs)
		if p.Bank.Number, err = t.l.key.open(sealed); err != nil {
			return nil, fmt.Errorf("payment %d: %w", p.ID, err)
		}
		out = append(out, HeldPayment{Payment: p, Approved: review == "approved"})
	}
	return out, rows.Err()
}

// HoldForReview records a payment this run formed whose amount needs a
// second person's approval. It is not issued (no check number, no NACHA
// entry) and keeps its lines, each of which carries PAYMENT_REVIEW. With
// attachUnpaid the payee's unpaid lines are put on it first: a payee held
// for its bank details leaves its lines unpaid, but a payment held for
// review keeps them whatever the details.
func (t *Tx) HoldForReview(p *core.Payment, attachUnpaid bool) error {
	if err := t.flush(); err != nil {
		return err
	}
	if attachUnpaid {
		if err := t.exec(`UPDATE lines SET payment_id = ?, paid_run = CASE WHEN run_id = ? THEN NULL ELSE ? END
 WHERE payment_id IS NULL AND status IN ('approved', 'partial') AND payee_type = ? AND payee_id = ?`,
			p.ID, t.RunID, t.RunID, p.PayeeType, p.PayeeID); err != nil {
			return fmt.Errorf("holding payment %s: %w", core.PaymentRef(p.ID), err)
		}
	}
	sealed, err := t.l.key.seal(p.Bank.Number)
	if err != nil {
		return err
	}
	a := p.Address
	if err := t.exec(`INSERT INTO payments (id, run_id, issued_run, review, payee_type, payee_id, payee_name, method, amount, lines, refs, check_number,
 routing_number, account_sealed, account_type, address_line1, address_line2, city, state, postal_code, email) VALUES (?,?,NULL,'held',?,?,?,?,?,?,?,NULL,?,?,?,?,?,?,?,?,?)`,
		p.ID, t.RunID, p.PayeeType, p.PayeeID, p.Name, p.Method, int64(p.Amount), p.Lines, joinRefs(p.Refs),
		p.Bank.Routing, sealed, p.Bank.Type, a.Line1, a.Line2, a.City, a.State, a.PostalCode, p.Email); err != nil {
		return fmt.Errorf("recording held payment %s to %s %s: %w", core.PaymentRef(p.ID), p.PayeeType, p.PayeeID, err)
	}
	ref := core.PaymentRef(p.ID)
	step := fmt.Sprintf("PAYMENT_REVIEW: payment %s (%s %s, %s) is above the limit for one payment; held until `carepay approve %s`",
		ref, p.PayeeType, p.PayeeID, p.Amount.Dollars(), ref)
	if err := t.exec(`UPDATE lines SET reasons = CASE WHEN reasons = '' THEN ? ELSE reasons || ';' || ? END, steps = steps || char(10) || ?
 WHERE payment_id = ? AND instr(';' || reasons || ';', ?) = 0`,
		string(core.PaymentReview), string(core.PaymentReview), step, p.ID, ";"+string(core.PaymentReview)+";"); err != nil {
		return fmt.Errorf("holding payment %s: %w", core.PaymentRef(p.ID), err)
	}
	return nil
}

// issue pays, in this run, a payment an earlier run formed and held for
// review, approved since: as it was formed and approved (amount, lines,
// remittance, payee name, address, method and bank details), whatever
// the registry says now. Its lines are paid in this run.
func (t *Tx) issue(p *core.Payment, check any) error {
	res, err := t.tx.ExecContext(t.ctx, `UPDATE payments SET issued_run = ?, check_number = ?, trace_number = ?
 WHERE id = ? AND issued_run IS NULL AND review = 'approved'`, t.RunID, check, traceArg(p), p.ID)
	if err != nil {
		return fmt.Errorf("issuing payment %s: %w", core.PaymentRef(p.ID), err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("issuing payment %s: it is not an approved payment waiting to be paid (%d rows, %v)", core.PaymentRef(p.ID), n, err)
	}
	if err := t.exec(`UPDATE lines SET paid_run = ? WHERE payment_id = ?`, t.RunID, p.ID); err != nil {
		return fmt.Errorf("issuing payment %s: %w", core.PaymentRef(p.ID), err)
	}
	return nil
}

// Rehold gives a payment held for review, whose details failed the bank
// checks when it was formed (so that it cannot be paid as formed), the
// payee's details of now (to, which pass), and holds it for a second
// person's approval again: an approval given to details that could not be
// paid covers no others. why says what failed; the payment's lines say so
// in their steps.
func (t *Tx) Rehold(id int64, to *core.Payment, why string) error {
	if err := t.flush(); err != nil {
		return err
	}
	ref := core.PaymentRef(id)
	sealed, err := t.l.key.seal(to.Bank.Number)
	if err != nil {
		return err
	}
	a := to.Address
	res, err := t.tx.ExecContext(t.ctx, `UPDATE payments SET review = 'held', payee_name = ?, method = ?, routing_number = ?, account_sealed = ?,
 account_type = ?, address_line1 = ?, address_line2 = ?, city = ?, state = ?, postal_code = ?, email = ?
 WHERE id = ? AND issued_run IS NULL AND review != ''`,
		to.Name, to.Method, to.Bank.Routing, sealed, to.Bank.Type, a.Line1, a.Line2, a.City, a.State, a.PostalCode, to.Email, id)
	if err != nil {
		return fmt.Errorf("holding payment %s again: %w", ref, err)
	}
	if n, err := res.RowsAffected(); err != nil || n != 1 {
		return fmt.Errorf("holding payment %s again: it is not a payment held for review (%d rows, %v)", ref, n, err)
	}
	step := fmt.Sprintf("PAYMENT_REVIEW: payment %s was formed with details that failed (%s); run %s gives it the payee's new details and holds it until `carepay approve %s` again",
		ref, why, t.RunID, ref)
	if err := t.exec(`UPDATE lines SET steps = steps || char(10) || ? WHERE payment_id = ?`, step, id); err != nil {
		return fmt.Errorf("holding payment %s again: %w", ref, err)
	}
	return nil
}

// AddReason adds a reason to a line decided by an earlier run (or
// released in this one): a carried line whose payee's payment is held
// carries PAYMENT_DETAILS like the lines decided now.
func (t *Tx) AddReason(lineID int64, r core.Reason) error {
	if err := t.exec(`UPDATE lines SET reasons = CASE WHEN reasons = '' THEN ? ELSE reasons || ';' || ? END
 WHERE id = ? AND instr(';' || reasons || ';', ?) = 0`, string(r), string(r), lineID, ";"+string(r)+";"); err != nil {
		return fmt.Errorf("adding %s to line %d: %w", r, lineID, err)
	}
	return nil
}
