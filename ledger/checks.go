package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"carepay/core"
)

// ErrUnknownCheck is returned by VoidCheck for a check number the ledger
// never issued.
var ErrUnknownCheck = errors.New("no such check")

// ErrCheckNotVoidable is returned by VoidCheck for a check that cannot be
// voided: voided already, cleared by the bank, or returned.
var ErrCheckNotVoidable = errors.New("check cannot be voided")

// StaleVoider is who the ledger records as voiding a stale check when
// checks.void_stale is set.
const StaleVoider = "carepay (checks.void_stale)"

// StaleReason is the reason recorded for a check voided as stale.
const StaleReason = "stale"

// Check kinds of CheckNotice.
const (
	CheckCleared = "cleared"
	CheckStale   = "stale"
)

// IssuedCheck is a check as the ledger holds it after issue: who it pays,
// for how much, when it was issued, and whether it was voided or cleared.
type IssuedCheck struct {
	PaymentID          int64
	Number             int64
	PayeeType, PayeeID string
	PayeeName          string
	Amount             core.Cents
	IssuedRun          string
	Issued             core.Date // the run date of IssuedRun: the check's date
	// The void, when there is one: when it was recorded (RFC 3339), by
	// whom and why, and the run whose positive pay carries the void record
	// ("" while that run is still to come).
	VoidedAt, VoidedBy, VoidReason, VoidRun string
	// ClearedOn is the date the bank paid the check (zero when it has
	// not), taken in run ClearedRun.
	ClearedOn   core.Date
	ClearedRun  string
	ReturnedRun string
}

// Ref names the check as the operator reads it: check 100001 (PAY-1,
// provider P01, $1,360.00).
func (c *IssuedCheck) Ref() string {
	return fmt.Sprintf("check %d (%s, %s %s, %s)", c.Number, core.PaymentRef(c.PaymentID), c.PayeeType, c.PayeeID, c.Amount.Dollars())
}

const issuedCheckColumns = `p.id, p.check_number, p.payee_type, p.payee_id, p.payee_name, p.amount, p.issued_run, r.as_of,
 COALESCE(p.voided_at, ''), COALESCE(p.voided_by, ''), COALESCE(p.void_reason, ''), COALESCE(p.void_run, ''),
 COALESCE(p.cleared_on, ''), COALESCE(p.cleared_run, ''), COALESCE(p.returned_run, '')
 FROM payments p JOIN runs r ON r.id = p.issued_run`

type rowScanner interface{ Scan(dest ...any) error }

func scanIssuedCheck(row rowScanner) (*IssuedCheck, error) {
	var c IssuedCheck
	var amount int64
	var issued, cleared string
	if err := row.Scan(&c.PaymentID, &c.Number, &c.PayeeType, &c.PayeeID, &c.PayeeName, &amount, &c.IssuedRun, &issued,
		&c.VoidedAt, &c.VoidedBy, &c.VoidReason, &c.VoidRun, &cleared, &c.ClearedRun, &c.ReturnedRun); err != nil {
		return nil, err
	}
	c.Amount, c.Issued = core.Cents(amount), pd(issued)
	if cleared != "" {
		c.ClearedOn = pd(cleared)
	}
	return &c, nil
}

// checkByNumber finds the check carepay issued with number n (nil when
// there is none).
func checkByNumber(ctx context.Context, tx *sql.Tx, n int64) (*IssuedCheck, error) {
	c, err := scanIssuedCheck(tx.QueryRowContext(ctx, `SELECT `+issuedCheckColumns+`
 WHERE p.check_number = ? AND p.method = 'check' AND p.issued_run IS NOT NULL`, n))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("finding check %d: %w", n, err)
	}
	return c, nil
}

// notVoidable says why a check cannot be voided ("" when it can).
func notVoidable(c *IssuedCheck) string {
	switch {
	case c.VoidedAt != "" && c.VoidRun == "":
		return fmt.Sprintf("%s was already voided at %s by %s (%s); the next run sends the void record to the bank and pays its lines again",
			c.Ref(), c.VoidedAt, c.VoidedBy, c.VoidReason)
	case c.VoidedAt != "":
		return fmt.Sprintf("%s was already voided at %s by %s (%s); run %s sent the void record and paid its lines again",
			c.Ref(), c.VoidedAt, c.VoidedBy, c.VoidReason, c.VoidRun)
	case !c.ClearedOn.IsZero():
		return fmt.Sprintf("%s cleared on %s (the bank's cleared-checks file, run %s): the bank has paid it, so it cannot be voided",
			c.Ref(), c.ClearedOn, c.ClearedRun)
	case c.ReturnedRun != "":
		return fmt.Sprintf("%s was returned in run %s: its lines are paid again already", c.Ref(), c.ReturnedRun)
	}
	return ""
}

// VoidCheck records the void of an issued check: by whom, when and why.
// The next run takes it: its positive pay file carries the void record,
// and the check's lines, payable again, are paid by it (when it pays) or
// by the next run that pays, once. A check number carepay never issued
// (ErrUnknownCheck), or a check already voided, cleared by the bank or
// returned (ErrCheckNotVoidable) is refused, and nothing is recorded.
func (l *Ledger) VoidCheck(ctx context.Context, number int64, reason, by string, at time.Time) (*IssuedCheck, error) {
	tx, err := l.beginLocked(ctx)
	if err != nil {
		return nil, fmt.Errorf("voiding check %d: %w", number, busy(err))
	}
	defer tx.Rollback()
	c, err := checkByNumber(ctx, tx, number)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, fmt.Errorf("voiding check %d: %w: carepay issued no check with that number", number, ErrUnknownCheck)
	}
	if why := notVoidable(c); why != "" {
		return nil, fmt.Errorf("voiding check %d: %w: %s", number, ErrCheckNotVoidable, why)
	}
	c.VoidedAt, c.VoidedBy, c.VoidReason = at.UTC().Format(time.RFC3339), by, reason
	if _, err := tx.ExecContext(ctx, `UPDATE payments SET voided_at = ?, voided_by = ?, void_reason = ? WHERE id = ? AND voided_at IS NULL`,
		c.VoidedAt, by, reason, c.PaymentID); err != nil {
		return nil, fmt.Errorf("voiding check %d: %w", number, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("voiding check %d: %w", number, err)
	}
	return c, nil
}

// takeBack makes the lines a payment carried payable again, once: they
// are listed in returned_lines with this run and leave the payment, so
// that the next payment formed for their payee (this run's, when it
// pays) carries them. A returned ACH payment and a voided check both go
// this way.
func (t *Tx) takeBack(paymentID int64) error {
	if err := t.flush(); err != nil {
		return err
	}
	ref := core.PaymentRef(paymentID)
	if err := t.exec(`INSERT INTO returned_lines (line_id, payment_id, run_id) SELECT id, payment_id, ? FROM lines WHERE payment_id = ?`, t.RunID, paymentID); err != nil {
		return fmt.Errorf("taking back the lines of payment %s: %w", ref, err)
	}
	if err := t.exec(`UPDATE lines SET payment_id = NULL, paid_run = NULL WHERE payment_id = ?`, paymentID); err != nil {
		return fmt.Errorf("taking back the lines of payment %s: %w", ref, err)
	}
	return nil
}

// SendVoids takes the voids recorded since the last run (`carepay void`)
// into this run: its positive pay file carries their void records, and
// their lines are payable again (by this run, when it pays). It returns
// how many it took.
func (t *Tx) SendVoids() (int, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT id FROM payments WHERE voided_at IS NOT NULL AND void_run IS NULL ORDER BY id`)
	if err != nil {
		return 0, fmt.Errorf("reading voided checks: %w", err)
	}
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("reading voided checks: %w", err)
		}
		ids = append(ids, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, fmt.Errorf("reading voided checks: %w", err)
	}
	for _, id := range ids {
		if err := t.sendVoid(id); err != nil {
			return 0, err
		}
	}
	return len(ids), nil
}

// sendVoid puts a voided check's void record on this run and takes its
// lines back.
func (t *Tx) sendVoid(paymentID int64) error {
	if err := t.exec(`UPDATE payments SET void_run = ? WHERE id = ?`, t.RunID, paymentID); err != nil {
		return fmt.Errorf("voiding payment %s: %w", core.PaymentRef(paymentID), err)
	}
	return t.takeBack(paymentID)
}

// CheckNotice is what a run did with one row of the bank's
// cleared-checks file (Kind CheckCleared), or a check it found stale
// (CheckStale).
type CheckNotice struct {
	Kind        string
	File        string // the cleared-checks file ("" for stale)
	Row         int
	CheckNumber int64
	Amount      core.Cents
	// Date is the bank's date for a cleared check, the issue date for a
	// stale one.
	Date               core.Date
	PaymentID          int64 // 0 when no check matched
	PayeeType, PayeeID string
	// Applied is true when the check was marked cleared, or (stale)
	// voided by the run.
	Applied bool
	// Alert marks a check the bank paid after carepay voided it: its
	// lines were paid again, so the payee may have been paid twice.
	Alert  bool
	Detail string // in words; never an account number
}

// Days is how long a stale check had been outstanding on the run date
// asOf.
func (n *CheckNotice) Days(asOf core.Date) int { return n.Date.DaysUntil(asOf) }

func (t *Tx) putCheckNotice(n *CheckNotice) error {
	var payment any
	if n.PaymentID != 0 {
		payment = n.PaymentID
	}
	if err := t.exec(`INSERT INTO check_notices (run_id, kind, file, row, check_number, amount, on_date, payment_id, payee_type, payee_id, applied, alert, detail)
 VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`, t.RunID, n.Kind, n.File, n.Row, n.CheckNumber, int64(n.Amount), n.Date.String(), payment,
		n.PayeeType, n.PayeeID, n.Applied, n.Alert, n.Detail); err != nil {
		return fmt.Errorf("recording %s check %d: %w", n.Kind, n.CheckNumber, err)
	}
	return nil
}

// ApplyCleared takes one row of the bank's cleared-checks file: the check
// is marked cleared on the bank's date, so that it is never stale nor
// voided. A row naming no check carepay issued, another amount, or a
// check already cleared changes nothing and is reported; a check carepay
// voided that the bank reports paid changes nothing and is an alert (its
// lines were paid again). Every row is recorded with its outcome
// (CheckNotices).
func (t *Tx) ApplyCleared(file string, cl *core.ClearedCheck) (*CheckNotice, error) {
	n := &CheckNotice{Kind: CheckCleared, File: file, Row: cl.Row, CheckNumber: cl.Number, Amount: cl.Amount, Date: cl.Date}
	c, err := checkByNumber(t.ctx, t.tx, cl.Number)
	if err != nil {
		return nil, err
	}
	if c != nil {
		n.PaymentID, n.PayeeType, n.PayeeID = c.PaymentID, c.PayeeType, c.PayeeID
	}
	switch {
	case c == nil:
		n.Detail = fmt.Sprintf("check %d cleared on %s for %s matches no check carepay issued: nothing changed; ask the bank", cl.Number, cl.Date, cl.Amount.Dollars())
	case c.VoidedAt != "":
		n.Alert = true
		n.Detail = fmt.Sprintf("ALERT: %s was VOIDED at %s by %s (%s), but the bank reports it paid on %s for %s; its lines were paid again in run %s, so the payee may have been paid twice: stop the reissued payment or recover the money, and ask the bank why the void was not honoured; nothing changed",
			c.Ref(), c.VoidedAt, c.VoidedBy, c.VoidReason, cl.Date, cl.Amount.Dollars(), c.VoidRun)
	case cl.Date < c.Issued:
		n.Detail = fmt.Sprintf("check %d cleared on %s, before carepay issued it on %s: nothing changed; ask the bank", cl.Number, cl.Date, c.Issued)
	case cl.Amount != c.Amount:
		n.Detail = fmt.Sprintf("check %d cleared on %s for %s, but carepay issued it for %s: nothing changed; ask the bank", cl.Number, cl.Date, cl.Amount.Dollars(), c.Amount.Dollars())
	case !c.ClearedOn.IsZero():
		n.Detail = fmt.Sprintf("%s already cleared on %s (run %s): nothing changed", c.Ref(), c.ClearedOn, c.ClearedRun)
	default:
		if err := t.exec(`UPDATE payments SET cleared_on = ?, cleared_run = ? WHERE id = ?`, cl.Date.String(), t.RunID, c.PaymentID); err != nil {
			return nil, fmt.Errorf("clearing check %d: %w", cl.Number, err)
		}
		n.Applied = true
		n.Detail = fmt.Sprintf("%s issued %s cleared on %s", c.Ref(), c.Issued, cl.Date)
	}
	return n, t.putCheckNotice(n)
}

// StaleChecks records the checks issued more than after days before the
// run date that the bank has not paid and nobody voided, oldest first.
// With void set, each is voided by the run (reason StaleReason): this
// run's positive pay carries the void record and its lines are payable
// again, by this run when it pays.
func (t *Tx) StaleChecks(after int, void bool) ([]CheckNotice, error) {
	cutoff := t.asOf.AddDays(-after)
	rows, err := t.tx.QueryContext(t.ctx, `SELECT `+issuedCheckColumns+`
 WHERE p.check_number IS NOT NULL AND p.method = 'check' AND p.issued_run IS NOT NULL AND p.voided_at IS NULL
   AND p.cleared_on IS NULL AND p.returned_run IS NULL AND r.as_of < ?
 ORDER BY r.as_of, p.check_number`, cutoff.String())
	if err != nil {
		return nil, fmt.Errorf("finding stale checks: %w", err)
	}
	var stale []*IssuedCheck
	for rows.Next() {
		c, err := scanIssuedCheck(rows)
		if err != nil {
			rows.Close()
			return nil, fmt.Errorf("finding stale checks: %w", err)
		}
		stale = append(stale, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("finding stale checks: %w", err)
	}
	var started string
	if void && len(stale) > 0 {
		if err := t.tx.QueryRowContext(t.ctx, `SELECT started_at FROM runs WHERE id = ?`, t.RunID).Scan(&started); err != nil {
			return nil, fmt.Errorf("reading run %s: %w", t.RunID, err)
		}
	}
	out := make([]CheckNotice, 0, len(stale))
	for _, c := range stale {
		n := CheckNotice{Kind: CheckStale, CheckNumber: c.Number, Amount: c.Amount, Date: c.Issued, PaymentID: c.PaymentID,
			PayeeType: c.PayeeType, PayeeID: c.PayeeID, Applied: void}
		n.Detail = fmt.Sprintf("%s to %s, issued %s in run %s, not cleared after %d days (checks.stale_after = %d)",
			c.Ref(), c.PayeeName, c.Issued, c.IssuedRun, c.Issued.DaysUntil(t.asOf), after)
		if void {
			if err := t.exec(`UPDATE payments SET voided_at = ?, voided_by = ?, void_reason = ? WHERE id = ?`, started, StaleVoider, StaleReason, c.PaymentID); err != nil {
				return nil, fmt.Errorf("voiding stale check %d: %w", c.Number, err)
			}
			if err := t.sendVoid(c.PaymentID); err != nil {
				return nil, err
			}
			n.Detail += "; voided by this run (checks.void_stale): the void record is in its positive pay file and its lines are payable again (paid by this run when it pays)"
		} else {
			n.Detail += fmt.Sprintf("; carepay void %d --reason TEXT voids it and pays its lines again", c.Number)
		}
		if err := t.putCheckNotice(&n); err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	return out, nil
}

// Voids returns the checks whose void records a run's positive pay file
// carries, by check number.
func (l *Ledger) Voids(ctx context.Context, runID string) ([]IssuedCheck, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT `+issuedCheckColumns+` WHERE p.void_run = ? ORDER BY p.check_number`, runID)
	if err != nil {
		return nil, fmt.Errorf("reading voided checks of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []IssuedCheck
	for rows.Next() {
		c, err := scanIssuedCheck(rows)
		if err != nil {
			return nil, fmt.Errorf("reading voided checks of run %s: %w", runID, err)
		}
		out = append(out, *c)
	}
	return out, rows.Err()
}

// CheckNotices returns what a run did with the bank's cleared-checks rows
// and the checks it found stale, in the order it met them.
func (l *Ledger) CheckNotices(ctx context.Context, runID string) ([]CheckNotice, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT kind, file, row, check_number, amount, on_date, COALESCE(payment_id, 0), payee_type, payee_id, applied, alert, detail
 FROM check_notices WHERE run_id = ? ORDER BY rowid`, runID)
	if err != nil {
		return nil, fmt.Errorf("reading check notices of run %s: %w", runID, err)
	}
	defer rows.Close()
	var out []CheckNotice
	for rows.Next() {
		var n CheckNotice
		var amount int64
		var on string
		if err := rows.Scan(&n.Kind, &n.File, &n.Row, &n.CheckNumber, &amount, &on, &n.PaymentID, &n.PayeeType, &n.PayeeID, &n.Applied, &n.Alert, &n.Detail); err != nil {
			return nil, fmt.Errorf("reading check notices of run %s: %w", runID, err)
		}
		n.Amount, n.Date = core.Cents(amount), pd(on)
		out = append(out, n)
	}
	return out, rows.Err()
}
