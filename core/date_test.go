package core_test

import (
	"testing"
	"time"

	"carepay/core"
)

func TestParseDate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want core.Date
		ok   bool
	}{
		{"iso", "2026-03-09", core.NewDate(2026, time.March, 9), true},
		{"us_short", "3/9/2026", core.NewDate(2026, time.March, 9), true},
		{"us_padded", "03/09/2026", core.NewDate(2026, time.March, 9), true},
		{"us_month_first", "12/1/2025", core.NewDate(2025, time.December, 1), true},
		{"surrounding_space", " 2026-03-09 ", core.NewDate(2026, time.March, 9), true},
		{"leap_day_2024", "2024-02-29", core.NewDate(2024, time.February, 29), true},
		{"leap_day_us", "2/29/2024", core.NewDate(2024, time.February, 29), true},
		{"end_of_year", "2026-12-31", core.NewDate(2026, time.December, 31), true},
		{"no_leap_day_2026", "2026-02-29", 0, false},
		{"no_leap_day_1900", "1900-02-29", 0, false},
		{"leap_day_2000", "2000-02-29", core.NewDate(2000, time.February, 29), true},
		{"no_leap_day_2100", "2100-02-29", 0, false},
		{"leap_day_2400", "2400-02-29", core.NewDate(2400, time.February, 29), true},
		{"june_31", "2026-06-31", 0, false},
		{"november_30", "11/30/2026", core.NewDate(2026, time.November, 30), true},
		{"month_13", "2026-13-45", 0, false},
		{"day_32", "2026-01-32", 0, false},
		{"april_31", "4/31/2026", 0, false},
		{"month_zero", "2026-00-10", 0, false},
		{"day_zero", "2026-03-00", 0, false},
		{"two_digit_year", "9/3/26", 0, false},
		{"day_first", "31/12/2026", 0, false},
		{"unpadded_iso", "2026-3-9", 0, false},
		{"empty", "", 0, false},
		{"words", "March 9, 2026", 0, false},
		{"dots", "09.03.2026", 0, false},
		{"mixed_separators", "2026-03/09", 0, false},
		{"letters_in_iso", "2026-0a-09", 0, false},
		{"year_before_1900", "1899-12-31", 0, false},
		{"excel_serial", "46090", 0, false},
		{"with_time", "2026-03-09T10:00:00", 0, false},
		{"plus_sign_in_month", "2026-+3-09", 0, false},
		{"plus_sign_in_day", "2026-03-+9", 0, false},
		{"plus_signs_us", "+3/+9/2026", 0, false},
		{"inner_space", "3/ 9/2026", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := core.ParseDate(tc.in)
			if tc.ok {
				if err != nil {
					t.Fatalf("ParseDate(%q): unexpected error %v", tc.in, err)
				}
				if got != tc.want {
					t.Fatalf("ParseDate(%q) = %s, want %s", tc.in, got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseDate(%q) = %s, want an error", tc.in, got)
			}
		})
	}
}

func TestDateString(t *testing.T) {
	tests := []struct {
		name string
		in   core.Date
		want string
	}{
		{"zero_is_absent", 0, ""},
		{"unix_epoch", core.NewDate(1970, time.January, 1), "1970-01-01"},
		{"day_before_epoch", core.NewDate(1969, time.December, 31), "1969-12-31"},
		{"sample", core.NewDate(2026, time.March, 9), "2026-03-09"},
		{"normalised_overflow", core.NewDate(2026, time.February, 29), "2026-03-01"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.in.String(); got != tc.want {
				t.Fatalf("String() = %q, want %q", got, tc.want)
			}
		})
	}
	if core.NewDate(1970, time.January, 1).IsZero() {
		t.Error("1970-01-01 must not be the zero Date")
	}
}

// A real calendar day must never be mistaken for the absent date: a parent
// in adult care may well be born on 1969-12-31.
func TestParseDateNotZero(t *testing.T) {
	tests := []struct{ name, in string }{
		{"day_before_unix_epoch_iso", "1969-12-31"},
		{"day_before_unix_epoch_us", "12/31/1969"},
		{"unix_epoch", "1970-01-01"},
		{"parent_born_1950", "1950-02-01"},
	}
	for _, tc := range tests {
		in := tc.in
		t.Run(tc.name, func(t *testing.T) {
			d, err := core.ParseDate(in)
			if err != nil {
				t.Fatalf("ParseDate(%q): %v", in, err)
			}
			if d.IsZero() {
				t.Fatalf("ParseDate(%q) gave the zero (absent) Date", in)
			}
			if got, _ := core.ParseDate(d.String()); got != d || d.String() == "" {
				t.Fatalf("ParseDate(%q).String() = %q does not read back", in, d.String())
			}
		})
	}
}

func TestDateText(t *testing.T) {
	var d core.Date
	if err := d.UnmarshalText([]byte("3/9/2026")); err != nil {
		t.Fatal(err)
	}
	b, err := d.MarshalText()
	if err != nil || string(b) != "2026-03-09" {
		t.Fatalf("MarshalText = %q, %v; want 2026-03-09", b, err)
	}
	if err := d.UnmarshalText([]byte("2026-02-30")); err == nil {
		t.Fatal("want an error for 2026-02-30")
	}
}

func TestDateOf(t *testing.T) {
	// 23:30 on March 9 in New York is March 10 in UTC; DateOf keeps the
	// location's own calendar day.
	ny := time.FixedZone("EST", -5*3600)
	tm := time.Date(2026, time.March, 9, 23, 30, 0, 0, ny)
	if got := core.DateOf(tm); got.String() != "2026-03-09" {
		t.Fatalf("DateOf = %s, want 2026-03-09", got)
	}
}

func TestDateArithmetic(t *testing.T) {
	d := core.NewDate(2026, time.March, 9)
	t.Run("add_days_across_month", func(t *testing.T) {
		if got := d.AddDays(23).String(); got != "2026-04-01" {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("add_negative_days", func(t *testing.T) {
		if got := d.AddDays(-9).String(); got != "2026-02-28" {
			t.Fatalf("got %s", got)
		}
	})
	t.Run("days_until", func(t *testing.T) {
		// March 31 + 60 days = May 30, the statement deadline arithmetic.
		end := core.NewDate(2026, time.March, 31)
		if got := end.DaysUntil(core.NewDate(2026, time.May, 30)); got != 60 {
			t.Fatalf("got %d, want 60", got)
		}
		if got := d.DaysUntil(core.NewDate(2026, time.March, 1)); got != -8 {
			t.Fatalf("got %d, want -8", got)
		}
	})
	t.Run("ymd_and_year", func(t *testing.T) {
		y, m, dd := d.YMD()
		if y != 2026 || m != time.March || dd != 9 || d.Year() != 2026 {
			t.Fatalf("YMD = %d %v %d", y, m, dd)
		}
	})
	t.Run("time_is_utc_midnight", func(t *testing.T) {
		want := time.Date(2026, time.March, 9, 0, 0, 0, 0, time.UTC)
		if got := d.Time(); !got.Equal(want) || got.Location() != time.UTC {
			t.Fatalf("Time() = %v", got)
		}
	})
}

func TestDateAddYears(t *testing.T) {
	tests := []struct {
		name string
		from string
		n    int
		want string
	}{
		{"ordinary", "2026-03-09", 1, "2027-03-09"},
		{"back_three_years", "2026-03-09", -3, "2023-03-09"},
		{"leap_day_to_common_year", "2024-02-29", 1, "2025-03-01"},
		{"leap_day_back_to_common_year", "2024-02-29", -1, "2023-03-01"},
		{"leap_day_to_leap_year", "2024-02-29", 4, "2028-02-29"},
		{"feb_28_stays", "2025-02-28", 1, "2026-02-28"},
		{"thirteenth_birthday", "2013-03-10", 13, "2026-03-10"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			from, err := core.ParseDate(tc.from)
			if err != nil {
				t.Fatal(err)
			}
			if got := from.AddYears(tc.n).String(); got != tc.want {
				t.Fatalf("%s.AddYears(%d) = %s, want %s", tc.from, tc.n, got, tc.want)
			}
		})
	}
}

func TestDateWeekday(t *testing.T) {
	tests := []struct {
		date string
		want time.Weekday
	}{
		{"2026-03-09", time.Monday},
		{"2026-03-13", time.Friday},
		{"2026-03-14", time.Saturday},
		{"2026-03-15", time.Sunday},
		{"2026-01-01", time.Thursday},
		{"1970-01-01", time.Thursday},
		{"2024-02-29", time.Thursday},
	}
	for _, tc := range tests {
		t.Run(tc.date, func(t *testing.T) {
			d, err := core.ParseDate(tc.date)
			if err != nil {
				t.Fatal(err)
			}
			if got := d.Weekday(); got != tc.want {
				t.Fatalf("%s is a %v, got %v", tc.date, tc.want, got)
			}
		})
	}
}

func TestDateFromExcelSerial(t *testing.T) {
	tests := []struct {
		name   string
		serial float64
		d1904  bool
		want   string
		ok     bool
	}{
		{"sample_monday", 46090, false, "2026-03-09", true},
		{"time_of_day_ignored", 46090.75, false, "2026-03-09", true},
		{"first_of_2025", 45658, false, "2025-01-01", true},
		{"birth_of_d1001", 43956, false, "2020-05-05", true},
		// Excel's 1900 system: serial 1 is 1900-01-01 and serial 60 the
		// fictitious 1900-02-29, so serial 61 is 1900-03-01.
		{"serial_1_is_1900_01_01", 1, false, "1900-01-01", true},
		{"serial_59_is_1900_02_28", 59, false, "1900-02-28", true},
		{"serial_61_is_1900_03_01", 61, false, "1900-03-01", true},
		{"last_excel_day", 2958465, false, "9999-12-31", true},
		// 1904 system: serial 0 is 1904-01-01; serials are 1462 less.
		{"date1904_sample", 44628, true, "2026-03-09", true},
		{"date1904_serial_1", 1, true, "1904-01-02", true},
		{"zero", 0, false, "", false},
		{"negative", -1, false, "", false},
		{"beyond_9999", 2958466, false, "", false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := core.DateFromExcelSerial(tc.serial, tc.d1904)
			if !tc.ok {
				if err == nil {
					t.Fatalf("DateFromExcelSerial(%v) = %s, want an error", tc.serial, got)
				}
				return
			}
			if err != nil {
				t.Fatalf("DateFromExcelSerial(%v): %v", tc.serial, err)
			}
			if got.String() != tc.want {
				t.Fatalf("DateFromExcelSerial(%v, %v) = %s, want %s", tc.serial, tc.d1904, got, tc.want)
			}
		})
	}
}

func TestPeriod(t *testing.T) {
	tests := []struct {
		name        string
		in          string
		first, last string
	}{
		{"march", "2026-03", "2026-03-01", "2026-03-31"},
		{"february_common_year", "2026-02", "2026-02-01", "2026-02-28"},
		{"february_leap_year", "2024-02", "2024-02-01", "2024-02-29"},
		{"april", "2026-04", "2026-04-01", "2026-04-30"},
		{"december", "2026-12", "2026-12-01", "2026-12-31"},
		{"january", "2026-01", "2026-01-01", "2026-01-31"},
		{"surrounding_space", " 2026-03 ", "2026-03-01", "2026-03-31"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := core.ParsePeriod(tc.in)
			if err != nil {
				t.Fatalf("ParsePeriod(%q): %v", tc.in, err)
			}
			if got := p.First().String(); got != tc.first {
				t.Errorf("First() = %s, want %s", got, tc.first)
			}
			if got := p.Last().String(); got != tc.last {
				t.Errorf("Last() = %s, want %s", got, tc.last)
			}
			if p.String() != tc.first[:7] {
				t.Errorf("String() = %q, want %q", p.String(), tc.first[:7])
			}
		})
	}
}

func TestParsePeriodInvalid(t *testing.T) {
	for _, in := range []string{"", "2026-13", "2026-00", "2026-3", "26-03", "2026/03", "2026-03-01", "March 2026", "abcd-ef", "2026-+3", "+026-03", "-026-03", "0000-01"} {
		t.Run(in, func(t *testing.T) {
			if p, err := core.ParsePeriod(in); err == nil {
				t.Fatalf("ParsePeriod(%q) = %v, want an error", in, p)
			}
		})
	}
}

func TestPeriodContains(t *testing.T) {
	p, err := core.ParsePeriod("2026-02")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		date string
		want bool
	}{
		{"2026-01-31", false},
		{"2026-02-01", true},
		{"2026-02-14", true},
		{"2026-02-28", true},
		{"2026-03-01", false},
		{"2025-02-14", false},
	}
	for _, tc := range tests {
		t.Run(tc.date, func(t *testing.T) {
			d, err := core.ParseDate(tc.date)
			if err != nil {
				t.Fatal(err)
			}
			if got := p.Contains(d); got != tc.want {
				t.Fatalf("2026-02 contains %s = %v, want %v", tc.date, got, tc.want)
			}
		})
	}
	if (core.Period{}).String() != "" || !(core.Period{}).IsZero() {
		t.Error("the zero Period must be unset and print as empty")
	}
}
