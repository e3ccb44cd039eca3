// Package ingest reads drops: it recognises each table (a CSV file, or one
// sheet of an XLSX workbook) by its header row, parses every row into
// registry records or service lines, and reports each bad value with its
// file, row, column and what was expected. Rows stream to a callback one at
// a time, so memory does not grow with the size of a file.
package ingest
