package core_test

import (
	"strings"
	"testing"

	"carepay/core"
)

// maxParsed is the largest amount ParseMoney accepts, in cents.
const maxParsed = core.Cents(100_000_000_000_000)

func FuzzParseMoney(f *testing.F) {
	for _, s := range []string{
		"123.45", "123", "$1,234.50", "0.5", "-5.00", "(5.00)", "1,23", "12.3.4",
		"10.005", "10.500", "", "$", "-", "()", "$85,000.00", "39999.99", "75000.01",
		"1000000000000.00", "1000000000000.01", "99999999999999999999", ".5", "5.",
		"-$1,234,567.89", "($0.01)", "12.30000000000000001",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := core.ParseMoney(s)
		if err != nil {
			if c != 0 {
				t.Fatalf("ParseMoney(%q) = %d with error %v; want 0 on error", s, c, err)
			}
			return
		}
		if c > maxParsed || c < -maxParsed {
			t.Fatalf("ParseMoney(%q) = %d, beyond the bound", s, c)
		}
		back, err := core.ParseMoney(c.String())
		if err != nil {
			t.Fatalf("ParseMoney(%q) = %s, which does not parse back: %v", s, c, err)
		}
		if back != c {
			t.Fatalf("ParseMoney(%q) = %d; its String %q reads back as %d", s, c, c.String(), back)
		}
		back, err = core.ParseMoney(c.Dollars())
		if err != nil || back != c {
			t.Fatalf("ParseMoney(%q) = %d; its Dollars %q reads back as %d, %v", s, c, c.Dollars(), back, err)
		}
	})
}

func FuzzParseDate(f *testing.F) {
	for _, s := range []string{
		"2026-03-09", "3/9/2026", "03/09/2026", "2026-02-29", "2024-02-29", "2026-13-45",
		"9/3/26", "31/31/2020", "2/1/2025", "1900-01-01", "2999-12-31", "", "--", "//",
		"1969-12-31", "1944-04-04", "+1/1/2000",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := core.ParseDate(s)
		if err != nil {
			if d != 0 {
				t.Fatalf("ParseDate(%q) = %d with error %v; want 0 on error", s, d, err)
			}
			return
		}
		if !onlyDateChars(strings.TrimSpace(s)) {
			t.Fatalf("ParseDate(%q) = %s; want only digits and - or / in a date", s, d)
		}
		if y := d.Year(); y < 1900 || y > 2999 {
			t.Fatalf("ParseDate(%q) = %s, year out of range", s, d)
		}
		back, err := core.ParseDate(d.String())
		if err != nil || back != d {
			t.Fatalf("ParseDate(%q) = %s, which reads back as %s, %v", s, d, back, err)
		}
		y, m, dd := d.YMD()
		if us := core.NewDate(y, m, dd); us != d {
			t.Fatalf("ParseDate(%q) = %s is not a normalised calendar day", s, d)
		}
	})
}

func FuzzParsePeriod(f *testing.F) {
	for _, s := range []string{"2026-03", "2026-13", "2026-3", "2026-+3", "+026-03", "0000-01", "", "-", "2024-02"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := core.ParsePeriod(s)
		if err != nil {
			return
		}
		if !onlyDateChars(strings.TrimSpace(s)) {
			t.Fatalf("ParsePeriod(%q) = %v; want only digits and - in a period", s, p)
		}
		if p.Month < 1 || p.Month > 12 || p.First() > p.Last() || !p.Contains(p.First()) || !p.Contains(p.Last()) {
			t.Fatalf("ParsePeriod(%q) = %+v, not a month", s, p)
		}
		back, err := core.ParsePeriod(p.String())
		if err != nil || back != p {
			t.Fatalf("ParsePeriod(%q) = %+v, which reads back as %+v, %v", s, p, back, err)
		}
	})
}

func onlyDateChars(s string) bool {
	return strings.Trim(s, "0123456789-/") == ""
}

func FuzzParseHours(f *testing.F) {
	for _, s := range []string{"4", "4.5", "10.25", "4.333", "abc", "", ".", ".5", "8.", "24", "4.500", "999999", "1000000"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := core.ParseHours(s)
		if err != nil {
			return
		}
		if h < 0 || h > 99999999 {
			t.Fatalf("ParseHours(%q) = %d, out of range", s, h)
		}
		back, err := core.ParseHours(h.String())
		if err != nil || back != h {
			t.Fatalf("ParseHours(%q) = %d; its String %q reads back as %d, %v", s, h, h.String(), back, err)
		}
	})
}
