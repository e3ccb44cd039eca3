package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"carepay/ingest"
	"carepay/safefile"
)

const validateUsage = `Usage: carepay validate [--db PATH] FILE...

Check drop files without recording anything. Every problem is printed as
file:row:column: message; the exit status is 1 when anything is wrong.
With --db (or a ledger named in the config that exists), files whose bytes
were already processed are reported too: a run would skip them.
`

var validateCmd = command{name: "validate", summary: "check drop files without recording anything", usage: validateUsage, run: runValidate}

func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlags("validate", validateUsage, stderr)
	c.addFlags(fs, true)
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return &usageError{"name at least one file"}
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
		name := filepath.Base(path)
		if lg != nil {
			sha, err := safefile.SHA256(path)
			if err != nil {
				return err
			}
			if run, seen, err := lg.SeenFile(ctx, sha); err != nil {
				return err
			} else if seen {
				fmt.Fprintf(stdout, "%s:0:-: these bytes were processed in run %s; a run would skip the file\n", name, run)
				problems++
				continue
			}
		}
		rep, err := ingest.ReadFile(ctx, path, name, ingest.Options{MaxErrors: 1 << 30}, func(*ingest.Record) error { return nil })
		if err != nil {
			fmt.Fprintf(stdout, "%s:0:-: %v\n", name, err)
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
		}
	}
	if problems > 0 {
		fmt.Fprintf(stderr, "carepay validate: %d problems in %d files\n", problems, len(files))
		return errProblemsFound
	}
	fmt.Fprintf(stderr, "carepay validate: %d files, no problems\n", len(files))
	return nil
}
