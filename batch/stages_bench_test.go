package batch

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"syscall"
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
// CAREPAY_BENCH_READ_PROFILE and CAREPAY_BENCH_DECIDE_PROFILE name files
// for CPU profiles of the read and the decide stage alone;
// CAREPAY_BENCH_HEAP_PROFILE one for the live heap nine tenths into
// deciding.
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
	// As the command does (GOMEMLIMIT and GOGC still override).
	limit, gc := debug.SetMemoryLimit(-1), debug.SetGCPercent(-1)
	debug.SetGCPercent(gc)
	defer debug.SetMemoryLimit(limit)
	defer debug.SetGCPercent(gc)
	limitBytes, err := config.ParseByteSize(config.DefaultMemoryLimit)
	if err != nil {
		b.Fatal(err)
	}
	SetMemoryDefaults(limitBytes)
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
		var cpuPulled, cpuCommitted time.Duration
		var prof *os.File
		if path := os.Getenv("CAREPAY_BENCH_READ_PROFILE"); path != "" {
			if prof, err = os.Create(path); err == nil {
				pprof.StartCPUProfile(prof)
			}
		}
		heapPath := os.Getenv("CAREPAY_BENCH_HEAP_PROFILE")
		start = time.Now()
		_, err = Run(ctx, lg, Options{
			AsOf: core.NewDate(2026, 12, 31), OutDir: filepath.Join(dir, "out"),
			Sources: []ingest.Source{&ingest.Folder{SourceName: "bench", Dir: drop, ReadOnly: true, StableWait: time.Nanosecond}},
			Plans:   cfg.Plans,
			Payout:  PayoutOf(cfg.Payout, cfg.Limits, cfg.Returns, cfg.ACH),
			Progress: func(stage string, done, total int) {
				switch {
				case stage == "lines" && done > total*9/10 && heapPath != "":
					if f, err := os.Create(heapPath); err == nil {
						runtime.GC()
						pprof.Lookup("heap").WriteTo(f, 0)
						f.Close()
					}
					heapPath = ""
				case stage == "files" && done == total && pulled.IsZero():
					pulled, cpuPulled = time.Now(), cpuTime()
					if prof != nil {
						pprof.StopCPUProfile()
						prof.Close()
						prof = nil
					}
					if path := os.Getenv("CAREPAY_BENCH_DECIDE_PROFILE"); path != "" {
						if prof, err = os.Create(path); err == nil {
							pprof.StartCPUProfile(prof)
						}
					}
				case stage == "outputs":
					committed, cpuCommitted = time.Now(), cpuTime()
					if prof != nil {
						pprof.StopCPUProfile()
						prof.Close()
						prof = nil
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
		cpu0 := cpuTime()
		floorRows, floorTime, err := benchfloor.SQLiteLines(context.Background(), db, dir)
		floorCPU := cpuTime() - cpu0
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
		// CPU seconds of the process: steadier than wall time on a busy
		// machine (the floor's include reading the rows it copies).
		b.ReportMetric((cpuCommitted - cpuPulled).Seconds(), "decide-cpu-s")
		b.ReportMetric(floorCPU.Seconds(), "floor-sqlite-cpu-s")
	}
}

func countLines(lg *ledger.Ledger) (int, error) {
	var n int
	err := lg.DB().QueryRow(`SELECT COUNT(*) FROM lines`).Scan(&n)
	return n, err
}

// cpuTime is the CPU time the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
