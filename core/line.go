package core

// LineKind tells whether a service line came from an invoice or a provider
// statement.
type LineKind string

// The two kinds of service line.
const (
	Invoice   LineKind = "invoice"
	Statement LineKind = "statement"
)

// Line is one row of care claimed on an invoice or a statement, as parsed,
// plus where it came from. Fields that failed to parse are left zero and
// the failures are listed in Errors; such a line is rejected INVALID_ROW.
type Line struct {
	Kind   LineKind
	Source string // file name as dropped; name.xlsx#Sheet for a workbook
	Row    int    // spreadsheet row number, the header being row 1
	Seq    int    // arrival order of the file within its drop

	Ref         string // invoice_id or statement_id
	LineID      string // statements only, optional
	EmployeeID  string
	DependentID string
	ProviderID  string
	CareType    string
	ServiceDate Date
	Hours       Hours // 0 when blank
	HasHours    bool
	Charged     Cents

	EmployeeSignedOn Date // invoices
	ProviderSignedOn Date // invoices
	ReceivedOn       Date
	Payee            string // invoices: employee, provider or blank

	Period  Period // statements
	Mileage string // statements: recorded, never reimbursed

	Errors []*RowError
}

// Invalid reports whether some value of the line did not parse.
func (l *Line) Invalid() bool { return len(l.Errors) > 0 }

// InvoiceSummary is what the rules need to know about a whole invoice: the
// set of its valid rows.
type InvoiceSummary struct {
	Ref          string
	FirstService Date
	LastService  Date
	Rows         int
	Employees    int // distinct employee_id values among its rows
	Providers    int // distinct provider_id values among its rows
	FirstSeq     int // arrival of the file that brought it first
	// SeenBefore: an earlier run took a line of the invoice that was not
	// rejected, so this copy is a DUPLICATE as a whole.
	SeenBefore bool
}

// PriorLine is one line decided in an earlier run that still counts towards
// duplicates or limits: any line not rejected, and rejected lines that were
// days of care (CareDay) for the consecutive-day rule.
type PriorLine struct {
	PlanID        string
	EmployeeID    string
	DependentID   string
	ProviderID    string
	CareType      string
	ServiceDate   Date
	Status        Status
	CareDay       bool
	DayUsed       bool
	Placements    int
	EmployeeShare Cents
	EmployerShare Cents
}
