package main

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"strings"

	"carepay/core"
	"carepay/ledger"
	"carepay/templates"
)

const explainUsage = `Usage: carepay explain REF

Show how each line of an invoice or statement was decided, rule by rule,
with the numbers. Given a payment ID (PAY-12) or a check number, show the
payment's life: formed, approved, issued, corrected or returned by the
bank, and which payment pays its lines again.
`

var explainCmd = command{name: "explain", summary: "show how an invoice or statement was decided, or a payment's life", usage: explainUsage, run: runExplain}

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
	if id, ok := core.ParsePaymentRef(refs[0]); ok {
		return explainPayment(ctx, lg, id, refs[0], stdout)
	}
	lines, err := lg.Explain(ctx, refs[0])
	if err != nil {
		return err
	}
	if len(lines) == 0 {
		if check, err := strconv.ParseInt(refs[0], 10, 64); err == nil {
			id, err := lg.PaymentByCheck(ctx, check)
			if err != nil {
				return err
			}
			if id != 0 {
				return explainPayment(ctx, lg, id, refs[0], stdout)
			}
		}
		return fmt.Errorf("no invoice, statement, payment or check %q in the ledger", refs[0])
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

// explainPayment prints a payment's life, one event a line.
func explainPayment(ctx context.Context, lg *ledger.Ledger, id int64, asked string, stdout io.Writer) error {
	life, err := lg.PaymentLife(ctx, id)
	if err != nil {
		return err
	}
	if life == nil {
		return fmt.Errorf("no payment %q in the ledger", asked)
	}
	fmt.Fprintf(stdout, "payment %s\n", core.PaymentRef(id))
	for _, e := range life {
		when := ""
		if !e.Date.IsZero() {
			when = e.Date.String() + " "
		}
		if e.RunID != "" {
			when += "(run " + e.RunID + ") "
		}
		fmt.Fprintf(stdout, "  - %s%s\n", when, e.What)
	}
	return nil
}
