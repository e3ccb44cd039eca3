package batch

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"carepay/core"
)

// A pinch-hourly family: income 39,999.99 pays 8.00 an hour.
const (
	pinchEmployeesHeader = "employee_id,first_name,last_name,plan_id,employment_type,annual_income,enrolled_on,address_line1,city,state,postal_code,payment_method,routing_number,account_number,account_type,other_benefits\n"
	pinchDependents      = "employee_id,dependent_id,first_name,last_name,birth_date,relationship,registered_on\n" +
		"EP,DP,Pia,Park,2020-01-01,child,2025-01-01\n"
	pinchProviders = providersHeader + "PP,Pine Nannies,4 Main St,Dover,DE,19901,check,,,\n"
)

func pinchEmployee(income, method, routing, otherBenefits string) string {
	account, kind := "", ""
	if method == "ach" {
		account, kind = "44445555", "checking"
	}
	return pinchEmployeesHeader + fmt.Sprintf("EP,Eve,Park,pinch-hourly,regular_full_time,%s,2025-01-01,5 Elm St,Dover,DE,19901,%s,%s,%s,%s,%s\n",
		income, method, routing, account, kind, otherBenefits)
}

// inHome writes one statement row of in-home care at 14.00 an hour.
func inHome(statement string, day int, hours int) string {
	return fmt.Sprintf("%s,PP,2026-03,EP,DP,in_home,2026-03-%02d,%d,%d.00\n", statement, day, hours, 14*hours)
}

func payroll(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	if rows := readCSVIf(t, filepath.Join(dir, "payroll.csv")); rows != nil {
		for _, r := range rows[1:] {
			got[r[0]] = r[3]
		}
	}
	return got
}

func readCSVIf(t *testing.T, path string) [][]string {
	t.Helper()
	if !fileExists(path) {
		return nil
	}
	return readCSV(t, path)
}

// TestApprovalCoversLinesHeldWhenGiven: lines that arrive under a
// statement already approved are held again and need an approval of
// their own; each approval releases what it covered, paid once.
func TestApprovalCoversLinesHeldWhenGiven(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	// Run 1: 5 h (8 x 5 = 40.00) and 6 h (8 x 6 = 48.00), both held.
	first := e.run(drop(t, map[string]string{"01-employees.csv": pinchEmployee("39999.99", "payroll", "", "0"),
		"02-dependents.csv": pinchDependents, "03-providers.csv": pinchProviders,
		"20-statement.csv": statementsHeader + inHome("ST-P", 2, 5) + inHome("ST-P", 3, 6)}), fixtureDay)
	if got := payroll(t, first.OutDir); len(got) != 0 {
		t.Fatalf("run 1 paid %v", got)
	}
	a, err := e.lg.ApproveRefs(ctx, []string{"ST-P"}, "ops-lead", fixtureDay.Time())
	if err != nil || len(a) != 1 || a[0].Lines != 2 {
		t.Fatalf("approval %+v %v", a, err)
	}
	// Run 2: a late line of the same statement (4 h: 8 x 4 = 32.00) is held
	// again; the approved lines are paid: 40.00 + 48.00 = 88.00.
	second := e.run(drop(t, map[string]string{"21-statement-late.csv": statementsHeader + inHome("ST-P", 4, 4)}), fixtureDay.AddDays(3))
	rows := readDecisions(t, filepath.Join(second.OutDir, "decisions.csv"))
	status := map[string]string{}
	for _, r := range rows {
		status[r["service_date"]] = r["status"] + " [" + r["reasons"] + "] " + r["employer_share"]
	}
	want := map[string]string{"2026-03-02": "approved [] 40.00", "2026-03-03": "approved [] 48.00", "2026-03-04": "held [AWAITING_APPROVAL] 32.00"}
	if fmt.Sprint(status) != fmt.Sprint(want) {
		t.Errorf("run 2 decisions %v; want %v", status, want)
	}
	if got := payroll(t, second.OutDir); got["EP"] != "88.00" || len(got) != 1 {
		t.Errorf("run 2 paid %v; want EP 88.00", got)
	}
	// The statement can be approved again: its new line is held.
	a, err = e.lg.ApproveRefs(ctx, []string{"ST-P"}, "second-lead", fixtureDay.Time())
	if err != nil || len(a) != 1 || a[0].Lines != 1 {
		t.Fatalf("second approval %+v %v", a, err)
	}
	if err := e.lg.Approve(ctx, []string{"ST-P"}, "ops-lead", fixtureDay.Time()); err == nil || !strings.Contains(err.Error(), "already approved by second-lead") {
		t.Errorf("third approval: %v", err)
	}
	third := e.run(drop(t, nil), fixtureDay.AddDays(4))
	rows = readDecisions(t, filepath.Join(third.OutDir, "decisions.csv"))
	if len(rows) != 1 || rows[0]["service_date"] != "2026-03-04" || rows[0]["status"] != "approved" || rows[0]["reasons"] != "" {
		t.Errorf("run 3 decisions %v", rows)
	}
	if got := payroll(t, third.OutDir); got["EP"] != "32.00" || len(got) != 1 {
		t.Errorf("run 3 paid %v; want EP 32.00", got)
	}
	// 40.00 + 48.00 + 32.00 = 120.00 over two payments, every line once.
	var n int
	var total int64
	e.lg.DB().QueryRow(`SELECT COUNT(*), SUM(amount) FROM payments`).Scan(&n, &total)
	if n != 2 || total != 120_00 || ledgerBalances(t, e) != 0 {
		t.Errorf("%d payments of %d cents; want 2 of 120.00, every line paid", n, total)
	}
	var steps string
	e.lg.DB().QueryRow(`SELECT steps FROM lines WHERE service_date = '2026-03-04'`).Scan(&steps)
	if !strings.Contains(steps, "approved by second-lead") {
		t.Errorf("explanation does not name the approver: %q", steps)
	}
}

// TestHeldLineKeepsReservedAmount: a held line's dollars are fixed when it
// is decided; a roster change before its release does not recompute it.
func TestHeldLineKeepsReservedAmount(t *testing.T) {
	e := newEnv(t)
	// Run 1: 10 h at 8.00 (income 39,999.99) = 80.00, held.
	e.run(drop(t, map[string]string{"01-employees.csv": pinchEmployee("39999.99", "payroll", "", "0"),
		"02-dependents.csv": pinchDependents, "03-providers.csv": pinchProviders,
		"20-statement.csv": statementsHeader + inHome("ST-P", 2, 10)}), fixtureDay)
	if err := e.lg.Approve(context.Background(), []string{"ST-P"}, "ops-lead", fixtureDay.Time()); err != nil {
		t.Fatal(err)
	}
	// Run 2: income now 80,000.00 (4.00 an hour: 40.00) and other
	// benefits 5,000.00 (the cap: BENEFIT_MAXED). A new line sees them;
	// the released line is paid the 80.00 reserved.
	second := e.run(drop(t, map[string]string{"01-employees-raise.csv": pinchEmployee("80000.00", "payroll", "", "5000.00"),
		"20-statement-2.csv": statementsHeader + inHome("ST-Q", 3, 10)}), fixtureDay.AddDays(3))
	rows := readDecisions(t, filepath.Join(second.OutDir, "decisions.csv"))
	got := map[string]string{}
	for _, r := range rows {
		got[r["ref"]] = r["status"] + " [" + r["reasons"] + "] " + r["employer_share"]
	}
	want := map[string]string{"ST-P": "approved [] 80.00", "ST-Q": "rejected [BENEFIT_MAXED] 0.00"}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("run 2 decisions %v; want %v", got, want)
	}
	if p := payroll(t, second.OutDir); p["EP"] != "80.00" {
		t.Errorf("run 2 paid %v; want EP 80.00", p)
	}
}

// TestReleasedLineCarriesPaymentDetails: a released line whose payee's
// bank details fail carries PAYMENT_DETAILS and waits, unpaid, for a fix.
func TestReleasedLineCarriesPaymentDetails(t *testing.T) {
	e := newEnv(t)
	// Routing 011000016 fails the ABA check digit. 10 h x 8.00 = 80.00.
	e.run(drop(t, map[string]string{"01-employees.csv": pinchEmployee("39999.99", "ach", "011000016", "0"),
		"02-dependents.csv": pinchDependents, "03-providers.csv": pinchProviders,
		"20-statement.csv": statementsHeader + inHome("ST-P", 2, 10)}), fixtureDay)
	if err := e.lg.Approve(context.Background(), []string{"ST-P"}, "ops-lead", fixtureDay.Time()); err != nil {
		t.Fatal(err)
	}
	second := e.run(drop(t, nil), fixtureDay.AddDays(3))
	rows := readDecisions(t, filepath.Join(second.OutDir, "decisions.csv"))
	if len(rows) != 1 || rows[0]["status"] != "approved" || rows[0]["reasons"] != "PAYMENT_DETAILS" || rows[0]["employer_share"] != "80.00" {
		t.Errorf("released line %v; want approved [PAYMENT_DETAILS] 80.00", rows)
	}
	if got := nachaEntries(t, second.OutDir); len(got) != 0 {
		t.Errorf("paid %v to a failing routing number", got)
	}
	sum := readSummary(t, second)
	if len(sum.Held) != 1 || sum.Held[0].PayeeID != "EP" || sum.Held[0].Amount != 80_00 || sum.ByReason[string(core.PaymentDetails)] != 1 {
		t.Errorf("run 2 held %+v, reasons %v", sum.Held, sum.ByReason)
	}
	third := e.run(drop(t, map[string]string{"01-employees-fixed.csv": pinchEmployee("39999.99", "ach", "011000015", "0")}), fixtureDay.AddDays(4))
	if got := nachaEntries(t, third.OutDir); len(got) != 1 || got["EP"] != 80_00 {
		t.Errorf("run 3 entries %v; want EP 80.00", got)
	}
	if ledgerBalances(t, e) != 0 {
		t.Error("a line is unpaid")
	}
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
