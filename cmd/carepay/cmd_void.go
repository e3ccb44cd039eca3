package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"
	"unicode"
)

const voidUsage = `Usage: carepay void CHECK_NUMBER --reason TEXT [--by NAME]

Void a check carepay issued (lost, stolen, never cashed): the ledger
records who voided it, when and why. The next run takes the void: its
positive-pay.csv carries the check's void record (issue_flag V) so that
the bank refuses the check, and its lines are payable again: that run
pays them (when it pays), or the next run that pays, by the payee's
method and details in the registry then, once.

Refused, with nothing recorded: a check number carepay never issued, and
a check already voided, cleared by the bank (cleared-checks file) or
returned. Nothing is voided by a ledger that every run would refuse: one
that is not the ledger that made the runs in the configured out folder,
in the out folders it wrote runs to, or in the payroll delivery folder.
`

var voidCmd = command{name: "void", summary: "void an issued check; its lines are paid again", usage: voidUsage, run: runVoid}

func runVoid(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var c common
	var by, reason string
	fs := newFlags("void", voidUsage, stderr)
	c.addFlags(fs, true)
	fs.StringVar(&by, "by", os.Getenv("USER"), "who voids (`NAME`), recorded in the ledger")
	fs.StringVar(&reason, "reason", "", "why the check is voided (`TEXT`), recorded in the ledger and the run report")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return &usageError{"name exactly one check number"}
	}
	number, err := strconv.ParseInt(pos[0], 10, 64)
	if err != nil || number <= 0 || strings.Trim(pos[0], "0123456789") != "" {
		return &usageError{fmt.Sprintf("%q is not a check number: want digits, such as 100001", pos[0])}
	}
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return &usageError{"--reason is required: say why the check is voided"}
	}
	if strings.IndexFunc(reason, unicode.IsControl) >= 0 {
		return &usageError{"--reason must be one line of text"}
	}
	if by == "" {
		return byRequired(fmt.Sprintf("carepay void --by jane.doe --reason %q %d", reason, number))
	}
	_, lg, err := c.openGuarded(ctx, stderr, "voided")
	if err != nil {
		return err
	}
	defer lg.Close()
	v, err := lg.VoidCheck(ctx, number, reason, by, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "voided %s, issued %s (run %s), by %s: %s; the next run's positive-pay.csv carries the void record, and its lines are paid again by the next run that pays\n",
		v.Ref(), v.Issued, v.IssuedRun, by, reason)
	return nil
}
