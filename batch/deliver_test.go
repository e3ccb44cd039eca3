package batch

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"testing"
	"time"

	"carepay/ingest"
	"carepay/internal/ledgertest"
	"carepay/ledger"
	"carepay/payout"
)

// memSink is payroll's folder in memory; puts counts every upload.
type memSink struct {
	mu    sync.Mutex
	files map[string][]byte
	puts  int
}

func (s *memSink) Name() string { return "payroll" }

func (s *memSink) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.files[name] = b
	s.puts++
	return nil
}

func (s *memSink) Exists(ctx context.Context, name string) (bool, int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.files[name]
	return ok, int64(len(b)), nil
}

type memMailer struct {
	mu   sync.Mutex
	sent []string
}

func (m *memMailer) SendLetter(ctx context.Context, to, subject, body, filename string, pdf []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !bytes.HasPrefix(pdf, []byte("%PDF-")) {
		return io.ErrUnexpectedEOF
	}
	m.sent = append(m.sent, to+" "+filename)
	return nil
}

func (e *env) runWith(inbox string, opt Options) *Result {
	e.t.Helper()
	opt.AsOf, opt.OutDir = fixtureDay, filepath.Join(e.dir, "out")
	opt.Sources = []ingest.Source{&ingest.Folder{SourceName: "inbox", Dir: inbox, ReadOnly: true}}
	opt.Plans, opt.Payout = e.cfg.Plans, PayoutOf(e.cfg.Payout, e.cfg.Limits, e.cfg.Returns, e.cfg.ACH)
	opt.Now = func() time.Time { return time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC) }
	res, err := Run(context.Background(), e.lg, opt)
	if err != nil {
		e.t.Fatal(err)
	}
	return res
}

func TestDeliveryAndEmailLettersHappenOnce(t *testing.T) {
	e := newEnv(t)
	sink := &memSink{files: map[string][]byte{}}
	mailer := &memMailer{}
	opt := Options{Sinks: []Sink{sink}, Mailer: mailer, EmailLetter: func(kind, plan string) bool { return kind == "employee" }}
	res := e.runWith("../fixtures/drop", opt)
	var names []string
	for n := range sink.files {
		names = append(names, n)
	}
	sort.Strings(names)
	// No one is paid through payroll in this run: no payroll.csv.
	want := []string{"20260410-001-checks.csv", "20260410-001-payments.ach", "20260410-001-positive-pay.csv"}
	if len(names) != len(want) {
		t.Fatalf("delivered %v", names)
	}
	for i := range want {
		if names[i] != want[i] {
			t.Fatalf("delivered %v, want %v", names, want)
		}
	}
	ach, _ := os.ReadFile(filepath.Join(res.OutDir, "payments.ach"))
	if !bytes.Equal(sink.files["20260410-001-payments.ach"], ach) {
		t.Error("the delivered NACHA file differs from out/")
	}
	// Employees with an email address in the roster: E100, E101, E200,
	// E201, E301, E304; their letters leave the print batch.
	if len(mailer.sent) != 6 {
		t.Errorf("emailed %d letters: %v", len(mailer.sent), mailer.sent)
	}
	if !bytes.Contains([]byte(res.Summary), []byte("6 by email")) {
		t.Errorf("summary: %s", res.Summary)
	}
	// The run's outputs written again (as after a crash): nothing is sent
	// twice.
	puts := sink.puts
	if err := e.lg.MarkPending(context.Background(), res.RunID); err != nil {
		t.Fatal(err)
	}
	e.runWith("../fixtures/drop", opt)
	if sink.puts != puts || len(mailer.sent) != 6 {
		t.Errorf("after completing the run again: %d uploads (was %d), %d emails", sink.puts, puts, len(mailer.sent))
	}
}

// TestDeliveryInterruptedAfterUpload: the file reached payroll but the
// ledger did not record it; the next attempt finds it and does not upload
// it again.
func TestDeliveryInterruptedAfterUpload(t *testing.T) {
	e := newEnv(t)
	res := e.runWith("../fixtures/drop", Options{})
	sink := &memSink{files: map[string][]byte{}}
	for _, name := range paymentFiles {
		b, err := os.ReadFile(filepath.Join(res.OutDir, name))
		if err == nil {
			sink.files[res.RunID+"-"+name] = b
		}
	}
	if err := deliver(context.Background(), e.lg, res.RunID, res.OutDir, []Sink{sink}); err != nil {
		t.Fatal(err)
	}
	if sink.puts != 0 {
		t.Errorf("%d files uploaded again", sink.puts)
	}
	for _, name := range []string{"payments.ach", "checks.csv", "positive-pay.csv"} {
		if done, _ := e.lg.Delivered(context.Background(), res.RunID, "payroll", res.RunID+"-"+name); !done {
			t.Errorf("%s not recorded as delivered", name)
		}
	}
}

// TestPullThenPay decides without paying, then a paying run pays what the
// first decided.
func TestPullThenPay(t *testing.T) {
	e := newEnv(t)
	pull := e.runWith("../fixtures/drop", Options{NoPayments: true, Job: "pull"})
	if p, _ := e.lg.Payments(context.Background(), pull.RunID); len(p) != 0 {
		t.Fatalf("a pull run made %d payments", len(p))
	}
	pay := e.runWith("../fixtures/drop", Options{Job: "pay"})
	p, err := e.lg.Payments(context.Background(), pay.RunID)
	if err != nil {
		t.Fatal(err)
	}
	var total int64
	for _, x := range p {
		total += int64(x.Amount)
	}
	// What the fixture run pays at once: 240.00 + 3,321.50 + 1,360.00.
	if total != 492150 {
		t.Errorf("the paying run paid %d cents, want 492150", total)
	}
	if last, err := e.lg.LastRun(context.Background(), "pull"); err != nil || last.IsZero() {
		t.Errorf("last pull run: %v %v", last, err)
	}
}

// TestNothingLeavesWhenTheRunLockGoes: a process whose run lock went (its
// PostgreSQL connection cut, or on SQLite the lock taken over) sends no
// payment file and emails no letter, since the process that holds the lock
// now completes the run's outputs: nothing reaches the bank twice.
func TestNothingLeavesWhenTheRunLockGoes(t *testing.T) {
	e := newEnv(t)
	res := e.runWith("../fixtures/drop", Options{})
	ctx, release, err := e.lg.LockContext(context.Background(), "a run whose lock goes")
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	ledgertest.StealRunLock(t, e.db)

	sink := &memSink{files: map[string][]byte{}}
	if err := deliver(ctx, e.lg, res.RunID, res.OutDir, []Sink{sink}); !errors.Is(err, ledger.ErrLockLost) {
		t.Fatalf("delivering after the lock went: %v, want ErrLockLost", err)
	}
	if sink.puts != 0 {
		t.Errorf("%d files uploaded after the lock went", sink.puts)
	}
	if done, err := e.lg.Delivered(context.Background(), res.RunID, "payroll", res.RunID+"-payments.ach"); err != nil || done {
		t.Errorf("payments.ach recorded as delivered: %v %v", done, err)
	}
	mailer := &memMailer{}
	letter := &payout.Letter{Kind: "employee", ID: "E100", Name: "Dana Reyes", Email: "dana@example.com"}
	if err := mailLetter(ctx, e.lg, mailer, res.RunID, letter, "E100.pdf", []byte("%PDF-1.7")); !errors.Is(err, ledger.ErrLockLost) {
		t.Fatalf("emailing after the lock went: %v, want ErrLockLost", err)
	}
	if len(mailer.sent) != 0 {
		t.Errorf("emailed after the lock went: %v", mailer.sent)
	}
}
