package rules

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"carepay/core"
)

type plainKind string

type countStringer int

func (c countStringer) String() string { return fmt.Sprintf("#%d", int(c)) }

type errStringer struct{}

func (errStringer) Error() string  { return "the error" }
func (errStringer) String() string { return "the stringer" }

// TestStepfIsFprintf: every explanation step reads as fmt would write it,
// whether stepf writes it itself or hands it to fmt.
func TestStepfIsFprintf(t *testing.T) {
	var nilDate *time.Location
	cases := []struct {
		format string
		args   []any
	}{
		{"%s %s row %d: %s, %s, charged %s", []any{core.Invoice, "INV-1", 12, "center", core.NewDate(2026, 4, 1), core.Cents(-123456)}},
		{"%d%% of %s = %s", []any{80, core.Cents(10000), core.Cents(8000)}},
		{"billed hours %s raised to the minimum %s", []any{core.Hours(150), core.Hours(400)}},
		{"day %d of %d for %s in plan year %d", []any{int64(3), int32(10), plainKind("E100/D1"), 2026}},
		{"%s is a %s", []any{core.NewDate(2026, 4, 4), time.Saturday}},
		{"%s, %s, %s and %s%%%%", []any{core.Cents(0), core.Cents(-5), core.Cents(7), core.Cents(100_000_000_00)}},
		{"%d as a Stringer's number", []any{countStringer(7)}},
		{"%s as a Stringer", []any{countStringer(7)}},
		{"%s prefers Error", []any{errStringer{}}},
		{"%s of an error", []any{errors.New("boom")}},
		{"%5s width", []any{"x"}},
		{"%v verb", []any{42}},
		{"%s missing", nil},
		{"%s %s extra", []any{"a", "b", "c"}},
		{"%s nil", []any{nil}},
		{"%s nil pointer", []any{nilDate}},
		{"%d of a string", []any{"x"}},
		{"%d unsigned", []any{uint(5)}},
		{"trailing %", nil},
		{"no verbs at all", nil},
	}
	for _, c := range cases {
		var b bytes.Buffer
		stepf(&b, c.format, c.args...)
		if want := fmt.Sprintf(c.format, c.args...); b.String() != want {
			t.Errorf("stepf(%q, %v) = %q, want %q", c.format, c.args, b.String(), want)
		}
	}
	// The common formats take the fast path.
	for _, c := range cases[:7] {
		if !plainFormat(c.format, c.args) {
			t.Errorf("%q goes to fmt", c.format)
		}
	}
}
