package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"carepay/core"
	"carepay/templates"
)

const explainUsage = `Usage: carepay explain REF

Show how each line of an invoice or statement was decided, rule by rule,
with the numbers.
`

var explainCmd = command{name: "explain", summary: "show how an invoice or statement was decided", usage: explainUsage, run: runExplain}

func runExplain(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	fs := newFlags("explain", explainUsage, stderr)
	c.addFlags(fs, true)
	refs, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(refs) != 1 {
		return &usageError{"name one invoice or statement"}
	}
	cfg, err := c.load()
	if err != nil {
		return err
	}
	lg, err := c.openExisting(ctx, cfg)
	if err != nil {
		return err
	}
	defer lg.Close()
	words, err := templates.Reasons()
	if err != nil {
		return err
	}
	lines, err := lg.Explain(ctx, refs[0])
	if err != nil {
		return err
	}
	if len(lines) == 0 {
		return fmt.Errorf("no invoice or statement %q in the ledger", refs[0])
	}
	for i, l := range lines {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		status := l.Status
		if l.Final != "" && l.Status == "held" {
			status += " (will be " + l.Final + ")"
		}
		fmt.Fprintf(stdout, "%s %s, %s row %d (run %s): %s", l.Kind, l.Ref, l.Source, l.Row, l.RunID, status)
		if l.Reasons != "" {
			fmt.Fprintf(stdout, " [%s]", l.Reasons)
		}
		fmt.Fprintf(stdout, "; employer %s, employee %s\n", core.Cents(l.EmployerShare), core.Cents(l.EmployeeShare))
		for _, s := range l.Steps {
			fmt.Fprintf(stdout, "  - %s\n", s)
		}
		for _, r := range strings.Split(l.Reasons, ";") {
			if r != "" {
				fmt.Fprintf(stdout, "  %s: %s\n", r, words[r])
			}
		}
	}
	return nil
}
