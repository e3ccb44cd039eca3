package core_test

import (
	"testing"

	"carepay/core"
)

func TestParseHours(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want core.Hours
		ok   bool
	}{
		{"whole", "4", 400, true},
		{"half", "4.5", 450, true},
		{"quarter", "10.25", 1025, true},
		{"two_decimals", "4.50", 450, true},
		{"trailing_zeros", "4.500", 450, true},
		{"leading_dot", ".5", 50, true},
		{"trailing_dot", "8.", 800, true},
		{"zero", "0", 0, true},
		{"surrounding_space", " 12 ", 1200, true},
		{"twenty_four", "24", 2400, true},
		{"three_decimals", "4.333", 0, false},
		{"letters", "abc", 0, false},
		{"empty", "", 0, false},
		{"dot_only", ".", 0, false},
		{"negative", "-1", 0, false},
		{"plus", "+1", 0, false},
		{"comma_decimal", "4,5", 0, false},
		{"two_dots", "4.5.1", 0, false},
		{"with_unit", "4h", 0, false},
		{"hh_mm", "4:30", 0, false},
		{"too_many", "1000000", 0, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := core.ParseHours(tc.in)
			if tc.ok {
				if err != nil {
					t.Fatalf("ParseHours(%q): unexpected error %v", tc.in, err)
				}
				if got != tc.want {
					t.Fatalf("ParseHours(%q) = %d, want %d", tc.in, got, tc.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("ParseHours(%q) = %d, want an error", tc.in, got)
			}
		})
	}
}

func TestHoursString(t *testing.T) {
	tests := []struct {
		in   core.Hours
		want string
	}{
		{0, "0.00"}, {5, "0.05"}, {450, "4.50"}, {1025, "10.25"}, {core.HoursOf(12), "12.00"}, {-450, "-4.50"}, {-5, "-0.05"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := tc.in.String(); got != tc.want {
				t.Fatalf("Hours(%d).String() = %q, want %q", int64(tc.in), got, tc.want)
			}
		})
	}
}

func TestHoursTimes(t *testing.T) {
	tests := []struct {
		name  string
		hours string
		rate  core.Cents
		want  core.Cents
	}{
		// 4.5 h x 14.00 = 63.00
		{"exact", "4.5", 1400, 6300},
		// 12 h x 8.00 = 96.00
		{"whole_hours", "12", 800, 9600},
		// 0.25 h x 8.33 = 2.0825 -> 2.08
		{"rounds_down", "0.25", 833, 208},
		// 0.5 h x 10.01 = 5.005 -> 5.01 (half up)
		{"half_cent_rounds_up", "0.5", 1001, 501},
		// 10.25 h x 6.00 = 61.50
		{"quarter_hours", "10.25", 600, 6150},
		// 0.75 h x 0.07 = 0.0525 -> 0.05
		{"tiny", "0.75", 7, 5},
		// 0.75 h x 0.10 = 0.075 -> 0.08
		{"tiny_half_up", "0.75", 10, 8},
		{"zero_hours", "0", 1400, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h, err := core.ParseHours(tc.hours)
			if err != nil {
				t.Fatal(err)
			}
			if got := h.Times(tc.rate); got != tc.want {
				t.Fatalf("%s h x %s = %s, want %s", tc.hours, tc.rate, got, tc.want)
			}
		})
	}
}
