package ingest

import (
	"bytes"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/moov-io/ach"

	"carepay/core"
)

// isNACHA reports whether a file starts with a NACHA file header record:
// record type 1, priority code 01, 94 characters, then the end of the
// line, or the batch header (record type 5) of a file sent without line
// breaks.
func isNACHA(head []byte) bool {
	if len(head) < 94 || !bytes.HasPrefix(head, []byte("101")) || bytes.ContainsAny(head[:94], "\r\n,") {
		return false
	}
	return len(head) == 94 || bytes.IndexByte([]byte("\r\n59"), head[94]) >= 0
}

// readBankFile reads a NACHA file the bank sent back: every entry that
// carries a return (addenda 99) or a notification of change (addenda 98)
// is passed on, in file order; any other entry is reported and skipped.
// A file moov-io/ach cannot read is rejected whole.
func readBankFile(r io.Reader, name string, opt Options, rep *FileReport, visit func(*Record) error) error {
	tb := &table{rep: &TableReport{Source: name}, opt: opt}
	t := tb.rep
	rep.Tables = append(rep.Tables, t)
	rd := ach.NewReader(r)
	// Returns and NOCs keep the trace numbers the bank gave them.
	rd.SetValidation(&ach.ValidateOpts{CustomTraceNumbers: true, AllowInvalidCheckDigit: true})
	file, err := rd.Read()
	if err != nil {
		t.Rejected = "not a NACHA file moov-io/ach can read: " + oneLine(err.Error())
		return nil
	}
	t.Kind = BankReturns
	created := file.Header.FileCreationDate
	date, err := time.Parse("060102", created)
	if err != nil {
		t.Warnings = append(t.Warnings, fmt.Sprintf("file creation date %q is not YYMMDD: notices dated by the run date", created))
	}
	row := 0
	for _, b := range file.Batches {
		for _, e := range b.GetEntries() {
			row++
			t.Rows++
			n := &core.BankNotice{Row: row, Amount: core.Cents(e.Amount)}
			if !date.IsZero() {
				n.Date = core.DateOf(date)
			}
			switch {
			case e.Addenda99 != nil:
				a := e.Addenda99
				n.Kind, n.Code, n.OriginalTrace = core.NoticeReturn, strings.TrimSpace(a.ReturnCode), strings.TrimSpace(a.OriginalTraceField())
				if c := a.ReturnCodeField(); c != nil {
					n.Description = c.Reason
				}
			case e.Addenda98 != nil:
				a := e.Addenda98
				n.Kind, n.Code, n.OriginalTrace, n.Amount = core.NoticeChange, strings.TrimSpace(a.ChangeCode), strings.TrimSpace(a.OriginalTraceField()), 0
				if c := a.ChangeCodeField(); c != nil {
					n.Description = c.Reason
				}
				cd := a.ParseCorrectedData(ach.PartialCorrectedData())
				if cd != nil {
					n.Corrected = core.BankAccount{Routing: strings.TrimSpace(cd.RoutingNumber), Number: strings.TrimSpace(cd.AccountNumber), Type: accountType(cd.TransactionCode)}
				}
				if n.Corrected == (core.BankAccount{}) {
					t.RejectedRows++
					tb.keep(&core.RowError{File: name, Row: row, Column: "corrected data", Value: core.MaskAccount(strings.TrimSpace(a.CorrectedData)),
						Msg: fmt.Sprintf("change code %s carries no routing number, account number or account type carepay can use", n.Code)})
					continue
				}
			default:
				t.RejectedRows++
				tb.keep(&core.RowError{File: name, Row: row, Column: "addenda", Value: e.TraceNumber,
					Msg: "an entry without a return (addenda 99) or change (addenda 98) record: not a return or NOC, skipped"})
				continue
			}
			rec := &Record{Kind: BankReturns, Source: name, Row: row, Bank: n}
			err := visit(rec)
			t.Warnings = append(t.Warnings, rec.Notes...)
			if err != nil {
				return err
			}
		}
	}
	if t.Rows == 0 {
		t.Warnings = append(t.Warnings, "no entries: nothing returned or corrected")
	}
	return nil
}

// accountType is the account type an ACH transaction code names ("" for
// none).
func accountType(code int) string {
	switch {
	case code >= 21 && code <= 29:
		return "checking"
	case code >= 31 && code <= 39:
		return "savings"
	}
	return ""
}
