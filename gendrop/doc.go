// Package gendrop writes synthetic carepay drops for benchmarks and load
// tests.
//
// [Write] fills a folder with CSV files in the columns of the product
// specification's "Input files" table: an employee roster
// (01-employees.csv), their dependents (02-dependents.csv), a provider
// registry (03-providers.csv), and any number of service lines split into
// invoice files (10-invoices-0001.csv, ...) and provider statement files
// (20-statements-0001.csv, ...) of at most 100,000 rows each.
//
// The data mixes the three reference plans, bright-backup, pinch-hourly and
// jitc-invoice: bright-backup and pinch-hourly employees' care is billed on
// monthly provider statements, jitc-invoice employees' care on signed
// invoices of one to five consecutive weekdays. A configurable share of the
// service rows carries a realistic defect (a date or amount that does not
// parse, hours that are not a number, an unknown employee or dependent, a
// missing signature, a service date after the date received), and about the
// same share of bank payees carries a routing number whose ABA checksum
// fails.
//
// Output is deterministic for a given seed, and generation streams: every
// record is derived on demand from the seed and its index and written row by
// row, so memory does not grow with the number of lines.
package gendrop
