package ledger

import (
	"context"
	"database/sql"
)

// migrations are applied in order; each version runs once and is
// recorded in schema_migrations, the missing ones together in one
// transaction (see migrate). Never edit a shipped migration: add the next
// one.
var migrations = []string{
	1: `
CREATE TABLE runs (
	id          TEXT PRIMARY KEY,
	as_of       TEXT NOT NULL,
	started_at  TEXT NOT NULL,
	state       TEXT NOT NULL,          -- decided, written
	line_from   INTEGER NOT NULL DEFAULT 0, -- lines decided in the run have
	line_to     INTEGER NOT NULL DEFAULT 0, -- line_from <= id <= line_to
	summary     TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE files (
	sha256   TEXT PRIMARY KEY,
	name     TEXT NOT NULL,
	source   TEXT NOT NULL,
	run_id   TEXT NOT NULL,
	status   TEXT NOT NULL,             -- taken, rejected
	report   TEXT NOT NULL              -- JSON of the file report
);
CREATE TABLE skipped_files (
	run_id   TEXT NOT NULL,
	name     TEXT NOT NULL,
	source   TEXT NOT NULL,
	sha256   TEXT NOT NULL,
	first_run TEXT NOT NULL
);
CREATE TABLE employees (
	employee_id     TEXT PRIMARY KEY,
	first_name      TEXT NOT NULL,
	last_name       TEXT NOT NULL,
	plan_id         TEXT NOT NULL,
	employment_type TEXT NOT NULL,
	annual_income   INTEGER NOT NULL,
	enrolled_on     TEXT NOT NULL,
	address_line1   TEXT, address_line2 TEXT, city TEXT, state TEXT, postal_code TEXT,
	email           TEXT,
	payment_method  TEXT NOT NULL,
	routing_number  TEXT,
	account_sealed  BLOB,
	account_last4   TEXT,
	account_type    TEXT,
	other_benefits  INTEGER NOT NULL DEFAULT 0,
	leave_status    TEXT NOT NULL DEFAULT 'none',
	last_used_on    TEXT,
	updated_run     TEXT NOT NULL
);
CREATE TABLE dependents (
	employee_id    TEXT NOT NULL,
	dependent_id   TEXT NOT NULL,
	first_name     TEXT NOT NULL,
	last_name      TEXT NOT NULL,
	birth_date     TEXT NOT NULL,
	relationship   TEXT NOT NULL,
	incapable      INTEGER NOT NULL DEFAULT 0,
	registered_on  TEXT,
	updated_run    TEXT NOT NULL,
	PRIMARY KEY (employee_id, dependent_id)
);
CREATE TABLE providers (
	provider_id    TEXT PRIMARY KEY,
	name           TEXT NOT NULL,
	tax_id         TEXT,
	address_line1  TEXT, address_line2 TEXT, city TEXT, state TEXT, postal_code TEXT,
	email          TEXT,
	payment_method TEXT NOT NULL,
	routing_number TEXT,
	account_sealed BLOB,
	account_last4  TEXT,
	account_type   TEXT,
	updated_run    TEXT NOT NULL
);
CREATE TABLE lines (
	id             INTEGER PRIMARY KEY,
	run_id         TEXT NOT NULL,
	released_run   TEXT,                -- run in which a held line took its final status
	source         TEXT NOT NULL,
	row            INTEGER NOT NULL,
	kind           TEXT NOT NULL,
	ref            TEXT NOT NULL,
	line_id        TEXT,
	plan_id        TEXT NOT NULL,
	employee_id    TEXT NOT NULL,
	dependent_id   TEXT NOT NULL,
	provider_id    TEXT NOT NULL,
	care_type      TEXT NOT NULL,
	service_date   TEXT NOT NULL,
	hours          INTEGER,             -- hundredths of an hour
	received_on    TEXT,
	charged        INTEGER NOT NULL,
	units          TEXT NOT NULL,
	employee_share INTEGER NOT NULL,
	employer_share INTEGER NOT NULL,
	status         TEXT NOT NULL,
	final_status   TEXT,
	reasons        TEXT NOT NULL,
	payee_type     TEXT NOT NULL,
	payee_id       TEXT NOT NULL,
	care_day       INTEGER NOT NULL,
	day_used       INTEGER NOT NULL,
	placements     INTEGER NOT NULL,
	steps          TEXT NOT NULL
);
CREATE INDEX lines_employee ON lines (employee_id);
CREATE INDEX lines_dependent ON lines (dependent_id);
CREATE INDEX lines_ref ON lines (ref);
CREATE INDEX lines_released ON lines (released_run) WHERE released_run IS NOT NULL;
CREATE TABLE approvals (
	statement_id TEXT PRIMARY KEY,
	approved_by  TEXT NOT NULL,
	approved_at  TEXT NOT NULL
);
`,
	2: `
ALTER TABLE lines ADD COLUMN payment_id INTEGER;
ALTER TABLE lines ADD COLUMN paid_run TEXT; -- set when a line is paid in a later run than it was decided
CREATE INDEX lines_unpaid ON lines (payee_type, payee_id) WHERE payment_id IS NULL AND status IN ('approved', 'partial');
CREATE INDEX lines_paid_run ON lines (paid_run) WHERE paid_run IS NOT NULL;
ALTER TABLE runs ADD COLUMN ach_modifier TEXT NOT NULL DEFAULT '';
CREATE TABLE payments (
	id             INTEGER PRIMARY KEY,
	run_id         TEXT NOT NULL,
	payee_type     TEXT NOT NULL,
	payee_id       TEXT NOT NULL,
	payee_name     TEXT NOT NULL,
	method         TEXT NOT NULL,
	amount         INTEGER NOT NULL,
	lines          INTEGER NOT NULL,
	refs           TEXT NOT NULL,
	check_number   INTEGER,
	routing_number TEXT,
	account_sealed BLOB,
	account_type   TEXT,
	address_line1  TEXT, address_line2 TEXT, city TEXT, state TEXT, postal_code TEXT,
	email          TEXT,
	UNIQUE (run_id, payee_type, payee_id, method)
);
CREATE INDEX payments_run ON payments (run_id);
CREATE TABLE payment_holds (
	run_id     TEXT NOT NULL,
	payee_type TEXT NOT NULL,
	payee_id   TEXT NOT NULL,
	payee_name TEXT NOT NULL,
	method     TEXT NOT NULL,
	amount     INTEGER NOT NULL,
	lines      INTEGER NOT NULL,
	reason     TEXT NOT NULL,
	detail     TEXT NOT NULL
);
CREATE TABLE counters (
	name  TEXT PRIMARY KEY,
	value INTEGER NOT NULL
);
`,
	3: `
ALTER TABLE runs ADD COLUMN job TEXT NOT NULL DEFAULT '';
CREATE TABLE locks (
	name      TEXT PRIMARY KEY,
	holder    TEXT NOT NULL,
	host      TEXT NOT NULL,
	pid       INTEGER NOT NULL,
	heartbeat TEXT NOT NULL
);
CREATE TABLE deliveries (
	run_id       TEXT NOT NULL,
	sink         TEXT NOT NULL,
	name         TEXT NOT NULL,
	sha256       TEXT NOT NULL,
	delivered_at TEXT NOT NULL,
	PRIMARY KEY (run_id, sink, name)
);
CREATE TABLE letters_sent (
	run_id   TEXT NOT NULL,
	kind     TEXT NOT NULL,
	payee_id TEXT NOT NULL,
	email    TEXT NOT NULL,
	sent_at  TEXT NOT NULL,
	PRIMARY KEY (run_id, kind, payee_id)
);
`,
	// Dual control: a payment above limits.max_payment is recorded
	// unissued (review 'held') with its lines until approved; the run that
	// issues it (check number, NACHA entry) is issued_run. An approval
	// covers the lines it names (lines.approval_id), not later ones of the
	// same statement; approvals of payments name the payment.
	4: `
ALTER TABLE payments ADD COLUMN issued_run TEXT; -- the run whose payment files carry it; NULL while held for review
UPDATE payments SET issued_run = run_id;
CREATE INDEX payments_issued ON payments (issued_run);
ALTER TABLE payments ADD COLUMN review TEXT NOT NULL DEFAULT ''; -- '', held (awaiting approval), approved
CREATE INDEX payments_review ON payments (review) WHERE review != '';
ALTER TABLE payment_holds ADD COLUMN payment_id INTEGER; -- the payment held for review, when one was formed
CREATE TABLE approvals_by_id (
	id          INTEGER PRIMARY KEY,
	kind        TEXT NOT NULL,          -- statement, payment
	ref         TEXT NOT NULL,          -- statement_id, or the payment's ID (PAY-n)
	approved_by TEXT NOT NULL,
	approved_at TEXT NOT NULL,
	lines       INTEGER NOT NULL DEFAULT 0 -- held lines the approval covers
);
INSERT INTO approvals_by_id (kind, ref, approved_by, approved_at) SELECT 'statement', statement_id, approved_by, approved_at FROM approvals;
ALTER TABLE lines ADD COLUMN approval_id INTEGER; -- the approval that releases a held line
UPDATE lines SET approval_id = (SELECT a.id FROM approvals_by_id a WHERE a.kind = 'statement' AND a.ref = lines.ref)
 WHERE status = 'held' AND kind = 'statement';
UPDATE approvals_by_id SET lines = (SELECT COUNT(*) FROM lines WHERE approval_id = approvals_by_id.id);
DROP TABLE approvals;
ALTER TABLE approvals_by_id RENAME TO approvals;
CREATE INDEX approvals_ref ON approvals (kind, ref);
CREATE INDEX lines_held ON lines (approval_id) WHERE status = 'held';
`,
	// 5: the ledger's identity. ledger_id is drawn once, when the ledger
	// is created (or first opened by a carepay that knows this version),
	// and written into every run folder: a run refuses an out/ holding
	// runs of another ledger. key_fingerprint (set on first open, see
	// adoptKey) names the key that seals the ledger's account numbers.
	5: `
CREATE TABLE ledger_meta (
	name  TEXT PRIMARY KEY,
	value TEXT NOT NULL
);
INSERT INTO ledger_meta (name, value) VALUES ('ledger_id', lower(hex(randomblob(16))));
`,
	// 6: every out folder the ledger has written runs to (absolute,
	// cleaned), so that a run into a new --out, or an approval, from a
	// ledger restored from an older copy still finds the runs it does not
	// know in the folders it wrote to before.
	6: `
CREATE TABLE out_dirs (
	path        TEXT PRIMARY KEY,
	recorded_at TEXT NOT NULL          -- when a run first wrote there
);
`,
	// 7: what the rules need of earlier runs, per family. Each run adds
	// one row per employee ('e') and per dependent ('d') it decided a line
	// for that counts (not rejected, or a day of care), holding those
	// lines (see usageBuilder); a run reads a family's rows by primary key
	// instead of indexing every line by employee and dependent. The rows
	// of earlier runs are filled from their lines by backfillUsage.
	7: `
CREATE TABLE usage (
	kind    TEXT NOT NULL,              -- e: employee, d: dependent
	id      TEXT NOT NULL,
	run_id  TEXT NOT NULL,
	lines   BLOB NOT NULL,              -- the run's lines that count, see usageBuilder
	PRIMARY KEY (kind, id, run_id)
) WITHOUT ROWID;
`,
	// 8: the usage table answers what the per-line indexes did.
	8: `
DROP INDEX lines_employee;
DROP INDEX lines_dependent;
`,
	// 9: what the bank says after the money leaves. A payment sent by ACH
	// keeps its entry's trace number, which returns and NOCs name; a
	// returned payment keeps its return, and its lines (payable again)
	// are listed in returned_lines. bank_blocks holds the bank details a
	// permanent return (an account closed, not found...) made unusable,
	// sealed; bank_changes the corrections NOCs made, old and new.
	9: `
ALTER TABLE payments ADD COLUMN trace_number TEXT;
CREATE INDEX payments_trace ON payments (trace_number) WHERE trace_number IS NOT NULL;
ALTER TABLE payments ADD COLUMN returned_run TEXT;
ALTER TABLE payments ADD COLUMN return_code TEXT;
ALTER TABLE payments ADD COLUMN returned_on TEXT;
CREATE TABLE returned_lines (
	line_id    INTEGER NOT NULL,
	payment_id INTEGER NOT NULL,        -- the payment that came back
	run_id     TEXT NOT NULL,           -- the run that took the return
	PRIMARY KEY (line_id, payment_id)
);
CREATE TABLE bank_blocks (
	id             INTEGER PRIMARY KEY,
	payee_type     TEXT NOT NULL,
	payee_id       TEXT NOT NULL,
	routing_number TEXT NOT NULL,
	account_sealed BLOB NOT NULL,
	code           TEXT NOT NULL,       -- the return code
	payment_id     INTEGER NOT NULL,
	run_id         TEXT NOT NULL
);
CREATE INDEX bank_blocks_payee ON bank_blocks (payee_type, payee_id);
CREATE TABLE bank_changes (
	id                 INTEGER PRIMARY KEY,
	payee_type         TEXT NOT NULL,
	payee_id           TEXT NOT NULL,
	code               TEXT NOT NULL,   -- the change code
	noticed_on         TEXT NOT NULL,
	run_id             TEXT NOT NULL,
	payment_id         INTEGER NOT NULL,
	old_masked         TEXT NOT NULL,   -- routing, masked account and type before
	new_masked         TEXT NOT NULL,   -- and after
	old_routing        TEXT NOT NULL,
	old_account_sealed BLOB NOT NULL,
	old_type           TEXT NOT NULL
);
CREATE INDEX bank_changes_payee ON bank_changes (payee_type, payee_id);
CREATE TABLE bank_notices (
	run_id     TEXT NOT NULL,           -- the run that took the file
	file       TEXT NOT NULL,
	row        INTEGER NOT NULL,
	kind       TEXT NOT NULL,           -- return, noc
	code       TEXT NOT NULL,
	trace      TEXT NOT NULL,           -- the original entry's trace number
	amount     INTEGER NOT NULL,
	noticed_on TEXT NOT NULL,
	payment_id INTEGER,                 -- the payment it names, when one matched
	payee_type TEXT NOT NULL DEFAULT '',
	payee_id   TEXT NOT NULL DEFAULT '',
	applied    INTEGER NOT NULL,        -- 0: reported, changed nothing
	detail     TEXT NOT NULL
);
CREATE INDEX bank_notices_run ON bank_notices (run_id);
`,
	// 10: prenotes. A prenote is a payments row of method 'prenote', 0.00
	// and no lines, with its own trace number and the details it was sent
	// to (sealed), so that a return or NOC finds it as it finds a live
	// credit. payments_ach_payee finds a payee's ACH credits and prenotes,
	// newest first, to tell whether its current details were prenoted.
	// A payment to an ACH payee that went by check instead keeps why in
	// fallback (waiting for a prenote, or a return).
	10: `
ALTER TABLE payments ADD COLUMN fallback TEXT NOT NULL DEFAULT '';
CREATE INDEX payments_ach_payee ON payments (payee_type, payee_id, id) WHERE method IN ('ach', 'prenote');
`,
	// 11: checks after issue. A check is voided (`carepay void`, or by
	// the run as stale with checks.void_stale): voided_at, by and reason
	// are recorded at once; void_run is the run whose positive pay file
	// carries the void record and that makes the check's lines payable
	// again (NULL until the next run takes it). A check the bank reports
	// paid in its cleared-checks file keeps the bank's date. check_notices
	// records what each run did with the cleared-checks rows and which
	// checks it found stale.
	11: `
ALTER TABLE payments ADD COLUMN voided_at TEXT;   -- RFC 3339, when the void was recorded
ALTER TABLE payments ADD COLUMN voided_by TEXT;
ALTER TABLE payments ADD COLUMN void_reason TEXT;
ALTER TABLE payments ADD COLUMN void_run TEXT;    -- the run that sent the void record; NULL while pending
ALTER TABLE payments ADD COLUMN cleared_on TEXT;  -- the bank's date
ALTER TABLE payments ADD COLUMN cleared_run TEXT;
CREATE INDEX payments_check ON payments (check_number) WHERE check_number IS NOT NULL;
CREATE INDEX payments_void_pending ON payments (id) WHERE voided_at IS NOT NULL AND void_run IS NULL;
CREATE INDEX payments_void_run ON payments (void_run) WHERE void_run IS NOT NULL;
CREATE TABLE check_notices (
	run_id       TEXT NOT NULL,
	kind         TEXT NOT NULL,      -- cleared (a row of the bank's file), stale
	file         TEXT NOT NULL,      -- the cleared-checks file; '' for stale
	row          INTEGER NOT NULL,
	check_number INTEGER NOT NULL,
	amount       INTEGER NOT NULL,
	on_date      TEXT NOT NULL,      -- cleared: the bank's date; stale: the issue date
	payment_id   INTEGER,            -- the payment it names, when one matched
	payee_type   TEXT NOT NULL DEFAULT '',
	payee_id     TEXT NOT NULL DEFAULT '',
	applied      INTEGER NOT NULL,   -- cleared: marked cleared; stale: voided
	alert        INTEGER NOT NULL,   -- 1: a voided check the bank paid
	detail       TEXT NOT NULL
);
CREATE INDEX check_notices_run ON check_notices (run_id);
`,
	// 12: a line that could not be read (INVALID_ROW) keeps its first
	// unreadable value: the column, the value as written (an account
	// number masked) and what was wrong, so that its letter and the
	// register's Exceptions sheet can say so. NULL on other lines.
	12: `
ALTER TABLE lines ADD COLUMN error_column TEXT;
ALTER TABLE lines ADD COLUMN error_value TEXT;
ALTER TABLE lines ADD COLUMN error_msg TEXT;
`,
	// 13: year end. Each `carepay year-end --year Y` records what it
	// reported for every employee (figures: JSON of the W-2 rows), as the
	// next report of that year, with the last run it knew, so that a
	// later run that pays or returns a line of a reported year says so,
	// and the next report of the year writes corrections of the employees
	// whose figures changed.
	13: `
CREATE TABLE year_end_reports (
	year        INTEGER NOT NULL,
	seq         INTEGER NOT NULL,      -- 1 for the first report of the year, then 2...
	reported_at TEXT NOT NULL,         -- RFC 3339
	runs_known  INTEGER NOT NULL,      -- the rowid of the latest run when reported: later runs change the year
	figures     TEXT NOT NULL,         -- JSON: employee_id -> the row reported
	PRIMARY KEY (year, seq)
);
`,
	// 14: the lines of each invoice and statement, per run, in place of
	// an index of every line by ref (see docs.go); the rows of earlier
	// runs are filled from their lines by backfillDocLines.
	14: `
CREATE TABLE doc_lines (
	kind     TEXT NOT NULL,             -- invoice or statement
	ref      TEXT NOT NULL,
	run_id   TEXT NOT NULL,
	ids      TEXT NOT NULL,             -- the run's line ids of it, ascending, comma-separated
	accepted INTEGER NOT NULL,          -- how many of them were not rejected
	PRIMARY KEY (kind, ref, run_id)
) WITHOUT ROWID;
DROP INDEX lines_ref;
`,
}

// migrationCode runs after the SQL of the migration of the same version,
// in the same transaction, for what SQL alone cannot do.
var migrationCode = map[int]func(ctx context.Context, tx *sql.Tx) error{
	7:  backfillUsage,
	14: backfillDocLines,
}
