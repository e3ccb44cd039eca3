package core

import (
	"fmt"
	"strconv"
	"strings"
)

// Hours is a quantity of care time in hundredths of an hour: 4.5 hours is
// Hours(450). Rates are multiplied by Hours with Cents.MulDiv(h, 100).
type Hours int64

// ParseHours reads a decimal number of hours such as 4, 4.5 or 10.25. More
// than two decimals is refused rather than rounded.
func ParseHours(s string) (Hours, error) {
	t := strings.TrimSpace(s)
	whole, frac, _ := strings.Cut(t, ".")
	if t == "" || (whole == "" && frac == "") || !allDigits(whole) || !allDigits(frac) {
		return 0, fmt.Errorf("%q is not a number of hours like 4.5", s)
	}
	if len(frac) > 2 {
		if strings.TrimRight(frac[2:], "0") != "" {
			return 0, fmt.Errorf("%q has more than two decimals", s)
		}
		frac = frac[:2]
	}
	for len(frac) < 2 {
		frac += "0"
	}
	if len(whole) > 6 {
		return 0, fmt.Errorf("%q is too many hours", s)
	}
	var w int64
	if whole != "" {
		w, _ = strconv.ParseInt(whole, 10, 64)
	}
	f, _ := strconv.ParseInt(frac, 10, 64)
	return Hours(w*100 + f), nil
}

// HoursOf returns n whole hours.
func HoursOf(n int) Hours { return Hours(n * 100) }

// String formats h with two decimals: "4.50", "-4.50" (a negative number
// of hours is read so that the rules can refuse it).
func (h Hours) String() string {
	sign := ""
	if h < 0 {
		sign, h = "-", -h
	}
	return fmt.Sprintf("%s%d.%02d", sign, int64(h)/100, int64(h)%100)
}

// Times returns rate x h rounded half up to the cent.
func (h Hours) Times(rate Cents) Cents { return rate.MulDiv(int64(h), 100) }
