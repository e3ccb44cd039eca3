package rules

import (
	"testing"

	"carepay/core"
)

// bl is a bright-backup statement line of employee E-B with provider P1.
// March 2026: the 2nd is a Monday, the 7th a Saturday, the 8th a Sunday.
func bl(dep, care, date, hours, charge string, opts ...lineOpt) *core.Line {
	return stmt("S-B", "E-B", dep, "P1", care, date, hours, charge, opts...)
}

// TestCopay covers bright-backup (SPEC.md "bright-backup"): copays by tier,
// the family maximum, in-home hours, 20 days per child, the child's age and
// registration, work days and the statement deadline. E-B earns 85,000.00
// (tier 2: 20.00 a child a day, family maximum 50.00, 8.00 an hour) unless
// a case says otherwise.
func TestCopay(t *testing.T) {
	runScenarios(t, []scenario{
		// Tiers: under 60,000 / 60,000 to under 150,000 / 150,000 and over.
		{
			name:  "tier_edge_59999.99_copay_10",
			setup: func(w *world) { w.employee("E-B").AnnualIncome = 5999999 },
			steps: []step{{
				line: bl("K1", "center", "2026-03-02", "", "150.00"),
				// tier 1 (59,999.99 < 60,000): copay 10.00; family max 25.00, 0.00 used -> 10.00; employer 150.00-10.00 = 140.00
				want: approved(core.Cents(1000), core.Cents(14000)).paidTo("provider P1"),
			}},
		},
		{
			name:  "tier_edge_60000_copay_20",
			setup: func(w *world) { w.employee("E-B").AnnualIncome = 6000000 },
			steps: []step{{
				line: bl("K1", "center", "2026-03-02", "", "150.00"),
				// tier 2 (60,000.00 >= 60,000): copay 20.00; family max 50.00, 0.00 used -> 20.00; employer 150.00-20.00 = 130.00
				want: approved(core.Cents(2000), core.Cents(13000)),
			}},
		},
		{
			name:  "tier_edge_149999.99_copay_20",
			setup: func(w *world) { w.employee("E-B").AnnualIncome = 14999999 },
			steps: []step{{
				line: bl("K1", "family_child_care", "2026-03-02", "", "150.00"),
				// tier 2 (149,999.99 < 150,000): copay 20.00; employer 150.00-20.00 = 130.00
				want: approved(core.Cents(2000), core.Cents(13000)),
			}},
		},
		{
			name:  "tier_edge_150000_copay_40",
			setup: func(w *world) { w.employee("E-B").AnnualIncome = 15000000 },
			steps: []step{{
				line: bl("K1", "family_child_care", "2026-03-02", "", "150.00"),
				// tier 3 (150,000.00 >= 150,000): copay 40.00; family max 100.00, 0.00 used -> 40.00; employer 150.00-40.00 = 110.00
				want: approved(core.Cents(4000), core.Cents(11000)),
			}},
		},
		{
			name: "copay_above_charge_limited_to_charge",
			steps: []step{{
				line: bl("K1", "center", "2026-03-02", "", "15.00"),
				// tier 2 copay 20.00 > charge 15.00: employee share never above the charge -> 15.00; employer 15.00-15.00 = 0.00
				want: approved(core.Cents(1500), core.Cents(0)),
			}},
		},

		// Family maximum per day, copays allocated in line order.
		{
			name: "family_max_reached_on_third_child",
			steps: []step{
				// tier 2: copay 20; family max 50, 0 used -> 20; employer 150.00-20.00 = 130.00
				{line: bl("K1", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				// copay 20; family max 50, 20 used -> room 30 -> 20; employer 150.00-20.00 = 130.00
				{line: bl("K2", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				// copay 20; family max 50, 40 used -> room 10 -> 10; employer 150.00-10.00 = 140.00
				{line: bl("K3", "family_child_care", "2026-03-02", "", "150.00"), want: approved(core.Cents(1000), core.Cents(14000))},
				// copay 20; family max 50, 50 used -> room 0 -> 0; employer 150.00-0.00 = 150.00
				{line: bl("K4", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(0), core.Cents(15000))},
				// next day: family max starts again, 0 used -> 20; employer 130.00
				{line: bl("K3", "center", "2026-03-03", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
			},
		},
		{
			name:  "family_max_tier1_third_child_pays_5",
			setup: func(w *world) { w.employee("E-B").AnnualIncome = 3000000 },
			steps: []step{
				// tier 1 (30,000 < 60,000): copay 10; family max 25, 0 used -> 10; employer 120.00-10.00 = 110.00
				{line: bl("K1", "center", "2026-03-02", "", "120.00"), want: approved(core.Cents(1000), core.Cents(11000))},
				// 10 used, room 15 -> 10; employer 110.00
				{line: bl("K2", "center", "2026-03-02", "", "120.00"), want: approved(core.Cents(1000), core.Cents(11000))},
				// 20 used, room 5 -> 5; employer 120.00-5.00 = 115.00
				{line: bl("K3", "center", "2026-03-02", "", "120.00"), want: approved(core.Cents(500), core.Cents(11500))},
			},
		},
		{
			name:  "family_max_tier3_third_child_pays_20",
			setup: func(w *world) { w.employee("E-B").AnnualIncome = 20000000 },
			steps: []step{
				// tier 3 (200,000 >= 150,000): copay 40; family max 100, 0 used -> 40; employer 200.00-40.00 = 160.00
				{line: bl("K1", "center", "2026-03-02", "", "200.00"), want: approved(core.Cents(4000), core.Cents(16000))},
				// 40 used, room 60 -> 40; employer 160.00
				{line: bl("K2", "center", "2026-03-02", "", "200.00"), want: approved(core.Cents(4000), core.Cents(16000))},
				// 80 used, room 20 -> 20; employer 200.00-20.00 = 180.00
				{line: bl("K3", "center", "2026-03-02", "", "200.00"), want: approved(core.Cents(2000), core.Cents(18000))},
			},
		},
		{
			name: "family_max_counts_copays_of_earlier_runs",
			// an earlier run paid K1 on 2026-03-02 with a copay of 20.00
			prior: []core.PriorLine{prior(bright, "E-B", "K1", "P1", "center", "2026-03-02", 2000, 13000, 0)},
			steps: []step{
				// 20 used, room 30 -> 20; employer 130.00
				{line: bl("K2", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				// 40 used, room 10 -> 10; employer 140.00
				{line: bl("K3", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(1000), core.Cents(14000))},
			},
		},
		{
			name: "family_max_skips_rejected_line",
			steps: []step{
				// K9 is not registered to E-B: DEPENDENT_UNKNOWN, consumes no copay
				{line: bl("K9", "center", "2026-03-02", "", "150.00"), want: rejected(core.Cents(15000), core.DependentUnknown)},
				// 0 used -> 20; 20 used -> 20; 40 used, room 10 -> 10
				{line: bl("K1", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				{line: bl("K2", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				{line: bl("K3", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(1000), core.Cents(14000))},
			},
		},
		{
			name: "family_max_not_shared_by_in_home_copays",
			steps: []step{
				// in-home: 8.00 x 8h = 64.00; employer 200.00-64.00 = 136.00
				{line: bl("K1", "in_home", "2026-03-02", "8", "200.00"), want: approved(core.Cents(6400), core.Cents(13600))},
				// center: the family maximum counts center and family child care copays only: 0 used -> 20; employer 130.00
				{line: bl("K2", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
			},
		},

		// In-home care: copay per hour, at least 4 billed, at most 10 covered.
		{
			name: "in_home_tier2_8_per_hour",
			steps: []step{{
				line: bl("K1", "in_home", "2026-03-02", "8", "200.00"),
				// tier 2 copay 8.00/h x 8h = 64.00; employer 200.00-64.00 = 136.00
				want: approved(core.Cents(6400), core.Cents(13600)),
			}},
		},
		{
			name:  "in_home_tier1_6_per_hour",
			setup: func(w *world) { w.employee("E-B").AnnualIncome = 5999999 },
			steps: []step{{
				line: bl("K1", "in_home", "2026-03-02", "5", "150.00"),
				// tier 1 copay 6.00/h x 5h = 30.00; employer 150.00-30.00 = 120.00
				want: approved(core.Cents(3000), core.Cents(12000)),
			}},
		},
		{
			name:  "in_home_tier3_10_per_hour",
			setup: func(w *world) { w.employee("E-B").AnnualIncome = 15000000 },
			steps: []step{{
				line: bl("K1", "in_home", "2026-03-02", "5", "150.00"),
				// tier 3 copay 10.00/h x 5h = 50.00; employer 150.00-50.00 = 100.00
				want: approved(core.Cents(5000), core.Cents(10000)),
			}},
		},
		{
			name: "in_home_under_4_hours_billed_as_4",
			steps: []step{{
				line: bl("K1", "in_home", "2026-03-02", "2.5", "100.00"),
				// 2.5h raised to 4h: 8.00 x 4 = 32.00; employer 100.00-32.00 = 68.00
				want: approved(core.Cents(3200), core.Cents(6800)),
			}},
		},
		{
			name: "in_home_10_hours_not_capped",
			steps: []step{{
				line: bl("K1", "in_home", "2026-03-02", "10", "250.00"),
				// 10h is the most covered, none uncovered: 8.00 x 10 = 80.00; employer 250.00-80.00 = 170.00
				want: approved(core.Cents(8000), core.Cents(17000)),
			}},
		},
		{
			name: "in_home_14_hours_capped_at_10",
			steps: []step{{
				line: bl("K1", "in_home", "2026-03-02", "14", "350.00"),
				// covered 10h: copay 8.00 x 10 = 80.00; uncovered 350.00 x 4/14 = 100.00;
				// employee 80.00+100.00 = 180.00; employer 350.00-180.00 = 170.00; HOURS_CAPPED -> partial
				want: partial(core.Cents(18000), core.Cents(17000), core.HoursCapped),
			}},
		},
		{
			name: "in_home_uncovered_share_rounds_half_up",
			steps: []step{{
				line: bl("K1", "in_home", "2026-03-02", "12", "300.03"),
				// copay 8.00 x 10 = 80.00; uncovered 300.03 x 2/12 = 50.005 -> 50.01 (half up);
				// employee 80.00+50.01 = 130.01; employer 300.03-130.01 = 170.02
				want: partial(core.Cents(13001), core.Cents(17002), core.HoursCapped),
			}},
		},
		{
			name: "in_home_24_hours_allowed_and_capped",
			steps: []step{{
				line: bl("K1", "in_home", "2026-03-02", "24", "480.00"),
				// 24h is valid; covered 10: copay 80.00; uncovered 480.00 x 14/24 = 280.00;
				// employee 360.00; employer 480.00-360.00 = 120.00
				want: partial(core.Cents(36000), core.Cents(12000), core.HoursCapped),
			}},
		},
		{
			name: "in_home_copay_above_charge_limited_to_charge",
			steps: []step{{
				line: bl("K1", "in_home", "2026-03-02", "4", "20.00"),
				// copay 8.00 x 4 = 32.00 > charge 20.00 -> employee 20.00; employer 0.00
				want: approved(core.Cents(2000), core.Cents(0)),
			}},
		},
		{
			name: "in_home_copay_on_first_line_of_date_only",
			steps: []step{
				// first in-home line of E-B on 03-02: 8.00 x 8 = 64.00; employer 200.00-64.00 = 136.00
				{line: bl("K1", "in_home", "2026-03-02", "8", "200.00"), want: approved(core.Cents(6400), core.Cents(13600))},
				// second in-home line on 03-02: no copay -> employee 0.00; employer 150.00
				{line: bl("K2", "in_home", "2026-03-02", "6", "150.00"), want: approved(core.Cents(0), core.Cents(15000))},
				// another date: copay again, 8.00 x 6 = 48.00; employer 150.00-48.00 = 102.00
				{line: bl("K2", "in_home", "2026-03-03", "6", "150.00"), want: approved(core.Cents(4800), core.Cents(10200))},
			},
		},
		{
			name: "in_home_second_line_capped_bears_only_uncovered_share",
			steps: []step{
				// 8.00 x 8 = 64.00; employer 136.00
				{line: bl("K1", "in_home", "2026-03-02", "8", "200.00"), want: approved(core.Cents(6400), core.Cents(13600))},
				// second line: copay 0; 12h, covered 10, uncovered 300.00 x 2/12 = 50.00; employee 50.00; employer 250.00
				{line: bl("K2", "in_home", "2026-03-02", "12", "300.00"), want: partial(core.Cents(5000), core.Cents(25000), core.HoursCapped)},
			},
		},
		{
			name: "in_home_copay_moves_past_rejected_first_line",
			steps: []step{
				// K9 unknown: rejected, consumes nothing
				{line: bl("K9", "in_home", "2026-03-02", "8", "200.00"), want: rejected(core.Cents(20000), core.DependentUnknown)},
				// first in-home line that counts: 8.00 x 8 = 64.00; employer 136.00
				{line: bl("K1", "in_home", "2026-03-02", "8", "200.00"), want: approved(core.Cents(6400), core.Cents(13600))},
			},
		},
		{
			name:  "in_home_copay_charged_in_earlier_run",
			prior: []core.PriorLine{prior(bright, "E-B", "K1", "P1", "in_home", "2026-03-02", 6400, 13600, 0)},
			steps: []step{{
				line: bl("K2", "in_home", "2026-03-02", "8", "200.00"),
				// K1's in-home line of 03-02 carried the copay in an earlier run: 0.00 here; employer 200.00
				want: approved(core.Cents(0), core.Cents(20000)),
			}},
		},

		// 20 days per child per plan year.
		{
			name:  "day_limit_20th_day_approved_21st_rejected",
			prior: priorDays(bright, "E-B", "K1", "center", "2026-01-05", 19, 2000, 13000, 0),
			steps: []step{
				// 19 used -> day 20: copay 20; employer 130.00
				{line: bl("K1", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				// 20 used of 20 -> DAY_LIMIT, rejected: employee 150.00, employer 0
				{line: bl("K1", "center", "2026-03-03", "", "150.00"), want: rejected(core.Cents(15000), core.DayLimit)},
				// K2 has its own 20 days: day 1, copay 20; employer 130.00
				{line: bl("K2", "center", "2026-03-03", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
			},
		},
		{
			name: "day_limit_per_child_across_both_parents",
			// K1 used 10 days with E-B and 9 with E-B2: 19 days
			prior: append(priorDays(bright, "E-B", "K1", "center", "2026-01-05", 10, 2000, 13000, 0),
				priorDays(bright, "E-B2", "K1", "center", "2026-02-02", 9, 1000, 14000, 0)...),
			steps: []step{
				// day 20 of K1, claimed by E-B2 (45,000: tier 1): copay 10; employer 150.00-10.00 = 140.00
				{line: stmt("S-B2", "E-B2", "K1", "P1", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(1000), core.Cents(14000))},
				// K1 has used 20 days whatever the parent -> DAY_LIMIT
				{line: bl("K1", "center", "2026-03-03", "", "150.00"), want: rejected(core.Cents(15000), core.DayLimit)},
				{line: stmt("S-B2", "E-B2", "K1", "P1", "center", "2026-03-04", "", "150.00"), want: rejected(core.Cents(15000), core.DayLimit)},
			},
		},
		{
			name:  "day_limit_counts_in_home_and_center_days",
			prior: priorDays(bright, "E-B", "K1", "center", "2026-01-05", 19, 2000, 13000, 0),
			steps: []step{
				// in-home day is day 20: 8.00 x 8 = 64.00; employer 136.00
				{line: bl("K1", "in_home", "2026-03-02", "8", "200.00"), want: approved(core.Cents(6400), core.Cents(13600))},
				// 20 used -> DAY_LIMIT
				{line: bl("K1", "center", "2026-03-03", "", "150.00"), want: rejected(core.Cents(15000), core.DayLimit)},
			},
		},
		{
			name:  "day_limit_resets_with_plan_year",
			prior: priorDays(bright, "E-B", "K1", "center", "2025-01-06", 20, 2000, 13000, 0),
			steps: []step{
				// Monday 2025-12-29, plan year 2025: 20 of 20 used -> DAY_LIMIT
				{line: bl("K1", "center", "2025-12-29", "", "150.00"), want: rejected(core.Cents(15000), core.DayLimit)},
				// Monday 2026-01-05, plan year 2026: day 1 -> copay 20; employer 130.00
				{line: bl("K1", "center", "2026-01-05", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
			},
		},
		{
			name:  "day_limit_rejected_line_uses_no_day",
			prior: priorDays(bright, "E-B", "K1", "center", "2026-01-05", 19, 2000, 13000, 0),
			steps: []step{
				// Saturday: NOT_WORKDAY, uses no day
				{line: bl("K1", "center", "2026-03-07", "", "150.00"), want: rejected(core.Cents(15000), core.NotWorkday)},
				// Monday: day 20 -> copay 20; employer 130.00
				{line: bl("K1", "center", "2026-03-09", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				{line: bl("K1", "center", "2026-03-10", "", "150.00"), want: rejected(core.Cents(15000), core.DayLimit)},
			},
		},

		// The child: at least 6 weeks old, not yet 13, a child, registered.
		{
			name: "six_weeks_old_on_service_date_eligible",
			setup: func(w *world) {
				w.addDependent("E-B", "K5", "child", d("2026-01-19")).RegisteredOn = d("2026-01-30")
			},
			steps: []step{{
				// born 01-19: +12 days = 01-31, +28 = 02-28 (40), +2 = 03-02 (42 days = 6 weeks) -> eligible; copay 20; employer 130.00
				line: bl("K5", "center", "2026-03-02", "", "150.00"),
				want: approved(core.Cents(2000), core.Cents(13000)),
			}},
		},
		{
			name: "one_day_short_of_six_weeks_ineligible",
			setup: func(w *world) {
				w.addDependent("E-B", "K5", "child", d("2026-01-20")).RegisteredOn = d("2026-01-30")
			},
			steps: []step{{
				// born 01-20: 6 weeks old on 03-03; 03-02 is day 41 -> DEPENDENT_INELIGIBLE
				line: bl("K5", "center", "2026-03-02", "", "150.00"),
				want: rejected(core.Cents(15000), core.DependentIneligible),
			}},
		},
		{
			name:  "day_before_13th_birthday_eligible",
			setup: func(w *world) { w.addDependent("E-B", "K5", "child", d("2013-03-03")) },
			steps: []step{{
				// turns 13 on 2026-03-03; on 03-02 still 12 -> copay 20; employer 130.00
				line: bl("K5", "center", "2026-03-02", "", "150.00"),
				want: approved(core.Cents(2000), core.Cents(13000)),
			}},
		},
		{
			name:  "13th_birthday_ineligible",
			setup: func(w *world) { w.addDependent("E-B", "K5", "child", d("2013-03-02")) },
			steps: []step{{
				// turns 13 on 2026-03-02 -> DEPENDENT_INELIGIBLE
				line: bl("K5", "center", "2026-03-02", "", "150.00"),
				want: rejected(core.Cents(15000), core.DependentIneligible),
			}},
		},
		{
			name: "spouse_ineligible_even_if_incapable",
			setup: func(w *world) {
				w.addDependent("E-B", "S1", "spouse", d("1985-04-04")).IncapableOfSelf = true
			},
			steps: []step{{
				line: bl("S1", "in_home", "2026-03-02", "8", "200.00"),
				want: rejected(core.Cents(20000), core.DependentIneligible),
			}},
		},
		{
			name:  "registered_on_service_date",
			setup: func(w *world) { w.dependent("E-B", "K1").RegisteredOn = d("2026-03-02") },
			steps: []step{{
				line: bl("K1", "center", "2026-03-02", "", "150.00"),
				want: approved(core.Cents(2000), core.Cents(13000)),
			}},
		},
		{
			name:  "registered_day_after_service_not_registered",
			setup: func(w *world) { w.dependent("E-B", "K1").RegisteredOn = d("2026-03-03") },
			steps: []step{{
				line: bl("K1", "center", "2026-03-02", "", "150.00"),
				want: rejected(core.Cents(15000), core.DependentNotRegistered),
			}},
		},
		{
			name:  "no_registered_on_not_registered",
			setup: func(w *world) { w.dependent("E-B", "K1").RegisteredOn = 0 },
			steps: []step{{
				line: bl("K1", "center", "2026-03-02", "", "150.00"),
				want: rejected(core.Cents(15000), core.DependentNotRegistered),
			}},
		},
		{
			name: "dependent_of_other_parent_unknown",
			steps: []step{{
				// K2 is registered to E-B only
				line: stmt("S-B2", "E-B2", "K2", "P1", "center", "2026-03-02", "", "150.00"),
				want: rejected(core.Cents(15000), core.DependentUnknown),
			}},
		},

		// Work days.
		{
			name: "saturday_not_workday",
			steps: []step{
				{line: bl("K1", "center", "2026-03-07", "", "150.00"), want: rejected(core.Cents(15000), core.NotWorkday)},
				{line: bl("K2", "in_home", "2026-03-08", "8", "200.00"), want: rejected(core.Cents(20000), core.NotWorkday)},
				// Friday is a work day: copay 20; employer 130.00
				{line: bl("K1", "center", "2026-03-06", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
			},
		},
		{
			name:  "weekend_covered_on_military_leave",
			setup: func(w *world) { w.employee("E-B").LeaveStatus = "military" },
			steps: []step{
				// Saturday, employee on military leave: copay 20; employer 130.00
				{line: bl("K1", "center", "2026-03-07", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				// Sunday in-home: 8.00 x 8 = 64.00; employer 136.00
				{line: bl("K2", "in_home", "2026-03-08", "8", "200.00"), want: approved(core.Cents(6400), core.Cents(13600))},
			},
		},

		// Statement deadline: 60 days after the end of the period.
		{
			name: "statement_received_day_60_on_time",
			steps: []step{{
				// period 2026-03 ends 03-31; +30 = 04-30, +60 = 05-30
				line: bl("K1", "center", "2026-03-02", "", "150.00", received("2026-05-30")),
				want: approved(core.Cents(2000), core.Cents(13000)),
			}},
		},
		{
			name: "statement_received_day_61_late",
			steps: []step{{
				line: bl("K1", "center", "2026-03-02", "", "150.00", received("2026-05-31")),
				want: rejected(core.Cents(15000), core.Late),
			}},
		},
		{
			name: "february_statement_deadline",
			steps: []step{
				// period 2026-02 ends 02-28; +31 = 03-31, +60 = 04-29: on time
				{line: stmt("S-FEB-1", "E-B", "K1", "P1", "center", "2026-02-02", "", "150.00", received("2026-04-29")), want: approved(core.Cents(2000), core.Cents(13000))},
				// 04-30 is day 61: LATE
				{line: stmt("S-FEB-2", "E-B", "K2", "P1", "center", "2026-02-02", "", "150.00", received("2026-04-30")), want: rejected(core.Cents(15000), core.Late)},
			},
		},

		// Provider and duplicates.
		{
			name: "statement_provider_unknown",
			steps: []step{{
				line: stmt("S-B", "E-B", "K1", "P9", "center", "2026-03-02", "", "150.00"),
				want: rejected(core.Cents(15000), core.ProviderUnknown),
			}},
		},
		{
			name: "duplicate_in_same_run",
			steps: []step{
				{line: bl("K1", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				// same employee, dependent, provider and date on another statement
				{line: stmt("S-B-2", "E-B", "K1", "P1", "center", "2026-03-02", "", "150.00"), want: rejected(core.Cents(15000), core.Duplicate)},
			},
		},
		{
			name:  "duplicate_of_earlier_run",
			prior: []core.PriorLine{prior(bright, "E-B", "K1", "P1", "center", "2026-03-02", 2000, 13000, 0)},
			steps: []step{{
				line: bl("K1", "center", "2026-03-02", "", "150.00"),
				want: rejected(core.Cents(15000), core.Duplicate),
			}},
		},
		{
			name: "not_duplicate_when_earlier_run_rejected_it",
			prior: []core.PriorLine{{
				PlanID: bright, EmployeeID: "E-B", DependentID: "K1", ProviderID: "P1", CareType: "center",
				ServiceDate: d("2026-03-02"), Status: core.Rejected, EmployeeShare: 15000,
			}},
			steps: []step{{
				line: bl("K1", "center", "2026-03-02", "", "150.00"),
				want: approved(core.Cents(2000), core.Cents(13000)),
			}},
		},
		{
			name: "not_duplicate_when_earlier_line_of_run_rejected",
			steps: []step{
				// 0 hours: INVALID_HOURS
				{line: bl("K1", "in_home", "2026-03-02", "0", "200.00"), want: rejected(core.Cents(20000), core.InvalidHours)},
				// the corrected row: 8.00 x 8 = 64.00; employer 136.00
				{line: stmt("S-B-2", "E-B", "K1", "P1", "in_home", "2026-03-02", "8", "200.00"), want: approved(core.Cents(6400), core.Cents(13600))},
			},
		},
	})
}
