package payout

import (
	"bytes"
	"encoding/xml"
	"flag"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"carepay/core"
)

var update = flag.Bool("update", false, "rewrite the golden letter texts in testdata/")

// rejectedThreeWays is an employee whose three rejected lines each have a
// reason of their own, one of them a line that could not be read, and a
// partial line whose two reasons are shared with others.
func rejectedThreeWays() *Letter {
	l := employeeLetter()
	l.Payments = nil
	l.Lines = []LetterLine{
		{Date: core.NewDate(2026, time.March, 2), Dependent: "Inés", CareType: "center", Units: "1",
			Charged: 150_00, EmployeeShare: 150_00, Status: "rejected", Reasons: []string{"LATE"}},
		{Date: core.NewDate(2026, time.March, 3), Dependent: "Inés", CareType: "in_home", Units: "8.50",
			Charged: 200_00, EmployeeShare: 80_00, EmployerShare: 120_00, Status: "partial", Reasons: []string{"HOURS_CAPPED", "ANNUAL_CAP"}},
		{Date: core.NewDate(2026, time.March, 7), Dependent: "Inés", CareType: "family_child_care", Units: "1",
			Charged: 90_00, EmployeeShare: 90_00, Status: "rejected", Reasons: []string{"NOT_WORKDAY"}},
		{Date: core.NewDate(2026, time.March, 9), Dependent: "Inés", CareType: "center", Units: "1",
			Charged: 0, EmployeeShare: 0, Status: "rejected", Reasons: []string{"INVALID_ROW"},
			RowError: &core.RowError{Column: "amount_charged", Value: "12,3x", Msg: "want an amount like 123.45"}},
	}
	return l
}

// noAddressProvider is a provider with no address on file, paid by ACH.
func noAddressProvider() *Letter {
	l := providerLetter()
	l.Address = core.Address{}
	l.Payments = []LetterPayment{{Method: core.MethodACH, Amount: 130_00, Account: "****6789"}}
	return l
}

// fiveScripts is an employee letter naming people in five scripts: Latin
// with Polish and Turkish letters, Greek and Cyrillic (in the Go fonts, so
// printed as written), and Chinese and Arabic (in no letter font, so
// transliterated: 张伟 as ZhangWei, سارة as srh, the alef written as nothing).
func fiveScripts() *Letter {
	l := employeeLetter()
	l.Name = "Łukasz Şahin"
	l.Address.Line1 = "Ulica Żółta 5"
	l.Lines[0].Dependent, l.Lines[1].Dependent = "Σοφία", "Дмитрий"
	l.Lines = append(l.Lines, l.Lines[0], l.Lines[0])
	l.Lines[2].Dependent, l.Lines[3].Dependent = "张伟", "سارة"
	return l
}

// longLetter is an employee letter whose table runs onto a second page,
// with long names and long reasons that wrap.
func longLetter() *Letter {
	l := employeeLetter()
	l.Lines = nil
	codes := [][]string{{"DAY_LIMIT"}, {"CONSECUTIVE_LIMIT", "HOURS_CAPPED"}, {"SIGNED_BEFORE_SERVICE"}, {"DEPENDENT_INELIGIBLE"}, {"BENEFIT_MAXED"}, nil,
		{"INVALID_ROW"}}
	for i := range 48 {
		ln := LetterLine{Date: core.NewDate(2026, time.February, 2).AddDays(i), Dependent: "Maximiliano Alejandro", CareType: "family_child_care",
			Units: "1", Charged: 90_00, EmployeeShare: 10_00, EmployerShare: 80_00, Status: "approved"}
		if c := codes[i%len(codes)]; c != nil {
			ln.Status, ln.Reasons, ln.EmployeeShare, ln.EmployerShare = "rejected", c, 90_00, 0
		}
		if i == 45 {
			ln.Reasons = []string{"INVALID_ROW"}
			ln.RowError = &core.RowError{Column: "service_date", Value: "2027-03-01",
				Msg: "is after the run date 2026-03-09; care cannot be claimed before it took place, so the line was set aside until it is sent again with the date of care"}
		}
		l.Lines = append(l.Lines, ln)
	}
	return l
}

func renderLetter(t *testing.T, l *Letter) []byte {
	t.Helper()
	var buf bytes.Buffer
	if err := testLetterStyle(t).WriteLetter(&buf, l); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestLetterGolden compares what poppler reads of whole letters with
// testdata/<name>.golden.txt (go test ./payout -run Golden -update
// rewrites them): each line marked with the numbers of its reasons, the
// reasons numbered in words under the table, an unreadable value named by
// its column, an address block without blank or comma-only lines, and a
// second page that says whose letter it continues.
func TestLetterGolden(t *testing.T) {
	for _, tt := range []struct {
		name   string
		letter func() *Letter
	}{
		{"employee-three-rejected", rejectedThreeWays},
		{"provider-no-address", noAddressProvider},
		{"employee-two-pages", longLetter},
		{"employee-five-scripts", fiveScripts},
	} {
		t.Run(tt.name, func(t *testing.T) {
			checkGolden(t, tt.name, pdftotext(t, renderLetter(t, tt.letter())))
		})
	}
}

// word is a word poppler found on a page, in points from the top left.
type word struct {
	Text string  `xml:",chardata"`
	XMin float64 `xml:"xMin,attr"`
	XMax float64 `xml:"xMax,attr"`
	YMin float64 `xml:"yMin,attr"`
	YMax float64 `xml:"yMax,attr"`
	Page int     `xml:"-"`
}

// wordBoxes returns every word of pdf with its box, as pdftotext
// -bbox-layout reads it.
func wordBoxes(t *testing.T, pdf []byte) []word {
	t.Helper()
	pdftotext(t, pdf) // skips or fails when poppler is missing
	path := filepath.Join(t.TempDir(), "letter.pdf")
	if err := os.WriteFile(path, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("pdftotext", "-bbox-layout", path, "-").Output()
	if err != nil {
		t.Fatalf("pdftotext -bbox-layout: %v", err)
	}
	var doc struct {
		Pages []struct {
			Words []word `xml:"flow>block>line>word"`
		} `xml:"body>doc>page"`
	}
	if err := xml.Unmarshal(out, &doc); err != nil {
		t.Fatalf("reading pdftotext -bbox-layout: %v", err)
	}
	var words []word
	for p, pg := range doc.Pages {
		for _, w := range pg.Words {
			w.Page = p + 1
			words = append(words, w)
		}
	}
	if len(words) == 0 {
		t.Fatal("pdftotext found no words")
	}
	return words
}

// TestLetterWordsDoNotOverlap reads the word boxes of letters' pages with
// poppler and checks that no two words overlap, that every word of the
// table of lines lies inside one column (none runs into the next, as an
// employee's name did into the care type), and that the notes keep their
// indent on every page; also with names in a fallback font, which wrap
// as measured in it.
func TestLetterWordsDoNotOverlap(t *testing.T) {
	crowded := providerLetter()
	crowded.Lines[0].Employee, crowded.Lines[0].Dependent = "Maria-Fernanda Castellanos", "Guillermina"
	crowded.Lines[1].CareType = "family_child_care"
	fallbackCrowded := providerLetter()
	fallbackCrowded.Lines[0].Employee, fallbackCrowded.Lines[0].Dependent = "Անահիտ Սարգսյան-Պետրոսյան", "שרה כהן"
	fallbackCrowded.Lines[1].Dependent = "ნინო"
	dejavu := dejavuSans(t)
	for _, tt := range []struct {
		name      string
		letter    *Letter
		notes     int
		fallbacks []string
	}{
		{"provider", crowded, 1, nil},
		{"employee-three-rejected", rejectedThreeWays(), 5, nil},
		{"employee-two-pages", longLetter(), 8, nil},
		{"provider-fallback-fonts", fallbackCrowded, 1, []string{dejavu}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			pdf, _ := renderWith(t, tt.letter, tt.fallbacks...)
			words := wordBoxes(t, pdf)
			for i, a := range words {
				for _, b := range words[i+1:] {
					if a.Page == b.Page && a.XMin < b.XMax-0.1 && b.XMin < a.XMax-0.1 && a.YMin < b.YMax-0.1 && b.YMin < a.YMax-0.1 {
						t.Errorf("page %d: %q %v and %q %v overlap", a.Page, a.Text, a, b.Text, b)
					}
				}
			}
			cols := tableColumns(tt.letter.Kind)
			var edges []float64 // in points
			x := marginL
			for _, c := range cols {
				edges = append(edges, x*72)
				x += c.w
			}
			edges = append(edges, x*72)
			if right := (pageW - marginR) * 72; x*72 > right+0.01 {
				t.Errorf("the table is %.2f in wide: it crosses the right margin", x-marginL)
			}
			table := tableWords(words)
			if len(table) < 10 {
				t.Fatalf("only %d words of the table found", len(table))
			}
			for _, w := range table {
				inside := false
				for c := range cols {
					if w.XMin >= edges[c]-0.01 && w.XMax <= edges[c+1]+0.01 {
						inside = true
						break
					}
				}
				if !inside {
					t.Errorf("page %d: %q (x %.1f to %.1f) crosses a column edge %v", w.Page, w.Text, w.XMin, w.XMax, edges)
				}
			}
			checkNoteIndent(t, words, tt.notes)
		})
	}
}

// checkNoteIndent checks that the notes under the table, wherever they
// fall, hang beside their numbers: after the heading, each line starts
// with a number at the left margin or with words at the notes' indent,
// until the paragraph after the notes; and that all want notes are there.
func checkNoteIndent(t *testing.T, words []word, want int) {
	t.Helper()
	type line struct {
		page  int
		y     float64
		words []word
	}
	var lines []*line
	for _, w := range words {
		var ln *line
		for _, l := range lines {
			if l.page == w.Page && math.Abs(l.y-w.YMin) < 2 {
				ln = l
			}
		}
		if ln == nil {
			ln = &line{page: w.Page, y: w.YMin}
			lines = append(lines, ln)
		}
		ln.words = append(ln.words, w)
	}
	sort.SliceStable(lines, func(i, j int) bool {
		if lines[i].page != lines[j].page {
			return lines[i].page < lines[j].page
		}
		return lines[i].y < lines[j].y
	})
	indent := (marginL + noteLabel) * 72
	label := regexp.MustCompile(`^[0-9]+\.$`)
	in, labels, page, prevY := false, 0, 0, 0.0
	for _, l := range lines {
		sort.Slice(l.words, func(i, j int) bool { return l.words[i].XMin < l.words[j].XMin })
		first := l.words[0]
		newPage := l.page != page
		page = l.page
		if !in {
			in = first.Text == "Why" && atMargin(first.XMin) && len(l.words) > 4 && l.words[4].Text == "not"
			continue
		}
		if newPage && l.page > 1 {
			prevY = l.y
			continue // the continuation header
		}
		if atMargin(first.XMin) {
			if !label.MatchString(first.Text) {
				if !newPage && l.y-prevY < (noteLine+0.04)*72 {
					t.Errorf("page %d: a note's line starts at the margin with %q, not at its indent", l.page, first.Text)
				}
				break // the paragraph after the notes, set apart by a gap
			}
			prevY = l.y
			labels++
			if len(l.words) > 1 && l.words[1].XMin < indent-1 {
				t.Errorf("page %d: note %s starts at %.1f pt, left of the indent %.1f", l.page, first.Text, l.words[1].XMin, indent)
			}
			continue
		}
		prevY = l.y
		if first.XMin < indent-1 {
			t.Errorf("page %d: a note's line starts at %.1f pt with %q, left of the indent %.1f", l.page, first.XMin, first.Text, indent)
		}
	}
	if labels != want {
		t.Errorf("%d numbered notes found hanging at their indent, want %d", labels, want)
	}
}

// tableWords returns the words of the table of lines, its header
// included: on each page, from the header's "Date" at the left margin
// down to the first word at the left margin that is not a date.
func tableWords(words []word) []word {
	atLeft := func(w word) bool { return atMargin(w.XMin) }
	var out []word
	for p := 1; ; p++ {
		var page []word
		for _, w := range words {
			if w.Page == p {
				page = append(page, w)
			}
		}
		if len(page) == 0 {
			return out
		}
		top, bottom := -1.0, 1e9
		for _, w := range page {
			if atLeft(w) && w.Text == "Date" && top < 0 {
				top = w.YMin
			}
		}
		if top < 0 {
			continue
		}
		for _, w := range page {
			if _, err := core.ParseDate(w.Text); atLeft(w) && w.YMin > top+1 && err != nil && w.YMin < bottom {
				bottom = w.YMin
			}
		}
		for _, w := range page {
			if w.YMin >= top-1 && w.YMin < bottom-1 {
				out = append(out, w)
			}
		}
	}
}

// atMargin reports whether a word starting at x (points) starts at the
// left margin: a cell's text starts a cell margin (1 mm) right of it.
func atMargin(x float64) bool { return x > marginL*72-1 && x < marginL*72+4 }

// TestWrapCell checks how a cell's text breaks: whole when it fits,
// between words, after a hyphen rather than inside a name, and between
// characters only for a word longer than the cell; no line is wider than
// the cell and no character is lost.
func TestWrapCell(t *testing.T) {
	pdf := newLayoutDoc()
	pdf.AddPage()
	pdf.SetFont(fontFamily, "", 8)
	tests := []struct {
		text string
		w    float64
		want []string
	}{
		{"center", 1, []string{"center"}},
		{"", 1, nil},
		{"family child care", 0.75, []string{"family child", "care"}},
		{"Maximiliano-Alejandro", 0.9, []string{"Maximiliano-", "Alejandro"}},
		{"Ana Maria-Fernanda Castellanos", 1.1, []string{"Ana Maria-", "Fernanda", "Castellanos"}},
		{"WWWWWWWWWWWWWWWWWWWW", 0.5, nil}, // broken between characters; checked below
	}
	for _, tt := range tests {
		got := wrapCell(&cells{pdf: pdf}, tt.text, tt.w)
		if tt.want != nil && !slices.Equal(got, tt.want) {
			t.Errorf("wrapCell(%q, %.2f) = %q, want %q", tt.text, tt.w, got, tt.want)
		}
		if tt.text != "" && strings.ReplaceAll(strings.Join(got, ""), " ", "") != strings.ReplaceAll(tt.text, " ", "") {
			t.Errorf("wrapCell(%q) lost characters: %q", tt.text, got)
		}
		for _, l := range got {
			if pdf.GetStringWidth(l) > tt.w-2*pdf.GetCellMargin()+1e-9 {
				t.Errorf("wrapCell(%q, %.2f): line %q is wider than the cell", tt.text, tt.w, l)
			}
		}
	}
}

// TestAddressLines checks the address block: blank parts are left out,
// never printed as an empty line or a lone comma.
func TestAddressLines(t *testing.T) {
	tests := []struct {
		name string
		a    core.Address
		want []string
	}{
		{"full", core.Address{Line1: "1 Elm St", Line2: "Apt 3", City: "Troy", State: "NY", PostalCode: "12180"},
			[]string{"N", "1 Elm St", "Apt 3", "Troy, NY 12180"}},
		{"none", core.Address{}, []string{"N"}},
		{"no_state", core.Address{Line1: "1 Elm St", City: "Troy", PostalCode: "12180"}, []string{"N", "1 Elm St", "Troy, 12180"}},
		{"city_only", core.Address{City: "Troy"}, []string{"N", "Troy"}},
		{"postal_code_only", core.Address{PostalCode: "12180"}, []string{"N", "12180"}},
		{"blank_spaces", core.Address{Line1: "  ", City: " ", State: " "}, []string{"N"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := addressLines("N", tt.a); !slices.Equal(got, tt.want) {
				t.Errorf("addressLines = %q, want %q", got, tt.want)
			}
		})
	}
}

// checkGolden compares the pdftotext of a letter with
// testdata/NAME.golden.txt (rewritten with -update).
func checkGolden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden.txt")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("pdftotext of the letter differs from %s; got:\n%s", path, got)
	}
}

// TestPlainCellIsCellFormat renders letters with cells.plainCell and
// with fpdf's CellFormat alone: the PDFs are the same bytes, for text
// whose UTF-16 holds the bytes fpdf escapes (Ĩ is 01 28, a parenthesis
// in its low byte; ℜ 21 1C; ⌜ 23 1C; ܩ 07 29), parentheses and
// backslashes, right-aligned money, a table that breaks onto a second
// page, and names in fallback scripts.
func TestPlainCellIsCellFormat(t *testing.T) {
	tricky := employeeLetter()
	tricky.Name = `Ĩ(x) \y`
	tricky.Lines[0].Dependent = `Ĩñigo (Jr.) \ ℜ`
	tricky.Lines[0].CareType = "center(a)"
	tricky.Lines[1].Dependent = "⌜Ana⌝ ܩ"
	tricky.Lines[1].Units = "1.5)"
	for _, tt := range []struct {
		name   string
		letter *Letter
	}{
		{"rejected", rejectedThreeWays()},
		{"provider", noAddressProvider()},
		{"two pages", longLetter()},
		{"scripts", fiveScripts()},
		{"tricky", tricky},
	} {
		t.Run(tt.name, func(t *testing.T) {
			fast := renderLetter(t, tt.letter)
			plainCellOff = true
			defer func() { plainCellOff = false }()
			slow := renderLetter(t, tt.letter)
			if !bytes.Equal(fast, slow) {
				t.Errorf("the letter differs from CellFormat's (%d and %d bytes)", len(fast), len(slow))
			}
		})
	}
}

// TestPlainParaIsMultiCell: paragraphs broken by cells.plainPara are the
// bytes MultiCell writes, for words longer than a line, explicit and
// trailing line breaks, carriage returns, runs of spaces, and an annual
// statement's paragraphs and notes.
func TestPlainParaIsMultiCell(t *testing.T) {
	long := employeeLetter()
	long.Remaining = []string{strings.Repeat("Supercalifragilistic", 9), "a  b   c\r\nnew line\n\nafter a blank\n\n"}
	long.PaidToOthers = []string{strings.Repeat("word ", 80)}
	statement := &Statement{Year: 2026, Date: core.NewDate(2027, time.January, 15), ID: "E1", Name: "Ana Ĩ(x)",
		Address: core.Address{Line1: "1 Elm St", City: "Troy", State: "NY", PostalCode: "12180"},
		Months: []StatementMonth{{Month: time.March, Total: 120_00, Lines: []StatementLine{
			{Date: core.NewDate(2026, time.March, 2), Dependent: "Inés", CareType: "center", PaidTo: "you", Charged: 150_00, Paid: 120_00, Status: "partial", Reasons: []string{"ANNUAL_CAP"}}}}},
		ByPlan: []PlanTotal{{Plan: "p", Amount: 120_00}}, Total: 120_00,
		Refused:   []StatementLine{{Date: core.NewDate(2026, time.March, 3), Dependent: "Inés", CareType: "center", PaidTo: "you", Charged: 90_00, Status: "rejected", Reasons: []string{"LATE", "NOT_WORKDAY"}}},
		Remaining: []string{strings.Repeat("days left and more words ", 12)}, Limit: 5000_00}
	render := func() ([]byte, []byte) {
		r, err := testLetterStyle(t).NewRenderer()
		if err != nil {
			t.Fatal(err)
		}
		var a, b bytes.Buffer
		if err := testLetterStyle(t).WriteLetter(&a, long); err != nil {
			t.Fatal(err)
		}
		rl, err := r.RenderStatement(statement)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.WritePDF(&b, statement.Letter(), rl); err != nil {
			t.Fatal(err)
		}
		return a.Bytes(), b.Bytes()
	}
	fastLetter, fastStatement := render()
	plainCellOff = true
	defer func() { plainCellOff = false }()
	slowLetter, slowStatement := render()
	if !bytes.Equal(fastLetter, slowLetter) {
		t.Error("the letter differs from MultiCell's")
	}
	if !bytes.Equal(fastStatement, slowStatement) {
		t.Error("the statement differs from MultiCell's")
	}
}
