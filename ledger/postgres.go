package ledger

import (
	"bytes"
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"
)

// The ledger speaks SQLite's SQL. On PostgreSQL (through pgx) every
// statement passes through pgSQL and every migration through pgDDL: this
// file is the one place where the two differ. What cannot be said in
// both is asked of Ledger.pg where it is used (the schema catalogue, the
// run lock, SQLite's checkpoint).
//
// Writers take turns as on SQLite, where every transaction begins
// IMMEDIATE: each transaction takes a transaction-level advisory lock of
// the ledger first (pgWriterLock), waiting at most writerWait as SQLite
// waits its busy timeout. Transactions run at READ COMMITTED: taken after
// the lock, every statement sees all that earlier writers committed.

// IsPostgres reports whether a ledger target (--db or ledger.dsn) names a
// PostgreSQL database rather than a SQLite file.
func IsPostgres(target string) bool {
	return strings.HasPrefix(target, "postgres://") || strings.HasPrefix(target, "postgresql://")
}

// Advisory lock keys: (pgLockClass, hashtext(current_schema())), so that
// ledgers in different schemas of one database do not wait for each
// other. The class spells "CPAY".
const (
	pgLockClass    = 0x43504159
	pgRunLockClass = pgLockClass + 1
	// pgCopyLockClass is held by a ledger copy on its destination.
	pgCopyLockClass = pgLockClass + 2
)

// writerWait is how long a transaction waits for the ledger's writer lock
// (SQLite's busy timeout, PostgreSQL's lock_timeout) before ErrBusy.
var writerWait = 10 * time.Second

// pgWriterLock is the first statement of every transaction.
var pgWriterLock = fmt.Sprintf(`SELECT pg_advisory_xact_lock(%d, hashtext(current_schema()))`, pgLockClass)

// openPostgresDB opens a pool of connections to the database dsn names,
// each speaking the ledger's SQL through pgConn.
func openPostgresDB(dsn string) (*sql.DB, error) {
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		// pgx's message may quote the DSN, password and all.
		return nil, errors.New("the PostgreSQL URL (--db or ledger.dsn) does not parse: want postgres://USER@HOST:PORT/DATABASE?PARAMETERS")
	}
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	// Text compares byte by byte, as in SQLite, whatever the database's
	// default collation: the columns are COLLATE "C" (see pgDDL).
	cfg.RuntimeParams["lock_timeout"] = strconv.FormatInt(writerWait.Milliseconds(), 10) + "ms"
	cfg.RuntimeParams["application_name"] = "carepay"
	return sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)}), nil
}

type pgConnector struct{ inner driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	dc, err := c.inner.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &pgConn{Conn: dc.(*stdlib.Conn)}, nil
}

func (c pgConnector) Driver() driver.Driver { return c.inner.Driver() }

// pgConn is a pgx connection that takes the ledger's SQL.
type pgConn struct {
	*stdlib.Conn
}

func (c *pgConn) Prepare(query string) (driver.Stmt, error) {
	return c.PrepareContext(context.Background(), query)
}

func (c *pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	st, err := c.Conn.PrepareContext(ctx, pgSQL(query))
	if err != nil {
		return nil, err
	}
	return &pgStmt{Stmt: st.(*stdlib.Stmt), c: c}, nil
}

func (c *pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, pgSQL(query), args)
}

func (c *pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.settle(c.Conn.QueryContext(ctx, pgSQL(query), args))
}

// pgStmt is a prepared statement of a pgConn.
type pgStmt struct {
	*stdlib.Stmt
	c *pgConn
}

func (s *pgStmt) QueryContext(ctx context.Context, args []driver.NamedValue) (driver.Rows, error) {
	return s.c.settle(s.Stmt.QueryContext(ctx, args))
}

func (s *pgStmt) Query(args []driver.Value) (driver.Rows, error) {
	return s.c.settle(s.Stmt.Query(args))
}

// settle reads the whole result of a query made inside a transaction
// before returning it. A PostgreSQL connection serves one statement at a
// time, and a run's transaction is used by two goroutines (its lookups,
// and its inserts: see Tx) which database/sql lets take turns call by
// call, not result by result. Outside transactions (the outputs' long
// reads) results stream.
func (c *pgConn) settle(rows driver.Rows, err error) (driver.Rows, error) {
	if err != nil || c.Conn.Conn().PgConn().TxStatus() == 'I' {
		return rows, err
	}
	defer rows.Close()
	all := &pgRows{cols: rows.Columns()}
	for {
		row := make([]driver.Value, len(all.cols))
		if err := rows.Next(row); err == io.EOF {
			return all, nil
		} else if err != nil {
			return nil, err
		}
		for i, v := range row {
			if b, ok := v.([]byte); ok {
				row[i] = bytes.Clone(b)
			}
		}
		all.rows = append(all.rows, row)
	}
}

// pgRows is a result read whole (see settle).
type pgRows struct {
	cols []string
	rows [][]driver.Value
}

func (r *pgRows) Columns() []string { return r.cols }
func (r *pgRows) Close() error      { r.rows = nil; return nil }
func (r *pgRows) Next(dest []driver.Value) error {
	if len(r.rows) == 0 {
		return io.EOF
	}
	copy(dest, r.rows[0])
	r.rows = r.rows[1:]
	return nil
}

// CheckNamedValue stores a bool as SQLite does, 1 or 0: the ledger's
// flags are integer columns.
func (c *pgConn) CheckNamedValue(nv *driver.NamedValue) error {
	if b, ok := nv.Value.(bool); ok {
		nv.Value = boolInt(b)
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

func (c *pgConn) Begin() (driver.Tx, error) {
	return c.BeginTx(context.Background(), driver.TxOptions{})
}

// BeginTx begins a transaction and, unless it is read-only, takes the
// ledger's writer lock.
func (c *pgConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	tx, err := c.Conn.BeginTx(ctx, opts)
	if err != nil || opts.ReadOnly {
		return tx, err
	}
	if _, err := c.Conn.ExecContext(ctx, pgWriterLock, nil); err != nil {
		tx.Rollback()
		return nil, fmt.Errorf("waiting for the ledger's other writer: %w", err)
	}
	return tx, nil
}

// pgx returns the connection's pgx.Conn, for COPY.
func (c *pgConn) pgx() *pgx.Conn { return c.Conn.Conn() }

var pgCache sync.Map // SQLite text -> PostgreSQL text

// pgSQL is query in PostgreSQL's dialect: ? placeholders numbered $1...,
// INSERT OR IGNORE as ON CONFLICT DO NOTHING, INSERT OR FAIL as a plain
// INSERT (a failing statement changes nothing in PostgreSQL), char(10)
// as chr(10), instr as strpos.
func pgSQL(query string) string {
	if v, ok := pgCache.Load(query); ok {
		return v.(string)
	}
	q := query
	trimmed := strings.TrimSpace(q)
	switch {
	case strings.HasPrefix(trimmed, "INSERT OR IGNORE INTO"):
		q = "INSERT INTO" + strings.TrimPrefix(trimmed, "INSERT OR IGNORE INTO") + " ON CONFLICT DO NOTHING"
	case strings.HasPrefix(trimmed, "INSERT OR FAIL INTO"):
		q = "INSERT INTO" + strings.TrimPrefix(trimmed, "INSERT OR FAIL INTO")
	}
	q = strings.ReplaceAll(q, "char(10)", "chr(10)")
	q = strings.ReplaceAll(q, "instr(", "strpos(")
	q = rebind(q)
	pgCache.Store(query, q) // the ledger's statements are a fixed few
	return q
}

// rebind numbers the ? placeholders of query $1, $2... (and writes ?N
// as $N), leaving quoted text and comments alone.
func rebind(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	var b strings.Builder
	b.Grow(len(query) + len(query)/8)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			j := strings.IndexByte(query[i+1:], c)
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+2])
			i += j + 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			j := strings.IndexByte(query[i:], '\n')
			if j < 0 {
				b.WriteString(query[i:])
				return b.String()
			}
			b.WriteString(query[i : i+j+1])
			i += j
		case c == '?' && i+1 < len(query) && query[i+1] >= '0' && query[i+1] <= '9':
			b.WriteByte('$') // ?NNN: SQLite's numbered parameter
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

var (
	pgCreateTable = regexp.MustCompile(`(?m)^CREATE TABLE (\w+) \(\n`)
	pgNoRowid     = regexp.MustCompile(`(?ms)^CREATE TABLE (\w+) \(\n.*?^\) WITHOUT ROWID;`)
	pgIntegerPK   = regexp.MustCompile(`\bINTEGER PRIMARY KEY\b`)
	pgInteger     = regexp.MustCompile(`\bINTEGER\b`)
	pgBlob        = regexp.MustCompile(`\bBLOB\b`)
	pgText        = regexp.MustCompile(`\bTEXT\b`)
)

// pgDDL is a migration in PostgreSQL's dialect. Integers are 64-bit
// (BIGINT), an INTEGER PRIMARY KEY an identity column, BLOB is BYTEA,
// and TEXT compares byte by byte (COLLATE "C") as in SQLite. Every table
// SQLite gives a rowid gets a rowid column, an identity in insertion
// order, which the queries that order by rowid read.
func pgDDL(m string) string {
	noRowid := map[string]bool{}
	for _, t := range pgNoRowid.FindAllStringSubmatch(m, -1) {
		noRowid[t[1]] = true
	}
	m = strings.ReplaceAll(m, "lower(hex(randomblob(16)))", "md5(random()::text || clock_timestamp()::text)")
	m = strings.ReplaceAll(m, ") WITHOUT ROWID;", ");")
	m = pgIntegerPK.ReplaceAllString(m, "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
	m = pgInteger.ReplaceAllString(m, "BIGINT")
	m = pgBlob.ReplaceAllString(m, "BYTEA")
	m = pgText.ReplaceAllString(m, `TEXT COLLATE "C"`)
	m = pgCreateTable.ReplaceAllStringFunc(m, func(s string) string {
		name := pgCreateTable.FindStringSubmatch(s)[1]
		if noRowid[name] {
			return s
		}
		return s + "\trowid BIGINT GENERATED BY DEFAULT AS IDENTITY UNIQUE,\n"
	})
	return m
}

// openPostgres opens the ledger in the PostgreSQL database dsn names.
func openPostgres(ctx context.Context, dsn string, key *Key, mode openMode) (*Ledger, error) {
	create := mode != openExisting
	name := PostgresName(dsn)
	db, err := openPostgresDB(dsn)
	if err != nil {
		return nil, err
	}
	// A run holds one connection for its transaction and one for the run
	// lock (see Lock). Its outputs hold up to four cursors open at once
	// (the letters' two queries and their usage history, the register's
	// lines) while looking up more.
	db.SetMaxOpenConns(8)
	l := &Ledger{db: db, key: key, pg: true, copyTarget: mode == openCopyTarget}
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("opening ledger %s: %w", name, err)
	}
	v, err := l.schemaVersion(ctx, db)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening ledger %s: %w", name, err)
	}
	if v == 0 && !create {
		db.Close()
		return nil, fmt.Errorf("%w at %s: the database's schema has no carepay ledger: check --db or ledger.dsn in the config (nothing was created)", ErrNoLedger, name)
	}
	if v == 0 {
		var schema sql.NullString
		if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil || !schema.Valid {
			db.Close()
			return nil, fmt.Errorf("creating ledger %s: the connection has no schema to create tables in (check search_path and the role's rights)", name)
		}
	}
	if err := l.ready(ctx, name); err != nil {
		db.Close()
		return nil, err
	}
	return l, nil
}

// PostgresName is a PostgreSQL URL without its password or parameters
// other than search_path (the ledger's schema), for messages and logs.
func PostgresName(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return "(a PostgreSQL URL that does not parse)"
	}
	if u.User != nil {
		u.User = url.User(u.User.Username())
	}
	// The schema says which ledger of the database it is; every other
	// parameter (sslmode, a password someone put there) is left out.
	q := url.Values{}
	if sp := u.Query().Get("search_path"); sp != "" {
		q.Set("search_path", sp)
	}
	u.RawQuery, u.Fragment = q.Encode(), ""
	return u.String()
}
