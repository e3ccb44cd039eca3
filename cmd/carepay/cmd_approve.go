package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"time"

	"carepay/batch"
	"carepay/ledger"
)

const approveUsage = `Usage: carepay approve [--by NAME] ID...

Approve what a run held for a second person's approval:
  STATEMENT_ID  a provider statement whose lines are held (AWAITING_APPROVAL):
                the lines held now take their final status, and are paid, in
                the next run; lines of it that arrive later are held again.
  PAY-n         a payment above limits.max_payment (PAYMENT_REVIEW), as the
                run summary names it: the next run that pays issues it as
                it was formed, to the payee details approve prints (method,
                masked account, or check to NAME), whatever the registry
                says by then. A payment formed with bank details that fail
                is not paid as formed: it waits for valid details and is
                then held for approval again.
  statement:ID, payment:PAY-n
                say which when a statement's ID reads as a payment's
                (statement_id PAY-3) and both exist: approve refuses the
                bare ID then.
Nothing is approved when any ID is refused, nor by a ledger that every
run would refuse: one that is not the ledger that made the runs in the
configured out folder, in the out folders it wrote runs to, or in the
payroll delivery folder (restored from an older copy, say).
`

var approveCmd = command{name: "approve", summary: "approve held statements and payments", usage: approveUsage, run: runApprove}

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
		return &usageError{"name at least one statement or payment"}
	}
	if by == "" {
		return byRequired("carepay approve --by jane.doe " + refs[0])
	}
	_, lg, err := c.openGuarded(ctx, stderr, "approved")
	if err != nil {
		return err
	}
	defer lg.Close()
	approved, err := lg.ApproveRefs(ctx, refs, by, time.Now())
	if err != nil {
		return err
	}
	for _, a := range approved {
		if a.Kind == ledger.ApprovePayment {
			when := "it is paid, as formed, in the next run that pays"
			if why := batch.PayToProblem(a.To); why != "" {
				when = "these details fail (" + why + "): it is not paid until the registry brings valid details, and then needs approving again"
			}
			fmt.Fprintf(stdout, "approved %s (%s %s, %s, %d lines) by %s: %s; %s\n",
				a.Ref, a.PayeeType, a.PayeeID, a.Amount.Dollars(), a.Lines, by, batch.PayTo(a.To), when)
			continue
		}
		fmt.Fprintf(stdout, "approved %s by %s; its %d held lines are paid in the next run\n", a.Ref, by, a.Lines)
	}
	return nil
}
