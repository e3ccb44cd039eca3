// Command carepay-bench measures a whole carepay run against what its
// libraries cost alone. It generates a drop (gendrop), runs it through the
// real `carepay run` path (batch.Run with the config's plans, into a fresh
// ledger in a temporary folder), then measures in the same process, on data
// of the same size and shape, each stage's library floor: encoding/csv
// reading the drop, modernc SQLite inserting the lines into a table without
// secondary indexes, moov-io/ach writing the entries, fpdf rendering the
// letters on two goroutines and the print batch on one, excelize's
// StreamWriter writing the register's rows. It prints, per stage, the wall
// time, the rate, the floor, the ratio and the peak resident memory, and
// the same for the whole run.
//
// Usage:
//
//	carepay-bench [--lines N] [--letters N] [--config FILE] [--scaling]
//
// For example:
//
//	go run ./cmd/carepay-bench --lines 1000000 --letters 200000
//
// The heap's soft limit is run.memory_limit from the config, unless
// GOMEMLIMIT is set, as for `carepay run`. Peak memory per stage is the
// kernel's high-water mark of the process (VmHWM), reset as each stage
// ends. No figure is checked: it measures and prints.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"time"

	"carepay/batch"
	"carepay/config"
	"carepay/core"
	"carepay/gendrop"
	"carepay/ingest"
	"carepay/ledger"
	"carepay/report"
)

const usage = `Usage: carepay-bench [--lines N] [--letters N] [--config FILE] [--scaling] [--dir DIR] [--keep] [--postgres URL]

Generates a drop, runs it through carepay (a fresh ledger in a temporary
folder) and prints, per stage, carepay's time and rate next to its
library's alone on the same data, their ratio and the peak resident
memory. --scaling first runs a tenth of the lines and letters and prints
how each stage grew. --postgres keeps the ledger in a new schema of that
PostgreSQL database (dropped after), and the floor of deciding and
committing is pgx's COPY of the same rows into a table without indexes.
`

type options struct {
	lines, letters int
	seed           int64
	configPath     string
	dir            string
	keep           bool
	tempDirs       *[]string // removed when the command ends
	scaling        bool
	postgres       string // a PostgreSQL URL: the ledger lives there
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	for _, drop := range dropSchemas {
		drop()
	}
	switch {
	case errors.Is(err, flag.ErrHelp):
	case err != nil:
		fmt.Fprintf(os.Stderr, "carepay-bench: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o options
	fs := flag.NewFlagSet("carepay-bench", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.IntVar(&o.lines, "lines", 100_000, "service lines in the generated drop")
	fs.IntVar(&o.letters, "letters", 0, "about how many letters: the drop's employees (0: lines/20, as gendrop)")
	fs.Int64Var(&o.seed, "seed", 1, "gendrop's seed")
	fs.StringVar(&o.configPath, "config", "config.toml", "configuration `FILE` whose plans, payout and letters settings the run uses")
	fs.StringVar(&o.dir, "dir", "", "make the temporary folder under `DIR` (default: the system's)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary folder (drop, ledger, out/)")
	fs.BoolVar(&o.scaling, "scaling", false, "first run a tenth of the lines and letters, and print how each stage grew")
	fs.StringVar(&o.postgres, "postgres", "", "keep the ledger in a new schema of the PostgreSQL database at `URL` instead of a SQLite file")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage, "\nOptions:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.lines <= 0 || o.letters < 0 {
		return fmt.Errorf("--lines must be positive and --letters not negative")
	}
	cfg, err := config.Load(o.configPath)
	if err != nil {
		return err
	}
	// The heap's limit and GOGC as the command sets them.
	batch.SetMemoryDefaults(cfg.Run.MemoryLimitBytes())
	limit := "GOMEMLIMIT=" + os.Getenv("GOMEMLIMIT")
	if os.Getenv("GOMEMLIMIT") == "" {
		limit = "run.memory_limit " + cfg.Run.MemoryLimit
	}
	gogc := "GOGC=" + os.Getenv("GOGC")
	if os.Getenv("GOGC") == "" {
		gogc = fmt.Sprintf("GOGC %d", batch.GCPercent)
	}
	fmt.Fprintf(stdout, "carepay-bench: GOMAXPROCS %d, %s, %s, %s\n", runtime.GOMAXPROCS(0), limit, gogc, runtime.Version())
	// Every run's folder is removed at the end, not as each run ends: on
	// some file systems (ext4 without a journal) creating files within a
	// few minutes of deleting many costs several times more, and the big
	// run's letters would pay for the small run's cleanup.
	var dirs []string
	defer func() {
		for _, d := range dirs {
			os.RemoveAll(d)
		}
	}()
	o.tempDirs = &dirs
	var small *measurement
	if o.scaling {
		so := o
		so.lines, so.letters = max(o.lines/10, 1), o.letters/10
		if small, err = measure(ctx, cfg, so, stdout); err != nil {
			return err
		}
		small.print(stdout)
	}
	m, err := measure(ctx, cfg, o, stdout)
	if err != nil {
		return err
	}
	m.print(stdout)
	if small != nil {
		m.printScaling(stdout, small)
	}
	return nil
}

// stage is one row of the table.
type stage struct {
	name        string
	took, floor time.Duration
	count       int
	unit        string
	peak        uint64 // bytes, 0: unknown
	floorPeak   uint64
}

// measurement is one run and its floors.
type measurement struct {
	lines, letters int
	stages         []stage
	whole          time.Duration
	peak           uint64
	// together is the wall time of the letters, the print batch and the
	// register, which run at once.
	together time.Duration
}

func measure(ctx context.Context, cfg *config.Config, o options, stdout io.Writer) (*measurement, error) {
	dir, err := os.MkdirTemp(o.dir, "carepay-bench-*")
	if err != nil {
		return nil, err
	}
	if o.keep {
		fmt.Fprintf(stdout, "keeping %s\n", dir)
	} else {
		*o.tempDirs = append(*o.tempDirs, dir)
	}
	drop := filepath.Join(dir, "drop")
	start := time.Now()
	st, err := gendrop.Write(ctx, gendrop.Options{Lines: o.lines, Employees: o.letters, Seed: o.seed, Dir: drop})
	if err != nil {
		return nil, err
	}
	fmt.Fprintf(stdout, "\ndrop: %d lines, %d employees, %d providers, %d MiB, generated in %s\n",
		st.Lines, st.Employees, st.Providers, st.Bytes>>20, time.Since(start).Round(time.Millisecond))

	key, err := ledger.ParseKey("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f")
	if err != nil {
		return nil, err
	}
	dbPath := filepath.Join(dir, "ledger.db")
	if o.postgres != "" {
		if dbPath, err = benchSchema(ctx, o.postgres, o.keep, stdout); err != nil {
			return nil, err
		}
	}
	lg, err := ledger.Open(ctx, dbPath, key)
	if err != nil {
		return nil, err
	}
	defer lg.Close()

	// The run, with the peak memory of each stage.
	peaks := map[string]uint64{}
	ended := map[string]time.Time{} // when each stage ended
	settle()
	resetPeak()
	start = time.Now()
	res, err := batch.Run(ctx, lg, batch.Options{
		AsOf: core.NewDate(2026, 12, 31), OutDir: filepath.Join(dir, "out"), SpoolDir: dir,
		// The generated drop is complete before the run: no file needs to rest.
		Sources:       []ingest.Source{&ingest.Folder{SourceName: "bench", Dir: drop, ReadOnly: true, StableWait: time.Nanosecond}},
		Plans:         cfg.Plans,
		MaxLineCharge: cfg.Limits.MaxLineCharge,
		Payout:        batch.PayoutOf(cfg.Payout, cfg.Limits, cfg.Returns, cfg.ACH),
		Checks:        batch.ChecksOf(cfg.Checks),
		ReturnAddress: cfg.Letters.ReturnAddress, PrintBatchSize: cfg.Letters.PrintBatchSize, FallbackFonts: fallbackFonts(cfg),
		Stage: func(name string, _ time.Duration) {
			peaks[name] = max(peaks[name], readPeak())
			resetPeak()
			ended[name] = time.Now()
		},
	})
	whole := time.Since(start)
	if err != nil {
		return nil, fmt.Errorf("the run: %w", err)
	}
	m := &measurement{lines: res.Lines, letters: res.Letters, whole: whole, peak: readPeak()}
	// The letters (then the print batch) and the register are written at
	// once, after the payment files: their stages overlap.
	last := ended[report.StagePrintBatch]
	if r := ended[report.StageRegister]; r.After(last) {
		last = r
	}
	if from := ended[report.StagePaymentFiles]; !from.IsZero() && last.After(from) {
		m.together = last.Sub(from)
	}
	for _, p := range peaks {
		m.peak = max(m.peak, p)
	}
	t := res.Timings
	sum := res.Report
	payments, exceptions := 0, sum.ByStatus[string(core.Rejected)]+sum.ByStatus[string(core.Partial)]
	for _, mt := range sum.ByMethod {
		payments += mt.Payments
	}
	letterRows := min(max(res.Lines/max(res.Letters, 1), 1), 30)
	volume := cfg.Letters.PrintBatchSize
	if volume <= 0 {
		volume = batch.DefaultPrintBatchSize
	}

	// The floors, on data of the same size and shape.
	var create string
	var sample [][]any
	var cols []string
	if o.postgres != "" {
		cols, sample, err = samplePostgresLines(ctx, lg, 10_000)
	} else {
		create, sample, err = sampleLines(ctx, dbPath, 10_000)
	}
	if err != nil {
		return nil, err
	}
	regSample, err := registerSample(ctx, lg, res.RunID, 10_000)
	if err != nil {
		return nil, err
	}
	// The ledger's connections and caches are let go, as a run's are when
	// the command ends.
	if err := lg.Close(); err != nil {
		return nil, err
	}
	var csvRows int
	floors := []struct {
		fn func() error
	}{
		{func() (err error) { csvRows, err = csvFloor(drop); return err }},
		{func() error {
			if o.postgres != "" {
				return postgresFloor(ctx, dbPath, cols, sample, res.Lines)
			}
			return sqliteFloor(ctx, dir, create, sample, res.Lines)
		}},
		{func() error { return achFloor(dir, payments) }},
		{func() error { return lettersFloor(dir, res.Letters, letterRows) }},
		{func() error { return printBatchFloor(dir, sum.Letters.Postal, letterRows, volume) }},
		{func() error { return excelizeFloor(dir, regSample, res.Lines+exceptions+payments) }},
	}
	took := make([]time.Duration, len(floors))
	floorPeak := make([]uint64, len(floors))
	for i, f := range floors {
		settle()
		resetPeak()
		start := time.Now()
		if err := f.fn(); err != nil {
			return nil, fmt.Errorf("floor %d: %w", i, err)
		}
		took[i], floorPeak[i] = time.Since(start), readPeak()
	}
	m.stages = []stage{
		{name: "pull (read + parse the drop)", took: t.Of(report.StagePull), floor: took[0], count: csvRows, unit: "rows", peak: peaks[report.StagePull], floorPeak: floorPeak[0]},
		{name: "decide + commit", took: t.Of(report.StageDecide) + t.Of(report.StageCommit), floor: took[1], count: res.Lines, unit: "lines",
			peak: max(peaks[report.StageDecide], peaks[report.StageCommit]), floorPeak: floorPeak[1]},
		{name: "payment files", took: t.Of(report.StagePaymentFiles), floor: took[2], count: payments, unit: "payments", peak: peaks[report.StagePaymentFiles], floorPeak: floorPeak[2]},
		{name: "letters", took: t.Of(report.StageLetters), floor: took[3], count: res.Letters, unit: "letters", peak: peaks[report.StageLetters], floorPeak: floorPeak[3]},
		{name: "print batch", took: t.Of(report.StagePrintBatch), floor: took[4], count: sum.Letters.Postal, unit: "letters", peak: peaks[report.StagePrintBatch], floorPeak: floorPeak[4]},
		{name: "register.xlsx", took: t.Of(report.StageRegister), floor: took[5], count: res.Lines + exceptions + payments, unit: "rows", peak: peaks[report.StageRegister], floorPeak: floorPeak[5]},
		{name: "acks, deliver", took: t.Of(report.StageAcks) + t.Of(report.StageDeliver), unit: "",
			peak: max(peaks[report.StageAcks], peaks[report.StageDeliver])},
	}
	return m, nil
}

// registerSample reads up to n of the run's lines as Decisions rows.
func registerSample(ctx context.Context, lg *ledger.Ledger, runID string, n int) ([]registerRow, error) {
	var rows []registerRow
	enough := errors.New("enough")
	err := lg.RunLines(ctx, runID, func(l *core.Line, d *core.Decision) error {
		rows = append(rows, registerRow{l.Source, l.Row, string(l.Kind), l.Ref, d.PlanID, l.EmployeeID, l.DependentID, l.ProviderID, l.CareType,
			l.ServiceDate.String(), d.Units, cents(l.Charged), cents(d.EmployeeShare), cents(d.EmployerShare), string(d.Status), d.ReasonList(), d.PayeeType, d.PayeeID})
		if len(rows) == n {
			return enough
		}
		return nil
	})
	if err != nil && !errors.Is(err, enough) {
		return nil, err
	}
	return rows, nil
}

// settle collects garbage and returns it to the system, so that what a
// stage before left does not count against the next.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
}

func (m *measurement) print(w io.Writer) {
	fmt.Fprintf(w, "\n%d lines, %d letters: whole run %s, peak RSS %s\n\n", m.lines, m.letters, secs(m.whole), mib(m.peak))
	fmt.Fprintln(w, "| stage | carepay | rate | library alone | rate | ratio | peak RSS | library's peak RSS |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, s := range m.stages {
		if s.floor == 0 {
			fmt.Fprintf(w, "| %s | %s | | | | | %s | |\n", s.name, secs(s.took), mib(s.peak))
			continue
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s | %.2fx | %s | %s |\n", s.name, secs(s.took), rate(s.count, s.took, s.unit),
			secs(s.floor), rate(s.count, s.floor, s.unit), s.took.Seconds()/s.floor.Seconds(), mib(s.peak), mib(s.floorPeak))
	}
	fmt.Fprintf(w, "| whole run | %s | %s | | | | %s | |\n", secs(m.whole), rate(m.lines, m.whole, "lines"), mib(m.peak))
	if m.together > 0 {
		fmt.Fprintf(w, "\nThe register is written while the letters are (each stage's time above is its own, on the\n"+
			"cores they share): letters, print batch and register.xlsx took %s of wall time together.\n", secs(m.together))
	}
}

func (m *measurement) printScaling(w io.Writer, small *measurement) {
	fmt.Fprintf(w, "\nscaling: %d lines against %d (%.1fx the lines)\n\n", m.lines, small.lines, float64(m.lines)/float64(small.lines))
	fmt.Fprintln(w, "| stage | small | large | growth |")
	fmt.Fprintln(w, "| --- | ---: | ---: | ---: |")
	for i, s := range m.stages {
		fmt.Fprintf(w, "| %s | %s | %s | %.1fx |\n", s.name, secs(small.stages[i].took), secs(s.took), s.took.Seconds()/small.stages[i].took.Seconds())
	}
	fmt.Fprintf(w, "| whole run | %s | %s | %.1fx |\n", secs(small.whole), secs(m.whole), m.whole.Seconds()/small.whole.Seconds())
}

// fallbackFonts returns the letters' fallback font files, resolved
// against the config file as carepay resolves them.
func fallbackFonts(cfg *config.Config) []string {
	var out []string
	for _, f := range cfg.Letters.FallbackFonts {
		out = append(out, cfg.Resolve(f))
	}
	return out
}

func secs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func rate(n int, d time.Duration, unit string) string {
	if d <= 0 {
		return ""
	}
	return fmt.Sprintf("%.0f %s/s", float64(n)/d.Seconds(), unit)
}

func mib(b uint64) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%d MiB", b>>20)
}
