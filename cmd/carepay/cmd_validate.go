package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"carepay/batch"
	"carepay/core"
	"carepay/ingest"
	"carepay/safefile"
)

const validateUsage = `Usage: carepay validate [--db PATH] [--as-of YYYY-MM-DD] FILE...

Check drop files without recording anything. Every problem is printed as
file:row:column: message; the exit status is 1 when anything is wrong.
Service dates and charges are held to the same sanity limits as a run on
--as-of (default: today in run.time_zone): no date after it or more than
730 days before it, no charge above limits.max_line_charge.
Files are named as given, so that two files of one name in different
folders are told apart. With --db (or a ledger named in the config that
exists), a file whose bytes were already processed gets a note (a run
would skip it); its problems are still shown.
`

var validateCmd = command{name: "validate", summary: "check drop files without recording anything", usage: validateUsage, run: runValidate}

func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlags("validate", validateUsage, stderr)
	c.addFlags(fs, true)
	var asOfText string
	fs.StringVar(&asOfText, "as-of", "", "run date `YYYY-MM-DD` the sanity limits are checked against (default: today in run.time_zone)")
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return &usageError{"name at least one file"}
	}
	opt := ingest.Options{MaxErrors: 1 << 30, MaxLineCharge: batch.DefaultMaxLineCharge}
	loc := time.Local
	if _, err := os.Stat(c.configPath); err == nil {
		cfg, err := c.load()
		if err != nil {
			return err
		}
		opt.MaxLineCharge, loc, opt.Cleared = cfg.Limits.MaxLineCharge, cfg.Location(), cfg.Checks.ClearedLayout()
	}
	opt.RunDate = core.DateOf(time.Now().In(loc))
	if asOfText != "" {
		if opt.RunDate, err = core.ParseDate(asOfText); err != nil {
			return &usageError{fmt.Sprintf("--as-of: %v", err)}
		}
	}
	lg, err := c.existingLedger(ctx)
	if err != nil {
		return err
	}
	if lg != nil {
		defer lg.Close()
	}
	problems := 0
	for _, path := range files {
		if lg != nil {
			sha, err := safefile.SHA256(path)
			if err != nil {
				return err
			}
			if run, seen, err := lg.SeenFile(ctx, sha); err != nil {
				return err
			} else if seen {
				fmt.Fprintf(stdout, "%s: note: these bytes were processed in run %s; a run would skip the file\n", path, run)
			}
		}
		rep, err := ingest.ReadFile(ctx, path, path, opt, func(*ingest.Record) error { return nil })
		if err != nil {
			fmt.Fprintf(stdout, "%s:0:-: %v\n", path, err)
			problems++
			continue
		}
		for _, t := range rep.Tables {
			if t.Rejected != "" {
				fmt.Fprintf(stdout, "%s:1:-: %s\n", t.Source, t.Rejected)
				problems++
				continue
			}
			for _, w := range t.Warnings {
				fmt.Fprintf(stdout, "%s:1:-: warning: %s\n", t.Source, w)
			}
			for _, e := range t.Errors {
				fmt.Fprintln(stdout, e.Error())
				problems++
			}
			if t.MoreErrors > 0 {
				problems += t.MoreErrors
			}
		}
	}
	if problems > 0 {
		fmt.Fprintf(stderr, "carepay validate: %d problems in %d files\n", problems, len(files))
		return errProblemsFound
	}
	fmt.Fprintf(stderr, "carepay validate: %d files, no problems\n", len(files))
	return nil
}
