package templates_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"carepay/core"
	"carepay/payout"
	"carepay/templates"
)

// TestLetterBlocks executes every block of letter.tmpl with the data
// carepay gives it (payout.Letter) in every case the wording branches on,
// so that an edit that breaks the template, or drops a sentence, fails
// here rather than in a payment run.
func TestLetterBlocks(t *testing.T) {
	tmpl, err := templates.Letter()
	if err != nil {
		t.Fatal(err)
	}
	date := core.NewDate(2026, time.March, 9)
	line := func(status string, reasons ...string) payout.LetterLine {
		return payout.LetterLine{Date: core.NewDate(2026, time.March, 2), Employee: "José Núñez", Dependent: "Inés",
			CareType: "center", Units: "1", Charged: 150_00, EmployeeShare: 30_00, EmployerShare: 120_00,
			Status: status, Reasons: reasons}
	}
	employee := func(lines []payout.LetterLine, payments []payout.LetterPayment, others, remaining []string) *payout.Letter {
		return &payout.Letter{Kind: core.PayeeEmployee, ID: "E001", Name: "José Núñez",
			Address: core.Address{Line1: "12 Elm St", City: "Springfield", State: "IL", PostalCode: "62701"},
			RunID:   "R-2026-03-09", Date: date, Lines: lines, Payments: payments,
			PaidToOthers: others, Remaining: remaining}
	}
	twoLines := []payout.LetterLine{line("approved"), line("rejected", "NOT_WORKDAY")}
	oneLine := []payout.LetterLine{line("approved")}
	remaining := []string{"12 days", "2 placements", "$1,500.00"}

	// Phrases every letter's closing holds.
	closing := []string{"If anything here looks wrong", "quote run R-2026-03-09.", "Sincerely,", "Benefits Operations"}

	tests := []struct {
		name   string
		letter *payout.Letter
		want   map[string][]string // block: phrases it must show
		absent map[string][]string // block: phrases it must not show
	}{
		{"employee_ach",
			employee(twoLines, []payout.LetterPayment{{Method: core.MethodACH, Amount: 120_00, Account: "****1234"}}, nil, remaining),
			map[string][]string{
				"subject":   {"Your backup care claims - 2026-03-09"},
				"greeting":  {"Dear José Núñez,"},
				"intro":     {"We have reviewed 2 lines of care claimed for your family.", "what your employer pays"},
				"payment":   {"We have sent $120.00 by direct deposit to account ****1234."},
				"remaining": {"What is left of this plan year: 12 days; 2 placements; $1,500.00."},
				"closing":   closing,
			},
			map[string][]string{"payment": {"No payment is due", "on hold"}, "subject": {"Remittance"}}},
		{"employee_check",
			employee(oneLine, []payout.LetterPayment{{Method: core.MethodCheck, Amount: 50_00, CheckNumber: 100001}}, nil, remaining),
			map[string][]string{
				"intro":   {"We have reviewed 1 line of care claimed"},
				"payment": {"Check number 100001 for $50.00 is enclosed or on its way."},
				"closing": closing,
			},
			map[string][]string{"intro": {"1 lines"}, "payment": {"direct deposit", "No payment is due"}}},
		{"employee_payroll",
			employee(oneLine, []payout.LetterPayment{{Method: core.MethodPayroll, Amount: 75_25}}, nil, nil),
			map[string][]string{
				"payment": {"75.25 will be added to your next paycheck."},
				"closing": closing,
			},
			map[string][]string{"payment": {"Check number", "direct deposit"}, "remaining": {"What is left"}}},
		{"employee_held",
			employee(oneLine, []payout.LetterPayment{{Method: core.MethodACH, Amount: 80_00, Account: "****1234",
				Held: "routing number 021000022 fails the ABA check digit"}}, nil, remaining),
			map[string][]string{
				"payment": {"A payment of $80.00 is on hold: routing number 021000022 fails the ABA check digit.",
					"Please send us corrected bank details"},
			},
			map[string][]string{"payment": {"We have sent", "No payment is due"}}},
		{"employee_paid_to_others",
			employee(oneLine, nil, []string{"We paid 130.00 to Crèche Étoile for care of Inés.", "We paid 20.00 to Sunny Days."}, remaining),
			map[string][]string{
				"payment": {"We paid 130.00 to Crèche Étoile for care of Inés. We paid 20.00 to Sunny Days."},
			},
			map[string][]string{"payment": {"No payment is due"}}},
		{"employee_every_payment_kind",
			employee(twoLines, []payout.LetterPayment{
				{Method: core.MethodACH, Amount: 120_00, Account: "****1234"},
				{Method: core.MethodCheck, Amount: 50_00, CheckNumber: 100001},
				{Method: core.MethodPayroll, Amount: 75_25},
				{Method: core.MethodACH, Amount: 80_00, Account: "****5678", Held: "account number missing"},
			}, []string{"We paid 130.00 to Crèche Étoile."}, remaining),
			map[string][]string{
				"payment": {"****1234", "Check number 100001", "75.25 will be added", "80.00 is on hold: account number missing.",
					"We paid 130.00 to Crèche Étoile."},
			},
			map[string][]string{"payment": {"****5678", "No payment is due"}}},
		{"employee_nothing_due",
			employee(twoLines, nil, nil, nil),
			map[string][]string{
				"payment": {"No payment is due in this run."},
				"closing": closing,
			},
			map[string][]string{"remaining": {"What is left"}}},
		{"provider",
			&payout.Letter{Kind: core.PayeeProvider, ID: "P01", Name: "Crèche Étoile",
				Address: core.Address{Line1: "1 Rue Way", City: "Boston", State: "MA", PostalCode: "02101"},
				RunID:   "R-2026-03-09", Date: date, Lines: twoLines,
				Payments: []payout.LetterPayment{{Method: core.MethodACH, Amount: 250_00, Account: "****9876"}}},
			map[string][]string{
				"subject":  {"Remittance advice - 2026-03-09"},
				"greeting": {"Dear Crèche Étoile,"},
				"intro":    {"This letter lists the care we are paying you for in this payment run (R-2026-03-09)."},
				"payment":  {"We have sent $250.00 by direct deposit to account ****9876."},
				"closing":  closing,
			},
			map[string][]string{"subject": {"Your backup care claims"}, "intro": {"your family"}, "remaining": {"What is left"}}},
		{"provider_check",
			&payout.Letter{Kind: core.PayeeProvider, ID: "P02", Name: "Sunny Days", RunID: "R-2026-03-09", Date: date,
				Lines: oneLine, Payments: []payout.LetterPayment{{Method: core.MethodCheck, Amount: 99_99, CheckNumber: 100002}}},
			map[string][]string{
				"subject": {"Remittance advice"},
				"payment": {"Check number 100002 for $99.99 is enclosed or on its way."},
			},
			nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, block := range templates.LetterBlocks {
				var b bytes.Buffer
				if err := tmpl.ExecuteTemplate(&b, block, tt.letter); err != nil {
					t.Errorf("block %s: %v", block, err)
					continue
				}
				got := b.String()
				if strings.Contains(got, "<no value>") || strings.Contains(got, "{{") {
					t.Errorf("block %s left a hole: %q", block, got)
				}
				for _, w := range tt.want[block] {
					if !strings.Contains(got, w) {
						t.Errorf("block %s does not say %q:\n%s", block, w, got)
					}
				}
				for _, w := range tt.absent[block] {
					if strings.Contains(got, w) {
						t.Errorf("block %s says %q:\n%s", block, w, got)
					}
				}
			}
		})
	}
}

// TestLetterBlocksRender renders each case through payout's LetterStyle,
// the way a run does, so that the template and the renderer agree.
func TestLetterBlocksRender(t *testing.T) {
	tmpl, err := templates.Letter()
	if err != nil {
		t.Fatal(err)
	}
	words, err := templates.Reasons()
	if err != nil {
		t.Fatal(err)
	}
	style := &payout.LetterStyle{Template: tmpl, ReasonWords: words, ReturnAddress: []string{"Acme Corp"}}
	for _, kind := range []string{core.PayeeEmployee, core.PayeeProvider} {
		t.Run(kind, func(t *testing.T) {
			l := &payout.Letter{Kind: kind, ID: "X1", Name: "Zoë", RunID: "R1", Date: core.NewDate(2026, time.March, 9),
				Lines: []payout.LetterLine{{Date: core.NewDate(2026, time.March, 2), Status: "rejected",
					Reasons: []string{string(core.AllReasons[0])}}}}
			var b bytes.Buffer
			if err := style.WriteLetter(&b, l); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(b.Bytes(), []byte("%PDF-")) {
				t.Error("not a PDF")
			}
		})
	}
}
