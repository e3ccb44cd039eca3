package ledger

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"carepay/core"
)

// TestInvoicesSeen checks that the many-invoice lookup a run makes before
// deciding answers as InvoiceSeen does: an invoice whose every line was
// rejected is not seen (sent again it is a correction), one with a line
// not rejected is, a statement is no invoice, and the lines of the run
// itself do not count. The refs span several queries.
func TestInvoicesSeen(t *testing.T) {
	l := open(t, filepath.Join(t.TempDir(), "l.db"))
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
