package report

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"

	"carepay/core"
)

// Summary is run.json: what a run took, decided and owes.
type Summary struct {
	RunID    string             `json:"run_id"`
	AsOf     string             `json:"as_of"`
	Files    FileCounts         `json:"files"`
	Waiting  []WaitingFile      `json:"waiting"`
	Lines    int                `json:"lines"`
	Released int                `json:"released_from_hold"`
	ByStatus map[string]int     `json:"by_status"`
	ByReason map[string]int     `json:"by_reason"`
	ByPlan   map[string]*Totals `json:"by_plan"`
	ByPayee  map[string]*Totals `json:"by_payee_type"`
	// Payments made by method, and payments held with why.
	ByMethod map[string]*MethodTotals `json:"payments_by_method"`
	Held     []HeldPayment            `json:"payments_held"`
	// PaidAfterReview lists the payments an earlier run held for review
	// (PAYMENT_REVIEW) that this run paid once approved.
	PaidAfterReview []ReviewedPayment `json:"paid_after_review,omitempty"`
	// Bank lists what the run did with the returns and notifications of
	// change the bank sent, in the order taken.
	Bank []BankNotice `json:"bank_notices,omitempty"`
	// Reconciliation says what became of the money as of the run: sent,
	// returned, reissued, NOCs applied, checks outstanding.
	Reconciliation []core.ReconItem `json:"reconciliation"`
	// Prenotes lists the zero-dollar prenotes payments.ach carries
	// (ach.prenote), and Fallback the payments to ACH payees that went by
	// check instead, with why (a prenote's wait, or a return).
	Prenotes []Prenote         `json:"prenotes_sent,omitempty"`
	Fallback []FallbackPayment `json:"paid_by_fallback,omitempty"`
	// Checks is what the run did with checks after issue: the voids its
	// positive pay carries, the stale checks, the bank's cleared-checks
	// rows.
	Checks CheckReport `json:"checks"`
	// ReportedYears lists the lines of calendar years already reported
	// (carepay year-end) that the run paid or took back: those years' W-2
	// figures changed, and ReportedYearsNote says so.
	ReportedYears     []ReportedYearChange `json:"changes_reported_year,omitempty"`
	ReportedYearsNote string               `json:"changes_reported_year_note,omitempty"`
	Letters           LetterCounts         `json:"letters"`
	// Timings of the stages, in seconds (see Timings: they are the one
	// part of run.json that a rebuilt run does not repeat).
	Timings *Timings `json:"timings,omitempty"`
}

// ReportedYearNote is what a run that changes a reported year says.
const ReportedYearNote = "changes a reported year: a corrected W-2 (W-2c) may be needed"

// ReportedYearChange is a line of a calendar year already reported that
// a run paid (dated in that year) or took back from a returned or voided
// payment issued in it.
type ReportedYearChange struct {
	Year       int        `json:"year"`
	EmployeeID string     `json:"employee_id"`
	PlanID     string     `json:"plan_id"`
	LineID     int64      `json:"line"`
	Amount     core.Cents `json:"amount"` // the line's employer_share
	Change     string     `json:"change"` // paid, returned
	PaymentID  string     `json:"payment_id"`
}

// BankNotice is one entry of a bank's return or NOC file and what the
// run did with it: Applied is false when it changed nothing (it matched
// no payment, one already returned, or another amount).
type BankNotice struct {
	File      string     `json:"file"`
	Entry     int        `json:"entry"`
	Kind      string     `json:"kind"` // return, noc
	Code      string     `json:"code"`
	Trace     string     `json:"original_trace"`
	Amount    core.Cents `json:"amount"`
	Date      string     `json:"date"`
	PaymentID string     `json:"payment_id,omitempty"`
	PayeeType string     `json:"payee_type,omitempty"`
	PayeeID   string     `json:"payee_id,omitempty"`
	Applied   bool       `json:"applied"`
	Detail    string     `json:"detail"`
}

// CheckReport is what a run did with checks after issue. Alerts counts
// the checks the bank paid after carepay voided them (their lines were
// paid again): each needs someone at once.
type CheckReport struct {
	Alerts  int           `json:"alerts"`
	Voided  []VoidedCheck `json:"voided"`
	Stale   []StaleCheck  `json:"stale"`
	Cleared []ClearedRow  `json:"cleared"`
}

// VoidedCheck is a check whose void record the run's positive pay file
// carries; its lines were paid again by the run (when it paid).
type VoidedCheck struct {
	CheckNumber int64      `json:"check_number"`
	PaymentID   string     `json:"payment_id"`
	PayeeType   string     `json:"payee_type"`
	PayeeID     string     `json:"payee_id"`
	Amount      core.Cents `json:"amount"`
	IssuedOn    string     `json:"issued_on"`
	IssuedRun   string     `json:"issued_run"`
	VoidedAt    string     `json:"voided_at"`
	VoidedBy    string     `json:"voided_by"`
	Reason      string     `json:"reason"`
}

// StaleCheck is a check not cleared checks.stale_after days after its
// issue; Voided when the run voided it (checks.void_stale).
type StaleCheck struct {
	CheckNumber int64      `json:"check_number"`
	PaymentID   string     `json:"payment_id"`
	PayeeType   string     `json:"payee_type"`
	PayeeID     string     `json:"payee_id"`
	Amount      core.Cents `json:"amount"`
	IssuedOn    string     `json:"issued_on"`
	Days        int        `json:"days_outstanding"`
	Voided      bool       `json:"voided"`
	Detail      string     `json:"detail"`
}

// ClearedRow is a row of the bank's cleared-checks file and what the run
// did with it: Applied is false when it changed nothing; Alert marks a
// voided check the bank paid.
type ClearedRow struct {
	File        string     `json:"file"`
	Row         int        `json:"row"`
	CheckNumber int64      `json:"check_number"`
	Amount      core.Cents `json:"amount"`
	ClearedOn   string     `json:"cleared_on"`
	PaymentID   string     `json:"payment_id,omitempty"`
	Applied     bool       `json:"applied"`
	Alert       bool       `json:"alert"`
	Detail      string     `json:"detail"`
}

// maxStaleShown is how many stale checks the text summary names; run.json
// lists them all.
const maxStaleShown = 10

// LetterCounts says which letters a run wrote; NoAddress are held from
// the print batch for want of a postal address.
type LetterCounts struct {
	Written   int      `json:"written"`
	Postal    int      `json:"in_print_batch"`
	Emailed   int      `json:"emailed"`
	NoAddress []string `json:"held_no_postal_address"`
	// Transliterated lists letters in which characters no letter font
	// has (a script the Go fonts lack) were written in Latin letters.
	Transliterated []string `json:"transliterated,omitempty"`
}

// MethodTotals adds up the payments of one method.
type MethodTotals struct {
	Payments int        `json:"payments"`
	Lines    int        `json:"lines"`
	Amount   core.Cents `json:"amount"`
}

// HeldPayment is a payment not made, with the reason. PaymentID names a
// payment held for review (PAYMENT_REVIEW), which keeps its lines until
// `carepay approve` is given that ID; it is empty when the payee's lines
// wait unpaid for bank details.
type HeldPayment struct {
	PaymentID string     `json:"payment_id,omitempty"`
	PayeeType string     `json:"payee_type"`
	PayeeID   string     `json:"payee_id"`
	Amount    core.Cents `json:"amount"`
	Lines     int        `json:"lines"`
	Reason    string     `json:"reason"`
	Detail    string     `json:"detail"`
}

// ReviewedPayment is a payment held for review in an earlier run and paid
// in this one.
type ReviewedPayment struct {
	PaymentID string     `json:"payment_id"`
	FormedIn  string     `json:"formed_in_run"`
	PayeeType string     `json:"payee_type"`
	PayeeID   string     `json:"payee_id"`
	Method    string     `json:"method"`
	Amount    core.Cents `json:"amount"`
	Lines     int        `json:"lines"`
}

// Prenote is a prenote a run sent: to which details (the account
// masked), under which trace, and from which run date live credits may
// follow.
type Prenote struct {
	PaymentID   string `json:"payment_id"`
	PayeeType   string `json:"payee_type"`
	PayeeID     string `json:"payee_id"`
	Routing     string `json:"routing_number"`
	Account     string `json:"account"` // masked
	AccountType string `json:"account_type"`
	Trace       string `json:"trace_number"`
	LiveFrom    string `json:"live_credits_from"`
}

// FallbackPayment is a payment to an ACH payee made by check, and why.
type FallbackPayment struct {
	PaymentID string     `json:"payment_id"`
	PayeeType string     `json:"payee_type"`
	PayeeID   string     `json:"payee_id"`
	Method    string     `json:"method"`
	Amount    core.Cents `json:"amount"`
	Why       string     `json:"why"`
}

// AddPrenotes lists a run's prenotes; liveFrom is the first run date on
// which live credits may follow them.
func (s *Summary) AddPrenotes(prenotes []*core.Payment, liveFrom core.Date) {
	for _, p := range prenotes {
		s.Prenotes = append(s.Prenotes, Prenote{PaymentID: core.PaymentRef(p.ID), PayeeType: p.PayeeType, PayeeID: p.PayeeID,
			Routing: p.Bank.Routing, Account: p.Bank.Masked(), AccountType: p.Bank.Type, Trace: p.TraceNumber, LiveFrom: liveFrom.String()})
	}
}

// AddPayments counts a run's payments and holds.
func (s *Summary) AddPayments(payments []*core.Payment, holds []core.PaymentHold) {
	for _, p := range payments {
		if p.RunID != "" && p.RunID != s.RunID {
			s.PaidAfterReview = append(s.PaidAfterReview, ReviewedPayment{PaymentID: core.PaymentRef(p.ID), FormedIn: p.RunID,
				PayeeType: p.PayeeType, PayeeID: p.PayeeID, Method: p.Method, Amount: p.Amount, Lines: p.Lines})
		}
		t := s.ByMethod[p.Method]
		if t == nil {
			t = &MethodTotals{}
			s.ByMethod[p.Method] = t
		}
		t.Payments++
		t.Lines += p.Lines
		t.Amount += p.Amount
		if p.Fallback != "" {
			s.Fallback = append(s.Fallback, FallbackPayment{PaymentID: core.PaymentRef(p.ID), PayeeType: p.PayeeType, PayeeID: p.PayeeID,
				Method: p.Method, Amount: p.Amount, Why: p.Fallback})
		}
	}
	for _, h := range holds {
		hp := HeldPayment{PayeeType: h.PayeeType, PayeeID: h.PayeeID, Amount: h.Amount, Lines: h.Lines, Reason: string(h.Reason), Detail: h.Detail}
		if h.PaymentID != 0 {
			hp.PaymentID = core.PaymentRef(h.PaymentID)
		}
		s.Held = append(s.Held, hp)
	}
}

// WaitingFile is a file a source did not take in this run because it may
// still be being written, and why. The summary lists them so that a drop
// that never settles does not go unnoticed.
type WaitingFile struct {
	Source string `json:"source"`
	Name   string `json:"name"`
	Why    string `json:"why"`
}

// maxWaitingShown is how many waiting files the text summary names; run.json
// lists them all.
const maxWaitingShown = 10

// FileCounts lists files by what became of them.
type FileCounts struct {
	Taken    []string `json:"taken"`
	Skipped  []string `json:"skipped"`
	Rejected []string `json:"rejected"`
}

// Totals adds up the money of a group of lines. Approved is the employer's
// share of approved and partial lines; Held that of held lines.
type Totals struct {
	Lines         int        `json:"lines"`
	Charged       core.Cents `json:"charged"`
	Approved      core.Cents `json:"approved"`
	Held          core.Cents `json:"held"`
	EmployeeShare core.Cents `json:"employee_share"`
}

// NewSummary starts an empty summary.
func NewSummary(runID string, asOf core.Date) *Summary {
	return &Summary{RunID: runID, AsOf: asOf.String(), ByStatus: map[string]int{}, ByReason: map[string]int{},
		ByPlan: map[string]*Totals{}, ByPayee: map[string]*Totals{}, ByMethod: map[string]*MethodTotals{}, Held: []HeldPayment{},
		Checks:  CheckReport{Voided: []VoidedCheck{}, Stale: []StaleCheck{}, Cleared: []ClearedRow{}},
		Waiting: []WaitingFile{}, Files: FileCounts{Taken: []string{}, Skipped: []string{}, Rejected: []string{}}, Letters: LetterCounts{NoAddress: []string{}}}
}

// Add counts a decided line.
func (s *Summary) Add(l *core.Line, d *core.Decision) {
	s.Lines++
	s.ByStatus[string(d.Status)]++
	for _, r := range d.Reasons {
		s.ByReason[string(r)]++
	}
	plan := d.PlanID
	if plan == "" {
		plan = noPlan
	}
	for _, t := range []*Totals{total(s.ByPlan, plan), total(s.ByPayee, orNone(d.PayeeType))} {
		t.Lines++
		t.Charged += l.Charged
		t.EmployeeShare += d.EmployeeShare
		switch d.Status {
		case core.Approved, core.Partial:
			t.Approved += d.EmployerShare
		case core.Held:
			t.Held += d.EmployerShare
		}
	}
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func total(m map[string]*Totals, k string) *Totals {
	if m[k] == nil {
		m[k] = &Totals{}
	}
	return m[k]
}

// JSON renders run.json; map keys are sorted, so the bytes depend only on
// the contents.
func (s *Summary) JSON() ([]byte, error) {
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Text renders the short summary `carepay run` prints.
func (s *Summary) Text() string {
	var b strings.Builder
	fmt.Fprintf(&b, "run %s (as of %s)\n", s.RunID, s.AsOf)
	if s.Checks.Alerts > 0 {
		fmt.Fprintf(&b, "!!! %d ALERT(S): the bank paid checks carepay had voided; the payees may have been paid twice !!!\n", s.Checks.Alerts)
		for _, c := range s.Checks.Cleared {
			if c.Alert {
				fmt.Fprintf(&b, "%s (%s row %d)\n", c.Detail, c.File, c.Row)
			}
		}
	}
	if len(s.ReportedYears) > 0 {
		fmt.Fprintf(&b, "%s; `carepay year-end --year YYYY` again writes the corrections\n", ReportedYearNote)
		for _, c := range s.ReportedYears {
			fmt.Fprintf(&b, "  %d: %s %s %s %s (line %d, payment %s)\n", c.Year, c.EmployeeID, c.PlanID, c.Amount, c.Change, c.LineID, c.PaymentID)
		}
	}
	fmt.Fprintf(&b, "files: %d taken, %d skipped (seen before), %d rejected\n", len(s.Files.Taken), len(s.Files.Skipped), len(s.Files.Rejected))
	for i, w := range s.Waiting {
		if i == maxWaitingShown {
			fmt.Fprintf(&b, "waiting: %d more files left for a later run (see run.json)\n", len(s.Waiting)-i)
			break
		}
		fmt.Fprintf(&b, "waiting: %s: %s; left for a later run\n", w.Name, w.Why)
	}
	if s.Lines == 0 {
		b.WriteString("lines: nothing new to decide\n")
	} else {
		fmt.Fprintf(&b, "lines: %d decided", s.Lines)
		for _, st := range []core.Status{core.Approved, core.Partial, core.Rejected, core.Held} {
			fmt.Fprintf(&b, ", %d %s", s.ByStatus[string(st)], st)
		}
		if s.Released > 0 {
			fmt.Fprintf(&b, " (%d released from hold)", s.Released)
		}
		b.WriteString("\n")
	}
	plans := make([]string, 0, len(s.ByPlan))
	for p := range s.ByPlan {
		plans = append(plans, p)
	}
	sort.Strings(plans)
	for _, p := range plans {
		t := s.ByPlan[p]
		if p == noPlan {
			// No plan applied: the employee is not in the roster, or the
			// row could not be read. Nothing of them is approved.
			fmt.Fprintf(&b, "  %-14s %5d lines  rejected before any plan applied (employee not in the roster, or row unreadable)\n", "no plan", t.Lines)
			continue
		}
		fmt.Fprintf(&b, "  %-14s %5d lines  approved %12s  held %12s\n", p, t.Lines, t.Approved.Dollars(), t.Held.Dollars())
	}
	methods := make([]string, 0, len(s.ByMethod))
	for m := range s.ByMethod {
		methods = append(methods, m)
	}
	sort.Strings(methods)
	for _, m := range methods {
		t := s.ByMethod[m]
		fmt.Fprintf(&b, "paid by %-8s %5d payments %12s\n", m, t.Payments, t.Amount.Dollars())
	}
	for _, r := range s.PaidAfterReview {
		fmt.Fprintf(&b, "paid after review: %s %s %s %s by %s (held in run %s)\n", r.PaymentID, r.PayeeType, r.PayeeID, r.Amount.Dollars(), r.Method, r.FormedIn)
	}
	if line := reconLine(s.Reconciliation); line != "" {
		b.WriteString(line)
	}
	for _, n := range s.Bank {
		state := "applied"
		if !n.Applied {
			state = "changed nothing"
		}
		fmt.Fprintf(&b, "bank %s %s (%s entry %d): %s: %s\n", n.Kind, n.Code, n.File, n.Entry, state, n.Detail)
	}
	if n := len(s.Prenotes); n > 0 {
		fmt.Fprintf(&b, "prenotes sent: %d\n", n)
		for i, p := range s.Prenotes {
			if i == maxHeldShown {
				fmt.Fprintf(&b, "prenote: %d more (see run.json, prenotes_sent)\n", n-i)
				break
			}
			fmt.Fprintf(&b, "prenote: %s %s %s, routing %s, %s account %s; live credits from %s\n", p.PaymentID, p.PayeeType, p.PayeeID,
				p.Routing, p.AccountType, p.Account, p.LiveFrom)
		}
	}
	s.checksText(&b)
	for i, f := range s.Fallback {
		if i == maxHeldShown {
			fmt.Fprintf(&b, "paid by check instead of ACH: %d more (see run.json, paid_by_fallback)\n", len(s.Fallback)-i)
			break
		}
		fmt.Fprintf(&b, "paid by %s instead of ACH: %s %s %s %s: %s\n", f.Method, f.PaymentID, f.PayeeType, f.PayeeID, f.Amount.Dollars(), f.Why)
	}
	if len(s.Held) <= maxHeldShown {
		for _, h := range s.Held {
			id := ""
			if h.PaymentID != "" {
				id = h.PaymentID + " "
			}
			fmt.Fprintf(&b, "payment held: %s%s %s %s: %s\n", id, h.PayeeType, h.PayeeID, h.Amount.Dollars(), h.Detail)
		}
	} else {
		b.WriteString(heldGroups(s.Held))
	}
	if s.Letters.Written > 0 {
		fmt.Fprintf(&b, "letters: %d written, %d in the print batch", s.Letters.Written, s.Letters.Postal)
		if s.Letters.Emailed > 0 {
			fmt.Fprintf(&b, ", %d by email", s.Letters.Emailed)
		}
		if n := len(s.Letters.NoAddress); n > 0 {
			names := s.Letters.NoAddress
			more := ""
			if len(names) > 5 {
				names, more = names[:5], fmt.Sprintf(" and %d more (see run.json)", len(s.Letters.NoAddress)-5)
			}
			fmt.Fprintf(&b, ", %d held (no postal address): %s%s", n, strings.Join(names, ", "), more)
		}
		if n := len(s.Letters.Transliterated); n > 0 {
			names, more := s.Letters.Transliterated, ""
			if n > 5 {
				names, more = names[:5], fmt.Sprintf(" and %d more (see run.json)", n-5)
			}
			fmt.Fprintf(&b, "; %d with a name or address transliterated (no letter font has its script): %s%s", n, strings.Join(names, ", "), more)
		}
		b.WriteString("\n")
	}
	return b.String()
}

// checksText writes the voids, stale checks and cleared-checks rows.
func (s *Summary) checksText(b *strings.Builder) {
	for _, v := range s.Checks.Voided {
		fmt.Fprintf(b, "check voided: %d (%s, %s %s, %s, issued %s): %s, by %s; the void record is in positive-pay.csv and its lines are payable again (paid by this run when it pays)\n",
			v.CheckNumber, v.PaymentID, v.PayeeType, v.PayeeID, v.Amount.Dollars(), v.IssuedOn, v.Reason, v.VoidedBy)
	}
	for i, c := range s.Checks.Stale {
		if i == maxStaleShown {
			fmt.Fprintf(b, "stale check: %d more (see run.json)\n", len(s.Checks.Stale)-i)
			break
		}
		fmt.Fprintf(b, "stale check: %s\n", c.Detail)
	}
	if len(s.Checks.Cleared) > 0 {
		marked := 0
		for _, c := range s.Checks.Cleared {
			if c.Applied {
				marked++
			}
		}
		fmt.Fprintf(b, "cleared checks: %d rows, %d marked cleared, %d changed nothing\n", len(s.Checks.Cleared), marked, len(s.Checks.Cleared)-marked)
		for _, c := range s.Checks.Cleared {
			if !c.Applied && !c.Alert {
				fmt.Fprintf(b, "cleared check %d (%s row %d): changed nothing: %s\n", c.CheckNumber, c.File, c.Row, c.Detail)
			}
		}
	}
}

// Rows returns the summary as label and value pairs, for register.xlsx.
func (s *Summary) Rows() [][2]any {
	rows := [][2]any{{"run", s.RunID}, {"run date", s.AsOf},
		{"files taken", len(s.Files.Taken)}, {"files skipped (seen before)", len(s.Files.Skipped)}, {"files rejected", len(s.Files.Rejected)},
		{"lines decided", s.Lines}, {"lines released from hold", s.Released}}
	for _, st := range []core.Status{core.Approved, core.Partial, core.Rejected, core.Held} {
		rows = append(rows, [2]any{"lines " + string(st), s.ByStatus[string(st)]})
	}
	for _, p := range sortedKeys(s.ByPlan) {
		t := s.ByPlan[p]
		rows = append(rows, [2]any{p + ": charged", t.Charged}, [2]any{p + ": approved (employer)", t.Approved}, [2]any{p + ": held", t.Held})
	}
	for _, m := range sortedKeys(s.ByMethod) {
		t := s.ByMethod[m]
		rows = append(rows, [2]any{"paid by " + m + ": payments", t.Payments}, [2]any{"paid by " + m + ": amount", t.Amount})
	}
	var held core.Cents
	for _, h := range s.Held {
		held += h.Amount
	}
	cleared := 0
	for _, c := range s.Checks.Cleared {
		if c.Applied {
			cleared++
		}
	}
	rows = append(rows, [2]any{"ALERTS: voided checks the bank paid", s.Checks.Alerts}, [2]any{"checks voided", len(s.Checks.Voided)},
		[2]any{"stale checks", len(s.Checks.Stale)}, [2]any{"checks cleared", cleared})
	rows = append(rows, [2]any{"payments held", len(s.Held)}, [2]any{"payments held: amount", held},
		[2]any{"letters written", s.Letters.Written}, [2]any{"letters in the print batch", s.Letters.Postal})
	if len(s.ReportedYears) > 0 {
		rows = append(rows, [2]any{"lines that change a reported year (a W-2c may be needed)", len(s.ReportedYears)})
	}
	return rows
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// noPlan is the plan of lines no plan applied to, in by_plan.
const noPlan = "(no plan)"

// maxHeldShown is how many held payments the summary lists one by one;
// more are counted by reason, and run.json lists each.
const maxHeldShown = 5

// heldGroups counts held payments by reason, in one line each.
func heldGroups(held []HeldPayment) string {
	type group struct {
		n      int
		amount core.Cents
	}
	by := map[string]*group{}
	var reasons []string
	var total core.Cents
	for _, h := range held {
		g := by[h.Reason]
		if g == nil {
			g = &group{}
			by[h.Reason] = g
			reasons = append(reasons, h.Reason)
		}
		g.n++
		g.amount += h.Amount
		total += h.Amount
	}
	sort.Strings(reasons)
	var b strings.Builder
	fmt.Fprintf(&b, "payments held: %d for %s, each listed in run.json (payments_held) and register.xlsx (Exceptions)\n", len(held), total.Dollars())
	for _, r := range reasons {
		g := by[r]
		what := "bank or registry details to fix"
		if r == string(core.PaymentReview) {
			what = "waiting for a second person: carepay approve PAY-n"
		}
		fmt.Fprintf(&b, "  %-16s %5d payments %12s  (%s)\n", r, g.n, g.amount.Dollars(), what)
	}
	return b.String()
}

// reconLine counts the reconciliation by kind, in one line ("" when it is
// empty).
func reconLine(items []core.ReconItem) string {
	type total struct {
		n      int
		amount core.Cents
	}
	by := map[string]*total{}
	for _, it := range items {
		t := by[it.What]
		if t == nil {
			t = &total{}
			by[it.What] = t
		}
		t.n++
		t.amount += it.Amount
	}
	var parts []string
	for _, what := range []string{core.ReconSent, core.ReconReturned, core.ReconReissued, core.ReconNOC, core.ReconVoided, core.ReconCleared,
		core.ReconStale, core.ReconOutstanding} {
		if t := by[what]; t != nil {
			if what == core.ReconNOC {
				parts = append(parts, fmt.Sprintf("%d %s", t.n, what))
				continue
			}
			parts = append(parts, fmt.Sprintf("%d %s %s", t.n, what, t.amount.Dollars()))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return "reconciliation: " + strings.Join(parts, ", ") + " (register.xlsx, Reconciliation)\n"
}
