package payout

import (
	"fmt"
	"strings"

	"github.com/moov-io/ach"
	"github.com/moov-io/base"

	"carepay/core"
)

// ValidRouting reports whether s is a nine-digit ABA routing number whose
// check digit is right: 3, 7 and 1 weights over the digits sum to a
// multiple of 10.
func ValidRouting(s string) bool {
	if len(s) != 9 {
		return false
	}
	weights := [9]int{3, 7, 1, 3, 7, 1, 3, 7, 1}
	sum := 0
	for i := 0; i < 9; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return false
		}
		sum += int(c-'0') * weights[i]
	}
	return sum%10 == 0
}

// CheckBank returns what is wrong with a payee's bank details for ACH, in
// words that never show the account number; "" when they are usable.
func CheckBank(b core.BankAccount) string {
	var problems []string
	switch {
	case b.Routing == "":
		problems = append(problems, "routing number missing")
	case !ValidRouting(b.Routing):
		problems = append(problems, fmt.Sprintf("routing number %s fails the ABA check digit", b.Routing))
	}
	switch {
	case b.Number == "":
		problems = append(problems, "account number missing")
	case len(b.Number) > 17:
		problems = append(problems, fmt.Sprintf("account number %s is longer than 17 digits", b.Masked()))
	}
	switch {
	case b.Type == "":
		problems = append(problems, "account type missing")
	case b.Type != "checking" && b.Type != "savings":
		problems = append(problems, fmt.Sprintf("account type %q is neither checking nor savings", b.Type))
	}
	return strings.Join(problems, "; ")
}

// NextBankingDay returns the first banking day after d, by the Federal
// Reserve's calendar as moov-io/base keeps it: no weekend, no federal
// holiday, no Monday after a holiday on a Sunday, and a Friday before a
// holiday on a Saturday is open.
func NextBankingDay(d core.Date) core.Date {
	return AddBankingDays(d, 1)
}

// AddBankingDays returns the nth banking day after d (n from 1 to 500;
// otherwise d).
func AddBankingDays(d core.Date, n int) core.Date {
	return core.DateOf(base.NewTime(d.Time()).AddBankingDay(n).Time)
}

// ReturnReason is an ACH return code in words, as the NACHA rules name it
// ("" for a code moov-io/ach does not know).
func ReturnReason(code string) string {
	if c := ach.LookupReturnCode(code); c != nil {
		return c.Reason
	}
	return ""
}
