package rules

import (
	"testing"

	"carepay/core"
)

// TestEnrolmentOnServiceDate: every plan needs the employee enrolled on the
// service date (a line dated before enrolled_on is NOT_ENROLLED), except
// jitc-invoice, whose 30-day window after the invoice's first service date
// replaces it.
func TestEnrolmentOnServiceDate(t *testing.T) {
	runScenarios(t, []scenario{
		{
			name:  "bright_line_before_enrolled_on_not_enrolled",
			setup: func(w *world) { w.employee("E-B").EnrolledOn = d("2026-03-03") },
			steps: []step{
				// 03-02 is the day before enrolment
				{line: bl("K1", "center", "2026-03-02", "", "150.00"), want: rejected(core.Cents(15000), core.NotEnrolled)},
				// 03-03, the enrolment day itself: copay 20 (tier 2); employer 150.00-20.00 = 130.00
				{line: bl("K1", "center", "2026-03-03", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
			},
		},
		{
			name: "pinch_line_before_enrolled_on_not_enrolled", approved: []string{"S-P"},
			setup: func(w *world) { w.employee("E-P").EnrolledOn = d("2026-03-03") },
			steps: []step{
				{line: pl("C1", "2026-03-02", "6", "84.00"), want: rejected(core.Cents(8400), core.NotEnrolled)},
				// 8.00 x 6h = 48.00; employee 84.00-48.00 = 36.00
				{line: pl("C1", "2026-03-03", "6", "84.00"), want: approved(core.Cents(3600), core.Cents(4800))},
			},
		},
		{
			name:  "jitc_window_replaces_the_service_date_rule",
			setup: func(w *world) { w.employee("E-J").EnrolledOn = d("2026-03-20") },
			steps: []step{
				// first service 03-02 + 30 days = 04-01, enrolled 03-20: both
				// rows are covered although dated before enrolled_on;
				// 100.00 x 0.8 = 80.00, employee 20.00
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", signed("2026-03-25", "2026-03-25")), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-1", "J1", "2026-03-05", "100.00", signed("2026-03-25", "2026-03-25")), want: approved(core.Cents(2000), core.Cents(8000))},
			},
		},
	})
}

// TestCorrections: an invoice_id taken before is a DUPLICATE as a whole,
// unless every line of every copy taken in an earlier run was rejected;
// then the new copy is decided afresh. Within one drop the first file wins.
func TestCorrections(t *testing.T) {
	unsigned := signed("", "2026-03-10")
	runScenarios(t, []scenario{
		{
			name: "unsigned_invoice_resent_signed_then_resent_again",
			steps: []step{
				// run 1: no employee signature, every line rejected
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", unsigned), want: rejected(core.Cents(10000), core.UnsignedEmployee)},
				{line: jl("INV-1", "J1", "2026-03-03", "100.00", unsigned), want: rejected(core.Cents(10000), core.UnsignedEmployee)},
			},
			next: [][]step{
				{
					// run 2: signed copy, a correction decided afresh:
					// 100.00 x 0.8 = 80.00 each; employee 20.00
					{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
					{line: jl("INV-1", "J1", "2026-03-03", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				},
				{
					// run 3: sent once more, now a duplicate as a whole
					{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: rejected(core.Cents(10000), core.Duplicate)},
					{line: jl("INV-1", "J1", "2026-03-03", "100.00"), want: rejected(core.Cents(10000), core.Duplicate)},
				},
			},
		},
		{
			name: "partly_rejected_invoice_resent_is_duplicate",
			steps: []step{
				// J9 is unknown: rejected; J1's line is paid 80.00
				{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-1", "J9", "2026-03-02", "100.00"), want: rejected(core.Cents(10000), core.DependentUnknown)},
			},
			next: [][]step{{
				// not every line was rejected: the whole copy is a duplicate, J2 included
				{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: rejected(core.Cents(10000), core.Duplicate)},
				{line: jl("INV-1", "J2", "2026-03-02", "100.00"), want: rejected(core.Cents(10000), core.Duplicate)},
			}},
		},
		{
			name: "second_copy_in_one_drop_duplicate_although_first_rejected",
			steps: []step{
				// the first file brings INV-1 unsigned: rejected
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", unsigned, seq(1)), want: rejected(core.Cents(10000), core.UnsignedEmployee)},
				// a second file of the same drop brings it signed: the first file wins
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", seq(2)), want: rejected(core.Cents(10000), core.Duplicate)},
			},
		},
		{
			name: "second_copy_in_one_drop_moves_no_service_date_of_the_first",
			steps: []step{
				// the first file's copy: last service 03-02, signed 03-05: 80.00
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", signed("2026-03-05", "2026-03-05"), seq(1)), want: approved(core.Cents(2000), core.Cents(8000))},
				// the second file's copy adds 03-09; counted, the first copy
				// would be signed before its last service
				{line: jl("INV-1", "J1", "2026-03-09", "100.00", seq(2)), want: rejected(core.Cents(10000), core.Duplicate)},
			},
		},
		{
			name: "per_day_duplicate_unless_earlier_line_rejected",
			steps: []step{
				// INV-1 rejected for the signature: its day is free again
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", unsigned), want: rejected(core.Cents(10000), core.UnsignedEmployee)},
				// INV-2 claims the same employee, dependent, provider and date: 80.00
				{line: jl("INV-2", "J1", "2026-03-02", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				// INV-3 claims it once more: INV-2's line was not rejected
				{line: jl("INV-3", "J1", "2026-03-02", "100.00"), want: rejected(core.Cents(10000), core.Duplicate)},
			},
			next: [][]step{{
				// and in a later run too
				{line: jl("INV-4", "J1", "2026-03-02", "100.00"), want: rejected(core.Cents(10000), core.Duplicate)},
			}},
		},
	})
}

// TestHoursRange: hours above 0 and at most 24 (INVALID_HOURS); a plan
// paid by the hour needs them on every line.
func TestHoursRange(t *testing.T) {
	runScenarios(t, []scenario{
		{
			name: "negative_hours_invalid_hours", approved: []string{"S-P"},
			steps: []step{
				{line: pl("C1", "2026-03-02", "", "84.00", hours(-400)), want: rejected(core.Cents(8400), core.InvalidHours)},
				{line: bl("K1", "in_home", "2026-03-02", "", "100.00", hours(-1)), want: rejected(core.Cents(10000), core.InvalidHours)},
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", hours(-800)), want: rejected(core.Cents(10000), core.InvalidHours)},
			},
		},
		{
			name: "hours_0.01_accepted", approved: []string{"S-P"},
			steps: []step{
				// 0.01h raised to the 4-hour minimum: 8.00 x 4 = 32.00; employee 56.00-32.00 = 24.00
				{line: pl("C1", "2026-03-02", "0.01", "56.00"), want: approved(core.Cents(2400), core.Cents(3200))},
			},
		},
	})
}

// TestReadingsSettled has one case for each point of SPEC.md's "Readings
// settled" that the rules decide; the points ingest decides (blank
// received_on, case-insensitive listed values, a statement row outside its
// period) are tested in ingest.
func TestReadingsSettled(t *testing.T) {
	runScenarios(t, []scenario{
		// A day is a calendar date.
		{
			name:  "bright_one_child_two_providers_one_date_one_day",
			prior: priorDays(bright, "E-B", "K1", "center", "2026-01-05", 19, 2000, 13000, 0),
			steps: []step{
				// day 20 of K1: copay 20; employer 130.00
				{line: bl("K1", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				// same child, same date, other provider: no new day. Family
				// max 50: 20 paid, room 30 >= 20 -> copay 20; employer 100.00-20.00 = 80.00
				{line: stmt("S-B", "E-B", "K1", "P2", "center", "2026-03-02", "", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				// a new date: day 21 -> DAY_LIMIT
				{line: bl("K1", "center", "2026-03-03", "", "150.00"), want: rejected(core.Cents(15000), core.DayLimit)},
			},
		},
		{
			name:  "bright_one_child_both_parents_one_date_one_day",
			prior: priorDays(bright, "E-B", "K1", "center", "2026-01-05", 19, 2000, 13000, 0),
			steps: []step{
				// day 20 of K1 through E-B: copay 20; employer 130.00
				{line: bl("K1", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				// E-B2 (tier 1, copay 10) claims K1 on the same date with P2: the same day;
				// employer 150.00-10.00 = 140.00
				{line: stmt("S-B2", "E-B2", "K1", "P2", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(1000), core.Cents(14000))},
			},
		},
		{
			name: "jitc_80_a_day_applies_per_line",
			steps: []step{
				// two dependents on one date, one day of E-J's 10, but each
				// line is paid up to 80.00: 150.00 x 0.8 = 120.00 -> 80.00
				// each; employee 150.00-80.00 = 70.00 each
				{line: jl("INV-1", "J1", "2026-03-02", "150.00"), want: approved(core.Cents(7000), core.Cents(8000))},
				{line: jl("INV-1", "J2", "2026-03-02", "150.00"), want: approved(core.Cents(7000), core.Cents(8000))},
			},
		},

		// bright-backup's family maximum and in-home copay.
		{
			name: "family_max_counts_what_the_family_actually_pays",
			steps: []step{
				// E-B tier 2: copay 20, family max 50. K1 charged 5.00: the
				// copay is limited to the charge, the family pays 5.00; employer 0.00
				{line: bl("K1", "center", "2026-03-02", "", "5.00"), want: approved(core.Cents(500), core.Cents(0))},
				// paid 5.00, room 45.00: copay 20; employer 130.00
				{line: bl("K2", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				// paid 25.00, room 25.00: copay 20; employer 130.00
				{line: bl("K3", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				// paid 45.00, room 5.00: copay 5.00; employer 145.00
				// (counting copays as 20 each, K3 would pay 10.00 and K4 nothing)
				{line: bl("K4", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(500), core.Cents(14500))},
			},
		},
		{
			name: "rejected_line_takes_no_copay",
			steps: []step{
				// Saturday: NOT_WORKDAY, rejected, no copay counted
				{line: bl("K1", "center", "2026-03-07", "", "150.00"), want: rejected(core.Cents(15000), core.NotWorkday)},
				// K9 unknown on 03-02: rejected
				{line: bl("K9", "center", "2026-03-02", "", "150.00"), want: rejected(core.Cents(15000), core.DependentUnknown)},
				// K1, K2 on 03-02: 20 + 20, room 50 untouched by the rejected line;
				// employer 130.00 each
				{line: bl("K1", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				{line: bl("K2", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				// paid 40.00, room 10.00: copay 10.00; employer 140.00
				{line: bl("K3", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(1000), core.Cents(14000))},
			},
		},
		{
			name: "in_home_copay_neither_counted_in_nor_cut_by_family_max",
			steps: []step{
				// in-home 8h: 8.00 x 8 = 64.00, above the family max 50 and not cut; employer 136.00
				{line: bl("K1", "in_home", "2026-03-02", "8", "200.00"), want: approved(core.Cents(6400), core.Cents(13600))},
				// center copays still have the whole 50: 20 + 20 + 10
				{line: bl("K2", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				{line: bl("K3", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(2000), core.Cents(13000))},
				{line: bl("K4", "center", "2026-03-02", "", "150.00"), want: approved(core.Cents(1000), core.Cents(14000))},
			},
		},
		{
			name: "in_home_copay_lands_on_first_line_not_rejected_across_runs",
			steps: []step{
				// a Saturday in-home line of E-B is rejected: it carries no copay
				{line: bl("K1", "in_home", "2026-03-07", "8", "200.00"), want: rejected(core.Cents(20000), core.NotWorkday)},
				// K9 unknown on 03-02: rejected
				{line: bl("K9", "in_home", "2026-03-02", "8", "200.00"), want: rejected(core.Cents(20000), core.DependentUnknown)},
			},
			next: [][]step{
				// next run: the first in-home line of 03-02 not rejected carries it:
				// 8.00 x 6 = 48.00; employer 150.00-48.00 = 102.00
				{{line: bl("K1", "in_home", "2026-03-02", "6", "150.00"), want: approved(core.Cents(4800), core.Cents(10200))}},
				// the run after: already charged for 03-02, 0.00 here
				{{line: bl("K2", "in_home", "2026-03-02", "6", "150.00"), want: approved(core.Cents(0), core.Cents(15000))}},
			},
		},
		{
			name: "ten_hour_cap_per_line_not_per_day",
			steps: []step{
				// 8h: copay 8.00 x 8 = 64.00; employer 136.00
				{line: bl("K1", "in_home", "2026-03-02", "8", "200.00"), want: approved(core.Cents(6400), core.Cents(13600))},
				// 8h more on the same date (16 that day): this line is not above 10,
				// not capped; no copay (already charged); employer 200.00
				{line: bl("K2", "in_home", "2026-03-02", "8", "200.00"), want: approved(core.Cents(0), core.Cents(20000))},
			},
		},

		// Age and registration.
		{
			name: "29_february_birthday_on_1_march_in_a_common_year", approved: []string{"S-P"},
			setup: func(w *world) { w.addDependent("E-P", "C2", "child", d("2012-02-29")) },
			steps: []step{
				// born 2012-02-29: the 13th birthday in 2025 (common) is 2025-03-01.
				// 2025-02-28: still 12: 8.00 x 6 = 48.00; employee 36.00
				{line: pl("C2", "2025-02-28", "6", "84.00"), want: approved(core.Cents(3600), core.Cents(4800))},
				// 2025-03-01: 13 -> DEPENDENT_INELIGIBLE
				{line: pl("C2", "2025-03-01", "6", "84.00"), want: rejected(core.Cents(8400), core.DependentIneligible)},
			},
		},
		{
			name:  "blank_registered_on_not_registered",
			setup: func(w *world) { w.dependent("E-B", "K1").RegisteredOn = 0 },
			steps: []step{{
				line: bl("K1", "center", "2026-03-02", "", "150.00"),
				want: rejected(core.Cents(15000), core.DependentNotRegistered),
			}},
		},

		// Care types, kinds of line, invoices naming two parties.
		{
			name: "care_type_not_covered_dependent_ineligible", approved: []string{"S-P"},
			steps: []step{
				// pinch-hourly covers in_home only
				{line: stmt("S-P", "E-P", "C1", "P1", "center", "2026-03-02", "6", "84.00"), want: rejected(core.Cents(8400), core.DependentIneligible)},
				// bright-backup does not cover adult_care
				{line: bl("K1", "adult_care", "2026-03-02", "", "150.00"), want: rejected(core.Cents(15000), core.DependentIneligible)},
			},
		},
		{
			name: "wrong_kind_of_line_for_the_plan_invalid_row",
			steps: []step{
				// an invoice for bright-backup, a statement plan
				{line: invoice("INV-1", "E-B", "K1", "P1", "center", "2026-03-02", "", "150.00"), want: rejected(core.Cents(15000), core.InvalidRow)},
				// a statement for jitc-invoice, an invoice plan
				{line: stmt("S-J", "E-J", "J1", "P1", "center", "2026-03-02", "", "100.00"), want: rejected(core.Cents(10000), core.InvalidRow)},
			},
		},
		{
			name: "invoice_naming_two_providers_invalid_row_every_row",
			steps: []step{
				{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: rejected(core.Cents(10000), core.InvalidRow)},
				{line: invoice("INV-1", "E-J", "J1", "P2", "center", "2026-03-03", "", "100.00"), want: rejected(core.Cents(10000), core.InvalidRow)},
				{line: jl("INV-1", "J2", "2026-03-04", "100.00"), want: rejected(core.Cents(10000), core.InvalidRow)},
			},
		},
		{
			name: "invoice_naming_two_employees_on_a_row_with_a_bad_value",
			steps: []step{
				// the E-J2 row has a bad amount, yet it names a second employee
				{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: rejected(core.Cents(10000), core.InvalidRow)},
				{line: invoice("INV-1", "E-J2", "J1", "P1", "center", "2026-03-03", "", "0.00", rowError("amount_charged", "1OO.00")), want: rejected(core.Cents(0), core.InvalidRow)},
			},
		},
		{
			name: "invalid_row_does_not_count_towards_first_and_last_service",
			steps: []step{
				// the 03-20 row does not parse (say its date is after the run
				// date): the invoice's last service date is 03-02, so the
				// signatures of 03-05 are after care; 80.00, employee 20.00
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", signed("2026-03-05", "2026-03-05")), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-1", "J1", "2026-03-20", "100.00", signed("2026-03-05", "2026-03-05"), rowError("service_date", "2026-03-20")), want: rejected(core.Cents(10000), core.InvalidRow)},
			},
		},

		// pinch-hourly.
		{
			name: "pinch_employer_share_never_above_charge", approved: []string{"S-P"},
			steps: []step{
				// 3h raised to 4: 8.00 x 4 = 32.00 > charge 20.00 -> 20.00; employee 0.00
				{line: pl("C1", "2026-03-02", "3", "20.00"), want: approved(core.Cents(0), core.Cents(2000))},
			},
		},
		{
			name: "pinch_annual_cap_limits_dollars_not_hours", approved: []string{"S-P"},
			setup: func(w *world) { w.employee("E-P").OtherBenefits = 496249 },
			steps: []step{
				// room 5,000.00-4,962.49 = 37.51, not a whole number of hours
				// at 8.00: 8.00 x 6 = 48.00 -> 37.51 (partial, ANNUAL_CAP);
				// employee 84.00-37.51 = 46.49
				{line: pl("C1", "2026-03-02", "6", "84.00"), want: partial(core.Cents(4649), core.Cents(3751), core.AnnualCap)},
			},
		},
		{
			name: "pinch_benefit_maxed_with_no_placement_left_also_placement_limit", approved: []string{"S-P"},
			setup: func(w *world) { w.employee("E-P").OtherBenefits = 500000 },
			prior: priorDays(pinch, "E-P", "C1", "in_home", "2026-01-05", 10, 2400, 3200, 1),
			steps: []step{{
				line: pl("C1", "2026-03-02", "6", "84.00"),
				want: rejected(core.Cents(8400), core.BenefitMaxed, core.PlacementLimit),
			}},
		},

		// jitc-invoice's consecutive days, lapse and January 31 rule.
		{
			name: "jitc_consecutive_days_count_back_over_a_day_refused_for_a_limit",
			// E-J2, J1's other parent, used 2 days in January and J1's
			// 03-02..03-09 (8 days): 10 days; its 03-10 line was refused
			// DAY_LIMIT but was a day of care.
			prior: func() []core.PriorLine {
				out := priorDays(jitc, "E-J2", "J1", "center", "2026-01-05", 2, 2000, 8000, 0)
				out = append(out, consecutivePrior("E-J2", "J1", "2026-03-02", "2026-03-09")...)
				refused := prior(jitc, "E-J2", "J1", "P1", "center", "2026-03-10", 10000, 0, 0)
				refused.Status, refused.DayUsed = core.Rejected, false
				return append(out, refused)
			}(),
			steps: []step{
				// E-J claims J1 on 03-11: 03-02..03-11 is consecutive day 10 -> CONSECUTIVE_LIMIT
				{line: jl("INV-1", "J1", "2026-03-11", "100.00"), want: rejected(core.Cents(10000), core.ConsecutiveLimit)},
			},
		},
		{
			name:  "jitc_day_refused_for_a_signature_breaks_the_run",
			prior: consecutivePrior("E-J", "J1", "2026-03-02", "2026-03-10"),
			steps: []step{
				// 03-02..03-10: 9 consecutive days. 03-11 unsigned: rejected, no day of care
				{line: jl("INV-1", "J1", "2026-03-11", "100.00", signed("", "2026-03-31")), want: rejected(core.Cents(10000), core.UnsignedEmployee)},
			},
			next: [][]step{{
				// next run, 03-12: the run was broken on 03-11 -> consecutive day 1;
				// day 10 of E-J's 10: 80.00, employee 20.00
				{line: jl("INV-2", "J1", "2026-03-12", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
			}},
		},
		{
			name:  "jitc_never_used_employee_does_not_lapse",
			setup: func(w *world) { w.employee("E-J").EnrolledOn = d("2015-01-05") },
			steps: []step{{
				// enrolled 11 years before, never used (no ledger lines, no last_used_on): 80.00
				line: jl("INV-1", "J1", "2026-03-02", "100.00"),
				want: approved(core.Cents(2000), core.Cents(8000)),
			}},
		},
		{
			name: "jitc_january_31_rule_uses_plan_year_of_first_day",
			steps: []step{
				// first day 2025-12-30 (plan year 2025: due 2025-12-31 + 31 =
				// 2026-01-31); received 2026-02-02 -> LATE, the 2026 row too.
				// 60 days after the last service 2026-01-02 is 03-03: on time.
				{line: jl("INV-1", "J1", "2025-12-30", "100.00", signed("2026-01-05", "2026-01-05"), received("2026-02-02")), want: rejected(core.Cents(10000), core.Late)},
				{line: jl("INV-1", "J1", "2026-01-02", "100.00", signed("2026-01-05", "2026-01-05"), received("2026-02-02")), want: rejected(core.Cents(10000), core.Late)},
			},
		},
	})
}
