package payout

import (
	"strings"
	"testing"
	"time"

	"carepay/core"
)

// TestValidRouting checks the ABA check digit by hand: weights 3 7 1 over
// the nine digits, and the sum must be a multiple of 10.
func TestValidRouting(t *testing.T) {
	tests := []struct {
		name    string
		routing string
		want    bool
	}{
		// 0*3+1*7+1*1+0*3+0*7+0*1+0*3+1*7+5*1 = 20
		{"fed_boston_011000015", "011000015", true},
		// 0*3+2*7+1*1+0+0+0+0+2*7+1*1 = 30
		{"jpmorgan_021000021", "021000021", true},
		// 3+14+1+0+28+2+24+56+2 = 130
		{"wells_fargo_121042882", "121042882", true},
		// 0+21+1+9+0+0+0+7+2 = 40
		{"031300012", "031300012", true},
		// the same numbers with the check digit one off: sums 21, 31, 129, 41
		{"check_digit_plus_one", "011000016", false},
		{"check_digit_plus_one_021", "021000022", false},
		{"check_digit_minus_one", "121042881", false},
		{"check_digit_plus_one_031", "031300013", false},
		{"eight_digits", "01100001", false},
		{"ten_digits", "0110000150", false},
		{"letter_in_place_of_digit", "0110000l5", false},
		{"letters", "ABCDEFGHI", false},
		{"leading_space", " 11000015", false},
		{"dashes", "011-000-15", false},
		{"empty", "", false},
		// nine bytes, but the arabic-indic digits are not ASCII digits
		{"non_ascii_digits", "٠١١٠٠٠٠١٥", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ValidRouting(tt.routing); got != tt.want {
				t.Errorf("ValidRouting(%q) = %v, want %v", tt.routing, got, tt.want)
			}
		})
	}
}

func TestCheckBank(t *testing.T) {
	const account = "123456789012" // shown as ****9012
	tests := []struct {
		name string
		bank core.BankAccount
		want string
	}{
		{"checking_ok", core.BankAccount{Routing: "021000021", Number: account, Type: "checking"}, ""},
		{"savings_ok", core.BankAccount{Routing: "121042882", Number: account, Type: "savings"}, ""},
		{"seventeen_digit_account_ok", core.BankAccount{Routing: "021000021", Number: "12345678901234567", Type: "checking"}, ""},
		{"routing_missing", core.BankAccount{Number: account, Type: "checking"}, "routing number missing"},
		{"routing_check_digit", core.BankAccount{Routing: "021000022", Number: account, Type: "checking"},
			"routing number 021000022 fails the ABA check digit"},
		{"routing_eight_digits", core.BankAccount{Routing: "02100002", Number: account, Type: "checking"},
			"routing number 02100002 fails the ABA check digit"},
		{"account_missing", core.BankAccount{Routing: "021000021", Type: "checking"}, "account number missing"},
		{"account_eighteen_digits", core.BankAccount{Routing: "021000021", Number: "123456789012345678", Type: "checking"},
			"account number ****5678 is longer than 17 digits"},
		{"type_money_market", core.BankAccount{Routing: "021000021", Number: account, Type: "money market"},
			`account type "money market" is neither checking nor savings`},
		{"type_missing", core.BankAccount{Routing: "021000021", Number: account}, "account type missing"},
		{"type_upper_case", core.BankAccount{Routing: "021000021", Number: account, Type: "Checking"},
			`account type "Checking" is neither checking nor savings`},
		{"everything_wrong", core.BankAccount{Routing: "021000022", Number: "987654321098765432", Type: "cd"},
			"routing number 021000022 fails the ABA check digit; account number ****5432 is longer than 17 digits; " +
				`account type "cd" is neither checking nor savings`},
		{"everything_missing", core.BankAccount{},
			"routing number missing; account number missing; account type missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := CheckBank(tt.bank)
			if got != tt.want {
				t.Errorf("CheckBank(%+v) =\n  %q\nwant\n  %q", tt.bank, got, tt.want)
			}
			// The message never shows the account number, only its last 4.
			if n := tt.bank.Number; n != "" && strings.Contains(got, n) {
				t.Errorf("CheckBank message %q shows the full account number %s", got, n)
			}
			if n := tt.bank.Number; len(n) > 4 && strings.Contains(got, n[:len(n)-4]) {
				t.Errorf("CheckBank message %q shows more of the account number than its last 4 digits", got)
			}
		})
	}
}

func TestNextBankingDay(t *testing.T) {
	d := func(y int, m time.Month, day int) core.Date { return core.NewDate(y, m, day) }
	tests := []struct {
		name string
		from core.Date
		want core.Date
	}{
		{"tuesday_to_wednesday", d(2026, time.March, 10), d(2026, time.March, 11)},
		{"thursday_to_friday", d(2026, time.March, 12), d(2026, time.March, 13)},
		{"friday_to_monday", d(2026, time.March, 6), d(2026, time.March, 9)},
		{"saturday_to_monday", d(2026, time.March, 7), d(2026, time.March, 9)},
		{"sunday_to_monday", d(2026, time.March, 8), d(2026, time.March, 9)},
		// Thanksgiving 2026 is Thursday November 26 (Thursdays 5, 12, 19,
		// 26); the day after it is no federal holiday.
		{"day_before_thanksgiving", d(2026, time.November, 25), d(2026, time.November, 27)},
		// Christmas 2026 is a Friday, then the weekend.
		{"christmas_eve_2026", d(2026, time.December, 24), d(2026, time.December, 28)},
		// July 4, 2026 is a Saturday: the Federal Reserve is open on
		// Friday July 3.
		{"independence_day_on_saturday", d(2026, time.July, 2), d(2026, time.July, 3)},
		{"after_friday_before_saturday_holiday", d(2026, time.July, 3), d(2026, time.July, 6)},
		// July 4, 2027 is a Sunday: the Federal Reserve is closed on
		// Monday July 5.
		{"independence_day_on_sunday", d(2027, time.July, 2), d(2027, time.July, 6)},
		// MLK day 2026 is the third Monday of January: the 19th.
		{"mlk_day", d(2026, time.January, 16), d(2026, time.January, 20)},
		// Juneteenth 2026 is a Friday.
		{"juneteenth_on_friday", d(2026, time.June, 18), d(2026, time.June, 22)},
		// Columbus Day 2026 is the second Monday of October: the 12th.
		{"columbus_day", d(2026, time.October, 9), d(2026, time.October, 13)},
		// Veterans Day 2026 is Wednesday November 11.
		{"veterans_day", d(2026, time.November, 10), d(2026, time.November, 12)},
		// New Year's Day 2027 is a Friday; crossing the year.
		{"new_year_2027", d(2026, time.December, 31), d(2027, time.January, 4)},
		// January 1, 2028 is a Saturday: Friday December 31, 2027 is a
		// banking day.
		{"new_year_on_saturday", d(2027, time.December, 30), d(2027, time.December, 31)},
		// January 1, 2023 is a Sunday, observed Monday January 2.
		{"new_year_on_sunday", d(2022, time.December, 30), d(2023, time.January, 3)},
		// Memorial Day 2026 is the last Monday of May: the 25th.
		{"memorial_day", d(2026, time.May, 22), d(2026, time.May, 26)},
		// Labor Day 2026 is the first Monday of September: the 7th.
		{"labor_day", d(2026, time.September, 4), d(2026, time.September, 8)},
		// Presidents' Day 2026 is the third Monday of February: the 16th.
		{"presidents_day", d(2026, time.February, 13), d(2026, time.February, 17)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := NextBankingDay(tt.from); got != tt.want {
				t.Errorf("NextBankingDay(%s %s) = %s %s, want %s %s",
					tt.from, tt.from.Weekday(), got, got.Weekday(), tt.want, tt.want.Weekday())
			}
		})
	}
}

func TestAddBankingDays(t *testing.T) {
	d := func(y int, m time.Month, day int) core.Date { return core.NewDate(y, m, day) }
	tests := []struct {
		name string
		from core.Date
		n    int
		want core.Date
	}{
		// Wednesday before Thanksgiving 2026: Friday 27, Monday 30,
		// Tuesday December 1.
		{"three_across_thanksgiving", d(2026, time.November, 25), 3, d(2026, time.December, 1)},
		// Christmas 2026 is a Friday: Monday 28, Tuesday 29.
		{"two_across_christmas", d(2026, time.December, 24), 2, d(2026, time.December, 29)},
		{"zero_is_the_day_itself", d(2026, time.March, 10), 0, d(2026, time.March, 10)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := AddBankingDays(tt.from, tt.n); got != tt.want {
				t.Errorf("AddBankingDays(%s, %d) = %s, want %s", tt.from, tt.n, got, tt.want)
			}
		})
	}
}
