package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/moov-io/ach"
)

// approveDrop writes the registries and a statement of eleven lines of
// center care at 5,000.00 with a 10.00 copay: 11 x 4,990.00 = 54,890.00
// to provider P, above the 50,000.00 of config.toml. provider is P's row
// of the providers file.
func approveDrop(t *testing.T, dir, provider string) string {
	t.Helper()
	inbox := filepath.Join(dir, "inbox")
	os.MkdirAll(inbox, 0o755)
	var stmt strings.Builder
	stmt.WriteString("statement_id,provider_id,period,employee_id,dependent_id,care_type,service_date,hours,amount_charged\n")
	for _, d := range []int{2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 16} {
		fmt.Fprintf(&stmt, "ST-1,%s,2026-03,E1,D1,center,2026-03-%02d,,5000.00\n", strings.SplitN(provider, ",", 2)[0], d)
	}
	files := map[string]string{
		"01-employees.csv": "employee_id,first_name,last_name,plan_id,employment_type,annual_income,enrolled_on,payment_method\n" +
			"E1,Ann,Ames,bright-backup,regular_full_time,55000.00,2025-01-01,check\n",
		"02-dependents.csv": "employee_id,dependent_id,first_name,last_name,birth_date,relationship,registered_on\nE1,D1,Cal,Ames,2020-01-01,child,2025-01-01\n",
		"03-providers.csv":  providersHeader + provider + "\n",
		"20-statement.csv":  stmt.String(),
	}
	for name, body := range files {
		restedFile(t, filepath.Join(inbox, name), []byte(body))
	}
	return inbox
}

const providersHeader = "provider_id,name,address_line1,city,state,postal_code,payment_method,routing_number,account_number,account_type\n"

// TestApprovePayment holds a payment above limits.max_payment and
// releases it with `carepay approve PAY-1 --by`: eleven lines of center
// care at 5,000.00 with a 10.00 copay pay 11 x 4,990.00 = 54,890.00 to a
// check payee, above the 50,000.00 of config.toml.
func TestApprovePayment(t *testing.T) {
	dir := t.TempDir()
	inbox := approveDrop(t, dir, "PC,Cedar Care,2 Main St,Dover,DE,19901,check,,,")
	out := filepath.Join(dir, "out")
	common := []string{"--config", "../../config.toml", "--db", filepath.Join(dir, "l.db")}
	code, stdout, errs := carepay(t, append([]string{"run", "--inbox", inbox, "--out", out, "--as-of", "2026-04-10"}, common...)...)
	if code != exitOK || !strings.Contains(stdout, "payment held: PAY-1 provider PC $54,890.00: payment PAY-1 is above the $50,000.00 limit") {
		t.Fatalf("run: %d\n%s%s", code, stdout, errs)
	}
	code, stdout, errs = carepay(t, append([]string{"approve", "--by", "ops-lead", "PAY-1"}, common...)...)
	if code != exitOK || stdout != "approved PAY-1 (provider PC, $54,890.00, 11 lines) by ops-lead: check to Cedar Care; it is paid, as formed, in the next run that pays\n" {
		t.Errorf("approve: %d %q %q", code, stdout, errs)
	}
	code, _, errs = carepay(t, append([]string{"approve", "--by", "someone", "PAY-1"}, common...)...)
	if code != exitFailed || !strings.Contains(errs, "approving PAY-1: already approved by ops-lead at ") || strings.Count(errs, "\n") != 1 {
		t.Errorf("approving twice: %d %q", code, errs)
	}
	code, stdout, errs = carepay(t, append([]string{"run", "--inbox", inbox, "--out", out, "--as-of", "2026-04-13"}, common...)...)
	if code != exitOK || !strings.Contains(stdout, "paid by check        1 payments   $54,890.00") || strings.Contains(stdout, "payment held") {
		t.Errorf("run after approval: %d\n%s%s", code, stdout, errs)
	}
}

// achEntries reads a run's payments.ach back: "account amount" by payee
// ID (none when the run paid nothing by ACH).
func achEntries(t *testing.T, dir string) map[string]string {
	t.Helper()
	got := map[string]string{}
	f, err := os.Open(filepath.Join(dir, "payments.ach"))
	if os.IsNotExist(err) {
		return got
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	file, err := ach.NewReader(f).Read()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range file.Batches {
		for _, e := range b.GetEntries() {
			got[strings.TrimSpace(e.IdentificationNumber)] = fmt.Sprintf("%s %d", strings.TrimSpace(e.DFIAccountNumber), e.Amount)
		}
	}
	return got
}

// TestApprovedPaymentPaidAsFormed: a payment approved by a second person
// goes where the approver saw it go. A providers file that changes the
// account (or the method) after the approval does not move the money:
// the next run pays PAY-1 to account 12345678 by ACH, as formed.
func TestApprovedPaymentPaidAsFormed(t *testing.T) {
	for _, c := range []struct{ name, change string }{
		{"account_changed", "PA,Alpha Care,1 Main St,Dover,DE,19901,ach,011000015,99998888,checking"},
		{"method_changed_to_check", "PA,Alpha Care,9 Other St,Dover,DE,19901,check,,,"},
	} {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			inbox := approveDrop(t, dir, "PA,Alpha Care,1 Main St,Dover,DE,19901,ach,011000015,12345678,checking")
			out := filepath.Join(dir, "out")
			common := []string{"--config", "../../config.toml", "--db", filepath.Join(dir, "l.db")}
			code, stdout, errs := carepay(t, append([]string{"run", "--inbox", inbox, "--out", out, "--as-of", "2026-04-10"}, common...)...)
			if code != exitOK || !strings.Contains(stdout, "payment held: PAY-1 provider PA $54,890.00") {
				t.Fatalf("run 1: %d\n%s%s", code, stdout, errs)
			}
			code, stdout, errs = carepay(t, append([]string{"approve", "--by", "ops-lead", "PAY-1"}, common...)...)
			if code != exitOK || !strings.Contains(stdout, "ach to Alpha Care, checking account ****5678, routing 011000015; it is paid, as formed,") ||
				strings.Contains(stdout, "12345678") {
				t.Fatalf("approve: %d %q %q", code, stdout, errs)
			}
			// After the approval, a registry file changes the provider.
			restedFile(t, filepath.Join(inbox, "04-providers-changed.csv"), []byte(providersHeader+c.change+"\n"))
			code, stdout, errs = carepay(t, append([]string{"run", "--inbox", inbox, "--out", out, "--as-of", "2026-04-13"}, common...)...)
			if code != exitOK || !strings.Contains(stdout, "paid after review: PAY-1 provider PA $54,890.00 by ach") ||
				!strings.Contains(stdout, "files: 1 taken") { // the registry change was applied, and still did not move the money
				t.Fatalf("run 2: %d\n%s%s", code, stdout, errs)
			}
			run2 := filepath.Join(out, "20260413-001")
			if got := achEntries(t, run2); len(got) != 1 || got["PA"] != "12345678 5489000" {
				t.Errorf("run 2 paid by ACH %v; want PA 54,890.00 to account 12345678, as approved", got)
			}
			if _, err := os.Stat(filepath.Join(run2, "checks.csv")); !os.IsNotExist(err) {
				t.Errorf("run 2 wrote a check: %v", err)
			}
			// Nothing is paid twice.
			code, stdout, _ = carepay(t, append([]string{"run", "--inbox", inbox, "--out", out, "--as-of", "2026-04-14"}, common...)...)
			if code != exitOK || len(achEntries(t, filepath.Join(out, "20260414-001"))) != 0 || strings.Contains(stdout, "paid after review") {
				t.Errorf("run 3: %d\n%s", code, stdout)
			}
		})
	}
}

// TestApproveSaysWhichWhenIDsCollide: a statement whose statement_id is
// PAY-1 while payment PAY-1 is held for review. The bare ID is refused
// (nothing approved) with the way out; statement:PAY-1 and payment:PAY-1
// approve each, and the next run pays both once: the payment's
// 54,890.00 to Cedar Care and the statement's 4 hours x 8.00 = 32.00 to
// the employee, by check.
func TestApproveSaysWhichWhenIDsCollide(t *testing.T) {
	dir := t.TempDir()
	inbox := approveDrop(t, dir, "PC,Cedar Care,2 Main St,Dover,DE,19901,check,,,")
	for name, body := range map[string]string{
		"05-pinch-employees.csv": "employee_id,first_name,last_name,plan_id,employment_type,annual_income,enrolled_on,address_line1,city,state,postal_code,payment_method\n" +
			"EP,Eve,Park,pinch-hourly,regular_full_time,39999.99,2025-01-01,5 Elm St,Dover,DE,19901,check\n",
		"06-pinch-dependents.csv": "employee_id,dependent_id,first_name,last_name,birth_date,relationship,registered_on\nEP,DP,Pia,Park,2020-01-01,child,2025-01-01\n",
		"07-pinch-providers.csv":  providersHeader + "PP,Pine Nannies,4 Main St,Dover,DE,19901,check,,,\n",
		"21-pinch-statement.csv": "statement_id,provider_id,period,employee_id,dependent_id,care_type,service_date,hours,amount_charged\n" +
			"PAY-1,PP,2026-03,EP,DP,in_home,2026-03-02,4,56.00\n",
	} {
		restedFile(t, filepath.Join(inbox, name), []byte(body))
	}
	out := filepath.Join(dir, "out")
	common := []string{"--config", "../../config.toml", "--db", filepath.Join(dir, "l.db")}
	code, stdout, errs := carepay(t, append([]string{"run", "--inbox", inbox, "--out", out, "--as-of", "2026-04-10"}, common...)...)
	if code != exitOK || !strings.Contains(stdout, "payment held: PAY-1 provider PC $54,890.00") {
		t.Fatalf("run: %d\n%s%s", code, stdout, errs)
	}
	code, stdout, errs = carepay(t, append([]string{"approve", "--by", "ops-lead", "PAY-1"}, common...)...)
	if code != exitFailed || stdout != "" || strings.Count(errs, "\n") != 1 ||
		!strings.Contains(errs, "approving PAY-1: both a statement and a payment have this ID; nothing approved: say which with statement:PAY-1 or payment:PAY-1") {
		t.Errorf("the bare ID: %d %q %q", code, stdout, errs)
	}
	code, stdout, errs = carepay(t, append([]string{"approve", "--by", "ops-lead", "statement:PAY-1", "payment:PAY-1"}, common...)...)
	if code != exitOK || stdout != "approved PAY-1 by ops-lead; its 1 held lines are paid in the next run\n"+
		"approved PAY-1 (provider PC, $54,890.00, 11 lines) by ops-lead: check to Cedar Care; it is paid, as formed, in the next run that pays\n" {
		t.Errorf("approve with prefixes: %d %q %q", code, stdout, errs)
	}
	code, stdout, errs = carepay(t, append([]string{"run", "--inbox", inbox, "--out", out, "--as-of", "2026-04-13"}, common...)...)
	if code != exitOK || !strings.Contains(stdout, "paid by check        2 payments   $54,922.00") || strings.Contains(stdout, "payment held") {
		t.Errorf("run after both approvals: %d\n%s%s", code, stdout, errs)
	}
	code, stdout, _ = carepay(t, append([]string{"run", "--inbox", inbox, "--out", out, "--as-of", "2026-04-14"}, common...)...)
	if code != exitOK || strings.Contains(stdout, "paid by") {
		t.Errorf("a third run paid again: %d\n%s", code, stdout)
	}
	_, help, helpErr := carepay(t, "approve", "--help")
	if !strings.Contains(help+helpErr, "statement:ID, payment:PAY-n") {
		t.Errorf("approve --help does not tell the prefixes:\n%s%s", help, helpErr)
	}
}
