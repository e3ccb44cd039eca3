package batch

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"carepay/ledger"
	"carepay/safefile"
)

// Sink is where a run's payment files go (payroll's SFTP folder). Put
// writes name whole or not at all; Exists says whether it is there and
// its size, so that a delivery interrupted after the upload is recognised
// rather than repeated.
type Sink interface {
	Name() string
	Put(ctx context.Context, name string, r io.Reader, size int64) error
	Exists(ctx context.Context, name string) (bool, int64, error)
}

// Mailer sends a letter as a PDF attachment.
type Mailer interface {
	SendLetter(ctx context.Context, to, subject, body, filename string, pdf []byte) error
}

// paymentFiles are the files delivered to payroll.
var paymentFiles = []string{"payments.ach", "checks.csv", "positive-pay.csv", "payroll.csv"}

// deliver sends the run's payment files to every sink, each once: the
// ledger records every delivery, and a file found on the sink with the
// right size after a crash is recorded, not sent again. Remote names carry
// the run ID.
func deliver(ctx context.Context, lg *ledger.Ledger, runID, dir string, sinks []Sink) error {
	for _, sink := range sinks {
		for _, name := range paymentFiles {
			path := filepath.Join(dir, name)
			st, err := os.Stat(path)
			if os.IsNotExist(err) {
				continue
			}
			if err != nil {
				return fmt.Errorf("delivering %s: %w", name, err)
			}
			remote := runID + "-" + name
			done, err := lg.Delivered(ctx, runID, sink.Name(), remote)
			if err != nil {
				return err
			}
			if done {
				continue
			}
			sha, err := safefile.SHA256(path)
			if err != nil {
				return err
			}
			there, size, err := sink.Exists(ctx, remote)
			if err != nil {
				return fmt.Errorf("delivering %s to %s: %w", remote, sink.Name(), err)
			}
			if !there || size != st.Size() {
				// The last moment before the upload: a process whose run
				// lock went sends nothing (see ledger.CheckRunLock).
				if err := lg.CheckRunLock(ctx); err != nil {
					return fmt.Errorf("delivering %s to %s: %w", remote, sink.Name(), err)
				}
				f, err := os.Open(path)
				if err != nil {
					return fmt.Errorf("delivering %s: %w", name, err)
				}
				err = sink.Put(ctx, remote, f, st.Size())
				f.Close()
				if err != nil {
					return fmt.Errorf("delivering %s to %s: %w", remote, sink.Name(), err)
				}
			}
			if err := lg.RecordDelivery(ctx, runID, sink.Name(), remote, sha); err != nil {
				return err
			}
		}
	}
	return nil
}
