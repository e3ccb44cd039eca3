package core_test

import (
	"testing"

	"carepay/core"
)

func TestParseMoney(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want core.Cents
		ok   bool
	}{
		{"plain_decimal", "123.45", 12345, true},
		{"whole_dollars", "123", 12300, true},
		{"sign_and_thousands", "$1,234.50", 123450, true},
		{"one_decimal", "0.5", 50, true},
		{"leading_dot", ".5", 50, true},
		{"trailing_dot", "5.", 500, true},
		{"negative", "-5.00", -500, true},
		{"negative_dollar", "-$5.00", -500, true},
		{"accounting_negative", "(5.00)", -500, true},
		{"accounting_negative_dollar", "($1,234.50)", -123450, true},
		{"surrounding_space", "  42.10 ", 4210, true},
		{"millions", "$1,234,567.89", 123456789, true},
		{"trailing_zero_decimals", "10.500", 1050, true},
		{"many_trailing_zeros", "10.50000", 1050, true},
		{"zero", "0", 0, true},
		{"largest", "1000000000000.00", 100000000000000, true},
		{"largest_negative", "-1000000000000", -100000000000000, true},
		{"thousands_group_of_two", "1,23", 0, false},
		{"thousands_group_of_four", "1,2345.00", 0, false},
		{"leading_comma", ",123", 0, false},
		{"one_thousand", "1,000", 100000, true},
		// Never written so in US amounts; in European ones it is one half.
		{"zero_thousands_group", "0,500", 0, false},
		{"two_dots", "12.3.4", 0, false},
		{"three_decimals", "10.005", 0, false},
		{"empty", "", 0, false},
		{"blank", "   ", 0, false},
		{"sign_only", "$", 0, false},
		{"minus_only", "-", 0, false},
		{"empty_parens", "()", 0, false},
		{"letters", "abc", 0, false},
		{"dollar_after_minus_sign_order", "$-5", 0, false},
		{"double_minus", "--5", 0, false},
		{"unclosed_paren", "(5.00", 0, false},
		{"space_inside", "$ 5", 0, false},
		{"too_large_by_a_cent", "1000000000000.01", 0, false},
		{"too_large_14_digits", "10000000000000", 0, false},
		{"too_large_overflow", "99999999999999999999", 0, false},
		{"exponent", "1e3", 0, false},
		{"plus_sign", "+5", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := core.ParseMoney(tc.in)
			if tc.ok {
				if err != nil {
					t.Fatalf("ParseMoney(%q): unexpected error %v", tc.in, err)
				}
				if got != tc.want {
					t.Fatalf("ParseMoney(%q) = %d cents, want %d", tc.in, got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseMoney(%q) = %d cents, want an error", tc.in, got)
			}
		})
	}
}

func TestCentsUnmarshalText(t *testing.T) {
	var c core.Cents
	if err := c.UnmarshalText([]byte("75,000.01")); err != nil {
		t.Fatal(err)
	}
	if c != 7500001 {
		t.Fatalf("got %d, want 7500001", c)
	}
	if err := c.UnmarshalText([]byte("x")); err == nil {
		t.Fatal("want an error for x")
	}
	if c != 7500001 {
		t.Fatalf("a failed UnmarshalText changed the value to %d", c)
	}
	b, err := core.Cents(123450).MarshalText()
	if err != nil || string(b) != "1234.50" {
		t.Fatalf("MarshalText = %q, %v; want 1234.50", b, err)
	}
}

func TestCentsString(t *testing.T) {
	tests := []struct {
		name    string
		in      core.Cents
		str     string
		dollars string
	}{
		{"zero", 0, "0.00", "$0.00"},
		{"one_cent", 1, "0.01", "$0.01"},
		{"ten_cents", 10, "0.10", "$0.10"},
		{"whole", 12300, "123.00", "$123.00"},
		{"three_digits", 99999, "999.99", "$999.99"},
		{"thousand", 100000, "1000.00", "$1,000.00"},
		{"thousands", 123450, "1234.50", "$1,234.50"},
		{"hundred_thousands", 12345678, "123456.78", "$123,456.78"},
		{"millions", 123456789, "1234567.89", "$1,234,567.89"},
		{"negative_cents", -5, "-0.05", "-$0.05"},
		{"negative", -123450, "-1234.50", "-$1,234.50"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.String(); got != tc.str {
				t.Errorf("Cents(%d).String() = %q, want %q", int64(tc.in), got, tc.str)
			}
			if got := tc.in.Dollars(); got != tc.dollars {
				t.Errorf("Cents(%d).Dollars() = %q, want %q", int64(tc.in), got, tc.dollars)
			}
		})
	}
}

func TestMulDiv(t *testing.T) {
	tests := []struct {
		name     string
		c        core.Cents
		num, den int64
		want     core.Cents
	}{
		// 99.99 x 80% = 79.992 -> 79.99
		{"eighty_percent_rounds_down", 9999, 80, 100, 7999},
		{"eighty_percent_negative_rounds_down", -9999, 80, 100, -7999},
		// 0.05 x 50% = 0.025 -> 0.03 (half up)
		{"half_cent_rounds_up", 5, 50, 100, 3},
		// -0.025 -> -0.03 (half away from zero)
		{"negative_half_cent_rounds_away_from_zero", -5, 50, 100, -3},
		// 0.01 x 0.5 = 0.005 -> 0.01
		{"smallest_half", 1, 1, 2, 1},
		{"negative_smallest_half", -1, 1, 2, -1},
		// 0.01 / 3 = 0.0033 -> 0.00; 0.02 / 3 = 0.0067 -> 0.01
		{"third_rounds_down", 1, 1, 3, 0},
		{"two_thirds_rounds_up", 2, 1, 3, 1},
		{"negative_two_thirds", -2, 1, 3, -1},
		// odd denominator: 0.02 x 1/5 = 0.004 -> 0; 0.03/5 = 0.006 -> 0.01
		{"fifth_below_half", 2, 1, 5, 0},
		{"fifth_above_half", 3, 1, 5, 1},
		// 80.00 x 1 exact
		{"exact", 8000, 100, 100, 8000},
		{"zero", 0, 7, 3, 0},
		// 14.00/h x 4.5h = 63.00
		{"rate_times_hours", 1400, 450, 100, 6300},
		// charge x uncovered hours / billed hours: 700.00 x 2 / 12 = 116.666 -> 116.67
		{"pro_rata", 70000, 2, 12, 11667},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.c.MulDiv(tc.num, tc.den); got != tc.want {
				t.Fatalf("Cents(%d).MulDiv(%d, %d) = %d, want %d", int64(tc.c), tc.num, tc.den, got, tc.want)
			}
		})
	}
}

func TestMinMax(t *testing.T) {
	if got := core.Min(3, -2); got != -2 {
		t.Errorf("Min(3, -2) = %d", got)
	}
	if got := core.Max(3, -2); got != 3 {
		t.Errorf("Max(3, -2) = %d", got)
	}
}
