package payout

import (
	"encoding/csv"
	"fmt"
	"io"
	"strconv"
	"time"

	"carepay/core"
)

// W2Row is one employee's dependent care benefits of a calendar year, as
// dependent-care-w2.csv gives them to payroll for box 10 of the W-2.
type W2Row struct {
	EmployeeID   string `json:"employee_id"`
	EmployeeName string `json:"employee_name"`
	// ByPlan is the employer_share of the lines paid in the year under
	// each plan, whoever was paid.
	ByPlan map[string]core.Cents `json:"by_plan"`
	// EmployerProvided is the sum of ByPlan: carepay's box 10 figure.
	EmployerProvided core.Cents `json:"employer_provided"`
	// OtherBenefits is the employee's other dependent care benefits, as
	// last known from the roster.
	OtherBenefits  core.Cents `json:"other_benefits"`
	ExclusionLimit core.Cents `json:"exclusion_limit"`
	// Excess is EmployerProvided plus OtherBenefits above ExclusionLimit
	// (0 when not above): taxable wages.
	Excess      core.Cents `json:"excess"`
	EarningCode string     `json:"earning_code"`
}

// Same reports whether two rows carry the same figures (names aside); a
// plan one row lacks counts as 0.00 there (a plan configured since).
func (r *W2Row) Same(o *W2Row) bool {
	if r.EmployerProvided != o.EmployerProvided || r.OtherBenefits != o.OtherBenefits || r.ExclusionLimit != o.ExclusionLimit ||
		r.Excess != o.Excess {
		return false
	}
	for k, v := range r.ByPlan {
		if o.ByPlan[k] != v {
			return false
		}
	}
	for k, v := range o.ByPlan {
		if r.ByPlan[k] != v {
			return false
		}
	}
	return true
}

// W2Correction is an employee whose figures changed since the year was
// last reported: Reported as it was then (zero when the employee was not
// in that report), Row as it is now.
type W2Correction struct {
	Reported W2Row
	Row      W2Row
}

// w2Columns are the columns of dependent-care-w2.csv, one per plan
// between the name and employer_provided.
func w2Columns(plans []string) []string {
	cols := append([]string{"employee_id", "employee_name"}, plans...)
	return append(cols, "employer_provided", "other_benefits", "exclusion_limit", "excess", "earning_code")
}

func w2Cells(plans []string, r *W2Row) []string {
	cells := []string{r.EmployeeID, r.EmployeeName}
	for _, p := range plans {
		cells = append(cells, r.ByPlan[p].String())
	}
	return append(cells, r.EmployerProvided.String(), r.OtherBenefits.String(), r.ExclusionLimit.String(), r.Excess.String(), r.EarningCode)
}

// WriteW2 writes dependent-care-w2.csv: one row per employee, in the
// order given, money with two decimals.
func WriteW2(w io.Writer, plans []string, rows []W2Row) error {
	cw := csv.NewWriter(w)
	cw.Write(w2Columns(plans))
	for i := range rows {
		cw.Write(safeRow(w2Cells(plans, &rows[i])))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing dependent-care-w2.csv: %w", err)
	}
	return nil
}

// CorrectionColumns are the columns dependent-care-w2-corrections.csv
// adds after those of dependent-care-w2.csv: what was reported before.
var CorrectionColumns = []string{"reported_employer_provided", "reported_other_benefits", "reported_excess"}

// WriteW2Corrections writes dependent-care-w2-corrections.csv: the
// employees whose figures changed since the last report of the year,
// with the corrected figures (as in dependent-care-w2.csv) and those
// reported before.
func WriteW2Corrections(w io.Writer, plans []string, rows []W2Correction) error {
	cw := csv.NewWriter(w)
	cw.Write(append(w2Columns(plans), CorrectionColumns...))
	for i := range rows {
		c := &rows[i]
		cells := append(w2Cells(plans, &c.Row), c.Reported.EmployerProvided.String(), c.Reported.OtherBenefits.String(), c.Reported.Excess.String())
		cw.Write(safeRow(cells))
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return fmt.Errorf("writing dependent-care-w2-corrections.csv: %w", err)
	}
	return nil
}

// YearEndBook is what year-end.xlsx shows.
type YearEndBook struct {
	Year        int
	Date        core.Date // when the report was made, the workbook's date
	Plans       []string
	Rows        []W2Row
	Corrections []W2Correction // nil on the year's first report
	Reported    int            // the report's number: 1 for the first of the year
}

// WriteYearEndBook writes year-end.xlsx: a W-2 sheet with the figures of
// dependent-care-w2.csv, money as numbers, a Totals sheet, and a
// Corrections sheet when the year was reported before.
func WriteYearEndBook(out io.Writer, y YearEndBook) error {
	stamp := y.Date.Time().Add(12 * time.Hour).Format(time.RFC3339)
	book := newXLSXBook("", "carepay year end "+strconv.Itoa(y.Year), stamp)
	defer book.close()
	cols := w2Columns(y.Plans)
	widths := make([]float64, len(cols))
	for i := range widths {
		widths[i] = 16
	}
	sheet, err := book.sheet("W-2", widths, cols, MaxSheetRows)
	if err != nil {
		return err
	}
	var total W2Row
	total.ByPlan = map[string]core.Cents{}
	for i := range y.Rows {
		r := &y.Rows[i]
		if err := sheet.write(w2Values(y.Plans, r)...); err != nil {
			return err
		}
		for p, v := range r.ByPlan {
			total.ByPlan[p] += v
		}
		total.EmployerProvided += r.EmployerProvided
		total.Excess += r.Excess
	}
	if err := sheet.close(); err != nil {
		return err
	}
	totals, err := book.sheet("Totals", []float64{34, 20}, []string{"item", "value"}, MaxSheetRows)
	if err != nil {
		return err
	}
	items := [][2]any{{"calendar year", y.Year}, {"report", y.Reported}, {"employees", len(y.Rows)}}
	for _, p := range y.Plans {
		items = append(items, [2]any{"employer-provided: " + p, total.ByPlan[p]})
	}
	items = append(items, [2]any{"employer-provided: all plans", total.EmployerProvided}, [2]any{"excess over the exclusion (taxable)", total.Excess})
	for _, it := range items {
		if err := totals.write(it[0], it[1]); err != nil {
			return err
		}
	}
	if err := totals.close(); err != nil {
		return err
	}
	if y.Corrections != nil {
		c, err := book.sheet("Corrections", append(widths, 16, 16, 16), append(cols, CorrectionColumns...), MaxSheetRows)
		if err != nil {
			return err
		}
		for i := range y.Corrections {
			x := &y.Corrections[i]
			if err := c.write(append(w2Values(y.Plans, &x.Row), x.Reported.EmployerProvided, x.Reported.OtherBenefits, x.Reported.Excess)...); err != nil {
				return err
			}
		}
		if err := c.close(); err != nil {
			return err
		}
	}
	return book.writeTo(out)
}

func w2Values(plans []string, r *W2Row) []any {
	v := []any{r.EmployeeID, r.EmployeeName}
	for _, p := range plans {
		v = append(v, r.ByPlan[p])
	}
	return append(v, r.EmployerProvided, r.OtherBenefits, r.ExclusionLimit, r.Excess, r.EarningCode)
}
