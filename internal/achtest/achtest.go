// Package achtest builds the files a bank sends back about an ACH file,
// for tests: returns and notifications of change, with moov-io/ach.
package achtest

import (
	"bytes"
	"strings"
	"testing"

	"github.com/moov-io/ach"
)

// Notice is one entry of a return file a test builds: a return (code R..)
// or a NOC (code C.., corrected account number) of the entry with trace.
type Notice struct {
	Code, Trace, Account string
	Amount               int // the return's amount; the original entry's when 0
}

// BankFile builds, with moov-io/ach, the file the bank sends back about the
// entries of sent (a payments.ach carepay wrote): the ODFI receives it,
// created on created (YYMMDD).
func BankFile(t testing.TB, sent []byte, created string, notices []Notice) []byte {
	t.Helper()
	orig, err := ach.NewReader(bytes.NewReader(sent)).Read()
	if err != nil {
		t.Fatal(err)
	}
	entries := map[string]*ach.EntryDetail{}
	for _, b := range orig.Batches {
		for _, e := range b.GetEntries() {
			entries[e.TraceNumber] = e
		}
	}
	fh := ach.NewFileHeader()
	fh.ImmediateDestination, fh.ImmediateOrigin = orig.Header.ImmediateOrigin, orig.Header.ImmediateDestination
	fh.ImmediateDestinationName, fh.ImmediateOriginName = "ACME BENEFITS", "FEDERAL RESERVE BANK"
	fh.FileCreationDate, fh.FileCreationTime, fh.FileIDModifier = created, "0800", "A"
	out := ach.NewFile()
	out.SetHeader(fh)
	rdfi := "23138010"
	for i, n := range notices {
		e0 := entries[n.Trace]
		isNOC := strings.HasPrefix(n.Code, "C")
		bh := ach.NewBatchHeader()
		bh.ServiceClassCode = ach.CreditsOnly
		bh.CompanyName, bh.CompanyIdentification = "ACME BENEFITS", "1234567890"
		bh.StandardEntryClassCode = ach.PPD
		bh.CompanyEntryDescription = "CAREPAY"
		bh.EffectiveEntryDate = created
		bh.ODFIIdentification = rdfi
		if isNOC {
			bh.StandardEntryClassCode = ach.COR
			bh.ServiceClassCode = ach.MixedDebitsAndCredits
		}
		e := ach.NewEntryDetail()
		e.TransactionCode = ach.CheckingReturnNOCCredit
		e.RDFIIdentification, e.CheckDigit = "01100001", "5"
		e.DFIAccountNumber = "987654321"
		e.IndividualName, e.IdentificationNumber = "RETURNED", "X"
		e.Amount = n.Amount
		origDFI := "01100001"
		if e0 != nil {
			e.RDFIIdentification, e.CheckDigit, e.DFIAccountNumber = e0.RDFIIdentification, e0.CheckDigit, e0.DFIAccountNumber
			e.IndividualName, e.IdentificationNumber = e0.IndividualName, e0.IdentificationNumber
			origDFI = e0.RDFIIdentification
			if n.Amount == 0 {
				e.Amount = e0.Amount
			}
		}
		e.SetTraceNumber(rdfi, i+1)
		e.AddendaRecordIndicator = 1
		if isNOC {
			e.Amount = 0
			a := ach.NewAddenda98()
			a.ChangeCode, a.OriginalTrace, a.OriginalDFI = n.Code, n.Trace, origDFI
			a.CorrectedData = ach.WriteCorrectionData(n.Code, &ach.CorrectedData{AccountNumber: n.Account})
			a.TraceNumber = e.TraceNumber
			e.Addenda98, e.Category = a, ach.CategoryNOC
		} else {
			a := ach.NewAddenda99()
			a.ReturnCode, a.OriginalTrace, a.OriginalDFI = n.Code, n.Trace, origDFI
			a.TraceNumber = e.TraceNumber
			e.Addenda99, e.Category = a, ach.CategoryReturn
		}
		b, err := ach.NewBatch(bh)
		if err != nil {
			t.Fatal(err)
		}
		b.AddEntry(e)
		if err := b.Create(); err != nil {
			t.Fatalf("notice %d: %v", i, err)
		}
		out.AddBatch(b)
	}
	if err := out.Create(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := ach.NewWriter(&buf).Write(out); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}
