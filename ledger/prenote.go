package ledger

import (
	"context"
	"fmt"

	"carepay/core"
)

// BankProof is what the ledger knows of a payee's bank details when
// prenotes are on: the newest prenote or live ACH credit sent to exactly
// those details that did not come back.
type BankProof struct {
	PaymentID int64
	// Prenote is true for a prenote, whose wait is counted from SentOn;
	// false for a live credit, which proves the details at once.
	Prenote bool
	// SentOn is the run date of the run that issued it.
	SentOn core.Date
}

// BankProof returns the newest prenote or live ACH credit sent to b for a
// payee and not returned, or nil when there is none: b is new to the
// ledger, or everything sent to it came back. Details are the same when
// routing number, account number and account type all are.
func (t *Tx) BankProof(payeeType, payeeID string, b core.BankAccount) (*BankProof, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT p.id, p.method, r.as_of, COALESCE(p.routing_number, ''), p.account_sealed, COALESCE(p.account_type, '')
 FROM payments p JOIN runs r ON r.id = p.issued_run
 WHERE p.payee_type = ? AND p.payee_id = ? AND p.method IN ('ach', 'prenote') AND p.returned_run IS NULL
 ORDER BY p.id DESC`, payeeType, payeeID)
	if err != nil {
		return nil, fmt.Errorf("reading what was sent to %s %s by ACH: %w", payeeType, payeeID, err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var method, on, routing, typ string
		var sealed []byte
		if err := rows.Scan(&id, &method, &on, &routing, &sealed, &typ); err != nil {
			return nil, fmt.Errorf("reading what was sent to %s %s by ACH: %w", payeeType, payeeID, err)
		}
		if routing != b.Routing || typ != b.Type {
			continue
		}
		number, err := t.l.key.open(sealed)
		if err != nil {
			return nil, fmt.Errorf("payment %s: %w", core.PaymentRef(id), err)
		}
		if number == b.Number {
			return &BankProof{PaymentID: id, Prenote: method == core.MethodPrenote, SentOn: pd(on)}, nil
		}
	}
	return nil, rows.Err()
}

// ACHPayeesChanged returns the payees paid by ACH whose registry row this
// run wrote (a roster or provider row, or a NOC's correction), employees
// first, each in ID order: their details may need a prenote although
// nothing is paid to them yet.
func (t *Tx) ACHPayeesChanged() ([][2]string, error) {
	rows, err := t.tx.QueryContext(t.ctx, `SELECT 'employee', employee_id FROM employees WHERE updated_run = ? AND payment_method = 'ach'
 UNION ALL SELECT 'provider', provider_id FROM providers WHERE updated_run = ? AND payment_method = 'ach'
 ORDER BY 1, 2`, t.RunID, t.RunID)
	if err != nil {
		return nil, fmt.Errorf("reading the registry rows of run %s: %w", t.RunID, err)
	}
	defer rows.Close()
	var out [][2]string
	for rows.Next() {
		var k [2]string
		if err := rows.Scan(&k[0], &k[1]); err != nil {
			return nil, fmt.Errorf("reading the registry rows of run %s: %w", t.RunID, err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// Prenotes returns the prenotes a run sent, in ID order, account numbers
// unsealed (in memory only): payments.ach carries them beside the run's
// payments.
func (l *Ledger) Prenotes(ctx context.Context, runID string) ([]*core.Payment, error) {
	rows, err := l.db.QueryContext(ctx, `SELECT `+issuedColumns+` FROM payments WHERE issued_run = ? AND method = 'prenote' ORDER BY id`, runID)
	if err != nil {
		return nil, fmt.Errorf("reading prenotes of run %s: %w", runID, err)
	}
	out, err := scanPayments(rows, l.key)
	if err != nil {
		return nil, fmt.Errorf("reading prenotes of run %s: %w", runID, err)
	}
	return out, nil
}
