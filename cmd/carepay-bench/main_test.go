package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"strings"
	"testing"
)

// TestSmallRunPrintsEveryStage runs the benchmark on a small drop: it
// checks that every stage and its floor are printed, not how fast they are.
func TestSmallRunPrintsEveryStage(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--lines", "2000", "--config", "../../config.toml", "--dir", t.TempDir(), "--scaling"}, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	for _, want := range []string{"| pull (read + parse the drop) |", "| decide + commit |", "| payment files |", "| letters |",
		"| print batch |", "| register.xlsx |", "| whole run |", "scaling: 2000 lines against 200",
		"letters, print batch and register.xlsx took "} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
}

func TestHelp(t *testing.T) {
	var out, errb bytes.Buffer
	if err := run(context.Background(), []string{"--help"}, &out, &errb); !errors.Is(err, flag.ErrHelp) || !strings.Contains(errb.String(), "Usage: carepay-bench") {
		t.Errorf("--help: %v %q", err, errb.String())
	}
}
