package payout

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/moov-io/ach"

	"carepay/core"
)

func TestASCII(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"spanish_accents", "José Núñez", "JOSE NUNEZ"},
		{"french_accents", "Crèche Étoile", "CRECHE ETOILE"},
		{"sharp_s", "Straße", "STRASSE"},
		{"ae_and_o_slash", "Ærø Øster", "AERO OSTER"},
		{"diaeresis", "Zoë Brontë", "ZOE BRONTE"},
		{"cedilla_and_tilde", "François Conceição", "FRANCOIS CONCEICAO"},
		{"plain_ascii_upper_cased", "Ann O'Brien-Lee & Co.", "ANN O'BRIEN-LEE & CO."},
		{"digits_kept", "Unit 4b", "UNIT 4B"},
		{"emoji_becomes_space", "Ann😀Lee", "ANN LEE"},
		{"emoji_between_spaces_collapsed", "Ann 😀 Lee", "ANN LEE"},
		// Other scripts are transliterated (anyascii), never left blank.
		{"cjk_in_latin", "Li 李 Wei", "LI LI WEI"},
		{"cjk_only", "李明", "LIMING"},
		{"polish_and_turkish", "Łukasz Şahin", "LUKASZ SAHIN"},
		{"cyrillic", "Юлия Иванова", "YULIYA IVANOVA"},
		{"greek", "Ελένη", "ELENI"},
		{"decomposed_inside_word", "Jose\u0301s", "JOSES"},
		{"tabs_collapsed", "Ann\t\tLee", "ANN LEE"},
		{"newline_collapsed", "Ann\nLee\r\n", "ANN LEE"},
		{"no_break_space", "Ann\u00a0Lee", "ANN LEE"},
		{"leading_and_trailing_spaces", "  Ann   Lee  ", "ANN LEE"},
		{"empty", "", ""},
		// already decomposed input (e + combining acute) gives the same
		{"decomposed_input", "Jose\u0301", "JOSE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := ASCII(tt.in)
			if got != tt.want {
				t.Errorf("ASCII(%q) = %q, want %q", tt.in, got, tt.want)
			}
			for i := 0; i < len(got); i++ {
				if got[i] < 0x20 || got[i] > 0x7e {
					t.Errorf("ASCII(%q) = %q holds byte %#x", tt.in, got, got[i])
				}
			}
		})
	}
}

func TestCheckACHAmount(t *testing.T) {
	tests := []struct {
		name   string
		amount core.Cents
		want   string
	}{
		{"one_cent", 1, ""},
		{"ordinary", 1234_56, ""},
		{"largest_entry", 99_999_999_99, ""},
		{"one_cent_too_many", 100_000_000_00, "$100,000,000.00 is above the 99,999,999.99 a NACHA entry can carry"},
		{"far_too_many", 1_234_567_890_12, "$1,234,567,890.12 is above the 99,999,999.99 a NACHA entry can carry"},
		{"zero", 0, "nothing to pay"},
		{"negative", -5_00, "nothing to pay"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CheckACHAmount(tt.amount); got != tt.want {
				t.Errorf("CheckACHAmount(%d) = %q, want %q", tt.amount, got, tt.want)
			}
		})
	}
}

func testOriginator() Originator {
	return Originator{
		CompanyName:        "Acme Health Care Inc", // 20: cut to 16
		CompanyID:          "1234567890",
		ODFIRouting:        "021000021",
		DestinationRouting: "011000015",
		DestinationName:    "Federal Reserve Bank",
		OriginName:         "Acme Corp",
		EntryDescription:   "CAREPAY",
	}
}

func testNACHAFile() NACHAFile {
	return NACHAFile{
		Created:       core.NewDate(2026, time.March, 9),
		CreatedTime:   "1230",
		IDModifier:    "B",
		EffectiveDate: core.NewDate(2026, time.March, 10),
	}
}

// testACHPayments returns two employees (one savings, one with an accented
// name), two providers, and three payments WriteNACHA must leave out: a
// check, a zero ACH payment and a payroll payment.
func testACHPayments() []*core.Payment {
	return []*core.Payment{
		{ID: 1, PayeeType: core.PayeeEmployee, PayeeID: "E001", Name: "José Núñez", Method: core.MethodACH,
			Amount: 1234_56, Refs: []string{"INV-1001", "INV-1002"},
			Bank: core.BankAccount{Routing: "121042882", Number: "123456789", Type: "checking"}},
		{ID: 2, PayeeType: core.PayeeProvider, PayeeID: "P01", Name: "Crèche Étoile LLC", Method: core.MethodACH,
			Amount: 2500_00, Refs: []string{"ST-2026-03-P01"},
			Bank: core.BankAccount{Routing: "011000015", Number: "55501234", Type: "checking"}},
		{ID: 3, PayeeType: core.PayeeEmployee, PayeeID: "E003", Name: "Bob Check", Method: core.MethodCheck,
			Amount: 50_00, Refs: []string{"INV-1005"}, CheckNumber: 100001},
		{ID: 4, PayeeType: core.PayeeEmployee, PayeeID: "E002", Name: "Ann Lee", Method: core.MethodACH,
			Amount: 80_00, Refs: []string{"INV-1003"},
			Bank: core.BankAccount{Routing: "031300012", Number: "987654321", Type: "savings"}},
		{ID: 5, PayeeType: core.PayeeEmployee, PayeeID: "E004", Name: "Zero Amount", Method: core.MethodACH,
			Amount: 0, Refs: []string{"INV-1006"},
			Bank: core.BankAccount{Routing: "021000021", Number: "111122223333", Type: "checking"}},
		{ID: 6, PayeeType: core.PayeeProvider, PayeeID: "P02", Name: "Sunny Days Daycare", Method: core.MethodACH,
			Amount: 99_99, Refs: []string{"ST-2026-03-P02"},
			Bank: core.BankAccount{Routing: "021000021", Number: "4444", Type: "checking"}},
		{ID: 7, PayeeType: core.PayeeEmployee, PayeeID: "E005", Name: "Pay Roll", Method: core.MethodPayroll,
			Amount: 12_00, Refs: []string{"INV-1007"}},
	}
}

// readNACHA parses and validates what WriteNACHA wrote.
func readNACHA(t *testing.T, b []byte) ach.File {
	t.Helper()
	for i, line := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
		if len(line) != 94 {
			t.Errorf("record %d is %d characters long, want 94: %q", i+1, len(line), line)
		}
	}
	file, err := ach.NewReader(bytes.NewReader(b)).Read()
	if err != nil {
		t.Fatalf("moov-io/ach cannot read the file: %v\n%s", err, b)
	}
	if err := file.Validate(); err != nil {
		t.Fatalf("file does not validate: %v\n%s", err, b)
	}
	return file
}

type wantEntry struct {
	code    int
	routing string // 9 digits
	account string
	amount  int
	id      string
	name    string
	trace   string
	addenda string
}

func TestWriteNACHA(t *testing.T) {
	payments := testACHPayments()
	var buf bytes.Buffer
	if err := WriteNACHA(&buf, testOriginator(), testNACHAFile(), payments); err != nil {
		t.Fatal(err)
	}
	file := readNACHA(t, buf.Bytes())

	t.Run("file_header", func(t *testing.T) {
		h := file.Header
		if h.FileIDModifier != "B" {
			t.Errorf("FileIDModifier = %q, want B", h.FileIDModifier)
		}
		if h.FileCreationDate != "260309" || h.FileCreationTime != "1230" {
			t.Errorf("created %s %s, want 260309 1230", h.FileCreationDate, h.FileCreationTime)
		}
		if h.ImmediateDestination != "011000015" || h.ImmediateOrigin != "021000021" {
			t.Errorf("destination %q origin %q, want 011000015 and 021000021", h.ImmediateDestination, h.ImmediateOrigin)
		}
		if got := strings.TrimSpace(h.ImmediateDestinationName); got != "FEDERAL RESERVE BANK" {
			t.Errorf("ImmediateDestinationName = %q", got)
		}
		if got := strings.TrimSpace(h.ImmediateOriginName); got != "ACME CORP" {
			t.Errorf("ImmediateOriginName = %q", got)
		}
	})

	if len(file.Batches) != 2 {
		t.Fatalf("%d batches, want 2 (PPD then CCD)", len(file.Batches))
	}
	batches := []struct {
		name    string
		sec     string
		credit  int
		entries []wantEntry
	}{
		{"ppd_employees", ach.PPD, 1234_56 + 80_00, []wantEntry{
			{22, "121042882", "123456789", 1234_56, "E001", "JOSE NUNEZ", "021000020000002", "CAREPAY INV-1001 INV-1002"},
			{32, "031300012", "987654321", 80_00, "E002", "ANN LEE", "021000020000008", "CAREPAY INV-1003"},
		}},
		{"ccd_providers", ach.CCD, 2500_00 + 99_99, []wantEntry{
			{22, "011000015", "55501234", 2500_00, "P01", "CRECHE ETOILE LLC", "021000020000004", "CAREPAY ST-2026-03-P01"},
			{22, "021000021", "4444", 99_99, "P02", "SUNNY DAYS DAYCARE", "021000020000012", "CAREPAY ST-2026-03-P02"},
		}},
	}
	for i, wb := range batches {
		t.Run(wb.name, func(t *testing.T) {
			b := file.Batches[i]
			h := b.GetHeader()
			if h.StandardEntryClassCode != wb.sec {
				t.Errorf("SEC %s, want %s", h.StandardEntryClassCode, wb.sec)
			}
			if h.ServiceClassCode != ach.CreditsOnly {
				t.Errorf("service class %d, want %d (credits only)", h.ServiceClassCode, ach.CreditsOnly)
			}
			if h.EffectiveEntryDate != "260310" {
				t.Errorf("EffectiveEntryDate %q, want 260310", h.EffectiveEntryDate)
			}
			if h.CompanyName != "ACME HEALTH CARE" || h.CompanyIdentification != "1234567890" ||
				h.CompanyEntryDescription != "CAREPAY" || h.ODFIIdentification != "02100002" {
				t.Errorf("batch header company %q id %q description %q ODFI %q",
					h.CompanyName, h.CompanyIdentification, h.CompanyEntryDescription, h.ODFIIdentification)
			}
			c := b.GetControl()
			if c.TotalCreditEntryDollarAmount != wb.credit || c.TotalDebitEntryDollarAmount != 0 {
				t.Errorf("batch control credits %d debits %d, want %d and 0",
					c.TotalCreditEntryDollarAmount, c.TotalDebitEntryDollarAmount, wb.credit)
			}
			entries := b.GetEntries()
			if len(entries) != len(wb.entries) {
				t.Fatalf("%d entries, want %d", len(entries), len(wb.entries))
			}
			for j, we := range wb.entries {
				e := entries[j]
				if e.TransactionCode != we.code {
					t.Errorf("entry %d transaction code %d, want %d", j, e.TransactionCode, we.code)
				}
				if got := e.RDFIIdentification + e.CheckDigit; got != we.routing {
					t.Errorf("entry %d routing %s, want %s", j, got, we.routing)
				}
				if got := strings.TrimSpace(e.DFIAccountNumber); got != we.account {
					t.Errorf("entry %d account %q, want %q", j, got, we.account)
				}
				if e.Amount != we.amount {
					t.Errorf("entry %d amount %d, want %d", j, e.Amount, we.amount)
				}
				if got := strings.TrimSpace(e.IdentificationNumber); got != we.id {
					t.Errorf("entry %d identification %q, want %q", j, got, we.id)
				}
				if got := strings.TrimSpace(e.IndividualName); got != we.name {
					t.Errorf("entry %d IndividualName %q, want %q", j, got, we.name)
				}
				if e.TraceNumber != we.trace {
					t.Errorf("entry %d trace %s, want %s", j, e.TraceNumber, we.trace)
				}
				if e.AddendaRecordIndicator != 1 || len(e.Addenda05) != 1 {
					t.Fatalf("entry %d: addenda indicator %d with %d addenda 05, want 1 and 1",
						j, e.AddendaRecordIndicator, len(e.Addenda05))
				}
				a := e.Addenda05[0]
				if got := strings.TrimSpace(a.PaymentRelatedInformation); got != we.addenda {
					t.Errorf("entry %d addenda %q, want %q", j, got, we.addenda)
				}
				if !strings.HasPrefix(a.PaymentRelatedInformation, "CAREPAY ") {
					t.Errorf("entry %d addenda %q does not start with CAREPAY", j, a.PaymentRelatedInformation)
				}
				if a.SequenceNumber != 1 || a.EntryDetailSequenceNumber != lastSeven(we.trace) {
					t.Errorf("entry %d addenda sequence %d entry sequence %d, want 1 and the trace's last 7 digits",
						j, a.SequenceNumber, a.EntryDetailSequenceNumber)
				}
			}
		})
	}

	t.Run("trace_numbers_set_on_payments", func(t *testing.T) {
		// The ODFI's 8 digits, then twice the payment's ID.
		want := map[int64]string{1: "021000020000002", 2: "021000020000004", 3: "", 4: "021000020000008",
			5: "", 6: "021000020000012", 7: ""}
		for _, p := range payments {
			if p.TraceNumber != want[p.ID] {
				t.Errorf("payment %d (%s %s) trace %q, want %q", p.ID, p.Method, p.PayeeID, p.TraceNumber, want[p.ID])
			}
		}
	})

	t.Run("left_out", func(t *testing.T) {
		for _, b := range file.Batches {
			for _, e := range b.GetEntries() {
				switch strings.TrimSpace(e.IdentificationNumber) {
				case "E003", "E004", "E005":
					t.Errorf("entry for %s (check, zero amount or payroll) is in the file", e.IdentificationNumber)
				}
			}
		}
	})

	t.Run("file_control", func(t *testing.T) {
		c := file.Control
		if c.BatchCount != 2 || c.EntryAddendaCount != 8 {
			t.Errorf("file control: %d batches, %d entries and addenda; want 2 and 8", c.BatchCount, c.EntryAddendaCount)
		}
		if c.TotalCreditEntryDollarAmountInFile != 1234_56+80_00+2500_00+99_99 || c.TotalDebitEntryDollarAmountInFile != 0 {
			t.Errorf("file control credits %d debits %d", c.TotalCreditEntryDollarAmountInFile, c.TotalDebitEntryDollarAmountInFile)
		}
	})
}

// lastSeven returns the value of the last 7 digits of a trace number,
// which the entry's addenda repeat as the entry detail sequence number.
func lastSeven(trace string) int {
	n, err := strconv.Atoi(trace[8:])
	if err != nil {
		panic(err)
	}
	return n
}

// TestWriteNACHAOffset checks that with an offset account each batch
// balances: one debit to the employer's account for the batch's credits.
// And that every trace number, the offsets' included, is used once in the
// file, as NACHA requires: moov-io/ach numbers a batch's offset entry as
// the batch's last trace number + 1, which WriteNACHA's own counter must
// then skip.
func TestWriteNACHAOffset(t *testing.T) {
	tests := []struct {
		name     string
		kind     string
		wantCode int
	}{
		{"checking_offset", "checking", ach.CheckingDebit},
		{"savings_offset", "savings", ach.SavingsDebit},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := testOriginator()
			o.OffsetRouting, o.OffsetAccount, o.OffsetAccountType = "021000021", "7778889990", tt.kind
			payments := testACHPayments()
			var buf bytes.Buffer
			if err := WriteNACHA(&buf, o, testNACHAFile(), payments); err != nil {
				t.Fatal(err)
			}
			file := readNACHA(t, buf.Bytes())
			if len(file.Batches) != 2 {
				t.Fatalf("%d batches, want 2", len(file.Batches))
			}
			wantCredits := []int{1234_56 + 80_00, 2500_00 + 99_99}
			for i, b := range file.Batches {
				t.Run(fmt.Sprintf("batch_%d_balanced", i+1), func(t *testing.T) {
					c := b.GetControl()
					if c.TotalCreditEntryDollarAmount != wantCredits[i] || c.TotalDebitEntryDollarAmount != wantCredits[i] {
						t.Errorf("batch control: credits %d debits %d, want both %d",
							c.TotalCreditEntryDollarAmount, c.TotalDebitEntryDollarAmount, wantCredits[i])
					}
					var credits, debits, offsets int
					for _, e := range b.GetEntries() {
						switch e.TransactionCode {
						case ach.CheckingCredit, ach.SavingsCredit:
							credits += e.Amount
						case ach.CheckingDebit, ach.SavingsDebit:
							debits += e.Amount
							offsets++
							if e.TransactionCode != tt.wantCode || strings.TrimSpace(e.DFIAccountNumber) != "7778889990" ||
								e.RDFIIdentification+e.CheckDigit != "021000021" {
								t.Errorf("offset entry code %d account %q routing %s%s", e.TransactionCode,
									e.DFIAccountNumber, e.RDFIIdentification, e.CheckDigit)
							}
						default:
							t.Errorf("transaction code %d", e.TransactionCode)
						}
					}
					if credits != wantCredits[i] || debits != wantCredits[i] || offsets != 1 {
						t.Errorf("entries credit %d and debit %d in %d offsets, want %d each in 1 offset",
							credits, debits, offsets, wantCredits[i])
					}
				})
			}
			t.Run("trace_numbers_unique_in_file", func(t *testing.T) {
				seen := map[string]int{}
				for i, b := range file.Batches {
					for _, e := range b.GetEntries() {
						if first, dup := seen[e.TraceNumber]; dup {
							t.Errorf("trace number %s (%s) in batch %d is already used in batch %d",
								e.TraceNumber, strings.TrimSpace(e.IndividualName), i+1, first)
						}
						seen[e.TraceNumber] = i + 1
					}
				}
				for _, p := range payments {
					if p.Method == core.MethodACH && p.Amount > 0 && seen[p.TraceNumber] == 0 {
						t.Errorf("payment %d trace %q is not in the file", p.ID, p.TraceNumber)
					}
				}
			})
		})
	}
}

func TestWriteNACHARefused(t *testing.T) {
	good := testOriginator()
	tests := []struct {
		name     string
		o        Originator
		payments func() []*core.Payment
		wantErr  string
	}{
		{"odfi_check_digit", func() Originator { o := good; o.ODFIRouting = "021000022"; return o }(), testACHPayments,
			"routing numbers"},
		{"odfi_missing", func() Originator { o := good; o.ODFIRouting = ""; return o }(), testACHPayments,
			"routing numbers"},
		{"odfi_eight_digits", func() Originator { o := good; o.ODFIRouting = "02100002"; return o }(), testACHPayments,
			"routing numbers"},
		{"destination_check_digit", func() Originator { o := good; o.DestinationRouting = "011000016"; return o }(),
			testACHPayments, "routing numbers"},
		{"destination_letters", func() Originator { o := good; o.DestinationRouting = "01100001X"; return o }(),
			testACHPayments, "routing numbers"},
		{"amount_above_entry_field", good, func() []*core.Payment {
			ps := testACHPayments()
			ps[3].Amount = 100_000_000_00
			return ps
		}, "99,999,999.99"},
		{"payee_routing_check_digit", good, func() []*core.Payment {
			ps := testACHPayments()
			ps[0].Bank.Routing = "121042883"
			return ps
		}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := WriteNACHA(&buf, tt.o, testNACHAFile(), tt.payments())
			if err == nil {
				t.Fatalf("no error; wrote\n%s", buf.String())
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not mention %q", err, tt.wantErr)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", buf.Len())
			}
		})
	}
}

// TestWriteNACHANoACH: a run with no ACH payment writes no file at all.
func TestWriteNACHANoACH(t *testing.T) {
	tests := []struct {
		name     string
		payments []*core.Payment
	}{
		{"none", nil},
		{"checks_payroll_and_zero_only", func() []*core.Payment {
			ps := testACHPayments()
			return []*core.Payment{ps[2], ps[4], ps[6]}
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := WriteNACHA(&buf, testOriginator(), testNACHAFile(), tt.payments); err != nil {
				t.Fatal(err)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %q", buf.String())
			}
		})
	}
}

// TestPlainASCIIIsTransliterate: the fast path for ASCII text gives what
// the full transliteration gives, for every string of one or two ASCII
// bytes and for longer random ones.
func TestPlainASCIIIsTransliterate(t *testing.T) {
	check := func(s string) {
		t.Helper()
		got, ok := plainASCII(s)
		if want := transliterate(s); !ok || got != want {
			t.Fatalf("plainASCII(%q) = %q, %v; transliterate gives %q", s, got, ok, want)
		}
	}
	for a := 0; a < 0x80; a++ {
		check(string(rune(a)))
		for b := 0; b < 0x80; b++ {
			check(string([]byte{byte(a), byte(b)}))
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, 1+rng.IntN(40))
		for i := range b {
			b[i] = byte(rng.IntN(0x80))
		}
		check(string(b))
	}
	if _, ok := plainASCII("José"); ok {
		t.Error("plainASCII took text with a byte outside ASCII")
	}
}
