package batch

import (
	"fmt"
	"slices"
	"sort"

	"carepay/core"
	"carepay/ledger"
	"carepay/payout"
)

// DefaultMaxPayment is the largest payment a run forms without a second
// person's approval when Payout.MaxPayment is not set: config.toml's
// default for limits.max_payment.
const DefaultMaxPayment core.Cents = 50_000_00

// payer gathers a run's payments: one per payee and method, numbered in
// the order payees are first met, which the decision order fixes. A
// payment above the limit is held for review with its lines; payments
// held so in earlier runs and approved since are issued first.
type payer struct {
	tx     *ledger.Tx
	max    core.Cents
	nextID int64
	// odfi numbers the ACH entries' traces (payout.TraceNumber);
	// holdReturned is returns.fallback = "hold".
	odfi         string
	holdReturned bool
	payees       map[[2]string]*payee
	order        []*payee

	// prenote is ach.prenote: new or changed ACH details get a prenote
	// (prenotes, in the order met) and live credits to them wait
	// prenoteDays banking days after its settlement date.
	prenote     bool
	prenoteDays int
	asOf        core.Date
	prenotes    map[[2]string]*core.Payment
	prenoteList []*core.Payment

	issued  []*core.Payment    // formed earlier, approved, paid now
	waiting []core.PaymentHold // formed earlier, still held
	// reviewed counts the payments this run held for review: their lines
	// took PAYMENT_REVIEW after their rows of decisions.csv were written.
	reviewed int
}

type payee struct {
	payment *core.Payment     // nil when held
	hold    *core.PaymentHold // nil when paid
	info    *core.Payment     // the registry's details; nil when unknown
	refs    map[string]bool   // refList as a set, once it is long
	refList []string          // the payee's refs, in the order met
}

func newPayer(tx *ledger.Tx, asOf core.Date, po Payout) (*payer, error) {
	max := po.MaxPayment
	if max <= 0 {
		max = DefaultMaxPayment
	}
	id, err := tx.FirstPaymentID()
	if err != nil {
		return nil, err
	}
	days := po.PrenoteDays
	if days <= 0 {
		days = DefaultPrenoteDays
	}
	return &payer{tx: tx, max: max, nextID: id, payees: map[[2]string]*payee{}, odfi: po.Originator.ODFIRouting, holdReturned: po.HoldReturned,
		prenote: po.Prenote, prenoteDays: days, asOf: asOf, prenotes: map[[2]string]*core.Payment{}}, nil
}

// met reports whether the payer has opened the payee already (assign
// looks a payee up only the first time).
func (p *payer) met(payeeType, payeeID string) bool {
	return p.payees[[2]string{payeeType, payeeID}] != nil
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
	pe.addRef(ref)
	if pe.hold != nil {
		pe.hold.Amount += amount
		pe.hold.Lines++
		return 0, nil
	}
	pay := pe.payment
	pay.Amount += amount
	pay.Lines++
	pay.Refs = pe.refList
	return pay.ID, nil
}

// addRef adds ref to the payee's refs unless it is there. Most payees
// have a few refs, looked through; a set is kept only for the many.
func (pe *payee) addRef(ref string) {
	const few = 16
	if pe.refs != nil {
		if pe.refs[ref] {
			return
		}
		pe.refs[ref] = true
	} else if slices.Contains(pe.refList, ref) {
		return
	} else if len(pe.refList) >= few {
		pe.refs = make(map[string]bool, 2*few)
		for _, r := range pe.refList {
			pe.refs[r] = true
		}
		pe.refs[ref] = true
	}
	pe.refList = append(pe.refList, ref)
}

// open looks a payee up and decides whether it can be paid.
func (p *payer) open(payeeType, payeeID string) (*payee, error) {
	info, ok, err := p.tx.Payee(payeeType, payeeID)
	if err != nil {
		return nil, err
	}
	if !ok {
		info = nil
	}
	why := bankProblem(payeeType, payeeID, info)
	if why == "" && info.Method == core.MethodACH {
		if why, err = p.fallback(info); err != nil {
			return nil, err
		}
	}
	if why == "" && info.Method == core.MethodACH && p.prenote {
		if why, err = p.prenoteWait(info); err != nil {
			return nil, err
		}
	}
	if why != "" {
		h := &core.PaymentHold{RunID: p.tx.RunID, PayeeType: payeeType, PayeeID: payeeID, Reason: core.PaymentDetails, Detail: why}
		if info != nil {
			h.Name, h.Method = info.Name, info.Method
		}
		return &payee{hold: h, info: info}, nil
	}
	if info.Method != core.MethodACH {
		info.Bank = core.BankAccount{} // not needed: never kept
	}
	info.ID, info.RunID = p.nextID, p.tx.RunID
	p.nextID++
	return &payee{payment: info, info: info}, nil
}

// fallback applies returns.fallback to an ACH payee whose payment came
// back in this run, or whose bank details a permanent return made
// unusable: with "check" the payment goes by check (info changes) and
// fallback returns ""; with "hold" it returns why the payment is held.
func (p *payer) fallback(info *core.Payment) (string, error) {
	why := p.tx.Reissue(info.PayeeType, info.PayeeID)
	if why == "" {
		code, err := p.tx.Blocked(info.PayeeType, info.PayeeID, info.Bank)
		if err != nil || code == "" {
			return "", err
		}
		why = fmt.Sprintf("the bank returned a payment to %s %s's details (routing %s, account %s) with %s; they are not used again until the registry brings different ones",
			info.PayeeType, info.PayeeID, info.Bank.Routing, info.Bank.Masked(), code)
	}
	if p.holdReturned {
		return why + "; held (returns.fallback = \"hold\") until the registry brings new bank details", nil
	}
	info.Method, info.Bank, info.Fallback = core.MethodCheck, core.BankAccount{}, why+"; paid by check (returns.fallback = \"check\")"
	return "", nil
}

// prenoteWait applies ach.prenote to an ACH payee whose details are
// usable: details never prenoted nor paid by a live credit that stayed
// get a prenote in this run (sendPrenote), and live credits to them wait
// until prenoteDays banking days after its settlement date. Meanwhile
// returns.fallback applies: with "check" the payment goes by check (info
// changes) and prenoteWait returns ""; with "hold" it returns why the
// payment is held.
func (p *payer) prenoteWait(info *core.Payment) (string, error) {
	why, err := p.prenotePending(info)
	if why == "" || err != nil {
		return "", err
	}
	if p.holdReturned {
		return why + "; held meanwhile (returns.fallback = \"hold\")", nil
	}
	info.Method, info.Bank, info.Fallback = core.MethodCheck, core.BankAccount{}, why+"; paid by check meanwhile (returns.fallback = \"check\")"
	return "", nil
}

// prenotePending says why live credits to a payee's ACH details cannot go
// in this run ("" when they can): they were never prenoted nor reached by
// a live credit that stayed, and get a prenote now; or their prenote was
// sent too recently.
func (p *payer) prenotePending(info *core.Payment) (string, error) {
	if pn := p.prenotes[[2]string{info.PayeeType, info.PayeeID}]; pn != nil {
		if pn.Bank != info.Bank {
			// A payment approved with other details than the registry's:
			// one prenote per payee and run, the other's comes next run.
			return fmt.Sprintf("%s %s's bank details (routing %s, account %s) are new, and this run already sends a prenote to other details of theirs: these get theirs in the next run",
				info.PayeeType, info.PayeeID, info.Bank.Routing, info.Bank.Masked()), nil
		}
		return p.prenoteSentNow(pn), nil
	}
	proof, err := p.tx.BankProof(info.PayeeType, info.PayeeID, info.Bank)
	if err != nil {
		return "", err
	}
	switch {
	case proof == nil:
		return p.prenoteSentNow(p.sendPrenote(info)), nil
	case !proof.Prenote:
		return "", nil // a live credit went to these details and stayed
	}
	from := prenoteLiveFrom(proof.SentOn, p.prenoteDays)
	if p.asOf >= from {
		return "", nil
	}
	return fmt.Sprintf("%s %s's bank details (routing %s, account %s) were prenoted by %s on %s; live credits to them may go from %s on (ach.prenote_days = %d banking days after its settlement date)",
		info.PayeeType, info.PayeeID, info.Bank.Routing, info.Bank.Masked(), core.PaymentRef(proof.PaymentID), proof.SentOn, from, p.prenoteDays), nil
}

// prenoteSentNow says why a payee waits for the prenote this run sends.
func (p *payer) prenoteSentNow(pn *core.Payment) string {
	return fmt.Sprintf("%s %s's bank details (routing %s, account %s) are new: this run sends them a prenote; live credits to them may go from %s on (ach.prenote_days = %d banking days after its settlement date)",
		pn.PayeeType, pn.PayeeID, pn.Bank.Routing, pn.Bank.Masked(), prenoteLiveFrom(p.asOf, p.prenoteDays), p.prenoteDays)
}

// sendPrenote adds a prenote to a payee's details to the run's (its ID
// is given in finish, after the payments').
func (p *payer) sendPrenote(info *core.Payment) *core.Payment {
	pn := &core.Payment{RunID: p.tx.RunID, PayeeType: info.PayeeType, PayeeID: info.PayeeID, Name: info.Name, Method: core.MethodPrenote,
		Bank: info.Bank, Address: info.Address, Email: info.Email}
	p.prenotes[[2]string{info.PayeeType, info.PayeeID}] = pn
	p.prenoteList = append(p.prenoteList, pn)
	return pn
}

// prenoteLiveFrom is the first run date on which live credits may go to
// details prenoted by a run dated sentOn: the prenote settles on the
// file's effective date, the banking day after sentOn, and NACHA lets
// live entries follow from the third banking day after that settlement
// (days: ach.prenote_days).
func prenoteLiveFrom(sentOn core.Date, days int) core.Date {
	return payout.AddBankingDays(payout.NextBankingDay(sentOn), days)
}

// prenoteChanged sends a prenote to the payees paid by ACH whose registry
// rows this run wrote with details never prenoted (nor paid by a live
// credit that stayed), although nothing is paid to them now: their first
// payment then need not wait.
func (p *payer) prenoteChanged() error {
	changed, err := p.tx.ACHPayeesChanged()
	if err != nil {
		return err
	}
	for _, k := range changed {
		if p.prenotes[k] != nil {
			continue
		}
		info, ok, err := p.tx.Payee(k[0], k[1])
		if err != nil {
			return err
		}
		if !ok || info.Method != core.MethodACH || payout.CheckBank(info.Bank) != "" {
			continue
		}
		if code, err := p.tx.Blocked(k[0], k[1], info.Bank); err != nil {
			return err
		} else if code != "" {
			continue
		}
		proof, err := p.tx.BankProof(k[0], k[1], info.Bank)
		if err != nil {
			return err
		}
		if proof == nil {
			p.sendPrenote(info)
		}
	}
	return nil
}

// bankProblem says why a payee cannot be paid as registered: not in the
// registry, or bank details an ACH payment cannot use. "" when it can.
func bankProblem(payeeType, payeeID string, info *core.Payment) string {
	if info == nil {
		return payeeType + " " + payeeID + " is not in the registry"
	}
	if info.Method == core.MethodACH {
		return payout.CheckBank(info.Bank)
	}
	return ""
}

// payHeld issues the payments earlier runs held for review and that have
// been approved since, as they were formed and approved (their lines are
// not decided again; the registry's details of today do not move the
// money elsewhere). Those not approved yet are listed again as held.
//
// A payment formed with details that failed the bank checks (it carried
// PAYMENT_DETAILS too) cannot be paid as formed: it waits for the
// registry to bring valid details, then takes them and is held for
// approval again, so that no registry file ever bypasses dual control.
func (p *payer) payHeld() error {
	held, err := p.tx.HeldForReview()
	if err != nil {
		return err
	}
	for _, h := range held {
		ref := core.PaymentRef(h.ID)
		wait := core.PaymentHold{RunID: p.tx.RunID, PayeeType: h.PayeeType, PayeeID: h.PayeeID, Name: h.Name, Method: h.Method,
			Amount: h.Amount, Lines: h.Lines, PaymentID: h.ID}
		if why := formedProblem(h.Payment); why != "" {
			info, ok, err := p.tx.Payee(h.PayeeType, h.PayeeID)
			if err != nil {
				return err
			}
			if !ok {
				info = nil
			}
			if now := bankProblem(h.PayeeType, h.PayeeID, info); now != "" {
				wait.Reason = core.PaymentDetails
				wait.Detail = fmt.Sprintf("payment %s is approved but cannot be paid as formed: it waits for the payee's details, then for approval of them: %s", ref, now)
				if !h.Approved {
					wait.Reason = core.PaymentReview
					wait.Detail = fmt.Sprintf("payment %s (formed in run %s) waits for a second person's approval (carepay approve %s) and for the payee's details: %s",
						ref, h.RunID, ref, now)
				}
				p.waiting = append(p.waiting, wait)
				continue
			}
			if info.Method != core.MethodACH {
				info.Bank = core.BankAccount{}
			}
			if err := p.tx.Rehold(h.ID, info, why); err != nil {
				return err
			}
			was := "held"
			if h.Approved {
				was = "approved"
			}
			wait.Name, wait.Method, wait.Reason = info.Name, info.Method, core.PaymentReview
			wait.Detail = fmt.Sprintf("payment %s was %s with details that failed (%s); it now takes the payee's new details (%s) and waits for a second person's approval of them: carepay approve %s",
				ref, was, why, PayTo(info), ref)
			p.waiting = append(p.waiting, wait)
			continue
		}
		if !h.Approved {
			wait.Reason = core.PaymentReview
			wait.Detail = fmt.Sprintf("payment %s (formed in run %s) waits for a second person's approval: carepay approve %s", ref, h.RunID, ref)
			p.waiting = append(p.waiting, wait)
			continue
		}
		pay := *h.Payment
		if pay.Method == core.MethodACH {
			if why := payout.CheckACHAmount(pay.Amount); why != "" {
				wait.Reason = core.PaymentDetails
				wait.Detail = fmt.Sprintf("payment %s is approved but cannot be paid by ACH: %s", ref, why)
				p.waiting = append(p.waiting, wait)
				continue
			}
			if p.prenote {
				// Paid as approved, so by ACH: once the wait is over.
				why, err := p.prenotePending(&pay)
				if err != nil {
					return err
				}
				if why != "" {
					wait.Reason = core.PaymentDetails
					wait.Detail = fmt.Sprintf("payment %s is approved and waits for its bank details' prenote: %s", ref, why)
					p.waiting = append(p.waiting, wait)
					continue
				}
			}
		} else {
			pay.Bank = core.BankAccount{}
		}
		p.issued = append(p.issued, &pay)
	}
	return nil
}

// formedProblem says why a payment formed for review cannot be paid as
// formed: it was formed without the payee's details, or with bank details
// an ACH payment cannot use. "" when it can.
func formedProblem(f *core.Payment) string {
	if f.Method == "" {
		return f.PayeeType + " " + f.PayeeID + " was not in the registry when the payment was formed"
	}
	return bankProblem(f.PayeeType, f.PayeeID, f)
}

// PayTo says where a payment sends its money, as the operator reads it:
// "check to NAME", or "ach to NAME, checking account ****6789, routing
// 011000015" (the account number masked).
func PayTo(p *core.Payment) string {
	switch p.Method {
	case core.MethodACH:
		return fmt.Sprintf("ach to %s, %s account %s, routing %s", p.Name, orNone(p.Bank.Type, "(no type)"), orNone(p.Bank.Masked(), "(none)"),
			orNone(p.Bank.Routing, "(none)"))
	case "":
		return "no payment details"
	}
	return p.Method + " to " + p.Name
}

// PayToProblem says why a payment formed for review cannot be paid as
// formed (its details failed the bank checks), "" when it can: `carepay
// approve` tells the approver.
func PayToProblem(p *core.Payment) string { return formedProblem(p) }

func orNone(s, none string) string {
	if s == "" {
		return none
	}
	return s
}

// payEarlier puts the lines approved in earlier runs (or released from
// hold in this one) and still unpaid on this run's payments. A line whose
// payee's payment is held carries PAYMENT_DETAILS, like a line decided now.
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
		if id == 0 {
			err = p.tx.AddReason(u.ID, core.PaymentDetails)
		} else {
			err = p.tx.MarkPaid(u.ID, id)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// finish holds the payments that cannot be made: above the limit for one
// payment (PAYMENT_REVIEW: the payment keeps its lines until approved), or
// an ACH amount too large for its field; and records the rest with the
// holds.
func (p *payer) finish(asOf core.Date, firstCheck int64) error {
	payments := append([]*core.Payment(nil), p.issued...)
	holds := append([]core.PaymentHold(nil), p.waiting...)
	for _, pe := range p.order {
		if h := pe.hold; h != nil {
			if h.Amount > p.max {
				// Above the limit as well: the payment is formed, keeps
				// its lines and waits for approval and for the details.
				pay := &core.Payment{ID: p.nextID, RunID: p.tx.RunID, PayeeType: h.PayeeType, PayeeID: h.PayeeID,
					Amount: h.Amount, Lines: h.Lines, Refs: sorted(pe.refList)}
				p.nextID++
				if pe.info != nil {
					pay.Name, pay.Method, pay.Bank, pay.Address, pay.Email = pe.info.Name, pe.info.Method, pe.info.Bank, pe.info.Address, pe.info.Email
				}
				if err := p.tx.HoldForReview(pay, true); err != nil {
					return err
				}
				p.reviewed++
				h.PaymentID = pay.ID
				h.Detail = p.reviewDetail(pay) + "; " + h.Detail
				h.Reason = core.PaymentReview
			}
			holds = append(holds, *h)
			continue
		}
		pay := pe.payment
		pay.Refs = sorted(pe.refList)
		if pay.Amount > p.max {
			if err := p.tx.HoldForReview(pay, false); err != nil {
				return err
			}
			p.reviewed++
			holds = append(holds, core.PaymentHold{RunID: pay.RunID, PayeeType: pay.PayeeType, PayeeID: pay.PayeeID, Name: pay.Name,
				Method: pay.Method, Amount: pay.Amount, Lines: pay.Lines, Reason: core.PaymentReview, Detail: p.reviewDetail(pay), PaymentID: pay.ID})
			continue
		}
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
		payments = append(payments, pay)
	}
	if p.prenote {
		if err := p.prenoteChanged(); err != nil {
			return err
		}
		for _, pn := range p.prenoteList {
			pn.ID = p.nextID
			p.nextID++
			payments = append(payments, pn)
		}
	}
	for _, pay := range payments {
		if pay.Method == core.MethodACH || pay.Method == core.MethodPrenote {
			pay.TraceNumber = payout.TraceNumber(p.odfi, pay.ID)
		}
	}
	return p.tx.PutPayments(asOf, payments, holds, firstCheck)
}

// reviewDetail says why a payment is held for review and how to release it.
func (p *payer) reviewDetail(pay *core.Payment) string {
	ref := core.PaymentRef(pay.ID)
	return fmt.Sprintf("payment %s is above the %s limit for one payment (limits.max_payment) and waits for a second person's approval: carepay approve %s",
		ref, p.max.Dollars(), ref)
}

func sorted(refs []string) []string {
	out := append([]string(nil), refs...)
	sort.Strings(out)
	return out
}
