package batch

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A small jitc-invoice world: employee E1 (50,000.00, enrolled 2025-01-01,
// paid by check), child D1, provider P1 paid by check.
const (
	corrEmployees = "employee_id,first_name,last_name,plan_id,employment_type,annual_income,enrolled_on,address_line1,city,state,postal_code\n" +
		"E1,Ada,Byrne,jitc-invoice,regular_full_time,50000.00,2025-01-01,1 Main St,Dover,DE,19901\n"
	corrDependents = "employee_id,dependent_id,first_name,last_name,birth_date,relationship,registered_on\n" +
		"E1,D1,Cal,Byrne,2020-01-01,child,2025-01-01\n"
	corrProviders = "provider_id,name,address_line1,city,state,postal_code,payment_method\n" +
		"P1,Little Steps,9 Elm St,Dover,DE,19901,check\n"
	corrInvoiceHeader = "invoice_id,employee_id,dependent_id,provider_id,care_type,service_date,amount_charged,employee_signed_on,provider_signed_on,received_on,hours,payee\n"
)

// drop writes files (name -> content) into a new folder, as a drop that
// has rested, and returns it.
func drop(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		rested(t, filepath.Join(dir, name))
	}
	return dir
}

// wantLine checks one decision of decisions.csv.
func wantLine(t *testing.T, rows []map[string]string, source, row, status, reasons, employer string) {
	t.Helper()
	r := find(rows, source, row)
	if r == nil {
		t.Fatalf("no decision for %s row %s", source, row)
	}
	if r["status"] != status || r["reasons"] != reasons || r["employer_share"] != employer {
		t.Errorf("%s row %s: %s [%s] employer %s; want %s [%s] employer %s", source, row, r["status"], r["reasons"], r["employer_share"], status, reasons, employer)
	}
}

// TestCorrectedInvoice: an invoice rejected for a missing signature, sent
// again signed in a later run, is decided afresh and paid; sent once more
// after that, it is a DUPLICATE as a whole.
func TestCorrectedInvoice(t *testing.T) {
	e := newEnv(t)
	// Run 1: no employee signature: both lines UNSIGNED_EMPLOYEE.
	res := e.run(drop(t, map[string]string{
		"01-employees.csv": corrEmployees, "02-dependents.csv": corrDependents, "03-providers.csv": corrProviders,
		"30-inv.csv": corrInvoiceHeader +
			"INV-9,E1,D1,P1,center,2026-03-02,100.00,,2026-03-05,2026-03-10,,\n" +
			"INV-9,E1,D1,P1,center,2026-03-03,100.00,,2026-03-05,2026-03-10,,\n",
	}), fixtureDay)
	rows := readDecisions(t, filepath.Join(res.OutDir, "decisions.csv"))
	wantLine(t, rows, "30-inv.csv", "2", "rejected", "UNSIGNED_EMPLOYEE", "0.00")
	wantLine(t, rows, "30-inv.csv", "3", "rejected", "UNSIGNED_EMPLOYEE", "0.00")

	// Run 2: the same invoice signed: a correction. 100.00 x 0.8 = 80.00 a
	// line, 160.00 paid to P1 by check.
	res = e.run(drop(t, map[string]string{
		"31-inv-signed.csv": corrInvoiceHeader +
			"INV-9,E1,D1,P1,center,2026-03-02,100.00,2026-03-05,2026-03-05,2026-04-11,,\n" +
			"INV-9,E1,D1,P1,center,2026-03-03,100.00,2026-03-05,2026-03-05,2026-04-11,,\n",
	}), fixtureDay.AddDays(1))
	rows = readDecisions(t, filepath.Join(res.OutDir, "decisions.csv"))
	wantLine(t, rows, "31-inv-signed.csv", "2", "approved", "", "80.00")
	wantLine(t, rows, "31-inv-signed.csv", "3", "approved", "", "80.00")
	checks, err := os.ReadFile(filepath.Join(res.OutDir, "checks.csv"))
	if err != nil || !strings.Contains(string(checks), "160.00") {
		t.Errorf("checks.csv of the correction's run does not pay 160.00: %q, %v", checks, err)
	}

	// Run 3: sent once more: INV-9 was paid, the whole copy is a DUPLICATE.
	res = e.run(drop(t, map[string]string{
		"32-inv-again.csv": corrInvoiceHeader +
			"INV-9,E1,D1,P1,center,2026-03-02,100.00,2026-03-05,2026-03-05,2026-04-12,,\n" +
			"INV-9,E1,D1,P1,center,2026-03-03,100.00,2026-03-05,2026-03-05,2026-04-12,,\n",
	}), fixtureDay.AddDays(2))
	rows = readDecisions(t, filepath.Join(res.OutDir, "decisions.csv"))
	wantLine(t, rows, "32-inv-again.csv", "2", "rejected", "DUPLICATE", "0.00")
	wantLine(t, rows, "32-inv-again.csv", "3", "rejected", "DUPLICATE", "0.00")
}

// TestInvoiceCopiesInOneDrop: within one drop the first file to arrive
// wins: its copy is decided, from its own rows only, and the later copy is
// a DUPLICATE whatever it holds.
func TestInvoiceCopiesInOneDrop(t *testing.T) {
	e := newEnv(t)
	res := e.run(drop(t, map[string]string{
		"01-employees.csv": corrEmployees, "02-dependents.csv": corrDependents, "03-providers.csv": corrProviders,
		// signed 03-05, after its only day 03-02: 80.00
		"30-inv.csv": corrInvoiceHeader + "INV-7,E1,D1,P1,center,2026-03-02,100.00,2026-03-05,2026-03-05,2026-03-10,,\n",
		// a second copy adding 03-09: were its row counted, the first copy
		// would be signed before its last service
		"31-inv.csv": corrInvoiceHeader + "INV-7,E1,D1,P1,center,2026-03-09,100.00,2026-03-10,2026-03-10,2026-03-12,,\n",
	}), fixtureDay)
	rows := readDecisions(t, filepath.Join(res.OutDir, "decisions.csv"))
	wantLine(t, rows, "30-inv.csv", "2", "approved", "", "80.00")
	wantLine(t, rows, "31-inv.csv", "2", "rejected", "DUPLICATE", "0.00")
}

// TestSanityLimitsInARun: rows past the run date, more than 730 days
// before it, or charged above limits.max_line_charge are INVALID_ROW and
// move neither the invoice's first nor its last service date.
func TestSanityLimitsInARun(t *testing.T) {
	e := newEnv(t)
	res := e.run(drop(t, map[string]string{
		"01-employees.csv": corrEmployees, "02-dependents.csv": corrDependents, "03-providers.csv": corrProviders,
		"30-inv.csv": corrInvoiceHeader +
			// run date 2026-04-10. Counted, 2024-04-09 would make the
			// invoice's plan year 2024 (due by 2025-01-31: LATE) and
			// 2026-04-20 its last service (signed 04-05 before it).
			"INV-5,E1,D1,P1,center,2024-04-09,100.00,2026-04-05,2026-04-05,2026-04-06,,\n" +
			"INV-5,E1,D1,P1,center,2026-03-02,100.00,2026-04-05,2026-04-05,2026-04-06,,\n" +
			"INV-5,E1,D1,P1,center,2026-04-20,100.00,2026-04-05,2026-04-05,2026-04-06,,\n" +
			"INV-5,E1,D1,P1,center,2026-03-03,5000.01,2026-04-05,2026-04-05,2026-04-06,,\n" +
			// 5,000.00 is at the limit: 80% = 4,000.00 -> the 80.00 maximum
			"INV-5,E1,D1,P1,center,2026-03-04,5000.00,2026-04-05,2026-04-05,2026-04-06,,\n",
	}), fixtureDay)
	rows := readDecisions(t, filepath.Join(res.OutDir, "decisions.csv"))
	wantLine(t, rows, "30-inv.csv", "2", "rejected", "INVALID_ROW", "0.00")
	wantLine(t, rows, "30-inv.csv", "3", "approved", "", "80.00")
	wantLine(t, rows, "30-inv.csv", "4", "rejected", "INVALID_ROW", "0.00")
	wantLine(t, rows, "30-inv.csv", "5", "rejected", "INVALID_ROW", "0.00")
	wantLine(t, rows, "30-inv.csv", "6", "approved", "", "80.00")
	ack, err := os.ReadFile(filepath.Join(res.OutDir, "acks", "30-inv.csv.ack.txt"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`30-inv.csv:2:service_date: is more than 730 days before the run date 2026-04-10 (the earliest accepted is 2024-04-10) (value "2024-04-09")`,
		`30-inv.csv:4:service_date: is after the run date 2026-04-10; care cannot be claimed before it took place (value "2026-04-20")`,
		`30-inv.csv:5:amount_charged: is above the limit of $5,000.00 a line (limits.max_line_charge in config.toml) (value "5000.01")`,
	} {
		if !strings.Contains(string(ack), want) {
			t.Errorf("ack lacks %q:\n%s", want, ack)
		}
	}
}

// TestRosterRowNotApplied: an employees row that does not parse (here a
// blank plan_id) is not applied: the earlier row stays, and the ack says
// why.
func TestRosterRowNotApplied(t *testing.T) {
	e := newEnv(t)
	e.run(drop(t, map[string]string{
		"01-employees.csv": corrEmployees, "02-dependents.csv": corrDependents, "03-providers.csv": corrProviders,
	}), fixtureDay)
	res := e.run(drop(t, map[string]string{
		"01-employees-update.csv": "employee_id,first_name,last_name,plan_id,employment_type,annual_income,enrolled_on\n" +
			"E1,Ada,Byrne,,regular_full_time,50000.00,2026-04-01\n",
		// were the row applied, E1 would have no plan (UNKNOWN_PLAN), or be
		// enrolled 2026-04-01, 30 days after 03-02 + 1 (NOT_ENROLLED)
		"30-inv.csv": corrInvoiceHeader + "INV-3,E1,D1,P1,center,2026-03-01,100.00,2026-03-05,2026-03-05,2026-03-10,,\n",
	}), fixtureDay.AddDays(1))
	rows := readDecisions(t, filepath.Join(res.OutDir, "decisions.csv"))
	wantLine(t, rows, "30-inv.csv", "2", "approved", "", "80.00")
	ack, err := os.ReadFile(filepath.Join(res.OutDir, "acks", "01-employees-update.csv.ack.txt"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "01-employees-update.csv:2:plan_id: is blank; a value is required"; !strings.Contains(string(ack), want) {
		t.Errorf("ack lacks %q:\n%s", want, ack)
	}
	if want := "rows: 1 read, 0 taken, 1 rejected"; !strings.Contains(string(ack), want) {
		t.Errorf("ack lacks %q:\n%s", want, ack)
	}
}

// TestInvoiceNamingTwoEmployees: every row of an invoice whose rows name two
// employees is INVALID_ROW, counting a row that is INVALID_ROW itself (a bad
// amount) but still names its employee.
func TestInvoiceNamingTwoEmployees(t *testing.T) {
	e := newEnv(t)
	res := e.run(drop(t, map[string]string{
		"01-employees.csv": corrEmployees, "02-dependents.csv": corrDependents, "03-providers.csv": corrProviders,
		"30-inv.csv": corrInvoiceHeader +
			"INV-4,E1,D1,P1,center,2026-03-02,100.00,2026-03-05,2026-03-05,2026-03-10,,\n" +
			"INV-4,E2,D1,P1,center,2026-03-03,1OO.00,2026-03-05,2026-03-05,2026-03-10,,\n" +
			// a blank employee_id names no one: INV-6 is E1's alone
			"INV-6,E1,D1,P1,center,2026-03-04,100.00,2026-03-05,2026-03-05,2026-03-10,,\n" +
			"INV-6,,D1,P1,center,2026-03-05,100.00,2026-03-05,2026-03-05,2026-03-10,,\n",
	}), fixtureDay)
	rows := readDecisions(t, filepath.Join(res.OutDir, "decisions.csv"))
	wantLine(t, rows, "30-inv.csv", "2", "rejected", "INVALID_ROW", "0.00")
	wantLine(t, rows, "30-inv.csv", "3", "rejected", "INVALID_ROW", "0.00")
	// 100.00 x 0.8 = 80.00
	wantLine(t, rows, "30-inv.csv", "4", "approved", "", "80.00")
	wantLine(t, rows, "30-inv.csv", "5", "rejected", "INVALID_ROW", "0.00")
}
