// Package templates holds the wording carepay puts in front of people:
// the plain words for each reason code (reasons.txt), which operations
// staff may edit without touching code. The files are embedded in the
// binary, so what is shipped is what was tested.
package templates

import (
	_ "embed"
	"fmt"
	"strings"
)

//go:embed reasons.txt
var reasonsText string

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
