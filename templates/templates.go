// Package templates holds the wording carepay puts in front of people:
// the plain words for each reason code (reasons.txt) and the paragraphs of
// the remittance letters (letter.tmpl, Go text/template), which operations
// staff may edit without touching code. The files are embedded in the
// binary, so what is shipped is what was tested.
package templates

import (
	_ "embed"
	"fmt"
	"strings"
	"text/template"
)

//go:embed reasons.txt
var reasonsText string

//go:embed letter.tmpl
var letterText string

// LetterBlocks are the paragraphs letter.tmpl must define, in letter order.
var LetterBlocks = []string{"subject", "greeting", "intro", "payment", "remaining", "closing"}

// Letter parses letter.tmpl and checks that it defines every block.
func Letter() (*template.Template, error) {
	t, err := template.New("letter.tmpl").Option("missingkey=error").Parse(letterText)
	if err != nil {
		return nil, fmt.Errorf("templates/letter.tmpl: %w", err)
	}
	for _, b := range LetterBlocks {
		if t.Lookup(b) == nil {
			return nil, fmt.Errorf("templates/letter.tmpl: block %q is not defined", b)
		}
	}
	return t, nil
}

// Reasons returns the plain words of every reason code in reasons.txt.
func Reasons() (map[string]string, error) { return parseReasons(reasonsText) }

func parseReasons(text string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		code, words, ok := strings.Cut(line, ":")
		code, words = strings.TrimSpace(code), strings.TrimSpace(words)
		if !ok || code == "" || words == "" {
			return nil, fmt.Errorf("templates/reasons.txt:%d: want CODE: words", i+1)
		}
		if _, dup := out[code]; dup {
			return nil, fmt.Errorf("templates/reasons.txt:%d: %s is worded twice", i+1, code)
		}
		out[code] = words
	}
	return out, nil
}
