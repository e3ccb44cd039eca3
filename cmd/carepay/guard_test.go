package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"carepay/ledger"
)

// These tests drive the built binary as an operator would, on the demo
// (fixtures/drop as of 2026-04-10), and check after every refusal that
// nothing was paid twice: the ledger's payments and paid lines, the
// payment files under out/, the check numbers, against the demo's.

const (
	demoAsOf = "2026-04-10"
	newHex   = "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff"
)

// guard is a built carepay and the environment it runs in (without
// CAREPAY_LEDGER_KEY: the shipped config then reads its key_file).
type guard struct {
	bin string
	env []string
}

func newGuard(t *testing.T) *guard {
	t.Helper()
	g := &guard{bin: killBuild(t, t.TempDir(), "carepay", ".")}
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CAREPAY_LEDGER_KEY=") {
			g.env = append(g.env, kv)
		}
	}
	return g
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs carepay with extra environment variables.
func (g *guard) run(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(g.bin, args...)
	cmd.Env = append(append([]string{}, g.env...), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	r := result{stdout: stdout.String(), stderr: stderr.String()}
	if err != nil {
		ee, ok := err.(*exec.ExitError)
		if !ok {
			t.Fatalf("carepay %v: %v", args, err)
		}
		r.code = ee.ExitCode()
	}
	return r
}

// demo runs the demo on db into out.
func (g *guard) demo(t *testing.T, db, out string, env ...string) result {
	t.Helper()
	return g.run(t, env, "run", "--config", "../../config.toml", "--db", db, "--out", out, "--inbox", "../../fixtures/drop", "--as-of", demoAsOf)
}

// refused checks a refusal: exit 1, one line on stderr with every word
// of want, nothing on stdout.
func refused(t *testing.T, what string, r result, want ...string) {
	t.Helper()
	if r.code != exitFailed || strings.Count(r.stderr, "\n") != 1 || r.stdout != "" {
		t.Errorf("%s: exit %d, stdout %q, stderr %q; want exit 1 and one line", what, r.code, r.stdout, r.stderr)
		return
	}
	for _, w := range want {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("%s: %q does not say %q", what, r.stderr, w)
		}
	}
}

// paid is what a ledger and an out/ hold of the money.
type paid struct {
	runs, payments, paidLines int
	total                     int64
	checks                    string // check numbers in out/*/checks.csv
	paymentFiles              int    // payments.ach, checks.csv, payroll.csv under out/
	folders                   string
}

func paidOf(t *testing.T, db, out string) paid {
	t.Helper()
	var p paid
	if _, err := os.Stat(db); err == nil {
		d := killOpen(t, db)
		defer d.Close()
		var n int
		d.QueryRow(`SELECT COUNT(*) FROM sqlite_master WHERE name = 'payments'`).Scan(&n)
		if n > 0 {
			d.QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&p.runs)
			d.QueryRow(`SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM payments`).Scan(&p.payments, &p.total)
			d.QueryRow(`SELECT COUNT(*) FROM lines WHERE payment_id IS NOT NULL`).Scan(&p.paidLines)
		}
	}
	entries, _ := os.ReadDir(out)
	var folders, checks []string
	for _, e := range entries {
		folders = append(folders, e.Name())
		for _, f := range []string{"payments.ach", "checks.csv", "payroll.csv"} {
			if _, err := os.Stat(filepath.Join(out, e.Name(), f)); err == nil {
				p.paymentFiles++
			}
		}
		b, err := os.ReadFile(filepath.Join(out, e.Name(), "checks.csv"))
		if err == nil {
			for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n")[1:] {
				checks = append(checks, strings.SplitN(line, ",", 2)[0])
			}
		}
	}
	sort.Strings(checks)
	p.folders, p.checks = strings.Join(folders, " "), strings.Join(checks, " ")
	return p
}

// demoPaid is what the demo pays: 4,921.50 in 3 payments (check 100001,
// two ACH) carrying 41 lines, in one run folder with payments.ach and
// checks.csv.
var demoPaid = paid{runs: 1, payments: 3, paidLines: 41, total: 492150, checks: "100001", paymentFiles: 2, folders: "20260410-001"}

func removeLedger(t *testing.T, db string) {
	t.Helper()
	for _, s := range []string{"", "-wal", "-shm"} {
		if err := os.Remove(db + s); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

func TestLedgerGuards(t *testing.T) {
	g := newGuard(t)

	// (a) carepay.db deleted, then the demo again.
	t.Run("ledger_deleted", func(t *testing.T) {
		dir := t.TempDir()
		db, out := filepath.Join(dir, "carepay.db"), filepath.Join(dir, "out")
		if r := g.demo(t, db, out); r.code != 0 {
			t.Fatalf("demo: %+v", r)
		}
		if got := paidOf(t, db, out); got != demoPaid {
			t.Fatalf("the demo paid %+v, want %+v", got, demoPaid)
		}
		removeLedger(t, db)
		refused(t, "after deleting the ledger", g.demo(t, db, out), "refusing to run", "run 20260410-001", "new, emptied or replaced")
		want := demoPaid
		want.runs, want.payments, want.paidLines, want.total = 0, 0, 0, 0
		if got := paidOf(t, db, out); got != want {
			t.Errorf("after the refusal %+v, want %+v", got, want)
		}
		// Refused again, however often it is tried, and no ledger is
		// created by the refusal.
		refused(t, "a second try", g.demo(t, db, out), "refusing to run", "there is no ledger at "+db, "nothing was created")
		for _, f := range []string{db, db + "-wal", db + "-shm"} {
			if _, err := os.Stat(f); !os.IsNotExist(err) {
				t.Errorf("the refused run left %s (%v)", f, err)
			}
		}
	})

	// (a2) carepay.db emptied (0 bytes): refused, and the file is left
	// as it is, not turned into a new ledger.
	t.Run("ledger_emptied", func(t *testing.T) {
		dir := t.TempDir()
		db, out := filepath.Join(dir, "carepay.db"), filepath.Join(dir, "out")
		if r := g.demo(t, db, out); r.code != 0 {
			t.Fatalf("demo: %+v", r)
		}
		removeLedger(t, db)
		if err := os.WriteFile(db, nil, 0o600); err != nil {
			t.Fatal(err)
		}
		refused(t, "an emptied ledger", g.demo(t, db, out), "refusing to run", "run 20260410-001", db+" is empty", "nothing was created")
		if st, err := os.Stat(db); err != nil || st.Size() != 0 {
			t.Errorf("the emptied ledger was changed: %v %v", st, err)
		}
		for _, f := range []string{db + "-wal", db + "-shm"} {
			if _, err := os.Stat(f); !os.IsNotExist(err) {
				t.Errorf("the refused run left %s (%v)", f, err)
			}
		}
		if got := paidOf(t, db, out); got.payments != 0 || got.paymentFiles != demoPaid.paymentFiles || got.folders != demoPaid.folders {
			t.Errorf("after the refusal %+v", got)
		}
	})

	// (b) --db pointing at a new path, the same out/.
	t.Run("db_elsewhere", func(t *testing.T) {
		dir := t.TempDir()
		db, out := filepath.Join(dir, "carepay.db"), filepath.Join(dir, "out")
		g.demo(t, db, out)
		other := filepath.Join(dir, "typo", "carepay.db")
		refused(t, "--db elsewhere", g.demo(t, other, out), "refusing to run", "run 20260410-001", "nothing was created")
		if _, err := os.Stat(filepath.Dir(other)); !os.IsNotExist(err) {
			t.Errorf("the refused run created %s (%v)", filepath.Dir(other), err)
		}
		if got := paidOf(t, db, out); got != demoPaid {
			t.Errorf("the ledger that paid: %+v", got)
		}
		if got := paidOf(t, other, out); got.payments != 0 || got.runs != 0 || got.paymentFiles != demoPaid.paymentFiles || got.checks != "100001" {
			t.Errorf("the other ledger: %+v", got)
		}
	})

	// (c) an older copy of the ledger restored after a second run.
	t.Run("older_copy_restored", func(t *testing.T) {
		dir := t.TempDir()
		db, out := filepath.Join(dir, "carepay.db"), filepath.Join(dir, "out")
		g.demo(t, db, out)
		backup := filepath.Join(dir, "backup.db")
		copyFile(t, db, backup)
		if _, err := os.Stat(db + "-wal"); err == nil {
			t.Fatal("the ledger left a WAL file: the copy would be incomplete")
		}
		if r := g.run(t, nil, "approve", "--config", "../../config.toml", "--db", db, "--by", "ops", "ST-P02-2026-03"); r.code != 0 {
			t.Fatalf("approve: %+v", r)
		}
		empty := t.TempDir()
		if r := g.run(t, nil, "run", "--config", "../../config.toml", "--db", db, "--out", out, "--inbox", empty, "--as-of", "2026-04-13"); r.code != 0 {
			t.Fatalf("second run: %+v", r)
		}
		second := paidOf(t, db, out)
		if second.runs != 2 || second.total != 492150+70000 || second.folders != "20260410-001 20260413-001" {
			t.Fatalf("the second run: %+v", second)
		}
		removeLedger(t, db)
		copyFile(t, backup, db)
		r := g.run(t, nil, "run", "--config", "../../config.toml", "--db", db, "--out", out, "--inbox", empty, "--as-of", "2026-04-13")
		refused(t, "the older copy", r, "refusing to run", "run 20260413-001", "does not know")
		got := paidOf(t, db, out)
		want := demoPaid
		want.folders, want.paymentFiles = second.folders, second.paymentFiles
		if got != want {
			t.Errorf("after the refusal %+v, want %+v", got, want)
		}
	})

	// (d) another key, or an empty CAREPAY_LEDGER_KEY: refused before any
	// source is read (a configured folder source keeps its files, and no
	// acknowledgement is written).
	t.Run("wrong_or_empty_key", func(t *testing.T) {
		dir := t.TempDir()
		cfg := folderConfig(t, dir)
		db := filepath.Join(dir, "carepay.db")
		first := g.run(t, nil, "run", "--config", cfg, "--db", db, "--as-of", demoAsOf)
		if first.code != 0 {
			t.Fatalf("first run: %+v", first)
		}
		out := filepath.Join(dir, "out")
		before := paidOf(t, db, out)
		if before.payments != demoPaid.payments || before.total != demoPaid.total {
			t.Fatalf("first run paid %+v", before)
		}
		restedFile(t, filepath.Join(dir, "inbox", "late.csv"), []byte("employee_id\n"))
		for _, c := range []struct {
			name, env string
			want      []string
		}{
			{"another_key", "CAREPAY_LEDGER_KEY=" + newHex, []string{"wrong ledger key", "nothing was read"}},
			{"empty_key", "CAREPAY_LEDGER_KEY=", []string{"CAREPAY_LEDGER_KEY is set but empty"}},
		} {
			r := g.run(t, []string{c.env}, "run", "--config", cfg, "--db", db, "--as-of", "2026-04-11")
			refused(t, c.name, r, c.want...)
			if got := paidOf(t, db, out); got != before {
				t.Errorf("%s: %+v, was %+v", c.name, got, before)
			}
			if _, err := os.Stat(filepath.Join(dir, "inbox", "late.csv")); err != nil {
				t.Errorf("%s: the waiting file was taken: %v", c.name, err)
			}
			if _, err := os.Stat(filepath.Join(dir, "reports", "late.csv.ack.txt")); !os.IsNotExist(err) {
				t.Errorf("%s: the waiting file was acknowledged: %v", c.name, err)
			}
		}
		// The same for serve.
		r := g.run(t, []string{"CAREPAY_LEDGER_KEY=" + newHex}, "serve", "--config", cfg, "--db", db)
		refused(t, "serve with another key", r, "wrong ledger key")
	})

	// (e) the run date goes back, or out of range.
	t.Run("run_date", func(t *testing.T) {
		dir := t.TempDir()
		db, out := filepath.Join(dir, "carepay.db"), filepath.Join(dir, "out")
		g.demo(t, db, out)
		for _, c := range []struct{ asOf, want string }{
			{"2026-04-09", "before the ledger's last run 20260410-001"},
			{"1999-12-31", "outside 2000-01-01 to 2099-12-31"},
			{"2100-01-01", "outside 2000-01-01 to 2099-12-31"},
		} {
			r := g.run(t, nil, "run", "--config", "../../config.toml", "--db", db, "--out", out, "--inbox", "../../fixtures/drop", "--as-of", c.asOf)
			refused(t, c.asOf, r, "run date refused", c.want)
			if got := paidOf(t, db, out); got != demoPaid {
				t.Errorf("%s: %+v", c.asOf, got)
			}
		}
		// A new ledger is refused 1999-12-31 too, and the same day again
		// is fine.
		refused(t, "new ledger, 1999", g.run(t, nil, "run", "--config", "../../config.toml", "--db", filepath.Join(dir, "n.db"),
			"--out", filepath.Join(dir, "out2"), "--inbox", "../../fixtures/drop", "--as-of", "1999-12-31"), "outside")
		if r := g.demo(t, db, out); r.code != 0 || !strings.Contains(r.stdout, "nothing new to decide") {
			t.Errorf("the same day again: %+v", r)
		}
	})

	// (f) explain, approve, void and rekey where there is no ledger.
	t.Run("no_ledger", func(t *testing.T) {
		dir := t.TempDir()
		db := filepath.Join(dir, "none", "carepay.db")
		for _, args := range [][]string{
			{"explain", "--config", "../../config.toml", "--db", db, "INV-1005"},
			{"approve", "--config", "../../config.toml", "--db", db, "--by", "ops", "ST-P02-2026-03"},
			{"void", "--config", "../../config.toml", "--db", db, "--by", "ops", "--reason", "lost", "100001"},
			{"rekey", "--config", "../../config.toml", "--db", db, "--new-key-file", "../../fixtures/demo-ledger.key"},
		} {
			refused(t, args[0], g.run(t, nil, args...), "no ledger at "+db, "nothing was created")
		}
		if entries, _ := os.ReadDir(dir); len(entries) != 0 {
			t.Errorf("created %v", entries)
		}
	})

	// (g) rekey: the old key no longer opens the ledger, the new one does,
	// and every account number reads the same.
	t.Run("rekey", func(t *testing.T) {
		dir := t.TempDir()
		db, out := filepath.Join(dir, "carepay.db"), filepath.Join(dir, "out")
		g.demo(t, db, out)
		before := accounts(t, db, demoKey(t))
		if len(before) < 5 {
			t.Fatalf("only %d account numbers", len(before))
		}
		keyFile := filepath.Join(dir, "new.key")
		os.WriteFile(keyFile, []byte(newHex+"\n"), 0o600)
		common := []string{"--config", "../../config.toml", "--db", db}
		if r := g.run(t, nil, append([]string{"rekey"}, common...)...); r.code != exitUsage || !strings.Contains(r.stderr, "exactly one of") {
			t.Errorf("rekey with no new key: %+v", r)
		}
		refused(t, "rekey to an unset variable", g.run(t, nil, append([]string{"rekey", "--new-key-env", "NO_SUCH_VAR"}, common...)...), "NO_SUCH_VAR is not set")
		r := g.run(t, nil, append([]string{"rekey", "--new-key-file", keyFile}, common...)...)
		if r.code != 0 || !strings.Contains(r.stdout, fmt.Sprintf("re-sealed %d account numbers", len(before))) || strings.Contains(r.stdout+r.stderr, newHex) {
			t.Fatalf("rekey: %+v", r)
		}
		refused(t, "the old key", g.demo(t, db, out), "wrong ledger key")
		refused(t, "explain with the old key", g.run(t, nil, append([]string{"explain", "INV-1005"}, common...)...), "wrong ledger key")
		again := g.demo(t, db, out, "CAREPAY_LEDGER_KEY="+newHex)
		if again.code != 0 || !strings.Contains(again.stdout, "nothing new to decide") {
			t.Fatalf("the new key: %+v", again)
		}
		after := accounts(t, db, mustParseKey(t, newHex))
		if fmt.Sprint(after) != fmt.Sprint(before) {
			t.Errorf("account numbers changed:\n%v\n%v", before, after)
		}
		got := paidOf(t, db, out)
		if got.payments != demoPaid.payments || got.total != demoPaid.total || got.checks != "100001" {
			t.Errorf("paid %+v", got)
		}
		// Back the other way, from the environment.
		r = g.run(t, []string{"CAREPAY_LEDGER_KEY=" + newHex, "OLD_KEY=" + strings.TrimSpace(string(mustRead(t, "../../fixtures/demo-ledger.key")))},
			append([]string{"rekey", "--new-key-env", "OLD_KEY"}, common...)...)
		if r.code != 0 {
			t.Fatalf("rekey back: %+v", r)
		}
		if r := g.run(t, nil, append([]string{"explain", "INV-1005"}, common...)...); r.code != 0 {
			t.Errorf("explain with the demo key again: %+v", r)
		}
	})

	// (h) several processes start on a new ledger at once: every one opens
	// it (none fails migrating), one pays, the others find the run lock
	// taken or nothing left to do; the demo is paid once.
	t.Run("concurrent_first_open", func(t *testing.T) {
		dir := t.TempDir()
		db, out := filepath.Join(dir, "carepay.db"), filepath.Join(dir, "out")
		const n = 4
		results := make([]result, n)
		var wg sync.WaitGroup
		for i := range results {
			wg.Add(1)
			go func() {
				defer wg.Done()
				results[i] = g.demo(t, db, out)
			}()
		}
		wg.Wait()
		ok := 0
		for i, r := range results {
			switch {
			case r.code == 0:
				ok++
			case r.code == exitFailed && strings.Contains(r.stderr, "another carepay process is running"):
			default:
				t.Errorf("process %d: %+v", i, r)
			}
		}
		if ok == 0 {
			t.Error("no process ran")
		}
		got := paidOf(t, db, out)
		if got.payments != demoPaid.payments || got.total != demoPaid.total || got.paidLines != demoPaid.paidLines || got.checks != "100001" {
			t.Errorf("paid %+v, want the demo's once", got)
		}
	})

	// (i) an older copy of the ledger restored, then a run into a new
	// --out: the ledger remembers the out folders it wrote to, so the
	// run, an approval, a void and a rekey all refuse, naming out/, and the 700.00
	// the second run paid is not paid again.
	t.Run("older_copy_new_out", func(t *testing.T) {
		dir := t.TempDir()
		db, out, out2 := filepath.Join(dir, "carepay.db"), filepath.Join(dir, "out"), filepath.Join(dir, "out2")
		if r := g.demo(t, db, out); r.code != 0 {
			t.Fatalf("demo: %+v", r)
		}
		backup := filepath.Join(dir, "backup.db")
		copyFile(t, db, backup)
		common := []string{"--config", "../../config.toml", "--db", db}
		if r := g.run(t, nil, append([]string{"approve", "--by", "ops", "ST-P02-2026-03"}, common...)...); r.code != 0 {
			t.Fatalf("approve: %+v", r)
		}
		empty := t.TempDir()
		if r := g.run(t, nil, append([]string{"run", "--out", out, "--inbox", empty, "--as-of", "2026-04-13"}, common...)...); r.code != 0 {
			t.Fatalf("second run: %+v", r)
		}
		if got := paidOf(t, db, out); got.total != 492150+70000 || got.folders != "20260410-001 20260413-001" {
			t.Fatalf("the second run: %+v", got)
		}
		removeLedger(t, db)
		copyFile(t, backup, db)
		r := g.run(t, nil, append([]string{"run", "--out", out2, "--inbox", empty, "--as-of", "2026-04-13"}, common...)...)
		refused(t, "a run into a new --out", r, "refusing to run", out+" holds run 20260413-001", "does not know")
		refused(t, "approve on the older copy", g.run(t, nil, append([]string{"approve", "--by", "ops", "ST-P02-2026-03"}, common...)...),
			"nothing approved", "refusing to run", out+" holds run 20260413-001", "does not know")
		refused(t, "void on the older copy", g.run(t, nil, append([]string{"void", "--by", "ops", "--reason", "lost", "100001"}, common...)...),
			"nothing voided", "refusing to run", out+" holds run 20260413-001", "does not know")
		keyFile := filepath.Join(dir, "new.key")
		os.WriteFile(keyFile, []byte(newHex+"\n"), 0o600)
		refused(t, "rekey on the older copy", g.run(t, nil, append([]string{"rekey", "--new-key-file", keyFile}, common...)...),
			"nothing re-sealed", out+" holds run 20260413-001")
		if got := paidOf(t, db, out2); got.runs != 1 || got.payments != demoPaid.payments || got.total != demoPaid.total || got.folders != "" {
			t.Errorf("the older copy after the refusals: %+v", got)
		}
		var approvals int
		d := killOpen(t, db)
		defer d.Close()
		if err := d.QueryRow(`SELECT COUNT(*) FROM approvals`).Scan(&approvals); err != nil || approvals != 0 {
			t.Errorf("%d approvals recorded in the older copy (%v)", approvals, err)
		}
		var voided int
		if err := d.QueryRow(`SELECT COUNT(*) FROM payments WHERE voided_at IS NOT NULL`).Scan(&voided); err != nil || voided != 0 {
			t.Errorf("%d checks voided in the older copy (%v)", voided, err)
		}
	})
}

// folderConfig writes a copy of the shipped config whose folder source
// and out/ are under dir, with the demo's files in the inbox.
func folderConfig(t *testing.T, dir string) string {
	t.Helper()
	inbox := filepath.Join(dir, "inbox")
	os.MkdirAll(inbox, 0o755)
	entries, _ := os.ReadDir("../../fixtures/drop")
	for _, e := range entries {
		restedFile(t, filepath.Join(inbox, e.Name()), mustRead(t, filepath.Join("../../fixtures/drop", e.Name())))
	}
	s := string(mustRead(t, "../../config.toml"))
	for from, to := range map[string]string{
		`path = "drop/inbox"`:                   `path = "` + inbox + `"`,
		`archive = "drop/archive"`:              `archive = "` + filepath.Join(dir, "archive") + `"`,
		`reports = "drop/reports"`:              `reports = "` + filepath.Join(dir, "reports") + `"`,
		`out = "out"`:                           `out = "` + filepath.Join(dir, "out") + `"`,
		`key_file = "fixtures/demo-ledger.key"`: `key_file = "` + mustAbs(t, "../../fixtures/demo-ledger.key") + `"`,
	} {
		if !strings.Contains(s, from) {
			t.Fatalf("config.toml has no %s", from)
		}
		s = strings.Replace(s, from, to, 1)
	}
	path := filepath.Join(dir, "config.toml")
	os.WriteFile(path, []byte(s), 0o644)
	return path
}

// restedFile writes a file that has rested longer than the folder
// source's stable_wait, so that a run would take it.
func restedFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	then := time.Now().Add(-time.Minute)
	os.Chtimes(path, then, then)
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func mustParseKey(t *testing.T, text string) *ledger.Key {
	t.Helper()
	k, err := ledger.ParseKey(text)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func demoKey(t *testing.T) *ledger.Key {
	return mustParseKey(t, string(mustRead(t, "../../fixtures/demo-ledger.key")))
}

// accounts reads every account number of a ledger through the ledger
// package: the registries' and the payments' snapshots.
func accounts(t *testing.T, db string, key *ledger.Key) []string {
	t.Helper()
	ctx := context.Background()
	lg, err := ledger.OpenExisting(ctx, db, key)
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	var out []string
	rows, err := lg.DB().Query(`SELECT DISTINCT run_id FROM payments ORDER BY run_id`)
	if err != nil {
		t.Fatal(err)
	}
	var runs []string
	for rows.Next() {
		var r string
		rows.Scan(&r)
		runs = append(runs, r)
	}
	rows.Close()
	for _, r := range runs {
		ps, err := lg.Payments(ctx, r)
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range ps {
			if p.Bank.Number != "" {
				out = append(out, fmt.Sprintf("payment %d %s", p.ID, p.Bank.Number))
			}
		}
	}
	tx, err := lg.Begin(ctx, ledger.LastRunDate, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, who := range [][2]string{{"employee", "employees"}, {"provider", "providers"}} {
		col := who[0] + "_id"
		rows, err := lg.DB().Query(`SELECT ` + col + ` FROM ` + who[1] + ` WHERE length(account_sealed) > 0 ORDER BY ` + col)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for rows.Next() {
			var id string
			rows.Scan(&id)
			ids = append(ids, id)
		}
		rows.Close()
		for _, id := range ids {
			p, ok, err := tx.Payee(who[0], id)
			if err != nil || !ok {
				t.Fatalf("%s %s: %v", who[0], id, err)
			}
			out = append(out, who[0]+" "+id+" "+p.Bank.Number)
		}
	}
	return out
}

// TestChecksSavedBySpreadsheet: a checks.csv opened and saved again by a
// spreadsheet ("CSV UTF-8": a byte-order mark, CRLF, the header's case
// changed) is still read by the guard: the next run goes ahead, and a
// check number it holds that the ledger would issue again still refuses.
// A header with no check_number column refuses with what it found.
func TestChecksSavedBySpreadsheet(t *testing.T) {
	g := newGuard(t)
	dir := t.TempDir()
	db, out := filepath.Join(dir, "carepay.db"), filepath.Join(dir, "out")
	if r := g.demo(t, db, out); r.code != 0 {
		t.Fatalf("demo: %+v", r)
	}
	checks := filepath.Join(out, "20260410-001", "checks.csv")
	saved := func(number, header string) {
		t.Helper()
		rows := strings.Split(strings.TrimSpace(string(mustRead(t, checks))), "\n")
		rows[0] = header + rows[0][strings.Index(rows[0], ","):]
		rows[1] = number + rows[1][strings.Index(rows[1], ","):]
		if err := os.WriteFile(checks, []byte("\ufeff"+strings.Join(rows, "\r\n")+"\r\n,,,,,,,,,,,\r\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	empty := t.TempDir()
	next := func(asOf string) result {
		return g.run(t, nil, "run", "--config", "../../config.toml", "--db", db, "--out", out, "--inbox", empty, "--as-of", asOf)
	}
	saved("100001", "Check_Number ")
	if r := next("2026-04-11"); r.code != 0 || !strings.Contains(r.stdout, "nothing new to decide") {
		t.Fatalf("after the spreadsheet saved checks.csv: %+v", r)
	}
	if got := paidOf(t, db, out); got.payments != demoPaid.payments || got.total != demoPaid.total || strings.TrimSpace(got.checks) != "100001" {
		t.Errorf("paid %+v", got)
	}
	// The file is read, not skipped: check 100005 is above the ledger's
	// next check, 100002.
	saved("100005", "check_number")
	refused(t, "a check number the ledger would issue again", next("2026-04-12"), "refusing to run", "holds check 100005", "would number its next check 100002")
	saved("100001", "cheque_no")
	refused(t, "no check_number column", next("2026-04-12"), "no check_number column", `(the header is "cheque_no,issue_date,`, "may have been edited")
	if got := paidOf(t, db, out); got.payments != demoPaid.payments || got.total != demoPaid.total {
		t.Errorf("after the refusals %+v", got)
	}
}
