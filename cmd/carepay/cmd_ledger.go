package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"carepay/ledger"
)

const ledgerUsage = `Usage: carepay ledger copy [--config FILE] --from TARGET --to TARGET

Copy a ledger with all its history from one database to another: from
SQLite to PostgreSQL, and back. TARGET is the path of a SQLite file or a
postgres:// URL (its tables go in the connection's current schema; pick
one with ?search_path=NAME). Give the URL's password through PGPASSWORD
or ~/.pgpass rather than in the URL: the command line is visible to
other users. No message names a password.

The source must be a ledger the configured key opens (ledger.key_env or
ledger.key_file; a wrong key stops before anything is written). The
destination must hold no ledger and none of carepay's tables. The copy
holds the source's run lock throughout (a run going on makes it stop),
writes the destination in one transaction, and keeps the ledger's
identity (ledger_id: the out folders' ledger-id files still name it),
its key fingerprint, and every row's id and order; account numbers are
copied sealed, never opened.

Then both sides are read again: every table's rows, and checksums
(SHA-256) of every payment, of every line's status and shares, of the
runs and of the ledger's identity, must be equal. The report lists them.
A copy that fails at any step removes what it made at the destination.
The source's rows are never changed (opening it brings its schema up to
date, as every command does).
`

var ledgerCmd = command{name: "ledger", summary: "copy a ledger between SQLite and PostgreSQL (ledger copy --from --to)", usage: ledgerUsage, run: runLedger}

type ledgerCopyOptions struct {
	common
	from, to string
}

func runLedger(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return &usageError{"name what to do: carepay ledger copy --from TARGET --to TARGET"}
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		fmt.Fprint(stderr, ledgerUsage)
		return nil
	case "copy":
		return runLedgerCopy(ctx, args[1:], stdout, stderr)
	}
	return &usageError{fmt.Sprintf("unknown ledger command %q: the one there is is copy", args[0])}
}

func runLedgerCopy(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o ledgerCopyOptions
	fs := newFlags("ledger copy", ledgerUsage, stderr)
	o.addFlags(fs, false)
	fs.StringVar(&o.from, "from", "", "the ledger to copy: a SQLite `TARGET` path or a postgres:// URL")
	fs.StringVar(&o.to, "to", "", "where to copy it: a new SQLite `TARGET` path or a postgres:// URL of a schema without carepay's tables")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q (name the ledgers with --from and --to)", pos[0])}
	}
	if strings.TrimSpace(o.from) == "" || strings.TrimSpace(o.to) == "" {
		return &usageError{"name both ledgers: --from TARGET --to TARGET"}
	}
	cfg, err := o.load()
	if err != nil {
		return err
	}
	key, err := ledgerKey(cfg)
	if err != nil {
		return err
	}
	o.logger(stderr).Info("copying the ledger", "from", targetName(o.from), "to", targetName(o.to))
	rep, err := ledger.Copy(ctx, o.from, o.to, key)
	if err != nil {
		return err
	}
	printCopyReport(stdout, rep)
	return nil
}

// targetName is a ledger target fit to print: a PostgreSQL URL without
// its password.
func targetName(target string) string {
	if ledger.IsPostgres(target) {
		return ledger.PostgresName(target)
	}
	return target
}

func printCopyReport(w io.Writer, rep ledger.CopyReport) {
	c := rep.Census
	if rep.ReplacedUnfinished {
		fmt.Fprintf(w, "replaced the unfinished copy at %s (a copy stopped before it finished)\n", rep.To)
	}
	fmt.Fprintf(w, "copied ledger %s (schema version %d)\n  from %s\n  to   %s\n\n", c.LedgerID, c.SchemaVersion, rep.From, rep.To)
	width := len("table")
	for _, t := range c.Tables {
		width = max(width, len(t.Name))
	}
	fmt.Fprintf(w, "%-*s %12s\n", width, "table", "rows")
	var total int64
	for _, t := range c.Tables {
		fmt.Fprintf(w, "%-*s %12d\n", width, t.Name, t.Rows)
		total += t.Rows
	}
	fmt.Fprintf(w, "%-*s %12d\n", width, "total", total)
	fmt.Fprintf(w, "(not copied: locks, the source's run lock; schema_migrations, the destination's own)\n\n")
	fmt.Fprintf(w, "checksums (SHA-256), equal on both sides:\n")
	fmt.Fprintf(w, "  payments     %s\n", c.Payments)
	fmt.Fprintf(w, "  lines        %s\n", c.Lines)
	fmt.Fprintf(w, "  runs         %s\n", c.Runs)
	fmt.Fprintf(w, "  ledger_meta  %s\n", c.Meta)
	fmt.Fprintf(w, "\nverified: the copy has every table's rows and the same checksums (%s)\n", rep.Elapsed.Round(time.Millisecond))
}
