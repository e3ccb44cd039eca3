package report

import (
	"encoding/csv"
	"fmt"
	"io"

	"github.com/gocarina/gocsv"

	"carepay/core"
	"carepay/payout"
)

// DecisionRow is one row of decisions.csv, in SPEC.md's columns and order.
type DecisionRow struct {
	RunID         string `csv:"run_id"`
	Source        string `csv:"source"`
	Row           int    `csv:"row"`
	Kind          string `csv:"kind"`
	Ref           string `csv:"ref"`
	PlanID        string `csv:"plan_id"`
	EmployeeID    string `csv:"employee_id"`
	DependentID   string `csv:"dependent_id"`
	ProviderID    string `csv:"provider_id"`
	CareType      string `csv:"care_type"`
	ServiceDate   string `csv:"service_date"`
	Units         string `csv:"units"`
	Charged       string `csv:"charged"`
	EmployeeShare string `csv:"employee_share"`
	EmployerShare string `csv:"employer_share"`
	Status        string `csv:"status"`
	Reasons       string `csv:"reasons"`
	PayeeType     string `csv:"payee_type"`
	PayeeID       string `csv:"payee_id"`
}

// NewDecisionRow flattens a decided line.
func NewDecisionRow(runID string, l *core.Line, d *core.Decision) DecisionRow {
	return DecisionRow{
		RunID: runID, Source: l.Source, Row: l.Row, Kind: string(l.Kind), Ref: l.Ref, PlanID: d.PlanID,
		EmployeeID: l.EmployeeID, DependentID: l.DependentID, ProviderID: l.ProviderID, CareType: l.CareType,
		ServiceDate: l.ServiceDate.String(), Units: d.Units, Charged: l.Charged.String(),
		EmployeeShare: d.EmployeeShare.String(), EmployerShare: d.EmployerShare.String(),
		Status: string(d.Status), Reasons: d.ReasonList(), PayeeType: d.PayeeType, PayeeID: d.PayeeID,
	}
}

// DecisionsWriter streams decisions.csv: rows are buffered in small batches
// and marshalled by gocsv, the header written once.
type DecisionsWriter struct {
	out     *gocsv.SafeCSVWriter
	batch   []DecisionRow
	started bool
}

// NewDecisionsWriter writes decisions.csv to w.
func NewDecisionsWriter(w io.Writer) *DecisionsWriter {
	return &DecisionsWriter{out: gocsv.NewSafeCSVWriter(csv.NewWriter(w))}
}

// Write adds a row. Text cells are escaped so that no spreadsheet opening
// decisions.csv runs one as a formula (payout.CellSafe).
func (d *DecisionsWriter) Write(r DecisionRow) error {
	for _, c := range []*string{&r.RunID, &r.Source, &r.Kind, &r.Ref, &r.PlanID, &r.EmployeeID, &r.DependentID,
		&r.ProviderID, &r.CareType, &r.ServiceDate, &r.Units, &r.Charged, &r.EmployeeShare, &r.EmployerShare,
		&r.Status, &r.Reasons, &r.PayeeType, &r.PayeeID} {
		*c = payout.CellSafe(*c)
	}
	d.batch = append(d.batch, r)
	if len(d.batch) >= 1024 {
		return d.flush()
	}
	return nil
}

func (d *DecisionsWriter) flush() error {
	var err error
	if !d.started {
		err = gocsv.MarshalCSV(d.batch, d.out)
		d.started = true
	} else if len(d.batch) > 0 {
		err = gocsv.MarshalCSVWithoutHeaders(d.batch, d.out)
	}
	d.batch = d.batch[:0]
	if err != nil {
		return fmt.Errorf("writing decisions.csv: %w", err)
	}
	return nil
}

// Close writes what is buffered (and the header, for a run with no lines).
func (d *DecisionsWriter) Close() error {
	if err := d.flush(); err != nil {
		return err
	}
	d.out.Flush()
	return d.out.Error()
}
