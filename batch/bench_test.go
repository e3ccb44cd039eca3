package batch

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"sync/atomic"
	"testing"
	"time"

	"carepay/config"
	"carepay/core"
	"carepay/gendrop"
	"carepay/ingest"
	"carepay/ledger"
)

var (
	benchLines     = flag.Int("bench-lines", 100_000, "service lines in the generated drop of BenchmarkIngestDecide")
	benchEmployees = flag.Int("bench-employees", 0, "employees in the generated drop (default: lines/20)")
)

// peakHeap samples the heap in use until stop is closed and returns the
// largest value seen.
func peakHeap(stop <-chan struct{}) *atomic.Uint64 {
	var peak atomic.Uint64
	go func() {
		var ms runtime.MemStats
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
				if path := os.Getenv("CAREPAY_BENCH_HEAP_PROFILE"); path != "" && ms.HeapInuse > 200<<20 {
					if f, err := os.Create(path); err == nil {
						pprof.WriteHeapProfile(f)
						f.Close()
					}
				}
			}
			select {
			case <-stop:
				return
			case <-t.C:
			}
		}
	}()
	return &peak
}

// BenchmarkIngestDecide generates a drop of -bench-lines service lines for
// the three reference plans and runs one full pass into a fresh SQLite
// ledger. lines/s counts ingest, decisions and the ledger commit (what
// the issue of the core pipeline measures); outputs/s the payment files,
// letters and reports written after. Run it with
//
//	go test ./batch -run '^$' -bench IngestDecide -benchtime 1x -bench-lines 1000000
//
// peak-heap-MiB is the largest Go heap in use seen during the run (sampled
// every 20 ms); SQLite's page cache (32 MiB) is outside it.
func BenchmarkIngestDecide(b *testing.B) {
	benchRun(b, *benchLines, *benchEmployees)
}

// BenchmarkPayoutMonth runs the whole pipeline on a month's worth of
// 100,000 lines from 20,000 employees (about 20,000 payees with the
// providers) and reports lines/s, letters/s and the peak heap:
//
//	go test ./batch -run '^$' -bench PayoutMonth -benchtime 1x
func BenchmarkPayoutMonth(b *testing.B) {
	benchRun(b, 100_000, 20_000)
}

func benchRun(b *testing.B, lines, employees int) {
	cfg, err := config.Load("../config.toml")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	drop := filepath.Join(dir, "drop")
	if _, err := gendrop.Write(context.Background(), gendrop.Options{Lines: lines, Employees: employees, Seed: 1, Dir: drop}); err != nil {
		b.Fatal(err)
	}
	// As the command does: see run.memory_limit.
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(cfg.Run.MemoryLimitBytes()))
	key, _ := ledger.ParseKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		db := filepath.Join(dir, "ledger.db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(db + suffix)
		}
		os.RemoveAll(filepath.Join(dir, "out"))
		lg, err := ledger.Open(context.Background(), db, key)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		stop := make(chan struct{})
		peak := peakHeap(stop)
		var decidePeak uint64
		b.StartTimer()
		res, err := Run(context.Background(), lg, Options{
			AsOf: core.NewDate(2026, 12, 31), OutDir: filepath.Join(dir, "out"),
			Sources: []ingest.Source{&ingest.Folder{SourceName: "bench", Dir: drop, ReadOnly: true, StableWait: time.Nanosecond}},
			Plans:   cfg.Plans,
			Payout:  PayoutOf(cfg.Payout, cfg.Limits, cfg.Returns, cfg.ACH),
			Progress: func(stage string, _, _ int) {
				if stage == "outputs" {
					decidePeak = peak.Load()
				}
			},
		})
		b.StopTimer()
		close(stop)
		lg.Close()
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(res.Lines)/res.Decide.Seconds(), "lines/s")
		b.ReportMetric(float64(res.Lines)/(res.Decide+res.Outputs).Seconds(), "lines/s-with-outputs")
		b.ReportMetric(float64(res.Letters)/res.Outputs.Seconds(), "letters/s")
		b.ReportMetric(float64(res.Letters), "letters")
		b.ReportMetric(float64(decidePeak)/(1<<20), "peak-heap-MiB-deciding")
		b.ReportMetric(float64(peak.Load())/(1<<20), "peak-heap-MiB")
	}
}
