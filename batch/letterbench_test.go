package batch

import (
	"context"
	"flag"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"carepay/config"
	"carepay/core"
	"carepay/gendrop"
	"carepay/ingest"
	"carepay/ledger"
)

var benchLetters = flag.Int("bench-letters", 20_000, "employees (about as many letters) in the drop of BenchmarkLetters")

// BenchmarkLetters decides a drop of -bench-letters employees (five lines
// each) once, then times the letter stage alone (every letter file and the
// print batch, each letter rendered once) and, in the same process on the
// same letters (at most 50,000), fpdf alone rendering them with its core
// font on as many goroutines (LetterFloor):
//
//	go test ./batch -run '^$' -bench Letters -benchtime 1x -bench-letters 200000
func BenchmarkLetters(b *testing.B) {
	cfg, err := config.Load("../config.toml")
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	dir := b.TempDir()
	drop := filepath.Join(dir, "drop")
	employees := *benchLetters
	if _, err := gendrop.Write(ctx, gendrop.Options{Lines: 5 * employees, Employees: employees, Seed: 1, Dir: drop}); err != nil {
		b.Fatal(err)
	}
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(cfg.Run.MemoryLimitBytes())) // as the command does
	key, _ := ledger.ParseKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	lg, err := ledger.Open(ctx, filepath.Join(dir, "ledger.db"), key)
	if err != nil {
		b.Fatal(err)
	}
	defer lg.Close()
	opt := Options{
		AsOf: core.NewDate(2026, 12, 31), OutDir: filepath.Join(dir, "out"),
		Sources:       []ingest.Source{&ingest.Folder{SourceName: "bench", Dir: drop, ReadOnly: true, StableWait: time.Nanosecond}},
		Plans:         cfg.Plans,
		Payout:        PayoutOf(cfg.Payout, cfg.Limits, cfg.Returns, cfg.ACH),
		ReturnAddress: cfg.Letters.ReturnAddress,
	}
	res, err := Run(ctx, lg, opt)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out := filepath.Join(dir, "letters-bench")
		os.RemoveAll(out)
		runtime.GC()
		start := time.Now()
		rep, err := WriteLetters(ctx, lg, res.RunID, opt, out)
		elapsed := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		letters, err := CollectLetters(ctx, lg, res.RunID, opt, 50_000)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		floor, err := LetterFloor(letters, cfg.Letters.ReturnAddress, runtime.NumCPU())
		if err != nil {
			b.Fatal(err)
		}
		var size, batch int64
		entries, _ := os.ReadDir(filepath.Join(out, "letters"))
		for _, e := range entries {
			if fi, err := e.Info(); err == nil {
				if strings.HasPrefix(e.Name(), "print-batch") {
					batch += fi.Size()
				} else {
					size += fi.Size()
				}
			}
		}
		rate := float64(rep.Written) / elapsed.Seconds()
		floorRate := float64(len(letters)) / floor.Seconds()
		b.ReportMetric(float64(rep.Written), "letters")
		b.ReportMetric(float64(rep.Postal), "postal")
		b.ReportMetric(rate, "letters/s")
		b.ReportMetric(floorRate, "fpdf-floor-letters/s")
		b.ReportMetric(floorRate/rate, "floor/carepay")
		b.ReportMetric(float64(size)/float64(max(rep.Written, 1))/1024, "KiB/letter")
		b.ReportMetric(float64(batch)/float64(max(rep.Postal, 1))/1024, "print-KiB/letter")
		b.StartTimer()
	}
}
