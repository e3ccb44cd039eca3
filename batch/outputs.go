package batch

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"

	"carepay/core"
	"carepay/ingest"
	"carepay/ledger"
	"carepay/report"
	"carepay/safefile"
)

func runDir(out, id string) string { return filepath.Join(out, id) }

// writeOutputs writes decisions.csv, run.json and the acknowledgements of
// a committed run from the ledger alone, hands each acknowledgement back to
// its source and archives the files taken; then marks the run written.
// Written again for the same run, every file comes out byte-identical.
//
// live carries what the run wrote while deciding; nil (an interrupted run
// completed later) rebuilds decisions.csv and the summary from the ledger.
func writeOutputs(ctx context.Context, lg *ledger.Ledger, run ledger.RunInfo, opt Options, live *liveOutputs) (*report.Summary, error) {
	dir := runDir(opt.OutDir, run.ID)
	var sum *report.Summary
	if live != nil {
		if err := live.decisions.Commit(); err != nil {
			return nil, err
		}
		sum = live.summary
	} else {
		sum = report.NewSummary(run.ID, run.AsOf)
		err := safefile.Write(filepath.Join(dir, "decisions.csv"), func(w io.Writer) error {
			dw := report.NewDecisionsWriter(w)
			if err := lg.RunLines(ctx, run.ID, func(l *core.Line, d *core.Decision) error {
				sum.Add(l, d)
				return dw.Write(report.NewDecisionRow(run.ID, l, d))
			}); err != nil {
				return err
			}
			return dw.Close()
		})
		if err != nil {
			return nil, err
		}
		released, err := lg.ReleasedIn(ctx, run.ID)
		if err != nil {
			return nil, err
		}
		sum.Released = released
	}
	files, err := lg.RunFiles(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	sources := map[string]ingest.Source{}
	for _, s := range opt.Sources {
		sources[s.Name()] = s
	}
	for _, f := range files {
		var rep *ingest.FileReport
		if f.Report != "" {
			rep = &ingest.FileReport{}
			if err := json.Unmarshal([]byte(f.Report), rep); err != nil {
				return nil, fmt.Errorf("reading report of %s: %w", f.Name, err)
			}
		}
		switch f.Status {
		case "taken":
			sum.Files.Taken = append(sum.Files.Taken, f.Name)
		case "skipped":
			sum.Files.Skipped = append(sum.Files.Skipped, f.Name)
		default:
			sum.Files.Rejected = append(sum.Files.Rejected, f.Name)
		}
		ack := report.Ack(run.ID, run.AsOf.String(), f.Name, f.Status, f.FirstRun, rep)
		if err := safefile.WriteBytes(filepath.Join(dir, "acks", f.Name+ingest.AckSuffix), ack); err != nil {
			return nil, err
		}
		src := sources[f.Source]
		if src == nil {
			continue // the source is no longer configured; the ack stays in out/
		}
		if err := src.Ack(ctx, f.Name, ack); err != nil {
			return nil, fmt.Errorf("acknowledging %s: %w", f.Name, err)
		}
		if err := src.Archive(ctx, f.Name); err != nil {
			return nil, err
		}
	}
	js, err := sum.JSON()
	if err != nil {
		return nil, err
	}
	if err := safefile.WriteBytes(filepath.Join(dir, "run.json"), js); err != nil {
		return nil, err
	}
	return sum, lg.MarkWritten(ctx, run.ID)
}
