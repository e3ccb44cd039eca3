package rules

import (
	"testing"

	"carepay/core"
)

// pl is a pinch-hourly statement line of employee E-P with provider P1.
func pl(dep, date, hours, charge string, opts ...lineOpt) *core.Line {
	return stmt("S-P", "E-P", dep, "P1", "in_home", date, hours, charge, opts...)
}

// ninePlacements is an earlier run's use of 9 of E-P's 10 placements of
// 2026: 4-hour rows charged 56.00 (4 x 14.00), 32.00 (8.00 x 4) reimbursed
// each, 9 x 32.00 = 288.00 in all.
func ninePlacements() []core.PriorLine {
	return priorDays(pinch, "E-P", "C1", "in_home", "2026-01-05", 9, 2400, 3200, 1)
}

// TestHourly covers pinch-hourly (SPEC.md "pinch-hourly"): rates by tier,
// placements, the combined 5,000 cap, eligibility and approval. E-P earns
// 39,999.99 (8.00 an hour) and has no other benefits unless a case says
// otherwise; the provider charges 14.00 an hour. Statement S-P is approved
// (its lines are paid, not held) unless a case says otherwise.
func TestHourly(t *testing.T) {
	approvedSP := []string{"S-P"}
	runScenarios(t, []scenario{
		// Rates: up to 39,999.99 pays 8; 40,000 to 75,000 pays 6; over 75,000 pays 4.
		{
			name: "tier_edge_39999.99_rate_8", approved: approvedSP,
			steps: []step{{
				line: pl("C1", "2026-03-02", "6", "84.00"),
				// 8.00 x 6h = 48.00; employee 84.00-48.00 = 36.00; paid to the employee
				want: approved(core.Cents(3600), core.Cents(4800)).paidTo("employee E-P"),
			}},
		},
		{
			name: "tier_edge_40000_rate_6", approved: approvedSP,
			setup: func(w *world) { w.employee("E-P").AnnualIncome = 4000000 },
			steps: []step{{
				line: pl("C1", "2026-03-02", "6", "84.00"),
				// 6.00 x 6h = 36.00; employee 84.00-36.00 = 48.00
				want: approved(core.Cents(4800), core.Cents(3600)),
			}},
		},
		{
			name: "tier_edge_75000_rate_6", approved: approvedSP,
			setup: func(w *world) { w.employee("E-P").AnnualIncome = 7500000 },
			steps: []step{{
				line: pl("C1", "2026-03-02", "6", "84.00"),
				// 75,000.00 is not over 75,000: 6.00 x 6h = 36.00; employee 48.00
				want: approved(core.Cents(4800), core.Cents(3600)),
			}},
		},
		{
			name: "tier_edge_75000.01_rate_4", approved: approvedSP,
			setup: func(w *world) { w.employee("E-P").AnnualIncome = 7500001 },
			steps: []step{{
				line: pl("C1", "2026-03-02", "6", "84.00"),
				// 4.00 x 6h = 24.00; employee 84.00-24.00 = 60.00
				want: approved(core.Cents(6000), core.Cents(2400)),
			}},
		},
		{
			name: "quarter_hours", approved: approvedSP,
			setup: func(w *world) { w.employee("E-P").AnnualIncome = 5000000 },
			steps: []step{{
				line: pl("C1", "2026-03-02", "4.75", "66.50"),
				// 6.00 x 4.75h = 28.50; employee 66.50-28.50 = 38.00
				want: approved(core.Cents(3800), core.Cents(2850)),
			}},
		},
		{
			name: "under_4_hours_billed_as_4", approved: approvedSP,
			steps: []step{{
				line: pl("C1", "2026-03-02", "3", "56.00"),
				// 3h raised to 4h: 8.00 x 4 = 32.00; employee 56.00-32.00 = 24.00
				want: approved(core.Cents(2400), core.Cents(3200)),
			}},
		},
		{
			name: "weekend_care_covered", approved: approvedSP,
			steps: []step{{
				// no work-day rule in this plan: Saturday 03-07, 8.00 x 6 = 48.00
				line: pl("C1", "2026-03-07", "6", "84.00"),
				want: approved(core.Cents(3600), core.Cents(4800)),
			}},
		},
		{
			name: "mileage_never_reimbursed", approved: approvedSP,
			steps: []step{{
				line: pl("C1", "2026-03-02", "6", "84.00", mileage("23")),
				// 8.00 x 6h = 48.00 whatever the mileage; employee 36.00
				want: approved(core.Cents(3600), core.Cents(4800)),
			}},
		},

		// Placements: 10 a year, a row over 12 hours is two.
		{
			name: "tenth_placement_of_12_hours", approved: approvedSP,
			prior: ninePlacements(),
			steps: []step{
				// 12h is not over 12: one placement, the 10th; 8.00 x 12 = 96.00; employee 168.00-96.00 = 72.00
				{line: pl("C1", "2026-03-02", "12", "168.00"), want: approved(core.Cents(7200), core.Cents(9600))},
				// none left -> PLACEMENT_LIMIT, rejected
				{line: pl("C1", "2026-03-03", "4", "56.00"), want: rejected(core.Cents(5600), core.PlacementLimit)},
			},
		},
		{
			name: "tenth_placement_split_by_14_hour_row", approved: approvedSP,
			prior: ninePlacements(),
			steps: []step{
				// 14h > 12 needs 2 placements, 1 left: covered 12h x 1; 8.00 x 12 = 96.00; employee 196.00-96.00 = 100.00
				{line: pl("C1", "2026-03-02", "14", "196.00"), want: partial(core.Cents(10000), core.Cents(9600), core.PlacementLimit)},
				// 10 of 10 used -> rejected
				{line: pl("C1", "2026-03-03", "4", "56.00"), want: rejected(core.Cents(5600), core.PlacementLimit)},
			},
		},
		{
			name: "14_hour_row_takes_last_two_placements", approved: approvedSP,
			prior: priorDays(pinch, "E-P", "C1", "in_home", "2026-01-05", 8, 2400, 3200, 1),
			steps: []step{
				// 8 used; 14h needs 2 -> placements 9 and 10: 8.00 x 14 = 112.00; employee 196.00-112.00 = 84.00
				{line: pl("C1", "2026-03-02", "14", "196.00"), want: approved(core.Cents(8400), core.Cents(11200))},
				{line: pl("C1", "2026-03-03", "4", "56.00"), want: rejected(core.Cents(5600), core.PlacementLimit)},
			},
		},
		{
			name: "24_hours_is_two_placements", approved: approvedSP,
			prior: priorDays(pinch, "E-P", "C1", "in_home", "2026-01-05", 8, 2400, 3200, 1),
			steps: []step{
				// 24h (allowed) > 12: placements 9 and 10: 8.00 x 24 = 192.00; employee 336.00-192.00 = 144.00
				{line: pl("C1", "2026-03-02", "24", "336.00"), want: approved(core.Cents(14400), core.Cents(19200))},
				{line: pl("C1", "2026-03-04", "4", "56.00"), want: rejected(core.Cents(5600), core.PlacementLimit)},
			},
		},
		{
			name: "12.01_hours_is_two_placements", approved: approvedSP,
			prior: priorDays(pinch, "E-P", "C1", "in_home", "2026-01-05", 8, 2400, 3200, 1),
			steps: []step{
				// 12.01h > 12: placements 9 and 10: 8.00 x 12.01 = 96.08; employee 168.14-96.08 = 72.06
				{line: pl("C1", "2026-03-02", "12.01", "168.14"), want: approved(core.Cents(7206), core.Cents(9608))},
				{line: pl("C1", "2026-03-03", "4", "56.00"), want: rejected(core.Cents(5600), core.PlacementLimit)},
			},
		},
		{
			name: "placement_limit_and_annual_cap_on_one_line", approved: approvedSP,
			setup: func(w *world) { w.employee("E-P").OtherBenefits = 465000 },
			prior: ninePlacements(),
			steps: []step{{
				// 1 placement left: 12h of 14 covered, 8.00 x 12 = 96.00;
				// room 5,000.00-4,650.00-288.00 = 62.00 < 96.00 -> 62.00; employee 196.00-62.00 = 134.00
				line: pl("C1", "2026-03-02", "14", "196.00"),
				want: partial(core.Cents(13400), core.Cents(6200), core.PlacementLimit, core.AnnualCap),
			}},
		},
		{
			name: "placements_reset_with_plan_year", approved: []string{"S-P", "S-P-DEC"},
			prior: priorDays(pinch, "E-P", "C1", "in_home", "2025-01-06", 10, 2400, 3200, 1),
			steps: []step{
				// plan year 2025: 10 of 10 used
				{line: stmt("S-P-DEC", "E-P", "C1", "P1", "in_home", "2025-12-30", "4", "56.00"), want: rejected(core.Cents(5600), core.PlacementLimit)},
				// plan year 2026: placement 1; 8.00 x 4 = 32.00; employee 24.00
				{line: pl("C1", "2026-01-05", "4", "56.00"), want: approved(core.Cents(2400), core.Cents(3200))},
			},
		},
		{
			name: "rejected_line_uses_no_placement", approved: approvedSP,
			prior: ninePlacements(),
			steps: []step{
				// G1, a parent capable of self care: DEPENDENT_INELIGIBLE, consumes nothing
				{line: pl("G1", "2026-03-02", "6", "84.00"), want: rejected(core.Cents(8400), core.DependentIneligible)},
				// placement 10: 8.00 x 6 = 48.00; employee 36.00
				{line: pl("C1", "2026-03-03", "6", "84.00"), want: approved(core.Cents(3600), core.Cents(4800))},
				{line: pl("C1", "2026-03-04", "6", "84.00"), want: rejected(core.Cents(8400), core.PlacementLimit)},
			},
		},

		{
			name: "rejected_line_uses_no_cap", approved: approvedSP,
			setup: func(w *world) { w.employee("E-P").OtherBenefits = 495200 },
			steps: []step{
				// G1 ineligible: rejected, consumes none of the 48.00 left under the cap
				{line: pl("G1", "2026-03-02", "6", "84.00"), want: rejected(core.Cents(8400), core.DependentIneligible)},
				// room 5,000.00-4,952.00 = 48.00; 8.00 x 6 = 48.00 -> approved; employee 36.00
				{line: pl("C1", "2026-03-03", "6", "84.00"), want: approved(core.Cents(3600), core.Cents(4800))},
			},
		},

		// Combined annual cap 5,000: other_benefits plus reimbursements.
		{
			name: "annual_cap_crossed_part_way", approved: approvedSP,
			setup: func(w *world) { w.employee("E-P").OtherBenefits = 490000 },
			// an earlier run reimbursed 64.00 (8.00 x 8h)
			prior: []core.PriorLine{prior(pinch, "E-P", "C1", "P1", "in_home", "2026-01-05", 4800, 6400, 1)},
			steps: []step{
				// room 5,000.00-4,900.00-64.00 = 36.00; 8.00 x 6 = 48.00 > 36.00 -> 36.00, ANNUAL_CAP partial; employee 84.00-36.00 = 48.00
				{line: pl("C1", "2026-03-02", "6", "84.00"), want: partial(core.Cents(4800), core.Cents(3600), core.AnnualCap)},
				// room 5,000.00-4,900.00-100.00 = 0 -> ANNUAL_CAP, rejected
				{line: pl("C1", "2026-03-03", "4", "56.00"), want: rejected(core.Cents(5600), core.AnnualCap)},
			},
		},
		{
			name: "annual_cap_reached_exactly", approved: approvedSP,
			setup: func(w *world) { w.employee("E-P").OtherBenefits = 495200 },
			steps: []step{
				// room 5,000.00-4,952.00 = 48.00; 8.00 x 6 = 48.00, not above -> approved; employee 36.00
				{line: pl("C1", "2026-03-02", "6", "84.00"), want: approved(core.Cents(3600), core.Cents(4800))},
				// room 0 -> rejected
				{line: pl("C1", "2026-03-03", "6", "84.00"), want: rejected(core.Cents(8400), core.AnnualCap)},
			},
		},
		{
			name: "other_benefits_4999.99_leaves_one_cent", approved: approvedSP,
			setup: func(w *world) { w.employee("E-P").OtherBenefits = 499999 },
			steps: []step{{
				// room 0.01; 48.00 -> 0.01, ANNUAL_CAP partial; employee 84.00-0.01 = 83.99
				line: pl("C1", "2026-03-02", "6", "84.00"),
				want: partial(core.Cents(8399), core.Cents(1), core.AnnualCap),
			}},
		},
		{
			name: "benefit_maxed_at_5000", approved: approvedSP,
			setup: func(w *world) { w.employee("E-P").OtherBenefits = 500000 },
			steps: []step{{
				line: pl("C1", "2026-03-02", "6", "84.00"),
				want: rejected(core.Cents(8400), core.BenefitMaxed),
			}},
		},
		{
			name: "benefit_maxed_above_5000", approved: approvedSP,
			setup: func(w *world) { w.employee("E-P").OtherBenefits = 600000 },
			steps: []step{{
				line: pl("C1", "2026-03-02", "6", "84.00"),
				want: rejected(core.Cents(8400), core.BenefitMaxed),
			}},
		},

		// Employee and dependent eligibility.
		{
			name: "temporary_employee_ineligible", approved: approvedSP,
			setup: func(w *world) { w.employee("E-P").EmploymentType = core.Temporary },
			steps: []step{{
				line: pl("C1", "2026-03-02", "6", "84.00"),
				want: rejected(core.Cents(8400), core.EmployeeIneligible),
			}},
		},
		{
			name: "student_employee_ineligible", approved: approvedSP,
			setup: func(w *world) { w.employee("E-P").EmploymentType = core.Student },
			steps: []step{{
				line: pl("C1", "2026-03-02", "6", "84.00"),
				want: rejected(core.Cents(8400), core.EmployeeIneligible),
			}},
		},
		{
			name: "regular_part_time_eligible", approved: approvedSP,
			setup: func(w *world) { w.employee("E-P").EmploymentType = core.RegularPartTime },
			steps: []step{{
				line: pl("C1", "2026-03-02", "6", "84.00"),
				want: approved(core.Cents(3600), core.Cents(4800)),
			}},
		},
		{
			name: "parent_not_incapable_ineligible", approved: approvedSP,
			steps: []step{{
				line: pl("G1", "2026-03-02", "6", "84.00"),
				want: rejected(core.Cents(8400), core.DependentIneligible),
			}},
		},
		{
			name: "parent_incapable_of_self_care_eligible", approved: approvedSP,
			steps: []step{{
				// 8.00 x 6 = 48.00; employee 36.00
				line: pl("G2", "2026-03-02", "6", "84.00"),
				want: approved(core.Cents(3600), core.Cents(4800)),
			}},
		},
		{
			name: "child_13_on_service_date_ineligible", approved: approvedSP,
			setup: func(w *world) { w.addDependent("E-P", "C2", "child", d("2013-03-02")) },
			steps: []step{{
				line: pl("C2", "2026-03-02", "6", "84.00"),
				want: rejected(core.Cents(8400), core.DependentIneligible),
			}},
		},
		{
			name: "child_day_before_13th_birthday_eligible", approved: approvedSP,
			setup: func(w *world) { w.addDependent("E-P", "C2", "child", d("2013-03-03")) },
			steps: []step{{
				line: pl("C2", "2026-03-02", "6", "84.00"),
				want: approved(core.Cents(3600), core.Cents(4800)),
			}},
		},
		{
			name: "child_over_13_incapable_of_self_care_eligible", approved: approvedSP,
			setup: func(w *world) {
				w.addDependent("E-P", "C2", "child", d("2010-01-01")).IncapableOfSelf = true
			},
			steps: []step{{
				line: pl("C2", "2026-03-02", "6", "84.00"),
				want: approved(core.Cents(3600), core.Cents(4800)),
			}},
		},

		// Approval.
		{
			name: "held_until_statement_approved",
			steps: []step{{
				// 8.00 x 6 = 48.00, held: paid once S-P is approved
				line: pl("C1", "2026-03-02", "6", "84.00"),
				want: held(core.Approved, core.Cents(3600), core.Cents(4800), core.AwaitingApproval),
			}},
		},
		{
			name:  "held_partial_keeps_partial_final_status",
			prior: ninePlacements(),
			steps: []step{{
				// as tenth_placement_split_by_14_hour_row: 96.00 / 100.00, partial, then held
				line: pl("C1", "2026-03-02", "14", "196.00"),
				want: held(core.Partial, core.Cents(10000), core.Cents(9600), core.PlacementLimit, core.AwaitingApproval),
			}},
		},
		{
			name:  "held_lines_consume_placements",
			prior: ninePlacements(),
			steps: []step{
				// placement 10, held
				{line: pl("C1", "2026-03-02", "6", "84.00"), want: held(core.Approved, core.Cents(3600), core.Cents(4800), core.AwaitingApproval)},
				// none left: rejected, and a rejected line is not held
				{line: pl("C1", "2026-03-03", "6", "84.00"), want: rejected(core.Cents(8400), core.PlacementLimit)},
			},
		},
		{
			name:  "held_lines_consume_annual_cap",
			setup: func(w *world) { w.employee("E-P").OtherBenefits = 495000 },
			steps: []step{
				// room 50.00; 48.00 -> held, final approved
				{line: pl("C1", "2026-03-02", "6", "84.00"), want: held(core.Approved, core.Cents(3600), core.Cents(4800), core.AwaitingApproval)},
				// room 50.00-48.00 = 2.00 -> 2.00, ANNUAL_CAP; employee 82.00; held, final partial
				{line: pl("C1", "2026-03-03", "6", "84.00"), want: held(core.Partial, core.Cents(8200), core.Cents(200), core.AnnualCap, core.AwaitingApproval)},
			},
		},
		{
			name: "approved_during_run_not_held_after",
			steps: []step{
				{line: pl("C1", "2026-03-02", "6", "84.00"), want: held(core.Approved, core.Cents(3600), core.Cents(4800), core.AwaitingApproval)},
				{line: pl("C1", "2026-03-03", "6", "84.00"), approve: "S-P", want: approved(core.Cents(3600), core.Cents(4800))},
			},
		},
		{
			name:  "rejected_line_not_held",
			setup: func(w *world) { w.employee("E-P").EmploymentType = core.Casual },
			steps: []step{{
				line: pl("C1", "2026-03-02", "6", "84.00"),
				want: rejected(core.Cents(8400), core.EmployeeIneligible),
			}},
		},

		// Statement deadline and provider.
		{
			name: "statement_received_day_60_on_time", approved: approvedSP,
			steps: []step{{
				// period 2026-02 ends 02-28; +31 = 03-31, +60 = 04-29
				line: pl("C1", "2026-02-02", "6", "84.00", received("2026-04-29")),
				want: approved(core.Cents(3600), core.Cents(4800)),
			}},
		},
		{
			name: "statement_received_day_61_late", approved: approvedSP,
			steps: []step{{
				line: pl("C1", "2026-02-02", "6", "84.00", received("2026-04-30")),
				want: rejected(core.Cents(8400), core.Late),
			}},
		},
		{
			name: "statement_provider_unknown_although_employee_is_payee", approved: approvedSP,
			steps: []step{{
				line: stmt("S-P", "E-P", "C1", "P9", "in_home", "2026-03-02", "6", "84.00"),
				want: rejected(core.Cents(8400), core.ProviderUnknown),
			}},
		},
	})
}
