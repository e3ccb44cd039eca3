package core

import (
	"fmt"
	"strings"
)

// RowError is a problem with one value of an input file, positioned the way
// a spreadsheet user finds it: file (or file#Sheet), row (header is row 1),
// column name and the value as written.
type RowError struct {
	File   string
	Row    int
	Column string
	Value  string
	Msg    string // what was expected, in words for the person who fixes it
}

// Error formats the error as file:row:column: message.
func (e *RowError) Error() string {
	col := e.Column
	if col == "" {
		col = "-"
	}
	if e.Value != "" {
		return fmt.Sprintf("%s:%d:%s: %s (value %q)", e.File, e.Row, col, e.Msg, e.Value)
	}
	return fmt.Sprintf("%s:%d:%s: %s", e.File, e.Row, col, e.Msg)
}

// Plain says, for a letter or a register, which value was at fault and
// what was wrong with it: "Column amount_charged, value "12,3x": want an
// amount like 123.45." The value of an account number column is masked.
func (e *RowError) Plain() string {
	var b strings.Builder
	if e.Column != "" {
		b.WriteString("Column ")
		b.WriteString(e.Column)
		if e.Value != "" {
			fmt.Fprintf(&b, ", value %q", MaskColumnValue(e.Column, e.Value))
		}
		b.WriteString(": ")
	}
	b.WriteString(strings.TrimSpace(e.Msg))
	if s := b.String(); s != "" && !strings.HasSuffix(s, ".") {
		b.WriteByte('.')
	}
	return b.String()
}

// MaskColumnValue masks the value of a column that holds an account
// number (its name contains "account"), and returns any other as it is.
func MaskColumnValue(column, value string) string {
	if strings.Contains(strings.ToLower(column), "account") {
		return MaskAccount(value)
	}
	return value
}
