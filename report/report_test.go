package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"carepay/core"
	"carepay/ingest"
)

func TestDecisionsHeaderOnceAcrossBatches(t *testing.T) {
	for _, n := range []int{0, 1, 1024, 1025, 3000} {
		var b bytes.Buffer
		w := NewDecisionsWriter(&b)
		l := &core.Line{Kind: core.Statement, Source: "a.csv", Row: 2, Ref: "S1", ServiceDate: core.NewDate(2026, 3, 9), Charged: 12050}
		d := &core.Decision{Status: core.Partial, Reasons: []core.Reason{core.HoursCapped, core.AnnualCap}, Units: "4.50", EmployeeShare: 50, EmployerShare: 12000, PlanID: "p"}
		for i := 0; i < n; i++ {
			if err := w.Write(NewDecisionRow("R1", l, d)); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
		if len(lines) != n+1 || !strings.HasPrefix(lines[0], "run_id,source,row,") {
			t.Fatalf("%d rows: %d lines, first %q", n, len(lines), lines[0])
		}
		if n > 0 && lines[1] != "R1,a.csv,2,statement,S1,p,,,,,2026-03-09,4.50,120.50,0.50,120.00,partial,HOURS_CAPPED;ANNUAL_CAP,," {
			t.Errorf("row %q", lines[1])
		}
	}
}

func TestSummaryTotalsAndJSONIsStable(t *testing.T) {
	s := NewSummary("R1", core.NewDate(2026, 4, 10))
	l := &core.Line{Charged: 10000}
	s.Add(l, &core.Decision{PlanID: "a", Status: core.Approved, EmployerShare: 8000, EmployeeShare: 2000, PayeeType: "provider"})
	s.Add(l, &core.Decision{PlanID: "a", Status: core.Held, EmployerShare: 6000, EmployeeShare: 4000, PayeeType: "employee", Reasons: []core.Reason{core.AwaitingApproval}})
	s.Add(l, &core.Decision{Status: core.Rejected, EmployeeShare: 10000, Reasons: []core.Reason{core.NotEnrolled}})
	a := s.ByPlan["a"]
	if a.Lines != 2 || a.Approved != 8000 || a.Held != 6000 || a.Charged != 20000 || a.EmployeeShare != 6000 {
		t.Errorf("plan totals %+v", a)
	}
	if s.ByPlan["(no plan)"].Lines != 1 || s.ByReason["NOT_ENROLLED"] != 1 || s.ByStatus["held"] != 1 {
		t.Errorf("counts %+v %+v", s.ByReason, s.ByStatus)
	}
	j1, _ := s.JSON()
	j2, _ := s.JSON()
	if !bytes.Equal(j1, j2) || !bytes.Contains(j1, []byte(`"approved": "80.00"`)) {
		t.Errorf("run.json:\n%s", j1)
	}
}

func TestAckNamesEveryBadValue(t *testing.T) {
	rep := &ingest.FileReport{Name: "e.csv", Tables: []*ingest.TableReport{{
		Source: "e.csv", Kind: ingest.Employees, Rows: 3, RejectedRows: 1,
		Warnings: []string{"unknown columns ignored: x"},
		Errors:   []*core.RowError{{File: "e.csv", Row: 3, Column: "annual_income", Value: "abc", Msg: "want an amount"}},
	}}}
	got := string(Ack("R1", "2026-04-10", "e.csv", "taken", "", rep))
	for _, want := range []string{"status: taken", "rows: 3 read, 2 taken, 1 rejected", `e.csv:3:annual_income: want an amount (value "abc")`, "warning: unknown columns ignored: x"} {
		if !strings.Contains(got, want) {
			t.Errorf("ack lacks %q:\n%s", want, got)
		}
	}
	skipped := string(Ack("R2", "2026-04-11", "e.csv", "skipped", "R1", nil))
	if !strings.Contains(skipped, "processed in run R1") {
		t.Errorf("skipped ack:\n%s", skipped)
	}
}

// TestDecisionsHoldNoFormula reads decisions.csv back: text from the drop
// (file name, references, ids) that a spreadsheet would run is escaped
// with a leading apostrophe; numbers and plain text are left as they are.
func TestDecisionsHoldNoFormula(t *testing.T) {
	var b bytes.Buffer
	w := NewDecisionsWriter(&b)
	l := &core.Line{Kind: core.Invoice, Source: "=cmd.csv", Row: 7, Ref: "+INV-1", EmployeeID: "@E1", DependentID: "-D1",
		ProviderID: "\tP1", CareType: "center", ServiceDate: core.NewDate(2026, 3, 9), Charged: 12050}
	d := &core.Decision{Status: core.Approved, Units: "1", EmployeeShare: 0, EmployerShare: 12050, PlanID: "=plan",
		PayeeType: "provider", PayeeID: "\tP1"}
	if err := w.Write(NewDecisionRow("R1", l, d)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rows, err := csv.NewReader(&b).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"R1", "'=cmd.csv", "7", "invoice", "'+INV-1", "'=plan", "'@E1", "'-D1", "'\tP1", "center",
		"2026-03-09", "1", "120.50", "0.00", "120.50", "approved", "", "provider", "'\tP1"}
	if len(rows) != 2 || !reflect.DeepEqual(rows[1], want) {
		t.Fatalf("rows %q\nwant row 2 %q", rows, want)
	}
}

// TestSummaryListsWaitingFiles: files a source left for a later run are
// named in the printed summary (ten at most) and all in run.json, so the
// operator sees a drop that has not settled without -v.
func TestSummaryListsWaitingFiles(t *testing.T) {
	s := NewSummary("R1", core.NewDate(2026, 4, 10))
	if j, _ := s.JSON(); !bytes.Contains(j, []byte(`"waiting": []`)) {
		t.Errorf("run.json without waiting files:\n%s", j)
	}
	if strings.Contains(s.Text(), "waiting") {
		t.Errorf("summary:\n%s", s.Text())
	}
	s.Waiting = append(s.Waiting, WaitingFile{Source: "inbox", Name: "invoices.csv", Why: "modified 1.2s ago, less than the 5s a file must rest"})
	for i := range 11 {
		s.Waiting = append(s.Waiting, WaitingFile{Source: "ops", Name: fmt.Sprintf("f%02d.csv", i), Why: "no f.csv.done marker yet"})
	}
	text := s.Text()
	for _, want := range []string{
		"files: 0 taken, 0 skipped (seen before), 0 rejected\nwaiting: invoices.csv: modified 1.2s ago, less than the 5s a file must rest; left for a later run\n",
		"waiting: f08.csv: no f.csv.done marker yet; left for a later run\nwaiting: 2 more files left for a later run (see run.json)\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	j, _ := s.JSON()
	var back Summary
	if err := json.Unmarshal(j, &back); err != nil || !reflect.DeepEqual(back.Waiting, s.Waiting) {
		t.Errorf("run.json waiting = %+v, %v", back.Waiting, err)
	}
}

// A summary lists up to five held payments one by one; more are counted
// by reason. Worked by hand: 6 PAYMENT_DETAILS holds of 10.00 and 2
// PAYMENT_REVIEW of 60,000.00: 8 payments, 120,060.00.
func TestSummaryGroupsManyHeldPayments(t *testing.T) {
	s := NewSummary("R1", core.NewDate(2026, 4, 10))
	for i := range 6 {
		s.Held = append(s.Held, HeldPayment{PayeeType: "employee", PayeeID: fmt.Sprintf("E%d", i), Amount: 10_00, Reason: "PAYMENT_DETAILS", Detail: "routing number missing"})
	}
	few := s.Text()
	if strings.Count(few, "payment held:") != 0 || !strings.Contains(few, "payments held: 6 for $60.00") {
		t.Errorf("six holds:\n%s", few)
	}
	s.Held = s.Held[:5]
	if five := s.Text(); strings.Count(five, "payment held: employee E") != 5 {
		t.Errorf("five holds, one by one:\n%s", five)
	}
	s.Held = append(s.Held, HeldPayment{PayeeType: "employee", PayeeID: "E5", Amount: 10_00, Reason: "PAYMENT_DETAILS", Detail: "routing number missing"})
	s.Held = append(s.Held,
		HeldPayment{PaymentID: "PAY-7", PayeeType: "provider", PayeeID: "P1", Amount: 60_000_00, Reason: "PAYMENT_REVIEW"},
		HeldPayment{PaymentID: "PAY-8", PayeeType: "provider", PayeeID: "P2", Amount: 60_000_00, Reason: "PAYMENT_REVIEW"})
	text := s.Text()
	for _, want := range []string{
		"payments held: 8 for $120,060.00, each listed in run.json (payments_held) and register.xlsx (Exceptions)\n",
		"  PAYMENT_DETAILS      6 payments       $60.00  (bank or registry details to fix)\n",
		"  PAYMENT_REVIEW       2 payments  $120,000.00  (waiting for a second person: carepay approve PAY-n)\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "payment held:") {
		t.Errorf("eight holds listed one by one:\n%s", text)
	}
}

// Lines no plan applied to are said to be rejected, not "approved $0.00".
func TestSummaryNoPlanLines(t *testing.T) {
	s := NewSummary("R1", core.NewDate(2026, 4, 10))
	l := &core.Line{Charged: 50_00}
	s.Add(l, &core.Decision{Status: core.Rejected, Reasons: []core.Reason{core.NotEnrolled}})
	text := s.Text()
	if !strings.Contains(text, "  no plan            1 lines  rejected before any plan applied (employee not in the roster, or row unreadable)\n") ||
		strings.Contains(text, "approved        $0.00") {
		t.Errorf("summary:\n%s", text)
	}
}

// TestSummaryListsPrenotesAndFallbacks: the prenotes a run sent and the
// payments to ACH payees made by check instead, in the text and run.json,
// account numbers masked.
func TestSummaryListsPrenotesAndFallbacks(t *testing.T) {
	s := NewSummary("R1", core.NewDate(2026, 4, 10))
	s.AddPayments([]*core.Payment{{ID: 2, RunID: "R1", PayeeType: core.PayeeEmployee, PayeeID: "E301", Method: core.MethodCheck,
		Amount: 240_00, Lines: 3, Fallback: "details wait for their prenote"}}, nil)
	s.AddPrenotes([]*core.Payment{{ID: 4, PayeeType: core.PayeeEmployee, PayeeID: "E301", Method: core.MethodPrenote,
		Bank: core.BankAccount{Routing: "011000015", Number: "987654321", Type: "checking"}, TraceNumber: "121042880000008"}},
		core.NewDate(2026, 4, 16))
	text := s.Text()
	for _, want := range []string{
		"prenotes sent: 1\n",
		"prenote: PAY-4 employee E301, routing 011000015, checking account ****4321; live credits from 2026-04-16\n",
		"paid by check instead of ACH: PAY-2 employee E301 $240.00: details wait for their prenote\n",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("summary lacks %q:\n%s", want, text)
		}
	}
	js, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"trace_number": "121042880000008"`, `"live_credits_from": "2026-04-16"`, `"account": "****4321"`, `"paid_by_fallback"`} {
		if !strings.Contains(string(js), want) {
			t.Errorf("run.json lacks %s:\n%s", want, js)
		}
	}
	if strings.Contains(text+string(js), "987654321") {
		t.Error("the account number is shown unmasked")
	}
}

// TestDecisionColumnsAreTheRowsFields: the header names DecisionRow's
// fields in order, as SPEC.md lists decisions.csv's columns.
func TestDecisionColumnsAreTheRowsFields(t *testing.T) {
	rt := reflect.TypeOf(DecisionRow{})
	var tags []string
	for i := 0; i < rt.NumField(); i++ {
		tags = append(tags, rt.Field(i).Tag.Get("csv"))
	}
	if !reflect.DeepEqual(tags, decisionColumns) {
		t.Errorf("header %q, fields %q", decisionColumns, tags)
	}
}
