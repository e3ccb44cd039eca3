package batch

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"carepay/ingest"
	"carepay/sshclient/sshtest"
)

// rested sets a dropped file's time a minute back: a drop that has rested
// longer than the folder source's stable_wait.
func rested(t *testing.T, p string) {
	t.Helper()
	then := time.Now().Add(-time.Minute)
	if err := os.Chtimes(p, then, then); err != nil {
		t.Fatal(err)
	}
}

const invoiceHeader = "invoice_id,employee_id,dependent_id,provider_id,care_type,service_date,amount_charged,employee_signed_on,provider_signed_on,received_on,hours,payee\n"

// invoiceRow is the i-th data row of a growing invoice file: one invoice
// per row, so that every row is decided on its own.
func invoiceRow(i int) string {
	return fmt.Sprintf("INV-9%04d,E301,D3012,P01,adult_care,2026-03-09,90.00,2026-03-09,2026-03-09,2026-03-12,,\n", i)
}

// dropPlace is where a test drops files: a local folder, or the inbox of
// an in-process SFTP server. inbox, archive and held name the files on
// the local disk either way.
type dropPlace struct {
	kind    string
	dir     string // the inbox on the local disk
	archive string // the archive on the local disk
	source  func() ingest.Source
}

// stableWait is the sources' stable_wait in these tests.
const stableWait = 30 * time.Millisecond

func folderPlace(t *testing.T, e *env, stableWait time.Duration) *dropPlace {
	inbox, archive := filepath.Join(e.dir, "inbox"), filepath.Join(e.dir, "archive")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	return &dropPlace{kind: "folder", dir: inbox, archive: archive, source: func() ingest.Source {
		return &ingest.Folder{SourceName: "ops", Dir: inbox, ArchiveDir: archive, ReportsDir: filepath.Join(e.dir, "reports"),
			Stable: ingest.StableSize, StableWait: stableWait}
	}}
}

func sftpPlace(t *testing.T, e *env, stableWait time.Duration) *dropPlace {
	srv := sshtest.Start(t, sshtest.Options{})
	if err := os.MkdirAll(srv.Path("inbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	return &dropPlace{kind: "sftp", dir: srv.Path("inbox"), archive: srv.Path("archive"), source: func() ingest.Source {
		s, err := ingest.NewSFTP(ingest.SFTPOptions{Name: "ops", Options: srv.ClientOptions(), Dir: "inbox",
			ArchiveDir: "archive", ReportsDir: "reports", StableWait: stableWait})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	}}
}

var places = []struct {
	name string
	make func(*testing.T, *env, time.Duration) *dropPlace
}{{"folder", folderPlace}, {"sftp", sftpPlace}}

// runWith runs once with the given sources.
func (e *env) runSources(srcs ...ingest.Source) (*Result, error) {
	return Run(context.Background(), e.lg, Options{AsOf: fixtureDay, OutDir: filepath.Join(e.dir, "out"),
		Sources: srcs, Plans: e.cfg.Plans, Payout: PayoutOf(e.cfg.Payout, e.cfg.Limits, e.cfg.Returns, e.cfg.ACH)})
}

// decidedRows counts, over every run's decisions.csv, the decisions of
// each row of file.
func decidedRows(t *testing.T, e *env, file string) map[string]int {
	t.Helper()
	got := map[string]int{}
	runs, _ := filepath.Glob(filepath.Join(e.dir, "out", "*", "decisions.csv"))
	for _, p := range runs {
		for _, r := range readDecisions(t, p) {
			if r["source"] == file {
				got[r["row"]]++
			}
		}
	}
	return got
}

// wantEachRowOnce fails unless rows 2 to n+1 of file (a header, then n
// rows) were each decided exactly once, over all runs.
func wantEachRowOnce(t *testing.T, e *env, file string, n int) {
	t.Helper()
	got := decidedRows(t, e, file)
	var bad []string
	for row := 2; row <= n+1; row++ {
		if c := got[strconv.Itoa(row)]; c != 1 {
			bad = append(bad, fmt.Sprintf("row %d decided %d times", row, c))
		}
	}
	if len(got) != n {
		bad = append(bad, fmt.Sprintf("%d rows decided, want %d", len(got), n))
	}
	if len(bad) > 0 {
		t.Errorf("%s: %s", file, strings.Join(bad, "; "))
	}
}

// hookSource runs a hook at each step of the source it wraps, as a
// writer that is not done with a file would strike.
type hookSource struct {
	ingest.Source
	whileFetching func(name string) // once the first bytes are read
	beforeVerify  func(name string)
	beforeAck     func(name string)
	beforeArchive func(name string)
	verifyErr     error // Verify fails with it: a run that fails before its commit
}

func (h *hookSource) Fetch(ctx context.Context, name string, w io.Writer) error {
	if h.whileFetching != nil {
		w = &hookWriter{w: w, hook: func() { h.whileFetching(name) }}
	}
	return h.Source.Fetch(ctx, name, w)
}

func (h *hookSource) Verify(ctx context.Context, name, sha string) error {
	if h.beforeVerify != nil {
		h.beforeVerify(name)
	}
	if h.verifyErr != nil {
		return h.verifyErr
	}
	return h.Source.Verify(ctx, name, sha)
}

func (h *hookSource) Ack(ctx context.Context, name string, report []byte) error {
	if h.beforeAck != nil {
		h.beforeAck(name)
	}
	return h.Source.Ack(ctx, name, report)
}

func (h *hookSource) Archive(ctx context.Context, name, sha string) error {
	if h.beforeArchive != nil {
		h.beforeArchive(name)
	}
	return h.Source.Archive(ctx, name, sha)
}

type hookWriter struct {
	w    io.Writer
	hook func()
	done bool
}

func (h *hookWriter) Write(p []byte) (int, error) {
	n, err := h.w.Write(p)
	if !h.done {
		h.done = true
		h.hook()
	}
	return n, err
}

// appendRows appends data rows from..to-1 to the file at p, as a writer
// that reopens the file for each chunk does.
func appendRows(t *testing.T, p string, from, to int) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_APPEND, 0)
	if err != nil {
		t.Error(err)
		return
	}
	defer f.Close()
	for i := from; i < to; i++ {
		if _, err := f.WriteString(invoiceRow(i)); err != nil {
			t.Error(err)
		}
	}
}

// dropInvoices writes a header and data rows 0..n-1 as name in dir,
// rested.
func dropInvoices(t *testing.T, dir, name string, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString(invoiceHeader)
	for i := range n {
		b.WriteString(invoiceRow(i))
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	rested(t, p)
	return p
}

// wantArchived fails unless the archive holds exactly the file's n rows.
func wantArchived(t *testing.T, pl *dropPlace, name string, n int) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(pl.archive, name))
	if err != nil {
		t.Fatalf("not archived: %v", err)
	}
	if got := strings.Count(string(b), "\n") - 1; got != n {
		t.Errorf("the archive holds %d rows of %s, want %d", got, name, n)
	}
	if _, err := os.Stat(filepath.Join(pl.dir, name)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("%s is still in the inbox: %v", name, err)
	}
}

// TestFileGrowingWhileReadIsLeftForTheNextRun: a file passes the stable
// rule, then its writer appends while carepay reads it. Nothing of it is
// decided in that run and it stays in the drop; the next run takes it
// whole.
func TestFileGrowingWhileReadIsLeftForTheNextRun(t *testing.T) {
	for _, pl := range places {
		t.Run(pl.name, func(t *testing.T) {
			e := newEnv(t)
			place := pl.make(t, e, stableWait)
			p := dropInvoices(t, place.dir, "30-invoices.csv", 5)
			src := &hookSource{Source: place.source(), whileFetching: func(string) { appendRows(t, p, 5, 9) }}
			res, err := e.runSources(src)
			if err != nil {
				t.Fatal(err)
			}
			if got := decidedRows(t, e, "30-invoices.csv"); len(got) != 0 {
				t.Errorf("rows decided from a file that changed while read: %v", got)
			}
			if res.Report != nil && len(res.Report.Files.Taken) != 0 {
				t.Errorf("files taken: %q", res.Report.Files.Taken)
			}
			if _, err := os.Stat(p); err != nil {
				t.Fatalf("the file left the drop: %v", err)
			}
			if _, err := e.runSources(place.source()); err != nil {
				t.Fatal(err)
			}
			wantEachRowOnce(t, e, "30-invoices.csv", 9)
			wantArchived(t, place, "30-invoices.csv", 9)
		})
	}
}

// TestWaitingFilesAreInTheSummary: every source leaves a file that may
// still be being written for a later run the same way, and says so where
// the operator looks without -v: the printed summary and run.json. The
// --inbox folder (read in place) waits for a fresh file like a configured
// folder; an SFTP source waits for a marker; a file that changes while
// read waits too.
func TestWaitingFilesAreInTheSummary(t *testing.T) {
	e := newEnv(t)
	inbox := filepath.Join(e.dir, "cli-inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	dropInvoices(t, inbox, "30-rested.csv", 2)
	fresh := filepath.Join(inbox, "31-fresh.csv")
	if err := os.WriteFile(fresh, []byte(invoiceHeader+invoiceRow(7)), 0o644); err != nil {
		t.Fatal(err)
	}
	srv := sshtest.Start(t, sshtest.Options{})
	if err := os.MkdirAll(srv.Path("inbox"), 0o755); err != nil {
		t.Fatal(err)
	}
	dropInvoices(t, srv.Path("inbox"), "40-no-marker.csv", 2)
	sftpSrc, err := ingest.NewSFTP(ingest.SFTPOptions{Name: "partner", Options: srv.ClientOptions(), Dir: "inbox", Stable: ingest.StableDone})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sftpSrc.Close() })
	ops := folderPlace(t, e, stableWait)
	growing := dropInvoices(t, ops.dir, "50-growing.csv", 2)
	opsSrc := &hookSource{Source: ops.source(), whileFetching: func(string) { appendRows(t, growing, 2, 3) }}

	res, err := e.runSources(&ingest.Folder{SourceName: "cli", Dir: inbox, ReadOnly: true}, sftpSrc, opsSrc)
	if err != nil {
		t.Fatal(err)
	}
	sum := readSummary(t, res)
	if want := []string{"30-rested.csv"}; !reflect.DeepEqual(sum.Files.Taken, want) {
		t.Errorf("taken %q, want %q", sum.Files.Taken, want)
	}
	var got []string
	for _, w := range sum.Waiting {
		got = append(got, w.Source+" "+w.Name)
	}
	if want := []string{"cli 31-fresh.csv", "partner 40-no-marker.csv", "ops 50-growing.csv"}; !reflect.DeepEqual(got, want) {
		t.Errorf("run.json waiting %q, want %q", got, want)
	}
	for _, want := range []string{
		"waiting: 31-fresh.csv: modified ",
		"less than the 5s a file must rest; left for a later run\n",
		"waiting: 40-no-marker.csv: no 40-no-marker.csv.done marker yet; left for a later run\n",
		"waiting: 50-growing.csv: changed while being read; left for a later run\n",
	} {
		if !strings.Contains(res.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, res.Summary)
		}
	}
}

// TestFileChangedBeforeCommitCommitsNothing: the file changes after the
// run read it, before the commit. The run fails and commits nothing
// (no decisions, no acknowledgement, no reply, nothing archived); the
// next run takes the whole file.
func TestFileChangedBeforeCommitCommitsNothing(t *testing.T) {
	for _, pl := range places {
		t.Run(pl.name, func(t *testing.T) {
			e := newEnv(t)
			place := pl.make(t, e, stableWait)
			p := dropInvoices(t, place.dir, "30-invoices.csv", 5)
			var after []string
			src := &hookSource{Source: place.source(),
				beforeVerify:  func(string) { appendRows(t, p, 5, 7) },
				beforeAck:     func(n string) { after = append(after, "ack "+n) },
				beforeArchive: func(n string) { after = append(after, "archive "+n) },
			}
			_, err := e.runSources(src)
			if !errors.Is(err, ingest.ErrChanged) || !strings.Contains(err.Error(), "30-invoices.csv changed after this run read it") {
				t.Fatalf("run: %v, want it refused for the changed file", err)
			}
			t.Logf("the run said: %v", err)
			if len(after) > 0 {
				t.Errorf("after a failed commit: %q", after)
			}
			if runs, err := e.lg.PendingRuns(context.Background()); err != nil || len(runs) != 0 {
				t.Errorf("runs committed: %v %v", runs, err)
			}
			if _, err := e.runSources(place.source()); err != nil {
				t.Fatal(err)
			}
			wantEachRowOnce(t, e, "30-invoices.csv", 7)
			wantArchived(t, place, "30-invoices.csv", 7)
		})
	}
}

// TestFileChangedAfterCommitIsHeldNotArchived: the file changes after the
// commit, before it is archived. Its first rows are decided; archiving it
// would lose the new rows, taking it again would decide the first rows
// twice. It is held as NAME.changed in the drop, the acknowledgement says
// why, and no later run takes it.
func TestFileChangedAfterCommitIsHeldNotArchived(t *testing.T) {
	for _, pl := range places {
		t.Run(pl.name, func(t *testing.T) {
			e := newEnv(t)
			place := pl.make(t, e, stableWait)
			p := dropInvoices(t, place.dir, "30-invoices.csv", 5)
			once := false
			src := &hookSource{Source: place.source(), beforeAck: func(string) {
				if !once {
					once = true
					appendRows(t, p, 5, 8)
				}
			}}
			res, err := e.runSources(src)
			if err != nil {
				t.Fatal(err)
			}
			held := filepath.Join(place.dir, "30-invoices.csv"+ingest.ChangedSuffix)
			b, err := os.ReadFile(held)
			if err != nil {
				t.Fatalf("not held: %v", err)
			}
			if got := strings.Count(string(b), "\n") - 1; got != 8 {
				t.Errorf("the held file has %d rows, want all 8", got)
			}
			if _, err := os.Stat(filepath.Join(place.archive, "30-invoices.csv")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("archived after it changed: %v", err)
			}
			ack, err := os.ReadFile(filepath.Join(res.OutDir, "acks", "30-invoices.csv.ack.txt"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{"warning: 30-invoices.csv changed after run " + res.RunID + " read it", "renamed 30-invoices.csv.changed"} {
				if !strings.Contains(string(ack), want) {
					t.Errorf("the acknowledgement does not say %q:\n%s", want, ack)
				}
			}
			if _, err := e.runSources(place.source()); err != nil {
				t.Fatal(err)
			}
			wantEachRowOnce(t, e, "30-invoices.csv", 5)
			if got := decidedRows(t, e, "30-invoices.csv"+ingest.ChangedSuffix); len(got) != 0 {
				t.Errorf("the held file was taken: %v", got)
			}
		})
	}
}

// TestAppendingWriterNeverLosesOrDoublesARow: a writer goroutine keeps
// appending rows to a file while runs list, read and archive. Whatever
// the timing, each row is decided at most once, and every row is decided
// or kept in a held file for the operator.
func TestAppendingWriterNeverLosesOrDoublesARow(t *testing.T) {
	for _, pl := range places {
		t.Run(pl.name, func(t *testing.T) {
			e := newEnv(t)
			// The writer pauses 2ms between appends; a pause longer than
			// stable_wait would let a run take the file as complete.
			place := pl.make(t, e, 250*time.Millisecond)
			const rows = 400
			p := filepath.Join(place.dir, "30-invoices.csv")
			if err := os.WriteFile(p, []byte(invoiceHeader), 0o644); err != nil {
				t.Fatal(err)
			}
			var wg sync.WaitGroup
			done := make(chan struct{})
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer close(done)
				for i := 0; i < rows; i += 4 {
					appendRows(t, p, i, i+4)
					time.Sleep(2 * time.Millisecond)
				}
			}()
			src := place.source()
			runs, refused := 0, 0
			for writing := true; writing; runs++ {
				select {
				case <-done:
					writing = false
				default:
				}
				if _, err := e.runSources(src); errors.Is(err, ingest.ErrChanged) {
					refused++
				} else if err != nil {
					t.Fatal(err)
				}
			}
			wg.Wait()
			if _, err := e.runSources(src); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d runs while writing, %d refused at the commit", runs, refused)
			held, _ := filepath.Glob(filepath.Join(place.dir, "*"+ingest.ChangedSuffix))
			got := decidedRows(t, e, "30-invoices.csv")
			for row, c := range got {
				if c != 1 {
					t.Errorf("row %s decided %d times", row, c)
				}
			}
			if len(held) == 0 {
				wantEachRowOnce(t, e, "30-invoices.csv", rows)
				wantArchived(t, place, "30-invoices.csv", rows)
				return
			}
			// Held for the operator: the rows not decided are in it.
			b, _ := os.ReadFile(held[0])
			if got := strings.Count(string(b), "\n") - 1; got != rows {
				t.Errorf("held file %s has %d rows, want %d", held[0], got, rows)
			}
		})
	}
}

// TestAcknowledgedOnlyAfterCommit: a source hears Ack and Archive (the
// IMAP source sends its reply in Archive) only once the ledger committed
// the file.
func TestAcknowledgedOnlyAfterCommit(t *testing.T) {
	e := newEnv(t)
	place := folderPlace(t, e, stableWait)
	dropInvoices(t, place.dir, "30-invoices.csv", 3)
	var steps []string
	check := func(step string) func(string) {
		return func(name string) {
			ctx := context.Background()
			pending, err := e.lg.PendingRuns(ctx)
			if err != nil || len(pending) != 1 {
				steps = append(steps, fmt.Sprintf("%s %s: committed runs %v %v", step, name, pending, err))
				return
			}
			files, err := e.lg.RunFiles(ctx, pending[0].ID)
			if err != nil || len(files) != 1 || files[0].Name != name {
				steps = append(steps, fmt.Sprintf("%s %s: committed files %v %v", step, name, files, err))
				return
			}
			steps = append(steps, step+" after commit")
		}
	}
	src := &hookSource{Source: place.source(), beforeAck: check("ack"), beforeArchive: check("archive")}
	if _, err := e.runSources(src); err != nil {
		t.Fatal(err)
	}
	if want := []string{"ack after commit", "archive after commit"}; strings.Join(steps, "|") != strings.Join(want, "|") {
		t.Errorf("steps %q, want %q", steps, want)
	}
}
