package ingest_test

import (
	"reflect"
	"strings"
	"testing"

	"carepay/core"
	"carepay/ingest"
)

// TestClearedChecksDefaultLayout: a file headed check_number, amount,
// cleared_date is the bank's cleared-checks file; each good row becomes a
// ClearedCheck, and each bad value is reported by row and column and not
// passed on as good. The run date is 2026-04-17.
var clearedRunDate = core.NewDate(2026, 4, 17)

func TestClearedChecksDefaultLayout(t *testing.T) {
	body := "check_number,amount,cleared_date\n" +
		"100001,1360.00,2026-04-14\n" + // row 2: good (ISO date)
		"100002,\"$2,500.00\",4/15/2026\n" + // row 3: good (US date, dollar sign)
		"10000X,5.00,2026-04-01\n" + // row 4: not digits
		",5.00,2026-04-01\n" + // row 5: blank number
		"100003,abc,2026-04-01\n" + // row 6: amount
		"100004,5.00,2026-04-18\n" // row 7: after the run date
	rep, recs := readBytes(t, "cleared-0415.csv", []byte(body), ingest.Options{RunDate: clearedRunDate})
	tb := only(t, rep)
	if tb.Kind != ingest.ClearedChecks || tb.Rows != 6 || tb.RejectedRows != 4 {
		t.Fatalf("kind %q, %d rows, %d rejected", tb.Kind, tb.Rows, tb.RejectedRows)
	}
	var good []core.ClearedCheck
	for _, r := range recs {
		if r.Cleared == nil {
			t.Fatalf("row %d: no cleared check", r.Row)
		}
		if len(r.Errors) == 0 {
			good = append(good, *r.Cleared)
		}
	}
	want := []core.ClearedCheck{
		{Row: 2, Number: 100001, Amount: 1360_00, Date: core.NewDate(2026, 4, 14)},
		{Row: 3, Number: 100002, Amount: 2500_00, Date: core.NewDate(2026, 4, 15)},
	}
	if !reflect.DeepEqual(good, want) {
		t.Errorf("good rows %+v, want %+v", good, want)
	}
	wantErrs := []string{
		"cleared-0415.csv:4:check_number: want a check number (digits only) (value \"10000X\")",
		"cleared-0415.csv:5:check_number: is blank; want the check number",
		"cleared-0415.csv:6:amount: want an amount like 123.45 or $1,234.50 (value \"abc\")",
		"cleared-0415.csv:7:cleared_date: is after the run date 2026-04-17; the bank cannot have paid the check on a later day (value \"2026-04-18\")",
	}
	var got []string
	for _, e := range tb.Errors {
		got = append(got, e.Error())
	}
	if strings.Join(got, "\n") != strings.Join(wantErrs, "\n") {
		t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(wantErrs, "\n"))
	}
}

// TestClearedChecksBankLayout: with checks.cleared_columns naming the
// bank's headers ("Serial", "Paid Amount", "Paid Date"), such a file is
// known whatever the case of its header, its other columns ignored; the
// default header is then no longer a cleared-checks file.
func TestClearedChecksBankLayout(t *testing.T) {
	opt := ingest.Options{RunDate: clearedRunDate, Cleared: ingest.ClearedLayout{CheckNumber: "Serial", Amount: "Paid Amount", ClearedDate: "Paid Date"}}
	rep, recs := readBytes(t, "paid.csv", []byte("Account,SERIAL,Paid Amount,paid date\n000987654321,100001,1360.00,04/14/2026\n"), opt)
	tb := only(t, rep)
	if tb.Kind != ingest.ClearedChecks || len(recs) != 1 || len(recs[0].Errors) != 0 {
		t.Fatalf("kind %q, records %d, errors %v", tb.Kind, len(recs), tb.Errors)
	}
	if c := recs[0].Cleared; *c != (core.ClearedCheck{Row: 2, Number: 100001, Amount: 1360_00, Date: core.NewDate(2026, 4, 14)}) {
		t.Errorf("cleared %+v", c)
	}
	if !strings.Contains(strings.Join(tb.Warnings, "\n"), "unknown columns ignored: account") {
		t.Errorf("warnings %q", tb.Warnings)
	}
	rep, _ = readBytes(t, "default.csv", []byte("check_number,amount,cleared_date\n100001,1360.00,2026-04-14\n"), opt)
	if tb := only(t, rep); tb.Kind != "" || tb.Rejected == "" {
		t.Errorf("default header under a bank layout: kind %q, rejected %q", tb.Kind, tb.Rejected)
	}
}

// TestClearedChecksNearHeader: a header with two of the three columns is
// told which one it lacks; a lone amount column is not taken for a
// cleared-checks file.
func TestClearedChecksNearHeader(t *testing.T) {
	rep, _ := readBytes(t, "paid.csv", []byte("check_number,amount,paid_on\n100001,1360.00,2026-04-14\n"), ingest.Options{})
	if got := only(t, rep).Rejected; got != "header matches no input kind; closest is cleared_checks, which lacks cleared_date" {
		t.Errorf("rejected %q", got)
	}
	rep, _ = readBytes(t, "notes.csv", []byte("amount,memo\n1.00,x\n"), ingest.Options{})
	if got := only(t, rep).Rejected; strings.Contains(got, "cleared_checks") {
		t.Errorf("rejected %q", got)
	}
}
