package templates

import (
	"testing"

	"carepay/core"
)

// TestEveryReasonIsWorded fails when reasons.txt lacks a code, words one
// twice, or names a code carepay does not have.
func TestEveryReasonIsWorded(t *testing.T) {
	words, err := Reasons()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range core.AllReasons {
		if words[string(r)] == "" {
			t.Errorf("reasons.txt has no words for %s", r)
		}
	}
	if len(words) != len(core.AllReasons) {
		t.Errorf("reasons.txt words %d codes, carepay has %d", len(words), len(core.AllReasons))
	}
}

func TestParseReasonsErrors(t *testing.T) {
	for name, text := range map[string]string{
		"no_colon":  "LATE late\n",
		"no_words":  "LATE:\n",
		"duplicate": "LATE: a\nLATE: b\n",
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := parseReasons(text); err == nil {
				t.Error("accepted")
			}
		})
	}
}
