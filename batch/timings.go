package batch

import (
	"log/slog"
	"sync"
	"time"

	"carepay/report"
)

// stageTimer fills the timings of one run (report.Stages): the -v log
// gets a line as each stage ends, and so does Options.Stage.
type stageTimer struct {
	mu      sync.Mutex // the register's stage ends beside the letters'
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
	t.took(stage, time.Since(start))
}

// took records that stage has ended, having taken took.
func (t *stageTimer) took(stage string, took time.Duration) {
	if t == nil {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	t.timings.Add(stage, took)
	// Whole milliseconds over 1000 print as 1.965; Duration.Seconds of a
	// rounded duration can print 1.9649999999999999.
	t.log.Info("stage done", "stage", stage, "seconds", float64(took.Milliseconds())/1000)
	if t.hook != nil {
		t.hook(stage, took)
	}
}
