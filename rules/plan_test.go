package rules

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"

	"github.com/pelletier/go-toml/v2"

	"carepay/core"
)

// TestReferencePlansMatchConfig keeps the plans the tests are written
// against identical to the three plans config.toml ships.
func TestReferencePlansMatchConfig(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	var cfg struct {
		Plans map[string]*Plan `toml:"plans"`
	}
	if err := toml.Unmarshal(data, &cfg); err != nil {
		t.Fatalf("reading config.toml: %v", err)
	}
	want := referencePlans()
	if len(cfg.Plans) != len(want) {
		t.Errorf("config.toml has %d plans, the tests know %d", len(cfg.Plans), len(want))
	}
	for id, w := range want {
		got := cfg.Plans[id]
		if got == nil {
			t.Errorf("config.toml has no plan %s", id)
			continue
		}
		got.ID = id
		if !reflect.DeepEqual(got, w) {
			t.Errorf("plan %s in config.toml:\n%+v\ntests use:\n%+v", id, *got, *w)
		}
	}
}

func TestReferencePlansValid(t *testing.T) {
	for id, p := range referencePlans() {
		if errs := p.Validate(); len(errs) > 0 {
			t.Errorf("%s: %v", id, errs)
		}
	}
}

// TestPlanValidate: each broken setting is reported once, under its key.
func TestPlanValidate(t *testing.T) {
	cases := []struct {
		name string
		plan func() *Plan
		edit func(p *Plan)
		keys []string
	}{
		{"unknown_kind", brightBackup, func(p *Plan) { p.Kind = "weekly" }, []string{"kind"}},
		{"missing_kind", jitcInvoice, func(p *Plan) { p.Kind = "" }, []string{"kind"}},
		{"tiers_out_of_order", brightBackup, func(p *Plan) { p.Tiers[1], p.Tiers[2] = p.Tiers[2], p.Tiers[1] }, []string{"tiers[2].from"}},
		{"tiers_with_same_start", pinchHourly, func(p *Plan) { p.Tiers[2].From = p.Tiers[1].From }, []string{"tiers[2].from"}},
		{"first_tier_not_starting_at_0", pinchHourly, func(p *Plan) { p.Tiers[0].From = 100 }, []string{"tiers[0].from"}},
		{"negative_day_limit", jitcInvoice, func(p *Plan) { p.DayLimit = -1 }, []string{"day_limit"}},
		{"negative_days_after_period", brightBackup, func(p *Plan) { p.DaysAfterPeriod = -60 }, []string{"days_after_period"}},
		{"negative_min_hours", pinchHourly, func(p *Plan) { p.MinHours = -4 }, []string{"min_hours"}},
		{"negative_daily_copay", brightBackup, func(p *Plan) { p.Tiers[0].DailyCopay = -1000 }, []string{"tiers[0].daily_copay"}},
		{"negative_hourly_rate", pinchHourly, func(p *Plan) { p.Tiers[1].HourlyRate = -600 }, []string{"tiers[1].hourly_rate"}},
		{"negative_annual_cap", pinchHourly, func(p *Plan) { p.AnnualCap = -500000 }, []string{"annual_cap"}},
		{"negative_daily_max", jitcInvoice, func(p *Plan) { p.DailyMax = -8000 }, []string{"daily_max"}},
		{"subsidy_over_100_percent", jitcInvoice, func(p *Plan) { p.SubsidyPercent = 120 }, []string{"subsidy_percent"}},
		{"family_max_below_copay", brightBackup, func(p *Plan) { p.Tiers[1].FamilyDailyMax = 1000 }, []string{"tiers[1].family_daily_max"}},
		{"unknown_care_type", brightBackup, func(p *Plan) { p.CareTypes = append(p.CareTypes, "dog_walking") }, []string{"care_types"}},
		{"year_start_month_13", jitcInvoice, func(p *Plan) { p.YearStartMonth = 13 }, []string{"year_start_month"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := tc.plan()
			tc.edit(p)
			var keys []string
			for _, err := range p.Validate() {
				var fe *FieldError
				if !errors.As(err, &fe) {
					t.Fatalf("error %v is not a *FieldError", err)
				}
				keys = append(keys, fe.Key)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, tc.keys) {
				t.Errorf("errors for keys %v, want %v", keys, tc.keys)
			}
		})
	}
}

func TestTierFor(t *testing.T) {
	cases := []struct {
		name   string
		plan   *Plan
		income core.Cents
		want   int
	}{
		// bright-backup: under 60,000 / 60,000 to under 150,000 / 150,000 and over
		{"bright_0", brightBackup(), 0, 0},
		{"bright_59999.99", brightBackup(), 5999999, 0},
		{"bright_60000", brightBackup(), 6000000, 1},
		{"bright_149999.99", brightBackup(), 14999999, 1},
		{"bright_150000", brightBackup(), 15000000, 2},
		// pinch-hourly: up to 39,999.99 / 40,000 to 75,000 / over 75,000
		{"pinch_39999.99", pinchHourly(), 3999999, 0},
		{"pinch_40000", pinchHourly(), 4000000, 1},
		{"pinch_75000", pinchHourly(), 7500000, 1},
		{"pinch_75000.01", pinchHourly(), 7500001, 2},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.plan.TierFor(tc.income); got != tc.want {
				t.Errorf("TierFor(%s) = tier index %d, want %d", tc.income, got, tc.want)
			}
		})
	}
}

func TestYearOfAndYearEnd(t *testing.T) {
	cases := []struct {
		name       string
		startMonth int
		date       string
		year       int    // plan year of date
		end        string // last day of that plan year
	}{
		{"calendar_first_day", 1, "2026-01-01", 2026, "2026-12-31"},
		{"calendar_last_day", 1, "2026-12-31", 2026, "2026-12-31"},
		{"unset_month_is_calendar", 0, "2026-03-02", 2026, "2026-12-31"},
		{"july_start_day_before", 7, "2026-06-30", 2025, "2026-06-30"},
		{"july_start_first_day", 7, "2026-07-01", 2026, "2027-06-30"},
		{"march_start_ends_on_leap_day", 3, "2027-03-01", 2027, "2028-02-29"},
		{"march_start_ends_february_28", 3, "2028-03-01", 2028, "2029-02-28"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := jitcInvoice()
			p.YearStartMonth = tc.startMonth
			y := p.YearOf(d(tc.date))
			if y != tc.year {
				t.Errorf("YearOf(%s) = %d, want %d", tc.date, y, tc.year)
			}
			if end := p.YearEnd(tc.year); end != d(tc.end) {
				t.Errorf("YearEnd(%d) = %s, want %s", tc.year, end, tc.end)
			}
		})
	}
}
