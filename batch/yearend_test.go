package batch

import (
	"context"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"carepay/core"
	"carepay/internal/achtest"
)

// The year-end scenario: three employees, one per plan, all paid by
// check, with a run date of 2026-04-10 and one of 2026-04-17.
//
//   - E1 Ann Ames, jitc-invoice (80% of a day's charge, at most 80.00 a
//     day), invoice INV-Y1 payable to her: 2026-03-02 at 110.00 pays
//     80.00 (80% is 88.00, capped at 80.00), 2026-03-03 at 50.00 pays
//     40.00 (80%): 120.00 by check in the run of 04-10. That check is
//     voided before the run of 04-17, which pays the two lines again:
//     120.00, counted once. INV-Y2 (2026-03-06, 100.00) has no employee
//     signature: refused, UNSIGNED_EMPLOYEE.
//   - E2 Bo Baker, pinch-hourly, income 30,000.00 (8.00 an hour),
//     other_benefits 4,900.00 (combined cap 5,000.00): statement ST-Y2
//     of 2026-03, 2026-03-04 4 hours (56.00 charged) pays 4 x 8.00 =
//     32.00; 2026-03-05 20 hours (280.00 charged) would pay 160.00 but
//     only 5,000.00 - 4,900.00 - 32.00 = 68.00 is left: partial 68.00,
//     ANNUAL_CAP. Held for approval in the run of 04-10, approved, paid
//     by the run of 04-17: 100.00.
//   - E3 Cy Cole, bright-backup, income 55,000.00 (copay 10.00 a child a
//     day at a center), other_benefits 6,000.00: provider P1's statement
//     ST-Y3 of 2026-03, 2026-03-09 at 2,000.00 pays 1,990.00, 2026-03-10
//     at 120.00 pays 110.00: 2,100.00 to P1 by check on 04-10;
//     2026-03-14 is a Saturday: refused, NOT_WORKDAY.
//   - E9, in no roster: INV-Y9 is refused, NOT_ENROLLED; nobody to
//     write to, so no statement.
//
// dependent-care-w2.csv of 2026, limit 7,500.00, by hand:
//
//	E1: jitc 120.00; employer_provided 120.00; other 0.00; 120.00 <= 7,500.00: excess 0.00
//	E2: pinch 100.00; employer_provided 100.00; other 4,900.00; 5,000.00 <= 7,500.00: excess 0.00
//	E3: bright 2,100.00; employer_provided 2,100.00; other 6,000.00; 8,100.00 - 7,500.00 = excess 600.00
const yearEndRoster = `employee_id,first_name,last_name,plan_id,employment_type,annual_income,enrolled_on,address_line1,address_line2,city,state,postal_code,email,payment_method,routing_number,account_number,account_type,other_benefits,leave_status,last_used_on
E1,Ann,Ames,jitc-invoice,regular_full_time,70000.00,2025-01-01,1 First St,,Dover,DE,19901,,check,,,,0,none,
E2,Bo,Baker,pinch-hourly,regular_full_time,30000.00,2025-01-01,2 Second St,,Dover,DE,19902,,check,,,,4900.00,none,
E3,Cy,Cole,bright-backup,regular_full_time,55000.00,2025-01-01,3 Third St,,Dover,DE,19903,,check,,,,6000.00,none,
`

const yearEndDependents = `employee_id,dependent_id,first_name,last_name,birth_date,relationship,incapable_of_self_care,registered_on
E1,D11,Alma,Ames,2020-05-01,child,no,2025-01-01
E2,D21,Bea,Baker,2019-05-01,child,no,2025-01-01
E3,D31,Cal,Cole,2021-05-01,child,no,2025-01-01
`

const yearEndProviders = `provider_id,name,tax_id,address_line1,address_line2,city,state,postal_code,email,payment_method,routing_number,account_number,account_type
P1,Sunny Days Center,11-1111111,5 Fifth St,,Dover,DE,19904,,check,,,
`

const statementHeader = "statement_id,provider_id,period,employee_id,dependent_id,care_type,service_date,hours,amount_charged,line_id,received_on,mileage\n"

// yearEndEnv runs the scenario's two runs of 2026 and returns the env.
func yearEndEnv(t *testing.T) *env {
	t.Helper()
	e := newEnv(t)
	ctx := context.Background()
	drop := filepath.Join(e.dir, "drop1")
	writeFile(t, filepath.Join(drop, "01-employees.csv"), []byte(yearEndRoster))
	writeFile(t, filepath.Join(drop, "02-dependents.csv"), []byte(yearEndDependents))
	writeFile(t, filepath.Join(drop, "03-providers.csv"), []byte(yearEndProviders))
	writeFile(t, filepath.Join(drop, "30-invoices.csv"), []byte(invoiceHeader+
		"INV-Y1,E1,D11,P1,center,2026-03-02,110.00,2026-03-04,2026-03-04,2026-04-01,,employee\n"+
		"INV-Y1,E1,D11,P1,center,2026-03-03,50.00,2026-03-04,2026-03-04,2026-04-01,,employee\n"+
		"INV-Y2,E1,D11,P1,center,2026-03-06,100.00,,2026-03-07,2026-04-01,,employee\n"+
		"INV-Y9,E9,D91,P1,center,2026-03-02,100.00,2026-03-04,2026-03-04,2026-04-01,,employee\n"))
	writeFile(t, filepath.Join(drop, "20-statement-pinch.csv"), []byte(statementHeader+
		"ST-Y2,P1,2026-03,E2,D21,in_home,2026-03-04,4,56.00,1,2026-04-02,\n"+
		"ST-Y2,P1,2026-03,E2,D21,in_home,2026-03-05,20,280.00,2,2026-04-02,\n"))
	writeFile(t, filepath.Join(drop, "21-statement-bright.csv"), []byte(statementHeader+
		"ST-Y3,P1,2026-03,E3,D31,center,2026-03-09,,2000.00,1,2026-04-02,\n"+
		"ST-Y3,P1,2026-03,E3,D31,center,2026-03-10,,120.00,2,2026-04-02,\n"+
		"ST-Y3,P1,2026-03,E3,D31,center,2026-03-14,,120.00,3,2026-04-02,\n"))
	first := e.run(drop, core.NewDate(2026, 4, 10))
	pays := paymentsOf(t, e.lg, first.RunID)
	if p := pays["E1"]; p == nil || p.Amount != 120_00 || p.Method != core.MethodCheck {
		t.Fatalf("E1 in the run of 04-10: %+v, want a check for 120.00", p)
	}
	if p := pays["P1"]; p == nil || p.Amount != 2100_00 || p.Method != core.MethodCheck {
		t.Fatalf("P1 in the run of 04-10: %+v, want a check for 2,100.00", p)
	}
	if pays["E2"] != nil {
		t.Fatalf("E2 paid before approval: %+v", pays["E2"])
	}
	if _, err := e.lg.VoidCheck(ctx, pays["E1"].CheckNumber, "lost in the mail", "ops", time.Date(2026, 4, 12, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	if err := e.lg.Approve(ctx, []string{"ST-Y2"}, "ops", time.Date(2026, 4, 12, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(e.dir, "empty")
	if err := os.MkdirAll(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	second := e.run(empty, core.NewDate(2026, 4, 17))
	pays = paymentsOf(t, e.lg, second.RunID)
	if p := pays["E1"]; p == nil || p.Amount != 120_00 {
		t.Fatalf("E1 in the run of 04-17: %+v, want the voided 120.00 paid again", p)
	}
	if p := pays["E2"]; p == nil || p.Amount != 100_00 {
		t.Fatalf("E2 in the run of 04-17: %+v, want 32.00 + 68.00 = 100.00", p)
	}
	return e
}

func (e *env) yearEnd(year int, limit core.Cents, now time.Time) *YearEndResult {
	e.t.Helper()
	res, err := YearEnd(context.Background(), e.lg, YearEndOptions{Year: year, OutDir: filepath.Join(e.dir, "out"), Plans: e.cfg.Plans,
		Limit: limit, EarningCode: "DCEX", ReturnAddress: []string{"Acme Corp", "1 Main St"}, Date: core.DateOf(now),
		Now: func() time.Time { return now }})
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func popplerText(t *testing.T, path string) string {
	t.Helper()
	if _, err := exec.LookPath("pdftotext"); err != nil {
		t.Skip("pdftotext not installed (poppler-utils)")
	}
	out, err := exec.Command("pdftotext", "-layout", path, "-").CombinedOutput()
	if err != nil {
		t.Fatalf("pdftotext %s: %v: %s", path, err, out)
	}
	return string(out)
}

// squash collapses runs of spaces and line ends: pdftotext -layout pads
// columns and wraps paragraphs.
func squash(s string) string { return regexp.MustCompile(`\s+`).ReplaceAllString(s, " ") }

func TestYearEndW2(t *testing.T) {
	e := yearEndEnv(t)
	res := e.yearEnd(2026, 7500_00, time.Date(2027, 1, 15, 9, 0, 0, 0, time.UTC))
	dir := filepath.Join(e.dir, "out", "year-end-2026")
	if res.Dir != dir || res.Report != 1 || res.Corrections != nil {
		t.Fatalf("result: dir %s report %d corrections %v", res.Dir, res.Report, res.Corrections)
	}
	// Worked by hand above: the columns are the plans in ID order.
	want := [][]string{
		{"employee_id", "employee_name", "bright-backup", "jitc-invoice", "pinch-hourly", "employer_provided", "other_benefits", "exclusion_limit", "excess", "earning_code"},
		{"E1", "Ann Ames", "0.00", "120.00", "0.00", "120.00", "0.00", "7500.00", "0.00", "DCEX"},
		{"E2", "Bo Baker", "0.00", "0.00", "100.00", "100.00", "4900.00", "7500.00", "0.00", "DCEX"},
		{"E3", "Cy Cole", "2100.00", "0.00", "0.00", "2100.00", "6000.00", "7500.00", "600.00", "DCEX"},
	}
	got := readCSV(t, filepath.Join(dir, "dependent-care-w2.csv"))
	if len(got) != len(want) {
		t.Fatalf("dependent-care-w2.csv has %d rows, want %d: %q", len(got), len(want), got)
	}
	for i := range want {
		if strings.Join(got[i], ",") != strings.Join(want[i], ",") {
			t.Errorf("row %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}
	// 120.00 + 100.00 + 2,100.00 = 2,320.00; one employee over the limit.
	if res.Total != 2320_00 || res.Excess != 600_00 || res.OverLimit != 1 || res.Statements != 3 || res.Posted != 3 {
		t.Errorf("totals: %s provided, %s excess, %d over, %d statements (%d posted)", res.Total, res.Excess, res.OverLimit, res.Statements, res.Posted)
	}
	if !res.Open {
		t.Error("no run is dated after 2026: the report should say the year may still change")
	}
	if _, err := os.Stat(filepath.Join(dir, "statements", "employee-E9.pdf")); !os.IsNotExist(err) {
		t.Errorf("a statement to E9, who is in no roster: %v", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "dependent-care-w2-corrections.csv")); !os.IsNotExist(err) {
		t.Errorf("the first report of a year has no corrections file: %v", err)
	}

	t.Run("xlsx_money_as_numbers", func(t *testing.T) {
		f, err := excelize.OpenFile(filepath.Join(dir, "year-end.xlsx"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		rows, err := f.GetRows("W-2", excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		// E3's row: bright 2,100.00 and excess 600.00 as numbers.
		if len(rows) != 4 || rows[3][0] != "E3" || rows[3][2] != "2100" || rows[3][8] != "600" {
			t.Fatalf("W-2 sheet: %q", rows)
		}
		typ, err := f.GetCellType("W-2", "C4")
		if err != nil || typ == excelize.CellTypeSharedString || typ == excelize.CellTypeInlineString {
			t.Errorf("C4 is %v (%v), want a number", typ, err)
		}
		totals, err := f.GetRows("Totals", excelize.Options{RawCellValue: true})
		if err != nil {
			t.Fatal(err)
		}
		found := false
		for _, r := range totals {
			if len(r) == 2 && r[0] == "employer-provided: all plans" && r[1] == "2320" {
				found = true
			}
		}
		if !found {
			t.Errorf("Totals sheet lacks 2,320.00 for all plans: %q", totals)
		}
	})

	t.Run("statement_read_by_pdftotext", func(t *testing.T) {
		txt := squash(popplerText(t, filepath.Join(dir, "statements", "employee-E3.pdf")))
		for _, s := range []string{
			"Your dependent care benefits for 2026",
			"Cy Cole", "3 Third St",
			"Paid in April 2026",
			"2026-03-09 Cal center Sunny Days Center 2000.00 1990.00 approved",
			"2026-03-10 Cal center Sunny Days Center 120.00 110.00 approved",
			"Month total 2100.00",
			"Paid under plan bright-backup $2,100.00",
			"Employer-provided dependent care benefits $2,100.00",
			"Not paid",
			"2026-03-14 Cal center 120.00 0.00 rejected",
			"Box 10 of your 2026 Form W-2",
			"includes $2,100.00",
			"$6,000.00 of other dependent care benefits",
			"above the 2026 exclusion limit of $7,500.00: the $600.00 above it is taxable wages",
			"not tax advice",
			// bright-backup: 20 days a child a plan year; Cal used 2
			// (03-09, 03-10); the Saturday was refused and counts no day.
			"Cal: 18 of 20 days",
		} {
			if !strings.Contains(txt, s) {
				t.Errorf("E3's statement lacks %q:\n%s", s, txt)
			}
		}
		txt = squash(popplerText(t, filepath.Join(dir, "statements", "employee-E2.pdf")))
		for _, s := range []string{
			"2026-03-05 Bea in home you 280.00 68.00 partial",
			"Month total 100.00",
			"within the 2026 exclusion limit of $7,500.00",
			// Placements: 4 hours is one, 20 hours (over 12) two: 10 - 3 = 7.
			// Dollars: 5,000.00 - 4,900.00 other - 100.00 paid = 0.00.
			"Left at the end of 2026 7 of 10 placements; $0.00 of $5,000.00.",
		} {
			if !strings.Contains(txt, s) {
				t.Errorf("E2's statement lacks %q:\n%s", s, txt)
			}
		}
		// E1's voided check and its reissue: the two lines once, in April.
		txt = squash(popplerText(t, filepath.Join(dir, "statements", "employee-E1.pdf")))
		if n := strings.Count(txt, "2026-03-02 Alma"); n != 1 {
			t.Errorf("E1's statement shows the reissued line %d times, want once:\n%s", n, txt)
		}
		if !strings.Contains(txt, "2026-03-06 Alma center 100.00 0.00 rejected") || !strings.Contains(txt, "includes $120.00") {
			t.Errorf("E1's statement:\n%s", txt)
		}
		batch := popplerText(t, filepath.Join(dir, "print-batch.pdf"))
		if strings.Count(batch, "Your dependent care benefits for 2026") != 3 {
			t.Errorf("print batch holds %d statements, want 3", strings.Count(batch, "Your dependent care benefits for 2026"))
		}
	})
}

// TestYearEndCorrections reports 2026, then changes it twice: a run of
// 2026-12-30 pays E1 a new day (2026-12-28 at 50.00: 80% = 40.00), and a
// run of 2027-01-08 takes back P1's check of 2026-04-10 (voided), whose
// two lines of E3 it pays again in 2027. Both runs say they change a
// reported year. The second report of 2026, by hand:
//
//	E1: 120.00 + 40.00 = 160.00 (was 120.00)
//	E2: 100.00, unchanged: not a correction
//	E3: 0.00 (was 2,100.00); other 6,000.00 <= 7,500.00: excess 0.00 (was 600.00)
//
// and 2027 holds E3's 2,100.00 alone: 2,100.00 + 6,000.00 - 7,500.00 =
// excess 600.00.
func TestYearEndCorrections(t *testing.T) {
	e := yearEndEnv(t)
	ctx := context.Background()
	e.yearEnd(2026, 7500_00, time.Date(2026, 12, 29, 9, 0, 0, 0, time.UTC))

	drop := filepath.Join(e.dir, "drop3")
	writeFile(t, filepath.Join(drop, "30-invoices.csv"), []byte(invoiceHeader+
		"INV-Y4,E1,D11,P1,center,2026-12-28,50.00,2026-12-29,2026-12-29,2026-12-30,,employee\n"))
	third := e.run(drop, core.NewDate(2026, 12, 30))
	if !strings.Contains(third.Summary, "changes a reported year: a corrected W-2 (W-2c) may be needed") ||
		!strings.Contains(third.Summary, "2026: E1 jitc-invoice 40.00 paid") {
		t.Errorf("the run of 2026-12-30 does not say it changes 2026:\n%s", third.Summary)
	}
	var sum struct {
		Changes []struct {
			Year       int    `json:"year"`
			EmployeeID string `json:"employee_id"`
			Amount     string `json:"amount"`
			Change     string `json:"change"`
		} `json:"changes_reported_year"`
		Note string `json:"changes_reported_year_note"`
	}
	raw, err := os.ReadFile(filepath.Join(third.OutDir, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(raw, &sum); err != nil {
		t.Fatal(err)
	}
	if len(sum.Changes) != 1 || sum.Changes[0].Year != 2026 || sum.Changes[0].EmployeeID != "E1" || sum.Changes[0].Amount != "40.00" ||
		sum.Changes[0].Change != "paid" || !strings.Contains(sum.Note, "W-2c") {
		t.Errorf("run.json of 2026-12-30: %+v", sum)
	}

	summary := sheetRows(t, filepath.Join(third.OutDir, "register.xlsx"), "Summary", excelize.Options{RawCellValue: true})
	if last := summary[len(summary)-1]; len(last) != 2 || last[0] != "lines that change a reported year (a W-2c may be needed)" || last[1] != "1" {
		t.Errorf("register.xlsx Summary of 2026-12-30 ends with %q", last)
	}

	var p1Check int64
	if err := e.lg.DB().QueryRow(`SELECT check_number FROM payments WHERE payee_id = 'P1' AND method = 'check'`).Scan(&p1Check); err != nil {
		t.Fatal(err)
	}
	if _, err := e.lg.VoidCheck(ctx, p1Check, "stale", "ops", time.Date(2027, 1, 5, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(e.dir, "empty")
	fourth := e.run(empty, core.NewDate(2027, 1, 8))
	// 1,990.00 and 110.00 taken back from the 2026 check.
	if !strings.Contains(fourth.Summary, "2026: E3 bright-backup 1990.00 returned") || !strings.Contains(fourth.Summary, "2026: E3 bright-backup 110.00 returned") {
		t.Errorf("the run of 2027-01-08 does not say it changes 2026:\n%s", fourth.Summary)
	}
	if p := paymentsOf(t, e.lg, fourth.RunID)["P1"]; p == nil || p.Amount != 2100_00 {
		t.Fatalf("P1 in 2027: %+v, want the voided 2,100.00 paid again", p)
	}

	res := e.yearEnd(2026, 7500_00, time.Date(2027, 1, 15, 9, 0, 0, 0, time.UTC))
	if res.Report != 2 || len(res.Corrections) != 2 {
		t.Fatalf("second report of 2026: report %d, corrections %+v", res.Report, res.Corrections)
	}
	if res.Open {
		t.Error("a run dated 2027 exists: 2026 is closed")
	}
	dir := filepath.Join(e.dir, "out", "year-end-2026")
	want := [][]string{
		{"employee_id", "employee_name", "bright-backup", "jitc-invoice", "pinch-hourly", "employer_provided", "other_benefits", "exclusion_limit", "excess", "earning_code",
			"reported_employer_provided", "reported_other_benefits", "reported_excess"},
		{"E1", "Ann Ames", "0.00", "160.00", "0.00", "160.00", "0.00", "7500.00", "0.00", "DCEX", "120.00", "0.00", "0.00"},
		{"E3", "Cy Cole", "0.00", "0.00", "0.00", "0.00", "6000.00", "7500.00", "0.00", "DCEX", "2100.00", "6000.00", "600.00"},
	}
	got := readCSV(t, filepath.Join(dir, "dependent-care-w2-corrections.csv"))
	if len(got) != len(want) {
		t.Fatalf("corrections: %q", got)
	}
	for i := range want {
		if strings.Join(got[i], ",") != strings.Join(want[i], ",") {
			t.Errorf("corrections row %d:\n got %q\nwant %q", i, got[i], want[i])
		}
	}
	// The W-2 file of 2026 now: E1 160.00, E2 100.00; E3 was paid nothing in 2026.
	w2 := readCSV(t, filepath.Join(dir, "dependent-care-w2.csv"))
	if len(w2) != 3 || w2[1][0] != "E1" || w2[1][5] != "160.00" || w2[2][0] != "E2" || w2[2][5] != "100.00" {
		t.Errorf("dependent-care-w2.csv of 2026 after corrections: %q", w2)
	}

	// Reported again with nothing changed: a corrections file with no rows.
	again := e.yearEnd(2026, 7500_00, time.Date(2027, 1, 16, 9, 0, 0, 0, time.UTC))
	if again.Report != 3 || len(again.Corrections) != 0 {
		t.Errorf("third report of 2026: report %d, corrections %+v", again.Report, again.Corrections)
	}
	if rows := readCSV(t, filepath.Join(dir, "dependent-care-w2-corrections.csv")); len(rows) != 1 {
		t.Errorf("nothing changed, yet corrections: %q", rows)
	}

	y27 := e.yearEnd(2027, 7500_00, time.Date(2027, 1, 16, 9, 0, 0, 0, time.UTC))
	if len(y27.Rows) != 1 || y27.Rows[0].EmployeeID != "E3" || y27.Rows[0].EmployerProvided != 2100_00 || y27.Rows[0].Excess != 600_00 {
		t.Errorf("2027: %+v", y27.Rows)
	}
	if !y27.Open {
		t.Errorf("2027 has no run dated after it: the report should say the year may still change")
	}
}

// TestYearEndPlanYearNotCalendar: jitc-invoice with a plan year from July
// (year_start_month = 7). Two days of E1 in the plan year July 2026 to
// June 2027: 2026-12-21 at 50.00 pays 40.00 (80%) in the run of
// 2026-12-23, 2027-01-04 at 60.00 pays 48.00 (80%) in the run of
// 2027-01-06. Box 10 goes by the calendar year of payment: 2026 holds
// 40.00 and 2027 48.00, though both days are of one plan year. At the end
// of 2026, the plan year holding 31 December has used 1 of its 10 days: 9
// are left.
func TestYearEndPlanYearNotCalendar(t *testing.T) {
	e := newEnv(t)
	july := *e.cfg.Plans["jitc-invoice"]
	july.YearStartMonth = 7
	e.cfg.Plans = maps.Clone(e.cfg.Plans)
	e.cfg.Plans["jitc-invoice"] = &july
	drop := filepath.Join(e.dir, "drop1")
	writeFile(t, filepath.Join(drop, "01-employees.csv"), []byte(yearEndRoster))
	writeFile(t, filepath.Join(drop, "02-dependents.csv"), []byte(yearEndDependents))
	writeFile(t, filepath.Join(drop, "03-providers.csv"), []byte(yearEndProviders))
	writeFile(t, filepath.Join(drop, "30-invoices.csv"), []byte(invoiceHeader+
		"INV-Z1,E1,D11,P1,center,2026-12-21,50.00,2026-12-22,2026-12-22,2026-12-22,,employee\n"))
	e.run(drop, core.NewDate(2026, 12, 23))
	drop2 := filepath.Join(e.dir, "drop2")
	writeFile(t, filepath.Join(drop2, "30-invoices.csv"), []byte(invoiceHeader+
		"INV-Z2,E1,D11,P1,center,2027-01-04,60.00,2027-01-05,2027-01-05,2027-01-05,,employee\n"))
	e.run(drop2, core.NewDate(2027, 1, 6))

	y26 := e.yearEnd(2026, 7500_00, time.Date(2027, 1, 15, 9, 0, 0, 0, time.UTC))
	y27 := e.yearEnd(2027, 7500_00, time.Date(2028, 1, 15, 9, 0, 0, 0, time.UTC))
	if len(y26.Rows) != 1 || y26.Rows[0].ByPlan["jitc-invoice"] != 40_00 || y26.Rows[0].EmployerProvided != 40_00 {
		t.Errorf("2026: %+v, want E1 40.00", y26.Rows)
	}
	if len(y27.Rows) != 1 || y27.Rows[0].ByPlan["jitc-invoice"] != 48_00 || y27.Rows[0].EmployerProvided != 48_00 {
		t.Errorf("2027: %+v, want E1 48.00", y27.Rows)
	}
	txt := squash(popplerText(t, filepath.Join(e.dir, "out", "year-end-2026", "statements", "employee-E1.pdf")))
	if !strings.Contains(txt, "Left at the end of 2026 9 of 10 days") || !strings.Contains(txt, "Paid in December 2026") || strings.Contains(txt, "2027-01-04") {
		t.Errorf("E1's statement of 2026:\n%s", txt)
	}
}

// TestYearEndHeldForReview: a payment held for review counts in the year
// of the run that issues it, not the run that formed it. With
// limits.max_payment at 100.00, E1's three jitc days of 2026-12-14 to
// 2026-12-16 at 50.00 (80%: 40.00 each, 120.00) form a payment in the run
// of 2026-12-23 that is held; approved, the run of 2027-01-06 issues it.
// 2026 has no W-2 row; 2027 has E1's 120.00.
func TestYearEndHeldForReview(t *testing.T) {
	e := newEnv(t)
	e.cfg.Limits.MaxPayment = 100_00
	drop := filepath.Join(e.dir, "drop1")
	writeFile(t, filepath.Join(drop, "01-employees.csv"), []byte(yearEndRoster))
	writeFile(t, filepath.Join(drop, "02-dependents.csv"), []byte(yearEndDependents))
	writeFile(t, filepath.Join(drop, "03-providers.csv"), []byte(yearEndProviders))
	writeFile(t, filepath.Join(drop, "30-invoices.csv"), []byte(invoiceHeader+
		"INV-H1,E1,D11,P1,center,2026-12-14,50.00,2026-12-17,2026-12-17,2026-12-18,,employee\n"+
		"INV-H1,E1,D11,P1,center,2026-12-15,50.00,2026-12-17,2026-12-17,2026-12-18,,employee\n"+
		"INV-H1,E1,D11,P1,center,2026-12-16,50.00,2026-12-17,2026-12-17,2026-12-18,,employee\n"))
	first := e.run(drop, core.NewDate(2026, 12, 23))
	if p := paymentsOf(t, e.lg, first.RunID)["E1"]; p != nil {
		t.Fatalf("E1 paid above max_payment without approval: %+v", p)
	}
	var held int64
	if err := e.lg.DB().QueryRow(`SELECT id FROM payments WHERE review = 'held' AND payee_id = 'E1' AND amount = 12000`).Scan(&held); err != nil {
		t.Fatalf("no payment of 120.00 held for E1: %v", err)
	}
	if err := e.lg.Approve(context.Background(), []string{core.PaymentRef(held)}, "controller", time.Date(2026, 12, 28, 9, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	empty := filepath.Join(e.dir, "empty")
	if err := os.MkdirAll(empty, 0o700); err != nil {
		t.Fatal(err)
	}
	second := e.run(empty, core.NewDate(2027, 1, 6))
	if p := paymentsOf(t, e.lg, second.RunID)["E1"]; p == nil || p.Amount != 120_00 {
		t.Fatalf("E1 in the run of 2027-01-06: %+v, want the approved 120.00", p)
	}
	if y26 := e.yearEnd(2026, 7500_00, time.Date(2027, 1, 15, 9, 0, 0, 0, time.UTC)); len(y26.Rows) != 0 {
		t.Errorf("2026: %+v, want no row: the payment was issued in 2027", y26.Rows)
	}
	y27 := e.yearEnd(2027, 7500_00, time.Date(2028, 1, 15, 9, 0, 0, 0, time.UTC))
	if len(y27.Rows) != 1 || y27.Rows[0].EmployeeID != "E1" || y27.Rows[0].EmployerProvided != 120_00 {
		t.Errorf("2027: %+v, want E1 120.00", y27.Rows)
	}
}

// TestYearEndBankReturn: E1 paid by ACH. The run of 2026-04-10 sends
// 120.00 (2026-03-02 at 110.00: 80.00; 2026-03-03 at 50.00: 40.00); the
// bank returns it (R01), and the run of 2026-04-17 takes the return and
// pays the two lines again. The returned payment counts nothing, the
// reissue once: E1's 2026 row is 120.00, not 240.00 nor 0.00.
func TestYearEndBankReturn(t *testing.T) {
	e := newEnv(t)
	drop := filepath.Join(e.dir, "drop1")
	roster := strings.Replace(yearEndRoster, "E1,Ann,Ames,jitc-invoice,regular_full_time,70000.00,2025-01-01,1 First St,,Dover,DE,19901,,check,,,,0,none,",
		"E1,Ann,Ames,jitc-invoice,regular_full_time,70000.00,2025-01-01,1 First St,,Dover,DE,19901,,ach,011000015,123456789,checking,0,none,", 1)
	writeFile(t, filepath.Join(drop, "01-employees.csv"), []byte(roster))
	writeFile(t, filepath.Join(drop, "02-dependents.csv"), []byte(yearEndDependents))
	writeFile(t, filepath.Join(drop, "03-providers.csv"), []byte(yearEndProviders))
	writeFile(t, filepath.Join(drop, "30-invoices.csv"), []byte(invoiceHeader+
		"INV-Y1,E1,D11,P1,center,2026-03-02,110.00,2026-03-04,2026-03-04,2026-04-01,,employee\n"+
		"INV-Y1,E1,D11,P1,center,2026-03-03,50.00,2026-03-04,2026-03-04,2026-04-01,,employee\n"))
	first := e.run(drop, core.NewDate(2026, 4, 10))
	p := paymentsOf(t, e.lg, first.RunID)["E1"]
	if p == nil || p.Method != core.MethodACH || p.Amount != 120_00 || p.TraceNumber == "" {
		t.Fatalf("E1 in the run of 04-10: %+v, want 120.00 by ACH", p)
	}
	sent, err := os.ReadFile(filepath.Join(first.OutDir, "payments.ach"))
	if err != nil {
		t.Fatal(err)
	}
	drop2 := filepath.Join(e.dir, "drop2")
	writeFile(t, filepath.Join(drop2, "bank-0414.txt"), achtest.BankFile(t, sent, "260414", []achtest.Notice{{Code: "R01", Trace: p.TraceNumber}}))
	second := e.run(drop2, core.NewDate(2026, 4, 17))
	again := paymentsOf(t, e.lg, second.RunID)["E1"]
	if again == nil || again.Amount != 120_00 {
		t.Fatalf("E1 in the run of 04-17: %+v, want the returned 120.00 paid again", again)
	}
	res := e.yearEnd(2026, 7500_00, time.Date(2027, 1, 15, 9, 0, 0, 0, time.UTC))
	if len(res.Rows) != 1 || res.Rows[0].EmployeeID != "E1" || res.Rows[0].ByPlan["jitc-invoice"] != 120_00 || res.Rows[0].EmployerProvided != 120_00 {
		t.Errorf("2026: %+v, want E1 120.00", res.Rows)
	}
}
