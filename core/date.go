package core

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Date is a calendar date with no time of day and no time zone, stored as
// a day number where 0001-01-01 is day 1, so that the zero Date means "no
// date" and every real date, 1969 or 2026, is positive.
// Plan rules compare Dates only; time zones matter only when the run date
// is read from a clock.
type Date int32

// dayOffset is the day number of 1970-01-01.
const dayOffset = 719_163 + 1

// NewDate returns the Date for year, month and day. Out-of-range values
// normalise the way time.Date does.
func NewDate(y int, m time.Month, d int) Date {
	t := time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	return Date(t.Unix()/86400 + dayOffset)
}

// DateOf returns the calendar date of t in t's own location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return NewDate(y, m, d)
}

// IsZero reports whether d is the absent date.
func (d Date) IsZero() bool { return d == 0 }

// Time returns midnight UTC of d.
func (d Date) Time() time.Time {
	return time.Unix(int64(d-dayOffset)*86400, 0).UTC()
}

// YMD returns the year, month and day of d.
func (d Date) YMD() (int, time.Month, int) { return d.Time().Date() }

// Year returns the calendar year of d.
func (d Date) Year() int { y, _, _ := d.YMD(); return y }

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return d.Time().Weekday() }

// AddDays returns d moved by n days.
func (d Date) AddDays(n int) Date { return d + Date(n) }

// AddYears returns the same calendar day n years later; February 29 of a
// leap year becomes March 1 in a common year.
func (d Date) AddYears(n int) Date {
	y, m, dd := d.YMD()
	return NewDate(y+n, m, dd)
}

// DaysUntil returns the number of days from d to e (negative if e is
// earlier).
func (d Date) DaysUntil(e Date) int { return int(e - d) }

// String formats d as 2026-03-09, or "" for the zero Date.
func (d Date) String() string {
	if d.IsZero() {
		return ""
	}
	y, m, day := d.Time().Date()
	if y < 0 || y > 9999 {
		return d.Time().Format("2006-01-02")
	}
	b := [10]byte{byte('0' + y/1000), byte('0' + y/100%10), byte('0' + y/10%10), byte('0' + y%10), '-',
		byte('0' + int(m)/10), byte('0' + int(m)%10), '-', byte('0' + day/10), byte('0' + day%10)}
	return string(b[:])
}

// MarshalText writes d as 2026-03-09.
func (d Date) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// UnmarshalText reads a date in any form ParseDate accepts; empty text is
// the zero Date, as MarshalText writes it.
func (d *Date) UnmarshalText(b []byte) error {
	if len(b) == 0 {
		*d = 0
		return nil
	}
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// ParseDate reads 2026-03-09 or 3/9/2026 (month first, four-digit year).
func ParseDate(s string) (Date, error) {
	t := strings.TrimSpace(s)
	var y, m, d int
	var err error
	switch {
	case len(t) == 10 && t[4] == '-' && t[7] == '-' && allDigits(t[:4]) && allDigits(t[5:7]) && allDigits(t[8:]):
		// The common form, read without splitting (every line has dates).
		y = int(t[0]-'0')*1000 + int(t[1]-'0')*100 + int(t[2]-'0')*10 + int(t[3]-'0')
		m = int(t[5]-'0')*10 + int(t[6]-'0')
		d = int(t[8]-'0')*10 + int(t[9]-'0')
	case strings.Count(t, "-") == 2:
		p := strings.Split(t, "-")
		if len(p[0]) != 4 || len(p[1]) != 2 || len(p[2]) != 2 {
			return 0, fmt.Errorf("%q is not a date like 2026-03-09", s)
		}
		y, m, d, err = atoi3(p[0], p[1], p[2])
	case strings.Count(t, "/") == 2:
		p := strings.Split(t, "/")
		if len(p[2]) != 4 || len(p[0]) == 0 || len(p[0]) > 2 || len(p[1]) == 0 || len(p[1]) > 2 {
			return 0, fmt.Errorf("%q is not a date like 3/9/2026", s)
		}
		m, d, y, err = atoi3(p[0], p[1], p[2])
	default:
		return 0, fmt.Errorf("%q is not a date like 2026-03-09 or 3/9/2026", s)
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a date: %w", s, err)
	}
	if m < 1 || m > 12 || d < 1 || d > 31 || y < 1900 || y > 2999 {
		return 0, fmt.Errorf("%q is not a calendar date", s)
	}
	if d > daysIn(y, m) {
		return 0, fmt.Errorf("%q is not a calendar date", s)
	}
	return NewDate(y, time.Month(m), d), nil
}

// daysIn is the number of days of month m of year y (Gregorian).
func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func atoi3(a, b, c string) (int, int, int, error) {
	if !allDigits(a) || !allDigits(b) || !allDigits(c) {
		return 0, 0, 0, fmt.Errorf("not digits")
	}
	x, err := strconv.Atoi(a)
	if err != nil {
		return 0, 0, 0, err
	}
	y, err := strconv.Atoi(b)
	if err != nil {
		return 0, 0, 0, err
	}
	z, err := strconv.Atoi(c)
	if err != nil {
		return 0, 0, 0, err
	}
	return x, y, z, nil
}

// excelEpoch is day 0 of the 1900 date system as Excel counts it, after its
// fictitious 1900-02-29: serial 61 is 1900-03-01.
var excelEpoch = NewDate(1899, time.December, 30)

// DateFromExcelSerial converts an Excel serial day number (1900 system) to a
// Date. A fractional part (time of day) is ignored.
func DateFromExcelSerial(serial float64, date1904 bool) (Date, error) {
	if serial < 1 || serial > 2958465 {
		return 0, fmt.Errorf("%v is not an Excel date serial", serial)
	}
	days := int(serial)
	switch {
	case date1904:
		return NewDate(1904, time.January, 1).AddDays(days), nil
	case days < 60:
		// Before Excel's fictitious 1900-02-29 the count starts a day later.
		return excelEpoch.AddDays(days + 1), nil
	case days == 60:
		return 0, fmt.Errorf("serial 60 is 1900-02-29, a date Excel invents")
	}
	return excelEpoch.AddDays(days), nil
}

// Period is a calendar month, the period a provider statement covers.
type Period struct {
	Year  int
	Month time.Month
}

// ParsePeriod reads 2026-03.
func ParsePeriod(s string) (Period, error) {
	t := strings.TrimSpace(s)
	ys, ms, ok := strings.Cut(t, "-")
	if !ok || len(ys) != 4 || len(ms) != 2 {
		return Period{}, fmt.Errorf("%q is not a period like 2026-03", s)
	}
	y, err1 := strconv.Atoi(ys)
	m, err2 := strconv.Atoi(ms)
	if !allDigits(ys) || !allDigits(ms) || err1 != nil || err2 != nil || m < 1 || m > 12 || y < 1900 {
		return Period{}, fmt.Errorf("%q is not a period like 2026-03", s)
	}
	return Period{Year: y, Month: time.Month(m)}, nil
}

// IsZero reports whether p is unset.
func (p Period) IsZero() bool { return p.Year == 0 }

// First returns the first day of p.
func (p Period) First() Date { return NewDate(p.Year, p.Month, 1) }

// Last returns the last day of p.
func (p Period) Last() Date { return NewDate(p.Year, p.Month+1, 1).AddDays(-1) }

// Contains reports whether d falls in p.
func (p Period) Contains(d Date) bool { return d >= p.First() && d <= p.Last() }

// String formats p as 2026-03.
func (p Period) String() string {
	if p.IsZero() {
		return ""
	}
	return fmt.Sprintf("%04d-%02d", p.Year, int(p.Month))
}
