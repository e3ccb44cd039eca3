package rules

import (
	"fmt"
	"slices"
	"time"

	"carepay/core"
)

// Plan kinds.
const (
	KindCopay  = "copay"
	KindHourly = "hourly"
	KindDaily  = "daily"
)

// Plan is one employer plan, as configured under [plans.ID] in config.toml.
// Every number a plan's rules use is here, so another employer's tiers,
// limits or deadlines are a config change.
type Plan struct {
	ID   string `toml:"-"`
	Kind string `toml:"kind"`
	Name string `toml:"name"`

	// Lines is the kind of service line the plan pays from: "statement" or
	// "invoice".
	Lines string `toml:"lines"`
	// Payee is "provider", "employee" or "either" (the invoice's payee
	// column, blank meaning provider).
	Payee string `toml:"payee"`
	// YearStartMonth is the first month of the plan year; 1 is a calendar
	// year.
	YearStartMonth int `toml:"year_start_month"`

	// CareTypes the plan covers; a line of another care type is
	// DEPENDENT_INELIGIBLE.
	CareTypes []string `toml:"care_types"`
	// EmploymentTypes eligible for the plan; empty means all.
	EmploymentTypes []string `toml:"employment_types"`
	// Relationships eligible for the plan; empty means all.
	Relationships []string `toml:"relationships"`
	// SelfCareEligible makes any dependent incapable of self care eligible
	// whatever the relationship and age.
	SelfCareEligible bool `toml:"incapable_of_self_care_eligible"`
	// MinAgeDays is the youngest age, in days, on the service date.
	MinAgeDays int `toml:"min_age_days"`
	// MaxAgeYears: a dependent must not yet have turned this age on the
	// service date; 0 means no limit.
	MaxAgeYears int `toml:"max_age_years"`
	// RequireRegistration: the dependent's registered_on must be on or
	// before the service date.
	RequireRegistration bool `toml:"require_registration"`
	// WorkdaysOnly: care only Monday to Friday, unless the employee is on
	// military leave and MilitaryLeaveExempt is set.
	WorkdaysOnly        bool `toml:"workdays_only"`
	MilitaryLeaveExempt bool `toml:"military_leave_exempt"`

	// EnrollmentGraceDays: enrolled_on may be at most this many days after
	// the first service date of the invoice or the line. 0 (every plan but
	// jitc-invoice) means the employee must be enrolled on or before each
	// line's service date.
	EnrollmentGraceDays int `toml:"enrollment_grace_days"`
	// ReenrollAfterYears: an employee whose last use is more than this many
	// years before the service date must have enrolled after that use; 0
	// turns the rule off.
	ReenrollAfterYears int `toml:"reenroll_after_years"`

	// Deadlines (LATE). Zero turns a deadline off.
	DaysAfterPeriod      int `toml:"days_after_period"`       // statements: after the period's last day
	DaysAfterLastService int `toml:"days_after_last_service"` // invoices: after the last service date
	DaysAfterYearEnd     int `toml:"days_after_year_end"`     // after the plan year's last day

	// RequireApproval holds lines (AWAITING_APPROVAL) until their statement
	// is approved.
	RequireApproval bool `toml:"require_approval"`

	// Tiers by annual income, lowest first; a tier applies from its From
	// amount (inclusive) up to the next tier's From.
	Tiers []Tier `toml:"tiers"`

	// DayLimit days of care per plan year, counted per DayLimitPer
	// ("dependent" or "employee"); 0 means no limit.
	DayLimit    int    `toml:"day_limit"`
	DayLimitPer string `toml:"day_limit_per"`
	// ConsecutiveDayLimit: this consecutive calendar day of care for one
	// dependent, and later ones, are not covered; 0 means no limit.
	ConsecutiveDayLimit int `toml:"consecutive_day_limit"`

	// MinHours: billed hours below this are raised to it.
	MinHours int `toml:"min_hours"`
	// MaxCoveredHours per line and day (copay in-home care); 0 means none.
	MaxCoveredHours int `toml:"max_covered_hours"`
	// PlacementHours: a row longer than this counts as two placements, and
	// a placement left covers this many hours.
	PlacementHours int `toml:"placement_hours"`
	// Placements per employee per plan year; 0 means no limit.
	Placements int `toml:"placements"`

	// AnnualCap on the employer's payments per employee per plan year; 0
	// means none. With CapIncludesOtherBenefits the employee's
	// other_benefits count against it.
	AnnualCap                core.Cents `toml:"annual_cap"`
	CapIncludesOtherBenefits bool       `toml:"cap_includes_other_benefits"`

	// SubsidyPercent of each day's charge, at most DailyMax (daily plans).
	SubsidyPercent int        `toml:"subsidy_percent"`
	DailyMax       core.Cents `toml:"daily_max"`

	// PaymentDueDays after receipt; a later payment is flagged.
	PaymentDueDays int `toml:"payment_due_days"`
}

// Tier is one income band of a plan.
type Tier struct {
	From           core.Cents `toml:"from"`
	DailyCopay     core.Cents `toml:"daily_copay"`
	FamilyDailyMax core.Cents `toml:"family_daily_max"`
	HourlyCopay    core.Cents `toml:"hourly_copay"`
	HourlyRate     core.Cents `toml:"hourly_rate"`
}

// FieldError is a plan setting that cannot work, named by its key below
// [plans.ID].
type FieldError struct {
	Key string
	Msg string
}

func (e *FieldError) Error() string { return e.Key + ": " + e.Msg }

// TierFor returns the index of the tier for an annual income.
func (p *Plan) TierFor(income core.Cents) int {
	t := 0
	for i, tier := range p.Tiers {
		if income >= tier.From {
			t = i
		}
	}
	return t
}

// YearOf returns the plan year a date belongs to, named by the calendar
// year in which it starts.
func (p *Plan) YearOf(d core.Date) int {
	y, m, _ := d.YMD()
	if p.YearStartMonth > 1 && int(m) < p.YearStartMonth {
		return y - 1
	}
	return y
}

// YearEnd returns the last day of plan year y.
func (p *Plan) YearEnd(y int) core.Date {
	start := p.YearStartMonth
	if start < 1 {
		start = 1
	}
	return core.NewDate(y+1, time.Month(start), 1).AddDays(-1)
}

// Validate returns every setting of p that cannot work, each naming its key.
func (p *Plan) Validate() []error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, &FieldError{Key: key, Msg: fmt.Sprintf(format, a...)})
	}
	switch p.Kind {
	case KindCopay, KindHourly, KindDaily:
	case "":
		bad("kind", "missing; want one of copay, hourly, daily")
		return errs
	default:
		bad("kind", "unknown plan kind %q; want one of copay, hourly, daily", p.Kind)
		return errs
	}
	switch p.Lines {
	case "statement", "invoice":
	default:
		bad("lines", "%q: want statement or invoice", p.Lines)
	}
	switch p.Payee {
	case core.PayeeProvider, core.PayeeEmployee:
	case "either":
		if p.Lines != "invoice" {
			bad("payee", `"either" needs lines = "invoice" (the invoice's payee column chooses)`)
		}
	default:
		bad("payee", "%q: want provider, employee or either", p.Payee)
	}
	if p.YearStartMonth < 1 || p.YearStartMonth > 12 {
		bad("year_start_month", "%d: want a month from 1 to 12", p.YearStartMonth)
	}
	checkList := func(key string, got, allowed []string) {
		for _, v := range got {
			if !slices.Contains(allowed, v) {
				bad(key, "unknown value %q; want one of %v", v, allowed)
			}
		}
	}
	if len(p.CareTypes) == 0 {
		bad("care_types", "empty; list the care types the plan covers")
	}
	checkList("care_types", p.CareTypes, core.CareTypes)
	checkList("employment_types", p.EmploymentTypes, core.EmploymentTypes)
	checkList("relationships", p.Relationships, core.Relationships)
	for key, v := range map[string]int{
		"min_age_days": p.MinAgeDays, "max_age_years": p.MaxAgeYears,
		"enrollment_grace_days": p.EnrollmentGraceDays, "reenroll_after_years": p.ReenrollAfterYears,
		"days_after_period": p.DaysAfterPeriod, "days_after_last_service": p.DaysAfterLastService,
		"days_after_year_end": p.DaysAfterYearEnd, "day_limit": p.DayLimit,
		"consecutive_day_limit": p.ConsecutiveDayLimit, "min_hours": p.MinHours,
		"max_covered_hours": p.MaxCoveredHours, "placement_hours": p.PlacementHours,
		"placements": p.Placements, "subsidy_percent": p.SubsidyPercent,
		"payment_due_days": p.PaymentDueDays,
	} {
		if v < 0 {
			bad(key, "%d is negative", v)
		}
	}
	if p.MaxCoveredHours > 24 || p.MinHours > 24 || p.PlacementHours > 24 {
		bad("min_hours", "hours settings must be at most 24")
	}
	if p.MaxCoveredHours > 0 && p.MinHours > p.MaxCoveredHours {
		bad("min_hours", "%d is above max_covered_hours %d", p.MinHours, p.MaxCoveredHours)
	}
	if p.DayLimit > 0 && p.DayLimitPer != "dependent" && p.DayLimitPer != "employee" {
		bad("day_limit_per", "%q: want dependent or employee", p.DayLimitPer)
	}
	if p.AnnualCap < 0 {
		bad("annual_cap", "%s is negative", p.AnnualCap)
	}
	if p.DailyMax < 0 {
		bad("daily_max", "%s is negative", p.DailyMax)
	}
	if p.SubsidyPercent > 100 {
		bad("subsidy_percent", "%d is above 100", p.SubsidyPercent)
	}
	if len(p.Tiers) == 0 && p.Kind != KindDaily {
		bad("tiers", "a %s plan needs at least one income tier", p.Kind)
	}
	for i, t := range p.Tiers {
		key := fmt.Sprintf("tiers[%d]", i)
		if i == 0 && t.From != 0 {
			bad(key+".from", "the first tier must start at 0, not %s", t.From)
		}
		if i > 0 && t.From <= p.Tiers[i-1].From {
			bad(key+".from", "%s is not above the previous tier's %s: tiers must be in increasing order", t.From, p.Tiers[i-1].From)
		}
		for name, v := range map[string]core.Cents{"daily_copay": t.DailyCopay, "family_daily_max": t.FamilyDailyMax, "hourly_copay": t.HourlyCopay, "hourly_rate": t.HourlyRate} {
			if v < 0 {
				bad(key+"."+name, "%s is negative", v)
			}
		}
	}
	switch p.Kind {
	case KindCopay:
		if p.Payee != core.PayeeProvider {
			bad("payee", "a copay plan pays the provider; got %q", p.Payee)
		}
		for i, t := range p.Tiers {
			if t.FamilyDailyMax > 0 && t.FamilyDailyMax < t.DailyCopay {
				bad(fmt.Sprintf("tiers[%d].family_daily_max", i), "%s is below daily_copay %s", t.FamilyDailyMax, t.DailyCopay)
			}
		}
	case KindHourly:
		for i, t := range p.Tiers {
			if t.HourlyRate == 0 {
				bad(fmt.Sprintf("tiers[%d].hourly_rate", i), "missing or zero")
			}
		}
		if p.Placements > 0 && p.PlacementHours == 0 {
			bad("placement_hours", "needed with placements")
		}
	case KindDaily:
		if p.SubsidyPercent == 0 {
			bad("subsidy_percent", "missing or zero")
		}
	}
	return errs
}
