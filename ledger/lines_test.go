package ledger

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"carepay/core"
	"carepay/internal/ledgertest"
)

// TestInvoicesSeen checks that the many-invoice lookup a run makes before
// deciding answers as InvoiceSeen does: an invoice whose every line was
// rejected is not seen (sent again it is a correction), one with a line
// not rejected is, a statement is no invoice, and the lines of the run
// itself do not count. The refs span several queries.
func TestInvoicesSeen(t *testing.T) {
	l := open(t, ledgertest.Target(t, "l.db"))
	ctx := context.Background()
	tx, err := l.Begin(ctx, core.NewDate(2026, 4, 10), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	put := func(tx *Tx, kind core.LineKind, ref string, status core.Status) {
		t.Helper()
		ln := core.Line{Kind: kind, Source: "f.csv", Row: 2, Ref: ref, EmployeeID: "E1", DependentID: "D1", ProviderID: "P1",
			CareType: "center", ServiceDate: core.NewDate(2026, 3, 2), Charged: 100}
		d := core.Decision{Status: status, PlanID: "jitc-invoice", Units: "1", PayeeType: "provider", PayeeID: "P1"}
		if err := tx.PutDecision(&ln, &d, 0); err != nil {
			t.Fatal(err)
		}
	}
	put(tx, core.Invoice, "INV-rejected", core.Rejected)
	put(tx, core.Invoice, "INV-rejected", core.Rejected)
	put(tx, core.Invoice, "INV-partly", core.Rejected)
	put(tx, core.Invoice, "INV-partly", core.Approved)
	put(tx, core.Statement, "ST-1", core.Approved)
	for i := range 700 {
		put(tx, core.Invoice, fmt.Sprintf("INV-%d", i), core.Held)
	}
	if err := tx.Commit(nil); err != nil {
		t.Fatal(err)
	}
	tx, err = l.Begin(ctx, core.NewDate(2026, 4, 11), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	put(tx, core.Invoice, "INV-this-run", core.Approved)
	refs := []string{"INV-rejected", "INV-partly", "ST-1", "INV-new", "INV-this-run"}
	for i := range 700 {
		refs = append(refs, fmt.Sprintf("INV-%d", i))
	}
	if err := tx.flush(); err != nil {
		t.Fatal(err)
	}
	seen, err := tx.InvoicesSeen(refs)
	if err != nil {
		t.Fatal(err)
	}
	for _, ref := range refs {
		one, err := tx.InvoiceSeen(ref)
		if err != nil {
			t.Fatal(err)
		}
		if seen[ref] != one {
			t.Errorf("%s: InvoicesSeen %v, InvoiceSeen %v", ref, seen[ref], one)
		}
	}
	if len(seen) != 701 || !seen["INV-partly"] || !seen["INV-699"] || seen["INV-rejected"] || seen["ST-1"] || seen["INV-this-run"] {
		t.Errorf("seen %d invoices: %v %v %v %v %v", len(seen), seen["INV-partly"], seen["INV-699"], seen["INV-rejected"], seen["ST-1"], seen["INV-this-run"])
	}
}

// TestUnreadableValueKept checks that a line that could not be read keeps
// its first unreadable value (column, value, what was wrong) for the
// register and the letters, an account number masked before it is
// stored, while other lines carry none; and that a letter's rows say
// whether the dependent is registered.
func TestUnreadableValueKept(t *testing.T) {
	l := open(t, ledgertest.Target(t, "l.db"))
	ctx := context.Background()
	tx, err := l.Begin(ctx, core.NewDate(2026, 4, 10), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := tx.PutDependent(&core.Dependent{EmployeeID: "E1", ID: "D1", FirstName: "Ada", LastName: "Lee", BirthDate: core.NewDate(2020, 1, 1),
		Relationship: "child"}); err != nil {
		t.Fatal(err)
	}
	put := func(row int, dep string, errs ...*core.RowError) {
		t.Helper()
		ln := core.Line{Kind: core.Invoice, Source: "f.csv", Row: row, Ref: "INV-1", EmployeeID: "E1", DependentID: dep, ProviderID: "P1",
			CareType: "center", ServiceDate: core.NewDate(2026, 3, 2), Charged: 100, Errors: errs}
		d := core.Decision{Status: core.Rejected, Reasons: []core.Reason{core.InvalidRow}, Units: "1"}
		if len(errs) == 0 {
			d = core.Decision{Status: core.Approved, PlanID: "jitc-invoice", Units: "1", PayeeType: "provider", PayeeID: "P1"}
		}
		if err := tx.PutDecision(&ln, &d, 0); err != nil {
			t.Fatal(err)
		}
	}
	put(2, "D1", &core.RowError{File: "f.csv", Row: 2, Column: "amount_charged", Value: "12,3x", Msg: "want an amount like 123.45"},
		&core.RowError{File: "f.csv", Row: 2, Column: "hours", Value: "x", Msg: "want hours"})
	put(3, "D9", &core.RowError{File: "f.csv", Row: 3, Column: "account_number", Value: "123456789", Msg: "want digits only"})
	put(4, "D1")
	// A fault the rules found, every value having parsed.
	fault := core.Line{Kind: core.Invoice, Source: "f.csv", Row: 5, Ref: "INV-2", EmployeeID: "E1", DependentID: "D1", ProviderID: "P1",
		CareType: "center", ServiceDate: core.NewDate(2026, 3, 2), Charged: 100}
	if err := tx.PutDecision(&fault, &core.Decision{Status: core.Rejected, Reasons: []core.Reason{core.InvalidRow}, Units: "1",
		Fault: &core.RowError{Column: "invoice_id", Value: "INV-2", Msg: "the rows of this invoice name 2 employees"}}, 0); err != nil {
		t.Fatal(err)
	}
	runID := tx.RunID
	if err := tx.Commit(nil); err != nil {
		t.Fatal(err)
	}
	want := map[int]string{
		2: `f.csv:2:amount_charged: want an amount like 123.45 (value "12,3x")`,
		3: `f.csv:3:account_number: want digits only (value "****6789")`,
		4: "",
		5: `f.csv:5:invoice_id: the rows of this invoice name 2 employees (value "INV-2")`,
	}
	seen := 0
	if err := l.RunLines(ctx, runID, func(ln *core.Line, d *core.Decision) error {
		seen++
		got := ""
		if len(ln.Errors) > 1 {
			t.Errorf("row %d: %d errors kept, want the first", ln.Row, len(ln.Errors))
		}
		if len(ln.Errors) > 0 {
			got = ln.Errors[0].Error()
		}
		if got != want[ln.Row] {
			t.Errorf("row %d: error %q, want %q", ln.Row, got, want[ln.Row])
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if seen != 4 {
		t.Fatalf("RunLines gave %d lines, want 4", seen)
	}
	err = l.EachLetter(ctx, runID, func(_ string, _ *Recipient, rows []LetterRow) error {
		if len(rows) != 4 {
			t.Fatalf("%d rows, want 4", len(rows))
		}
		for _, r := range rows {
			if r.DependentKnown != (r.DependentID == "D1") {
				t.Errorf("dependent %s: DependentKnown %v", r.DependentID, r.DependentKnown)
			}
			switch {
			case r.RowError == nil && r.Status == "rejected":
				t.Errorf("rejected row of %s lost its unreadable value", r.DependentID)
			case r.RowError != nil && r.Status != "rejected":
				t.Errorf("row %+v carries an unreadable value", r)
			case r.RowError != nil && r.DependentID == "D9" && r.RowError.Plain() != `Column account_number, value "****6789": want digits only.`:
				t.Errorf("D9: %q", r.RowError.Plain())
			}
		}
		return nil
	}, func(string, []LetterRow) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
}

// TestDocLines: a run's commit lists, per invoice and statement, its line
// ids and how many were not rejected; explain finds a document's lines of
// every run through them, in id order; and the migration's backfill,
// from the lines alone, writes the same rows. Runs on both drivers.
func TestDocLines(t *testing.T) {
	l := open(t, ledgertest.Target(t, "l.db"))
	ctx := context.Background()
	put := func(tx *Tx, kind core.LineKind, ref string, status core.Status) {
		t.Helper()
		ln := core.Line{Kind: kind, Source: "f.csv", Row: 2, Ref: ref, EmployeeID: "E1", DependentID: "D1", ProviderID: "P1",
			CareType: "center", ServiceDate: core.NewDate(2026, 3, 2), Charged: 100}
		d := core.Decision{Status: status, PlanID: "jitc-invoice", Units: "1", PayeeType: "provider", PayeeID: "P1", Explanation: ref + " " + string(status)}
		if err := tx.PutDecision(&ln, &d, 0); err != nil {
			t.Fatal(err)
		}
	}
	for day, lines := range [][]struct {
		kind   core.LineKind
		ref    string
		status core.Status
	}{
		// Lines 1 to 5.
		{{core.Invoice, "INV-1", core.Approved}, {core.Statement, "ST-1", core.Held}, {core.Invoice, "INV-1", core.Rejected}, {core.Invoice, "INV-2", core.Rejected}, {core.Statement, "ST-1", core.Held}},
		// Lines 6 to 8: INV-1 again, and a statement sharing its ref.
		{{core.Invoice, "INV-1", core.Approved}, {core.Statement, "INV-1", core.Approved}, {core.Statement, "ST-1", core.Approved}},
	} {
		tx, err := l.Begin(ctx, core.NewDate(2026, 4, 10+day), time.Now())
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range lines {
			put(tx, x.kind, x.ref, x.status)
		}
		if err := tx.Commit(nil); err != nil {
			t.Fatal(err)
		}
	}
	rowsOf := func() []string {
		t.Helper()
		rows, err := l.db.Query(`SELECT kind, ref, run_id, ids, accepted FROM doc_lines ORDER BY kind, ref, run_id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out []string
		for rows.Next() {
			var kind, ref, run, ids string
			var accepted int
			if err := rows.Scan(&kind, &ref, &run, &ids, &accepted); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprintf("%s %s %s [%s] %d", kind, ref, run, ids, accepted))
		}
		return out
	}
	want := []string{
		"invoice INV-1 20260410-001 [1,3] 1",
		"invoice INV-1 20260411-001 [6] 1",
		"invoice INV-2 20260410-001 [4] 0",
		"statement INV-1 20260411-001 [7] 1",
		"statement ST-1 20260410-001 [2,5] 2",
		"statement ST-1 20260411-001 [8] 1",
	}
	if got := rowsOf(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("doc_lines after two runs:\n%v\nwant\n%v", got, want)
	}
	ex, err := l.Explain(ctx, "INV-1")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range ex {
		got = append(got, e.RunID+" "+e.Kind+" "+e.Steps[0])
	}
	wantEx := []string{"20260410-001 invoice INV-1 approved", "20260410-001 invoice INV-1 rejected", "20260411-001 invoice INV-1 approved", "20260411-001 statement INV-1 approved"}
	if fmt.Sprint(got) != fmt.Sprint(wantEx) {
		t.Errorf("explain INV-1: %v, want %v", got, wantEx)
	}
	if ex, err := l.Explain(ctx, "INV-none"); err != nil || len(ex) != 0 {
		t.Errorf("explain of an unknown ref: %v %v", ex, err)
	}

	tx, err := l.db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`DELETE FROM doc_lines`); err != nil {
		t.Fatal(err)
	}
	if err := backfillDocLines(ctx, tx); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	if got := rowsOf(); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("doc_lines from the backfill:\n%v\nwant\n%v", got, want)
	}
}

// TestLetterRowsInBatches: the letters' rows come grouped by employee (and
// by provider) in service order, with each employee's name and roster row
// and each dependent's first name looked up a batch of groups at a time:
// the same whatever the batch size, with the ID standing in for a name
// the roster lacks. Runs on both drivers.
func TestLetterRowsInBatches(t *testing.T) {
	l := open(t, ledgertest.Target(t, "l.db"))
	ctx := context.Background()
	tx, err := l.Begin(ctx, core.NewDate(2026, 4, 10), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*core.Employee{
		{ID: "E1", FirstName: "Ada", LastName: "Lee", Address: core.Address{Line1: "1 Elm St", City: "Austin", State: "TX", PostalCode: "73301"},
			Email: "ada@example.com", OtherBenefits: 12_50},
		{ID: "E2", FirstName: "Bo", LastName: "Ng"},
	} {
		e.PlanID, e.EmploymentType, e.EnrolledOn, e.PaymentMethod = "jitc-invoice", "full_time", core.NewDate(2025, 1, 1), "payroll"
		if err := tx.PutEmployee(e); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []*core.Dependent{{EmployeeID: "E1", ID: "D1", FirstName: "Cy"}, {EmployeeID: "E2", ID: "D1", FirstName: "Di"}} {
		d.LastName, d.BirthDate, d.Relationship = "X", core.NewDate(2020, 1, 1), "child"
		if err := tx.PutDependent(d); err != nil {
			t.Fatal(err)
		}
	}
	// Lines out of order: E3 has no roster row, D9 is nobody's dependent.
	for i, x := range []struct {
		emp, dep, provider string
		day                int
	}{{"E2", "D1", "P2", 5}, {"E1", "D1", "P1", 9}, {"E3", "D1", "P1", 1}, {"E1", "D9", "P2", 2}, {"E2", "D1", "P1", 3}, {"E1", "D1", "P1", 2}} {
		ln := core.Line{Kind: core.Invoice, Source: "f.csv", Row: 2 + i, Ref: "INV-" + x.emp, EmployeeID: x.emp, DependentID: x.dep,
			ProviderID: x.provider, CareType: "center", ServiceDate: core.NewDate(2026, 3, x.day), Charged: 100}
		d := core.Decision{Status: core.Approved, PlanID: "jitc-invoice", Units: "1", PayeeType: "provider", PayeeID: x.provider, EmployerShare: 100}
		if err := tx.PutDecision(&ln, &d, 0); err != nil {
			t.Fatal(err)
		}
	}
	runID := tx.RunID
	if err := tx.Commit(nil); err != nil {
		t.Fatal(err)
	}
	// Each group: its key, then per row: date, employee name, dependent, known.
	wantEmployees := []string{
		"E1 Ada Lee|1 Elm St|Austin|ada@example.com|$12.50: 03-02 Ada Lee D9 false; 03-02 Ada Lee Cy true; 03-09 Ada Lee Cy true",
		"E2 Bo Ng||||$0.00: 03-03 Bo Ng Di true; 03-05 Bo Ng Di true",
		"E3 not in roster E3: 03-01 E3 D1 false",
	}
	wantProviders := []string{
		"P1: 03-01 E3 D1 false; 03-02 Ada Lee Cy true; 03-03 Bo Ng Di true; 03-09 Ada Lee Cy true",
		"P2: 03-02 Ada Lee D9 false; 03-05 Bo Ng Di true",
	}
	row := func(rows []LetterRow) string {
		var b strings.Builder
		for i, r := range rows {
			if i > 0 {
				b.WriteString("; ")
			}
			fmt.Fprintf(&b, "%s %s %s %v", r.ServiceDate.String()[5:], r.EmployeeName, r.Dependent, r.DependentKnown)
		}
		return b.String()
	}
	defer func(n, m int) { letterBatch, providerChunk = n, m }(letterBatch, providerChunk)
	for _, batch := range []int{1, 2, 3, 4096} {
		// The providers' rows kept in chunks of as many: one row per
		// temporary file, two, three (merged back), or all in memory.
		letterBatch, providerChunk = batch, batch
		var employees, providers []string
		err := l.EachLetter(ctx, runID, func(id string, who *Recipient, rows []LetterRow) error {
			if !who.InRoster {
				employees = append(employees, id+" not in roster "+who.Name+": "+row(rows))
				return nil
			}
			employees = append(employees, fmt.Sprintf("%s %s|%s|%s|%s|%s: %s", id, who.Name, who.Address.Line1, who.Address.City, who.Email,
				who.OtherBenefits.Dollars(), row(rows)))
			return nil
		}, func(id string, rows []LetterRow) error {
			providers = append(providers, id+": "+row(rows))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(employees, wantEmployees) {
			t.Errorf("batch %d: employee letters\n%s\nwant\n%s", batch, strings.Join(employees, "\n"), strings.Join(wantEmployees, "\n"))
		}
		if !slices.Equal(providers, wantProviders) {
			t.Errorf("batch %d: provider letters\n%s\nwant\n%s", batch, strings.Join(providers, "\n"), strings.Join(wantProviders, "\n"))
		}
	}
	// A letter that fails stops the letters: the providers' query, sorted
	// ahead, is closed, and no provider letter is asked for.
	stop := errors.New("stop")
	err = l.EachLetter(ctx, runID, func(string, *Recipient, []LetterRow) error { return stop },
		func(string, []LetterRow) error {
			t.Error("a provider letter after a failed employee letter")
			return nil
		})
	if !errors.Is(err, stop) {
		t.Errorf("EachLetter: %v, want the letter's error", err)
	}
	if n := l.db.Stats().InUse; n != 0 {
		t.Errorf("%d connections still in use after EachLetter failed", n)
	}
}

// TestLetterNamesPastOneQuery: a batch of letters naming more employees
// than one lookup takes (prefetchChunk) finds every name, and says which
// employees the roster lacks.
func TestLetterNamesPastOneQuery(t *testing.T) {
	l := open(t, ledgertest.Target(t, "l.db"))
	ctx := context.Background()
	tx, err := l.Begin(ctx, core.NewDate(2026, 4, 10), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	const n = 2*prefetchChunk + 100 // three lookups; every third employee is not in the roster
	for i := range n {
		id := fmt.Sprintf("E%04d", i)
		if i%3 != 0 {
			if err := tx.PutEmployee(&core.Employee{ID: id, FirstName: "F" + id, LastName: "L", PlanID: "jitc-invoice", EmploymentType: "full_time",
				EnrolledOn: core.NewDate(2025, 1, 1), PaymentMethod: "payroll"}); err != nil {
				t.Fatal(err)
			}
		}
		ln := core.Line{Kind: core.Invoice, Source: "f.csv", Row: 2 + i, Ref: "INV-" + id, EmployeeID: id, DependentID: "D1", ProviderID: "P1",
			CareType: "center", ServiceDate: core.NewDate(2026, 3, 2), Charged: 100}
		if err := tx.PutDecision(&ln, &core.Decision{Status: core.Rejected, Reasons: []core.Reason{core.NotEnrolled}, Units: "1"}, 0); err != nil {
			t.Fatal(err)
		}
	}
	runID := tx.RunID
	if err := tx.Commit(nil); err != nil {
		t.Fatal(err)
	}
	seen := 0
	err = l.EachLetter(ctx, runID, func(id string, who *Recipient, rows []LetterRow) error {
		i := seen
		seen++
		want := fmt.Sprintf("E%04d", i)
		wantName := "F" + want + " L"
		if i%3 == 0 {
			wantName = want
		}
		if id != want || who.InRoster != (i%3 != 0) || who.Name != wantName || len(rows) != 1 || rows[0].EmployeeName != wantName {
			t.Errorf("letter %d: %s in roster %v, name %q, %d rows; want %s, %v, %q", i, id, who.InRoster, who.Name, len(rows), want, i%3 != 0, wantName)
		}
		return nil
	}, func(string, []LetterRow) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	if seen != n {
		t.Errorf("%d employees' letters, want %d", seen, n)
	}
}
