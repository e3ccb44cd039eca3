package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"carepay/internal/achtest"
)

// restingCopy copies the files of src into dst, dated a minute ago so that
// --inbox takes them at once.
func restingCopy(t *testing.T, src, dst string) {
	t.Helper()
	if err := os.MkdirAll(dst, 0o700); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(src)
	if err != nil {
		t.Fatal(err)
	}
	then := time.Now().Add(-time.Minute)
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(src, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dst, e.Name())
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Chtimes(p, then, then); err != nil {
			t.Fatal(err)
		}
	}
}

// TestKilledReturnRunReissuesOnce kills, at many points, the run that
// takes a bank's return file. The demo run of 2026-04-10 pays P01
// 3,321.50 by ACH (PAY-3, trace 121042880000006, 21 lines); the bank
// returns it R03. However often the run of 2026-04-17 that takes the
// return is killed, in the end PAY-3 is returned once, its 21 lines sit on
// one check of 3,321.50, and one checks.csv lists that check.
func TestKilledReturnRunReissuesOnce(t *testing.T) {
	tmp := t.TempDir()
	bin := killBuild(t, tmp, "carepay", ".")
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CAREPAY_LEDGER_KEY=") {
			env = append(env, kv)
		}
	}
	drop1, drop2 := filepath.Join(tmp, "drop1"), filepath.Join(tmp, "drop2")
	restingCopy(t, "../../fixtures/drop", drop1)
	db, out := filepath.Join(tmp, "ledger.db"), filepath.Join(tmp, "out")
	first := (&killRig{bin: bin, drop: drop1, asOf: "2026-04-10", env: env}).run(db, out, 0)
	if first.code != 0 {
		t.Fatalf("demo run: exit %d\n%s", first.code, first.stderr)
	}
	sent, err := os.ReadFile(filepath.Join(out, "20260410-001", "payments.ach"))
	if err != nil {
		t.Fatal(err)
	}
	staging := filepath.Join(tmp, "staging")
	if err := os.MkdirAll(staging, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(staging, "bank-0414.ach"), achtest.BankFile(t, sent, "260414", []achtest.Notice{{Code: "R03", Trace: "121042880000006"}}), 0o600); err != nil {
		t.Fatal(err)
	}
	restingCopy(t, staging, drop2)
	k := &killRig{bin: bin, drop: drop2, asOf: "2026-04-17", env: env}

	// How long the return run takes, on a copy of the ledger.
	refDir := filepath.Join(tmp, "ref")
	if err := os.MkdirAll(refDir, 0o700); err != nil {
		t.Fatal(err)
	}
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if b, err := os.ReadFile(db + suffix); err == nil {
			if err := os.WriteFile(filepath.Join(refDir, "ledger.db"+suffix), b, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	ref := k.run(filepath.Join(refDir, "ledger.db"), filepath.Join(refDir, "out"), 0)
	if ref.code != 0 {
		t.Fatalf("uninterrupted return run: exit %d\n%s", ref.code, ref.stderr)
	}
	full := ref.elapsed

	// Most of a small run is starting up and reading; its commit and
	// outputs come in its last tenth or so: kill points from a third of
	// a run to a little past it, evenly.
	kills := 12
	killed := 0
	for i := 0; i < kills; i++ {
		d := full/3 + (full*9/10)*time.Duration(i)/time.Duration(kills-1)
		before := killSnapshot(t, db)
		a := k.run(db, out, d)
		stage, _ := killStage(before, killSnapshot(t, db), out, a)
		t.Logf("attempt %2d: kill at %7s, %s: %s", i+1, d.Round(time.Millisecond), a.how(), stage)
		if a.killed {
			killed++
		} else if a.code != 0 {
			t.Errorf("attempt %d exited %d before its kill at %s:\n%s", i+1, a.code, d, a.stderr)
		}
	}
	if killed == 0 {
		t.Errorf("no attempt was killed within %s", full)
	}
	if last := k.run(db, out, 0); last.code != 0 {
		t.Fatalf("the run after the kills: exit %d\n%s", last.code, last.stderr)
	}

	sdb := killOpen(t, db)
	defer sdb.Close()
	var returned, applied, p01Payments, onCheck, payable, back int
	var checkAmount int64
	var method string
	sdb.QueryRow(`SELECT COUNT(*) FROM payments WHERE returned_run IS NOT NULL`).Scan(&returned)
	sdb.QueryRow(`SELECT COUNT(*) FROM bank_notices WHERE applied`).Scan(&applied)
	sdb.QueryRow(`SELECT COUNT(*) FROM payments WHERE payee_id = 'P01'`).Scan(&p01Payments)
	sdb.QueryRow(`SELECT COUNT(*) FROM returned_lines WHERE payment_id = 3`).Scan(&back)
	sdb.QueryRow(`SELECT COUNT(*) FROM lines WHERE payee_id = 'P01' AND status IN ('approved', 'partial')`).Scan(&payable)
	sdb.QueryRow(`SELECT p.method, p.amount, COUNT(*) FROM lines l JOIN payments p ON p.id = l.payment_id
 WHERE l.payee_id = 'P01' AND p.returned_run IS NULL GROUP BY p.id`).Scan(&method, &checkAmount, &onCheck)
	if returned != 1 || applied != 1 || p01Payments != 2 || back != 21 || payable != 21 || onCheck != 21 || method != "check" || checkAmount != 3321_50 {
		t.Errorf("after %d kills: %d payments returned, %d notices applied, %d payments to P01, %d lines returned, %d payable, %d on a live %s payment of %d",
			killed, returned, applied, p01Payments, back, payable, onCheck, method, checkAmount)
	}
	// One check of 3,321.50 in all the run folders' checks.csv.
	runs, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	cut := 0
	for _, r := range runs {
		b, err := os.ReadFile(filepath.Join(out, r.Name(), "checks.csv"))
		if err == nil {
			cut += strings.Count(string(b), "3321.50")
		}
	}
	if cut != 1 {
		t.Errorf("%d checks of 3,321.50 across %d run folders, want 1", cut, len(runs))
	}
}
