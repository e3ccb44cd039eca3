package ingest_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"carepay/core"
	"carepay/ingest"
)

// arrived is the arrival day the tests pass in Options.
var arrived = core.NewDate(2026, 4, 10)

// read runs ReadFile on path and returns the report and every record
// visited. ReadFile must not fail on any content.
func read(t *testing.T, path, name string, opt ingest.Options) (*ingest.FileReport, []*ingest.Record) {
	t.Helper()
	var recs []*ingest.Record
	rep, err := ingest.ReadFile(context.Background(), path, name, opt, func(r *ingest.Record) error {
		recs = append(recs, r)
		return nil
	})
	if err != nil {
		t.Fatalf("ReadFile(%s): %v", name, err)
	}
	if rep == nil {
		t.Fatalf("ReadFile(%s): nil report", name)
	}
	return rep, recs
}

// readBytes writes b to a temp file called name and reads it.
func readBytes(t *testing.T, name string, b []byte, opt ingest.Options) (*ingest.FileReport, []*ingest.Record) {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
	return read(t, p, name, opt)
}

// table returns the report of the table called source.
func table(t *testing.T, rep *ingest.FileReport, source string) *ingest.TableReport {
	t.Helper()
	for _, tr := range rep.Tables {
		if tr.Source == source {
			return tr
		}
	}
	var got []string
	for _, tr := range rep.Tables {
		got = append(got, tr.Source)
	}
	t.Fatalf("no table %q in %s; tables: %q", source, rep.Name, got)
	return nil
}

// only returns the single table of a CSV report.
func only(t *testing.T, rep *ingest.FileReport) *ingest.TableReport {
	t.Helper()
	if len(rep.Tables) != 1 {
		t.Fatalf("%s: %d tables, want 1", rep.Name, len(rep.Tables))
	}
	return rep.Tables[0]
}

// errs copies row errors into values for comparison.
func errs(in []*core.RowError) []core.RowError {
	out := []core.RowError{}
	for _, e := range in {
		out = append(out, *e)
	}
	return out
}

func wantErrors(t *testing.T, got []*core.RowError, want []core.RowError) {
	t.Helper()
	if want == nil {
		want = []core.RowError{}
	}
	if g := errs(got); !reflect.DeepEqual(g, want) {
		t.Errorf("row errors:\n got  %+v\n want %+v", g, want)
	}
}

// record returns the visited record of source at row.
func record(t *testing.T, recs []*ingest.Record, source string, row int) *ingest.Record {
	t.Helper()
	for _, r := range recs {
		if r.Source == source && r.Row == row {
			return r
		}
	}
	t.Fatalf("no record %s row %d", source, row)
	return nil
}

func date(t *testing.T, s string) core.Date {
	t.Helper()
	d, err := core.ParseDate(s)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// shaOf is the SHA-256 of s in hex, as a run records a file's bytes.
func shaOf(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}
