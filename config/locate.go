package config

import (
	"regexp"
	"strconv"
	"strings"

	"github.com/pelletier/go-toml/v2/unstable"
)

var indexRe = regexp.MustCompile(`\[(\d+)\]`)

// lineOf finds the line of a dotted key such as plans.pinch-hourly.tiers[1].from
// in TOML text, falling back to the nearest enclosing table or key that
// exists; 0 when nothing matches.
func lineOf(data []byte, key string) int {
	want := strings.Split(indexRe.ReplaceAllString(key, ""), ".")
	arrayIdx := indexRe.FindAllStringSubmatch(key, -1)
	var p unstable.Parser
	p.Reset(data)
	best, bestLen := 0, 0
	var table []string
	counts := map[string]int{}
	for p.NextExpression() {
		e := p.Expression()
		switch e.Kind {
		case unstable.Table, unstable.ArrayTable:
			table = keyParts(e.Key())
			if e.Kind == unstable.ArrayTable {
				name := strings.Join(table, ".")
				counts[name]++
				// Only the array entry the key names counts.
				if len(arrayIdx) > 0 && prefixLen(table, want) == len(table) && strconv.Itoa(counts[name]-1) != arrayIdx[0][1] {
					table = []string{"\x00"}
				}
			}
			if n := prefixLen(table, want); n == len(table) && n > bestLen {
				best, bestLen = lineAt(&p, e), n
			}
		case unstable.KeyValue:
			full := append(append([]string{}, table...), keyParts(e.Key())...)
			if n := prefixLen(full, want); n == len(full) && n > bestLen {
				best, bestLen = lineAt(&p, e), n
			}
		}
	}
	return best
}

func keyParts(it unstable.Iterator) []string {
	var out []string
	for it.Next() {
		out = append(out, string(it.Node().Data))
	}
	return out
}

func prefixLen(have, want []string) int {
	n := 0
	for n < len(have) && n < len(want) && have[n] == want[n] {
		n++
	}
	return n
}

// lineAt returns the line of an expression's first key part. Shape and
// Range panic on bytes that are not a slice of the input (an unescaped
// quoted key); such a key is reported without a line.
func lineAt(p *unstable.Parser, e *unstable.Node) (line int) {
	defer func() {
		if recover() != nil {
			line = 0
		}
	}()
	it := e.Key()
	if !it.Next() {
		return 0
	}
	n := it.Node()
	if n.Raw.Length > 0 {
		return p.Shape(n.Raw).Start.Line
	}
	return p.Shape(p.Range(n.Data)).Start.Line
}
