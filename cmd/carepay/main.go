// Command carepay is the batch invoice and reimbursement processor for
// employer-paid backup dependent care.
//
// Usage:
//
//	carepay run      [--config FILE] [--inbox DIR] [--out DIR] [--db PATH] [--as-of YYYY-MM-DD]
//	carepay validate [--config FILE] FILE...
//	carepay approve  [--config FILE] [--db PATH] [--by NAME] STATEMENT_ID...
//	carepay void     [--config FILE] [--db PATH] --reason TEXT [--by NAME] CHECK_NUMBER
//	carepay explain  [--config FILE] [--db PATH] REF
//	carepay year-end [--config FILE] [--db PATH] [--out DIR] --year YYYY
//	carepay serve    [--config FILE] [--db PATH]
//	carepay rekey    [--config FILE] [--db PATH] (--new-key-env NAME | --new-key-file PATH)
//	carepay ledger copy [--config FILE] --from TARGET --to TARGET
//
// Exit status: 0 when the command completed (whatever lines were
// rejected); 1 when it could not complete, or validate found a problem;
// 2 for a usage error; 3 for an internal error (a bug).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

// Exit codes.
const (
	exitOK       = 0
	exitFailed   = 1
	exitUsage    = 2
	exitInternal = 3
)

// command is one subcommand: its flags and what it runs.
type command struct {
	name    string
	summary string
	usage   string
	run     func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{runCmd, serveCmd, validateCmd, approveCmd, voidCmd, explainCmd, yearEndCmd, rekeyCmd, ledgerCmd}

// usageError is a mistake in how a command was called.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// problemsFound means the command ran but found something wrong (validate).
var errProblemsFound = errors.New("problems found")

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

func mainUsage(w io.Writer) {
	fmt.Fprintln(w, "carepay: batch invoice and reimbursement processor for backup dependent care")
	fmt.Fprintln(w, "\nUsage: carepay COMMAND [options]\n\nCommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-9s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\nRun 'carepay COMMAND --help' for a command's options.")
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) (code int) {
	defer func() {
		if r := recover(); r != nil {
			fmt.Fprintf(stderr, "carepay: internal error (a bug, please report it): %v\n", r)
			code = exitInternal
		}
	}()
	if len(args) == 0 {
		mainUsage(stderr)
		return exitUsage
	}
	switch args[0] {
	case "-h", "--help", "-help", "help":
		mainUsage(stdout)
		return exitOK
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		var ue *usageError
		switch {
		case err == nil:
			return exitOK
		case errors.Is(err, flag.ErrHelp):
			return exitOK
		case errors.As(err, &ue):
			fmt.Fprintf(stderr, "carepay %s: %v (see carepay %s --help)\n", c.name, err, c.name)
			return exitUsage
		case errors.Is(err, errProblemsFound):
			return exitFailed
		default:
			fmt.Fprintf(stderr, "carepay %s: %v\n", c.name, oneLine(err))
			return exitFailed
		}
	}
	fmt.Fprintf(stderr, "carepay: unknown command %q\n", args[0])
	mainUsage(stderr)
	return exitUsage
}

// oneLine keeps the message to the line SPEC.md asks for, joining several
// errors (a config with three bad keys) with "; ".
func oneLine(err error) string {
	msg := err.Error()
	out := make([]byte, 0, len(msg))
	for i := 0; i < len(msg); i++ {
		if msg[i] == '\n' {
			out = append(out, "; "...)
			continue
		}
		out = append(out, msg[i])
	}
	return string(out)
}

// newFlags returns a flag set that prints its usage on --help and returns
// errors instead of exiting.
func newFlags(name, usage string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), usage)
		fmt.Fprintln(fs.Output(), "\nOptions:")
		printFlags(fs)
	}
	return fs
}

// printFlags lists a command's flags as its usage line writes them
// (--as-of, not -as-of), with their help and defaults.
func printFlags(fs *flag.FlagSet) {
	fs.VisitAll(func(f *flag.Flag) {
		name, help := flag.UnquoteUsage(f)
		line := "  --" + f.Name
		if name != "" {
			line += " " + name
		}
		if def := f.DefValue; def != "" && def != "false" && def != "0" {
			help += fmt.Sprintf(" (default %q)", def)
		}
		fmt.Fprintf(fs.Output(), "%s\n      %s\n", line, help)
	})
}

// parseFlags parses args; flags may come before or after the positional
// arguments.
func parseFlags(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, &usageError{err.Error()}
		}
		args = fs.Args()
		if len(args) == 0 {
			return pos, nil
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
