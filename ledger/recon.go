package ledger

import (
	"context"
	"fmt"
	"strconv"

	"carepay/core"
)

// Reconciliation returns what became of the money as of a run: the
// payments it sent, those that came back in it, the payments of it that
// pay returned or voided ones again, the NOCs it applied, the checks it
// voided, the bank cleared in it or it found stale, and every check issued
// up to it that is neither voided nor cleared.
func (l *Ledger) Reconciliation(ctx context.Context, runID string) ([]core.ReconItem, error) {
	var asOf string
	if err := l.db.QueryRowContext(ctx, `SELECT as_of FROM runs WHERE id = ?`, runID).Scan(&asOf); err != nil {
		return nil, fmt.Errorf("reconciling run %s: %w", runID, err)
	}
	var out []core.ReconItem
	add := func(what, query string, args ...any) error {
		rows, err := l.db.QueryContext(ctx, query, args...)
		if err != nil {
			return fmt.Errorf("reconciling run %s: %w", runID, err)
		}
		defer rows.Close()
		for rows.Next() {
			it := core.ReconItem{What: what}
			var amount, check int64
			var trace, date, detail string
			if err := rows.Scan(&it.PaymentID, &it.PayeeType, &it.PayeeID, &it.Method, &amount, &check, &trace, &date, &detail); err != nil {
				return fmt.Errorf("reconciling run %s: %w", runID, err)
			}
			it.Amount, it.Date, it.Detail = core.Cents(amount), pd(date), detail
			it.Reference = trace
			if check != 0 {
				it.Reference = strconv.FormatInt(check, 10)
			}
			out = append(out, it)
		}
		return rows.Err()
	}
	const cols = `p.id, p.payee_type, p.payee_id, p.method, p.amount, COALESCE(p.check_number, 0), COALESCE(p.trace_number, '')`
	steps := []struct {
		what, query string
		args        []any
	}{
		{core.ReconSent, `SELECT ` + cols + `, CAST(? AS TEXT), '' FROM payments p WHERE p.issued_run = ? AND p.amount > 0 ORDER BY p.id`, []any{asOf, runID}},
		{core.ReconReturned, `SELECT ` + cols + `, p.returned_on, p.return_code FROM payments p WHERE p.returned_run = ? ORDER BY p.id`, []any{runID}},
		{core.ReconReissued, `SELECT ` + cols + `, CAST(? AS TEXT), 'pays again ' || 'PAY-' || r.payment_id
 FROM payments p JOIN lines l ON l.payment_id = p.id JOIN returned_lines r ON r.line_id = l.id
 WHERE p.issued_run = ? GROUP BY p.id, r.payment_id ORDER BY p.id, r.payment_id`, []any{asOf, runID}},
		{core.ReconNOC, `SELECT ` + cols + `, n.noticed_on, n.code || ': ' || n.detail FROM bank_notices n JOIN payments p ON p.id = n.payment_id
 WHERE n.run_id = ? AND n.kind = 'noc' AND n.applied != 0 ORDER BY n.rowid`, []any{runID}},
		{core.ReconVoided, `SELECT ` + cols + `, CAST(? AS TEXT), COALESCE(p.void_reason, '') || ' (by ' || COALESCE(p.voided_by, '') || ')'
 FROM payments p WHERE p.void_run = ? ORDER BY p.check_number`, []any{asOf, runID}},
		{core.ReconCleared, `SELECT ` + cols + `, p.cleared_on, 'cleared by the bank' FROM payments p WHERE p.cleared_run = ? ORDER BY p.check_number`, []any{runID}},
		{core.ReconStale, `SELECT ` + cols + `, n.on_date, n.detail FROM check_notices n JOIN payments p ON p.id = n.payment_id
 WHERE n.run_id = ? AND n.kind = 'stale' ORDER BY n.check_number`, []any{runID}},
		// Outstanding as of the run: issued by it or before, and neither
		// voided nor cleared by it or before.
		{core.ReconOutstanding, `SELECT ` + cols + `, r.as_of, 'issued in run ' || p.issued_run FROM payments p JOIN runs r ON r.id = p.issued_run
 LEFT JOIN runs v ON v.id = p.void_run LEFT JOIN runs c ON c.id = p.cleared_run
 WHERE p.method = 'check' AND p.amount > 0 AND p.returned_run IS NULL AND r.as_of <= ?
 AND (v.id IS NULL OR v.as_of > ?) AND (c.id IS NULL OR c.as_of > ?) ORDER BY p.check_number`, []any{asOf, asOf, asOf}},
	}
	for _, s := range steps {
		if err := add(s.what, s.query, s.args...); err != nil {
			return nil, err
		}
	}
	return out, nil
}
