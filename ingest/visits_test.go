package ingest_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"carepay/ingest"
)

// TestVisitOrderNotesAndFailure: a CSV's records reach visit one at a
// time in row order (visit runs beside the reading), the notes visit adds
// join the table's warnings in row order after the preamble's, and a
// visit that fails stops the file with its error: no record after it is
// visited.
func TestVisitOrderNotesAndFailure(t *testing.T) {
	var b strings.Builder
	b.WriteString(rosterHeader + ",extra\n") // an unknown column: a warning before any row
	const rows = 5000
	for i := 1; i <= rows; i++ {
		fmt.Fprintf(&b, "E%d,A,B,p,casual,1,2025-01-01,C,x\n", i)
	}
	path := filepath.Join(t.TempDir(), "roster.csv")
	if err := os.WriteFile(path, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	opt := ingest.Options{Arrived: arrived}

	t.Run("all", func(t *testing.T) {
		var ids []string
		rep, err := ingest.ReadFile(context.Background(), path, "roster.csv", opt, func(r *ingest.Record) error {
			ids = append(ids, r.Employee.ID)
			if r.Row%1000 == 0 {
				r.Notes = append(r.Notes, fmt.Sprintf("row %d noted", r.Row))
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) != rows {
			t.Fatalf("%d records visited, want %d", len(ids), rows)
		}
		for i, id := range ids {
			if want := fmt.Sprintf("E%d", i+1); id != want {
				t.Fatalf("record %d is %s, want %s: out of order", i, id, want)
			}
		}
		w := rep.Tables[0].Warnings
		want := []string{"unknown columns ignored: extra", "row 1000 noted", "row 2000 noted", "row 3000 noted", "row 4000 noted", "row 5000 noted"}
		if fmt.Sprint(w) != fmt.Sprint(want) {
			t.Errorf("warnings %q, want %q", w, want)
		}
	})

	t.Run("failing", func(t *testing.T) {
		boom := errors.New("ledger full")
		visited := 0
		_, err := ingest.ReadFile(context.Background(), path, "roster.csv", opt, func(r *ingest.Record) error {
			visited++
			if r.Row == 1234 {
				return boom
			}
			return nil
		})
		if !errors.Is(err, boom) {
			t.Fatalf("ReadFile: %v, want visit's error", err)
		}
		if visited != 1233 { // rows 2 to 1234
			t.Errorf("%d records visited, want 1233: none after the failure", visited)
		}
	})

	t.Run("panicking", func(t *testing.T) {
		_, err := ingest.ReadFile(context.Background(), path, "roster.csv", opt, func(r *ingest.Record) error {
			if r.Row == 100 {
				panic("bad ledger state")
			}
			return nil
		})
		if err == nil || !strings.Contains(err.Error(), "bad ledger state") || !strings.Contains(err.Error(), "row 100") {
			t.Fatalf("ReadFile: %v, want the panic as an error naming the row", err)
		}
	})
}
