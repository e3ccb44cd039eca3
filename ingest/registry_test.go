package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"carepay/core"
	"carepay/ingest"
)

func TestReadRegistryRows(t *testing.T) {
	opt := ingest.Options{Arrived: arrived}

	t.Run("booleans", func(t *testing.T) {
		rep, recs := readBytes(t, "deps.csv", csvOf(
			"employee_id,dependent_id,first_name,last_name,birth_date,relationship,incapable_of_self_care",
			"E1,D1,A,B,2020-01-01,child,true",
			"E1,D2,A,B,2020-01-01,child,YES",
			"E1,D3,A,B,2020-01-01,child,y",
			"E1,D4,A,B,2020-01-01,child,1",
			"E1,D5,A,B,2020-01-01,child,false",
			"E1,D6,A,B,2020-01-01,child,No",
			"E1,D7,A,B,2020-01-01,child,n",
			"E1,D8,A,B,2020-01-01,child,0",
			"E1,D9,A,B,2020-01-01,child,",
			"E1,D10,A,B,2020-01-01,child,Maybe",
		), opt)
		want := []bool{true, true, true, true, false, false, false, false, false, false}
		for i, w := range want {
			if got := recs[i].Dependent.IncapableOfSelf; got != w {
				t.Errorf("row %d: IncapableOfSelf = %v, want %v", recs[i].Row, got, w)
			}
		}
		wantErrors(t, only(t, rep).Errors, []core.RowError{
			{File: "deps.csv", Row: 11, Column: "incapable_of_self_care", Value: "maybe", Msg: wantBool},
		})
	})

	t.Run("enums", func(t *testing.T) {
		rep, recs := readBytes(t, "emp.csv", csvOf(
			"employee_id,first_name,last_name,plan_id,employment_type,annual_income,enrolled_on,payment_method,leave_status,account_type",
			"E1,A,B,p,Regular_Full_Time,1,2025-01-01,,,",
			"E2,A,B,p,contractor,1,2025-01-01,wire,sabbatical,brokerage",
		), opt)
		e := recs[0].Employee
		if e.EmploymentType != core.RegularFullTime || e.PaymentMethod != core.MethodCheck || e.LeaveStatus != "none" || e.Bank.Type != "" { // a blank account type is not guessed
			t.Errorf("defaults: %+v", e)
		}
		f := "emp.csv"
		wantErrors(t, only(t, rep).Errors, []core.RowError{
			{File: f, Row: 3, Column: "employment_type", Value: "contractor", Msg: "want one of regular_full_time, regular_part_time, temporary, limited, casual, student"},
			{File: f, Row: 3, Column: "payment_method", Value: "wire", Msg: "want one of ach, check, payroll"},
			{File: f, Row: 3, Column: "account_type", Value: "brokerage", Msg: "want one of checking, savings"},
			{File: f, Row: 3, Column: "leave_status", Value: "sabbatical", Msg: "want one of none, military"},
		})
	})

	t.Run("providers_cannot_be_paid_by_payroll", func(t *testing.T) {
		rep, _ := readBytes(t, "prov.csv", csvOf("provider_id,name,payment_method", "P1,Sunny,payroll"), opt)
		wantErrors(t, only(t, rep).Errors, []core.RowError{
			{File: "prov.csv", Row: 2, Column: "payment_method", Value: "payroll", Msg: "want one of ach, check"},
		})
	})

	t.Run("bank_numbers_masked_in_errors", func(t *testing.T) {
		rep, recs := readBytes(t, "prov.csv", csvOf(
			"provider_id,name,payment_method,routing_number,account_number",
			"P1,Sunny,ach,0110-00015,9876 5432 1",
		), opt)
		wantErrors(t, only(t, rep).Errors, []core.RowError{
			{File: "prov.csv", Row: 2, Column: "routing_number", Value: "****0015", Msg: "want digits only"},
			{File: "prov.csv", Row: 2, Column: "account_number", Value: "****32 1", Msg: "want digits only"},
		})
		for _, e := range recs[0].Errors {
			if strings.Contains(e.Error(), "9876") {
				t.Errorf("error shows the account number: %v", e)
			}
		}
	})

	// A parent in adult care born the day before 1970-01-01 must keep that
	// birth date rather than read as "no date".
	t.Run("birth_date_1969_12_31", func(t *testing.T) {
		rep, recs := readBytes(t, "deps.csv", csvOf(
			"employee_id,dependent_id,first_name,last_name,birth_date,relationship,incapable_of_self_care",
			"E1,D1,Rosa,Diaz,12/31/1969,parent,yes",
		), opt)
		wantErrors(t, only(t, rep).Errors, nil)
		if d := recs[0].Dependent; d.BirthDate.IsZero() || d.BirthDate.String() != "1969-12-31" {
			t.Fatalf("BirthDate = %q (zero %v), want 1969-12-31", d.BirthDate, d.BirthDate.IsZero())
		}
	})

	t.Run("required_values_blank", func(t *testing.T) {
		rep, _ := readBytes(t, "emp.csv", csvOf(
			"employee_id,first_name,last_name,plan_id,employment_type,annual_income,enrolled_on",
			" ,A,B,p,casual,,",
		), opt)
		f := "emp.csv"
		wantErrors(t, only(t, rep).Errors, []core.RowError{
			{File: f, Row: 2, Column: "employee_id", Msg: "is blank; a value is required"},
			{File: f, Row: 2, Column: "annual_income", Msg: "is blank; want an amount like 123.45"},
			{File: f, Row: 2, Column: "enrolled_on", Msg: "is blank; want a date like 2026-03-09"},
		})
	})
}

func TestReadFileCancelled(t *testing.T) {
	var b strings.Builder
	b.WriteString(stmtHeader + "\n")
	for i := 0; i < 20_000; i++ {
		fmt.Fprintf(&b, "S1,P1,2026-03,E%d,D1,center,2026-03-09,,120.00\n", i)
	}
	p := filepath.Join(t.TempDir(), "st.csv")
	writeFile(t, p, []byte(b.String()))
	ctx, cancel := context.WithCancel(context.Background())
	n := 0
	_, err := ingest.ReadFile(ctx, p, "st.csv", ingest.Options{}, func(*ingest.Record) error {
		n++
		if n == 10 {
			cancel()
		}
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if n >= 20_000 {
		t.Fatalf("read all %d rows after cancel", n)
	}
}
