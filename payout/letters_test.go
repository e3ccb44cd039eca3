package payout

import (
	"bytes"
	"strings"
	"testing"
	"text/template"
	"time"
	"unicode/utf16"

	"carepay/core"
	"carepay/templates"
)

var letterDate = core.NewDate(2026, time.March, 9)

func testLetterStyle(t *testing.T) *LetterStyle {
	t.Helper()
	tmpl, err := templates.Letter()
	if err != nil {
		t.Fatal(err)
	}
	words, err := templates.Reasons()
	if err != nil {
		t.Fatal(err)
	}
	return &LetterStyle{Template: tmpl, ReasonWords: words,
		ReturnAddress: []string{"Benefits Opérations", "Acme Corp", "1 Main St", "Troy, NY 12180"}}
}

func employeeLetter() *Letter {
	return &Letter{
		Kind: core.PayeeEmployee, ID: "E001", Name: "José Núñez",
		Address: core.Address{Line1: "12 Calle Mayor", Line2: "Apt 3", City: "Springfield", State: "IL", PostalCode: "62701"},
		RunID:   "R-2026-03-09", Date: letterDate,
		Lines: []LetterLine{
			{Date: core.NewDate(2026, time.March, 2), Dependent: "Inés", CareType: "in_home", Units: "1",
				Charged: 150_00, EmployeeShare: 30_00, EmployerShare: 120_00, Status: "approved"},
			{Date: core.NewDate(2026, time.March, 3), Dependent: "Inés", CareType: "center", Units: "8.5",
				Charged: 200_00, EmployeeShare: 200_00, Status: "rejected", Reasons: []string{"NOT_WORKDAY", "DAY_LIMIT"}},
		},
		Payments:  []LetterPayment{{Method: core.MethodACH, Amount: 120_00, Account: "****1234"}},
		Remaining: []string{"12 days", "2 placements", "$1,500.00"},
	}
}

func providerLetter() *Letter {
	return &Letter{
		Kind: core.PayeeProvider, ID: "P01", Name: "Crèche Étoile",
		Address: core.Address{Line1: "1 Rue Way", City: "Boston", State: "MA", PostalCode: "02101"},
		RunID:   "R-2026-03-09", Date: letterDate,
		Lines: []LetterLine{
			{Date: core.NewDate(2026, time.March, 2), Employee: "José Núñez", Dependent: "Inés", CareType: "center",
				Units: "1", Charged: 95_00, EmployeeShare: 15_00, EmployerShare: 80_00, Status: "approved"},
			{Date: core.NewDate(2026, time.March, 4), Employee: "Zoë Łukasz", Dependent: "Ørjan", CareType: "center",
				Units: "1", Charged: 95_00, EmployeeShare: 45_00, EmployerShare: 50_00, Status: "partial",
				Reasons: []string{"ANNUAL_CAP"}},
		},
		Payments: []LetterPayment{{Method: core.MethodCheck, Amount: 130_00, CheckNumber: 100001}},
	}
}

func TestWriteLetter(t *testing.T) {
	style := testLetterStyle(t)
	tests := []struct {
		name   string
		letter func() *Letter
	}{
		{"employee", employeeLetter},
		{"provider", providerLetter},
		{"employee_nothing_paid", func() *Letter {
			l := employeeLetter()
			l.Payments, l.Remaining = nil, nil
			return l
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var first, second bytes.Buffer
			if err := style.WriteLetter(&first, tt.letter()); err != nil {
				t.Fatal(err)
			}
			if !bytes.HasPrefix(first.Bytes(), []byte("%PDF-")) {
				t.Errorf("does not start with %%PDF-: %q", first.Bytes()[:min(first.Len(), 16)])
			}
			if !bytes.Contains(first.Bytes(), []byte("%%EOF")) {
				t.Errorf("no %s trailer: the PDF is incomplete", "%%EOF")
			}
			if first.Len() < 1000 {
				t.Errorf("only %d bytes", first.Len())
			}
			// Its dates are the run date, not the clock's.
			for _, d := range []string{"/CreationDate (D:20260309120000)", "/ModDate (D:20260309120000)"} {
				if !bytes.Contains(first.Bytes(), []byte(d)) {
					t.Errorf("no %s", d)
				}
			}
			// The same letter rendered again is the same file, byte for byte.
			if err := style.WriteLetter(&second, tt.letter()); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(first.Bytes(), second.Bytes()) {
				t.Errorf("two renderings differ: %d and %d bytes", first.Len(), second.Len())
			}
		})
	}
}

// TestLetterText checks that the words reach the page as written: accents
// and names in other scripts kept, amounts and the masked account shown,
// reasons in plain words. Characters no font has print as "?".
func TestLetterText(t *testing.T) {
	style := testLetterStyle(t)
	tests := []struct {
		name   string
		letter func() *Letter
		want   []string
	}{
		{"employee", employeeLetter, []string{
			"José Núñez", "12 Calle Mayor", "Springfield, IL 62701",
			"Benefits Opérations",
			"Your backup care claims - 2026-03-09",
			"Dear José Núñez,",
			"Inés", "in home", "150.00", "120.00", "rejected", "1, 2",
			"1.", "Care is covered on work days only.", "2.", "The year's allowance of days of care is used up.",
			"****1234",
		}},
		{"provider", providerLetter, []string{
			"Crèche Étoile",
			"Remittance advice - 2026-03-09",
			"José Núñez", "Inés",
			"Zoë Łukasz", "Ørjan",
			"partial", "1.",
			"The year's maximum benefit has been reached.",
			"Check number 100001",
		}},
		{"other_scripts", func() *Letter {
			l := employeeLetter()
			l.Name = "Łukasz Şahin"
			l.Lines[0].Dependent, l.Lines[1].Dependent = "Σοφία", "Дмитрий"
			l.Address.Line2 = "棟 3" // no font has it: transliterated (dòng)
			return l
		}, []string{"Dear Łukasz Şahin,", "Σοφία", "Дмитрий", "Dong 3"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := style.WriteLetter(&buf, tt.letter()); err != nil {
				t.Fatal(err)
			}
			text := pageText(t, buf.Bytes())
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("the PDF does not show %q; it shows:\n%s", w, text)
				}
			}
		})
	}
}

// pageText returns the text of a letter's pages: its strings, decoded
// from fpdf's UTF-16, one shown string after another on a line.
func pageText(t *testing.T, pdf []byte) string {
	t.Helper()
	var out strings.Builder
	for rest := pdf; ; {
		i := bytes.Index(rest, []byte("Td ("))
		if i < 0 {
			break
		}
		rest = rest[i+4:]
		var u16 []uint16
		var hi byte
		n := 0
		for ; len(rest) > 0 && rest[0] != ')'; rest = rest[1:] {
			c := rest[0]
			if c == '\\' {
				rest = rest[1:]
				switch c = rest[0]; c {
				case 'n':
					c = '\n'
				case 'r':
					c = '\r'
				}
			}
			if n%2 == 0 {
				hi = c
			} else {
				u16 = append(u16, uint16(hi)<<8|uint16(c))
			}
			n++
		}
		out.WriteString(string(utf16.Decode(u16)))
		out.WriteByte('\n')
	}
	return out.String()
}

func TestRenderBrokenTemplate(t *testing.T) {
	style := testLetterStyle(t)
	tests := []struct {
		name, text, wantErr string
	}{
		{"block_missing", `{{define "subject"}}S{{end}}`, "greeting"},
		{"unknown_field", `{{define "subject"}}{{.Nope}}{{end}}{{define "greeting"}}{{end}}{{define "intro"}}{{end}}` +
			`{{define "payment"}}{{end}}{{define "remaining"}}{{end}}{{define "closing"}}{{end}}`, "subject"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := *style
			s.Template = template.Must(template.New("letter").Option("missingkey=error").Parse(tt.text))
			var buf bytes.Buffer
			err := s.WriteLetter(&buf, employeeLetter())
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %v, want one naming %s", err, tt.wantErr)
			}
			if buf.Len() != 0 {
				t.Errorf("wrote %d bytes despite the error", buf.Len())
			}
		})
	}
}

func TestLetterPostal(t *testing.T) {
	full := core.Address{Line1: "12 Elm St", Line2: "Apt 3", City: "Springfield", State: "IL", PostalCode: "62701"}
	tests := []struct {
		name string
		addr func(a core.Address) core.Address
		want bool
	}{
		{"full_address", func(a core.Address) core.Address { return a }, true},
		{"no_line2", func(a core.Address) core.Address { a.Line2 = ""; return a }, true},
		{"no_state", func(a core.Address) core.Address { a.State = ""; return a }, true},
		{"no_line1", func(a core.Address) core.Address { a.Line1 = ""; return a }, false},
		{"no_city", func(a core.Address) core.Address { a.City = ""; return a }, false},
		{"no_postal_code", func(a core.Address) core.Address { a.PostalCode = ""; return a }, false},
		{"only_line2", func(a core.Address) core.Address { return core.Address{Line2: a.Line2} }, false},
		{"empty", func(core.Address) core.Address { return core.Address{} }, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := &Letter{Kind: core.PayeeEmployee, Name: "Ann Lee", Email: "ann@example.com", Address: tt.addr(full)}
			if got := l.Postal(); got != tt.want {
				t.Errorf("Postal() with %+v = %v, want %v", l.Address, got, tt.want)
			}
		})
	}
}
