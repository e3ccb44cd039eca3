package ingest_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"carepay/ingest"
)

// TestReadFileStreams reads a statement file larger than the memory bound
// and checks that the live heap stays under it while reading and after:
// rows go to the callback one at a time and nothing of the file is kept.
// It bounds memory, not time.
func TestReadFileStreams(t *testing.T) {
	const (
		rows  = 200_000
		bound = 32 << 20 // bytes of live heap
	)
	p := filepath.Join(t.TempDir(), "big.csv")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	pad := strings.Repeat("x", 100) // kept in an unknown column, to make the file large
	fmt.Fprintln(w, "statement_id,provider_id,period,employee_id,dependent_id,care_type,service_date,hours,amount_charged,line_id,received_on,mileage,note")
	for i := 0; i < rows; i++ {
		fmt.Fprintf(w, "ST-P01-2026-03,P01,2026-03,E%06d,D%06d,in_home,2026-03-%02d,%d.50,%d.25,%d,2026-04-05,12.5,%s\n",
			i, i, i%31+1, i%12+1, i%500+10, i+1, pad)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Size() <= bound {
		t.Fatalf("file is %d bytes; it must exceed the %d bound to prove anything", fi.Size(), bound)
	}

	heap := liveHeap
	var n int
	var during uint64
	rep, err := ingest.ReadFile(context.Background(), p, "big.csv", ingest.Options{Arrived: arrived}, func(r *ingest.Record) error {
		n++
		if r.Line == nil || r.Line.Invalid() {
			return fmt.Errorf("row %d: %+v", r.Row, r)
		}
		if n == rows*3/4 {
			during = heap()
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	after := heap()
	runtime.KeepAlive(rep)
	t.Logf("file %d MiB; live heap %d KiB while reading, %d KiB after", fi.Size()>>20, during>>10, after>>10)

	if n != rows {
		t.Fatalf("visited %d rows, want %d", n, rows)
	}
	tr := only(t, rep)
	if tr.Rows != rows || tr.RejectedRows != 0 || len(tr.Errors) != 0 || tr.Kind != ingest.Statements {
		t.Fatalf("Kind %q Rows %d RejectedRows %d", tr.Kind, tr.Rows, tr.RejectedRows)
	}
	if during == 0 || during > bound {
		t.Errorf("live heap while reading = %d bytes, want at most %d", during, bound)
	}
	if after > bound {
		t.Errorf("live heap after reading = %d bytes, want at most %d", after, bound)
	}
}

// liveHeap collects garbage and returns the bytes of heap still in use.
func liveHeap() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}
