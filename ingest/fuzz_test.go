package ingest_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"carepay/ingest"
)

// FuzzReadFile feeds arbitrary bytes, CSV or XLSX, to ReadFile. Whatever
// the content, ReadFile must not fail or panic: it reports bad tables and
// rows instead. Every row is either taken (visited without errors) or
// rejected with file, row and column (a quoting error alone may lack the
// column, when the broken field spans lines).
func FuzzReadFile(f *testing.F) {
	entries, err := os.ReadDir(dropDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dropDir, e.Name()))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"\ufeff",
		"\r\n\r\n",
		"a,b\n1,2\n",
		stmtHeader + "\nS1,P1,2026-03,E1,D1,center,2026-03-09,,120.00\n",
		stmtHeader + "\nS1,P1,2026-13,E1,D1,center,2026-04-09,-1,abc\n\n,,,\n",
		invHeader + "\nI1,E1,D1,P1,cen\"ter,2026-03-03,100.00,,,2026-03-05,,boss\n",
		invHeader + "\n\"I1,E1\n",
		"provider_id,name\n\"P1\"x,y\n",
		"\n\"a\"b\n",
		"\r\n\r\nprovider_id,name\r\nP1,\r\n",
		"PK\x03\x04",
		"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n\x00",
		"provider_id,name\nP1,Jos\xe9\n",
		"provider_id,name\nP1,Jos\xc3\xa9\nP2,D\x81\n",
		"provider_id,name\nP1,=1+1\nP2,\x00\n",
		"provider_id,name,email\nP1\nP2,a,b,c\n",
		"provider_id,name,Provider_ID\nP1,a,b\n",
		"Title,,\n\nprovider_id,name\nP1,a\n",
		"provider_id\tname\nP1\tSunny\n",
		"provider_id;name\nP1;Sunny\n",
	} {
		f.Add([]byte(s))
	}
	f.Add(utf16Bytes("provider_id,name\r\nP1,Zoë\r\n", false, true))
	f.Add(utf16Bytes("provider_id\tname\r\nP1\tZoë\r\n", true, true))
	f.Fuzz(func(t *testing.T, data []byte) {
		p := filepath.Join(t.TempDir(), "drop.bin")
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		visited, taken := map[string]int{}, map[string]int{}
		rep, err := ingest.ReadFile(context.Background(), p, "drop.bin", ingest.Options{Arrived: arrived}, func(r *ingest.Record) error {
			visited[r.Source]++
			if len(r.Errors) == 0 {
				taken[r.Source]++
			}
			for _, e := range r.Errors {
				if e.File != r.Source || e.Row != r.Row {
					t.Errorf("%s row %d: error placed at %s:%d", r.Source, r.Row, e.File, e.Row)
				}
			}
			if r.Row < 2 {
				t.Errorf("record of %s at row %d", r.Source, r.Row)
			}
			n := 0
			for _, x := range []bool{r.Employee != nil, r.Dependent != nil, r.Provider != nil, r.Line != nil} {
				if x {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%s row %d: %d of Employee/Dependent/Provider/Line set, want 1", r.Source, r.Row, n)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("ReadFile: %v", err)
		}
		if rep == nil || len(rep.Tables) == 0 {
			t.Fatalf("no table reported")
		}
		for _, tr := range rep.Tables {
			if (tr.Kind == "") == (tr.Rejected == "") {
				t.Errorf("%s: Kind %q and Rejected %q; want exactly one", tr.Source, tr.Kind, tr.Rejected)
			}
			if tr.Rejected != "" && (tr.Rows != 0 || len(tr.Errors) != 0 || visited[tr.Source] != 0) {
				t.Errorf("%s: rejected whole (%s) yet Rows %d, %d row errors, %d visited", tr.Source, tr.Rejected, tr.Rows, len(tr.Errors), visited[tr.Source])
			}
			if tr.RejectedRows > tr.Rows || tr.Taken() < 0 || visited[tr.Source] > tr.Rows {
				t.Errorf("%s: Rows %d RejectedRows %d visited %d", tr.Source, tr.Rows, tr.RejectedRows, visited[tr.Source])
			}
			if taken[tr.Source] != tr.Taken() {
				t.Errorf("%s: %d rows visited without errors, Taken() = %d", tr.Source, taken[tr.Source], tr.Taken())
			}
			rejected := map[int]bool{}
			for _, e := range tr.Errors {
				if e.Row < 2 {
					t.Errorf("%s: row error at row %d: %v", tr.Source, e.Row, e)
				}
				if e.File != tr.Source {
					t.Errorf("%s: row error names %q", tr.Source, e.File)
				}
				if e.Column == "" && !strings.HasPrefix(e.Msg, "not valid CSV") {
					t.Errorf("%s: row error names no column: %v", tr.Source, e)
				}
				rejected[e.Row] = true
			}
			if tr.MoreErrors == 0 && len(rejected) != tr.RejectedRows {
				t.Errorf("%s: errors on %d rows, RejectedRows %d", tr.Source, len(rejected), tr.RejectedRows)
			}
		}
	})
}
