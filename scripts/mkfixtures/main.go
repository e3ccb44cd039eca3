// Command mkfixtures writes the XLSX files of fixtures/drop: a registry
// workbook (Dependents and Providers sheets) and the pinch-hourly statement,
// with dates as native Excel date cells. The CSV fixtures are plain text,
// edited by hand.
//
//	go run ./scripts/mkfixtures
package main

import (
	"fmt"
	"os"
	"time"

	"github.com/xuri/excelize/v2"
)

func d(s string) time.Time {
	t, err := time.Parse("2006-01-02", s)
	if err != nil {
		panic(err)
	}
	return t
}

func sheet(f *excelize.File, name string, rows [][]any, dateCols ...int) error {
	if _, err := f.NewSheet(name); err != nil {
		return err
	}
	style, err := f.NewStyle(&excelize.Style{NumFmt: 14})
	if err != nil {
		return err
	}
	for r, row := range rows {
		cell, _ := excelize.CoordinatesToCellName(1, r+1)
		if err := f.SetSheetRow(name, cell, &row); err != nil {
			return err
		}
		for _, c := range dateCols {
			if r == 0 {
				continue
			}
			cn, _ := excelize.CoordinatesToCellName(c+1, r+1)
			if err := f.SetCellStyle(name, cn, cn, style); err != nil {
				return err
			}
		}
	}
	return nil
}

func registry() error {
	f := excelize.NewFile()
	defer f.Close()
	deps := [][]any{
		{"Employee_ID", "Dependent_ID", "First_Name", "Last_Name", "Birth_Date", "Relationship", "Incapable_of_Self_Care", "Registered_On"},
		{"E100", "D1001", "Mia", "Alvarez", d("2020-05-05"), "child", "no", d("2025-01-20")},
		{"E100", "D1002", "Leo", "Alvarez", d("2022-01-10"), "child", "no", d("2025-01-20")},
		{"E100", "D1003", "Zoe", "Alvarez", d("2023-06-01"), "stepchild", "no", d("2025-01-20")},
		{"E101", "D1011", "Sam", "Brown", d("2013-03-10"), "child", "no", d("2025-02-03")},
		{"E101", "D1012", "Ivy", "Brown", d("2026-01-26"), "child", "no", d("2026-02-01")},
		{"E101", "D1013", "Tom", "Brown", d("2021-08-08"), "adopted", "no", d("2026-03-20")},
		{"E102", "D1021", "Ray", "Chen", d("2019-09-09"), "child", "no", d("2025-01-02")},
		{"E200", "D2001", "Ada", "Diaz", d("2018-04-04"), "child", "no", d("2025-07-01")},
		{"E200", "D2002", "Rosa", "Diaz", d("1950-02-02"), "parent", "no", d("2025-07-01")},
		{"E201", "D2011", "Ben", "Evans", d("2017-11-11"), "child", "no", d("2025-07-01")},
		{"E202", "D2021", "Kim", "Ford", d("2016-06-16"), "child", "no", d("2025-07-01")},
		{"E203", "D2031", "Lou", "Gray", d("2015-05-15"), "foster", "no", d("2025-07-01")},
		{"E301", "D3011", "Nia", "Ito", d("2019-03-03"), "child", "no", d("2025-05-01")},
		{"E301", "D3012", "Hana", "Ito", d("1944-04-04"), "parent", "yes", d("2025-05-01")},
		{"E302", "D3021", "Ola", "James", d("2020-10-10"), "child", "no", d("2026-03-20")},
		{"E303", "D3031", "Pia", "Kim", d("2018-01-01"), "child", "no", d("2020-01-01")},
		{"E304", "D3041", "Quin", "Moss", d("2021-12-12"), "child", "no", d("2025-09-01")},
		{"E400", "D4001", "Rex", "Lo", d("2020-02-20"), "child", "no", d("2025-01-01")},
		{"E100", "D1004", "Bad", "Date", "31/31/2020", "child", "maybe", d("2025-01-20")},
		{},
		{},
	}
	if err := sheet(f, "Dependents", deps, 4, 7); err != nil {
		return err
	}
	provs := [][]any{
		{"provider_id", "name", "tax_id", "address_line1", "address_line2", "city", "state", "postal_code", "email", "payment_method", "routing_number", "account_number", "account_type", "contact_person"},
		{"P01", "Sunny Days Learning Center", "12-3456789", "500 Market St", "Suite 4", "Wilmington", "DE", "19801", "billing@sunnydays.example", "ach", "011000015", "55501234", "checking", "Pat"},
		{"P02", "Helping Hands Home Care", "98-7654321", "18 State St", "", "Ithaca", "NY", "14850", "", "check", "", "", "", "Lou"},
		{"P03", "Grandma's Family Care", "", "7 Garden Way", "", "Austin", "TX", "73301", "grandma@example.com", "check", "", "", "", ""},
	}
	if err := sheet(f, "Providers", provs); err != nil {
		return err
	}
	if err := f.DeleteSheet("Sheet1"); err != nil {
		return err
	}
	return f.SaveAs("fixtures/drop/10-registry.xlsx")
}

func pinch() error {
	f := excelize.NewFile()
	defer f.Close()
	rows := [][]any{{"statement_id", "provider_id", "period", "employee_id", "dependent_id", "care_type", "service_date", "hours", "amount_charged", "line_id", "received_on", "mileage"}}
	add := func(emp, dep, date string, hours, amount float64) {
		rows = append(rows, []any{"ST-P02-2026-03", "P02", "2026-03", emp, dep, "in_home", d(date), hours, amount, fmt.Sprint(len(rows)), d("2026-04-06"), 12.5})
	}
	add("E200", "D2001", "2026-03-02", 6, 84)
	add("E200", "D2001", "2026-03-03", 3, 56)
	add("E200", "D2001", "2026-03-04", 13, 182)
	for _, day := range []string{"05", "06", "09", "10", "11"} {
		add("E200", "D2001", "2026-03-"+day, 8, 112)
	}
	add("E200", "D2001", "2026-03-12", 14, 196)
	add("E200", "D2001", "2026-03-13", 5, 70)
	add("E200", "D2002", "2026-03-16", 5, 70)
	add("E200", "D2001", "2026-03-17", 0, 0)
	add("E201", "D2011", "2026-03-02", 10, 140)
	add("E201", "D2011", "2026-03-03", 10, 140)
	add("E201", "D2011", "2026-03-04", 5, 70)
	add("E202", "D2021", "2026-03-02", 6, 84)
	add("E203", "D2031", "2026-03-02", 6, 84)
	if err := sheet(f, "March", rows, 6, 10); err != nil {
		return err
	}
	if err := f.DeleteSheet("Sheet1"); err != nil {
		return err
	}
	return f.SaveAs("fixtures/drop/22-statement-pinch.xlsx")
}

func main() {
	for _, fn := range []func() error{registry, pinch} {
		if err := fn(); err != nil {
			fmt.Fprintln(os.Stderr, "mkfixtures:", err)
			os.Exit(1)
		}
	}
}
