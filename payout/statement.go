package payout

import (
	"fmt"
	"strings"
	"time"

	"codeberg.org/go-pdf/fpdf"

	"carepay/core"
)

// Statement is an employee's annual statement of dependent care
// benefits: what the employer paid in a calendar year, month by month,
// what was refused and why, what was left at year end, and the W-2 box 10
// figure.
type Statement struct {
	Year    int
	Date    core.Date // the statement's date
	ID      string    // employee ID
	Name    string
	Address core.Address
	Email   string
	// Months holds the lines paid in the year by the month of their
	// payment, in order; months with nothing paid are left out.
	Months []StatementMonth
	// ByPlan is what each plan paid in the year (plan ID and amount), in
	// plan order.
	ByPlan  []PlanTotal
	Total   core.Cents // all plans: the box 10 figure carepay reports
	Refused []StatementLine
	// Remaining says what was left of days, placements and dollars at the
	// end of the year, in short phrases.
	Remaining     []string
	OtherBenefits core.Cents
	Limit         core.Cents // the year's exclusion limit
	Excess        core.Cents // taxable wages
}

// StatementMonth is the lines paid in one month.
type StatementMonth struct {
	Month time.Month
	Lines []StatementLine
	Total core.Cents
}

// StatementLine is one line of care in a statement.
type StatementLine struct {
	Date      core.Date // service date
	Dependent string
	CareType  string
	PaidTo    string // "you" or the provider's name
	Charged   core.Cents
	Paid      core.Cents // employer_share
	Status    string
	Reasons   []string // codes
}

// PlanTotal is what one plan paid in the year.
type PlanTotal struct {
	Plan   string
	Amount core.Cents
}

// Letter returns the statement as a letter for the print batch and the
// PDF writer: kind, recipient, address and date.
func (s *Statement) Letter() *Letter {
	return &Letter{Kind: core.PayeeEmployee, ID: s.ID, Name: s.Name, Address: s.Address, Email: s.Email, Date: s.Date}
}

// RenderStatement lays out an annual statement in the letters' fonts and
// envelope layout; write it with WritePDF(w, s.Letter(), rendered).
func (r *LetterRenderer) RenderStatement(s *Statement) (*RenderedLetter, error) {
	out := &RenderedLetter{}
	tr := func(t string) string { return r.fonts.text(t, &out.Fonts, &out.Transliterated) }
	var err error
	tpl := r.doc.CreateTemplate(func(t *fpdf.Tpl) {
		r.style.statementLayout(&cells{pdf: &t.Fpdf, lf: r.fonts, widths: r.widths}, fontFamily, tr, s)
		err = t.Error()
	})
	if err != nil {
		return nil, fmt.Errorf("statement to employee %s: %w", s.ID, err)
	}
	for _, p := range tpl.(*fpdf.FpdfTpl).FromPages() {
		out.Pages = append(out.Pages, p.Bytes())
	}
	return out, nil
}

// statementLayout draws the statement: the letter's heading and window
// address, then compact tables.
func (st *LetterStyle) statementLayout(c *cells, family string, tr func(string) string, s *Statement) {
	pdf := c.pdf
	pdf.SetMargins(marginL, 0.5, 0.75)
	pdf.SetAutoPageBreak(true, 0.75)
	pdf.SetFont(family, "", 9)
	pdf.SetXY(0.5, 0.5)
	for _, r := range st.ReturnAddress {
		pdf.SetX(0.5)
		c.cell(3.5, 0.16, tr(r), 1, "L")
	}
	pdf.SetFont(family, "", 11)
	pdf.SetXY(marginL, windowTop)
	for _, r := range addressLines(s.Name, s.Address) {
		pdf.SetX(marginL)
		c.cell(4.0, lineHeight, tr(r), 1, "L")
	}
	pdf.SetXY(marginL, 3.4)
	pdf.SetFont(family, "B", 11)
	c.cell(0, lineHeight, tr(fmt.Sprintf("Your dependent care benefits for %d", s.Year)), 1, "L")
	pdf.SetFont(family, "", 10)
	pdf.Ln(0.1)
	para := func(t string) {
		c.para(0.18, tr(t))
		pdf.Ln(0.06)
	}
	heading := func(t string) {
		pdf.Ln(0.04)
		pdf.SetFont(family, "B", 10)
		c.cell(0, 0.2, tr(t), 1, "L")
		pdf.SetFont(family, "", 10)
	}
	para(fmt.Sprintf("Dear %s,", s.Name))
	para(fmt.Sprintf("This statement lists the care your employer paid for in %d, to you or to your care providers, month by month "+
		"(by the date of payment), what was not paid and why, and what was left of your allowance at the end of the year.", s.Year))
	type col struct {
		title string
		w     float64
		align string
	}
	cols := []col{{"Care date", 0.8, "L"}, {"For", 0.9, "L"}, {"Care", 1.1, "L"}, {"Paid to", 1.6, "L"}, {"Charged", 0.8, "R"},
		{"Employer paid", 0.9, "R"}, {"Status", 0.7, "L"}}
	row := func(cells []string, style string) {
		pdf.SetFont(family, style, 8)
		for i, col := range cols {
			c.cell(col.w, 0.17, tr(cutRunes(cells[i], 26)), 0, col.align)
		}
		pdf.Ln(-1)
	}
	header := func() {
		pdf.SetFont(family, "B", 8)
		for _, col := range cols {
			pdf.CellFormat(col.w, 0.19, tr(col.title), "B", 0, col.align, false, 0, "")
		}
		pdf.Ln(-1)
	}
	cells := func(l *StatementLine) []string {
		return []string{l.Date.String(), l.Dependent, strings.ReplaceAll(l.CareType, "_", " "), l.PaidTo, l.Charged.String(), l.Paid.String(), l.Status}
	}
	var reasons []string
	seen := map[string]bool{}
	note := func(rs []string) {
		for _, r := range rs {
			if !seen[r] {
				seen[r] = true
				reasons = append(reasons, r)
			}
		}
	}
	if len(s.Months) == 0 {
		para(fmt.Sprintf("Nothing was paid for your care in %d.", s.Year))
	}
	for _, m := range s.Months {
		heading(fmt.Sprintf("Paid in %s %d", m.Month, s.Year))
		header()
		for i := range m.Lines {
			row(cells(&m.Lines[i]), "")
			note(m.Lines[i].Reasons)
		}
		row([]string{"", "", "", "Month total", "", m.Total.String(), ""}, "B")
	}
	heading(fmt.Sprintf("Totals for %d", s.Year))
	pdf.SetFont(family, "", 9)
	for _, p := range s.ByPlan {
		c.cell(4.2, 0.18, tr("Paid under plan "+p.Plan), 0, "L")
		c.cell(1.0, 0.18, tr(p.Amount.Dollars()), 1, "R")
	}
	pdf.SetFont(family, "B", 9)
	c.cell(4.2, 0.18, tr("Employer-provided dependent care benefits"), 0, "L")
	c.cell(1.0, 0.18, tr(s.Total.Dollars()), 1, "R")
	pdf.SetFont(family, "", 10)
	if len(s.Refused) > 0 {
		heading("Not paid")
		header()
		for i := range s.Refused {
			row(cells(&s.Refused[i]), "")
			note(s.Refused[i].Reasons)
		}
	}
	if len(reasons) > 0 {
		pdf.Ln(0.06)
		pdf.SetFont(family, "", 8)
		pdf.MultiCell(0, 0.16, "Why a line was not paid in full:", "", "L", false)
		for _, r := range reasons {
			words := st.ReasonWords[r]
			if words == "" {
				words = r
			}
			c.para(0.16, tr("- "+words))
		}
		pdf.SetFont(family, "", 10)
	}
	if len(s.Remaining) > 0 {
		heading(fmt.Sprintf("Left at the end of %d", s.Year))
		para(strings.Join(s.Remaining, "; ") + ".")
	}
	heading("For your tax return")
	para(fmt.Sprintf("Box 10 of your %d Form W-2 (dependent care benefits) includes %s paid through this program.", s.Year, s.Total.Dollars()) +
		otherText(s) + excessText(s))
	para("This statement is not tax advice. Ask a tax adviser how these benefits affect your return.")
}

func otherText(s *Statement) string {
	if s.OtherBenefits == 0 {
		return ""
	}
	return fmt.Sprintf(" Your employer also has %s of other dependent care benefits on record for you (such as a dependent care account), which payroll reports in box 10 as well.",
		s.OtherBenefits.Dollars())
}

func excessText(s *Statement) string {
	if s.Excess == 0 {
		return fmt.Sprintf(" The total is within the %d exclusion limit of %s.", s.Year, s.Limit.Dollars())
	}
	return fmt.Sprintf(" The total is above the %d exclusion limit of %s: the %s above it is taxable wages on your W-2.", s.Year, s.Limit.Dollars(), s.Excess.Dollars())
}

// cutRunes shortens s to at most n characters, for a table cell.
func cutRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n])
	}
	return s
}
