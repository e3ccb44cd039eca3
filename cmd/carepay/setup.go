package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"carepay/batch"
	"carepay/config"
	"carepay/ledger"
	"carepay/safefile"
)

// common holds the options every command takes.
type common struct {
	configPath string
	dbPath     string
	verbose    bool
}

func (c *common) addFlags(fs *flag.FlagSet, withDB bool) {
	fs.StringVar(&c.configPath, "config", "config.toml", "configuration `FILE`")
	if withDB {
		fs.StringVar(&c.dbPath, "db", "", "ledger `PATH` (SQLite file) or postgres:// URL; overrides ledger.path or ledger.dsn in the config")
	}
	fs.BoolVar(&c.verbose, "v", false, "log each step to stderr")
}

func (c *common) logger(stderr io.Writer) *slog.Logger {
	level := slog.LevelWarn
	if c.verbose {
		level = slog.LevelInfo
	}
	return slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: level}))
}

func (c *common) load() (*config.Config, error) {
	cfg, err := config.Load(c.configPath)
	if err != nil {
		return nil, err
	}
	// Every file written from here on takes run.file_mode.
	if err := safefile.SetPerm(cfg.Run.Perm()); err != nil {
		return nil, fmt.Errorf("run.file_mode: %w", err)
	}
	// The heap's soft limit (run.memory_limit) and the collector's pace,
	// unless GOMEMLIMIT or GOGC is set (the runtime has read them already).
	batch.SetMemoryDefaults(cfg.Run.MemoryLimitBytes())
	return cfg, nil
}

// openLedger opens the ledger the config (or --db) names, creating it if
// there is none, with the key from the environment variable or file the
// config names. A key other than the one that seals the ledger stops here,
// before anything is read.
func (c *common) openLedger(ctx context.Context, cfg *config.Config) (*ledger.Ledger, error) {
	key, err := ledgerKey(cfg)
	if err != nil {
		return nil, err
	}
	target, err := c.ledgerTarget(cfg)
	if err != nil {
		return nil, err
	}
	return ledger.Open(ctx, target, key)
}

// openRunLedger opens the ledger a run (or serve) decides with, like
// openLedger. When there is none yet (no file, or an empty one) it first
// refuses, creating nothing, an out folder or payroll delivery folder
// that holds runs (batch.CheckNewLedger): a ledger created now would pay
// them again. The key is read first: without one nothing is looked at.
func (c *common) openRunLedger(ctx context.Context, cfg *config.Config, out string) (*ledger.Ledger, error) {
	if _, err := ledgerKey(cfg); err != nil {
		return nil, err
	}
	target, err := c.ledgerTarget(cfg)
	if err != nil {
		return nil, err
	}
	exists, err := ledger.ExistsAt(ctx, target)
	if err != nil {
		return nil, err
	}
	path := target
	if ledger.IsPostgres(target) {
		path = ledger.PostgresName(target)
	}
	if !exists {
		w := &wiring{}
		defer w.Close()
		if err := w.addPayrollSink(cfg); err != nil {
			return nil, err
		}
		if err := batch.CheckNewLedger(ctx, path, options(cfg, w, 0, out, nil)); err != nil {
			return nil, err
		}
	}
	return c.openLedger(ctx, cfg)
}

// openExisting opens the ledger like openLedger but never creates one:
// commands that only read or amend a ledger (explain, approve, rekey) say
// there is none instead.
func (c *common) openExisting(ctx context.Context, cfg *config.Config) (*ledger.Ledger, error) {
	key, err := ledgerKey(cfg)
	if err != nil {
		return nil, err
	}
	target, err := c.ledgerTarget(cfg)
	if err != nil {
		return nil, err
	}
	return ledger.OpenExisting(ctx, target, key)
}

func ledgerKey(cfg *config.Config) (*ledger.Key, error) {
	text, err := cfg.LedgerKey()
	if err != nil {
		return nil, err
	}
	return ledger.ParseKey(text)
}

// ledgerTarget is the ledger --db or the config names: a SQLite path or
// a PostgreSQL URL (with its password: never log it, see
// ledger.PostgresName).
func (c *common) ledgerTarget(cfg *config.Config) (string, error) {
	if c.dbPath != "" {
		return c.dbPath, nil
	}
	return cfg.LedgerTarget()
}

// existingLedger opens the ledger when one exists (named by --db or the
// config); with no config or no ledger file it returns nil. It never
// creates a ledger.
func (c *common) existingLedger(ctx context.Context) (*ledger.Ledger, error) {
	if _, err := os.Stat(c.configPath); err != nil && c.dbPath == "" {
		return nil, nil
	}
	cfg, err := c.load()
	if err != nil {
		return nil, err
	}
	target, err := c.ledgerTarget(cfg)
	if err != nil {
		return nil, err
	}
	if ok, err := ledger.ExistsAt(ctx, target); err != nil || !ok {
		return nil, err
	}
	return c.openExisting(ctx, cfg)
}

// checkOutputs refuses, for a command that amends the ledger outside a
// run (approve, rekey), what every run refuses (batch.CheckOutputs): a
// ledger that is not the one that made the runs in the configured out
// folder, in the out folders it wrote to, or in payroll's delivery
// folder. An approval or a new key recorded in a ledger restored from an
// older copy would be lost, or pay again, once the newer ledger is back.
// openGuarded loads the config and opens the existing ledger for a
// command that changes it outside a run (approve, void): a ledger every
// run would refuse (see checkOutputs) is closed again and refused, the
// error saying "nothing <done>".
func (c *common) openGuarded(ctx context.Context, stderr io.Writer, done string) (*config.Config, *ledger.Ledger, error) {
	cfg, err := c.load()
	if err != nil {
		return nil, nil, err
	}
	lg, err := c.openExisting(ctx, cfg)
	if err != nil {
		return nil, nil, err
	}
	if err := c.checkOutputs(ctx, cfg, lg, stderr); err != nil {
		lg.Close()
		return nil, nil, fmt.Errorf("nothing %s: %w", done, err)
	}
	return cfg, lg, nil
}

// byRequired is the usage error of a command that records who acts when
// neither --by nor USER names anyone.
func byRequired(example string) error {
	return &usageError{"say who you are with --by NAME (USER is not set, as under cron or in a container), e.g. " + example}
}

func (c *common) checkOutputs(ctx context.Context, cfg *config.Config, lg *ledger.Ledger, stderr io.Writer) error {
	w := &wiring{}
	defer w.Close()
	if err := w.addPayrollSink(cfg); err != nil {
		return err
	}
	return batch.CheckOutputs(ctx, lg, options(cfg, w, 0, cfg.Resolve(cfg.Run.Out), c.logger(stderr)))
}

// isTerminal reports whether w is a terminal, for the progress bar.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// progress draws a one-line bar on a terminal.
func progress(w io.Writer) func(stage string, done, total int) {
	return func(stage string, done, total int) {
		if stage == "outputs" {
			fmt.Fprint(w, "\rwriting payment files, letters and reports...\n")
			return
		}
		if total > 0 {
			const width = 30
			n := done * width / total
			fmt.Fprintf(w, "\r%-6s [%-*s] %d/%d", stage, width, bar(n), done, total)
			if done == total {
				fmt.Fprint(w, "\n")
			}
			return
		}
		fmt.Fprintf(w, "\r%-6s %d decided", stage, done)
	}
}

func bar(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = '='
	}
	return string(b)
}
