package batch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"testing"
	"time"

	"carepay/config"
	"carepay/core"
	"carepay/gendrop"
	"carepay/ingest"
	"carepay/internal/benchfloor"
	"carepay/ledger"
)

// BenchmarkDecideCommit runs the real run path on a generated drop of
// -bench-lines lines up to its commit (the outputs are not written) and
// reports its two first stages next to their library floors, measured in
// the same process on the same data:
//
//   - read: pulling the drop (read and parse every file, apply the
//     registries, spool the lines) against encoding/csv reading the same
//     files (benchfloor.CSV);
//
//   - decide: deciding and committing every line against modernc SQLite
//     inserting the rows the run stored into a table without secondary
//     indexes (benchfloor.SQLiteLines).
//
//     go test ./batch -run '^$' -bench DecideCommit -benchtime 1x -bench-lines 1000000
//
// CAREPAY_BENCH_DECIDE_PROFILE names a file for a CPU profile of the
// decide stage alone.
func BenchmarkDecideCommit(b *testing.B) {
	cfg, err := config.Load("../config.toml")
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	drop := filepath.Join(dir, "drop")
	if _, err := gendrop.Write(context.Background(), gendrop.Options{Lines: *benchLines, Employees: *benchEmployees, Seed: 1, Dir: drop}); err != nil {
		b.Fatal(err)
	}
	// As the command does.
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	defer debug.SetMemoryLimit(debug.SetMemoryLimit(MemoryLimit))
	SetMemoryDefaults()
	key, _ := ledger.ParseKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	for i := 0; i < b.N; i++ {
		db := filepath.Join(dir, "ledger.db")
		for _, suffix := range []string{"", "-wal", "-shm"} {
			os.Remove(db + suffix)
		}
		os.RemoveAll(filepath.Join(dir, "out"))
		csvRows, csvTime, err := benchfloor.CSV(drop)
		if err != nil {
			b.Fatal(err)
		}
		lg, err := ledger.Open(context.Background(), db, key)
		if err != nil {
			b.Fatal(err)
		}
		runtime.GC()
		ctx, cancel := context.WithCancel(context.Background())
		var start, pulled, committed time.Time
		var prof *os.File
		start = time.Now()
		_, err = Run(ctx, lg, Options{
			AsOf: core.NewDate(2026, 12, 31), OutDir: filepath.Join(dir, "out"),
			Sources: []ingest.Source{&ingest.Folder{SourceName: "bench", Dir: drop, ReadOnly: true}},
			Plans:   cfg.Plans,
			Payout:  PayoutOf(cfg.Payout, cfg.Limits),
			Progress: func(stage string, done, total int) {
				switch {
				case stage == "files" && done == total && pulled.IsZero():
					pulled = time.Now()
					if path := os.Getenv("CAREPAY_BENCH_DECIDE_PROFILE"); path != "" {
						if prof, err = os.Create(path); err == nil {
							pprof.StartCPUProfile(prof)
						}
					}
				case stage == "outputs":
					committed = time.Now()
					if prof != nil {
						pprof.StopCPUProfile()
						prof.Close()
					}
					cancel() // the outputs are not this benchmark's
				}
			},
		})
		cancel()
		if err != nil && !errors.Is(err, context.Canceled) {
			b.Fatal(err)
		}
		lines, err := countLines(lg)
		lg.Close()
		if err != nil {
			b.Fatal(err)
		}
		floorRows, floorTime, err := benchfloor.SQLiteLines(context.Background(), db, dir)
		if err != nil {
			b.Fatal(err)
		}
		read, decide := pulled.Sub(start), committed.Sub(pulled)
		b.ReportMetric(float64(csvRows)/read.Seconds(), "read-rows/s")
		b.ReportMetric(float64(csvRows)/csvTime.Seconds(), "floor-csv-rows/s")
		b.ReportMetric(read.Seconds()/csvTime.Seconds(), "read-ratio")
		b.ReportMetric(float64(lines)/decide.Seconds(), "decide-lines/s")
		b.ReportMetric(float64(floorRows)/floorTime.Seconds(), "floor-sqlite-rows/s")
		b.ReportMetric(decide.Seconds()/floorTime.Seconds(), "decide-ratio")
	}
}

func countLines(lg *ledger.Ledger) (int, error) {
	var n int
	err := lg.DB().QueryRow(`SELECT COUNT(*) FROM lines`).Scan(&n)
	return n, err
}
