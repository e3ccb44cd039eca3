package payout_test

import (
	"bytes"
	"fmt"
	"strings"
	"time"

	"carepay/core"
	"carepay/payout"
)

// ExampleWriteNACHA writes one employee and one provider payment.
//
// The output below was generated once and then checked field by field
// against the NACHA record layouts (positions 1-based, inclusive):
//
// File header (1): 2-3 priority 01; 4-13 immediate destination
// " 011000015" and 14-23 immediate origin " 021000021" (blank, then
// the nine digits); 24-29 creation date 260309; 30-33 time 1230;
// 34 modifier A; 35-37 record size 094; 38-39 blocking factor 10;
// 40 format code 1; 41-63 and 64-86 the two names, upper case, padded
// to 23; 87-94 reference code blank.
//
// Batch headers (5): 2-4 service class 220 (credits only); 5-20
// company name ACME HEALTH CARE (16); 21-40 discretionary data blank;
// 41-50 company id 1234567890; 51-53 SEC PPD for the employee, CCD for
// the provider; 54-63 entry description CAREPAY padded to 10; 64-69
// descriptive date blank; 70-75 effective date 260310; 76-78
// settlement date blank (the ACH operator fills it); 79 originator
// status 1; 80-87 ODFI 02100002; 88-94 batch numbers 0000001, 0000002.
//
// Entries (6): 2-3 transaction code 22 (checking credit) for José,
// 32 (savings credit) for the crèche; 4-11 RDFI 12104288 and
// 01100001, 12 check digits 2 and 5; 13-29 account numbers
// left-justified in 17; 30-39 amounts 0000123456 (1,234.56) and
// 0000250000 (2,500.00); 40-54 identification E001, P01; 55-76 names
// JOSE NUNEZ and CRECHE ETOILE, accents dropped; 77-78 discretionary
// blank; 79 addenda indicator 1; 80-94 trace numbers: ODFI 02100002
// then sequence 0000001, 0000002.
//
// Addenda (7): 2-3 type 05; 4-83 "CAREPAY " and the refs, padded to
// 80; 84-87 addenda sequence 0001; 88-94 entry sequence, the last 7
// digits of the entry's trace number.
//
// Batch controls (8): 2-4 service class 220; 5-10 entries and addenda
// 000002; 11-20 entry hash = sum of the RDFI 8-digit numbers:
// 0012104288 and 0001100001; 21-32 debits zero; 33-44 credits
// 000000123456 and 000000250000; 45-54 company id; 55-73 MAC and 74-79
// reserved blank; 80-87 ODFI; 88-94 batch number as in its header.
//
// File control (9): 2-7 batch count 000002; 8-13 block count 000001
// (10 records make exactly one block of 10, so no 9999... filler);
// 14-21 entries and addenda 00000004; 22-31 entry hash 12104288 +
// 01100001 = 0013204289; 32-43 debits zero; 44-55 credits
// 123456 + 250000 = 000000373456; 56-94 reserved blank.
//
// The last line is the trace number set back on each payment.
func ExampleWriteNACHA() {
	o := payout.Originator{
		CompanyName:        "Acme Health Care",
		CompanyID:          "1234567890",
		ODFIRouting:        "021000021",
		DestinationRouting: "011000015",
		DestinationName:    "Federal Reserve Bank",
		OriginName:         "Acme Corp",
		EntryDescription:   "CAREPAY",
	}
	f := payout.NACHAFile{
		Created:       core.NewDate(2026, time.March, 9),
		CreatedTime:   "1230",
		IDModifier:    "A",
		EffectiveDate: core.NewDate(2026, time.March, 10),
	}
	payments := []*core.Payment{
		{ID: 1, PayeeType: core.PayeeEmployee, PayeeID: "E001", Name: "José Núñez", Method: core.MethodACH,
			Amount: 1234_56, Refs: []string{"INV-1001", "INV-1002"},
			Bank: core.BankAccount{Routing: "121042882", Number: "123456789", Type: "checking"}},
		{ID: 2, PayeeType: core.PayeeProvider, PayeeID: "P01", Name: "Crèche Étoile", Method: core.MethodACH,
			Amount: 2500_00, Refs: []string{"ST-2026-03-P01"},
			Bank: core.BankAccount{Routing: "011000015", Number: "55501234", Type: "savings"}},
	}
	var buf bytes.Buffer
	if err := payout.WriteNACHA(&buf, o, f, payments); err != nil {
		fmt.Println(err)
		return
	}
	// Each record is printed with a | after its 94th character, so that
	// trailing blanks show.
	for _, record := range strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n") {
		fmt.Println(record + "|")
	}
	fmt.Println(payments[0].TraceNumber, payments[1].TraceNumber)
	// Output:
	// 101 011000015 0210000212603091230A094101FEDERAL RESERVE BANK   ACME CORP                      |
	// 5220ACME HEALTH CARE                    1234567890PPDCAREPAY         260310   1021000020000001|
	// 622121042882123456789        0000123456E001           JOSE NUNEZ              1021000020000002|
	// 705CAREPAY INV-1001 INV-1002                                                       00010000002|
	// 822000000200121042880000000000000000001234561234567890                         021000020000001|
	// 5220ACME HEALTH CARE                    1234567890CCDCAREPAY         260310   1021000020000002|
	// 63201100001555501234         0000250000P01            CRECHE ETOILE           1021000020000004|
	// 705CAREPAY ST-2026-03-P01                                                          00010000004|
	// 822000000200011000010000000000000000002500001234567890                         021000020000002|
	// 9000002000001000000040013204289000000000000000000373456                                       |
	// 021000020000002 021000020000004
}
