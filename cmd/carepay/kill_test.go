package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/moov-io/ach"

	"carepay/ledger"
	_ "modernc.org/sqlite"
)

// killAsOf is the run date of every run of the kill test: late in the plan
// year, so that the generated drop is decided as a whole.
const killAsOf = "2026-12-31"

// TestKilledRunsPayEveryLineOnce proves SPEC.md's "Never twice" on a real
// process: `carepay run` over a large generated drop is killed with SIGKILL
// at many points (before its commit, while it writes its outputs, while the
// next run completes them, and after), each restart continuing the same
// work; then one run goes through, and the ledger and out/ must show every
// service line decided once, every payable line paid exactly once (or held
// with its payee), every payment matching its lines and its NACHA file, and
// every run completely written.
func TestKilledRunsPayEveryLineOnce(t *testing.T) {
	lines, kills := 30000, 24
	if testing.Short() {
		lines, kills = 3000, 8
	}
	tmp := t.TempDir()
	k := &killRig{
		bin:  killBuild(t, tmp, "carepay", "."),
		drop: filepath.Join(tmp, "drop"),
	}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CAREPAY_LEDGER_KEY=") {
			k.env = append(k.env, kv)
		}
	}
	gen := killBuild(t, tmp, "gendrop", "../gendrop")
	if out, err := exec.Command(gen, "-lines", fmt.Sprint(lines), "-out", k.drop, "-seed", "7").CombinedOutput(); err != nil {
		t.Fatalf("gendrop: %v\n%s", err, out)
	}
	// A drop that has rested: --inbox takes a file only once it is
	// stable_wait old.
	dropped, err := os.ReadDir(k.drop)
	if err != nil {
		t.Fatal(err)
	}
	then := time.Now().Add(-time.Minute)
	for _, f := range dropped {
		if err := os.Chtimes(filepath.Join(k.drop, f.Name()), then, then); err != nil {
			t.Fatal(err)
		}
	}
	generated := killServiceRows(t, k.drop)

	// An uninterrupted run in a throw-away ledger: how long a whole run
	// takes (the kill points spread over it), and what the killed runs
	// must come to in the end.
	refDB, refOut := filepath.Join(tmp, "reference", "ledger.db"), filepath.Join(tmp, "reference", "out")
	ref := k.run(refDB, refOut, 0)
	if ref.killed || ref.code != 0 {
		t.Fatalf("uninterrupted run: exit %d\nstdout:\n%s\nstderr:\n%s", ref.code, ref.stdout, ref.stderr)
	}
	full := ref.elapsed
	t.Logf("%d service lines generated; an uninterrupted run takes %s", generated, full.Round(time.Millisecond))

	// Kill points from a few milliseconds to a little past a whole run
	// (completing the outputs of a killed run can take longer than the
	// measured run), one in each of `kills` equal slices (a random point
	// in each), the slices warped towards the start so that several land
	// before the commit (the first fifth or so of a run; outputs take the
	// rest). Ascending: the first kills interrupt the deciding, the next
	// ones the outputs of the committed run, then the runs that complete
	// them, and the last ones come after the work is done.
	rng := rand.New(rand.NewPCG(7, 2026))
	lo, hi := 3*time.Millisecond, full+full/10
	points := make([]time.Duration, kills)
	for i := range points {
		x := (float64(i) + rng.Float64()) / float64(kills)
		points[i] = lo + time.Duration(float64(hi-lo)*math.Pow(x, 1.5))
	}

	db, out := filepath.Join(tmp, "ledger.db"), filepath.Join(tmp, "out")
	delivered := 0
	stages := map[string]int{}
	for i, d := range points {
		before := killSnapshot(t, db)
		a := k.run(db, out, d)
		after := killSnapshot(t, db)
		stage, kind := killStage(before, after, out, a)
		stages[kind]++
		if a.killed {
			delivered++
		} else if a.code != 0 {
			t.Errorf("attempt %d exited by itself with status %d before its kill at %s\nstderr:\n%s", i+1, a.code, d, a.stderr)
		}
		t.Logf("attempt %2d: kill at %7s, %s after %7s: %s; %d temporary files under out/",
			i+1, d.Round(time.Millisecond), a.how(), a.elapsed.Round(time.Millisecond), stage, len(killTempFiles(t, out)))
	}
	var kinds []string
	for s, n := range stages {
		kinds = append(kinds, fmt.Sprintf("%s %d", s, n))
	}
	sort.Strings(kinds)
	t.Logf("%d kills delivered of %d attempts; where they landed: %s", delivered, len(points), strings.Join(kinds, ", "))
	if delivered == 0 {
		t.Errorf("no attempt was killed: every run of %d lines finished within %s", generated, points[len(points)-1])
	}

	last := k.run(db, out, 0)
	t.Logf("final run: exit %d after %s\n%s", last.code, last.elapsed.Round(time.Millisecond), killFirstLines(last.stdout, 4))
	if last.killed || last.code != 0 {
		t.Fatalf("the run after the kills: exit %d\nstdout:\n%s\nstderr:\n%s", last.code, last.stdout, last.stderr)
	}

	killVerify(t, db, out, generated)
	killCompare(t, refDB, db)
}

// killRig starts carepay runs over one drop.
type killRig struct {
	bin, drop string
	asOf      string   // the run date; killAsOf when empty
	env       []string // os.Environ() without CAREPAY_LEDGER_KEY
}

type killAttempt struct {
	killed         bool
	code           int
	elapsed        time.Duration
	stdout, stderr string
}

func (a killAttempt) how() string {
	if a.killed {
		return "killed"
	}
	return fmt.Sprintf("exited %d by itself", a.code)
}

// run starts `carepay run` and sends it SIGKILL after d (0: never), and
// waits for it.
func (k *killRig) run(db, out string, d time.Duration) killAttempt {
	asOf := k.asOf
	if asOf == "" {
		asOf = killAsOf
	}
	cmd := exec.Command(k.bin, "run", "--config", "../../config.toml", "--db", db, "--out", out,
		"--inbox", k.drop, "--as-of", asOf)
	cmd.Env = k.env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return killAttempt{code: -1, stderr: err.Error()}
	}
	done := make(chan struct{})
	go func() {
		cmd.Wait()
		close(done)
	}()
	if d > 0 {
		timer := time.NewTimer(d)
		select {
		case <-done:
			timer.Stop()
		case <-timer.C:
			cmd.Process.Signal(syscall.SIGKILL) // fails only if it has just exited
		}
	}
	<-done
	a := killAttempt{elapsed: time.Since(start), stdout: stdout.String(), stderr: stderr.String()}
	a.code = cmd.ProcessState.ExitCode()
	if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		a.killed = ws.Signal() == syscall.SIGKILL
		if !a.killed {
			a.stderr += fmt.Sprintf("\n(terminated by %v)", ws.Signal())
		}
	}
	return a
}

// killBuild builds a main package into dir and returns the binary.
func killBuild(t *testing.T, dir, name, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, name)
	if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// killServiceRows counts the data rows of the generated invoice and
// statement files: the service lines of the drop.
func killServiceRows(t *testing.T, drop string) int {
	t.Helper()
	entries, err := os.ReadDir(drop)
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, e := range entries {
		if !strings.Contains(e.Name(), "invoices") && !strings.Contains(e.Name(), "statements") {
			continue
		}
		n, err := killCSVDataRows(filepath.Join(drop, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		total += n
	}
	if total == 0 {
		t.Fatalf("no invoice or statement rows in %s", drop)
	}
	return total
}

// killCSVDataRows counts the rows of a CSV file after its header.
func killCSVDataRows(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	r.ReuseRecord = true
	n := 0
	for {
		_, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
		n++
	}
	return max(n-1, 0), nil
}

// killOpen opens a ledger read-only (no checkpoint on close: the next run
// finds the files as the killed process left them); a PostgreSQL ledger
// (a URL) through the ledger package, which speaks its dialect.
func killOpen(t *testing.T, path string) *sql.DB {
	t.Helper()
	if ledger.IsPostgres(path) {
		key, err := os.ReadFile("../../fixtures/demo-ledger.key")
		if err != nil {
			t.Fatal(err)
		}
		k, err := ledger.ParseKey(string(key))
		if err != nil {
			t.Fatal(err)
		}
		lg, err := ledger.OpenExisting(context.Background(), path, k)
		if err != nil {
			t.Fatalf("opening the ledger: %v", err)
		}
		return lg.DB()
	}
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro&_pragma=busy_timeout(10000)")
	if err != nil {
		t.Fatal(err)
	}
	return db
}

type killRun struct{ id, state string }

// killSnapshot lists the runs of the ledger (nil before it has any).
func killSnapshot(t *testing.T, path string) []killRun {
	t.Helper()
	if _, err := os.Stat(path); err != nil && !ledger.IsPostgres(path) {
		return nil
	}
	db := killOpen(t, path)
	defer db.Close()
	rows, err := db.Query(`SELECT id, state FROM runs ORDER BY id`)
	if err != nil {
		return nil // killed while the ledger was being created
	}
	defer rows.Close()
	var out []killRun
	for rows.Next() {
		var r killRun
		if err := rows.Scan(&r.id, &r.state); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// killStage says where an attempt stopped, from the runs before and after
// it and what is in out/: a description and a short kind for the tally.
func killStage(before, after []killRun, out string, a killAttempt) (string, string) {
	state := map[string]string{}
	for _, r := range after {
		state[r.id] = r.state
	}
	var pending []string // runs left decided-but-not-written by earlier kills
	for _, r := range before {
		if r.state != "written" {
			pending = append(pending, r.id)
		}
	}
	var parts []string
	kind := ""
	for _, id := range pending {
		if state[id] == "written" {
			parts = append(parts, "completed the outputs of interrupted run "+id)
		} else {
			parts = append(parts, fmt.Sprintf("while completing the outputs of interrupted run %s (%s)", id, killOutputs(filepath.Join(out, id))))
			kind = "completing an earlier run's outputs"
		}
	}
	switch {
	case len(after) > len(before):
		for _, r := range after[len(before):] {
			if r.state == "written" {
				parts = append(parts, fmt.Sprintf("run %s committed and written (%s)", r.id, killOutputs(filepath.Join(out, r.id))))
				if kind == "" {
					kind = "after outputs written"
				}
			} else {
				parts = append(parts, fmt.Sprintf("run %s committed, outputs incomplete (%s)", r.id, killOutputs(filepath.Join(out, r.id))))
				kind = "after commit, during outputs"
			}
		}
	case kind == "":
		if after == nil {
			parts = append(parts, "before the first commit (no run in the ledger)")
		} else {
			parts = append(parts, "before the commit (no new run in the ledger)")
		}
		kind = "before commit"
	}
	if !a.killed {
		kind = "exited by itself"
	}
	return strings.Join(parts, "; "), kind
}

// killOutputs describes what a run folder holds.
func killOutputs(dir string) string {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "no folder"
	}
	var have []string
	temp := 0
	for _, e := range entries {
		switch {
		case killIsTemp(e.Name()):
			temp++
		case e.IsDir():
			sub, _ := os.ReadDir(filepath.Join(dir, e.Name()))
			n := 0
			for _, s := range sub {
				if killIsTemp(s.Name()) {
					temp++
				} else {
					n++
				}
			}
			have = append(have, fmt.Sprintf("%s/ %d", e.Name(), n))
		default:
			have = append(have, e.Name())
		}
	}
	if temp > 0 {
		have = append(have, fmt.Sprintf("%d temporary", temp))
	}
	if len(have) == 0 {
		return "empty folder"
	}
	return strings.Join(have, ", ")
}

func killIsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-")
}

// killTempFiles lists the temporary files left under out/.
func killTempFiles(t *testing.T, out string) []string {
	t.Helper()
	var found []string
	err := filepath.WalkDir(out, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if killIsTemp(d.Name()) {
			rel, _ := filepath.Rel(out, path)
			found = append(found, rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found
}

func killFirstLines(s string, n int) string {
	lines := strings.SplitN(s, "\n", n+1)
	if len(lines) > n {
		lines = lines[:n]
	}
	return strings.Join(lines, "\n")
}

// killVerify checks the ledger and out/ after the kills and the final run.
func killVerify(t *testing.T, path, out string, generated int) {
	t.Helper()
	db := killOpen(t, path)
	defer db.Close()
	one := func(q string, dst ...any) {
		t.Helper()
		if err := db.QueryRow(q).Scan(dst...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	// list runs a query and returns each row's columns joined by spaces
	// (at most ten rows) and the number of rows.
	list := func(q string, args ...any) ([]string, int) {
		t.Helper()
		rows, err := db.Query(q, args...)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		defer rows.Close()
		cols, _ := rows.Columns()
		var out []string
		n := 0
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			n++
			if len(out) < 10 {
				s := make([]string, len(vals))
				for i, v := range vals {
					if b, ok := v.([]byte); ok {
						v = string(b)
					}
					s[i] = fmt.Sprint(v)
				}
				out = append(out, strings.Join(s, " "))
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out, n
	}

	// (a) Every service line decided once: nothing lost, nothing twice.
	var nLines int
	one(`SELECT COUNT(*) FROM lines`, &nLines)
	if nLines != generated {
		dups, nd := list(`SELECT source, row, COUNT(*) FROM lines GROUP BY source, row HAVING COUNT(*) > 1 ORDER BY source, row`)
		t.Errorf("(a) the ledger has %d lines, the drop %d service lines (%+d); %d (source, row) decided more than once, e.g. %q",
			nLines, generated, nLines-generated, nd, dups)
	}

	// (b) Every approved or partial line is paid, unless its payee's
	// payment is held for its details; a held payee's lines are unpaid.
	const heldPayee = `EXISTS (SELECT 1 FROM payment_holds h WHERE h.payee_type = l.payee_type AND h.payee_id = l.payee_id AND h.reason = 'PAYMENT_DETAILS')`
	var nUnpaid, unpaidCents, nPaidHeld, paidHeldCents int64
	one(`SELECT COUNT(*), COALESCE(SUM(employer_share), 0) FROM lines l WHERE status IN ('approved', 'partial') AND payment_id IS NULL AND NOT `+heldPayee,
		&nUnpaid, &unpaidCents)
	if nUnpaid > 0 {
		ex, _ := list(`SELECT id, run_id, payee_type, payee_id, employer_share FROM lines l WHERE status IN ('approved', 'partial') AND payment_id IS NULL AND NOT ` + heldPayee + ` ORDER BY id`)
		t.Errorf("(b) %d approved or partial lines (%d cents) are unpaid and their payee is not held, e.g. (id run payee share) %q", nUnpaid, unpaidCents, ex)
	}
	one(`SELECT COUNT(*), COALESCE(SUM(employer_share), 0) FROM lines l WHERE status IN ('approved', 'partial') AND payment_id IS NOT NULL AND `+heldPayee,
		&nPaidHeld, &paidHeldCents)
	if nPaidHeld > 0 {
		t.Errorf("(b) %d lines (%d cents) of payees whose payment is held (PAYMENT_DETAILS) are paid", nPaidHeld, paidHeldCents)
	}
	var nOddPaid, nDangling int64
	one(`SELECT COUNT(*) FROM lines WHERE payment_id IS NOT NULL AND status NOT IN ('approved', 'partial')`, &nOddPaid)
	if nOddPaid > 0 {
		t.Errorf("(b) %d lines that are neither approved nor partial carry a payment", nOddPaid)
	}
	one(`SELECT COUNT(*) FROM lines l WHERE payment_id IS NOT NULL AND NOT EXISTS (SELECT 1 FROM payments p WHERE p.id = l.payment_id)`, &nDangling)
	if nDangling > 0 {
		t.Errorf("(b) %d lines carry a payment_id that is in no payment", nDangling)
	}
	var nPayable, nPaid, nHeldLines int64
	one(`SELECT COUNT(*), COUNT(payment_id) FROM lines WHERE status IN ('approved', 'partial')`, &nPayable, &nPaid)
	one(`SELECT COUNT(*) FROM lines l WHERE status IN ('approved', 'partial') AND payment_id IS NULL AND `+heldPayee, &nHeldLines)

	// (c) Each payment is the sum of its lines.
	bad, nBad := list(`SELECT p.id, p.run_id, p.payee_type, p.payee_id, p.method, p.amount, COALESCE(SUM(l.employer_share), 0), p.lines, COUNT(l.id)
 FROM payments p LEFT JOIN lines l ON l.payment_id = p.id GROUP BY p.id
 HAVING p.amount != COALESCE(SUM(l.employer_share), 0) OR p.lines != COUNT(l.id) ORDER BY p.id`)
	if nBad > 0 {
		t.Errorf("(c) %d payments differ from their lines (id run payee method amount sum-of-lines lines count-of-lines): %q", nBad, bad)
	}

	// (d) No line is paid twice: the payments add up to the paid lines.
	var nPayments, paidTotal, linesTotal int64
	one(`SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM payments`, &nPayments, &paidTotal)
	one(`SELECT COALESCE(SUM(employer_share), 0) FROM lines WHERE payment_id IS NOT NULL`, &linesTotal)
	if paidTotal != linesTotal {
		t.Errorf("(d) the payments total %d cents, the paid lines %d cents (%+d)", paidTotal, linesTotal, paidTotal-linesTotal)
	}
	twice, nTwice := list(`SELECT run_id, payee_type, payee_id, method, COUNT(*) FROM payments GROUP BY run_id, payee_type, payee_id, method HAVING COUNT(*) > 1`)
	if nTwice > 0 {
		t.Errorf("(d) %d payees are paid twice by the same method in one run: %q", nTwice, twice)
	}

	// (e) Every run is written.
	unwritten, nUnwritten := list(`SELECT id, state FROM runs WHERE state != 'written' ORDER BY id`)
	if nUnwritten > 0 {
		t.Errorf("(e) %d runs are not written: %q", nUnwritten, unwritten)
	}

	// (f) Each run's NACHA file carries its ACH payments; each run's
	// decisions.csv its lines.
	type runTotals struct {
		id                string
		decided, released int
		ach               int64
		achPayments       int
	}
	rows, err := db.Query(`SELECT r.id,
 (SELECT COUNT(*) FROM lines WHERE run_id = r.id),
 (SELECT COUNT(*) FROM lines WHERE released_run = r.id),
 (SELECT COALESCE(SUM(amount), 0) FROM payments WHERE issued_run = r.id AND method = 'ach' AND amount > 0),
 (SELECT COUNT(*) FROM payments WHERE issued_run = r.id AND method = 'ach' AND amount > 0)
 FROM runs r ORDER BY r.id`)
	if err != nil {
		t.Fatal(err)
	}
	var runs []runTotals
	for rows.Next() {
		var r runTotals
		if err := rows.Scan(&r.id, &r.decided, &r.released, &r.ach, &r.achPayments); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	rows.Close()
	known := map[string]bool{}
	achFiles := 0
	for _, r := range runs {
		known[r.id] = true
		dir := filepath.Join(out, r.id)
		n, err := killCSVDataRows(filepath.Join(dir, "decisions.csv"))
		if err != nil {
			t.Errorf("(f) run %s: decisions.csv: %v", r.id, err)
		} else if n != r.decided+r.released {
			t.Errorf("(f) run %s: decisions.csv has %d rows, the run decided %d lines and released %d (%+d)", r.id, n, r.decided, r.released, n-r.decided-r.released)
		}
		achPath := filepath.Join(dir, "payments.ach")
		if r.achPayments == 0 {
			if _, err := os.Stat(achPath); err == nil {
				t.Errorf("(f) run %s has no ACH payment but out/%s/payments.ach exists", r.id, r.id)
			}
			continue
		}
		achFiles++
		credits, debits, entries, err := killACH(achPath)
		switch {
		case err != nil:
			t.Errorf("(f) run %s: %d ACH payments of %d cents, but payments.ach: %v", r.id, r.achPayments, r.ach, err)
		case credits != r.ach || entries != r.achPayments:
			t.Errorf("(f) run %s: payments.ach credits %d cents in %d entries, the run's ACH payments %d cents in %d payments (%+d cents)",
				r.id, credits, entries, r.ach, r.achPayments, credits-r.ach)
		}
		if debits != 0 {
			t.Logf("run %s: payments.ach also debits %d cents (offset entries)", r.id, debits)
		}
	}
	// A run folder the ledger does not know must not hold a payment file
	// or any other output (its run was never committed).
	entries, err := os.ReadDir(out)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !e.IsDir() || known[e.Name()] {
			continue
		}
		dir := filepath.Join(out, e.Name())
		outputs := 0
		filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && !killIsTemp(d.Name()) {
				outputs++
			}
			return nil
		})
		if outputs > 0 {
			t.Errorf("(f) out/%s holds %d output files (%s) but the ledger has no run %s", e.Name(), outputs, killOutputs(dir), e.Name())
		}
	}

	// (g) No temporary file is left behind.
	if tmps := killTempFiles(t, out); len(tmps) > 0 {
		t.Errorf("(g) %d temporary files remain under out/: %q", len(tmps), tmps)
	}

	t.Logf("ledger: %d runs, %d lines, %d approved or partial: %d paid in %d payments (%d cents), %d unpaid with their payee held; %d NACHA files checked",
		len(runs), nLines, nPayable, nPaid, nPayments, paidTotal, nHeldLines, achFiles)
}

// killACH reads a NACHA file back with moov-io/ach, validates it and sums
// its credit entries (the payments) and debit entries (offsets, if any).
func killACH(path string) (credits, debits int64, entries int, err error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, 0, 0, err
	}
	defer f.Close()
	file, err := ach.NewReader(f).Read()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("reading: %w", err)
	}
	if err := file.Validate(); err != nil {
		return 0, 0, 0, fmt.Errorf("validating: %w", err)
	}
	for _, b := range file.Batches {
		for _, e := range b.GetEntries() {
			switch e.CreditOrDebit() {
			case "C":
				credits += int64(e.Amount)
				entries++
			case "D":
				debits += int64(e.Amount)
			}
		}
	}
	return credits, debits, entries, nil
}

// killCompare checks that the killed runs came to what the uninterrupted
// run decided and paid: the same lines by status, the same money.
func killCompare(t *testing.T, refPath, path string) {
	t.Helper()
	summary := func(path string) map[string]string {
		db := killOpen(t, path)
		defer db.Close()
		got := map[string]string{}
		rows, err := db.Query(`SELECT status, COUNT(*), SUM(employer_share), COUNT(payment_id), COALESCE(SUM(CASE WHEN payment_id IS NOT NULL THEN employer_share END), 0) FROM lines GROUP BY status`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var status string
			var n, share, paid, paidShare int64
			if err := rows.Scan(&status, &n, &share, &paid, &paidShare); err != nil {
				t.Fatal(err)
			}
			got[status] = fmt.Sprintf("%d lines, employer share %d cents, %d paid (%d cents)", n, share, paid, paidShare)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		var n, amount int64
		if err := db.QueryRow(`SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM payments`).Scan(&n, &amount); err != nil {
			t.Fatal(err)
		}
		got["payments"] = fmt.Sprintf("%d payments, %d cents", n, amount)
		return got
	}
	want, got := summary(refPath), summary(path)
	keys := map[string]bool{}
	for k := range want {
		keys[k] = true
	}
	for k := range got {
		keys[k] = true
	}
	for k := range keys {
		if want[k] != got[k] {
			t.Errorf("after the kills, %s: %s; the uninterrupted run: %s", k, got[k], want[k])
		}
	}
}
