package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"
)

const approveUsage = `Usage: carepay approve [--by NAME] STATEMENT_ID...

Approve provider statements whose lines are held (AWAITING_APPROVAL). The
lines take their final status, and are paid, in the next run.
`

var approveCmd = command{name: "approve", summary: "approve held statements for payment", usage: approveUsage, run: runApprove}

func runApprove(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var by string
	fs := newFlags("approve", approveUsage, stderr)
	c.addFlags(fs, true)
	fs.StringVar(&by, "by", os.Getenv("USER"), "who approves (`NAME`), recorded in the ledger")
	refs, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(refs) == 0 {
		return &usageError{"name at least one statement"}
	}
	if by == "" {
		return &usageError{"--by is required when USER is not set"}
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
	if err := lg.Approve(ctx, refs, by, time.Now()); err != nil {
		return err
	}
	for _, r := range refs {
		fmt.Fprintf(stdout, "approved %s by %s; its lines are paid in the next run\n", r, by)
	}
	return nil
}
