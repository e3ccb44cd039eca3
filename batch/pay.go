package batch

import (
	"sort"

	"carepay/core"
	"carepay/ledger"
	"carepay/payout"
)

// payer gathers a run's payments: one per payee and method, numbered in
// the order payees are first met, which the decision order fixes.
type payer struct {
	tx     *ledger.Tx
	nextID int64
	payees map[[2]string]*payee
	order  []*payee
}

type payee struct {
	payment *core.Payment     // nil when held
	hold    *core.PaymentHold // nil when paid
	refs    map[string]bool
}

func newPayer(tx *ledger.Tx) (*payer, error) {
	id, err := tx.FirstPaymentID()
	if err != nil {
		return nil, err
	}
	return &payer{tx: tx, nextID: id, payees: map[[2]string]*payee{}}, nil
}

// assign puts a payable line on its payee's payment and returns the
// payment's ID, or 0 when the payee's payment is held (PAYMENT_DETAILS).
func (p *payer) assign(payeeType, payeeID, ref string, amount core.Cents) (int64, error) {
	key := [2]string{payeeType, payeeID}
	pe := p.payees[key]
	if pe == nil {
		var err error
		if pe, err = p.open(payeeType, payeeID); err != nil {
			return 0, err
		}
		p.payees[key] = pe
		p.order = append(p.order, pe)
	}
	if pe.hold != nil {
		pe.hold.Amount += amount
		pe.hold.Lines++
		return 0, nil
	}
	pay := pe.payment
	pay.Amount += amount
	pay.Lines++
	if !pe.refs[ref] {
		pe.refs[ref] = true
		pay.Refs = append(pay.Refs, ref)
	}
	return pay.ID, nil
}

// open looks a payee up and decides whether it can be paid.
func (p *payer) open(payeeType, payeeID string) (*payee, error) {
	info, ok, err := p.tx.Payee(payeeType, payeeID)
	if err != nil {
		return nil, err
	}
	hold := func(name, method, detail string) *payee {
		return &payee{hold: &core.PaymentHold{RunID: p.tx.RunID, PayeeType: payeeType, PayeeID: payeeID, Name: name,
			Method: method, Reason: core.PaymentDetails, Detail: detail}}
	}
	if !ok {
		return hold("", "", payeeType+" "+payeeID+" is not in the registry"), nil
	}
	if info.Method == core.MethodACH {
		if why := payout.CheckBank(info.Bank); why != "" {
			return hold(info.Name, info.Method, why), nil
		}
	} else {
		info.Bank = core.BankAccount{} // not needed: never kept
	}
	info.ID, info.RunID = p.nextID, p.tx.RunID
	p.nextID++
	return &payee{payment: info, refs: map[string]bool{}}, nil
}

// payEarlier puts the lines approved in earlier runs (or released from
// hold in this one) and still unpaid on this run's payments.
func (p *payer) payEarlier() error {
	unpaid, err := p.tx.Unpaid()
	if err != nil {
		return err
	}
	for _, u := range unpaid {
		id, err := p.assign(u.PayeeType, u.PayeeID, u.Ref, u.Amount)
		if err != nil {
			return err
		}
		if id != 0 {
			if err := p.tx.MarkPaid(u.ID, id); err != nil {
				return err
			}
		}
	}
	return nil
}

// finish holds the payments that cannot be made (an ACH amount too large
// for its field) and records the rest with their holds.
func (p *payer) finish(asOf core.Date, firstCheck int64) error {
	var payments []*core.Payment
	var holds []core.PaymentHold
	for _, pe := range p.order {
		if pe.hold != nil {
			holds = append(holds, *pe.hold)
			continue
		}
		pay := pe.payment
		if pay.Method == core.MethodACH {
			if why := payout.CheckACHAmount(pay.Amount); why != "" && pay.Amount > 0 {
				if err := p.tx.Unpay(pay.ID); err != nil {
					return err
				}
				holds = append(holds, core.PaymentHold{RunID: pay.RunID, PayeeType: pay.PayeeType, PayeeID: pay.PayeeID, Name: pay.Name,
					Method: pay.Method, Amount: pay.Amount, Lines: pay.Lines, Reason: core.PaymentDetails, Detail: why})
				continue
			}
		}
		sort.Strings(pay.Refs)
		payments = append(payments, pay)
	}
	return p.tx.PutPayments(asOf, payments, holds, firstCheck)
}
