package rules

import (
	"testing"

	"carepay/core"
)

// jl is a jitc-invoice center-care invoice line of employee E-J with
// provider P1, signed 20 days and received 25 days after the service date.
func jl(ref, dep, date, charge string, opts ...lineOpt) *core.Line {
	return invoice(ref, "E-J", dep, "P1", "center", date, "", charge, opts...)
}

// nineDays is an earlier run's use of 9 of E-J's 10 days of 2026, for J1
// every other day from 2026-01-05 (never two consecutive days).
func nineDays() []core.PriorLine {
	return priorDays(jitc, "E-J", "J1", "center", "2026-01-05", 9, 2000, 8000, 0)
}

// consecutivePrior returns earlier days of care of a dependent on each day
// from from to to.
func consecutivePrior(emp, dep, from, to string) []core.PriorLine {
	var out []core.PriorLine
	for day := d(from); day <= d(to); day = day.AddDays(1) {
		p := prior(jitc, emp, dep, "P1", "center", from, 2000, 8000, 0)
		p.ServiceDate = day
		out = append(out, p)
	}
	return out
}

// TestDaily covers jitc-invoice (SPEC.md "jitc-invoice"): 80% of each day's
// charge at most 80.00, 10 days per employee, the consecutive-day rule, the
// invoice deadlines, enrolment and signatures.
func TestDaily(t *testing.T) {
	runScenarios(t, []scenario{
		// 80% of the charge, rounded half up to the cent, at most 80.00.
		{
			name: "charge_99.99_pays_79.99",
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "99.99"),
				// 99.99 x 0.8 = 79.992 -> 79.99 (0.2 of a cent rounds down); employee 99.99-79.99 = 20.00
				want: approved(core.Cents(2000), core.Cents(7999)).paidTo("provider P1"),
			}},
		},
		{
			name: "charge_100.00_pays_80.00",
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "100.00"),
				// 100.00 x 0.8 = 80.00, not above the maximum; employee 20.00
				want: approved(core.Cents(2000), core.Cents(8000)),
			}},
		},
		{
			name: "charge_100.01_capped_at_80.00",
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "100.01"),
				// 100.01 x 0.8 = 80.008 -> 80.01 > 80.00 -> 80.00; employee 100.01-80.00 = 20.01
				want: approved(core.Cents(2001), core.Cents(8000)),
			}},
		},
		{
			name: "charge_250.00_capped_at_80.00",
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "250.00"),
				// 250.00 x 0.8 = 200.00 -> 80.00; employee 170.00
				want: approved(core.Cents(17000), core.Cents(8000)),
			}},
		},
		{
			name: "charge_33.33_pays_26.66",
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "33.33"),
				// 33.33 x 0.8 = 26.664 -> 26.66; employee 33.33-26.66 = 6.67
				want: approved(core.Cents(667), core.Cents(2666)),
			}},
		},
		{
			name: "charge_10.01_pays_8.01",
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "10.01"),
				// 10.01 x 0.8 = 8.008 -> 8.01 (0.8 of a cent rounds up); employee 10.01-8.01 = 2.00
				want: approved(core.Cents(200), core.Cents(801)),
			}},
		},
		{
			name: "charge_0.63_pays_0.50",
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "0.63"),
				// 0.63 x 0.8 = 0.504 -> 0.50; employee 0.13
				want: approved(core.Cents(13), core.Cents(50)),
			}},
		},
		{
			name: "in_home_with_hours_pays_by_the_day",
			steps: []step{{
				line: invoice("INV-1", "E-J", "J1", "P1", "in_home", "2026-03-02", "6", "90.00"),
				// 90.00 x 0.8 = 72.00; employee 18.00
				want: approved(core.Cents(1800), core.Cents(7200)),
			}},
		},

		// Payee and provider registry.
		{
			name: "employee_payee_needs_no_registered_provider",
			steps: []step{{
				line: invoice("INV-1", "E-J", "J1", "P9", "center", "2026-03-02", "", "100.00", payee("employee")),
				want: approved(core.Cents(2000), core.Cents(8000)).paidTo("employee E-J"),
			}},
		},
		{
			name: "blank_payee_is_provider_and_must_be_registered",
			steps: []step{{
				line: invoice("INV-1", "E-J", "J1", "P9", "center", "2026-03-02", "", "100.00"),
				want: rejected(core.Cents(10000), core.ProviderUnknown),
			}},
		},
		{
			name: "provider_payee_must_be_registered",
			steps: []step{{
				line: invoice("INV-1", "E-J", "J1", "P9", "center", "2026-03-02", "", "100.00", payee("provider")),
				want: rejected(core.Cents(10000), core.ProviderUnknown),
			}},
		},
		{
			name: "provider_payee_registered",
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "100.00", payee("provider")),
				want: approved(core.Cents(2000), core.Cents(8000)).paidTo("provider P1"),
			}},
		},

		// 10 days per employee per plan year.
		{
			name:  "tenth_day_approved_eleventh_day_limit",
			prior: nineDays(),
			steps: []step{
				// day 10: 80.00; employee 20.00
				{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				// 10 of 10 used by E-J, whichever dependent -> DAY_LIMIT
				{line: jl("INV-2", "J2", "2026-03-04", "100.00"), want: rejected(core.Cents(10000), core.DayLimit)},
			},
		},
		{
			name:  "day_limit_counted_per_employee",
			prior: nineDays(),
			steps: []step{
				// E-J day 10
				{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				// J1 again, claimed by E-J2: E-J2's day 1
				{line: invoice("INV-2", "E-J2", "J1", "P1", "center", "2026-03-04", "", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				// E-J has no day left
				{line: jl("INV-3", "J2", "2026-03-06", "100.00"), want: rejected(core.Cents(10000), core.DayLimit)},
			},
		},
		{
			name:  "two_dependents_on_one_date_use_one_day",
			prior: nineDays(),
			steps: []step{
				// 03-02 is E-J's 10th day, for J1 and J2 alike
				{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-1", "J2", "2026-03-02", "50.00"), want: approved(core.Cents(1000), core.Cents(4000))},
				{line: jl("INV-2", "J1", "2026-03-04", "100.00"), want: rejected(core.Cents(10000), core.DayLimit)},
			},
		},
		{
			name:  "rejected_invoice_uses_no_day",
			prior: nineDays(),
			steps: []step{
				// provider did not sign: rejected, consumes nothing
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", signed("2026-03-02", "")), want: rejected(core.Cents(10000), core.UnsignedProvider)},
				// the signed invoice for the same care is no duplicate and gets day 10
				{line: jl("INV-2", "J1", "2026-03-02", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-3", "J2", "2026-03-04", "100.00"), want: rejected(core.Cents(10000), core.DayLimit)},
			},
		},
		{
			name:  "day_limit_resets_with_plan_year",
			prior: priorDays(jitc, "E-J", "J1", "center", "2025-01-06", 10, 2000, 8000, 0),
			steps: []step{
				// 2025: 10 of 10 used
				{line: jl("INV-1", "J2", "2025-12-29", "100.00"), want: rejected(core.Cents(10000), core.DayLimit)},
				// 2026: day 1
				{line: jl("INV-2", "J2", "2026-01-05", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
			},
		},

		// The 10th and later consecutive calendar day of care for one
		// dependent is not covered.
		{
			name: "tenth_consecutive_day_not_covered",
			// J1 in care 03-02..03-05 (4 days, 4 of E-J's days)
			prior: consecutivePrior("E-J", "J1", "2026-03-02", "2026-03-05"),
			steps: []step{
				// consecutive days 5..9 (weekend included), E-J's days 5..9: 80.00 each
				{line: jl("INV-1", "J1", "2026-03-06", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-1", "J1", "2026-03-07", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-1", "J1", "2026-03-08", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-1", "J1", "2026-03-09", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-1", "J1", "2026-03-10", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				// 03-11: consecutive day 10 -> CONSECUTIVE_LIMIT (9 days used, so no DAY_LIMIT)
				{line: jl("INV-1", "J1", "2026-03-11", "100.00"), want: rejected(core.Cents(10000), core.ConsecutiveLimit)},
				// 03-12: consecutive day 11 -> CONSECUTIVE_LIMIT
				{line: jl("INV-1", "J1", "2026-03-12", "100.00"), want: rejected(core.Cents(10000), core.ConsecutiveLimit)},
				// no care on 03-13: 03-14 is consecutive day 1, E-J's day 10
				{line: jl("INV-1", "J1", "2026-03-14", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				// consecutive day 2, but 10 of 10 days used
				{line: jl("INV-1", "J1", "2026-03-15", "100.00"), want: rejected(core.Cents(10000), core.DayLimit)},
			},
		},
		{
			name:  "consecutive_days_counted_per_dependent",
			prior: consecutivePrior("E-J", "J1", "2026-03-02", "2026-03-10"),
			steps: []step{
				// J1's consecutive day 10 -> CONSECUTIVE_LIMIT
				{line: jl("INV-1", "J1", "2026-03-11", "100.00"), want: rejected(core.Cents(10000), core.ConsecutiveLimit)},
				// J2's consecutive day 1; E-J's day 10 (03-02..03-10 were 9)
				{line: jl("INV-1", "J2", "2026-03-11", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
			},
		},
		{
			name:  "consecutive_days_counted_whichever_parent",
			prior: consecutivePrior("E-J", "J1", "2026-03-02", "2026-03-10"),
			steps: []step{{
				// J1's 10th consecutive day, claimed by E-J2 -> CONSECUTIVE_LIMIT
				line: invoice("INV-1", "E-J2", "J1", "P1", "center", "2026-03-11", "", "100.00"),
				want: rejected(core.Cents(10000), core.ConsecutiveLimit),
			}},
		},

		// Deadline: 60 days after the last service date and January 31
		// after the plan year, for the whole invoice.
		{
			name: "received_60_days_after_last_service_on_time",
			steps: []step{
				// last service 03-06: +25 = 03-31, +55 = 04-30, +60 = 05-05
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", signed("2026-03-06", "2026-03-06"), received("2026-05-05")), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-1", "J1", "2026-03-06", "100.00", signed("2026-03-06", "2026-03-06"), received("2026-05-05")), want: approved(core.Cents(2000), core.Cents(8000))},
			},
		},
		{
			name: "received_61_days_after_last_service_late",
			steps: []step{
				// 05-06 is day 61 after 03-06: the whole invoice is LATE, 03-02 row included
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", signed("2026-03-06", "2026-03-06"), received("2026-05-06")), want: rejected(core.Cents(10000), core.Late)},
				{line: jl("INV-1", "J1", "2026-03-06", "100.00", signed("2026-03-06", "2026-03-06"), received("2026-05-06")), want: rejected(core.Cents(10000), core.Late)},
			},
		},
		{
			name: "received_january_31_after_plan_year_on_time",
			steps: []step{{
				line: jl("INV-1", "J1", "2025-12-29", "100.00", signed("2025-12-29", "2025-12-29"), received("2026-01-31")),
				want: approved(core.Cents(2000), core.Cents(8000)),
			}},
		},
		{
			name: "received_february_1_after_plan_year_late",
			steps: []step{{
				// 34 days after service (within 60; 12-29 + 60 = 02-27) but after January 31 -> LATE
				line: jl("INV-1", "J1", "2025-12-29", "100.00", signed("2025-12-29", "2025-12-29"), received("2026-02-01")),
				want: rejected(core.Cents(10000), core.Late),
			}},
		},

		// Enrolment.
		{
			name:  "enrolled_30_days_after_first_service",
			setup: func(w *world) { w.employee("E-J").EnrolledOn = d("2026-04-01") },
			steps: []step{
				// first service 03-02 + 30 = 04-01: enrolled in time
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", received("2026-04-02")), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-1", "J1", "2026-03-03", "100.00", received("2026-04-02")), want: approved(core.Cents(2000), core.Cents(8000))},
			},
		},
		{
			name:  "enrolled_31_days_after_first_service_not_enrolled",
			setup: func(w *world) { w.employee("E-J").EnrolledOn = d("2026-04-02") },
			steps: []step{
				// 04-02 > 03-02 + 30: NOT_ENROLLED for the whole invoice, the 03-03 row too
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", received("2026-04-03")), want: rejected(core.Cents(10000), core.NotEnrolled)},
				{line: jl("INV-1", "J1", "2026-03-03", "100.00", received("2026-04-03")), want: rejected(core.Cents(10000), core.NotEnrolled)},
			},
		},
		{
			name: "employee_not_in_roster",
			steps: []step{{
				line: invoice("INV-1", "E-X", "J1", "P1", "center", "2026-03-02", "", "100.00"),
				want: rejected(core.Cents(10000), core.NotEnrolled),
			}},
		},
		{
			name:  "lapsed_by_last_used_on",
			setup: func(w *world) { w.employee("E-J").LastUsedOn = d("2023-03-01") },
			steps: []step{{
				// 2023-03-01 is more than 3 years before 2026-03-02 and enrolment (2020-01-02) is not after it
				line: jl("INV-1", "J1", "2026-03-02", "100.00"),
				want: rejected(core.Cents(10000), core.EnrollmentLapsed),
			}},
		},
		{
			name:  "last_used_exactly_3_years_before_not_lapsed",
			setup: func(w *world) { w.employee("E-J").LastUsedOn = d("2023-03-02") },
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "100.00"),
				want: approved(core.Cents(2000), core.Cents(8000)),
			}},
		},
		{
			name:  "lapsed_by_ledger_use",
			prior: []core.PriorLine{prior(jitc, "E-J", "J1", "P1", "center", "2022-11-14", 2000, 8000, 0)},
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "100.00"),
				want: rejected(core.Cents(10000), core.EnrollmentLapsed),
			}},
		},
		{
			name: "re_enrolled_after_lapse",
			setup: func(w *world) {
				w.employee("E-J").LastUsedOn = d("2022-05-02")
				w.employee("E-J").EnrolledOn = d("2026-02-16")
			},
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "100.00"),
				want: approved(core.Cents(2000), core.Cents(8000)),
			}},
		},
		{
			name:  "recent_ledger_use_outweighs_old_last_used_on",
			setup: func(w *world) { w.employee("E-J").LastUsedOn = d("2021-06-01") },
			prior: []core.PriorLine{prior(jitc, "E-J", "J1", "P1", "center", "2025-06-02", 2000, 8000, 0)},
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "100.00"),
				want: approved(core.Cents(2000), core.Cents(8000)),
			}},
		},

		// Signatures: both present, on or after the last service date.
		{
			name: "unsigned_employee",
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "100.00", signed("", "2026-03-02")),
				want: rejected(core.Cents(10000), core.UnsignedEmployee),
			}},
		},
		{
			name: "unsigned_provider",
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "100.00", signed("2026-03-02", "")),
				want: rejected(core.Cents(10000), core.UnsignedProvider),
			}},
		},
		{
			name: "unsigned_by_both",
			steps: []step{{
				line: jl("INV-1", "J1", "2026-03-02", "100.00", signed("", "")),
				want: rejected(core.Cents(10000), core.UnsignedEmployee, core.UnsignedProvider),
			}},
		},
		{
			name: "signed_before_last_service_date",
			steps: []step{
				// last service 03-04; the employee signed 03-03: both rows, the 03-02 row too
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", signed("2026-03-03", "2026-03-04")), want: rejected(core.Cents(10000), core.SignedBeforeService)},
				{line: jl("INV-1", "J1", "2026-03-04", "100.00", signed("2026-03-03", "2026-03-04")), want: rejected(core.Cents(10000), core.SignedBeforeService)},
			},
		},
		{
			name: "signed_on_last_service_date",
			steps: []step{
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", signed("2026-03-04", "2026-03-04")), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-1", "J1", "2026-03-04", "100.00", signed("2026-03-04", "2026-03-04")), want: approved(core.Cents(2000), core.Cents(8000))},
			},
		},

		// Duplicates.
		{
			name: "invoice_seen_before_duplicate_as_a_whole",
			seen: []string{"INV-1"},
			steps: []step{
				{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: rejected(core.Cents(10000), core.Duplicate)},
				{line: jl("INV-1", "J2", "2026-03-03", "100.00"), want: rejected(core.Cents(10000), core.Duplicate)},
			},
		},
		{
			name: "invoice_in_two_files_of_one_drop",
			steps: []step{
				{line: jl("INV-1", "J1", "2026-03-02", "100.00", seq(1)), want: approved(core.Cents(2000), core.Cents(8000))},
				// the second file to bring INV-1 brings a duplicate
				{line: jl("INV-1", "J1", "2026-03-04", "100.00", seq(2)), want: rejected(core.Cents(10000), core.Duplicate)},
			},
		},
		{
			name: "same_care_on_new_invoice_duplicate",
			steps: []step{
				{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: jl("INV-2", "J1", "2026-03-02", "100.00"), want: rejected(core.Cents(10000), core.Duplicate)},
			},
		},
		{
			name:  "same_care_in_earlier_run_duplicate",
			prior: []core.PriorLine{prior(jitc, "E-J", "J1", "P1", "center", "2026-03-02", 2000, 8000, 0)},
			steps: []step{{
				line: jl("INV-2", "J1", "2026-03-02", "100.00"),
				want: rejected(core.Cents(10000), core.Duplicate),
			}},
		},
		{
			name: "same_date_other_provider_not_duplicate",
			steps: []step{
				{line: jl("INV-1", "J1", "2026-03-02", "100.00"), want: approved(core.Cents(2000), core.Cents(8000))},
				{line: invoice("INV-2", "E-J", "J1", "P2", "center", "2026-03-02", "", "60.00"), want: approved(core.Cents(1200), core.Cents(4800))},
			},
		},
	})
}
