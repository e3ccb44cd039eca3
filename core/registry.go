package core

// Employment types named by SPEC.md.
const (
	RegularFullTime = "regular_full_time"
	RegularPartTime = "regular_part_time"
	Temporary       = "temporary"
	Limited         = "limited"
	Casual          = "casual"
	Student         = "student"
)

// Payment methods.
const (
	MethodACH     = "ach"
	MethodCheck   = "check"
	MethodPayroll = "payroll"
)

// Care types.
const (
	CareCenter          = "center"
	CareFamilyChildCare = "family_child_care"
	CareInHome          = "in_home"
	CareAdult           = "adult_care"
)

// EmploymentTypes, PaymentMethods, AccountTypes, Relationships,
// LeaveStatuses and CareTypes list the values SPEC.md allows.
var (
	EmploymentTypes = []string{RegularFullTime, RegularPartTime, Temporary, Limited, Casual, Student}
	PaymentMethods  = []string{MethodACH, MethodCheck, MethodPayroll}
	AccountTypes    = []string{"checking", "savings"}
	Relationships   = []string{"child", "stepchild", "adopted", "foster", "ward", "partner_child", "spouse", "partner", "parent", "other_adult"}
	LeaveStatuses   = []string{"none", "military"}
	CareTypes       = []string{CareCenter, CareFamilyChildCare, CareInHome, CareAdult}
)

// Address is a postal address.
type Address struct {
	Line1, Line2, City, State, PostalCode string
}

// BankAccount holds payment details. Number is the full account number in
// memory only; the ledger keeps it encrypted and everything shown to people
// uses Masked.
type BankAccount struct {
	Routing string
	Number  string
	Type    string // checking or savings
}

// Masked returns the account number with all but the last four digits
// hidden, e.g. "****6789".
func (b BankAccount) Masked() string { return MaskAccount(b.Number) }

// MaskAccount hides all but the last four characters of an account number.
func MaskAccount(n string) string {
	if n == "" {
		return ""
	}
	if len(n) <= 4 {
		return "****" + n
	}
	return "****" + n[len(n)-4:]
}

// Employee is one roster row.
type Employee struct {
	ID             string
	FirstName      string
	LastName       string
	PlanID         string
	EmploymentType string
	AnnualIncome   Cents
	EnrolledOn     Date
	Address        Address
	Email          string
	PaymentMethod  string
	Bank           BankAccount
	OtherBenefits  Cents
	LeaveStatus    string
	LastUsedOn     Date
}

// OnMilitaryLeave reports whether the employee is on approved military
// leave, which lifts the work-day rule.
func (e *Employee) OnMilitaryLeave() bool { return e.LeaveStatus == "military" }

// Dependent is a child or adult in care, registered to one employee.
type Dependent struct {
	EmployeeID      string
	ID              string
	FirstName       string
	LastName        string
	BirthDate       Date
	Relationship    string
	IncapableOfSelf bool
	RegisteredOn    Date
}

// IsChild reports whether the relationship makes the dependent a child of
// the employee's household.
func (d *Dependent) IsChild() bool {
	switch d.Relationship {
	case "child", "stepchild", "adopted", "foster", "ward", "partner_child":
		return true
	}
	return false
}

// Provider is a care provider that bills or is paid.
type Provider struct {
	ID            string
	Name          string
	TaxID         string
	Address       Address
	Email         string
	PaymentMethod string
	Bank          BankAccount
}
