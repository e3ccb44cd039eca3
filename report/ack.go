package report

import (
	"fmt"
	"strings"

	"carepay/ingest"
)

// Ack renders the acknowledgement of one input file: what was taken, what
// was rejected and where, in words for the person who dropped it.
// status is taken, rejected or skipped; firstRun names the run that took a
// skipped file's bytes first.
func Ack(runID, asOf, name, status, firstRun string, rep *ingest.FileReport) []byte {
	var b strings.Builder
	fmt.Fprintf(&b, "carepay acknowledgement\nfile: %s\nrun: %s\ndate: %s\n", name, runID, asOf)
	switch status {
	case "skipped":
		fmt.Fprintf(&b, "status: skipped: the same bytes were processed in run %s; nothing was decided again\n", firstRun)
		return []byte(b.String())
	case "rejected":
		b.WriteString("status: rejected: nothing in this file was taken\n")
	default:
		b.WriteString("status: taken\n")
	}
	if rep == nil {
		return []byte(b.String())
	}
	rows, bad := 0, 0
	for _, t := range rep.Tables {
		rows += t.Rows
		bad += t.RejectedRows
	}
	fmt.Fprintf(&b, "rows: %d read, %d taken, %d rejected\n", rows, rows-bad, bad)
	for _, t := range rep.Tables {
		b.WriteString("\n")
		if t.Rejected != "" {
			fmt.Fprintf(&b, "table %s: rejected whole: %s\n", t.Source, t.Rejected)
			continue
		}
		fmt.Fprintf(&b, "table %s: %s, %d rows, %d taken, %d rejected\n", t.Source, t.Kind, t.Rows, t.Taken(), t.RejectedRows)
		for _, w := range t.Warnings {
			fmt.Fprintf(&b, "  warning: %s\n", w)
		}
		for _, e := range t.Errors {
			fmt.Fprintf(&b, "  %s\n", e.Error())
		}
		if t.MoreErrors > 0 {
			fmt.Fprintf(&b, "  ... and %d more errors\n", t.MoreErrors)
		}
	}
	return []byte(b.String())
}
