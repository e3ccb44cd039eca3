package main

import (
	"context"
	"errors"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"carepay/internal/ledgertest"
	"carepay/ledger"
)

// census reads a ledger's census (identity, counts, checksums) through
// the ledger package.
func census(t *testing.T, target string) ledger.Census {
	t.Helper()
	ctx := context.Background()
	lg, err := ledger.OpenExisting(ctx, target, demoKey(t))
	if err != nil {
		t.Fatal(err)
	}
	defer lg.Close()
	c, err := lg.Census(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestLedgerCopy moves the demo's ledger from SQLite to PostgreSQL and
// back with `carepay ledger copy`: the copy back has the original's
// tables, counts and checksums; the out folder takes runs of either copy
// (the ledger_id travels); on PostgreSQL a second run of the same drop
// decides and pays nothing, and a voided check is paid again once, by the
// next check number and payment ID.
func TestLedgerCopy(t *testing.T) {
	dir := t.TempDir()
	out, common := demoRun(t, dir)
	orig := common[len(common)-1]
	cfg := common[:2]
	want := census(t, orig)
	if want.Payments == "" || len(want.Tables) < 10 {
		t.Fatalf("census of the demo: %+v", want)
	}

	pg := ledgertest.Postgres(t)
	code, stdout, errs := carepay(t, append([]string{"ledger", "copy", "--from", orig, "--to", pg}, cfg...)...)
	if code != exitOK || errs != "" {
		t.Fatalf("copy to PostgreSQL: exit %d\n%s%s", code, stdout, errs)
	}
	for _, s := range []string{"copied ledger " + want.LedgerID + " (schema version", "  to   " + ledger.PostgresName(pg) + "\n",
		"\nlines                      86\n", "\npayments                    3\n", "  payments     " + want.Payments + "\n", "verified: "} {
		if !strings.Contains(stdout, s) {
			t.Errorf("the report lacks %q:\n%s", s, stdout)
		}
	}
	// The report names the schema, and neither the password nor other
	// parameters.
	if strings.Contains(stdout, "sslmode") || !strings.Contains(stdout, "?search_path=") || strings.Contains(stdout, ":"+pgPassword(t, pg)+"@") {
		t.Errorf("the report shows the URL's password or parameters, or not its schema:\n%s", stdout)
	}
	if d := want.Diff(census(t, pg)); len(d) > 0 {
		t.Errorf("the PostgreSQL copy differs: %v", d)
	}

	back := filepath.Join(dir, "back.db")
	if code, stdout, errs := carepay(t, append([]string{"ledger", "copy", "--from", pg, "--to", back}, cfg...)...); code != exitOK {
		t.Fatalf("copy back: exit %d\n%s%s", code, stdout, errs)
	}
	if d := want.Diff(census(t, back)); len(d) > 0 {
		t.Errorf("the copy back differs from the original: %v", d)
	}

	// Refused: a destination holding a ledger (unchanged), a wrong key
	// (nothing made), a password never shown.
	before := census(t, back)
	code, stdout, errs = carepay(t, append([]string{"ledger", "copy", "--from", orig, "--to", back}, cfg...)...)
	if code != exitFailed || stdout != "" || !strings.Contains(errs, "the destination is not empty: it holds a ledger") || strings.Count(errs, "\n") != 1 {
		t.Errorf("copy onto a ledger: exit %d %q %q", code, stdout, errs)
	}
	if d := before.Diff(census(t, back)); len(d) > 0 {
		t.Errorf("the refused destination changed: %v", d)
	}
	u, err := url.Parse(pg)
	if err != nil {
		t.Fatal(err)
	}
	// The test server's own password (CI), or one a server that trusts
	// loopback ignores.
	secret, ok := u.User.Password()
	if !ok {
		secret = "hunter2-secret"
		u.User = url.UserPassword(u.User.Username(), secret)
	}
	code, stdout, errs = carepay(t, append([]string{"ledger", "copy", "--from", orig, "--to", u.String()}, cfg...)...)
	if code != exitFailed || !strings.Contains(errs, "not empty") || strings.Contains(stdout+errs, secret) {
		t.Errorf("copy onto the PostgreSQL ledger, password in the URL: exit %d %q %q", code, stdout, errs)
	}
	fresh := filepath.Join(dir, "fresh.db")
	t.Setenv("CAREPAY_LEDGER_KEY", strings.Repeat("ab", 32))
	code, _, errs = carepay(t, append([]string{"ledger", "copy", "--from", orig, "--to", fresh}, cfg...)...)
	if code != exitFailed || !strings.Contains(errs, "wrong ledger key") {
		t.Errorf("copy with a wrong key: exit %d %q", code, errs)
	}
	if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a copy refused for its key made %s (%v)", fresh, err)
	}
	os.Unsetenv("CAREPAY_LEDGER_KEY") // t.Setenv restores it at the end; the config's key_file from here

	// The PostgreSQL copy carries on: explain reads it; a void and a run
	// pay the check again once, by the next check number and PAY-4.
	code, stdout, errs = carepay(t, "explain", "--config", "../../config.toml", "--db", pg, "100001")
	if code != exitOK || !strings.Contains(stdout, "PAY-1") {
		t.Errorf("explain on the copy: exit %d\n%s%s", code, stdout, errs)
	}
	pgCommon := []string{"--config", "../../config.toml", "--db", pg}
	code, stdout, errs = carepay(t, append([]string{"void", "100001", "--reason", "lost in the mail", "--by", "ops-lead"}, pgCommon...)...)
	if code != exitOK || !strings.HasPrefix(stdout, "voided check 100001 (PAY-1, provider P03, $1,360.00)") {
		t.Fatalf("void on the copy: exit %d %q %q", code, stdout, errs)
	}
	empty := filepath.Join(dir, "empty")
	os.MkdirAll(empty, 0o700)
	code, stdout, errs = carepay(t, append([]string{"run", "--inbox", empty, "--out", out, "--as-of", "2026-04-17"}, pgCommon...)...)
	if code != exitOK || !strings.Contains(stdout, "paid by check        1 payments    $1,360.00") {
		t.Fatalf("run on the copy after the void: exit %d\n%s%s", code, stdout, errs)
	}
	pp, err := os.ReadFile(filepath.Join(out, "20260417-001", "positive-pay.csv"))
	wantPP := "000987654321,100001,1360.00,04/10/2026,GRANDMA'S FAMILY CARE,V\n000987654321,100002,1360.00,04/17/2026,GRANDMA'S FAMILY CARE,I\n"
	if err != nil || string(pp) != wantPP {
		t.Errorf("positive-pay.csv of the run on the copy: %v\n%s\nwant:\n%s", err, pp, wantPP)
	}
	code, stdout, errs = carepay(t, "explain", "--config", "../../config.toml", "--db", pg, "100002")
	if code != exitOK || !strings.Contains(stdout, "PAY-4") {
		t.Errorf("the new check's payment: exit %d\n%s%s", code, stdout, errs)
	}
	code, stdout, errs = carepay(t, append([]string{"run", "--inbox", "../../fixtures/drop", "--out", out, "--as-of", "2026-04-24"}, pgCommon...)...)
	if code != exitOK || !strings.Contains(stdout, "nothing new to decide") || strings.Contains(stdout, "paid by") {
		t.Errorf("the drop again on the copy: exit %d\n%s%s", code, stdout, errs)
	}

	// Back to SQLite with those runs: the out folder takes the copy as
	// the ledger that made all its runs, and it pays nothing again.
	pgNow := census(t, pg)
	back2 := filepath.Join(dir, "back2.db")
	if code, stdout, errs := carepay(t, append([]string{"ledger", "copy", "--from", pg, "--to", back2}, cfg...)...); code != exitOK {
		t.Fatalf("second copy back: exit %d\n%s%s", code, stdout, errs)
	}
	if d := pgNow.Diff(census(t, back2)); len(d) > 0 || pgNow.Payments == want.Payments {
		t.Errorf("the second copy back differs: %v", d)
	}
	code, stdout, errs = carepay(t, "run", "--config", "../../config.toml", "--db", back2, "--inbox", "../../fixtures/drop", "--out", out, "--as-of", "2026-04-24")
	if code != exitOK || !strings.Contains(stdout, "nothing new to decide") || strings.Contains(stdout, "paid by") {
		t.Errorf("a run on the second copy back: exit %d\n%s%s", code, stdout, errs)
	}
	// The first copy back, older than out/ now, is refused as any older
	// copy of the ledger is.
	code, _, errs = carepay(t, "run", "--config", "../../config.toml", "--db", back, "--inbox", empty, "--out", out, "--as-of", "2026-04-24")
	if code != exitFailed || !strings.Contains(errs, "which this ledger ("+want.LedgerID+") does not know") {
		t.Errorf("a run on the older copy: exit %d %q", code, errs)
	}
}

// TestLedgerCopyUsage: the command's usage errors exit 2.
func TestLedgerCopyUsage(t *testing.T) {
	for _, tt := range []struct {
		args []string
		err  string
	}{
		{[]string{"ledger"}, "name what to do: carepay ledger copy"},
		{[]string{"ledger", "move"}, `unknown ledger command "move"`},
		{[]string{"ledger", "copy", "--from", "a.db"}, "name both ledgers"},
		{[]string{"ledger", "copy", "--to", "b.db"}, "name both ledgers"},
		{[]string{"ledger", "copy", "--from", "a.db", "--to", "b.db", "c.db"}, `unexpected argument "c.db"`},
	} {
		code, stdout, errs := carepay(t, tt.args...)
		if code != exitUsage || stdout != "" || !strings.Contains(errs, tt.err) {
			t.Errorf("%v: exit %d %q %q; want %d and %q", tt.args, code, stdout, errs, exitUsage, tt.err)
		}
	}
	code, _, errs := carepay(t, "ledger", "copy", "--help")
	if code != exitOK || !strings.Contains(errs, "Usage: carepay ledger copy [--config FILE] --from TARGET --to TARGET") || !strings.Contains(errs, "\n  --from TARGET\n") {
		t.Errorf("ledger copy --help: exit %d %q", code, errs)
	}
}

// pgPassword is the password in a PostgreSQL URL.
func pgPassword(t *testing.T, dsn string) string {
	t.Helper()
	u, err := url.Parse(dsn)
	if err != nil {
		t.Fatal(err)
	}
	pw, ok := u.User.Password()
	if !ok {
		t.Fatalf("the test database's URL has no password")
	}
	return pw
}
