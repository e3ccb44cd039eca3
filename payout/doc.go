// Package payout turns a run's payments into the files payroll and the
// bank load: the NACHA file (github.com/moov-io/ach), the check register
// and positive pay file, the payroll import, the register workbook and the
// PDF remittance letters. It works from plain core values handed to it and
// writes to the io.Writers it is given; it never reads the ledger, so a file
// rebuilt for the same run from the same ledger is byte-identical.
package payout
