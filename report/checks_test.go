package report

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"carepay/core"
)

// TestChecksInSummary: an alert opens the text summary, before the files;
// twelve stale checks show as the first ten and "2 more"; cleared rows
// are counted, and only those that changed nothing are named; run.json
// holds every list, empty ones as [].
func TestChecksInSummary(t *testing.T) {
	s := NewSummary("20261008-001", core.NewDate(2026, 10, 8))
	js, err := s.JSON()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(js), `"checks": {
    "alerts": 0,
    "voided": [],
    "stale": [],
    "cleared": []
  }`) {
		t.Errorf("empty checks in run.json:\n%s", js)
	}
	if text := s.Text(); strings.Contains(text, "check") {
		t.Errorf("a run without checks mentions them:\n%s", text)
	}

	for i := 0; i < 12; i++ {
		s.Checks.Stale = append(s.Checks.Stale, StaleCheck{CheckNumber: int64(100001 + i), Detail: fmt.Sprintf("check %d old", 100001+i)})
	}
	s.Checks.Cleared = []ClearedRow{
		{File: "c.csv", Row: 2, CheckNumber: 100020, Applied: true, Detail: "cleared"},
		{File: "c.csv", Row: 3, CheckNumber: 100099, Detail: "matches no check"},
		{File: "c.csv", Row: 4, CheckNumber: 100030, Alert: true, Detail: "ALERT: check 100030 was VOIDED"},
	}
	s.Checks.Alerts = 1
	s.Checks.Voided = []VoidedCheck{{CheckNumber: 100030, PaymentID: "PAY-7", PayeeType: "provider", PayeeID: "P03", Amount: 1360_00,
		IssuedOn: "2026-04-10", Reason: "lost", VoidedBy: "ops"}}
	lines := strings.Split(s.Text(), "\n")
	want := []string{
		"run 20261008-001 (as of 2026-10-08)",
		"!!! 1 ALERT(S): the bank paid checks carepay had voided; the payees may have been paid twice !!!",
		"ALERT: check 100030 was VOIDED (c.csv row 4)",
		"files: 0 taken, 0 skipped (seen before), 0 rejected",
	}
	for i, w := range want {
		if lines[i] != w {
			t.Errorf("line %d: %q, want %q", i+1, lines[i], w)
		}
	}
	text := strings.Join(lines, "\n")
	for _, w := range []string{
		"check voided: 100030 (PAY-7, provider P03, $1,360.00, issued 2026-04-10): lost, by ops;",
		"stale check: check 100001 old\n",
		"stale check: check 100010 old\nstale check: 2 more (see run.json)\n",
		"cleared checks: 3 rows, 1 marked cleared, 2 changed nothing\n",
		"cleared check 100099 (c.csv row 3): changed nothing: matches no check\n",
	} {
		if !strings.Contains(text, w) {
			t.Errorf("summary lacks %q:\n%s", w, text)
		}
	}
	for _, no := range []string{"check 100011 old", "cleared check 100020", "cleared check 100030"} {
		if strings.Contains(text, no) {
			t.Errorf("summary shows %q:\n%s", no, text)
		}
	}
	rows := map[string]any{}
	for _, r := range s.Rows() {
		rows[r[0].(string)] = r[1]
	}
	if rows["ALERTS: voided checks the bank paid"] != 1 || rows["checks voided"] != 1 || rows["stale checks"] != 12 || rows["checks cleared"] != 1 {
		t.Errorf("register rows: %v", rows)
	}
	var back Summary
	js, _ = s.JSON()
	if err := json.Unmarshal(js, &back); err != nil || len(back.Checks.Stale) != 12 || back.Checks.Alerts != 1 {
		t.Errorf("run.json: %v %+v", err, back.Checks)
	}
}
