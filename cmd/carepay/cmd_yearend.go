package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"time"

	"carepay/batch"
	"carepay/config"
	"carepay/core"
	"carepay/ledger"
)

const yearEndUsage = `Usage: carepay year-end --year YYYY [--out DIR] [--config FILE] [--db PATH]

Report a calendar year's dependent care benefits from the ledger, for
box 10 of each employee's W-2 and for families, into DIR/year-end-YYYY/
(DIR: run.out in the config):

  dependent-care-w2.csv   one row per employee with a line paid in the
                          year: employer_share by plan, employer_provided,
                          other_benefits, exclusion_limit, excess (taxable
                          wages), earning_code
  year-end.xlsx           the same figures for payroll, money as numbers
  statements/             one annual statement (PDF) per employee of the
                          roster with a line paid or refused in the year
  print-batch.pdf         the statements with a postal address, by postal
                          code
  dependent-care-w2-corrections.csv
                          when the year was reported before: the
                          employees whose figures changed since, with what
                          was reported

A line belongs to the calendar year of the run date of the run that paid
it, whatever its plan year; returned and voided payments count nothing,
and a line paid again counts once, in the year it was paid again. The
year's exclusion limit is year_end.exclusion_limits in the config. The
report is recorded in the ledger: a later run that pays or returns a line
of the year says so in its summary and run.json, and the next year-end of
the year writes the corrections.
`

var yearEndCmd = command{name: "year-end", summary: "report a calendar year for W-2 box 10 and annual statements", usage: yearEndUsage, run: runYearEnd}

func runYearEnd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var yearText, out string
	fs := newFlags("year-end", yearEndUsage, stderr)
	c.addFlags(fs, true)
	fs.StringVar(&yearText, "year", "", "the calendar `YYYY` to report")
	fs.StringVar(&out, "out", "", "write year-end-YYYY/ under `DIR` (default: run.out in the config)")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q", pos[0])}
	}
	if yearText == "" {
		return &usageError{"--year is required: name the calendar year to report, such as 2026"}
	}
	year, err := strconv.Atoi(yearText)
	if err != nil || year < 2000 || year > 2099 || strconv.Itoa(year) != yearText {
		return &usageError{fmt.Sprintf("--year %q: want a calendar year from 2000 to 2099, such as 2026", yearText)}
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	if out == "" {
		out = cfg.Resolve(cfg.Run.Out)
	}
	lg, err := c.openExisting(ctx, cfg)
	if err != nil {
		return err
	}
	defer lg.Close()
	if err := c.checkOutputs(ctx, cfg, lg, stderr); err != nil {
		return fmt.Errorf("nothing reported: %w", err)
	}
	res, err := yearEnd(ctx, cfg, lg, year, out, c.logger(stderr), time.Now())
	if err != nil {
		return err
	}
	printYearEnd(stdout, res)
	return nil
}

// yearEnd reports year under out, holding the ledger's lock so that no
// run changes the ledger meanwhile.
func yearEnd(ctx context.Context, cfg *config.Config, lg *ledger.Ledger, year int, out string, log *slog.Logger, now time.Time) (*batch.YearEndResult, error) {
	limit, ok := cfg.YearEnd.ExclusionLimit(year)
	if !ok {
		return nil, fmt.Errorf("year_end.exclusion_limits has no limit for %d: add \"%d\" = \"AMOUNT\" to the config", year, year)
	}
	// The work stops, as if killed, if the lock goes (see LockContext).
	ctx, release, err := lg.LockContext(ctx, fmt.Sprintf("carepay year-end %d, pid %d", year, os.Getpid()))
	if err != nil {
		return nil, err
	}
	defer release()
	res, err := batch.YearEnd(ctx, lg, batch.YearEndOptions{
		Year: year, OutDir: out, Plans: cfg.Plans, Limit: limit, EarningCode: cfg.YearEnd.EarningCode,
		ReturnAddress: cfg.Letters.ReturnAddress, PrintBatchSize: cfg.Letters.PrintBatchSize, FallbackFonts: fallbackFonts(cfg),
		Date: core.DateOf(now.In(cfg.Location())), Now: func() time.Time { return now }, Logger: log,
	})
	return res, ledger.WithLockCause(ctx, err)
}

func printYearEnd(w io.Writer, res *batch.YearEndResult) {
	fmt.Fprintf(w, "year end %d (report %d): %d employees, employer-provided %s, %d above the exclusion limit (excess %s)\n",
		res.Year, res.Report, len(res.Rows), res.Total.Dollars(), res.OverLimit, res.Excess.Dollars())
	fmt.Fprintf(w, "statements: %d written, %d in the print batch\n", res.Statements, res.Posted)
	switch {
	case res.Corrections == nil:
	case len(res.Corrections) == 0:
		fmt.Fprintf(w, "corrections: none; no figure changed since report %d\n", res.Report-1)
	default:
		fmt.Fprintf(w, "corrections: %d employees changed since report %d (dependent-care-w2-corrections.csv): a corrected W-2 (W-2c) may be needed\n",
			len(res.Corrections), res.Report-1)
	}
	if res.Open {
		fmt.Fprintf(w, "note: the ledger has no run dated after %d yet; a later run dated in %d would change it (run year-end again for the corrections)\n",
			res.Year, res.Year)
	}
	fmt.Fprintf(w, "outputs: %s\n", res.Dir)
}
