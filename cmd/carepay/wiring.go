package main

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"carepay/batch"
	"carepay/config"
	"carepay/core"
	"carepay/ingest"
)

// This file is the one place where sources, sinks and the mailer are
// chosen from config.toml: each type of source or sink is registered in
// the switch below.

// closer is what remote sources and sinks need at the end of a run.
type closer interface{ Close() error }

// wiring holds what a run reads from and writes to, built from the config.
type wiring struct {
	sources []ingest.Source
	sinks   []batch.Sink
	mailer  batch.Mailer
	closers []closer
}

func (w *wiring) Close() {
	for _, c := range w.closers {
		c.Close()
	}
}

// inboxStableWait is the time between the two looks at the --inbox folder:
// a file whose size or time changed in between is still being written and
// is left for the next run. The --inbox folder compares two looks rather
// than a file's age, so that a drop checked out or copied a moment ago
// (the demo) is taken at once when nothing writes to it.
const inboxStableWait = time.Second

// buildSources returns the configured sources, or the --inbox folder read
// in place when inbox is set.
func buildSources(cfg *config.Config, inbox string) (*wiring, error) {
	w := &wiring{}
	if inbox != "" {
		w.sources = []ingest.Source{&ingest.Folder{SourceName: "inbox", Dir: inbox, ReadOnly: true, Stable: ingest.StableSize, StableWait: inboxStableWait}}
		return w, nil
	}
	for _, s := range cfg.Sources {
		src, err := newSource(cfg, s)
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("source %s: %w", s.Name, err)
		}
		if c, ok := src.(closer); ok {
			w.closers = append(w.closers, c)
		}
		w.sources = append(w.sources, src)
	}
	return w, nil
}

// newSource builds one source by its type.
func newSource(cfg *config.Config, s config.Source) (ingest.Source, error) {
	switch s.Type {
	case "folder":
		return &ingest.Folder{SourceName: s.Name, Dir: cfg.Resolve(s.Path), ArchiveDir: cfg.Resolve(s.Archive), ReportsDir: cfg.Resolve(s.Reports),
			Stable: s.Stable, StableWait: s.StableWait.Duration}, nil
	default:
		return newRemoteSource(cfg, s)
	}
}

// options returns the batch options every run shares.
func options(cfg *config.Config, w *wiring, asOf core.Date, out string, log *slog.Logger) batch.Options {
	return batch.Options{AsOf: asOf, OutDir: out, Sources: w.sources, Plans: cfg.Plans, Logger: log, MaxLineCharge: cfg.Limits.MaxLineCharge,
		Payout: batch.PayoutOf(cfg.Payout, cfg.Limits, cfg.Returns, cfg.ACH), Checks: batch.ChecksOf(cfg.Checks), ReturnAddress: cfg.Letters.ReturnAddress, PrintBatchSize: cfg.Letters.PrintBatchSize,
		FallbackFonts: fallbackFonts(cfg), Sinks: w.sinks, Mailer: w.mailer, EmailLetter: emailLetter(cfg)}
}

// fallbackFonts returns the letters' fallback font files, resolved
// against the config file.
func fallbackFonts(cfg *config.Config) []string {
	var out []string
	for _, f := range cfg.Letters.FallbackFonts {
		out = append(out, cfg.Resolve(f))
	}
	return out
}

// emailLetter says which letters go by email rather than by post.
func emailLetter(cfg *config.Config) func(kind, plan string) bool {
	l := cfg.Letters
	return func(kind, plan string) bool {
		if kind == core.PayeeProvider {
			return l.EmailProviders
		}
		return slices.Contains(l.EmailPlans, "*") || slices.Contains(l.EmailPlans, plan)
	}
}
