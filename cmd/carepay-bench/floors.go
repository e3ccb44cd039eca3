package main

// The library floors: what each stage's library costs alone, on data of
// the same size and shape as the run's, measured in the same process right
// after the run. They are deliberately plain uses of each library, with
// none of carepay's work around it.

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"codeberg.org/go-pdf/fpdf"
	"github.com/jackc/pgx/v5"
	"github.com/moov-io/ach"
	"github.com/xuri/excelize/v2"
	_ "modernc.org/sqlite"

	"carepay/ledger"
)

// csvFloor reads every CSV file of the drop with encoding/csv and returns
// the rows read.
func csvFloor(drop string) (int, error) {
	files, err := filepath.Glob(filepath.Join(drop, "*.csv"))
	if err != nil {
		return 0, err
	}
	rows := 0
	for _, name := range files {
		f, err := os.Open(name)
		if err != nil {
			return 0, err
		}
		r := csv.NewReader(bufio.NewReaderSize(f, 64<<10))
		r.ReuseRecord = true
		for {
			_, err := r.Read()
			if err == io.EOF {
				break
			}
			if err != nil {
				f.Close()
				return 0, fmt.Errorf("reading %s: %w", name, err)
			}
			rows++
		}
		f.Close()
	}
	return rows, nil
}

// sampleLines reads up to n rows of the ledger's lines table, and the
// statement that created it.
func sampleLines(ctx context.Context, ledgerPath string, n int) (create string, rows [][]any, err error) {
	db, err := sql.Open("sqlite", "file:"+ledgerPath+"?mode=ro")
	if err != nil {
		return "", nil, err
	}
	defer db.Close()
	if err := db.QueryRowContext(ctx, `SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'lines'`).Scan(&create); err != nil {
		return "", nil, fmt.Errorf("reading the lines table's schema: %w", err)
	}
	_, rows, err = scanSample(db.QueryContext(ctx, `SELECT * FROM lines ORDER BY id LIMIT ?`, n))
	return create, rows, err
}

// scanSample reads every row of a query's result, with its column names.
func scanSample(q *sql.Rows, err error) (cols []string, rows [][]any, _ error) {
	if err != nil {
		return nil, nil, fmt.Errorf("sampling lines: %w", err)
	}
	defer q.Close()
	if cols, err = q.Columns(); err != nil {
		return nil, nil, err
	}
	for q.Next() {
		row := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range row {
			ptrs[i] = &row[i]
		}
		if err := q.Scan(ptrs...); err != nil {
			return nil, nil, err
		}
		rows = append(rows, row)
	}
	return cols, rows, q.Err()
}

// sqliteFloor inserts n rows, cycling through sample, into a new
// database's lines table made by the ledger's own statement, without any
// secondary index: 16 KiB pages, WAL, synchronous NORMAL, one transaction,
// one prepared statement.
func sqliteFloor(ctx context.Context, dir, create string, sample [][]any, n int) error {
	if len(sample) == 0 {
		return fmt.Errorf("no lines to insert")
	}
	path := filepath.Join(dir, "floor.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		return err
	}
	defer os.Remove(path)
	defer os.Remove(path + "-wal")
	defer os.Remove(path + "-shm")
	defer db.Close()
	db.SetMaxOpenConns(1)
	for _, s := range []string{`PRAGMA page_size = 16384`, `PRAGMA journal_mode = WAL`, `PRAGMA synchronous = NORMAL`, `PRAGMA cache_size = -32768`, create} {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	marks := strings.TrimSuffix(strings.Repeat("?,", len(sample[0])), ",")
	stmt, err := tx.PrepareContext(ctx, `INSERT INTO lines VALUES (`+marks+`)`)
	if err != nil {
		return err
	}
	defer stmt.Close()
	row := make([]any, len(sample[0]))
	for i := range n {
		copy(row, sample[i%len(sample)])
		row[0] = i + 1 // id
		if _, err := stmt.ExecContext(ctx, row...); err != nil {
			return fmt.Errorf("inserting: %w", err)
		}
	}
	return tx.Commit()
}

// achFloor builds and writes a NACHA file of n credit entries, each with
// an addenda 05, with moov-io/ach.
func achFloor(dir string, n int) error {
	fh := ach.NewFileHeader()
	fh.ImmediateDestination, fh.ImmediateOrigin = "231380104", "121042882"
	fh.FileCreationDate, fh.FileCreationTime, fh.FileIDModifier = "261231", "1200", "A"
	fh.ImmediateDestinationName, fh.ImmediateOriginName = "FEDERAL RESERVE BANK", "ACME BENEFITS"
	file := ach.NewFile()
	file.SetHeader(fh)
	bh := ach.NewBatchHeader()
	bh.ServiceClassCode = ach.CreditsOnly
	bh.CompanyName, bh.CompanyIdentification = "ACME BENEFITS", "1234567890"
	bh.StandardEntryClassCode, bh.CompanyEntryDescription = ach.PPD, "CAREPAY"
	bh.EffectiveEntryDate, bh.ODFIIdentification = "270104", "12104288"
	batch, err := ach.NewBatch(bh)
	if err != nil {
		return err
	}
	for i := range n {
		e := ach.NewEntryDetail()
		e.TransactionCode = ach.CheckingCredit
		e.SetRDFI("011000015")
		e.DFIAccountNumber = strconv.Itoa(100000000 + i)
		e.Amount = 10000 + i%50000
		e.IdentificationNumber = "E" + strconv.Itoa(i)
		e.IndividualName = "EMPLOYEE " + strconv.Itoa(i)
		e.SetTraceNumber("12104288", i+1)
		a := ach.NewAddenda05()
		a.PaymentRelatedInformation = "CAREPAY INV-" + strconv.Itoa(i) + " ST-P01-2026-12"
		a.SequenceNumber, a.EntryDetailSequenceNumber = 1, i+1
		e.AddAddenda05(a)
		e.AddendaRecordIndicator = 1
		batch.AddEntry(e)
	}
	if err := batch.Create(); err != nil {
		return err
	}
	file.AddBatch(batch)
	if err := file.Create(); err != nil {
		return err
	}
	if err := file.Validate(); err != nil {
		return err
	}
	f, err := os.Create(filepath.Join(dir, "floor.ach"))
	if err != nil {
		return err
	}
	defer os.Remove(f.Name())
	w := bufio.NewWriter(f)
	if err := ach.NewWriter(w).Write(file); err != nil {
		f.Close()
		return err
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// letterPage renders one letter-like page: a return address, an address
// block, a heading, three paragraphs and a table of rows lines.
func letterPage(pdf *fpdf.Fpdf, i, rows int) {
	pdf.AddPage()
	pdf.SetFont("Helvetica", "", 9)
	for _, s := range []string{"Acme Benefits", "100 Main Street", "Springfield, IL 62701"} {
		pdf.CellFormat(0, 0.16, s, "", 1, "L", false, 0, "")
	}
	pdf.Ln(0.4)
	pdf.SetFont("Helvetica", "", 11)
	for _, s := range []string{"Employee " + strconv.Itoa(i), strconv.Itoa(i) + " Elm Street", "Apartment 4", "Austin, TX 73301"} {
		pdf.CellFormat(0, 0.19, s, "", 1, "L", false, 0, "")
	}
	pdf.Ln(0.3)
	pdf.SetFont("Helvetica", "B", 11)
	pdf.CellFormat(0, 0.25, "Your dependent care benefit: run 20261231-001", "", 1, "L", false, 0, "")
	pdf.SetFont("Helvetica", "", 10)
	for range 3 {
		pdf.MultiCell(0, 0.18, "We decided the care you claimed this month against your employer's plan. "+
			"The table below shows each day of care, what was charged, what your employer pays and what is left to you, "+
			"with the reasons for anything not covered.", "", "L", false)
		pdf.Ln(0.1)
	}
	pdf.SetFont("Helvetica", "B", 8)
	for _, h := range []string{"date", "dependent", "care", "units", "charged", "employer", "status"} {
		pdf.CellFormat(0.95, 0.2, h, "B", 0, "L", false, 0, "")
	}
	pdf.Ln(-1)
	pdf.SetFont("Helvetica", "", 8)
	for r := range rows {
		for _, c := range []string{"2026-12-" + strconv.Itoa(1+r%28), "Ada", "center", "1", "120.00", "96.00", "approved"} {
			pdf.CellFormat(0.95, 0.18, c, "", 0, "L", false, 0, "")
		}
		pdf.Ln(-1)
	}
	pdf.SetFont("Helvetica", "", 10)
	pdf.MultiCell(0, 0.18, "Paid by ACH to the account ending 6789 on 2027-01-04: $1,234.50.", "", "L", false)
}

// lettersFloor renders n one-letter PDFs of rows table rows each with fpdf
// on two goroutines, each written to its own file.
func lettersFloor(dir string, n, rows int) error {
	out := filepath.Join(dir, "floor-letters")
	if err := os.MkdirAll(out, 0o700); err != nil {
		return err
	}
	// The letters stay until the command ends and removes dir (see run).
	jobs := make(chan int, 64)
	errs := make(chan error, 2)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var buf bytes.Buffer
			for i := range jobs {
				pdf := fpdf.New("P", "in", "Letter", "")
				letterPage(pdf, i, rows)
				buf.Reset()
				err := pdf.Output(&buf)
				if err == nil {
					err = os.WriteFile(filepath.Join(out, strconv.Itoa(i)+".pdf"), buf.Bytes(), 0o600)
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	for i := range n {
		jobs <- i
	}
	close(jobs)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// printBatchFloor renders n letters into documents of volume letters each
// with fpdf on one goroutine.
func printBatchFloor(dir string, n, rows, volume int) error {
	for from := 0; from < n; from += volume {
		pdf := fpdf.New("P", "in", "Letter", "")
		for i := from; i < min(from+volume, n); i++ {
			letterPage(pdf, i, rows)
		}
		f, err := os.Create(filepath.Join(dir, "floor-print-batch.pdf"))
		if err != nil {
			return err
		}
		err = pdf.Output(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		os.Remove(f.Name())
		if err != nil {
			return err
		}
	}
	return nil
}

// registerRow is a register row as excelize's StreamWriter takes it.
type registerRow = []any

// excelizeFloor writes n rows, cycling through sample, with excelize's
// StreamWriter into sheets of at most 1,048,576 rows, and saves the
// workbook with SaveAs.
func excelizeFloor(dir string, sample []registerRow, n int) error {
	if len(sample) == 0 {
		return fmt.Errorf("no rows to write")
	}
	f := excelize.NewFile()
	defer f.Close()
	format := `"$"#,##0.00;[Red]\-"$"#,##0.00`
	money, err := f.NewStyle(&excelize.Style{CustomNumFmt: &format})
	if err != nil {
		return err
	}
	cells := make([]any, len(sample[0]))
	for written, part := 0, 1; written < n; part++ {
		name := "Rows " + strconv.Itoa(part)
		if _, err := f.NewSheet(name); err != nil {
			return err
		}
		sw, err := f.NewStreamWriter(name)
		if err != nil {
			return err
		}
		for row := 1; row <= 1_048_576 && written < n; row++ {
			for i, v := range sample[written%len(sample)] {
				if c, ok := v.(cents); ok {
					v = excelize.Cell{StyleID: money, Value: float64(c) / 100}
				}
				cells[i] = v
			}
			cell, _ := excelize.CoordinatesToCellName(1, row)
			if err := sw.SetRow(cell, cells); err != nil {
				return err
			}
			written++
		}
		if err := sw.Flush(); err != nil {
			return err
		}
	}
	path := filepath.Join(dir, "floor.xlsx")
	defer os.Remove(path)
	return f.SaveAs(path)
}

// cents marks a money value of a floor's register row.
type cents int64

// benchSchema makes a new schema in the PostgreSQL database at url for
// one measurement, dropped when the process ends unless keep, and
// returns the URL of connections working in it.
func benchSchema(ctx context.Context, url string, keep bool, stdout io.Writer) (string, error) {
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return "", fmt.Errorf("connecting to %s: %w", ledger.PostgresName(url), err)
	}
	defer conn.Close(ctx)
	schema := fmt.Sprintf("carepay_bench_%d_%d", os.Getpid(), time.Now().UnixNano())
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+schema); err != nil {
		return "", fmt.Errorf("creating schema %s: %w", schema, err)
	}
	if keep {
		fmt.Fprintf(stdout, "keeping schema %s\n", schema)
	} else {
		dropSchemas = append(dropSchemas, func() {
			ctx := context.Background()
			if c, err := pgx.Connect(ctx, url); err == nil {
				c.Exec(ctx, `DROP SCHEMA `+schema+` CASCADE`)
				c.Close(ctx)
			}
		})
	}
	sep := "?"
	if strings.Contains(url, "?") {
		sep = "&"
	}
	return url + sep + "search_path=" + schema, nil
}

// dropSchemas drop the measurements' schemas (see benchSchema).
var dropSchemas []func()

// samplePostgresLines reads up to n rows of the ledger's lines table in
// PostgreSQL, with their column names.
func samplePostgresLines(ctx context.Context, lg *ledger.Ledger, n int) (cols []string, rows [][]any, err error) {
	return scanSample(lg.DB().QueryContext(ctx, `SELECT * FROM lines ORDER BY id LIMIT ?`, n))
}

// postgresFloor copies n rows, cycling through sample, with pgx's
// CopyFrom into a new table shaped like the ledger's lines table (LIKE:
// its columns, no index), in one transaction.
func postgresFloor(ctx context.Context, url string, cols []string, sample [][]any, n int) error {
	if len(sample) == 0 {
		return fmt.Errorf("no lines to insert")
	}
	conn, err := pgx.Connect(ctx, url)
	if err != nil {
		return err
	}
	defer conn.Close(ctx)
	tx, err := conn.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `CREATE TABLE floor_lines (LIKE lines)`); err != nil {
		return fmt.Errorf("creating the floor's table: %w", err)
	}
	ids := []int{}
	for i, c := range cols {
		if c == "id" || c == "rowid" {
			ids = append(ids, i)
		}
	}
	i := 0
	row := make([]any, len(cols))
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == n {
			return nil, nil
		}
		copy(row, sample[i%len(sample)])
		for _, c := range ids {
			row[c] = int64(i + 1)
		}
		i++
		return row, nil
	})
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{"floor_lines"}, cols, src); err != nil {
		return fmt.Errorf("copying: %w", err)
	}
	if _, err := tx.Exec(ctx, `DROP TABLE floor_lines`); err != nil {
		return err
	}
	return tx.Commit(ctx)
}
