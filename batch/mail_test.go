package batch

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"carepay/ingest"
	"carepay/internal/testcert"
	"carepay/ledger"
)

type quietLog struct{}

func (quietLog) Printf(string, ...interface{}) {}
func (quietLog) Println(...interface{})        {}

// mailbox starts go-imap's in-memory server with implicit TLS and returns
// options for a source on it, and a client to look with.
func mailbox(t *testing.T, reply ingest.Replier) (ingest.IMAPOptions, *imapclient.Client) {
	t.Helper()
	cert, pool := testcert.New(t)
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("claims@carepay.test", "imap-test-password")
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:   imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		Logger: quietLog{},
	})
	go func() { _ = srv.Serve(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}})) }()
	t.Cleanup(func() { _ = srv.Close() })
	c, err := imapclient.DialTLS(ln.Addr().String(), &imapclient.Options{TLSConfig: &tls.Config{RootCAs: pool}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login("claims@carepay.test", "imap-test-password").Wait(); err != nil {
		t.Fatal(err)
	}
	return ingest.IMAPOptions{Name: "mail", Addr: ln.Addr().String(), Security: ingest.IMAPSecurityTLS,
		TLSConfig: &tls.Config{RootCAs: pool}, User: "claims@carepay.test", Password: "imap-test-password",
		AllowedSenders: []string{"ops@example.test"}, Reply: reply}, c
}

// sendMail appends a message with one CSV attachment to INBOX.
func sendMail(t *testing.T, c *imapclient.Client, from, subject, file, body string) {
	t.Helper()
	raw := strings.ReplaceAll(fmt.Sprintf("From: %s\nTo: claims@carepay.test\nSubject: %s\nMessage-ID: <%s@example.test>\n"+
		"MIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=b1\n\n"+
		"--b1\nContent-Type: text/plain\n\nClaims attached.\n"+
		"--b1\nContent-Type: text/csv\nContent-Disposition: attachment; filename=%s\n\n%s"+
		"--b1--\n", from, subject, strings.ReplaceAll(subject, " ", "-"), file, body), "\n", "\r\n")
	cmd := c.Append("INBOX", int64(len(raw)), nil)
	if _, err := cmd.Write([]byte(raw)); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := cmd.Wait(); err != nil {
		t.Fatal(err)
	}
}

// subjectsIn lists the subjects of the messages in a folder.
func subjectsIn(t *testing.T, c *imapclient.Client, folder string) []string {
	t.Helper()
	if _, err := c.Select(folder, nil).Wait(); err != nil {
		return nil
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2, 3, 4, 5), &imap.FetchOptions{Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		out = append(out, m.Envelope.Subject)
	}
	slices.Sort(out)
	return out
}

// ledgerReplier records replies, and for each whether the ledger had
// committed a run holding a file of the message when it was sent.
type ledgerReplier struct {
	lg      *ledger.Ledger
	mu      sync.Mutex
	replies []string
}

func (r *ledgerReplier) Reply(ctx context.Context, to, subject, inReplyTo, body string) error {
	committed := false
	if runs, err := r.lg.PendingRuns(ctx); err == nil && len(runs) == 1 {
		files, err := r.lg.RunFiles(ctx, runs[0].ID)
		committed = err == nil && len(files) > 0 && strings.Contains(body, files[0].Name)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.replies = append(r.replies, fmt.Sprintf("%s %s committed=%v", to, subject, committed))
	return nil
}

func (r *ledgerReplier) all() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.replies)
}

// TestMailRepliesOnlyAfterCommitNeverToStrangers: over IMAP, a sender who
// is not allowed gets no reply (From is easily forged: the reply would
// go to whoever it names), and the acknowledgement to an allowed sender
// goes out only once the ledger committed the file; a run that fails
// before its commit sends nothing and leaves the message for the next.
func TestMailRepliesOnlyAfterCommitNeverToStrangers(t *testing.T) {
	e := newEnv(t)
	rep := &ledgerReplier{lg: e.lg}
	opt, look := mailbox(t, rep)
	sendMail(t, look, "ops@example.test", "March invoice", "inv.csv", invoiceHeader+invoiceRow(1)+invoiceRow(2))
	sendMail(t, look, "mallory@elsewhere.test", "Pay me", "claims.csv", invoiceHeader+invoiceRow(4))

	src, err := ingest.NewIMAP(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	failing := &hookSource{Source: src, verifyErr: errors.New("disk full")}
	if _, err := e.runSources(failing); err == nil {
		t.Fatal("the run did not fail")
	}
	if got := rep.all(); len(got) != 0 {
		t.Errorf("replies from a run that committed nothing: %q", got)
	}
	if got := subjectsIn(t, look, "INBOX"); !slices.Equal(got, []string{"March invoice"}) {
		t.Errorf("INBOX holds %q, want the allowed message left for the next run", got)
	}
	if got := subjectsIn(t, look, "Rejected"); !slices.Equal(got, []string{"Pay me"}) {
		t.Errorf("Rejected holds %q", got)
	}

	if _, err := e.runSources(src); err != nil {
		t.Fatal(err)
	}
	want := []string{"ops@example.test Re: March invoice committed=true"}
	if got := rep.all(); !slices.Equal(got, want) {
		t.Errorf("replies %q, want %q", got, want)
	}
	if got := subjectsIn(t, look, "Processed"); !slices.Equal(got, []string{"March invoice"}) {
		t.Errorf("Processed holds %q", got)
	}
	wantEachRowOnce(t, e, "1-inv.csv", 2)
	if got := decidedRows(t, e, "2-claims.csv"); len(got) != 0 {
		t.Errorf("rows decided from a sender not allowed: %v", got)
	}
}
