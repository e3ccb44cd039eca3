package batch

import (
	"log/slog"
	"time"

	"carepay/report"
)

// stageTimer fills the timings of one run (report.Stages): the -v log
// gets a line as each stage ends, and so does Options.Stage.
type stageTimer struct {
	timings report.Timings
	log     *slog.Logger
	hook    func(stage string, took time.Duration)
}

func newStageTimer(opt Options, runID string) *stageTimer {
	return &stageTimer{log: opt.Logger.With("run", runID), hook: opt.Stage}
}

// done records that stage, begun at start, has ended. A nil timer does
// nothing.
func (t *stageTimer) done(stage string, start time.Time) {
	if t == nil {
		return
	}
	took := time.Since(start)
	t.timings.Add(stage, took)
	// Whole milliseconds over 1000 print as 1.965; Duration.Seconds of a
	// rounded duration can print 1.9649999999999999.
	t.log.Info("stage done", "stage", stage, "seconds", float64(took.Milliseconds())/1000)
	if t.hook != nil {
		t.hook(stage, took)
	}
}
