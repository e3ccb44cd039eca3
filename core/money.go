package core

import (
	"fmt"
	"strconv"
	"strings"
)

// Cents is an amount of US money as a whole number of cents. Every sum,
// share and limit in carepay is kept in Cents so that nothing is ever lost
// to floating-point rounding.
type Cents int64

// maxCents bounds parsed amounts (one trillion dollars) so that products of
// an amount and a quantity cannot overflow int64.
const maxCents = 1_000_000_000_000_00

// String formats c with two decimals and no currency sign, as payroll files
// and decisions.csv expect: 1234.5 dollars is "1234.50".
func (c Cents) String() string {
	var b [24]byte
	return string(c.Append(b[:0]))
}

// Append appends the amount to b as String writes it.
func (c Cents) Append(b []byte) []byte {
	// Every decided line formats several amounts: no fmt here.
	if c < 0 {
		b = append(b, '-')
		c = -c
	}
	b = strconv.AppendInt(b, int64(c)/100, 10)
	cents := int64(c) % 100
	return append(b, '.', byte('0'+cents/10), byte('0'+cents%10))
}

// Dollars formats c for people: "$1,234.50".
func (c Cents) Dollars() string {
	neg := c < 0
	if neg {
		c = -c
	}
	whole := strconv.FormatInt(int64(c)/100, 10)
	var b strings.Builder
	for i, r := range whole {
		if i > 0 && (len(whole)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	s := fmt.Sprintf("$%s.%02d", b.String(), int64(c)%100)
	if neg {
		return "-" + s
	}
	return s
}

// MarshalText lets Cents be written in TOML and JSON as "1234.50".
func (c Cents) MarshalText() ([]byte, error) { return []byte(c.String()), nil }

// UnmarshalText lets Cents be read from configuration strings such as
// "75,000.01" or "$80".
func (c *Cents) UnmarshalText(b []byte) error {
	v, err := ParseMoney(string(b))
	if err != nil {
		return err
	}
	*c = v
	return nil
}

// ParseMoney reads an amount written as 123.45, 123, $1,234.50 or -5.00.
// More than two decimals is an error rather than a silent rounding: an
// invoice that says 10.005 needs a person to look at it.
func ParseMoney(s string) (Cents, error) {
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, fmt.Errorf("empty amount")
	}
	neg := false
	if strings.HasPrefix(t, "-") {
		neg, t = true, t[1:]
	} else if strings.HasPrefix(t, "(") && strings.HasSuffix(t, ")") {
		neg, t = true, t[1:len(t)-1]
	}
	t = strings.TrimPrefix(t, "$")
	if strings.Contains(t, ",") {
		if !validThousands(t) {
			return 0, fmt.Errorf("misplaced thousands separator in %q", s)
		}
		t = strings.ReplaceAll(t, ",", "")
	}
	whole, frac, hasDot := strings.Cut(t, ".")
	if whole == "" && frac == "" {
		return 0, fmt.Errorf("no digits in %q", s)
	}
	if !allDigits(whole) || !allDigits(frac) || (hasDot && frac == "" && whole == "") {
		return 0, fmt.Errorf("%q is not an amount like 123.45 or $1,234.50", s)
	}
	if len(frac) > 2 {
		// Excel stores 1234.5 as 1234.5 but may store 0.1+0.2 style noise;
		// accept trailing zeros only.
		if strings.TrimRight(frac[2:], "0") != "" {
			return 0, fmt.Errorf("%q has more than two decimals", s)
		}
		frac = frac[:2]
	}
	for len(frac) < 2 {
		frac += "0"
	}
	if len(whole) > 13 {
		return 0, fmt.Errorf("%q is too large", s)
	}
	var v int64
	if whole != "" {
		w, err := strconv.ParseInt(whole, 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%q is not an amount: %w", s, err)
		}
		v = w * 100
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	v += f
	if v > maxCents {
		return 0, fmt.Errorf("%q is too large", s)
	}
	if neg {
		v = -v
	}
	return Cents(v), nil
}

func validThousands(t string) bool {
	whole, _, _ := strings.Cut(t, ".")
	groups := strings.Split(whole, ",")
	if len(groups[0]) == 0 || len(groups[0]) > 3 || groups[0][0] == '0' {
		return false // "0,500" is no US amount: it may mean one half
	}
	for _, g := range groups[1:] {
		if len(g) != 3 {
			return false
		}
	}
	return true
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// MulDiv returns c*num/den rounded half up (away from zero for negative
// amounts), the single rounding rule carepay uses for rates, percentages
// and pro-rata shares. den must be positive.
func (c Cents) MulDiv(num, den int64) Cents {
	p := int64(c) * num
	if p < 0 {
		return -Cents((-p + den/2) / den)
	}
	return Cents((p + den/2) / den)
}

// Min returns the smaller of a and b.
func Min(a, b Cents) Cents {
	if a < b {
		return a
	}
	return b
}

// Max returns the larger of a and b.
func Max(a, b Cents) Cents {
	if a > b {
		return a
	}
	return b
}
