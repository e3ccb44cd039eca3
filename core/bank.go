package core

// BankNotice is one entry of a file the bank sends back about credits
// carepay sent: a return (the money came back) or a notification of
// change (NOC: the credit landed, but the payee's details must be
// corrected before the next one).
type BankNotice struct {
	Kind string // NoticeReturn or NoticeChange
	// Row is the entry's position in the file (1 for the first entry), so
	// that the acknowledgement can point at it.
	Row int
	// OriginalTrace is the trace number of the entry carepay sent, which
	// the notice names.
	OriginalTrace string
	// Amount is the entry's amount (0 for a NOC).
	Amount Cents
	// Code is the return reason (R01...) or change code (C01...).
	Code string
	// Description is the code in words, as the NACHA rules name it.
	Description string
	// Date is when the bank noticed: the file's creation date.
	Date Date
	// Corrected holds what a NOC corrects: a routing number, an account
	// number, an account type ("checking", "savings"), any of them.
	Corrected BankAccount
}

// The kinds of BankNotice.
const (
	NoticeReturn = "return"
	NoticeChange = "noc"
)

// PermanentReturn reports whether a return code says the payee's bank
// details can never take a credit (account closed, not found, invalid,
// bank not in ACH, payee deceased, account frozen, non-transaction
// account): later payments to those details take the fallback until the
// registry brings different ones. Other codes return one payment only.
func PermanentReturn(code string) bool {
	switch code {
	case "R02", "R03", "R04", "R13", "R14", "R15", "R16", "R20":
		return true
	}
	return false
}

// ReconItem is one row of a run's reconciliation: what became of money
// sent, as of the run.
type ReconItem struct {
	What      string // see the Recon* kinds
	PaymentID int64
	PayeeType string
	PayeeID   string
	Method    string
	Amount    Cents
	Date      Date
	// Reference is the check number or the ACH trace number.
	Reference string
	Detail    string
}

// The kinds of ReconItem.
const (
	ReconSent        = "sent"              // issued by the run
	ReconReturned    = "returned"          // came back in the run
	ReconReissued    = "reissued"          // a payment of the run that pays a returned one again
	ReconNOC         = "noc applied"       // bank details corrected in the run
	ReconOutstanding = "outstanding check" // issued by this or an earlier run, not voided or cleared
	ReconVoided      = "voided check"      // its void record goes out with the run
	ReconCleared     = "cleared check"     // the bank's cleared-checks file of the run says it was paid
	ReconStale       = "stale check"       // outstanding past checks.stale_after
)

// ClearedCheck is one row of the bank's cleared-checks file: the bank
// paid check Number, for Amount, on Date.
type ClearedCheck struct {
	Row    int // the row in the file, as a spreadsheet numbers it
	Number int64
	Amount Cents
	Date   Date
}
