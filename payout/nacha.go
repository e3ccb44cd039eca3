package payout

import (
	"cmp"
	"fmt"
	anyascii "github.com/anyascii/go"
	"io"
	"slices"
	"strings"
	"unicode"

	"github.com/moov-io/ach"
	"golang.org/x/text/unicode/norm"

	"carepay/core"
)

// Originator is the employer's side of the NACHA file, from config.toml.
type Originator struct {
	CompanyName        string // batch header company name, at most 16
	CompanyID          string // company identification, 10
	ODFIRouting        string // originating bank, 9 digits
	DestinationRouting string // immediate destination, 9 digits
	DestinationName    string
	OriginName         string
	EntryDescription   string // company entry description, at most 10
	OffsetRouting      string // balanced offset account; empty: unbalanced file
	OffsetAccount      string
	OffsetAccountType  string // checking or savings
}

// NACHAFile describes one file: when it was created and its modifier.
type NACHAFile struct {
	Created       core.Date
	CreatedTime   string // HHMM
	IDModifier    string // A-Z then 0-9: one per file of the same day
	EffectiveDate core.Date
}

// maxEntryAmount is the largest amount an entry detail's ten-digit field
// holds: 99,999,999.99.
const maxEntryAmount core.Cents = 99_999_999_99

// CheckACHAmount returns why an amount cannot go in a NACHA entry, or "".
func CheckACHAmount(a core.Cents) string {
	if a > maxEntryAmount {
		return fmt.Sprintf("%s is above the 99,999,999.99 a NACHA entry can carry", a.Dollars())
	}
	if a <= 0 {
		return "nothing to pay"
	}
	return ""
}

// ASCII transliterates s for NACHA fields and the positive pay payee,
// which take upper-case ASCII, with anyascii (José Núñez -> JOSE NUNEZ,
// 张伟 -> ZHANGWEI, Юлия -> YULIYA): a name in any script is written, never
// left blank. Emoji and other symbols are dropped; runs of space collapse.
func ASCII(s string) string {
	if out, ok := plainASCII(s); ok {
		return out
	}
	return transliterate(s)
}

// transliterate is ASCII for any text.
func transliterate(s string) string {
	var b strings.Builder
	for _, r := range norm.NFC.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			// a combining mark left after composing: dropped with its accent
		case unicode.Is(unicode.So, r) || unicode.Is(unicode.Sk, r):
			b.WriteByte(' ') // emoji and symbols: no letters to keep
		case r < 0x80:
			b.WriteRune(r)
		default:
			b.WriteString(anyascii.Transliterate(string(r)))
		}
	}
	out := []byte(strings.ToUpper(b.String()))
	for i, c := range out {
		if c < 0x20 || c > 0x7e {
			out[i] = ' '
		}
	}
	return strings.Join(strings.Fields(string(out)), " ")
}

// plainASCII is ASCII for text with no byte outside ASCII, most names:
// the same result without composing or transliterating. The symbols ^
// and ` (Unicode modifier symbols) and control characters become spaces.
func plainASCII(s string) (string, bool) {
	out := make([]byte, 0, len(s))
	space := true // at the start, or after a space: spaces collapse
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x80:
			return "", false
		case c <= ' ' || c == 0x7f || c == '^' || c == '`':
			if !space {
				out = append(out, ' ')
			}
			space = true
			continue
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		out = append(out, c)
		space = false
	}
	if n := len(out); n > 0 && out[n-1] == ' ' {
		out = out[:n-1]
	}
	return string(out), true
}

func cut(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}

// TraceNumber is the trace number of a payment's NACHA entry: the ODFI's
// eight digits, then a sequence drawn from the payment's ID, so that every
// entry a ledger sends has its own and a return or NOC, which names it,
// finds its payment. The sequence is even (twice the ID, wrapping after
// 4,999,999 payments): moov-io/ach numbers an offset entry one after its
// batch's last, which is odd and so never another payment's.
func TraceNumber(odfiRouting string, paymentID int64) string {
	return fmt.Sprintf("%s%07d", odfiRouting[:8], traceSequence(paymentID))
}

func traceSequence(id int64) int {
	return int(2 * (1 + (id-1)%4_999_999))
}

// transactionCode is an entry's NACHA transaction code: a credit to a
// checking (22) or savings (32) account, or the prenote of one (23, 33).
func transactionCode(accountType string, prenote bool) int {
	switch {
	case accountType == "savings" && prenote:
		return ach.SavingsPrenoteCredit
	case accountType == "savings":
		return ach.SavingsCredit
	case prenote:
		return ach.CheckingPrenoteCredit
	}
	return ach.CheckingCredit
}

// WriteNACHA writes the ACH payments as one NACHA file: a PPD batch for
// employees and a CCD batch for providers, credits only, each entry with an
// addenda 05 naming the invoices and statements it pays. It sets each
// payment's TraceNumber. Prenotes (core.MethodPrenote, 0.00) go in the
// batch of their payee type with transaction code 23 or 33 and no
// addenda. The file passes moov-io/ach's validation before a
// byte is written.
func WriteNACHA(w io.Writer, o Originator, f NACHAFile, payments []*core.Payment) error {
	if !ValidRouting(o.ODFIRouting) || !ValidRouting(o.DestinationRouting) {
		return fmt.Errorf("NACHA file: the originating and destination routing numbers (payout.odfi_routing, payout.destination_routing) must be valid")
	}
	fh := ach.NewFileHeader()
	fh.ImmediateDestination = o.DestinationRouting
	fh.ImmediateOrigin = o.ODFIRouting
	fh.FileCreationDate = f.Created.Time().Format("060102")
	fh.FileCreationTime = f.CreatedTime
	fh.FileIDModifier = f.IDModifier
	fh.ImmediateDestinationName = cut(ASCII(o.DestinationName), 23)
	fh.ImmediateOriginName = cut(ASCII(o.OriginName), 23)
	file := ach.NewFile()
	file.SetHeader(fh)

	odfi := o.ODFIRouting[:8]
	for _, class := range []struct {
		payee string
		sec   string
	}{{core.PayeeEmployee, ach.PPD}, {core.PayeeProvider, ach.CCD}} {
		var entries []*core.Payment
		for _, p := range payments {
			if p.PayeeType == class.payee && (p.Method == core.MethodACH && p.Amount > 0 || p.Method == core.MethodPrenote) {
				entries = append(entries, p)
			}
		}
		if len(entries) == 0 {
			continue
		}
		// Trace numbers ascend within a batch.
		slices.SortFunc(entries, func(a, b *core.Payment) int { return cmp.Compare(traceSequence(a.ID), traceSequence(b.ID)) })
		bh := ach.NewBatchHeader()
		bh.ServiceClassCode = ach.CreditsOnly
		bh.CompanyName = cut(ASCII(o.CompanyName), 16)
		bh.CompanyIdentification = o.CompanyID
		bh.StandardEntryClassCode = class.sec
		bh.CompanyEntryDescription = cut(ASCII(o.EntryDescription), 10)
		bh.EffectiveEntryDate = f.EffectiveDate.Time().Format("060102")
		bh.ODFIIdentification = odfi
		batch, err := ach.NewBatch(bh)
		if err != nil {
			return fmt.Errorf("NACHA %s batch: %w", class.sec, err)
		}
		for _, p := range entries {
			prenote := p.Method == core.MethodPrenote
			if why := CheckACHAmount(p.Amount); why != "" && !prenote {
				return fmt.Errorf("NACHA entry for %s %s: %s", p.PayeeType, p.PayeeID, why)
			}
			if prenote && p.Amount != 0 {
				return fmt.Errorf("NACHA prenote for %s %s carries %s: a prenote is for 0.00", p.PayeeType, p.PayeeID, p.Amount.Dollars())
			}
			e := ach.NewEntryDetail()
			e.TransactionCode = transactionCode(p.Bank.Type, prenote)
			e.SetRDFI(p.Bank.Routing)
			e.DFIAccountNumber = p.Bank.Number
			e.Amount = int(p.Amount)
			e.IdentificationNumber = cut(ASCII(p.PayeeID), 15)
			e.IndividualName = cut(ASCII(p.Name), 22)
			trace := traceSequence(p.ID)
			e.SetTraceNumber(odfi, trace)
			p.TraceNumber = e.TraceNumber
			if prenote {
				// Nothing is paid, so nothing is remitted: no addenda.
				batch.AddEntry(e)
				continue
			}
			a := ach.NewAddenda05()
			a.PaymentRelatedInformation = cut(ASCII("CAREPAY "+strings.Join(p.Refs, " ")), 80)
			a.SequenceNumber = 1
			a.EntryDetailSequenceNumber = trace
			e.AddAddenda05(a)
			e.AddendaRecordIndicator = 1
			batch.AddEntry(e)
		}
		if o.OffsetAccount != "" {
			kind := ach.OffsetChecking
			if o.OffsetAccountType == "savings" {
				kind = ach.OffsetSavings
			}
			batch.WithOffset(&ach.Offset{RoutingNumber: o.OffsetRouting, AccountNumber: o.OffsetAccount, AccountType: kind, Description: "OFFSET"})
		}
		if err := batch.Create(); err != nil {
			return fmt.Errorf("NACHA %s batch: %w", class.sec, err)
		}
		file.AddBatch(batch)
	}
	if len(file.Batches) == 0 {
		return nil
	}
	if err := file.Create(); err != nil {
		return fmt.Errorf("NACHA file: %w", err)
	}
	if err := file.Validate(); err != nil {
		return fmt.Errorf("NACHA file does not validate: %w", err)
	}
	if err := ach.NewWriter(w).Write(file); err != nil {
		return fmt.Errorf("writing NACHA file: %w", err)
	}
	return nil
}
