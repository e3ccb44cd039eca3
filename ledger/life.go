package ledger

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"carepay/core"
)

// LifeEvent is one thing that happened to a payment.
type LifeEvent struct {
	Date  core.Date
	RunID string
	What  string
}

// PaymentByCheck returns the ID of the payment a check number was cut for
// (0 when none was).
func (l *Ledger) PaymentByCheck(ctx context.Context, check int64) (int64, error) {
	var id int64
	err := l.db.QueryRowContext(ctx, `SELECT id FROM payments WHERE check_number = ?`, check).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("finding check %d: %w", check, err)
	}
	return id, nil
}

// PaymentLife returns what happened to a payment, in order: formed, held
// for review and approved, issued (check number or trace), voided or
// cleared, corrected by a NOC or returned, and which payments pay its
// lines again. It returns nil
// for a payment the ledger does not hold.
func (l *Ledger) PaymentLife(ctx context.Context, id int64) ([]LifeEvent, error) {
	ref := core.PaymentRef(id)
	var p struct {
		run, formedOn, payeeType, payeeID, name, method, review string
		issued, issuedOn, trace, returned, returnedOn, code     string
		voidedAt, voidedBy, voidReason, voidRun, voidOn         string
		clearedOn, clearedRun                                   string
		amount, check                                           int64
		lines                                                   int
		sealed                                                  []byte
	}
	err := l.db.QueryRowContext(ctx, `SELECT p.run_id, r.as_of, p.payee_type, p.payee_id, p.payee_name, p.method, p.review, p.amount, p.lines,
 COALESCE(p.check_number, 0), COALESCE(p.trace_number, ''), p.account_sealed, COALESCE(p.issued_run, ''), COALESCE(i.as_of, ''),
 COALESCE(p.returned_run, ''), COALESCE(p.returned_on, ''), COALESCE(p.return_code, ''),
 COALESCE(p.voided_at, ''), COALESCE(p.voided_by, ''), COALESCE(p.void_reason, ''), COALESCE(p.void_run, ''), COALESCE(v.as_of, ''),
 COALESCE(p.cleared_on, ''), COALESCE(p.cleared_run, '')
 FROM payments p JOIN runs r ON r.id = p.run_id LEFT JOIN runs i ON i.id = p.issued_run LEFT JOIN runs v ON v.id = p.void_run WHERE p.id = ?`, id).
		Scan(&p.run, &p.formedOn, &p.payeeType, &p.payeeID, &p.name, &p.method, &p.review, &p.amount, &p.lines, &p.check, &p.trace, &p.sealed,
			&p.issued, &p.issuedOn, &p.returned, &p.returnedOn, &p.code, &p.voidedAt, &p.voidedBy, &p.voidReason, &p.voidRun, &p.voidOn,
			&p.clearedOn, &p.clearedRun)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading payment %s: %w", ref, err)
	}
	number, err := l.key.open(p.sealed)
	if err != nil {
		return nil, fmt.Errorf("payment %s: %w", ref, err)
	}
	out := []LifeEvent{{pd(p.formedOn), p.run, fmt.Sprintf("formed: %s to %s %s (%s), %d lines, by %s",
		core.Cents(p.amount).Dollars(), p.payeeType, p.payeeID, p.name, p.lines, p.method)}}
	if p.review != "" {
		out = append(out, LifeEvent{pd(p.formedOn), p.run, "held for review: above limits.max_payment"})
		rows, err := l.db.QueryContext(ctx, `SELECT approved_by, approved_at FROM approvals WHERE kind = 'payment' AND ref = ? ORDER BY id`, ref)
		if err != nil {
			return nil, fmt.Errorf("reading approvals of %s: %w", ref, err)
		}
		for rows.Next() {
			var by, at string
			if err := rows.Scan(&by, &at); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading approvals of %s: %w", ref, err)
			}
			out = append(out, LifeEvent{What: fmt.Sprintf("approved by %s at %s", by, at)})
		}
		rows.Close()
	}
	switch {
	case p.issued == "":
		out = append(out, LifeEvent{What: "not issued yet"})
	case p.check != 0:
		out = append(out, LifeEvent{pd(p.issuedOn), p.issued, fmt.Sprintf("issued: check %d", p.check)})
	case p.trace != "":
		out = append(out, LifeEvent{pd(p.issuedOn), p.issued, fmt.Sprintf("issued: ACH entry, trace %s, to account %s", p.trace, core.MaskAccount(number))})
	default:
		out = append(out, LifeEvent{pd(p.issuedOn), p.issued, "issued by " + p.method})
	}
	if p.voidedAt != "" {
		what := fmt.Sprintf("voided at %s by %s: %s", p.voidedAt, p.voidedBy, p.voidReason)
		if p.voidRun == "" {
			what += "; the next run sends the void record"
		}
		out = append(out, LifeEvent{pd(p.voidOn), p.voidRun, what})
	}
	if p.clearedOn != "" {
		out = append(out, LifeEvent{pd(p.clearedOn), p.clearedRun, "cleared: the bank paid it"})
	}
	rows, err := l.db.QueryContext(ctx, `SELECT run_id, noticed_on, kind, code, applied, detail FROM bank_notices WHERE payment_id = ? ORDER BY rowid`, id)
	if err != nil {
		return nil, fmt.Errorf("reading bank notices of %s: %w", ref, err)
	}
	for rows.Next() {
		var run, on, kind, code, detail string
		var applied bool
		if err := rows.Scan(&run, &on, &kind, &code, &applied, &detail); err != nil {
			rows.Close()
			return nil, fmt.Errorf("reading bank notices of %s: %w", ref, err)
		}
		state := "applied"
		if !applied {
			state = "changed nothing"
		}
		out = append(out, LifeEvent{pd(on), run, fmt.Sprintf("bank %s %s (%s): %s", kind, code, state, detail)})
	}
	rows.Close()
	if back, on := p.returned, p.returnedOn; back != "" || p.voidRun != "" {
		if back == "" {
			back, on = p.voidRun, p.voidOn
		}
		rows, err := l.db.QueryContext(ctx, `SELECT l.payment_id, COUNT(*) FROM returned_lines r JOIN lines l ON l.id = r.line_id
 WHERE r.payment_id = ? GROUP BY l.payment_id ORDER BY l.payment_id`, id)
		if err != nil {
			return nil, fmt.Errorf("reading the lines of %s: %w", ref, err)
		}
		for rows.Next() {
			var now sql.NullInt64
			var n int
			if err := rows.Scan(&now, &n); err != nil {
				rows.Close()
				return nil, fmt.Errorf("reading the lines of %s: %w", ref, err)
			}
			what := fmt.Sprintf("%d of its lines are paid again by %s", n, core.PaymentRef(now.Int64))
			if !now.Valid {
				what = fmt.Sprintf("%d of its lines wait to be paid again", n)
			}
			out = append(out, LifeEvent{pd(on), back, what})
		}
		rows.Close()
	}
	return out, nil
}
