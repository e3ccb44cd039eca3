package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"carepay/core"
)

// ErrUnknownStatement is returned by Approve for a statement with no lines.
var ErrUnknownStatement = errors.New("no such statement")

// ErrUnknownPayment is returned by Approve for a payment ID the ledger
// never formed.
var ErrUnknownPayment = errors.New("no such payment")

// Approval kinds: what an approval releases.
const (
	ApproveStatement = "statement"
	ApprovePayment   = "payment"
)

// Approval is what one approval released.
type Approval struct {
	Ref  string // the statement ID, or the payment's ID (PAY-n)
	Kind string // ApproveStatement or ApprovePayment
	// Lines is how many held lines the approval covers: a statement's
	// lines held when it was given, or the lines a payment carries.
	Lines int
	// The payee and amount of an approved payment.
	PayeeType, PayeeID string
	Amount             core.Cents
	// To is an approved payment as it was formed and is paid: payee name,
	// method, bank details (account number unsealed, in memory only) and
	// address; nil for a statement.
	To *core.Payment
}

// Approve records the approval of statements and payments held for
// review; see ApproveRefs.
func (l *Ledger) Approve(ctx context.Context, refs []string, by string, at time.Time) error {
	_, err := l.ApproveRefs(ctx, refs, by, at)
	return err
}

// ApproveRefs records, in one transaction, the approval of every ref: a
// statement's held lines take their final status in the next run; a
// payment held for review (PAY-n) is paid, as formed, by the next run that
// pays. An approval of a statement covers the lines held when it is given:
// lines that arrive later are held again and need an approval of their
// own. Nothing is recorded when any ref is refused: an unknown statement
// or payment, one already approved (naming who approved it and when), a
// statement with no held line, a payment that was never held, a bare ref
// naming both a statement and a payment (statement_id PAY-3): a ref may
// say which with StatementPrefix or PaymentPrefix (statement:PAY-3).
func (l *Ledger) ApproveRefs(ctx context.Context, refs []string, by string, at time.Time) ([]Approval, error) {
	tx, err := l.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("approving: %w", busy(err))
	}
	defer tx.Rollback()
	stamp := at.UTC().Format(time.RFC3339)
	var out []Approval
	for _, ref := range refs {
		a, err := l.approveOne(ctx, tx, ref, by, stamp)
		if err != nil {
			return nil, fmt.Errorf("approving %s: %w", ref, err)
		}
		out = append(out, a)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("approving: %w", err)
	}
	return out, nil
}

// Prefixes of an ID given to approve that say what it names, for a
// statement whose ID reads as a payment's (statement_id PAY-3).
const (
	StatementPrefix = "statement:"
	PaymentPrefix   = "payment:"
)

func (l *Ledger) approveOne(ctx context.Context, tx *sql.Tx, ref, by, stamp string) (Approval, error) {
	kind := ""
	for _, p := range []string{StatementPrefix, PaymentPrefix} {
		if len(ref) > len(p) && strings.EqualFold(ref[:len(p)], p) {
			kind, ref = p, ref[len(p):]
		}
	}
	id, isPayment := core.ParsePaymentRef(ref)
	if kind == PaymentPrefix {
		if !isPayment {
			return Approval{}, fmt.Errorf("%w: %q is not a payment ID (PAY-n)", ErrUnknownPayment, ref)
		}
		return l.approvePayment(ctx, tx, id, by, stamp)
	}
	ids, err := docLineIDs(ctx, tx, "statement", ref)
	if err != nil {
		return Approval{}, err
	}
	total, held, uncovered := len(ids), 0, 0
	err = eachIDChunk(ids, nil, func(marks string, args []any) error {
		var h, u int
		err := tx.QueryRowContext(ctx, `SELECT COUNT(CASE WHEN status = 'held' THEN 1 END), COUNT(CASE WHEN status = 'held' AND approval_id IS NULL THEN 1 END)
 FROM lines WHERE id IN (`+marks+`)`, args...).Scan(&h, &u)
		held, uncovered = held+h, uncovered+u
		return err
	})
	if err != nil {
		return Approval{}, err
	}
	if isPayment && kind == "" {
		var payments int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM payments WHERE id = ?`, id).Scan(&payments); err != nil {
			return Approval{}, err
		}
		if total > 0 && payments > 0 {
			return Approval{}, fmt.Errorf("both a statement and a payment have this ID; nothing approved: say which with %s%s or %s%s",
				StatementPrefix, ref, PaymentPrefix, ref)
		}
		if total == 0 {
			return l.approvePayment(ctx, tx, id, by, stamp)
		}
	}
	if total == 0 {
		var invoice bool
		if err := tx.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM doc_lines WHERE kind = 'invoice' AND ref = ?)`, ref).Scan(&invoice); err != nil {
			return Approval{}, err
		}
		if invoice {
			return Approval{}, fmt.Errorf("%w: %s is an invoice, and invoices need no approval (only statements of plans that require it, and payments above limits.max_payment); carepay explain %s shows how it was decided",
				ErrUnknownStatement, ref, ref)
		}
		return Approval{}, fmt.Errorf("%w in the ledger", ErrUnknownStatement)
	}
	if uncovered == 0 {
		var prevBy, prevAt string
		err := tx.QueryRowContext(ctx, `SELECT approved_by, approved_at FROM approvals WHERE kind = 'statement' AND ref = ? ORDER BY id DESC LIMIT 1`, ref).Scan(&prevBy, &prevAt)
		if err == nil {
			return Approval{}, fmt.Errorf("already approved by %s at %s (no line of it is held without an approval)", prevBy, prevAt)
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return Approval{}, err
		}
		return Approval{}, fmt.Errorf("it has no held lines (%d lines, none awaiting approval)", total)
	}
	var approval int64
	err = tx.QueryRowContext(ctx, `INSERT INTO approvals (kind, ref, approved_by, approved_at, lines) VALUES ('statement', ?, ?, ?, ?) RETURNING id`, ref, by, stamp, uncovered).Scan(&approval)
	if err != nil {
		return Approval{}, err
	}
	err = eachIDChunk(ids, []any{approval}, func(marks string, args []any) error {
		_, err := tx.ExecContext(ctx, `UPDATE lines SET approval_id = ? WHERE id IN (`+marks+`) AND status = 'held' AND approval_id IS NULL`, args...)
		return err
	})
	if err != nil {
		return Approval{}, err
	}
	return Approval{Ref: ref, Kind: ApproveStatement, Lines: uncovered}, nil
}

func (l *Ledger) approvePayment(ctx context.Context, tx *sql.Tx, id int64, by, stamp string) (Approval, error) {
	ref := core.PaymentRef(id)
	a := Approval{Ref: ref, Kind: ApprovePayment}
	var review, refs string
	var amount int64
	var sealed []byte
	p := &core.Payment{}
	ad := &p.Address
	err := tx.QueryRowContext(ctx, `SELECT `+paymentColumns+`, review FROM payments WHERE id = ?`, id).Scan(&p.ID, &p.RunID, &p.PayeeType,
		&p.PayeeID, &p.Name, &p.Method, &amount, &p.Lines, &refs, &p.CheckNumber, &p.Bank.Routing, &sealed, &p.Bank.Type,
		&ad.Line1, &ad.Line2, &ad.City, &ad.State, &ad.PostalCode, &p.Email, &review)
	if errors.Is(err, sql.ErrNoRows) {
		return Approval{}, fmt.Errorf("%w in the ledger", ErrUnknownPayment)
	}
	if err != nil {
		return Approval{}, err
	}
	p.Amount, p.Refs = core.Cents(amount), splitRefs(refs)
	if p.Bank.Number, err = l.key.open(sealed); err != nil {
		return Approval{}, err
	}
	a.To, a.PayeeType, a.PayeeID, a.Amount, a.Lines = p, p.PayeeType, p.PayeeID, p.Amount, p.Lines
	switch review {
	case "held":
	case "approved":
		var prevBy, prevAt string
		if err := tx.QueryRowContext(ctx, `SELECT approved_by, approved_at FROM approvals WHERE kind = 'payment' AND ref = ? ORDER BY id DESC LIMIT 1`, ref).Scan(&prevBy, &prevAt); err != nil {
			return Approval{}, fmt.Errorf("reading its approval: %w", err)
		}
		return Approval{}, fmt.Errorf("already approved by %s at %s", prevBy, prevAt)
	default:
		return Approval{}, fmt.Errorf("payment %s to %s %s of %s was not held for review: nothing to approve", ref, a.PayeeType, a.PayeeID, a.Amount.Dollars())
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO approvals (kind, ref, approved_by, approved_at, lines) VALUES ('payment', ?, ?, ?, ?)`, ref, by, stamp, a.Lines); err != nil {
		return Approval{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE payments SET review = 'approved' WHERE id = ? AND review = 'held'`, id); err != nil {
		return Approval{}, err
	}
	return a, nil
}

// StatementApproved reports whether a statement line decided now is
// covered by an approval: never, since an approval covers the lines held
// when it was given and a line arriving later is held again (the rules ask
// before holding a line of a plan that needs approval).
func (t *Tx) StatementApproved(ref string) (bool, error) { return false, nil }

// ReleaseApproved gives every held line covered by an approval its final
// status in this run, and returns how many it released. Its shares were
// reserved when it was decided and are not recomputed.
func (t *Tx) ReleaseApproved() (int, error) {
	res, err := t.tx.ExecContext(t.ctx, `
UPDATE lines SET status = final_status, released_run = ?,
       reasons = CASE WHEN reasons = 'AWAITING_APPROVAL' THEN ''
                      ELSE REPLACE(REPLACE(reasons, ';AWAITING_APPROVAL', ''), 'AWAITING_APPROVAL;', '') END,
       steps = steps || char(10) || 'approved: statement ' || ref || ' approved by '
             || (SELECT approved_by FROM approvals a WHERE a.id = lines.approval_id) || ', released in run ' || ?
 WHERE status = 'held' AND approval_id IS NOT NULL`, t.RunID, t.RunID)
	if err != nil {
		return 0, fmt.Errorf("releasing approved statements: %w", err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}
