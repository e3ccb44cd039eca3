package batch

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"carepay/internal/ledgertest"
)

// TestOutputsSameOnBothDrivers: the fixture drop, the approval of its
// held statement and the run that pays it, once on a
// SQLite ledger and once on a PostgreSQL one: every file written is the
// same byte for byte, but for what names the ledger itself (its random
// identity) and a run's own timings.
func TestOutputsSameOnBothDrivers(t *testing.T) {
	envs := map[string]*env{"sqlite": newSQLiteEnv(t), "postgres": newEnvAt(t, ledgertest.Postgres(t))}
	trees := map[string]map[string][]byte{}
	for name, e := range envs {
		e.run("../fixtures/drop", fixtureDay)
		if err := e.lg.Approve(context.Background(), []string{"ST-P02-2026-03"}, "ops-lead", fixtureDay.Time()); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		e.run("../fixtures/drop", fixtureDay+3)
		trees[name] = outputTree(t, filepath.Join(e.dir, "out"))
	}
	sq, pg := trees["sqlite"], trees["postgres"]
	var names []string
	for n := range sq {
		names = append(names, n)
	}
	for n := range pg {
		if _, ok := sq[n]; !ok {
			t.Errorf("%s: written on PostgreSQL only", n)
		}
	}
	sort.Strings(names)
	compared := 0
	for _, n := range names {
		b, ok := pg[n]
		switch {
		case !ok:
			t.Errorf("%s: written on SQLite only", n)
		case filepath.Base(n) == LedgerIDFile || filepath.Base(n) == "run.json":
			// The ledger's identity; run.json holds it and the timings.
		case !bytes.Equal(sq[n], b):
			t.Errorf("%s differs between SQLite (%d bytes) and PostgreSQL (%d bytes)", n, len(sq[n]), len(b))
		default:
			compared++
		}
	}
	if compared < 20 {
		t.Errorf("only %d files compared of %d: the runs wrote less than the fixture drop writes", compared, len(names))
	}
	t.Logf("%d files identical on both drivers", compared)
}

// outputTree reads every file under dir, by path relative to it.
func outputTree(t *testing.T, dir string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, path)
		out[rel] = b
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
