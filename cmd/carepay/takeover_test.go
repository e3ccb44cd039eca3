package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"carepay/config"
	"carepay/core"
	"carepay/internal/ledgertest"
	"carepay/ledger"
)

// TestServeTakeoverOnPostgres: two `carepay serve` processes (two hosts
// in production) share one PostgreSQL ledger and a drop folder, with a
// paying job every second. One of them takes the job; it is killed with
// SIGKILL in the middle of its run; the other takes the job over at its
// next tick (the database let go of the dead process's lock with its
// connection) and finishes the work. The ledger and out/ must then pass
// the kill test's checks (every line decided once, every payable line
// paid exactly once, payments matching their lines and NACHA files, every
// run written) and come to what one uninterrupted run decides and pays.
// It is killed once while deciding (before the commit) and once while it
// writes the outputs of the run it committed.
func TestServeTakeoverOnPostgres(t *testing.T) {
	for _, when := range []string{"deciding", "writing outputs"} {
		t.Run(strings.ReplaceAll(when, " ", "_"), func(t *testing.T) { takeover(t, when) })
	}
}

func takeover(t *testing.T, when string) {
	dsn := ledgertest.Postgres(t)
	lines := 20000
	if testing.Short() {
		lines = 3000
	}
	tmp := t.TempDir()
	bin := killBuild(t, tmp, "carepay", ".")
	gen := killBuild(t, tmp, "gendrop", "../gendrop")
	ref := filepath.Join(tmp, "reference-drop")
	if out, err := exec.Command(gen, "-lines", strconv.Itoa(lines), "-out", ref, "-seed", "11").CombinedOutput(); err != nil {
		t.Fatalf("gendrop: %v\n%s", err, out)
	}
	generated := killServiceRows(t, ref)
	inbox := filepath.Join(tmp, "inbox")
	if err := os.MkdirAll(inbox, 0o755); err != nil {
		t.Fatal(err)
	}
	files, err := os.ReadDir(ref)
	if err != nil {
		t.Fatal(err)
	}
	then := time.Now().Add(-time.Minute) // rested longer than stable_wait
	for _, f := range files {
		for _, dir := range []string{ref, inbox} {
			if dir == inbox {
				b, err := os.ReadFile(filepath.Join(ref, f.Name()))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(inbox, f.Name()), b, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			if err := os.Chtimes(filepath.Join(dir, f.Name()), then, then); err != nil {
				t.Fatal(err)
			}
		}
	}
	cfgPath := serveConfig(t, tmp, inbox, "[[serve.jobs]]\nname = \"pay\"\nschedule = \"@every 1s\"\npay = true\n")
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CAREPAY_LEDGER_KEY=") {
			env = append(env, kv)
		}
	}

	// What one uninterrupted run of the same day decides and pays, in a
	// SQLite ledger of its own.
	asOf := core.DateOf(time.Now().In(cfg.Location())).String()
	refDB := filepath.Join(tmp, "reference.db")
	start := time.Now()
	refRun := exec.Command(bin, "run", "--config", cfgPath, "--db", refDB, "--out", filepath.Join(tmp, "reference-out"), "--inbox", ref, "--as-of", asOf)
	refRun.Env = env
	if out, err := refRun.CombinedOutput(); err != nil {
		t.Fatalf("uninterrupted run: %v\n%s", err, out)
	}
	whole := time.Since(start)
	t.Logf("%d service lines; an uninterrupted run takes %s", generated, whole.Round(time.Millisecond))

	daemons := map[int]*takeoverDaemon{}
	for i := range 2 {
		d := &takeoverDaemon{cmd: exec.Command(bin, "serve", "--config", cfgPath, "--db", dsn)}
		d.cmd.Env = env
		d.cmd.Stdout, d.cmd.Stderr = &d.out, &d.out
		if err := d.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		d.done = make(chan struct{})
		go func() { d.cmd.Wait(); close(d.done) }()
		daemons[d.cmd.Process.Pid] = d
		t.Cleanup(func() {
			d.cmd.Process.Kill()
			<-d.done
			if t.Failed() {
				t.Logf("daemon %d (%d) said:\n%s", i+1, d.cmd.Process.Pid, d.out.String())
			}
		})
	}

	// The holder of the run lock, once one daemon has begun the job (and
	// made the ledger).
	for wait := time.Now().Add(time.Minute); ; time.Sleep(10 * time.Millisecond) {
		if ok, _ := ledger.ExistsAt(context.Background(), dsn); ok {
			break
		}
		if time.Now().After(wait) {
			t.Fatal("no daemon made the ledger within a minute")
		}
	}
	db := killOpen(t, dsn)
	defer db.Close()
	pidOf := regexp.MustCompile(`pid (\d+)`)
	var victim int
	deadline := time.Now().Add(2 * time.Minute)
	for victim == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no daemon took the job within two minutes")
		}
		var holder string
		if db.QueryRow(`SELECT holder FROM locks WHERE name = 'run'`).Scan(&holder) == nil {
			if m := pidOf.FindStringSubmatch(holder); m != nil {
				victim, _ = strconv.Atoi(m[1])
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	d, ok := daemons[victim]
	if !ok {
		t.Fatalf("the lock's holder, pid %d, is neither daemon", victim)
	}
	// Kill it in the middle of its run: shortly after it has read the
	// drop, while it decides; or once its run is committed, while it
	// writes the outputs.
	killAt := time.Now()
	if when == "deciding" {
		for !strings.Contains(d.out.String(), "stage=pull") {
			if time.Since(killAt) > 2*time.Minute {
				t.Fatal("the daemon holding the job did not read the drop within two minutes")
			}
			time.Sleep(2 * time.Millisecond)
		}
		time.Sleep(100 * time.Millisecond)
	} else {
		for n := 0; n == 0; time.Sleep(5 * time.Millisecond) {
			db.QueryRow(`SELECT COUNT(*) FROM runs WHERE state = 'decided'`).Scan(&n)
			if time.Since(killAt) > 2*time.Minute {
				t.Fatal("no run was committed within two minutes")
			}
		}
	}
	if err := d.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("killing the daemon running the job: %v", err)
	}
	<-d.done
	if ws, _ := d.cmd.ProcessState.Sys().(syscall.WaitStatus); !ws.Signaled() {
		t.Fatalf("the daemon holding the job exited by itself before its kill:\n%s", d.out.String())
	}
	var runsAtKill int
	if err := db.QueryRow(`SELECT COUNT(*) FROM runs`).Scan(&runsAtKill); err != nil {
		t.Fatal(err)
	}
	t.Logf("killed daemon %d %s after it took the job, %s; %d runs committed then", victim, time.Since(killAt).Round(time.Millisecond), when, runsAtKill)
	if want := map[string]int{"deciding": 0, "writing outputs": 1}[when]; runsAtKill != want {
		t.Errorf("%d runs committed when the daemon was killed %s; want %d", runsAtKill, when, want)
	}

	// The survivor takes over: every dropped file taken, every run written.
	var survivor *takeoverDaemon
	for pid, s := range daemons {
		if pid != victim {
			survivor = s
		}
	}
	deadline = time.Now().Add(5 * time.Minute)
	for {
		var taken, unwritten int
		err1 := db.QueryRow(`SELECT COUNT(*) FROM files WHERE status = 'taken'`).Scan(&taken)
		err2 := db.QueryRow(`SELECT COUNT(*) FROM runs WHERE state != 'written'`).Scan(&unwritten)
		left, _ := os.ReadDir(inbox)
		// Done once a run of the survivor's own has gone through (the
		// first may only complete the outputs of the killed one's).
		if err1 == nil && err2 == nil && taken == len(files) && unwritten == 0 && takeoverDropGone(left) && strings.Contains(survivor.out.String(), "run done") {
			break
		}
		select {
		case <-survivor.done:
			t.Fatalf("the surviving daemon exited:\n%s", survivor.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("the surviving daemon did not finish the job in five minutes: %d of %d files taken, %d runs unwritten, %d entries in the drop, a run done: %t",
				taken, len(files), unwritten, len(left), strings.Contains(survivor.out.String(), "run done"))
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Stop the survivor between ticks, as an operator would.
	survivor.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-survivor.done:
	case <-time.After(time.Minute):
		t.Fatal("the surviving daemon did not stop on SIGTERM")
	}

	killVerify(t, dsn, filepath.Join(tmp, "out"), generated)
	killCompare(t, refDB, dsn)
}

type takeoverDaemon struct {
	cmd  *exec.Cmd
	out  syncBuffer
	done chan struct{}
}

// syncBuffer is a bytes.Buffer a process writes to while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// takeoverDropGone: the folder source has moved every dropped file away
// (acknowledgements go to the reports folder).
func takeoverDropGone(left []os.DirEntry) bool {
	for _, e := range left {
		if strings.HasSuffix(e.Name(), ".csv") || strings.HasSuffix(e.Name(), ".xlsx") {
			return false
		}
	}
	return true
}
