package ledger

import (
	"fmt"
	"strings"

	"carepay/core"
)

// InvoiceSeen reports whether an earlier run took a line of an invoice that
// was not rejected. An invoice whose every line was rejected in earlier runs
// (a missing signature, a roster mistake) is not seen: sent again, it is a
// correction and is decided afresh.
func (t *Tx) InvoiceSeen(ref string) (bool, error) {
	var seen bool
	// doc_lines holds earlier runs' rows only: a run writes its own at
	// its commit.
	if err := t.scanRow(`SELECT EXISTS (SELECT 1 FROM doc_lines WHERE kind = 'invoice' AND ref = ? AND accepted > 0)`, []any{ref}, &seen); err != nil {
		return false, fmt.Errorf("looking up invoice %s: %w", ref, err)
	}
	return seen, nil
}

// InvoicesSeen answers InvoiceSeen for many invoices at once (a run asks
// about every invoice of its drop before deciding): it returns those of
// refs that an earlier run saw.
func (t *Tx) InvoicesSeen(refs []string) (map[string]bool, error) {
	seen := map[string]bool{}
	const chunk = 500
	for len(refs) > 0 {
		n := min(len(refs), chunk)
		args := make([]any, 0, n)
		for _, r := range refs[:n] {
			args = append(args, r)
		}
		rows, err := t.tx.QueryContext(t.ctx, `SELECT DISTINCT ref FROM doc_lines WHERE kind = 'invoice' AND accepted > 0 AND ref IN (`+
			strings.TrimSuffix(strings.Repeat("?,", n), ",")+`)`, args...)
		if err != nil {
			return nil, fmt.Errorf("looking up invoices: %w", err)
		}
		for rows.Next() {
			var ref string
			if err := rows.Scan(&ref); err != nil {
				rows.Close()
				return nil, fmt.Errorf("looking up invoices: %w", err)
			}
			seen[ref] = true
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, fmt.Errorf("looking up invoices: %w", err)
		}
		refs = refs[n:]
	}
	return seen, nil
}

func pd(s string) core.Date {
	if s == "" {
		return 0
	}
	d, _ := core.ParseDate(s)
	return d
}

// PutDecision records a decided line, on payment paymentID (0: unpaid),
// and the first of its unreadable values when it has any (else the fault
// the rules found in it).
func (t *Tx) PutDecision(l *core.Line, d *core.Decision, paymentID int64) error {
	if t.decided == nil {
		t.decided = newRawInserter(t, `INSERT OR FAIL INTO lines (id, run_id, source, row, kind, ref, line_id, plan_id, employee_id, dependent_id, provider_id,
 care_type, service_date, hours, received_on, charged, units, employee_share, employer_share, status, final_status, reasons, payee_type, payee_id,
 care_day, day_used, placements, steps, payment_id, error_column, error_value, error_msg) VALUES `, 32)
	}
	var hours, final, payment any
	if paymentID != 0 {
		payment = paymentID
	}
	if l.HasHours {
		hours = int64(l.Hours)
	}
	if d.FinalStatus != "" {
		final = string(d.FinalStatus)
	}
	var errColumn, errValue, errMsg any
	fault := d.Fault
	if len(l.Errors) > 0 {
		fault = l.Errors[0]
	}
	if fault != nil {
		errColumn, errValue, errMsg = fault.Column, core.MaskColumnValue(fault.Column, fault.Value), fault.Msg
	}
	// Lines are numbered on from the last before the run, as SQLite
	// numbers them, on every driver (a PostgreSQL sequence skips what
	// rolled back runs took).
	t.lineSeq++
	id := t.base + t.lineSeq
	t.keepDoc(l, id, d.Status)
	err := t.decided.add(id, t.RunID, l.Source, l.Row, string(l.Kind), l.Ref, l.LineID, d.PlanID, l.EmployeeID, l.DependentID, l.ProviderID,
		l.CareType, l.ServiceDate.String(), hours, dateArg(l.ReceivedOn), int64(l.Charged), d.Units, int64(d.EmployeeShare), int64(d.EmployerShare),
		string(d.Status), final, d.ReasonList(), d.PayeeType, d.PayeeID, d.CareDay, d.DayUsed, d.Placements, d.Explanation, payment,
		errColumn, errValue, errMsg)
	if err != nil {
		return fmt.Errorf("recording decision for %s row %d: %w", l.Source, l.Row, err)
	}
	return t.keepUsage(l, d)
}

// EmployeeLines returns earlier runs' lines of an employee that count, as
// the rules' History.
func (t *Tx) EmployeeLines(id string) ([]core.PriorLine, error) {
	return t.usage("e", id)
}

// DependentLines returns earlier runs' lines of a dependent that count.
func (t *Tx) DependentLines(id string) ([]core.PriorLine, error) {
	return t.usage("d", id)
}

// flush writes buffered decisions.
func (t *Tx) flush() error {
	if err := t.flushRegistry(); err != nil {
		return err
	}
	if t.decided == nil {
		return nil
	}
	if err := t.decided.flush(); err != nil {
		return fmt.Errorf("writing to the ledger: %w", err)
	}
	return nil
}

// loadPriorIDs reads, once per run, the employees and dependents that have
// lines from earlier runs (kind and ID, as in table usage), so that the
// many with none cost no query.
func (t *Tx) loadPriorIDs() error {
	if t.priorIDs != nil {
		return nil
	}
	ids := map[string]bool{}
	rows, err := t.tx.QueryContext(t.ctx, `SELECT kind || id FROM usage GROUP BY kind, id`)
	if err != nil {
		return fmt.Errorf("reading history: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("reading history: %w", err)
		}
		ids[id] = true
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("reading history: %w", err)
	}
	t.priorIDs = ids
	return nil
}
