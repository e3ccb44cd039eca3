package core

import (
	"strconv"
	"strings"
)

// Payment is one payment of a run: every approved or partial line of one
// payee paid by one method, added up.
type Payment struct {
	ID        int64
	RunID     string
	PayeeType string // employee or provider
	PayeeID   string
	Name      string // payee's name as registered (may hold non-ASCII)
	Method    string // ach, check or payroll
	Amount    Cents
	Lines     int
	Refs      []string // invoices and statements paid, for remittance

	Bank        BankAccount // ach only; Number is clear in memory only
	CheckNumber int64       // check only
	TraceNumber string      // ach only, set when the NACHA file is built
	Address     Address
	Email       string
	// Fallback says why the payment goes by check although the payee is
	// paid by ACH (its details wait for a prenote); "" otherwise.
	Fallback string
}

// MethodPrenote is the method of a prenote: a zero-dollar ACH entry
// (transaction code 23 or 33) that tells the payee's bank of new details
// before live credits go to them. It is recorded as a payment of 0.00 so
// that a return or NOC, which names its trace number, finds it; it is not
// a registry payment_method.
const MethodPrenote = "prenote"

// PaymentHold is a payment not made in a run, with the reason.
type PaymentHold struct {
	RunID     string
	PayeeType string
	PayeeID   string
	Name      string
	Method    string
	Amount    Cents
	Lines     int
	Reason    Reason // PAYMENT_DETAILS or PAYMENT_REVIEW
	Detail    string // what is wrong, in words, never the account number
	// PaymentID is the held payment's ID when one was formed: a payment
	// held for review keeps its lines and waits for `carepay approve
	// PAY-n`. 0 when the lines wait unpaid (bank details only).
	PaymentID int64
}

// paymentRefPrefix starts the ID of a payment as operators see and
// approve it, so that it cannot be read as a statement ID by mistake.
const paymentRefPrefix = "PAY-"

// PaymentRef is a payment's ID as the run summary names it and `carepay
// approve` takes it: PAY-42.
func PaymentRef(id int64) string { return paymentRefPrefix + strconv.FormatInt(id, 10) }

// ParsePaymentRef reads a payment ID written as PaymentRef writes it (the
// prefix in any case); ok is false for anything else.
func ParsePaymentRef(s string) (id int64, ok bool) {
	if len(s) <= len(paymentRefPrefix) || !strings.EqualFold(s[:len(paymentRefPrefix)], paymentRefPrefix) {
		return 0, false
	}
	digits := s[len(paymentRefPrefix):]
	if strings.Trim(digits, "0123456789") != "" {
		return 0, false
	}
	id, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || id <= 0 {
		return 0, false
	}
	return id, true
}
