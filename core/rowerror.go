package core

import "fmt"

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
