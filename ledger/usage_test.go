package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"sort"
	"testing"
	"time"

	"carepay/core"
)

// TestUsageAcrossRuns checks that what a run reads of earlier runs (the
// rules' History) is every line that counts, whoever decided it: lines a
// ledger of schema 5 held before the usage table existed (filled by the
// migration) and lines of a run committed since, with IDs holding the
// characters of the encoding. Rejected lines count only when they were a
// day of care.
func TestUsageAcrossRuns(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= 5; v++ {
		if _, err := db.Exec(migrations[v]); err != nil {
			t.Fatalf("migration %d: %v", v, err)
		}
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
INSERT INTO schema_migrations VALUES (1, 'x'), (2, 'x'), (3, 'x'), (4, 'x'), (5, 'x');
INSERT INTO runs (id, as_of, started_at, state, line_from, line_to) VALUES ('20260401-001', '2026-04-01', 'x', 'written', 1, 4)`); err != nil {
		t.Fatal(err)
	}
	old := []struct {
		emp, dep, status string
		careDay          int
		share            int64
	}{
		{"E:1,", "D1", "approved", 1, 4000},
		{"E:1,", "Dé:2", "held", 1, 2500},
		{"E:1,", "D1", "rejected", 1, 0}, // a day of care refused by a limit: counts
		{"E:1,", "D1", "rejected", 0, 0}, // refused before the plan's rules: does not
	}
	for i, o := range old {
		if _, err := db.Exec(`INSERT INTO lines (run_id, source, row, kind, ref, plan_id, employee_id, dependent_id, provider_id, care_type, service_date,
 charged, units, employee_share, employer_share, status, reasons, payee_type, payee_id, care_day, day_used, placements, steps)
 VALUES ('20260401-001', 's.csv', ?, 'statement', 'ST-1', 'pinch-hourly', ?, ?, 'P1', 'in_home', '2026-03-02',
 7000, '5', 1000, ?, ?, '', 'employee', 'E1', ?, 1, 1, 'decided')`, i+2, o.emp, o.dep, o.share, o.status, o.careDay); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()

	l := open(t, path)
	ctx := context.Background()
	prior := func(emp, dep string) core.PriorLine {
		return core.PriorLine{PlanID: "pinch-hourly", EmployeeID: emp, DependentID: dep, ProviderID: "P1", CareType: "in_home",
			ServiceDate: core.NewDate(2026, 3, 2), CareDay: true, DayUsed: true, Placements: 1, EmployeeShare: 1000}
	}
	a, h, r := prior("E:1,", "D1"), prior("E:1,", "Dé:2"), prior("E:1,", "D1")
	a.Status, a.EmployerShare = core.Approved, 4000
	h.Status, h.EmployerShare = core.Held, 2500
	r.Status = core.Rejected

	tx, err := l.Begin(ctx, core.NewDate(2026, 4, 10), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	check := func(tx *Tx, want map[string][]core.PriorLine) {
		t.Helper()
		for key, w := range want {
			get := tx.EmployeeLines
			if key[0] == 'd' {
				get = tx.DependentLines
			}
			got, err := get(key[1:])
			if err != nil || !reflect.DeepEqual(got, w) {
				t.Errorf("%s: got %+v (%v), want %+v", key, got, err, w)
			}
		}
	}
	check(tx, map[string][]core.PriorLine{"eE:1,": {a, h, r}, "dD1": {a, r}, "dDé:2": {h}, "eE2": nil})

	// A run decides a line for a new employee and for a known dependent.
	n := core.Line{Kind: core.Statement, Source: "t.csv", Row: 2, Ref: "ST-2", EmployeeID: "E2", DependentID: "D1", ProviderID: "P1",
		CareType: "in_home", ServiceDate: core.NewDate(2026, 4, 1), Charged: 7000}
	d := core.Decision{Status: core.Approved, PlanID: "pinch-hourly", Units: "1", EmployeeShare: 1000, EmployerShare: 6000,
		PayeeType: "employee", PayeeID: "E2", CareDay: true, DayUsed: true, Placements: 1}
	if err := tx.PutDecision(&n, &d, 0); err != nil {
		t.Fatal(err)
	}
	// Not before the run commits: a run reads earlier runs only.
	check(tx, map[string][]core.PriorLine{"eE2": nil, "dD1": {a, r}})
	if err := tx.Commit(nil); err != nil {
		t.Fatal(err)
	}
	b := prior("E2", "D1")
	b.Status, b.EmployerShare, b.ServiceDate = core.Approved, 6000, core.NewDate(2026, 4, 1)
	tx, err = l.Begin(ctx, core.NewDate(2026, 4, 11), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	check(tx, map[string][]core.PriorLine{"eE:1,": {a, h, r}, "eE2": {b}, "dD1": {a, r, b}, "dDé:2": {h}})
}

// TestUsageSortedByKey: the log's records come out grouped by employee
// and by dependent in byte order, each group in decision order, with keys
// that share their first eight bytes, are shorter than eight, hold NUL or
// bytes above 0x7f.
func TestUsageSortedByKey(t *testing.T) {
	ids := []string{"EMPLOYEE-0002", "EMPLOYEE-0001", "EMPLOYEE-00010", "EMPLOYEE", "E1", "E1\x00x", "E1\x00", "", "é", "Zz", "EMPLOYEE-0001"}
	var u usageLog
	defer u.close()
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 2000 {
		e, d := ids[r.IntN(len(ids))], ids[r.IntN(len(ids))]
		if err := u.add(&core.PriorLine{EmployeeID: e, DependentID: d, PlanID: "p", Placements: i}); err != nil {
			t.Fatal(err)
		}
	}
	if err := u.load(); err != nil {
		t.Fatal(err)
	}
	for field := range 2 {
		want := slices.Clone(u.offs)
		sort.SliceStable(want, func(i, j int) bool { return bytes.Compare(u.key(want[i], field), u.key(want[j], field)) < 0 })
		var got []int
		for _, k := range u.sorted(field) {
			if !bytes.Equal(u.keyOf(&k), u.key(k.off, field)) {
				t.Fatalf("field %d: key %q of record %d, want %q", field, u.keyOf(&k), k.off, u.key(k.off, field))
			}
			got = append(got, k.off)
		}
		if !slices.Equal(got, want) {
			t.Errorf("field %d: records out of order", field)
		}
	}
}
