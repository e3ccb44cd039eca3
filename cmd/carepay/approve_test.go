package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestApprovePayment holds a payment above limits.max_payment and
// releases it with `carepay approve PAY-1 --by`: eleven lines of center
// care at 5,000.00 with a 10.00 copay pay 11 x 4,990.00 = 54,890.00 to a
// check payee, above the 50,000.00 of config.toml.
func TestApprovePayment(t *testing.T) {
	dir := t.TempDir()
	inbox := filepath.Join(dir, "inbox")
	os.MkdirAll(inbox, 0o755)
	var stmt strings.Builder
	stmt.WriteString("statement_id,provider_id,period,employee_id,dependent_id,care_type,service_date,hours,amount_charged\n")
	for _, d := range []int{2, 3, 4, 5, 6, 9, 10, 11, 12, 13, 16} {
		fmt.Fprintf(&stmt, "ST-1,PC,2026-03,E1,D1,center,2026-03-%02d,,5000.00\n", d)
	}
	files := map[string]string{
		"01-employees.csv": "employee_id,first_name,last_name,plan_id,employment_type,annual_income,enrolled_on,payment_method\n" +
			"E1,Ann,Ames,bright-backup,regular_full_time,55000.00,2025-01-01,check\n",
		"02-dependents.csv": "employee_id,dependent_id,first_name,last_name,birth_date,relationship,registered_on\nE1,D1,Cal,Ames,2020-01-01,child,2025-01-01\n",
		"03-providers.csv":  "provider_id,name,address_line1,city,state,postal_code,payment_method\nPC,Cedar Care,2 Main St,Dover,DE,19901,check\n",
		"20-statement.csv":  stmt.String(),
	}
	for name, body := range files {
		restedFile(t, filepath.Join(inbox, name), []byte(body))
	}
	out := filepath.Join(dir, "out")
	common := []string{"--config", "../../config.toml", "--db", filepath.Join(dir, "l.db")}
	code, stdout, errs := carepay(t, append([]string{"run", "--inbox", inbox, "--out", out, "--as-of", "2026-04-10"}, common...)...)
	if code != exitOK || !strings.Contains(stdout, "payment held: PAY-1 provider PC $54,890.00: payment PAY-1 is above the $50,000.00 limit") {
		t.Fatalf("run: %d\n%s%s", code, stdout, errs)
	}
	code, stdout, errs = carepay(t, append([]string{"approve", "--by", "ops-lead", "PAY-1"}, common...)...)
	if code != exitOK || stdout != "approved PAY-1 (provider PC, $54,890.00, 11 lines) by ops-lead; it is paid in the next run that pays\n" {
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
