package report

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"

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

// decisionColumns is decisions.csv's header: DecisionRow's fields, in
// order.
var decisionColumns = []string{"run_id", "source", "row", "kind", "ref", "plan_id", "employee_id", "dependent_id",
	"provider_id", "care_type", "service_date", "units", "charged", "employee_share", "employer_share", "status",
	"reasons", "payee_type", "payee_id"}

// DecisionsWriter streams decisions.csv, the header written once.
type DecisionsWriter struct {
	out     *csv.Writer
	record  []string
	started bool
}

// NewDecisionsWriter writes decisions.csv to w.
func NewDecisionsWriter(w io.Writer) *DecisionsWriter {
	return &DecisionsWriter{out: csv.NewWriter(w), record: make([]string, 0, len(decisionColumns))}
}

// Write adds a row. Text cells are escaped so that no spreadsheet opening
// decisions.csv runs one as a formula (payout.CellSafe).
func (d *DecisionsWriter) Write(r DecisionRow) error {
	if err := d.header(); err != nil {
		return err
	}
	rec := append(d.record[:0], r.RunID, r.Source, strconv.Itoa(r.Row), r.Kind, r.Ref, r.PlanID, r.EmployeeID, r.DependentID,
		r.ProviderID, r.CareType, r.ServiceDate, r.Units, r.Charged, r.EmployeeShare, r.EmployerShare, r.Status,
		r.Reasons, r.PayeeType, r.PayeeID)
	for i := range rec {
		if i != 2 { // the row number
			rec[i] = payout.CellSafe(rec[i])
		}
	}
	if err := d.out.Write(rec); err != nil {
		return fmt.Errorf("writing decisions.csv: %w", err)
	}
	return nil
}

func (d *DecisionsWriter) header() error {
	if d.started {
		return nil
	}
	d.started = true
	if err := d.out.Write(decisionColumns); err != nil {
		return fmt.Errorf("writing decisions.csv: %w", err)
	}
	return nil
}

// Close writes what is buffered (and the header, for a run with no lines).
func (d *DecisionsWriter) Close() error {
	if err := d.header(); err != nil {
		return err
	}
	d.out.Flush()
	if err := d.out.Error(); err != nil {
		return fmt.Errorf("writing decisions.csv: %w", err)
	}
	return nil
}
