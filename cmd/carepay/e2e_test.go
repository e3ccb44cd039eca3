package main

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"database/sql"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-smtp"
	"github.com/moov-io/ach"

	"carepay/internal/achtest"
)

// e2eEnv is what scripts/test exports after starting OpenSSH and Dovecot.
type e2eEnv struct {
	sshAddr, sshUser, sshKey, knownHosts string
	sshPID                               int
	imapAddr, imapUser, imapPassword     string
	imapCA                               string
}

func loadE2E(t *testing.T) e2eEnv {
	t.Helper()
	get := func(k string) string {
		v := os.Getenv(k)
		if v == "" {
			if os.Getenv("CI") != "" {
				t.Fatal(k + " not set under CI: run the suite through scripts/test, which starts OpenSSH and Dovecot")
			}
			t.Skip(k + " not set outside CI: scripts/test starts the real OpenSSH and Dovecot servers")
		}
		return v
	}
	e := e2eEnv{sshAddr: get("CAREPAY_E2E_SSH_ADDR"), sshUser: get("CAREPAY_E2E_SSH_USER"), sshKey: get("CAREPAY_E2E_SSH_KEY"),
		knownHosts: get("CAREPAY_E2E_SSH_KNOWN_HOSTS"), imapAddr: get("CAREPAY_E2E_IMAP_ADDR"), imapUser: get("CAREPAY_E2E_IMAP_USER"),
		imapCA: get("CAREPAY_E2E_IMAP_CA")}
	e.sshPID, _ = strconv.Atoi(get("CAREPAY_E2E_SSH_PID"))
	pw, err := os.ReadFile(get("CAREPAY_E2E_IMAP_PASSWORD_FILE"))
	if err != nil {
		t.Fatal(err)
	}
	e.imapPassword = strings.TrimSpace(string(pw))
	return e
}

// capture is an SMTP relay on 127.0.0.1 keeping what carepay sends.
type capture struct {
	mu   sync.Mutex
	msgs []string
}

type captureSession struct{ c *capture }

func (s captureSession) Reset()                               {}
func (s captureSession) Logout() error                        { return nil }
func (s captureSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s captureSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s captureSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.c.mu.Lock()
	s.c.msgs = append(s.c.msgs, string(b))
	s.c.mu.Unlock()
	return err
}

func startCapture(t *testing.T) (*capture, string) {
	c := &capture{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return captureSession{c}, nil }))
	srv.Domain = "localhost"
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return c, ln.Addr().String()
}

func imapClient(t *testing.T, e e2eEnv) *imapclient.Client {
	t.Helper()
	pem, err := os.ReadFile(e.imapCA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	c, err := imapclient.DialTLS(e.imapAddr, &imapclient.Options{TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(e.imapUser, e.imapPassword).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

func appendMail(t *testing.T, c *imapclient.Client, from, subject, name, ctype string, data []byte) {
	t.Helper()
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: %s\r\nTo: drops@example.test\r\nSubject: %s\r\nMessage-ID: <%d@example.test>\r\nMIME-Version: 1.0\r\n", from, subject, time.Now().UnixNano())
	fmt.Fprintf(&b, "Content-Type: multipart/mixed; boundary=XX\r\n\r\n--XX\r\nContent-Type: text/plain\r\n\r\nPlease process.\r\n")
	fmt.Fprintf(&b, "--XX\r\nContent-Type: %s\r\nContent-Disposition: attachment; filename=%q\r\n\r\n%s\r\n--XX--\r\n", ctype, name, data)
	cmd := c.Append("INBOX", int64(b.Len()), nil)
	cmd.Write(b.Bytes())
	cmd.Close()
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

func countIn(t *testing.T, c *imapclient.Client, mailbox string) uint32 {
	t.Helper()
	d, err := c.Status(mailbox, &imap.StatusOptions{NumMessages: true}).Wait()
	if err != nil {
		t.Fatalf("STATUS %s: %v", mailbox, err)
	}
	return *d.NumMessages
}

// TestEndToEndWithOpenSSHAndDovecot runs the carepay binary against the
// real servers: drops over SFTP and email, payment files delivered to
// payroll's SFTP folder, the SSH server pulling the plug mid-download.
func TestEndToEndWithOpenSSHAndDovecot(t *testing.T) {
	e := loadE2E(t)
	dir := t.TempDir()
	for _, d := range []string{"inbox", "archive", "reports", "payroll"} {
		os.MkdirAll(filepath.Join(dir, d), 0o755)
	}
	entries, _ := os.ReadDir("../../fixtures/drop")
	for _, en := range entries {
		b, _ := os.ReadFile(filepath.Join("../../fixtures/drop", en.Name()))
		os.WriteFile(filepath.Join(dir, "inbox", en.Name()), b, 0o644)
	}
	os.WriteFile(filepath.Join(dir, "imap-password"), []byte(e.imapPassword), 0o600)
	mailCapture, smtpAddr := startCapture(t)

	c := imapClient(t, e)
	for _, m := range []string{"Processed", "Rejected", "Manual"} {
		c.Create(m, nil).Wait() // exists already: fine
	}
	before := map[string]uint32{}
	for _, m := range []string{"INBOX", "Processed", "Rejected", "Manual"} {
		before[m] = countIn(t, c, m)
	}
	invoice := "invoice_id,employee_id,dependent_id,provider_id,care_type,service_date,amount_charged,employee_signed_on,provider_signed_on,received_on,hours,payee\r\n" +
		"INV-2001,E301,D3012,P01,adult_care,2026-03-20,90.00,2026-03-21,2026-03-21,2026-03-25,,\r\n"
	appendMail(t, c, "Ops <ops@example.test>", "March invoice", "inv-2001.csv", "text/csv", []byte(invoice))
	appendMail(t, c, "Ops <ops@example.test>", "Scanned invoice", "scan.pdf", "application/pdf", []byte("%PDF-1.4 scanned"))
	appendMail(t, c, "someone@elsewhere.test", "Hello", "x.csv", "text/csv", []byte(invoice))

	config := fmt.Sprintf(`
[ledger]
path = %q
key_file = %q
[run]
out = %q
time_zone = "UTC"
[[sources]]
name = "ops-sftp"
type = "sftp"
addr = %q
user = %q
key_file = %q
known_hosts = %q
path = %q
archive = %q
reports = %q
stable = "size"
stable_wait = "100ms"
retries = 6
backoff = "100ms"
[[sources]]
name = "ops-mail"
type = "imap"
addr = %q
security = "tls"
ca_file = %q
user = %q
password_file = %q
allowed_senders = ["ops@example.test"]
[smtp]
addr = %q
security = "none"
from = "carepay@example.test"
[delivery]
type = "sftp"
addr = %q
user = %q
key_file = %q
known_hosts = %q
path = %q
`, filepath.Join(dir, "ledger.db"), mustAbs(t, "../../fixtures/demo-ledger.key"), filepath.Join(dir, "out"),
		e.sshAddr, e.sshUser, e.sshKey, e.knownHosts, filepath.Join(dir, "inbox"), filepath.Join(dir, "archive"), filepath.Join(dir, "reports"),
		e.imapAddr, e.imapCA, e.imapUser, filepath.Join(dir, "imap-password"), smtpAddr,
		e.sshAddr, e.sshUser, e.sshKey, e.knownHosts, filepath.Join(dir, "payroll"))
	shipped, _ := os.ReadFile("../../config.toml")
	s := string(shipped)
	// Keep the shipped plans, payout and letters; replace the rest.
	s = s[strings.Index(s, "[payout]"):]
	if i, j := strings.Index(s, "[serve]"), strings.Index(s, "[letters]"); i >= 0 && j > i {
		s = s[:i] + s[j:]
	}
	cfgPath := filepath.Join(dir, "config.toml")
	os.WriteFile(cfgPath, []byte(config+s), 0o644)

	bin := filepath.Join(dir, "carepay")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	runOn := func(asOf string) (string, error) {
		cmd := exec.Command(bin, "run", "--config", cfgPath, "--as-of", asOf)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	run := func() (string, error) { return runOn("2026-04-10") }
	out, err := run()
	if err != nil {
		t.Fatalf("carepay run: %v\n%s", err, out)
	}
	t.Logf("first run:\n%s", out)

	db, err := sql.Open("sqlite", filepath.Join(dir, "ledger.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	count := func(q string) int {
		var n int
		if err := db.QueryRow(q).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	// The fixture drop's 86 lines over SFTP and the emailed invoice's one.
	if n := count(`SELECT COUNT(*) FROM lines`); n != 87 {
		t.Errorf("%d lines in the ledger, want 87", n)
	}
	if n := count(`SELECT COUNT(*) FROM lines WHERE ref = 'INV-2001' AND status = 'approved'`); n != 1 {
		t.Errorf("the emailed invoice was not approved")
	}
	if left, _ := os.ReadDir(filepath.Join(dir, "inbox")); len(left) != 0 {
		t.Errorf("%d files left in the SFTP inbox", len(left))
	}
	if archived, _ := os.ReadDir(filepath.Join(dir, "archive")); len(archived) != len(entries) {
		t.Errorf("%d files archived, want %d", len(archived), len(entries))
	}
	if ack, err := os.ReadFile(filepath.Join(dir, "reports", "30-invoices-march.csv.ack.txt")); err != nil || !strings.Contains(string(ack), "30-invoices-march.csv:28:amount_charged") {
		t.Errorf("acknowledgement on the server: %q %v", ack, err)
	}
	delivered, _ := os.ReadDir(filepath.Join(dir, "payroll"))
	var names []string
	for _, d := range delivered {
		names = append(names, d.Name())
	}
	if strings.Join(names, " ") != "20260410-001-checks.csv 20260410-001-payments.ach 20260410-001-positive-pay.csv" {
		t.Errorf("payroll's folder holds %v", names)
	}
	after := map[string]uint32{}
	for _, m := range []string{"INBOX", "Processed", "Rejected", "Manual"} {
		after[m] = countIn(t, c, m)
	}
	if after["INBOX"] != before["INBOX"] || after["Processed"] < before["Processed"]+1 || after["Rejected"] != before["Rejected"]+1 || after["Manual"] != before["Manual"]+1 {
		t.Errorf("mailbox folders before %v, after %v", before, after)
	}
	mailCapture.mu.Lock()
	replies := strings.Join(mailCapture.msgs, "\n----\n")
	mailCapture.mu.Unlock()
	for _, want := range []string{"Re: March invoice", "inv-2001.csv", "scan.pdf"} {
		if !strings.Contains(replies, want) {
			t.Errorf("no reply mentions %q", want)
		}
	}
	if strings.Contains(replies, "someone@elsewhere.test") {
		t.Errorf("a reply went to a sender not allowed (backscatter):\n%s", replies)
	}

	// Pull the plug: a large file, and every SSH session of the server
	// killed while it is being read. The run fails or retries; the next
	// run completes; nothing is lost or taken twice.
	big := filepath.Join(dir, "inbox", "50-statements-big.csv")
	var b strings.Builder
	b.WriteString("statement_id,provider_id,period,employee_id,dependent_id,care_type,service_date,hours,amount_charged\n")
	for i := 0; i < 200000; i++ {
		fmt.Fprintf(&b, "ST-BIG,P01,2026-03,E999%d,D1,center,2026-03-02,,10.00\n", i)
	}
	os.WriteFile(big, []byte(b.String()), 0o644)
	done := make(chan struct{})
	go func() {
		defer close(done)
		time.Sleep(400 * time.Millisecond)
		killSessions(t, e.sshPID)
	}()
	out, err = run()
	<-done
	t.Logf("run with the plug pulled: %v\n%s", err, out)
	if err != nil {
		if out, err = run(); err != nil {
			t.Fatalf("run after the plug was pulled: %v\n%s", err, out)
		}
	}
	if n := count(`SELECT COUNT(*) FROM lines WHERE ref = 'ST-BIG'`); n != 200000 {
		t.Errorf("%d lines of the big statement in the ledger, want 200000", n)
	}
	if n := count(`SELECT COUNT(*) FROM files WHERE name = '50-statements-big.csv'`); n != 1 {
		t.Errorf("the big file is recorded %d times", n)
	}
	if _, err := os.Stat(filepath.Join(dir, "archive", "50-statements-big.csv")); err != nil {
		t.Errorf("the big file was not archived: %v", err)
	}
	if n := count(`SELECT COUNT(*) FROM lines`); n != 87+200000 {
		t.Errorf("%d lines in all, want %d", n, 87+200000)
	}
	if n := count(`SELECT COUNT(*) FROM deliveries`); n != 3 {
		t.Errorf("%d deliveries recorded, want 3 (nothing delivered twice)", n)
	}

	// Another ledger (a wrong --db) with a new out/ finds payroll's folder
	// holding the payment files of a run it did not make, and refuses.
	other := exec.Command(bin, "run", "--config", cfgPath, "--db", filepath.Join(dir, "other.db"), "--out", filepath.Join(dir, "other-out"), "--as-of", "2026-04-13")
	if out, err := other.CombinedOutput(); err == nil || !strings.Contains(string(out), "holds the payment files of run 20260410-001") {
		t.Errorf("another ledger against payroll's folder: %v\n%s", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "other-out")); !os.IsNotExist(err) {
		t.Errorf("the refused run wrote out/: %v", err)
	}

	// The bank returns the ACH payment to provider P01 (R03): its file,
	// dropped on the SFTP server like any other, is taken, archived and
	// acknowledged there, and the run reissues the payment by check.
	sent, err := os.ReadFile(filepath.Join(dir, "out", "20260410-001", "payments.ach"))
	if err != nil {
		t.Fatal(err)
	}
	trace, amount := achEntryOf(t, sent, "P01")
	os.WriteFile(filepath.Join(dir, "inbox", "bank-returns-0414.ach"),
		achtest.BankFile(t, sent, "260414", []achtest.Notice{{Code: "R03", Trace: trace}}), 0o644)
	if out, err = runOn("2026-04-17"); err != nil {
		t.Fatalf("the run taking the return file: %v\n%s", err, out)
	}
	t.Logf("return run:\n%s", out)
	if n := count(`SELECT COUNT(*) FROM payments WHERE payee_id = 'P01' AND returned_run IS NOT NULL AND return_code = 'R03'`); n != 1 {
		t.Errorf("%d returned payments to P01, want 1", n)
	}
	var reissued int64
	if err := db.QueryRow(`SELECT amount FROM payments WHERE payee_id = 'P01' AND method = 'check' AND returned_run IS NULL`).Scan(&reissued); err != nil || reissued != amount {
		t.Errorf("P01's check: %d (%v), want the returned %d", reissued, err, amount)
	}
	if _, err := os.Stat(filepath.Join(dir, "archive", "bank-returns-0414.ach")); err != nil {
		t.Errorf("the return file was not archived on the server: %v", err)
	}
	if ack, err := os.ReadFile(filepath.Join(dir, "reports", "bank-returns-0414.ach.ack.txt")); err != nil || !strings.Contains(string(ack), "came back from the bank: R03") {
		t.Errorf("the return file's acknowledgement on the server: %v\n%s", err, ack)
	}
}

// killSessions kills every process below the SSH server's master: its
// open sessions, not the server.
func killSessions(t *testing.T, master int) {
	children := map[int][]int{}
	procs, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		s := string(b)
		rest := s[strings.LastIndex(s, ")")+2:]
		f := strings.Fields(rest)
		if len(f) < 2 {
			continue
		}
		pid, _ := strconv.Atoi(strings.Split(p, "/")[2])
		ppid, _ := strconv.Atoi(f[1])
		children[ppid] = append(children[ppid], pid)
	}
	var kill func(int) int
	kill = func(pid int) int {
		n := 0
		for _, c := range children[pid] {
			n += kill(c)
			if proc, err := os.FindProcess(c); err == nil && proc.Kill() == nil {
				n++
			}
		}
		return n
	}
	t.Logf("pulled the plug: %d SSH session processes killed", kill(master))
}

// achEntryOf returns the trace number and amount of the entry paying
// payeeID in a NACHA file.
func achEntryOf(t *testing.T, file []byte, payeeID string) (string, int64) {
	t.Helper()
	f, err := ach.NewReader(bytes.NewReader(file)).Read()
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range f.Batches {
		for _, e := range b.GetEntries() {
			if strings.TrimSpace(e.IdentificationNumber) == payeeID {
				return e.TraceNumber, int64(e.Amount)
			}
		}
	}
	t.Fatalf("no entry for %s", payeeID)
	return "", 0
}
