package ledger

import (
	"carepay/internal/ledgertest"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"carepay/core"
)

// insertLine adds a decided statement line straight into the ledger.
func insertLine(t *testing.T, db *sql.DB, ref, status string) {
	t.Helper()
	id := insertLineOnly(t, db, ref, status)
	// As a run records it (see docs.go).
	if _, err := db.Exec(`INSERT INTO doc_lines (kind, ref, run_id, ids, accepted) VALUES ('statement', ?, '20260410-001', ?, 1)
 ON CONFLICT (kind, ref, run_id) DO UPDATE SET ids = doc_lines.ids || ',' || excluded.ids, accepted = doc_lines.accepted + 1`, ref, fmt.Sprint(id)); err != nil {
		t.Fatal(err)
	}
}

// insertLineOnly adds the line and nothing else, as in a ledger from
// before doc_lines (schema 14), and returns its id.
func insertLineOnly(t *testing.T, db *sql.DB, ref, status string) int64 {
	t.Helper()
	final := any(nil)
	if status == "held" {
		final = "approved"
	}
	var id int64
	if err := db.QueryRow(`INSERT INTO lines (run_id, source, row, kind, ref, plan_id, employee_id, dependent_id, provider_id, care_type, service_date,
 charged, units, employee_share, employer_share, status, final_status, reasons, payee_type, payee_id, care_day, day_used, placements, steps)
 VALUES ('20260410-001', 's.csv', 2, 'statement', ?, 'pinch-hourly', 'E1', 'D1', 'P1', 'in_home', '2026-03-02',
 7000, '5', 3000, 4000, ?, ?, 'AWAITING_APPROVAL', 'employee', 'E1', 1, 0, 1, 'decided') RETURNING id`, ref, status, final).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// TestMigrationKeepsApprovalsGiven opens a ledger of schema 3 holding an
// approved statement whose lines are not released yet: after the
// migration the approval covers exactly those lines, and a payment made
// before belongs to its run's files.
func TestMigrationKeepsApprovalsGiven(t *testing.T) {
	path := filepath.Join(t.TempDir(), "l.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for v := 1; v <= 3; v++ {
		if _, err := db.Exec(migrations[v]); err != nil {
			t.Fatalf("migration %d: %v", v, err)
		}
	}
	if _, err := db.Exec(`CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at TEXT NOT NULL);
INSERT INTO schema_migrations VALUES (1, 'x'), (2, 'x'), (3, 'x');
INSERT INTO approvals VALUES ('ST-1', 'ops-lead', '2026-04-10T09:00:00Z');
INSERT INTO payments (id, run_id, payee_type, payee_id, payee_name, method, amount, lines, refs) VALUES (1, '20260410-001', 'employee', 'E9', 'X', 'check', 100, 1, 'INV-1');`); err != nil {
		t.Fatal(err)
	}
	insertLineOnly(t, db, "ST-1", "held")
	insertLineOnly(t, db, "ST-1", "held")
	insertLineOnly(t, db, "ST-2", "held")
	db.Close()

	l := open(t, path)
	ctx := context.Background()
	var covered, uncovered, lines int
	l.db.QueryRow(`SELECT COUNT(approval_id), COUNT(*) - COUNT(approval_id) FROM lines`).Scan(&covered, &uncovered)
	l.db.QueryRow(`SELECT lines FROM approvals WHERE kind = 'statement' AND ref = 'ST-1'`).Scan(&lines)
	if covered != 2 || uncovered != 1 || lines != 2 {
		t.Errorf("after migration: %d lines covered, %d not, the approval covers %d; want 2, 1, 2", covered, uncovered, lines)
	}
	if p, err := l.Payments(ctx, "20260410-001"); err != nil || len(p) != 1 || p[0].RunID != "20260410-001" {
		t.Errorf("payments of the earlier run: %+v %v", p, err)
	}
	tx, err := l.Begin(ctx, core.NewDate(2026, 4, 11), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if n, err := tx.ReleaseApproved(); err != nil || n != 2 {
		t.Errorf("released %d %v; want the 2 lines of ST-1", n, err)
	}
}

// TestApproveRefuses: what `carepay approve` refuses, and that a refused
// call records nothing, not even the refs before the refused one.
func TestApproveRefuses(t *testing.T) {
	l := open(t, ledgertest.Target(t, "l.db"))
	ctx := context.Background()
	insertLine(t, l.db, "ST-HELD", "held")
	insertLine(t, l.db, "ST-DONE", "approved")
	insertLine(t, l.db, "PAY-7", "held") // a statement named like a payment
	if _, err := l.db.Exec(`INSERT INTO payments (id, run_id, issued_run, review, payee_type, payee_id, payee_name, method, amount, lines, refs) VALUES
 (1, '20260410-001', '20260410-001', '', 'provider', 'P1', 'P', 'check', 100, 1, 'ST-DONE'),
 (2, '20260410-001', NULL, 'held', 'provider', 'P2', 'P', 'check', 6000000, 12, 'ST-X'),
 (7, '20260410-001', NULL, 'held', 'provider', 'P3', 'P', 'check', 6000000, 12, 'ST-Y')`); err != nil {
		t.Fatal(err)
	}
	at := time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC)
	if _, err := l.ApproveRefs(ctx, []string{"PAY-2"}, "ops-lead", at); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		ref  string
		want string
		is   error
	}{
		{"unknown_statement", "ST-NOPE", "no such statement in the ledger", ErrUnknownStatement},
		{"unknown_payment", "PAY-99", "no such payment in the ledger", ErrUnknownPayment},
		{"statement_without_held_lines", "ST-DONE", "it has no held lines (1 lines, none awaiting approval)", nil},
		{"payment_not_held", "PAY-1", "payment PAY-1 to provider P1 of $1.00 was not held for review: nothing to approve", nil},
		{"payment_already_approved", "PAY-2", "already approved by ops-lead at 2026-04-10T09:00:00Z", nil},
		{"payment_id_also_a_statement", "PAY-7", "both a statement and a payment have this ID", nil},
	}
	for _, c := range tests {
		t.Run(c.name, func(t *testing.T) {
			_, err := l.ApproveRefs(ctx, []string{"ST-HELD", c.ref}, "someone", at)
			if err == nil || !strings.Contains(err.Error(), c.want) || !strings.HasPrefix(err.Error(), "approving "+c.ref+": ") {
				t.Fatalf("err %v; want %q", err, c.want)
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("err %v is not %v", err, c.is)
			}
			var n int
			l.db.QueryRow(`SELECT COUNT(*) FROM approvals WHERE ref = 'ST-HELD'`).Scan(&n)
			if n != 0 {
				t.Error("a refused call recorded the approval of ST-HELD")
			}
		})
	}
	if _, err := l.ApproveRefs(ctx, []string{"ST-HELD"}, "ops-lead", at); err != nil {
		t.Fatal(err)
	}
	if _, err := l.ApproveRefs(ctx, []string{"ST-HELD"}, "other", at); err == nil || !strings.Contains(err.Error(), "already approved by ops-lead") {
		t.Errorf("a statement approved twice: %v", err)
	}
}
