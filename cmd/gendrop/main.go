// Command gendrop writes a synthetic carepay drop for benchmarks and load
// tests: an employee roster, dependents, a provider registry, and the
// requested number of service lines split into invoice and statement CSV
// files of at most 100,000 rows each.
//
// Usage:
//
//	gendrop -out DIR [-lines N] [-employees N] [-seed N] [-year YYYY] [-invalid PERCENT]
//
// For example:
//
//	go run ./cmd/gendrop -lines 1000000 -out /tmp/drop -seed 1
//
// The same flags always produce byte-identical files. When done it prints
// one line of counts; errors go to standard error with exit status 1.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	"carepay/gendrop"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case err != nil:
		fmt.Fprintf(os.Stderr, "gendrop: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("gendrop", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opt gendrop.Options
	fs.StringVar(&opt.Dir, "out", "", "folder to write the drop into (required; created when missing)")
	fs.IntVar(&opt.Lines, "lines", 100_000, "number of service lines (invoice plus statement rows)")
	fs.IntVar(&opt.Employees, "employees", 0, "roster size (0: max(lines/20, 10))")
	fs.Int64Var(&opt.Seed, "seed", 1, "random seed; the same seed gives the same files")
	fs.IntVar(&opt.Year, "year", gendrop.DefaultYear, "plan year of the service dates")
	fs.IntVar(&opt.InvalidPercent, "invalid", gendrop.DefaultInvalidPercent, "percent of rows with a defect (negative: none)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: gendrop -out DIR [flags]\n\nWrites a synthetic carepay drop of CSV files.\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		// The flag package has already printed the problem and the usage.
		return fmt.Errorf("bad arguments: %w", err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if opt.Dir == "" {
		return errors.New("missing -out DIR")
	}
	if opt.Lines <= 0 {
		return fmt.Errorf("-lines must be positive, got %d", opt.Lines)
	}
	if opt.InvalidPercent == 0 {
		// Zero in Options means the default; on the command line it means
		// none.
		opt.InvalidPercent = -1
	}
	start := time.Now()
	st, err := gendrop.Write(ctx, opt)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "lines=%d invoices=%d statements=%d employees=%d dependents=%d providers=%d bytes=%d elapsed=%s dir=%s\n",
		st.Lines, st.Invoices, st.Statements, st.Employees, st.Dependents, st.Providers, st.Bytes,
		time.Since(start).Round(time.Millisecond), opt.Dir)
	return nil
}
