package gendrop

import (
	"context"
	"errors"
	"fmt"
	"os"
)

// Plan identifiers written into the employee roster's plan_id column.
const (
	// PlanBrightBackup is the employer-run back-up child care plan, billed
	// by monthly provider statements.
	PlanBrightBackup = "bright-backup"
	// PlanPinchHourly is the subsidised in-home hourly care plan, billed by
	// monthly provider statements and reimbursed to the employee.
	PlanPinchHourly = "pinch-hourly"
	// PlanJITCInvoice is the backup care referral plan paid from signed
	// invoices.
	PlanJITCInvoice = "jitc-invoice"
)

// MaxRowsPerFile is the most service rows written into one invoice or
// statement file; an invoice is never split across two files.
const MaxRowsPerFile = 100_000

// Default values used for zero fields of [Options].
const (
	// DefaultLines is the number of service lines written when
	// Options.Lines is zero.
	DefaultLines = 10_000
	// DefaultYear is the plan year used when Options.Year is zero.
	DefaultYear = 2026
	// DefaultInvalidPercent is the defect rate used when
	// Options.InvalidPercent is zero.
	DefaultInvalidPercent = 3
)

// Options controls what [Write] generates. Zero fields take defaults.
type Options struct {
	// Lines is the total number of service rows (invoice rows plus
	// statement rows) to write. Zero means DefaultLines; negative is an
	// error.
	Lines int
	// Employees is the size of the roster. Zero means max(Lines/20, 10);
	// negative is an error. The provider registry holds Employees/10 + 5
	// providers.
	Employees int
	// Seed selects the pseudo-random sequence; equal options give
	// byte-identical files.
	Seed int64
	// Year is the plan year in which care takes place. Zero means
	// DefaultYear. Enrolment dates fall in the year before.
	Year int
	// InvalidPercent is the share, in percent, of service rows that carry a
	// defect, and of bank payees whose routing number fails its checksum.
	// Zero means DefaultInvalidPercent; a negative value means no defects.
	// Values above 100 are an error.
	InvalidPercent int
	// Dir is the folder the files are written into. It is created when
	// missing; files of the same names are overwritten. Required.
	Dir string
}

// Stats counts what [Write] produced.
type Stats struct {
	// Lines is the number of service rows written (invoice plus statement
	// rows).
	Lines int
	// Invoices is the number of distinct invoice_id values written.
	Invoices int
	// Statements is the number of distinct statement_id values written.
	Statements int
	// Employees is the number of roster rows written.
	Employees int
	// Dependents is the number of dependent rows written.
	Dependents int
	// Providers is the number of provider rows written.
	Providers int
	// Bytes is the total size of all files written.
	Bytes int64
}

// Write generates a synthetic drop into opt.Dir and reports what it wrote.
// It checks ctx between files and every few thousand rows; on error or
// cancellation the files written so far are left in place.
func Write(ctx context.Context, opt Options) (Stats, error) {
	return write(ctx, opt, MaxRowsPerFile)
}

// write is Write with an adjustable file size, so tests can exercise file
// rotation with small inputs.
func write(ctx context.Context, opt Options, maxRows int) (Stats, error) {
	var st Stats
	if maxRows < maxInvoiceRows {
		return st, fmt.Errorf("gendrop: at least %d rows per file needed, got %d", maxInvoiceRows, maxRows)
	}
	g, err := newGenerator(opt)
	if err != nil {
		return st, err
	}
	if err := ctx.Err(); err != nil {
		return st, fmt.Errorf("gendrop: %w", err)
	}
	if err := os.MkdirAll(g.dir, 0o755); err != nil {
		return st, fmt.Errorf("gendrop: create output folder: %w", err)
	}
	steps := []func(*Stats) error{g.writeEmployees, g.writeDependents, g.writeProviders}
	for _, step := range steps {
		if err := step(&st); err != nil {
			return st, err
		}
		if err := ctx.Err(); err != nil {
			return st, fmt.Errorf("gendrop: %w", err)
		}
	}
	if err := g.writeLines(ctx, &st, maxRows); err != nil {
		return st, err
	}
	return st, nil
}

// generator holds the resolved options and the few derived sizes; every
// record is derived from it on demand.
type generator struct {
	seed      uint64
	lines     int
	employees int
	providers int
	year      int
	pDefect   float64
	dir       string
}

func newGenerator(opt Options) (*generator, error) {
	if opt.Dir == "" {
		return nil, errors.New("gendrop: no output folder given")
	}
	if opt.Lines < 0 {
		return nil, fmt.Errorf("gendrop: negative line count %d", opt.Lines)
	}
	if opt.Employees < 0 {
		return nil, fmt.Errorf("gendrop: negative employee count %d", opt.Employees)
	}
	if opt.InvalidPercent > 100 {
		return nil, fmt.Errorf("gendrop: invalid percent %d above 100", opt.InvalidPercent)
	}
	g := &generator{
		seed:      splitmix(uint64(opt.Seed)),
		lines:     opt.Lines,
		employees: opt.Employees,
		year:      opt.Year,
		dir:       opt.Dir,
	}
	if g.lines == 0 {
		g.lines = DefaultLines
	}
	if g.employees == 0 {
		g.employees = max(g.lines/20, 10)
	}
	if g.year == 0 {
		g.year = DefaultYear
	}
	if g.year < 1900 || g.year > 9000 {
		return nil, fmt.Errorf("gendrop: year %d out of range", g.year)
	}
	switch {
	case opt.InvalidPercent == 0:
		g.pDefect = DefaultInvalidPercent / 100.0
	case opt.InvalidPercent > 0:
		g.pDefect = float64(opt.InvalidPercent) / 100
	}
	g.providers = g.employees/10 + 5
	return g, nil
}
