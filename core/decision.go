package core

import "strings"

// Status is the outcome of one service line.
type Status string

// The four statuses of SPEC.md.
const (
	Approved Status = "approved"
	Partial  Status = "partial"
	Rejected Status = "rejected"
	Held     Status = "held"
)

// Reason is a code explaining a decision. A line may carry several.
type Reason string

// Reason codes, in the order SPEC.md lists them.
const (
	NotEnrolled            Reason = "NOT_ENROLLED"
	EnrollmentLapsed       Reason = "ENROLLMENT_LAPSED"
	EmployeeIneligible     Reason = "EMPLOYEE_INELIGIBLE"
	UnknownPlan            Reason = "UNKNOWN_PLAN"
	DependentUnknown       Reason = "DEPENDENT_UNKNOWN"
	DependentNotRegistered Reason = "DEPENDENT_NOT_REGISTERED"
	DependentIneligible    Reason = "DEPENDENT_INELIGIBLE"
	NotWorkday             Reason = "NOT_WORKDAY"
	UnsignedEmployee       Reason = "UNSIGNED_EMPLOYEE"
	UnsignedProvider       Reason = "UNSIGNED_PROVIDER"
	SignedBeforeService    Reason = "SIGNED_BEFORE_SERVICE"
	Late                   Reason = "LATE"
	Duplicate              Reason = "DUPLICATE"
	DayLimit               Reason = "DAY_LIMIT"
	PlacementLimit         Reason = "PLACEMENT_LIMIT"
	ConsecutiveLimit       Reason = "CONSECUTIVE_LIMIT"
	HoursCapped            Reason = "HOURS_CAPPED"
	AnnualCap              Reason = "ANNUAL_CAP"
	BenefitMaxed           Reason = "BENEFIT_MAXED"
	ProviderUnknown        Reason = "PROVIDER_UNKNOWN"
	InvalidHours           Reason = "INVALID_HOURS"
	InvalidRow             Reason = "INVALID_ROW"
	AwaitingApproval       Reason = "AWAITING_APPROVAL"
	PaymentDetails         Reason = "PAYMENT_DETAILS"
	PaymentReview          Reason = "PAYMENT_REVIEW"
)

// AllReasons lists every reason code in SPEC.md order.
var AllReasons = []Reason{
	NotEnrolled, EnrollmentLapsed, EmployeeIneligible, UnknownPlan,
	DependentUnknown, DependentNotRegistered, DependentIneligible,
	NotWorkday, UnsignedEmployee, UnsignedProvider, SignedBeforeService,
	Late, Duplicate, DayLimit, PlacementLimit, ConsecutiveLimit,
	HoursCapped, AnnualCap, BenefitMaxed, ProviderUnknown, InvalidHours,
	InvalidRow, AwaitingApproval, PaymentDetails, PaymentReview,
}

// Payee types.
const (
	PayeeEmployee = "employee"
	PayeeProvider = "provider"
)

// Decision is what carepay decided for one service line.
type Decision struct {
	Status        Status
	Reasons       []Reason
	PlanID        string
	Units         string // "1" for a day of care, billed hours otherwise
	EmployeeShare Cents
	EmployerShare Cents
	PayeeType     string
	PayeeID       string

	// FinalStatus is the status a held line takes once approved.
	FinalStatus Status

	// Usage this line consumed, kept in the ledger for later limits.
	Placements int  // pinch-hourly placements
	CareDay    bool // the line is a day of care for day and consecutive counts
	DayUsed    bool // the line used one of the plan's days

	// Explanation is the rule-by-rule account of the decision for
	// `explain`, one step a line.
	Explanation string

	// Fault is, for a line the rules found INVALID_ROW though every value
	// parsed (an invoice naming two employees, a line of the wrong kind
	// for the plan), the column at fault and what was wrong, in the words
	// of a RowError; nil otherwise. Values that did not parse are in the
	// line's Errors.
	Fault *RowError
}

// ReasonList joins the reasons with ";" as decisions.csv writes them.
func (d *Decision) ReasonList() string {
	s := make([]string, len(d.Reasons))
	for i, r := range d.Reasons {
		s[i] = string(r)
	}
	return strings.Join(s, ";")
}

// Has reports whether d carries reason r.
func (d *Decision) Has(r Reason) bool {
	for _, x := range d.Reasons {
		if x == r {
			return true
		}
	}
	return false
}

// Add appends r unless d already carries it.
func (d *Decision) Add(r Reason) {
	if !d.Has(r) {
		d.Reasons = append(d.Reasons, r)
	}
}
