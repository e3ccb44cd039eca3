package rules

import "carepay/core"

// Registry looks up the roster, dependents and providers as they stand
// after the registries of the current drop were applied.
type Registry interface {
	Employee(id string) (*core.Employee, bool, error)
	Dependent(employeeID, dependentID string) (*core.Dependent, bool, error)
	Provider(id string) (*core.Provider, bool, error)
}

// History answers what earlier runs decided. The ledger implements it; the
// Engine asks once per employee, dependent, invoice and statement and keeps
// the answer for the rest of the run.
type History interface {
	// EmployeeLines returns the earlier lines of an employee that count.
	EmployeeLines(employeeID string) ([]core.PriorLine, error)
	// DependentLines returns the earlier lines of a dependent, whichever
	// employee claimed them, that count.
	DependentLines(dependentID string) ([]core.PriorLine, error)
	// StatementApproved reports whether a statement was approved.
	StatementApproved(ref string) (bool, error)
}
