package batch

import (
	"bytes"
	"context"
	"io"
	"runtime"
	"sync"
	"time"

	"carepay/ledger"
	"carepay/payout"
	"carepay/templates"
)

// WriteLetters writes the letters of a committed run into dir/letters, as
// a run does after deciding. It is exported for benchmarks: a run writes
// its letters through Run.
func WriteLetters(ctx context.Context, lg *ledger.Ledger, runID string, opt Options, dir string) (*LetterReport, error) {
	lg.SetSpoolDir(opt.SpoolDir)
	run, err := lg.Run(ctx, runID)
	if err != nil {
		return nil, err
	}
	return writeLetters(ctx, lg, run, opt, dir)
}

// CollectLetters returns up to n letters of a committed run, built from
// the ledger as WriteLetters builds them (employees' first, then
// providers'), for benchmarks that render the same letters another way.
func CollectLetters(ctx context.Context, lg *ledger.Ledger, runID string, opt Options, n int) ([]*payout.Letter, error) {
	lg.SetSpoolDir(opt.SpoolDir)
	run, err := lg.Run(ctx, runID)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	src, err := newLetterSource(ctx, lg, run, opt)
	if err != nil {
		return nil, err
	}
	var out []*payout.Letter
	err = src.each(ctx, func(l *payout.Letter) error {
		if l == nil {
			return nil
		}
		out = append(out, l)
		if len(out) == n {
			return errEnough
		}
		return nil
	})
	if err != nil && err != errEnough {
		return nil, err
	}
	return out, nil
}

type enough struct{}

func (enough) Error() string { return "enough letters" }

var errEnough error = enough{}

// LetterFloor renders letters with fpdf alone (see
// payout.LetterStyle.WriteLetterCoreFont) on workers goroutines, each
// letter once into memory, and says how long it took: the floor the
// letter stage is measured against.
func LetterFloor(letters []*payout.Letter, returnAddress []string, workers int) (time.Duration, error) {
	tmpl, err := templates.Letter()
	if err != nil {
		return 0, err
	}
	words, err := templates.Reasons()
	if err != nil {
		return 0, err
	}
	style := &payout.LetterStyle{Template: tmpl, ReasonWords: words, ReturnAddress: returnAddress}
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	defer tuneGCForLetters()()
	start := time.Now()
	jobs := make(chan *payout.Letter, 64)
	errs := make(chan error, workers)
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for l := range jobs {
				buf.Reset()
				if err := style.WriteLetterCoreFont(&buf, l); err != nil {
					select {
					case errs <- err:
					default:
					}
				}
				io.Discard.Write(buf.Bytes())
			}
		}()
	}
	for _, l := range letters {
		jobs <- l
	}
	close(jobs)
	wg.Wait()
	elapsed := time.Since(start)
	select {
	case err := <-errs:
		return 0, err
	default:
	}
	return elapsed, nil
}
