package core

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
}

// PaymentHold is a payment not made in a run, with the reason.
type PaymentHold struct {
	RunID     string
	PayeeType string
	PayeeID   string
	Name      string
	Method    string
	Amount    Cents
	Lines     int
	Reason    Reason // PAYMENT_DETAILS
	Detail    string // what is wrong, in words, never the account number
}
