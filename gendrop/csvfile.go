package gendrop

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// Column lists written for each kind of file, in the order of the
// specification's table: required columns first, then optional ones.
var (
	employeeColumns = []string{
		"employee_id", "first_name", "last_name", "plan_id", "employment_type", "annual_income", "enrolled_on",
		"address_line1", "address_line2", "city", "state", "postal_code", "email",
		"payment_method", "routing_number", "account_number", "account_type",
		"other_benefits", "leave_status", "last_used_on",
	}
	dependentColumns = []string{
		"employee_id", "dependent_id", "first_name", "last_name", "birth_date", "relationship",
		"incapable_of_self_care", "registered_on",
	}
	providerColumns = []string{
		"provider_id", "name",
		"tax_id", "address_line1", "address_line2", "city", "state", "postal_code", "email",
		"payment_method", "routing_number", "account_number", "account_type",
	}
	invoiceColumns = []string{
		"invoice_id", "employee_id", "dependent_id", "provider_id", "care_type", "service_date",
		"amount_charged", "employee_signed_on", "provider_signed_on", "received_on",
		"hours", "payee",
	}
	statementColumns = []string{
		"statement_id", "provider_id", "period", "employee_id", "dependent_id", "care_type",
		"service_date", "hours", "amount_charged",
		"line_id", "received_on", "mileage",
	}
)

// countingWriter counts the bytes that reach the file.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

// csvFile is one CSV file being written row by row.
type csvFile struct {
	path string
	f    *os.File
	cnt  *countingWriter
	bw   *bufio.Writer
	w    *csv.Writer
}

// createCSV creates path and writes the header row.
func createCSV(path string, header []string) (*csvFile, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("gendrop: create %s: %w", filepath.Base(path), err)
	}
	cnt := &countingWriter{w: f}
	bw := bufio.NewWriterSize(cnt, 256<<10)
	c := &csvFile{path: path, f: f, cnt: cnt, bw: bw, w: csv.NewWriter(bw)}
	if err := c.write(header); err != nil {
		c.abort()
		return nil, err
	}
	return c, nil
}

func (c *csvFile) write(rec []string) error {
	if err := c.w.Write(rec); err != nil {
		return fmt.Errorf("gendrop: write %s: %w", filepath.Base(c.path), err)
	}
	return nil
}

// close flushes and closes the file and returns its size.
func (c *csvFile) close() (int64, error) {
	c.w.Flush()
	if err := c.w.Error(); err != nil {
		c.abort()
		return c.cnt.n, fmt.Errorf("gendrop: write %s: %w", filepath.Base(c.path), err)
	}
	if err := c.bw.Flush(); err != nil {
		c.abort()
		return c.cnt.n, fmt.Errorf("gendrop: write %s: %w", filepath.Base(c.path), err)
	}
	if err := c.f.Close(); err != nil {
		return c.cnt.n, fmt.Errorf("gendrop: close %s: %w", filepath.Base(c.path), err)
	}
	return c.cnt.n, nil
}

// abort closes the file after an error, ignoring further errors.
func (c *csvFile) abort() {
	_ = c.f.Close()
}

// rotator writes service rows into numbered files of at most max rows.
type rotator struct {
	dir    string
	prefix string
	header []string
	max    int
	files  int
	rows   int
	cur    *csvFile
	st     *Stats
}

// reserve makes sure the next k rows fit into the current file, closing it
// and opening the next one when they do not. ctx is checked between files.
func (r *rotator) reserve(ctx context.Context, k int) error {
	if r.cur != nil && r.rows+k <= r.max {
		return nil
	}
	if err := r.close(); err != nil {
		return err
	}
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("gendrop: %w", err)
	}
	r.files++
	c, err := createCSV(filepath.Join(r.dir, fmt.Sprintf("%s-%04d.csv", r.prefix, r.files)), r.header)
	if err != nil {
		return err
	}
	r.cur, r.rows = c, 0
	return nil
}

func (r *rotator) write(rec []string) error {
	r.rows++
	return r.cur.write(rec)
}

// close finishes the current file, if any.
func (r *rotator) close() error {
	if r.cur == nil {
		return nil
	}
	size, err := r.cur.close()
	r.st.Bytes += size
	r.cur = nil
	return err
}

// abort abandons the current file after an error.
func (r *rotator) abort() {
	if r.cur != nil {
		r.cur.abort()
		r.cur = nil
	}
}
