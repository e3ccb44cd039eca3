package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"carepay/core"
)

// BankOutcome is what a run did with one entry of a bank's return or NOC
// file.
type BankOutcome struct {
	Notice    core.BankNotice
	File      string
	PaymentID int64 // 0 when no payment matched
	PayeeType string
	PayeeID   string
	// Applied is false when the notice changed nothing (it matched no
	// payment, one already returned, or another amount).
	Applied bool
	Detail  string // what happened, in words; never an account number
}

// sent is a payment a bank notice names.
type sent struct {
	id                 int64
	runID, issuedRun   string
	payeeType, payeeID string
	method             string
	amount             core.Cents
	bank               core.BankAccount
	returnedRun        string
}

// sentByTrace finds the ACH payment whose entry carried trace.
func (t *Tx) sentByTrace(trace string) (*sent, error) {
	var s sent
	var amount int64
	var sealed []byte
	err := t.tx.QueryRowContext(t.ctx, `SELECT id, run_id, COALESCE(issued_run, ''), payee_type, payee_id, method, amount,
 COALESCE(routing_number, ''), account_sealed, COALESCE(account_type, ''), COALESCE(returned_run, '')
 FROM payments WHERE trace_number = ? AND issued_run IS NOT NULL ORDER BY id DESC LIMIT 1`, trace).
		Scan(&s.id, &s.runID, &s.issuedRun, &s.payeeType, &s.payeeID, &s.method, &amount, &s.bank.Routing, &sealed, &s.bank.Type, &s.returnedRun)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("finding the payment of trace %s: %w", trace, err)
	}
	s.amount = core.Cents(amount)
	if s.bank.Number, err = t.l.key.open(sealed); err != nil {
		return nil, fmt.Errorf("payment %s: %w", core.PaymentRef(s.id), err)
	}
	return &s, nil
}

// ApplyBankNotice takes one return or NOC from file into the ledger, before
// the run pays (see the package batch for what follows):
//
//   - a return marks its payment returned (code and date) and makes the
//     payment's lines payable again; the payee's payments of this run take
//     the fallback (Reissue). A permanent return (core.PermanentReturn)
//     also blocks the bank details it came back from (Blocked).
//   - a NOC corrects the payee's bank details in the registry, with an
//     audit record of the details before and after.
//
// A prenote (core.MethodPrenote) is such a payment of 0.00 with no lines:
// its return blocks the details as above, and its NOC corrects them.
//
// A notice that matches no payment sent by ACH, a return of a payment
// already returned, or a return of another amount changes nothing and is
// reported. Every notice is recorded with its outcome (BankNotices).
func (t *Tx) ApplyBankNotice(file string, n *core.BankNotice) (*BankOutcome, error) {
	o := &BankOutcome{Notice: *n, File: file}
	if err := t.flushRegistry(); err != nil {
		return nil, err
	}
	s, err := t.sentByTrace(n.OriginalTrace)
	if err != nil {
		return nil, err
	}
	if n.Date.IsZero() {
		o.Notice.Date = t.asOf
	}
	switch {
	case s == nil:
		o.Detail = fmt.Sprintf("%s %s names trace number %s, which matches no payment carepay sent by ACH: nothing changed", n.Kind, n.Code, n.OriginalTrace)
	case n.Kind == core.NoticeReturn:
		err = t.applyReturn(o, s)
	default:
		err = t.applyChange(o, s)
	}
	if err != nil {
		return nil, err
	}
	var payment any
	if o.PaymentID != 0 {
		payment = o.PaymentID
	}
	if err := t.exec(`INSERT INTO bank_notices (run_id, file, row, kind, code, trace, amount, noticed_on, payment_id, payee_type, payee_id, applied, detail)
 VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`, t.RunID, file, n.Row, n.Kind, n.Code, n.OriginalTrace, int64(n.Amount), o.Notice.Date.String(),
		payment, o.PayeeType, o.PayeeID, o.Applied, o.Detail); err != nil {
		return nil, fmt.Errorf("recording %s %s: %w", n.Kind, n.Code, err)
	}
	return o, nil
}

func (t *Tx) applyReturn(o *BankOutcome, s *sent) error {
	n := &o.Notice
	ref := core.PaymentRef(s.id)
	o.PaymentID, o.PayeeType, o.PayeeID = s.id, s.payeeType, s.payeeID
	switch {
	case s.returnedRun != "":
		o.Detail = fmt.Sprintf("return %s of payment %s (trace %s): the payment was already returned in run %s: nothing changed", n.Code, ref, n.OriginalTrace, s.returnedRun)
		return nil
	case n.Amount != s.amount:
		o.Detail = fmt.Sprintf("return %s of payment %s (trace %s) is for %s, but the payment was %s: nothing changed; ask the bank", n.Code, ref, n.OriginalTrace, n.Amount.Dollars(), s.amount.Dollars())
		return nil
	}
	if err := t.exec(`UPDATE payments SET returned_run = ?, return_code = ?, returned_on = ? WHERE id = ?`, t.RunID, n.Code, n.Date.String(), s.id); err != nil {
		return fmt.Errorf("returning payment %s: %w", ref, err)
	}
	if err := t.takeBack(s.id); err != nil {
		return err
	}
	why := fmt.Sprintf("payment %s of %s (%s, ACH to %s) came back from the bank: %s %s", ref, s.amount.Dollars(), s.issuedRun, s.bank.Masked(), n.Code, n.Description)
	if s.method == core.MethodPrenote {
		why = fmt.Sprintf("prenote %s (%s, to %s) came back from the bank: %s %s", ref, s.issuedRun, s.bank.Masked(), n.Code, n.Description)
	}
	if core.PermanentReturn(n.Code) {
		sealed, err := t.l.key.seal(s.bank.Number)
		if err != nil {
			return err
		}
		if err := t.exec(`INSERT INTO bank_blocks (payee_type, payee_id, routing_number, account_sealed, code, payment_id, run_id) VALUES (?,?,?,?,?,?,?)`,
			s.payeeType, s.payeeID, s.bank.Routing, sealed, n.Code, s.id, t.RunID); err != nil {
			return fmt.Errorf("blocking the details of payment %s: %w", ref, err)
		}
		why += "; those bank details are not used again until the registry brings different ones"
	}
	if t.reissue == nil {
		t.reissue = map[[2]string]string{}
	}
	t.reissue[[2]string{s.payeeType, s.payeeID}] = why
	o.Applied, o.Detail = true, why+"; its lines are paid again by this run"
	if s.method == core.MethodPrenote {
		o.Detail = why + "; nothing had been paid to those details; this run's payments to the payee take returns.fallback"
	}
	return nil
}

func (t *Tx) applyChange(o *BankOutcome, s *sent) error {
	n := &o.Notice
	ref := core.PaymentRef(s.id)
	o.PaymentID, o.PayeeType, o.PayeeID = s.id, s.payeeType, s.payeeID
	cur, ok, err := t.Payee(s.payeeType, s.payeeID)
	if err != nil {
		return err
	}
	if !ok || cur.Method != core.MethodACH || cur.Bank != s.bank {
		o.Detail = fmt.Sprintf("NOC %s for payment %s (trace %s): the registry's details of %s %s have changed since that payment: the correction is not applied, check the new details",
			n.Code, ref, n.OriginalTrace, s.payeeType, s.payeeID)
		return nil
	}
	next := cur.Bank
	if n.Corrected.Routing != "" {
		next.Routing = n.Corrected.Routing
	}
	if n.Corrected.Number != "" {
		next.Number = n.Corrected.Number
	}
	if n.Corrected.Type != "" {
		next.Type = n.Corrected.Type
	}
	if next == cur.Bank {
		o.Detail = fmt.Sprintf("NOC %s for payment %s (trace %s) corrects nothing the registry does not already hold", n.Code, ref, n.OriginalTrace)
		o.Applied = true
		return nil
	}
	oldSealed, err := t.l.key.seal(cur.Bank.Number)
	if err != nil {
		return err
	}
	newSealed, err := t.l.key.seal(next.Number)
	if err != nil {
		return err
	}
	table, key := "employees", "employee_id"
	if s.payeeType == core.PayeeProvider {
		table, key = "providers", "provider_id"
	}
	if err := t.exec(`UPDATE `+table+` SET routing_number = ?, account_sealed = ?, account_last4 = ?, account_type = ?, updated_run = ? WHERE `+key+` = ?`,
		next.Routing, newSealed, last4(next.Number), next.Type, t.RunID, s.payeeID); err != nil {
		return fmt.Errorf("correcting the details of %s %s: %w", s.payeeType, s.payeeID, err)
	}
	if err := t.exec(`INSERT INTO bank_changes (payee_type, payee_id, code, noticed_on, run_id, payment_id, old_masked, new_masked, old_routing, old_account_sealed, old_type)
 VALUES (?,?,?,?,?,?,?,?,?,?,?)`, s.payeeType, s.payeeID, n.Code, n.Date.String(), t.RunID, s.id, describe(cur.Bank), describe(next),
		cur.Bank.Routing, oldSealed, cur.Bank.Type); err != nil {
		return fmt.Errorf("recording the correction of %s %s: %w", s.payeeType, s.payeeID, err)
	}
	if t.corrected != nil {
		t.corrected[[2]string{s.payeeType, s.payeeID}] = true
	}
	o.Applied = true
	o.Detail = fmt.Sprintf("NOC %s (%s) for payment %s: %s %s's details corrected from %s to %s; this run's payments and later ones use them",
		n.Code, n.Description, ref, s.payeeType, s.payeeID, describe(cur.Bank), describe(next))
	return nil
}

// describe names bank details without the account number.
func describe(b core.BankAccount) string {
	return fmt.Sprintf("routing %s, account %s, %s", b.Routing, b.Masked(), b.Type)
}

// Reissue returns why a payee's payments of this run take the fallback
// method: a payment of theirs came back in this run ("" when none did).
func (t *Tx) Reissue(payeeType, payeeID string) string {
	return t.reissue[[2]string{payeeType, payeeID}]
}

// Blocked returns the return code that made bank details unusable for a
// payee ("" when they are usable): a permanent return from exactly these
// details. Different details (a new registry row) are usable again.
func (t *Tx) Blocked(payeeType, payeeID string, b core.BankAccount) (string, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT routing_number, account_sealed, code FROM bank_blocks WHERE payee_type = ? AND payee_id = ? ORDER BY id DESC`,
		payeeType, payeeID)
	if err != nil {
		return "", fmt.Errorf("reading blocked details of %s %s: %w", payeeType, payeeID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var routing, code string
		var sealed []byte
		if err := rows.Scan(&routing, &sealed, &code); err != nil {
			return "", fmt.Errorf("reading blocked details of %s %s: %w", payeeType, payeeID, err)
		}
		if routing != b.Routing {
			continue
		}
		number, err := t.l.key.open(sealed)
		if err != nil {
			return "", fmt.Errorf("blocked details of %s %s: %w", payeeType, payeeID, err)
		}
		if number == b.Number {
			return code, nil
		}
	}
	return "", rows.Err()
}

// KeepCorrected guards a NOC's correction against a registry row that
// brings back the details the NOC corrected: it puts the ledger's
// current (corrected) details into b and returns a warning for the
// acknowledgement ("" when b is not such details).
func (t *Tx) KeepCorrected(payeeType, payeeID string, b *core.BankAccount) (string, error) {
	if b.Number == "" {
		return "", nil
	}
	if t.corrected == nil {
		if err := t.loadCorrected(); err != nil {
			return "", err
		}
	}
	if !t.corrected[[2]string{payeeType, payeeID}] {
		return "", nil
	}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT code, noticed_on, old_routing, old_account_sealed, old_type FROM bank_changes
 WHERE payee_type = ? AND payee_id = ? ORDER BY id DESC`, payeeType, payeeID)
	if err != nil {
		return "", fmt.Errorf("reading corrections of %s %s: %w", payeeType, payeeID, err)
	}
	var code, on string
	found := false
	for rows.Next() && !found {
		var routing, typ string
		var sealed []byte
		if err := rows.Scan(&code, &on, &routing, &sealed, &typ); err != nil {
			rows.Close()
			return "", fmt.Errorf("reading corrections of %s %s: %w", payeeType, payeeID, err)
		}
		number, err := t.l.key.open(sealed)
		if err != nil {
			rows.Close()
			return "", err
		}
		found = routing == b.Routing && number == b.Number && (typ == b.Type || b.Type == "")
	}
	rows.Close()
	if err := rows.Err(); err != nil || !found {
		return "", err
	}
	cur, ok, err := t.Payee(payeeType, payeeID)
	if err != nil || !ok {
		return "", err
	}
	old := *b
	*b = cur.Bank
	return fmt.Sprintf("%s %s: the row brings back the bank details (%s) that the bank corrected by NOC %s on %s; the corrected details (%s) are kept",
		payeeType, payeeID, describe(old), code, on, describe(cur.Bank)), nil
}

// loadCorrected reads, once per run, which payees a NOC ever corrected,
// so that the registry rows of the many others cost no query.
func (t *Tx) loadCorrected() error {
	t.corrected = map[[2]string]bool{}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT DISTINCT payee_type, payee_id FROM bank_changes`)
	if err != nil {
		return fmt.Errorf("reading corrected payees: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return fmt.Errorf("reading corrected payees: %w", err)
		}
		t.corrected[k] = true
	}
	return rows.Err()
}

// BankNotices returns what a run did with the bank's returns and NOCs, in
// the order it took them.
func (l *Ledger) BankNotices(ctx context.Context, runID string) ([]BankOutcome, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT file, row, kind, code, trace, amount, noticed_on, COALESCE(payment_id, 0), payee_type, payee_id, applied, detail
 FROM bank_notices WHERE run_id = ? ORDER BY rowid`, runID)
	if err != nil {
		return nil, fmt.Errorf("reading bank notices of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []BankOutcome
	for rows.Next() {
		var o BankOutcome
		var amount int64
		var on string
		if err := rows.Scan(&o.File, &o.Notice.Row, &o.Notice.Kind, &o.Notice.Code, &o.Notice.OriginalTrace, &amount, &on,
			&o.PaymentID, &o.PayeeType, &o.PayeeID, &o.Applied, &o.Detail); err != nil {
			return nil, fmt.Errorf("reading bank notices of run %s: %w", runID, err)
		}
		o.Notice.Amount, o.Notice.Date = core.Cents(amount), pd(on)
		out = append(out, o)
	}
	return out, rows.Err()
}

// ReturnedPayment is a payment taken back (the bank returned it, or its
// check was voided), as a later payment that carries its lines again
// names it.
type ReturnedPayment struct {
	ID        int64
	Amount    core.Cents
	Account   string // masked; "" for a check
	Check     int64  // the check number; 0 for an ACH payment
	IssuedRun string
	// Code is the return code; for a voided check, "" and VoidReason says
	// why.
	Code       string
	VoidReason string
	ReturnedOn core.Date // the bank's date, or the day of the run that sent the void
}

// Reissues returns, for each payment a run issued, the payments taken
// back (returned or voided) whose lines it carries again.
func (l *Ledger) Reissues(ctx context.Context, runID string) (map[int64][]ReturnedPayment, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT DISTINCT l.payment_id, p.id, p.amount, p.account_sealed, COALESCE(p.check_number, 0), p.issued_run,
 COALESCE(p.return_code, ''), COALESCE(p.void_reason, ''), COALESCE(p.returned_on, vr.as_of, '')
 FROM returned_lines r JOIN lines l ON l.id = r.line_id JOIN payments p ON p.id = r.payment_id
 JOIN payments now ON now.id = l.payment_id LEFT JOIN runs vr ON vr.id = p.void_run
 WHERE now.issued_run = ? ORDER BY l.payment_id, p.id`, runID)
	if err != nil {
		return nil, fmt.Errorf("reading reissued payments of run %s: %w", runID, err)
	}
	defer rows.Close()
	out := map[int64][]ReturnedPayment{}
	for rows.Next() {
		var now int64
		var r ReturnedPayment
		var amount int64
		var sealed []byte
		var on string
		if err := rows.Scan(&now, &r.ID, &amount, &sealed, &r.Check, &r.IssuedRun, &r.Code, &r.VoidReason, &on); err != nil {
			return nil, fmt.Errorf("reading reissued payments of run %s: %w", runID, err)
		}
		number, err := l.key.open(sealed)
		if err != nil {
			return nil, fmt.Errorf("payment %s: %w", core.PaymentRef(r.ID), err)
		}
		r.Amount, r.Account, r.ReturnedOn = core.Cents(amount), core.MaskAccount(number), pd(on)
		out[now] = append(out[now], r)
	}
	return out, rows.Err()
}
