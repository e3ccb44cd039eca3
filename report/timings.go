package report

import (
	"bytes"
	"fmt"
	"time"
)

// Stages of a run, in the order they happen, as named in run.json's
// timings (with a _seconds suffix) and in the -v log.
const (
	StagePull         = "pull"          // fetch, read and spool the drop; registries into the ledger
	StageDecide       = "decide"        // rules and ledger inserts
	StageCommit       = "commit"        // verify the files read, commit the transaction
	StageAcks         = "acks"          // acknowledgements, archiving
	StagePaymentFiles = "payment_files" // NACHA, checks, positive pay, payroll
	StageLetters      = "letters"       // individual letters
	StagePrintBatch   = "print_batch"   // print-batch.pdf volumes
	StageRegister     = "register"      // register.xlsx
	StageDeliver      = "deliver"       // payment files to payroll's folder
)

// Stages lists every stage in the order they happen.
var Stages = []string{StagePull, StageDecide, StageCommit, StageAcks, StagePaymentFiles, StageLetters, StagePrintBatch, StageRegister, StageDeliver}

// Timings says how long each stage of a run took. Unlike the rest of
// run.json they describe the process that wrote the file: a run whose
// outputs were completed by a later run shows that run's output stages and
// no pull, decide or commit.
type Timings struct {
	took map[string]time.Duration
}

// Add counts d against stage.
func (t *Timings) Add(stage string, d time.Duration) {
	if t.took == nil {
		t.took = map[string]time.Duration{}
	}
	t.took[stage] += d
}

// Of returns the time spent in stage.
func (t *Timings) Of(stage string) time.Duration { return t.took[stage] }

// Total adds up every stage.
func (t *Timings) Total() time.Duration {
	var sum time.Duration
	for _, d := range t.took {
		sum += d
	}
	return sum
}

// MarshalJSON writes seconds, to the millisecond, in stage order.
func (t *Timings) MarshalJSON() ([]byte, error) {
	var b bytes.Buffer
	b.WriteByte('{')
	for _, s := range Stages {
		fmt.Fprintf(&b, "%q:%.3f,", s+"_seconds", t.took[s].Seconds())
	}
	fmt.Fprintf(&b, "%q:%.3f}", "total_seconds", t.Total().Seconds())
	return b.Bytes(), nil
}
