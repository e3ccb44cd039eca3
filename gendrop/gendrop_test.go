package gendrop

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The columns of SPEC.md's "Input files" table, required then the optional
// ones gendrop writes.
var wantHeaders = map[string][]string{
	"employees": {"employee_id", "first_name", "last_name", "plan_id", "employment_type", "annual_income", "enrolled_on",
		"address_line1", "address_line2", "city", "state", "postal_code", "email", "payment_method", "routing_number",
		"account_number", "account_type", "other_benefits", "leave_status", "last_used_on"},
	"dependents": {"employee_id", "dependent_id", "first_name", "last_name", "birth_date", "relationship",
		"incapable_of_self_care", "registered_on"},
	"providers": {"provider_id", "name", "tax_id", "address_line1", "address_line2", "city", "state", "postal_code",
		"email", "payment_method", "routing_number", "account_number", "account_type"},
	"invoices": {"invoice_id", "employee_id", "dependent_id", "provider_id", "care_type", "service_date", "amount_charged",
		"employee_signed_on", "provider_signed_on", "received_on", "hours", "payee"},
	"statements": {"statement_id", "provider_id", "period", "employee_id", "dependent_id", "care_type", "service_date",
		"hours", "amount_charged", "line_id", "received_on", "mileage"},
}

// table is one CSV file read back.
type table struct {
	name   string
	header []string
	rows   [][]string
}

func (t *table) col(row []string, name string) string {
	i := slices.Index(t.header, name)
	if i < 0 {
		panic("no column " + name + " in " + t.name)
	}
	return row[i]
}

func readDrop(t *testing.T, dir string) []*table {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []*table
	for _, e := range entries {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		recs, err := csv.NewReader(f).ReadAll()
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", e.Name(), err)
		}
		if len(recs) == 0 {
			t.Fatalf("%s: empty", e.Name())
		}
		out = append(out, &table{name: e.Name(), header: recs[0], rows: recs[1:]})
	}
	return out
}

func kindOf(name string) string {
	switch {
	case name == "01-employees.csv":
		return "employees"
	case name == "02-dependents.csv":
		return "dependents"
	case name == "03-providers.csv":
		return "providers"
	case strings.HasPrefix(name, "10-invoices-"):
		return "invoices"
	case strings.HasPrefix(name, "20-statements-"):
		return "statements"
	}
	return ""
}

// abaValid is an independent implementation of the ABA routing checksum.
func abaValid(s string) bool {
	if len(s) != 9 {
		return false
	}
	w := [9]int{3, 7, 1, 3, 7, 1, 3, 7, 1}
	sum := 0
	for i, c := range s {
		if c < '0' || c > '9' {
			return false
		}
		sum += w[i] * int(c-'0')
	}
	return sum%10 == 0
}

var (
	moneyRe  = regexp.MustCompile(`^\d+\.\d{2}$`)
	digitsRe = regexp.MustCompile(`^\d+$`)
)

// drop is a generated drop read back, with lookups.
type drop struct {
	tables    []*table
	byKind    map[string][]*table
	employees map[string]bool
	deps      map[string]string // dependent_id -> employee_id
}

func generate(t *testing.T, opt Options, maxRows int) (Stats, *drop) {
	t.Helper()
	st, err := write(context.Background(), opt, maxRows)
	if err != nil {
		t.Fatal(err)
	}
	d := &drop{tables: readDrop(t, opt.Dir), byKind: map[string][]*table{}, employees: map[string]bool{}, deps: map[string]string{}}
	for _, tb := range d.tables {
		k := kindOf(tb.name)
		if k == "" {
			t.Fatalf("unexpected file %s", tb.name)
		}
		d.byKind[k] = append(d.byKind[k], tb)
	}
	for _, tb := range d.byKind["employees"] {
		for _, r := range tb.rows {
			d.employees[tb.col(r, "employee_id")] = true
		}
	}
	for _, tb := range d.byKind["dependents"] {
		for _, r := range tb.rows {
			id := tb.col(r, "dependent_id")
			if _, dup := d.deps[id]; dup {
				t.Errorf("dependent_id %s not unique", id)
			}
			d.deps[id] = tb.col(r, "employee_id")
		}
	}
	return st, d
}

// defective reports whether a service row carries one of the defects
// gendrop plants, judged from the row alone and the registries.
func (d *drop) defective(tb *table, r []string) bool {
	date := func(col string) (time.Time, bool) {
		v, err := time.Parse(time.DateOnly, tb.col(r, col))
		return v, err == nil
	}
	service, ok := date("service_date")
	if !ok || !moneyRe.MatchString(tb.col(r, "amount_charged")) {
		return true
	}
	if h := tb.col(r, "hours"); h != "" {
		if _, err := strconv.ParseFloat(h, 64); err != nil {
			return true
		}
	}
	emp := tb.col(r, "employee_id")
	if !d.employees[emp] || d.deps[tb.col(r, "dependent_id")] != emp {
		return true
	}
	received, ok := date("received_on")
	if !ok || service.After(received) {
		return true
	}
	if kindOf(tb.name) == "invoices" {
		for _, c := range []string{"employee_signed_on", "provider_signed_on"} {
			signed, ok := date(c)
			if !ok || signed.Before(service) {
				return true
			}
		}
	}
	return false
}

func TestWrite(t *testing.T) {
	dir := t.TempDir()
	opt := Options{Lines: 2000, Seed: 42, Dir: dir}
	st, d := generate(t, opt, MaxRowsPerFile)

	var names []string
	for _, tb := range d.tables {
		names = append(names, tb.name)
	}
	wantNames := []string{"01-employees.csv", "02-dependents.csv", "03-providers.csv", "10-invoices-0001.csv", "20-statements-0001.csv"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Fatalf("files %v, want %v", names, wantNames)
	}

	// Headers are exactly the SPEC's columns.
	for _, tb := range d.tables {
		if want := wantHeaders[kindOf(tb.name)]; !reflect.DeepEqual(tb.header, want) {
			t.Errorf("%s header\n got %v\nwant %v", tb.name, tb.header, want)
		}
		for i, r := range tb.rows {
			if len(r) != len(tb.header) {
				t.Errorf("%s row %d has %d fields", tb.name, i+2, len(r))
			}
		}
	}

	// Registry sizes and stats.
	if got := len(d.byKind["employees"][0].rows); got != 100 || st.Employees != 100 {
		t.Errorf("employees: %d rows, stats %d, want 100 (Lines/20)", got, st.Employees)
	}
	if got := len(d.byKind["providers"][0].rows); got != 15 || st.Providers != 15 {
		t.Errorf("providers: %d rows, stats %d, want 15", got, st.Providers)
	}
	if len(d.deps) != st.Dependents || st.Dependents < 100 || st.Dependents > 300 {
		t.Errorf("dependents: %d unique ids, stats %d", len(d.deps), st.Dependents)
	}
	for id, emp := range d.deps {
		if !d.employees[emp] || !strings.HasPrefix(id, "D"+emp[1:]+"-") {
			t.Errorf("dependent %s belongs to %s", id, emp)
		}
	}

	// Employees: plans, incomes, dates, bank details.
	g, err := newGenerator(opt)
	if err != nil {
		t.Fatal(err)
	}
	plansSeen := map[string]int{}
	validACH, badACH := 0, 0
	checkBank := func(tb *table, r []string, wantBad bool) {
		method := tb.col(r, "payment_method")
		routing, account := tb.col(r, "routing_number"), tb.col(r, "account_number")
		if method != "ach" {
			if routing != "" || account != "" {
				t.Errorf("%s: bank details on %s payee %v", tb.name, method, r)
			}
			return
		}
		if !digitsRe.MatchString(account) || len(account) < 8 || len(account) > 12 {
			t.Errorf("%s: account number %q", tb.name, account)
		}
		if wantBad {
			badACH++
			if abaValid(routing) {
				t.Errorf("%s: planted bad routing %s passes the checksum", tb.name, routing)
			}
			return
		}
		validACH++
		if !abaValid(routing) {
			t.Errorf("%s: routing %s fails the ABA checksum", tb.name, routing)
		}
	}
	emps := d.byKind["employees"][0]
	for i, r := range emps.rows {
		plansSeen[emps.col(r, "plan_id")]++
		if !slices.Contains([]string{"regular_full_time", "regular_part_time", "temporary"}, emps.col(r, "employment_type")) {
			t.Errorf("employment_type %q", emps.col(r, "employment_type"))
		}
		inc, err := strconv.ParseFloat(emps.col(r, "annual_income"), 64)
		if err != nil || inc < 25000 || inc > 220000 || !moneyRe.MatchString(emps.col(r, "annual_income")) {
			t.Errorf("annual_income %q", emps.col(r, "annual_income"))
		}
		if !strings.HasPrefix(emps.col(r, "enrolled_on"), "2025-") {
			t.Errorf("enrolled_on %q not in 2025", emps.col(r, "enrolled_on"))
		}
		if p := emps.col(r, "postal_code"); len(p) != 5 || !digitsRe.MatchString(p) {
			t.Errorf("postal_code %q", p)
		}
		checkBank(emps, r, g.employee(i, true).bank.badRouting)
	}
	for _, p := range plans {
		if plansSeen[p] < 20 {
			t.Errorf("plan %s has only %d employees: %v", p, plansSeen[p], plansSeen)
		}
	}
	if len(plansSeen) != 3 {
		t.Errorf("plans %v", plansSeen)
	}
	provs := d.byKind["providers"][0]
	for j, r := range provs.rows {
		if want := fmt.Sprintf("P%04d", j+1); provs.col(r, "provider_id") != want {
			t.Errorf("provider_id %q, want %s", provs.col(r, "provider_id"), want)
		}
		checkBank(provs, r, g.provider(j).bank.badRouting)
	}
	if validACH < 30 {
		t.Errorf("only %d valid ACH payees", validACH)
	}
	t.Logf("ach payees: %d valid, %d planted bad", validACH, badACH)

	// Service lines: the total, invoice grouping, statement ids.
	total, defects := 0, 0
	inv := d.byKind["invoices"][0]
	type group struct{ emp, prov, received string }
	invoices := map[string]group{}
	last := ""
	for _, r := range inv.rows {
		total++
		if d.defective(inv, r) {
			defects++
		}
		id := inv.col(r, "invoice_id")
		g := group{inv.col(r, "employee_id"), inv.col(r, "provider_id"), inv.col(r, "received_on")}
		if prev, ok := invoices[id]; ok {
			if id != last {
				t.Errorf("invoice %s rows not contiguous", id)
			}
			if prev != g {
				t.Errorf("invoice %s rows differ: %v vs %v", id, prev, g)
			}
		}
		invoices[id] = g
		last = id
		if p := inv.col(r, "payee"); p != "" && p != "employee" && p != "provider" {
			t.Errorf("payee %q", p)
		}
		if inv.col(r, "care_type") == "in_home" && inv.col(r, "hours") == "" {
			t.Errorf("in_home invoice row without hours: %v", r)
		}
	}
	if len(invoices) != st.Invoices || st.Invoices == 0 {
		t.Errorf("%d invoices read, stats %d", len(invoices), st.Invoices)
	}
	stm := d.byKind["statements"][0]
	statements := map[string]string{}
	for _, r := range stm.rows {
		total++
		if d.defective(stm, r) {
			defects++
		}
		id := stm.col(r, "statement_id")
		if want := "ST-" + stm.col(r, "provider_id") + "-" + stm.col(r, "period"); id != want {
			t.Errorf("statement_id %s, want %s", id, want)
		}
		if rec, ok := statements[id]; ok && rec != stm.col(r, "received_on") {
			t.Errorf("statement %s received on %s and %s", id, rec, stm.col(r, "received_on"))
		}
		statements[id] = stm.col(r, "received_on")
		if stm.col(r, "care_type") == "in_home" && stm.col(r, "hours") == "" {
			t.Errorf("in_home statement row without hours: %v", r)
		}
	}
	if len(statements) != st.Statements || st.Statements == 0 {
		t.Errorf("%d statements read, stats %d", len(statements), st.Statements)
	}
	if total != 2000 || st.Lines != 2000 {
		t.Errorf("%d service rows, stats %d, want 2000", total, st.Lines)
	}
	if n := len(inv.rows); n < 400 || n > 1000 {
		t.Errorf("%d invoice rows of 2000: plan mix off", n)
	}
	// 3% of 2000 = 60 expected.
	if defects < 25 || defects > 120 {
		t.Errorf("%d defective service rows, want about 60", defects)
	}
	t.Logf("%d invoices, %d statements, %d defective rows", st.Invoices, st.Statements, defects)

	// Bytes counts every file.
	var size int64
	for _, n := range names {
		fi, err := os.Stat(filepath.Join(dir, n))
		if err != nil {
			t.Fatal(err)
		}
		size += fi.Size()
	}
	if size != st.Bytes {
		t.Errorf("stats bytes %d, files hold %d", st.Bytes, size)
	}
}

func TestNoDefects(t *testing.T) {
	opt := Options{Lines: 2000, Seed: 5, InvalidPercent: -1, Dir: t.TempDir()}
	_, d := generate(t, opt, MaxRowsPerFile)
	for _, k := range []string{"invoices", "statements"} {
		for _, tb := range d.byKind[k] {
			for i, r := range tb.rows {
				if d.defective(tb, r) {
					t.Errorf("%s row %d defective with InvalidPercent -1: %v", tb.name, i+2, r)
				}
			}
		}
	}
	for _, k := range []string{"employees", "providers"} {
		tb := d.byKind[k][0]
		for _, r := range tb.rows {
			if rt := tb.col(r, "routing_number"); rt != "" && !abaValid(rt) {
				t.Errorf("%s: routing %s fails with InvalidPercent -1", k, rt)
			}
		}
	}
}

func readAll(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]byte{}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = b
	}
	return out
}

func TestDeterministic(t *testing.T) {
	ctx := context.Background()
	a, b, c := t.TempDir(), t.TempDir(), t.TempDir()
	for _, dir := range []string{a, b} {
		if _, err := Write(ctx, Options{Lines: 2000, Seed: 9, Dir: dir}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Write(ctx, Options{Lines: 2000, Seed: 10, Dir: c}); err != nil {
		t.Fatal(err)
	}
	fa, fb, fc := readAll(t, a), readAll(t, b), readAll(t, c)
	if len(fa) != 5 || len(fa) != len(fb) {
		t.Fatalf("file counts %d and %d", len(fa), len(fb))
	}
	for name, data := range fa {
		if !bytes.Equal(data, fb[name]) {
			t.Errorf("%s differs between two runs with the same seed", name)
		}
	}
	if bytes.Equal(fa["10-invoices-0001.csv"], fc["10-invoices-0001.csv"]) ||
		bytes.Equal(fa["01-employees.csv"], fc["01-employees.csv"]) {
		t.Error("a different seed produced the same files")
	}
}

func TestRotation(t *testing.T) {
	dir := t.TempDir()
	st, d := generate(t, Options{Lines: 1000, Seed: 3, Dir: dir}, 50)
	total := 0
	fileOf := map[string]string{}
	for _, k := range []string{"invoices", "statements"} {
		tbs := d.byKind[k]
		if len(tbs) < 2 {
			t.Fatalf("%d %s files, want several", len(tbs), k)
		}
		for i, tb := range tbs {
			prefix := map[string]string{"invoices": "10-invoices", "statements": "20-statements"}[k]
			if want := fmt.Sprintf("%s-%04d.csv", prefix, i+1); tb.name != want {
				t.Errorf("file %s, want %s", tb.name, want)
			}
			if len(tb.rows) == 0 || len(tb.rows) > 50 {
				t.Errorf("%s holds %d rows", tb.name, len(tb.rows))
			}
			total += len(tb.rows)
			if k != "invoices" {
				continue
			}
			for _, r := range tb.rows {
				id := tb.col(r, "invoice_id")
				if f, ok := fileOf[id]; ok && f != tb.name {
					t.Errorf("invoice %s split across %s and %s", id, f, tb.name)
				}
				fileOf[id] = tb.name
			}
		}
	}
	if total != 1000 || st.Lines != 1000 {
		t.Errorf("%d rows, stats %d, want 1000", total, st.Lines)
	}
}

func TestErrors(t *testing.T) {
	if _, err := Write(context.Background(), Options{Lines: 10}); err == nil {
		t.Error("no error without a folder")
	}
	if _, err := Write(context.Background(), Options{Lines: -1, Dir: t.TempDir()}); err == nil {
		t.Error("no error for negative lines")
	}
	if _, err := Write(context.Background(), Options{InvalidPercent: 101, Dir: t.TempDir()}); err == nil {
		t.Error("no error for InvalidPercent 101")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := Write(ctx, Options{Lines: 10, Dir: t.TempDir()}); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
}

func TestABACheckDigit(t *testing.T) {
	// Known valid routing numbers.
	for _, s := range []string{"011000015", "021000021", "122105155", "026009593"} {
		var d [9]byte
		for i := range d {
			d[i] = s[i] - '0'
		}
		if got := abaCheckDigit(d); got != d[8] {
			t.Errorf("%s: check digit %d, want %d", s, got, d[8])
		}
		if !abaValid(s) {
			t.Errorf("%s: test checksum rejects a real routing number", s)
		}
	}
}
