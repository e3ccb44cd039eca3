// Package report writes what a run tells people: decisions.csv (one row per
// service line decided), run.json (counts and totals) and the
// acknowledgement of every input file. It works from plain values handed to
// it and does no ledger I/O of its own, so that a report rewritten for the
// same run from the same ledger is byte-identical.
package report
