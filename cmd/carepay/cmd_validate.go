package main

import (
	"context"
	"fmt"
	"io"
	"path/filepath"

	"carepay/ingest"
)

const validateUsage = `Usage: carepay validate FILE...

Check drop files without recording anything. Every problem is printed as
file:row:column: message; the exit status is 1 when anything is wrong.
`

var validateCmd = command{name: "validate", summary: "check drop files without recording anything", usage: validateUsage, run: runValidate}

func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlags("validate", validateUsage, stderr)
	c.addFlags(fs, false)
	files, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(files) == 0 {
		return &usageError{"name at least one file"}
	}
	problems := 0
	for _, path := range files {
		name := filepath.Base(path)
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
