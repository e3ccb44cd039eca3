package batch

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	"unicode/utf16"

	"github.com/go-fonts/dejavu/dejavusans"

	"carepay/core"
	"carepay/ingest"
)

// TestLetterRemainingCountsEarlierRunsAndBothParents checks the allowance a
// letter shows: a child's days count those of earlier runs and those
// claimed by the other parent (bright-backup counts 20 days a child).
func TestLetterRemainingCountsEarlierRunsAndBothParents(t *testing.T) {
	e := newEnv(t)
	dependents := "employee_id,dependent_id,first_name,last_name,birth_date,relationship,registered_on\n" +
		"E1,D1,Cal,Ames,2020-01-01,child,2025-01-01\n" +
		"E2,D1,Cal,Ames,2020-01-01,child,2025-01-01\n" + // both parents
		"E2,D2,Dot,Boyd,2020-01-01,child,2025-01-01\n"
	first := drop(t, map[string]string{
		"01-employees.csv":  reviewEmployees,
		"02-dependents.csv": dependents,
		"03-providers.csv":  reviewProviders,
		"10-statements.csv": statementsHeader + centerDays("S1", "PC", "E1", "D1", []int{2, 3}) +
			centerDays("S2", "PC", "E2", "D2", []int{2, 3, 4}),
	})
	out := filepath.Join(e.dir, "out")
	if _, err := e.runOn(e.lg, out, first, core.NewDate(2026, 3, 31)); err != nil {
		t.Fatal(err)
	}
	second := drop(t, map[string]string{
		"11-statements.csv": statementsHeader + centerDays("S3", "PC", "E2", "D1", []int{9, 10}) +
			centerDays("S4", "PC", "E1", "D1", []int{11}) + centerDays("S5", "PC", "E2", "D2", []int{12}),
	})
	res, err := e.runOn(e.lg, out, second, core.NewDate(2026, 4, 10))
	if err != nil {
		t.Fatal(err)
	}
	for id, want := range map[string][]string{
		"E1": {"Cal: 15 of 20 days"},                       // 2 + 2 (the other parent) + 1
		"E2": {"Cal: 15 of 20 days", "Dot: 16 of 20 days"}, // Dot: 3 days earlier, 1 now
	} {
		b, err := os.ReadFile(filepath.Join(res.OutDir, "letters", "employee-"+id+".pdf"))
		if err != nil {
			t.Fatal(err)
		}
		text := pdfText(b)
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("letter to %s does not say %q:\n%s", id, w, text)
			}
		}
	}
}

// pdfText returns the strings a letter shows, decoded from fpdf's UTF-16
// and joined by spaces (so that a phrase wrapped over two lines reads
// whole).
func pdfText(pdf []byte) string {
	var out []string
	for rest := pdf; ; {
		i := bytes.Index(rest, []byte("Td ("))
		if i < 0 {
			break
		}
		rest = rest[i+4:]
		var raw []byte
		for ; len(rest) > 0 && rest[0] != ')'; rest = rest[1:] {
			if rest[0] == '\\' {
				rest = rest[1:]
			}
			raw = append(raw, rest[0])
		}
		u := make([]uint16, len(raw)/2)
		for j := range u {
			u[j] = uint16(raw[2*j])<<8 | uint16(raw[2*j+1])
		}
		out = append(out, string(utf16.Decode(u)))
	}
	return strings.Join(out, " ")
}

// TestLetterExplainsEachLine runs a drop with a line whose amount cannot
// be read and a line for a dependent the roster does not know: the letter
// marks each line with its own note and names the unreadable column and
// value, the register's Exceptions sheet says the same, decisions.csv
// keeps the reason code alone, and the allowance left is told for the
// registered child only, never for the unknown dependent's ID.
func TestLetterExplainsEachLine(t *testing.T) {
	e := newEnv(t)
	in := drop(t, map[string]string{
		"01-employees.csv":  reviewEmployees,
		"02-dependents.csv": reviewDependents,
		"03-providers.csv":  reviewProviders,
		"10-statements.csv": statementsHeader + centerDays("S1", "PC", "E1", "D1", []int{2}) +
			"S1,PC,2026-03,E1,D1,center,2026-03-03,,12.3x\n" +
			"S1,PC,2026-03,E1,D9999,center,2026-03-04,,100.00\n",
	})
	res, err := e.runOn(e.lg, filepath.Join(e.dir, "out"), in, core.NewDate(2026, 3, 31))
	if err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(res.OutDir, "letters", "employee-E1.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	text := pdfText(b)
	for _, want := range []string{
		`A value on this line could not be read. Column amount_charged, value "12.3x": want`,
		"The person cared for is not registered as a dependent of this employee.",
		"Cal: 19 of 20 days",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("the letter does not say %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "D9999:") {
		t.Errorf("the letter tells an allowance for the unknown dependent D9999:\n%s", text)
	}
	csv, err := os.ReadFile(filepath.Join(res.OutDir, "decisions.csv"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(csv), ",rejected,INVALID_ROW,") || strings.Contains(string(csv), "amount_charged") {
		t.Errorf("decisions.csv should give the code INVALID_ROW alone:\n%s", csv)
	}
	rows := sheetRows(t, filepath.Join(res.OutDir, "register.xlsx"), "Exceptions")
	found := false
	for _, r := range rows {
		if len(r) == 7 && strings.HasPrefix(r[6], "INVALID_ROW: ") && strings.Contains(r[6], `Column amount_charged, value "12.3x": want`) {
			found = true
		}
	}
	if !found {
		t.Errorf("no Exceptions row names the unreadable amount: %q", rows)
	}
}

// A name in a script the letter fonts lack is written transliterated, and
// the run report says which letters; a Greek name prints as written. The
// demo roster with E301 renamed 张 伟 (Zhang Wei: anyascii gives "Zhang"
// and "Wei") and E302 renamed Ελένη. E301's name is also in the letter of
// P01, whose care E301 claimed.
func TestLetterNameTransliterated(t *testing.T) {
	e := newEnv(t)
	drop := fixtureDropRenamed(t, e, strings.NewReplacer("E301,Ivy,Ito,", "E301,伟,张,", "E302,Jon,James,", "E302,Ελένη,James,"))
	res := e.run(drop, fixtureDay)
	if !strings.Contains(res.Summary, "; 2 with a name or address transliterated (no letter font has its script): employee E301, provider P01\n") {
		t.Errorf("summary:\n%s", res.Summary)
	}
	js, err := os.ReadFile(filepath.Join(res.OutDir, "run.json"))
	if err != nil || !strings.Contains(string(js), `"transliterated": [`) {
		t.Errorf("run.json: %v", err)
	}
	pdf, err := os.ReadFile(filepath.Join(res.OutDir, "letters", "employee-E301.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if text := pdfText(pdf); !strings.Contains(text, "Dear Wei Zhang,") {
		t.Errorf("E301's letter:\n%s", text)
	}
	pdf, err = os.ReadFile(filepath.Join(res.OutDir, "letters", "employee-E302.pdf"))
	if err != nil {
		t.Fatal(err)
	}
	if text := pdfText(pdf); !strings.Contains(text, "Dear Ελένη James,") {
		t.Errorf("E302's letter:\n%s", text)
	}
}

// With a fallback font configured, a name in a script the Go fonts lack
// prints as written: the demo roster with E301 renamed Անահիտ Սարգսյան
// (Armenian, in DejaVu Sans), run with DejaVu Sans as the fallback font.
// No letter is reported transliterated; E301's letter and the print batch
// set the name in the fallback font (its code points, in a run of that
// font).
func TestLetterNameInFallbackFont(t *testing.T) {
	e := newEnv(t)
	drop := fixtureDropRenamed(t, e, strings.NewReplacer("E301,Ivy,Ito,", "E301,Անահիտ,Սարգսյան,"))
	font := filepath.Join(e.dir, "DejaVuSans.ttf")
	writeFile(t, font, dejavusans.TTF)
	res, err := Run(context.Background(), e.lg, Options{
		AsOf: fixtureDay, OutDir: filepath.Join(e.dir, "out"),
		Sources:       []ingest.Source{&ingest.Folder{SourceName: "inbox", Dir: drop, ReadOnly: true, StableWait: time.Nanosecond}},
		Plans:         e.cfg.Plans,
		Payout:        PayoutOf(e.cfg.Payout, e.cfg.Limits, e.cfg.Returns, e.cfg.ACH),
		Checks:        ChecksOf(e.cfg.Checks),
		Now:           func() time.Time { return time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC) },
		FallbackFonts: []string{font},
	})
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(res.Summary, "transliterated") {
		t.Errorf("the summary reports letters transliterated:\n%s", res.Summary)
	}
	// Անահիտ and Սարգսյան as UTF-16, as a run in the fallback font holds them.
	names := []string{"<0531057605610570056B057F> Tj", "<054D056105800563057D057505610576> Tj"}
	for _, file := range []string{"employee-E301.pdf", "print-batch.pdf"} {
		pdf, err := os.ReadFile(filepath.Join(res.OutDir, "letters", file))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Contains(pdf, []byte("/CPfb1 ")) {
			t.Errorf("%s does not use the fallback font", file)
		}
		for _, n := range names {
			if !bytes.Contains(pdf, []byte(n)) {
				t.Errorf("%s does not hold the run %s", file, n)
			}
		}
	}
}

// fixtureDropRenamed copies the fixture drop into the test's folder with
// its roster (01-employees.csv) rewritten by names, and returns the copy.
func fixtureDropRenamed(t *testing.T, e *env, names *strings.Replacer) string {
	t.Helper()
	drop := filepath.Join(e.dir, "drop")
	entries, err := os.ReadDir("../fixtures/drop")
	if err != nil {
		t.Fatal(err)
	}
	for _, en := range entries {
		b, err := os.ReadFile(filepath.Join("../fixtures/drop", en.Name()))
		if err != nil {
			t.Fatal(err)
		}
		if en.Name() == "01-employees.csv" {
			b = []byte(names.Replace(string(b)))
		}
		writeFile(t, filepath.Join(drop, en.Name()), b)
	}
	return drop
}
