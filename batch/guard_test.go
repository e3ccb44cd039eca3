package batch

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"carepay/core"
	"carepay/ingest"
	"carepay/ledger"
)

func (s *memSink) List(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	for n := range s.files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// openLedger opens (creating) another ledger for a test.
func openLedger(t *testing.T, path string) *ledger.Ledger {
	t.Helper()
	key, err := ledger.ParseKey(testKey)
	if err != nil {
		t.Fatal(err)
	}
	lg, err := ledger.Open(context.Background(), path, key)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { lg.Close() })
	return lg
}

// runOn runs the fixture drop (or inbox) on lg into out, returning the
// error rather than failing.
func (e *env) runOn(lg *ledger.Ledger, out, inbox string, asOf core.Date, sinks ...Sink) (*Result, error) {
	return Run(context.Background(), lg, Options{
		AsOf: asOf, OutDir: out,
		Sources: []ingest.Source{&ingest.Folder{SourceName: "inbox", Dir: inbox, ReadOnly: true}},
		Plans:   e.cfg.Plans, Payout: PayoutOf(e.cfg.Payout, e.cfg.Limits, e.cfg.Returns, e.cfg.ACH), Sinks: sinks,
		Now: func() time.Time { return time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC) },
	})
}

// money is what a ledger paid: payments, lines on a payment, their sum.
type money struct {
	payments, paidLines, runs int
	total                     int64
}

func moneyOf(t *testing.T, lg *ledger.Ledger) money {
	t.Helper()
	var m money
	db := lg.DB()
	if err := db.QueryRow(`SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM payments`).Scan(&m.payments, &m.total); err != nil {
		t.Fatal(err)
	}
	db.QueryRow(`SELECT COUNT(*) FROM lines WHERE payment_id IS NOT NULL`).Scan(&m.paidLines)
	db.QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&m.runs)
	return m
}

func runFolders(t *testing.T, out string) []string {
	t.Helper()
	entries, _ := os.ReadDir(out)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// The fixture drop's first run pays 4,921.50 in 3 payments (one of them
// check 100001) carrying 41 lines.
var fixturePaid = money{payments: 3, paidLines: 41, runs: 1, total: 492150}

func TestRunFolderNamesItsLedger(t *testing.T) {
	e := newEnv(t)
	res := e.run("../fixtures/drop", fixtureDay)
	b, err := os.ReadFile(filepath.Join(res.OutDir, LedgerIDFile))
	if err != nil || string(b) != e.lg.ID()+"\n" {
		t.Errorf("ledger-id %q %v, ledger %s", b, err, e.lg.ID())
	}
	if got := moneyOf(t, e.lg); got != fixturePaid {
		t.Errorf("paid %+v, want %+v", got, fixturePaid)
	}
}

// TestAnotherLedgerRefuses: a new ledger (the old one deleted, or --db
// pointing elsewhere) with the out/ of the ledger that paid refuses, and
// writes, decides and pays nothing.
func TestAnotherLedgerRefuses(t *testing.T) {
	e := newEnv(t)
	out := filepath.Join(e.dir, "out")
	e.run("../fixtures/drop", fixtureDay)
	before := runFolders(t, out)
	fresh := openLedger(t, filepath.Join(t.TempDir(), "fresh.db"))
	_, err := e.runOn(fresh, out, "../fixtures/drop", fixtureDay)
	if !errors.Is(err, ErrNotThisLedger) || !strings.Contains(err.Error(), "run 20260410-001") || !strings.Contains(err.Error(), e.lg.ID()) {
		t.Fatalf("a new ledger ran on the old out/: %v", err)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("more than one line: %q", err)
	}
	if got := moneyOf(t, fresh); got != (money{}) {
		t.Errorf("the new ledger recorded %+v", got)
	}
	if after := runFolders(t, out); strings.Join(after, " ") != strings.Join(before, " ") {
		t.Errorf("out/ was %v, now %v", before, after)
	}
}

// TestOlderCopyRefuses: a ledger restored from a copy taken before its
// last run does not know that run's folder.
func TestOlderCopyRefuses(t *testing.T) {
	e := newSQLiteEnv(t) // a copy of the file
	out := filepath.Join(e.dir, "out")
	e.run("../fixtures/drop", fixtureDay)
	copyPath := filepath.Join(t.TempDir(), "copy.db")
	if _, err := e.lg.DB().Exec(`VACUUM INTO ?`, copyPath); err != nil {
		t.Fatal(err)
	}
	if err := e.lg.Approve(context.Background(), []string{"ST-P02-2026-03"}, "ops", fixtureDay.Time()); err != nil {
		t.Fatal(err)
	}
	second, err := e.runOn(e.lg, out, t.TempDir(), fixtureDay.AddDays(3))
	if err != nil {
		t.Fatal(err)
	}
	paid := moneyOf(t, e.lg)
	older := openLedger(t, copyPath)
	if older.ID() != e.lg.ID() {
		t.Fatal("the copy has another identity")
	}
	_, err = e.runOn(older, out, t.TempDir(), fixtureDay.AddDays(3))
	if !errors.Is(err, ErrNotThisLedger) || !strings.Contains(err.Error(), "run "+second.RunID) || !strings.Contains(err.Error(), "does not know") {
		t.Fatalf("an older copy ran: %v", err)
	}
	if got := moneyOf(t, older); got != fixturePaid {
		t.Errorf("the older copy now holds %+v", got)
	}
	if paid.payments <= fixturePaid.payments {
		t.Errorf("the second run paid nothing: %+v", paid)
	}
}

// TestCheckNumberReissueRefused: a check sequence behind a checks.csv
// under out/ would issue a number again.
func TestCheckNumberReissueRefused(t *testing.T) {
	e := newEnv(t)
	out := filepath.Join(e.dir, "out")
	e.run("../fixtures/drop", fixtureDay)
	if _, err := e.lg.DB().Exec(`UPDATE counters SET value = value - 1 WHERE name = 'check_number'`); err != nil {
		t.Fatal(err)
	}
	_, err := e.runOn(e.lg, out, "../fixtures/drop", fixtureDay)
	if !errors.Is(err, ErrNotThisLedger) || !strings.Contains(err.Error(), "holds check 100001") || !strings.Contains(err.Error(), "next check 100001") {
		t.Fatalf("ran with a check sequence behind out/: %v", err)
	}
	if got := moneyOf(t, e.lg); got != fixturePaid {
		t.Errorf("paid %+v", got)
	}
}

// TestDeliveryTargetOfAnotherLedger: payroll's folder holds files of a
// run this ledger does not know, even with a new out/.
func TestDeliveryTargetOfAnotherLedger(t *testing.T) {
	e := newEnv(t)
	sink := &memSink{files: map[string][]byte{}}
	if _, err := e.runOn(e.lg, filepath.Join(e.dir, "out"), "../fixtures/drop", fixtureDay, sink); err != nil {
		t.Fatal(err)
	}
	// The ledger that delivered runs again: its deliveries are its own.
	if _, err := e.runOn(e.lg, filepath.Join(e.dir, "out"), "../fixtures/drop", fixtureDay, sink); err != nil {
		t.Fatalf("the ledger that delivered: %v", err)
	}
	fresh := openLedger(t, filepath.Join(t.TempDir(), "fresh.db"))
	newOut := filepath.Join(t.TempDir(), "out")
	puts := sink.puts
	_, err := e.runOn(fresh, newOut, "../fixtures/drop", fixtureDay, sink)
	if !errors.Is(err, ErrNotThisLedger) || !strings.Contains(err.Error(), "delivery target payroll holds the payment files of run 20260410-001") {
		t.Fatalf("a new ledger ran against payroll's folder: %v", err)
	}
	if sink.puts != puts || moneyOf(t, fresh) != (money{}) || len(runFolders(t, newOut)) != 0 {
		t.Errorf("refused run: %d uploads, %+v, out %v", sink.puts-puts, moneyOf(t, fresh), runFolders(t, newOut))
	}
}

// TestFolderOfAnUncommittedRun: a run killed before its commit leaves
// only temporary files; they are no one's, and a run goes ahead.
func TestFolderOfAnUncommittedRun(t *testing.T) {
	e := newEnv(t)
	out := filepath.Join(e.dir, "out")
	dir := filepath.Join(out, "20260410-001")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, ".decisions.csv.tmp-123"), []byte("half"), 0o644)
	os.WriteFile(filepath.Join(out, "notes.txt"), []byte("not a run"), 0o644)
	os.MkdirAll(filepath.Join(out, "archive"), 0o755)
	res := e.run("../fixtures/drop", fixtureDay)
	if res.RunID != "20260410-001" {
		t.Errorf("run %s", res.RunID)
	}
	if _, err := os.Stat(filepath.Join(dir, ".decisions.csv.tmp-123")); !os.IsNotExist(err) {
		t.Errorf("the stale temporary file is still there: %v", err)
	}
	if got := moneyOf(t, e.lg); got != fixturePaid {
		t.Errorf("paid %+v", got)
	}
}

// TestOutFolderOfAnOlderCarepay: run folders written before folders were
// marked are accepted when the ledger knows their runs, refused when not.
func TestOutFolderOfAnOlderCarepay(t *testing.T) {
	e := newEnv(t)
	out := filepath.Join(e.dir, "out")
	res := e.run("../fixtures/drop", fixtureDay)
	if err := os.Remove(filepath.Join(res.OutDir, LedgerIDFile)); err != nil {
		t.Fatal(err)
	}
	if _, err := e.runOn(e.lg, out, "../fixtures/drop", fixtureDay); err != nil {
		t.Fatalf("an unmarked folder of a known run: %v", err)
	}
	fresh := openLedger(t, filepath.Join(t.TempDir(), "fresh.db"))
	if _, err := e.runOn(fresh, out, "../fixtures/drop", fixtureDay); !errors.Is(err, ErrNotThisLedger) {
		t.Fatalf("a new ledger ran on out/: %v", err)
	}
}

// TestRunDateNeverGoesBack: a run date before the last run's, or outside
// 2000-2099, is refused before anything is read.
func TestRunDateNeverGoesBack(t *testing.T) {
	e := newEnv(t)
	out := filepath.Join(e.dir, "out")
	e.run("../fixtures/drop", fixtureDay)
	for _, d := range []core.Date{fixtureDay.AddDays(-1), core.NewDate(1999, 12, 31), core.NewDate(2100, 1, 1)} {
		src := &countingSource{Folder: ingest.Folder{SourceName: "inbox", Dir: "../fixtures/drop", ReadOnly: true}}
		_, err := Run(context.Background(), e.lg, Options{AsOf: d, OutDir: out, Sources: []ingest.Source{src},
			Plans: e.cfg.Plans, Payout: PayoutOf(e.cfg.Payout, e.cfg.Limits, e.cfg.Returns, e.cfg.ACH)})
		if !errors.Is(err, ledger.ErrRunDate) {
			t.Errorf("%s: %v", d, err)
		}
		if src.calls != 0 {
			t.Errorf("%s: the source was read %d times", d, src.calls)
		}
	}
	if got := moneyOf(t, e.lg); got != fixturePaid {
		t.Errorf("paid %+v", got)
	}
}

// countingSource counts the calls that read a source.
type countingSource struct {
	ingest.Folder
	calls int
}

func (s *countingSource) List(ctx context.Context) ([]string, error) {
	s.calls++
	return s.Folder.List(ctx)
}

func (s *countingSource) Fetch(ctx context.Context, name string, w io.Writer) error {
	s.calls++
	return s.Folder.Fetch(ctx, name, w)
}
