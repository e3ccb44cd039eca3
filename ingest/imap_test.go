package ingest_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"os"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-smtp"

	"carepay/ingest"
	"carepay/internal/testcert"
	"carepay/mail"
)

const (
	imapUser     = "ops@example.test"
	imapPassword = "imap-Pa55word-for-tests"
	xlsxType     = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
)

// testCert makes a throw-away certificate for the servers of the tests.
var testCert = testcert.New

// imapServer is go-imap's in-memory server on 127.0.0.1 with TLS.
type imapServer struct {
	Addr     string
	Security string
	Pool     *x509.CertPool
}

type discardLog struct{}

func (discardLog) Printf(string, ...interface{}) {}
func (discardLog) Println(...interface{})        {}

// startIMAP starts an in-memory IMAP server with INBOX: implicit TLS, or
// STARTTLS (clear-text login refused either way). caps nil advertises
// IMAP4rev2 (so MOVE); pass IMAP4rev1 alone for a server without MOVE.
func startIMAP(t *testing.T, security string, caps imap.CapSet) *imapServer {
	t.Helper()
	cert, pool := testCert(t)
	mem := imapmemserver.New()
	user := imapmemserver.NewUser(imapUser, imapPassword)
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	if caps == nil {
		caps = imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}}
	}
	tlsCfg := &tls.Config{Certificates: []tls.Certificate{cert}}
	opts := &imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:   caps,
		Logger: discardLog{},
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	switch security {
	case "tls":
		ln = tls.NewListener(ln, tlsCfg)
	case "starttls":
		opts.TLSConfig = tlsCfg
	default:
		t.Fatalf("security %q", security)
	}
	srv := imapserver.New(opts)
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return &imapServer{Addr: ln.Addr().String(), Security: security, Pool: pool}
}

// options are IMAPOptions for the server s.
func (s *imapServer) options(reply ingest.Replier) ingest.IMAPOptions {
	return ingest.IMAPOptions{
		Name: "mailbox", Addr: s.Addr, Security: s.Security,
		TLSConfig: &tls.Config{RootCAs: s.Pool},
		User:      imapUser, Password: imapPassword,
		AllowedSenders: []string{"ann.lee@provider.test", "BOB@provider.test"},
		Reply:          reply,
	}
}

// client is a second, independent IMAP connection to look at the mailbox
// and to add messages to it.
func (s *imapServer) client(t *testing.T) *imapclient.Client {
	t.Helper()
	return dialClient(t, s.Addr, s.Security, s.Pool, imapUser, imapPassword)
}

func dialClient(t *testing.T, addr, security string, pool *x509.CertPool, user, password string) *imapclient.Client {
	t.Helper()
	opts := &imapclient.Options{TLSConfig: &tls.Config{RootCAs: pool}}
	var c *imapclient.Client
	var err error
	if security == "starttls" {
		c, err = imapclient.DialStartTLS(addr, opts)
	} else {
		c, err = imapclient.DialTLS(addr, opts)
	}
	if err != nil {
		t.Fatalf("dialling %s: %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	if err := c.Login(user, password).Wait(); err != nil {
		t.Fatalf("login: %v", err)
	}
	return c
}

// att is an attachment of a test message.
type att struct {
	name   string
	ctype  string
	params map[string]string
	data   []byte
}

// msg is a test message.
type msg struct {
	from, subject, id string
	header            map[string]string
	atts              []att
	seen              bool
	raw               string // the whole message, when go-message cannot write it
}

// build writes m as a MIME message with go-message: a text part, then the
// attachments.
func (m msg) build(t *testing.T) []byte {
	t.Helper()
	if m.raw != "" {
		return []byte(strings.ReplaceAll(m.raw, "\n", "\r\n"))
	}
	var h gomail.Header
	h.SetDate(time.Date(2026, 4, 9, 10, 0, 0, 0, time.UTC))
	h.SetAddressList("From", []*gomail.Address{{Name: "Sender", Address: m.from}})
	h.SetAddressList("To", []*gomail.Address{{Address: "claims@carepay.test"}})
	h.SetSubject(m.subject)
	if m.id != "" {
		h.SetMessageID(m.id)
	}
	for k, v := range m.header {
		h.Set(k, v)
	}
	var buf bytes.Buffer
	w, err := gomail.CreateWriter(&buf, h)
	if err != nil {
		t.Fatal(err)
	}
	var th gomail.InlineHeader
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	tw, err := w.CreateSingleInline(th)
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(tw, "Please find the claims attached.\n")
	tw.Close()
	for _, a := range m.atts {
		var ah gomail.AttachmentHeader
		params := map[string]string{}
		for k, v := range a.params {
			params[k] = v
		}
		ah.SetContentType(a.ctype, params)
		if a.name != "" {
			ah.SetFilename(a.name)
		}
		aw, err := w.CreateAttachment(ah)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := aw.Write(a.data); err != nil {
			t.Fatal(err)
		}
		aw.Close()
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// appendMsg appends m to mailbox and returns its UID.
func appendMsg(t *testing.T, c *imapclient.Client, mailbox string, m msg) imap.UID {
	t.Helper()
	raw := m.build(t)
	var opts imap.AppendOptions
	if m.seen {
		opts.Flags = []imap.Flag{imap.FlagSeen}
	}
	cmd := c.Append(mailbox, int64(len(raw)), &opts)
	if _, err := cmd.Write(raw); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := cmd.Wait()
	if err != nil {
		t.Fatalf("APPEND: %v", err)
	}
	return data.UID
}

// stored is a message as a folder holds it.
type stored struct {
	Subject string
	Seen    bool
}

// folder lists the messages of a folder (not expunged, not \Deleted).
func folder(t *testing.T, c *imapclient.Client, name string) []stored {
	t.Helper()
	sel, err := c.Select(name, nil).Wait()
	if err != nil {
		t.Fatalf("SELECT %s: %v", name, err)
	}
	if sel.NumMessages == 0 {
		return nil
	}
	var set imap.SeqSet
	set.AddRange(1, sel.NumMessages)
	bufs, err := c.Fetch(set, &imap.FetchOptions{Envelope: true, Flags: true}).Collect()
	if err != nil {
		t.Fatalf("FETCH in %s: %v", name, err)
	}
	var out []stored
	for _, b := range bufs {
		if slices.Contains(b.Flags, imap.FlagDeleted) {
			continue
		}
		out = append(out, stored{Subject: b.Envelope.Subject, Seen: slices.Contains(b.Flags, imap.FlagSeen)})
	}
	return out
}

func subjects(l []stored) []string {
	var s []string
	for _, m := range l {
		s = append(s, m.Subject)
	}
	slices.Sort(s)
	return s
}

// reply is one reply a Replier was asked to send.
type reply struct {
	To, Subject, InReplyTo, Body string
}

// fakeReplier keeps the replies instead of sending them; fail makes it
// fail.
type fakeReplier struct {
	mu      sync.Mutex
	replies []reply
	fail    error
}

func (f *fakeReplier) Reply(ctx context.Context, to, subject, inReplyTo, body string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.replies = append(f.replies, reply{to, subject, inReplyTo, body})
	return nil
}

func (f *fakeReplier) all() []reply {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.replies)
}

// smtpSink is an in-process SMTP server (go-smtp) that keeps the replies
// mail.SMTP sends.
type smtpSink struct {
	mu   sync.Mutex
	msgs [][]byte
}

type sinkSession struct{ sink *smtpSink }

func (s sinkSession) Reset()                                      {}
func (s sinkSession) Logout() error                               { return nil }
func (s sinkSession) Mail(from string, _ *smtp.MailOptions) error { return nil }
func (s sinkSession) Rcpt(to string, _ *smtp.RcptOptions) error   { return nil }
func (s sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.sink.mu.Lock()
	s.sink.msgs = append(s.sink.msgs, b)
	s.sink.mu.Unlock()
	return nil
}

// startSMTP starts the sink with STARTTLS and returns a mail.SMTP that
// sends to it.
func startSMTP(t *testing.T) (*smtpSink, *mail.SMTP) {
	t.Helper()
	cert, pool := testCert(t)
	sink := &smtpSink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return sinkSession{sink}, nil }))
	srv.Domain = "localhost"
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.ErrorLog = discardLog{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	s, err := mail.NewSMTP(mail.SMTPOptions{
		Addr: ln.Addr().String(), From: "Carepay <claims@carepay.test>", Security: "starttls",
		TLSConfig: &tls.Config{RootCAs: pool},
	})
	if err != nil {
		t.Fatal(err)
	}
	return sink, s
}

// replies parses what the sink received.
func (s *smtpSink) replies(t *testing.T) []reply {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []reply
	for _, raw := range s.msgs {
		mr, err := gomail.CreateReader(bytes.NewReader(raw))
		if err != nil {
			t.Fatalf("a reply does not parse: %v", err)
		}
		to, _ := mr.Header.AddressList("To")
		subject, _ := mr.Header.Subject()
		irt, _ := mr.Header.MsgIDList("In-Reply-To")
		refs, _ := mr.Header.MsgIDList("References")
		if !reflect.DeepEqual(irt, refs) {
			t.Errorf("reply %q: In-Reply-To %q, References %q", subject, irt, refs)
		}
		p, err := mr.NextPart()
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(p.Body)
		r := reply{Subject: subject, Body: strings.ReplaceAll(string(body), "\r\n", "\n")}
		if len(to) == 1 {
			r.To = to[0].Address
		}
		if len(irt) == 1 {
			r.InReplyTo = "<" + irt[0] + ">"
		}
		out = append(out, r)
	}
	return out
}

// repliesTo keeps the replies to addr about subject.
func repliesTo(rs []reply, addr, subject string) []reply {
	var out []reply
	for _, r := range rs {
		if strings.EqualFold(r.To, addr) && r.Subject == "Re: "+subject {
			out = append(out, r)
		}
	}
	return out
}

func fetchString(t *testing.T, s ingest.Source, name string) ([]byte, error) {
	t.Helper()
	var buf bytes.Buffer
	err := s.Fetch(context.Background(), name, &buf)
	return buf.Bytes(), err
}

// The messages of TestIMAPSource, appended in this order (UIDs 1 to 7).
var (
	csvMarch   = []byte("invoice_id,employee_id,amount\nINV-1,E1,10.00\n")
	xlsxBytes  = append([]byte("PK\x03\x04"), bytes.Repeat([]byte{0, 0xff, 7}, 40)...)
	pdfBytes   = append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0, 1, 0xfe}, 100)...)
	csvApril   = []byte("statement_id,provider_id\nST-1,P01\n")
	csvExport  = []byte("employee_id,name\nE1,Ann\n")
	sourceMsgs = []msg{
		{from: "Ann.Lee@Provider.TEST", subject: "March claims", id: "m1@provider.test", atts: []att{
			{name: "claims.csv", ctype: "text/csv", data: csvMarch},
			{name: "roster.xlsx", ctype: xlsxType, data: xlsxBytes},
		}},
		{from: "ann.lee@provider.test", subject: "Scanned invoice", id: "m2@provider.test", atts: []att{
			{name: "scan.pdf", ctype: "application/pdf", data: pdfBytes},
		}},
		{from: "mallory@elsewhere.test", subject: "Pay me", id: "m3@elsewhere.test", atts: []att{
			{name: "claims.csv", ctype: "text/csv", data: csvMarch},
		}},
		{from: "ann.lee@provider.test", subject: "Everything at once", id: "m4@provider.test", atts: []att{
			{name: "huge.csv", ctype: "text/csv", data: bytes.Repeat([]byte("E1,10.00\n"), 8000)},
		}},
		{from: "bob@provider.test", subject: "April", id: "m5@provider.test", atts: []att{
			{name: "april.csv", ctype: "text/csv", data: csvApril},
			{name: "photo.jpg", ctype: "image/jpeg", data: []byte{0xff, 0xd8, 0xff, 0xe0, 1, 2, 3}},
		}},
		{from: "ann.lee@provider.test", subject: "Old news", id: "m6@provider.test", seen: true, atts: []att{
			{name: "old.csv", ctype: "text/csv", data: csvMarch},
		}},
		{from: "bob@provider.test", subject: "Exports", id: "m7@provider.test", atts: []att{
			{name: "export.XLSX", ctype: "application/octet-stream", data: xlsxBytes},
			{ctype: "text/csv", data: csvExport},
		}},
	}
)

func TestIMAPSource(t *testing.T) {
	for _, security := range []string{"tls", "starttls"} {
		t.Run(security, func(t *testing.T) { testIMAPSource(t, security) })
	}
}

func testIMAPSource(t *testing.T, security string) {
	ctx := context.Background()
	srv := startIMAP(t, security, nil)
	sink, smtpSender := startSMTP(t)
	look := srv.client(t)
	for _, m := range sourceMsgs {
		appendMsg(t, look, "INBOX", m)
	}
	opt := srv.options(smtpSender)
	opt.MaxMessageBytes = 64 << 10
	src, err := ingest.NewIMAP(opt)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	var _ ingest.Source = src

	names, err := src.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	t.Run("list names the machine-readable attachments in UID order", func(t *testing.T) {
		want := []string{"1-claims.csv", "1-roster.xlsx", "5-april.csv", "7-export.XLSX", "7-attachment.csv"}
		if !reflect.DeepEqual(names, want) {
			t.Errorf("List = %q, want %q", names, want)
		}
	})

	t.Run("fetch", func(t *testing.T) {
		tests := []struct {
			name string
			want []byte
		}{
			{"1-claims.csv", csvMarch},
			{"1-roster.xlsx", xlsxBytes},
			{"5-april.csv", csvApril},
			{"7-export.XLSX", xlsxBytes},
			{"7-attachment.csv", csvExport},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := fetchString(t, src, tt.name)
				if err != nil {
					t.Fatalf("Fetch: %v", err)
				}
				if !bytes.Equal(got, tt.want) {
					t.Errorf("Fetch = %q, want %q", got, tt.want)
				}
			})
		}
	})

	t.Run("fetch refuses what was not listed", func(t *testing.T) {
		for _, name := range []string{"5-photo.jpg", "1-nothing.csv", "99-claims.csv", "claims.csv", "0-x.csv", "1-../x.csv"} {
			if _, err := fetchString(t, src, name); err == nil {
				t.Errorf("Fetch(%q): no error", name)
			}
		}
	})

	t.Run("nothing is marked seen", func(t *testing.T) {
		inbox := folder(t, look, "INBOX")
		if got, want := subjects(inbox), []string{"April", "Exports", "March claims", "Old news"}; !reflect.DeepEqual(got, want) {
			t.Errorf("INBOX holds %q, want %q", got, want)
		}
		for _, m := range inbox {
			if m.Seen != (m.Subject == "Old news") {
				t.Errorf("%q: seen = %v", m.Subject, m.Seen)
			}
		}
	})

	t.Run("messages not taken", func(t *testing.T) {
		replies := sink.replies(t)
		tests := []struct {
			name, subject, to, folder string
			also                      string // a second folder holding it
			replies                   int
			says                      []string
		}{
			{"sender not allowed gets no reply", "Pay me", "mallory@elsewhere.test", "Rejected", "", 0, nil},
			{"oversize message", "Everything at once", "ann.lee@provider.test", "Rejected", "", 1, []string{"65,536 bytes", "smaller messages"}},
			{"pdf only", "Scanned invoice", "ann.lee@provider.test", "Manual", "Processed", 1, []string{"scan.pdf (application/pdf)", "keyed by hand"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if !slices.Contains(subjects(folder(t, look, tt.folder)), tt.subject) {
					t.Errorf("%q is not in %s", tt.subject, tt.folder)
				}
				if tt.also != "" && !slices.Contains(subjects(folder(t, look, tt.also)), tt.subject) {
					t.Errorf("%q is not in %s", tt.subject, tt.also)
				}
				rs := repliesTo(replies, tt.to, tt.subject)
				if len(rs) != tt.replies {
					t.Fatalf("%d replies to %s about %q, want %d (all: %+v)", len(rs), tt.to, tt.subject, tt.replies, replies)
				}
				for _, s := range tt.says {
					if !strings.Contains(rs[0].Body, s) {
						t.Errorf("the reply does not say %q:\n%s", s, rs[0].Body)
					}
				}
			})
		}
		if n := len(replies); n != 2 {
			t.Errorf("%d replies after List, want 2", n)
		}
		filed := src.Filed()
		var got []string
		for _, f := range filed {
			got = append(got, fmt.Sprintf("%d %s %v", f.UID, f.Folder, f.Replied))
		}
		if want := []string{"2 Manual true", "3 Rejected false", "4 Rejected true"}; !reflect.DeepEqual(got, want) {
			t.Errorf("Filed = %q, want %q", got, want)
		}
	})

	t.Run("archive moves a message once all its files are archived, with one reply", func(t *testing.T) {
		before := len(sink.replies(t))
		for _, name := range []string{"1-claims.csv", "1-roster.xlsx"} {
			if err := src.Ack(ctx, name, []byte("carepay acknowledgement\nfile: "+name+"\nstatus: taken\n")); err != nil {
				t.Fatalf("Ack(%s): %v", name, err)
			}
		}
		if err := src.Archive(ctx, "1-claims.csv", ""); err != nil {
			t.Fatalf("Archive: %v", err)
		}
		if !slices.Contains(subjects(folder(t, look, "INBOX")), "March claims") {
			t.Errorf("the message left INBOX with a file not archived")
		}
		if n := len(sink.replies(t)); n != before {
			t.Errorf("a reply went out before the last file was archived")
		}
		if err := src.Archive(ctx, "1-roster.xlsx", ""); err != nil {
			t.Fatalf("Archive: %v", err)
		}
		if slices.Contains(subjects(folder(t, look, "INBOX")), "March claims") {
			t.Errorf("the message is still in INBOX")
		}
		if !slices.Contains(subjects(folder(t, look, "Processed")), "March claims") {
			t.Errorf("the message is not in Processed")
		}
		rs := repliesTo(sink.replies(t), "Ann.Lee@Provider.TEST", "March claims")
		if len(rs) != 1 {
			t.Fatalf("%d replies, want 1", len(rs))
		}
		if rs[0].InReplyTo != "<m1@provider.test>" {
			t.Errorf("In-Reply-To %q", rs[0].InReplyTo)
		}
		for _, s := range []string{"file: 1-claims.csv\nstatus: taken", "file: 1-roster.xlsx\nstatus: taken"} {
			if !strings.Contains(rs[0].Body, s) {
				t.Errorf("the reply lacks %q:\n%s", s, rs[0].Body)
			}
		}
	})

	t.Run("a second instance archives what the first listed", func(t *testing.T) {
		again, err := ingest.NewIMAP(opt)
		if err != nil {
			t.Fatal(err)
		}
		defer again.Close()
		if err := again.Ack(ctx, "5-april.csv", []byte("status: taken (april)\n")); err != nil {
			t.Fatal(err)
		}
		if err := again.Archive(ctx, "5-april.csv", ""); err != nil {
			t.Fatalf("Archive: %v", err)
		}
		if !slices.Contains(subjects(folder(t, look, "Processed")), "April") {
			t.Errorf("April is not in Processed")
		}
		if !slices.Contains(subjects(folder(t, look, "Manual")), "April") {
			t.Errorf("April (with a photo to key) is not in Manual")
		}
		if slices.Contains(subjects(folder(t, look, "INBOX")), "April") {
			t.Errorf("April is still in INBOX")
		}
		rs := repliesTo(sink.replies(t), "bob@provider.test", "April")
		if len(rs) != 1 {
			t.Fatalf("%d replies, want 1", len(rs))
		}
		for _, s := range []string{"status: taken (april)", "photo.jpg (image/jpeg)", "keyed by hand"} {
			if !strings.Contains(rs[0].Body, s) {
				t.Errorf("the reply lacks %q:\n%s", s, rs[0].Body)
			}
		}
		if f := again.Filed(); len(f) != 1 || f[0].Folder != "Manual" || f[0].UID != 5 {
			t.Errorf("Filed = %+v", f)
		}
	})

	t.Run("archive after the move does nothing", func(t *testing.T) {
		before := len(sink.replies(t))
		third, err := ingest.NewIMAP(opt)
		if err != nil {
			t.Fatal(err)
		}
		defer third.Close()
		for _, name := range []string{"1-claims.csv", "5-april.csv"} {
			if err := third.Archive(ctx, name, ""); err != nil {
				t.Errorf("Archive(%s): %v", name, err)
			}
		}
		if n := len(sink.replies(t)); n != before {
			t.Errorf("%d more replies", n-before)
		}
	})

	t.Run("archive refuses a name the message does not have", func(t *testing.T) {
		if err := src.Archive(ctx, "7-other.csv", ""); err == nil {
			t.Errorf("Archive: no error")
		}
	})

	t.Run("list again", func(t *testing.T) {
		names, err := src.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"7-export.XLSX", "7-attachment.csv"}; !reflect.DeepEqual(names, want) {
			t.Errorf("List = %q, want %q", names, want)
		}
	})
}

// TestIMAPWithoutMove runs against a server with neither MOVE nor UIDPLUS:
// messages go by COPY, \Deleted and EXPUNGE.
func TestIMAPWithoutMove(t *testing.T) {
	ctx := context.Background()
	srv := startIMAP(t, "starttls", imap.CapSet{imap.CapIMAP4rev1: {}})
	look := srv.client(t)
	appendMsg(t, look, "INBOX", sourceMsgs[0])
	appendMsg(t, look, "INBOX", sourceMsgs[2])
	rep := &fakeReplier{}
	src, err := ingest.NewIMAP(srv.options(rep))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	names, err := src.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		if err := src.Archive(ctx, n, ""); err != nil {
			t.Fatal(err)
		}
	}
	tests := []struct {
		folder string
		want   []string
	}{
		{"INBOX", nil},
		{"Processed", []string{"March claims"}},
		{"Rejected", []string{"Pay me"}},
		{"Manual", nil},
	}
	for _, tt := range tests {
		t.Run(tt.folder, func(t *testing.T) {
			if got := subjects(folder(t, look, tt.folder)); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("%s holds %q, want %q", tt.folder, got, tt.want)
			}
		})
	}
	if n := len(rep.all()); n != 1 {
		t.Errorf("%d replies, want 1 (none to the sender not allowed)", n)
	}
}

func TestIMAPMessages(t *testing.T) {
	tests := []struct {
		name     string
		msg      msg
		maxAtt   int64
		names    []string
		fetched  map[string]string
		folder   string // where the message ends after List ("INBOX": stays)
		replies  int
		replySay string
	}{
		{
			name: "attachment over the limit", maxAtt: 1000,
			msg:    msg{from: "bob@provider.test", subject: "Big", atts: []att{{name: "big.csv", ctype: "text/csv", data: bytes.Repeat([]byte("a,b\n"), 500)}}},
			folder: "Rejected", replies: 1, replySay: "at most 1,000 bytes, and big.csv (2,000 bytes (2.0 KiB)) is larger",
		},
		{
			name:   "no attachment",
			msg:    msg{from: "bob@provider.test", subject: "Hello"},
			folder: "Rejected", replies: 1, replySay: "no attachment",
		},
		{
			name:   "sender not allowed gets no reply",
			msg:    msg{from: "mallory@elsewhere.test", subject: "Pay me", atts: []att{{name: "claims.csv", ctype: "text/csv", data: csvMarch}}},
			folder: "Rejected", replies: 0,
		},
		{
			name: "no From address gets no reply",
			msg: msg{subject: "Anonymous", raw: "Subject: Anonymous\n" +
				"MIME-Version: 1.0\n" +
				"Content-Type: text/csv\n" +
				"Content-Disposition: attachment; filename=claims.csv\n\n" +
				"invoice_id\nINV-1\n"},
			folder: "Rejected", replies: 0,
		},
		{
			name:   "automatic message from a stranger gets no reply",
			msg:    msg{from: "daemon@elsewhere.test", subject: "Out of office", header: map[string]string{"Auto-Submitted": "auto-replied"}},
			folder: "Rejected", replies: 0,
		},
		{
			name:   "bulk mail gets no reply",
			msg:    msg{from: "news@elsewhere.test", subject: "Newsletter", header: map[string]string{"Precedence": "bulk"}},
			folder: "Rejected", replies: 0,
		},
		{
			name: "file names are reduced to one path element and made unique",
			msg: msg{from: "bob@provider.test", subject: "Paths", atts: []att{
				{name: "../../etc/claims.csv", ctype: "text/csv", data: []byte("a\n")},
				{name: `C:\Users\bob\claims.csv`, ctype: "text/csv", data: []byte("b\n")},
				{name: ".hidden.csv", ctype: "text/csv", data: []byte("c\n")},
				{name: "tab\there.csv", ctype: "text/csv", data: []byte("d\n")},
			}},
			names:   []string{"1-claims.csv", "1-claims-2.csv", "1-hidden.csv", "1-tab_here.csv"},
			fetched: map[string]string{"1-claims.csv": "a\n", "1-claims-2.csv": "b\n", "1-hidden.csv": "c\n", "1-tab_here.csv": "d\n"},
			folder:  "INBOX",
		},
		{
			name: "signatures are not attachments",
			msg: msg{from: "bob@provider.test", subject: "Signed", atts: []att{
				{name: "claims.csv", ctype: "text/csv", data: []byte("a\n")},
				{name: "smime.p7s", ctype: "application/pkcs7-signature", data: []byte{1, 2, 3}},
			}},
			names:  []string{"1-claims.csv"},
			folder: "INBOX",
		},
		{
			name: "a windows-1252 CSV is decoded to UTF-8",
			// go-message writes UTF-8 only: this one is written by hand.
			msg: msg{subject: "Accents", raw: "From: bob@provider.test\n" +
				"Subject: Accents\n" +
				"MIME-Version: 1.0\n" +
				"Content-Type: multipart/mixed; boundary=b1\n\n" +
				"--b1\nContent-Type: text/plain\n\nHello\n" +
				"--b1\nContent-Type: text/csv; charset=windows-1252\n" +
				"Content-Disposition: attachment; filename=names.csv\n" +
				"Content-Transfer-Encoding: quoted-printable\n\n" +
				"name\nJos=E9\n" +
				"--b1--\n"},
			names:   []string{"1-names.csv"},
			fetched: map[string]string{"1-names.csv": "name\r\nJosé"}, // the last CRLF belongs to the boundary
			folder:  "INBOX",
		},
		{
			name: "CSV by content type alone",
			msg: msg{from: "bob@provider.test", subject: "Typed", atts: []att{
				{name: "claims.txt", ctype: "application/csv", data: []byte("a\n")},
				{name: "notes.txt", ctype: "text/plain", data: []byte("hi\n")},
			}},
			names:  []string{"1-claims.txt"},
			folder: "INBOX",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			srv := startIMAP(t, "tls", nil)
			look := srv.client(t)
			appendMsg(t, look, "INBOX", tt.msg)
			rep := &fakeReplier{}
			opt := srv.options(rep)
			opt.MaxAttachmentBytes = tt.maxAtt
			src, err := ingest.NewIMAP(opt)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			names, err := src.List(ctx)
			if err != nil {
				t.Fatalf("List: %v", err)
			}
			if !reflect.DeepEqual(names, tt.names) {
				t.Errorf("List = %q, want %q", names, tt.names)
			}
			for name, want := range tt.fetched {
				got, err := fetchString(t, src, name)
				if err != nil || string(got) != want {
					t.Errorf("Fetch(%s) = %q, %v; want %q", name, got, err, want)
				}
			}
			if got := subjects(folder(t, look, tt.folder)); !slices.Contains(got, tt.msg.subject) {
				t.Errorf("%s holds %q, want %q in it", tt.folder, got, tt.msg.subject)
			}
			rs := rep.all()
			if len(rs) != tt.replies {
				t.Fatalf("%d replies, want %d: %+v", len(rs), tt.replies, rs)
			}
			if tt.replies > 0 && !strings.Contains(rs[0].Body, tt.replySay) {
				t.Errorf("the reply does not say %q:\n%s", tt.replySay, rs[0].Body)
			}
		})
	}
}

func TestIMAPReplyFailure(t *testing.T) {
	ctx := context.Background()
	srv := startIMAP(t, "tls", nil)
	look := srv.client(t)
	appendMsg(t, look, "INBOX", sourceMsgs[0])                                    // taken: UID 1
	appendMsg(t, look, "INBOX", msg{from: "bob@provider.test", subject: "Hello"}) // rejected with a reply: UID 2
	appendMsg(t, look, "INBOX", sourceMsgs[2])                                    // not allowed, no reply: UID 3
	rep := &fakeReplier{fail: fmt.Errorf("smtp is down")}
	src, err := ingest.NewIMAP(srv.options(rep))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	names, err := src.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	t.Run("a rejection whose reply fails stays for the next list", func(t *testing.T) {
		if got := subjects(folder(t, look, "INBOX")); !reflect.DeepEqual(got, []string{"Hello", "March claims"}) {
			t.Errorf("INBOX holds %q", got)
		}
		if got := subjects(folder(t, look, "Rejected")); !reflect.DeepEqual(got, []string{"Pay me"}) {
			t.Errorf("Rejected holds %q; want the message of the sender not allowed, which needs no reply", got)
		}
		f := src.Filed()
		if len(f) != 2 || f[0].Folder != "" || !strings.Contains(f[0].Err, "smtp is down") ||
			f[1].Folder != "Rejected" || f[1].Replied || f[1].Err != "" {
			t.Errorf("Filed = %+v", f)
		}
	})
	t.Run("archive fails and keeps the message until the reply goes", func(t *testing.T) {
		for _, n := range names {
			src.Ack(ctx, n, []byte("ack "+n))
		}
		if err := src.Archive(ctx, names[0], ""); err != nil {
			t.Fatal(err)
		}
		if err := src.Archive(ctx, names[1], ""); err == nil || !strings.Contains(err.Error(), "smtp is down") {
			t.Errorf("Archive: %v, want the reply's failure", err)
		}
		if !slices.Contains(subjects(folder(t, look, "INBOX")), "March claims") {
			t.Errorf("the message left INBOX without its reply")
		}
		rep.mu.Lock()
		rep.fail = nil
		rep.mu.Unlock()
		if err := src.Archive(ctx, names[1], ""); err != nil {
			t.Fatalf("Archive again: %v", err)
		}
		if !slices.Contains(subjects(folder(t, look, "Processed")), "March claims") {
			t.Errorf("the message is not in Processed")
		}
		rs := rep.all()
		if len(rs) != 1 || !strings.Contains(rs[0].Body, "ack 1-claims.csv") || !strings.Contains(rs[0].Body, "ack 1-roster.xlsx") {
			t.Errorf("replies: %+v", rs)
		}
	})
}

func TestIMAPConnectionFailures(t *testing.T) {
	srv := startIMAP(t, "tls", nil)
	_, otherPool := testCert(t)
	tests := []struct {
		name string
		edit func(*ingest.IMAPOptions)
		want string
	}{
		{"untrusted certificate", func(o *ingest.IMAPOptions) { o.TLSConfig = &tls.Config{RootCAs: otherPool} }, "certificate"},
		{"no TLS config uses the system roots", func(o *ingest.IMAPOptions) { o.TLSConfig = nil }, "certificate"},
		{"wrong password", func(o *ingest.IMAPOptions) { o.Password = "wrong-" + imapPassword }, "logging in"},
		{"starttls against implicit TLS", func(o *ingest.IMAPOptions) { o.Security = "starttls" }, "STARTTLS"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := srv.options(&fakeReplier{})
			tt.edit(&opt)
			src, err := ingest.NewIMAP(opt)
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = src.List(ctx)
			if err == nil {
				t.Fatal("List: no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("List: %v, want %q in it", err, tt.want)
			}
			if strings.Contains(err.Error(), imapPassword) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

func TestIMAPHonoursTheContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() { // accepts and never says a word
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			time.Sleep(5 * time.Second)
		}
	}()
	for _, security := range []string{"tls", "starttls"} {
		t.Run(security, func(t *testing.T) {
			src, err := ingest.NewIMAP(ingest.IMAPOptions{
				Name: "mailbox", Addr: ln.Addr().String(), Security: security,
				User: imapUser, Password: imapPassword,
				AllowedSenders: []string{"ann@provider.test"}, Reply: &fakeReplier{},
			})
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
			defer cancel()
			start := time.Now()
			if _, err := src.List(ctx); err == nil {
				t.Fatal("List: no error")
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Errorf("List returned %v after its deadline", d)
			}
		})
	}
}

func TestNewIMAPChecksOptions(t *testing.T) {
	base := func() ingest.IMAPOptions {
		return ingest.IMAPOptions{
			Name: "mailbox", Addr: "imap.example.test:993", Security: "tls",
			User: imapUser, Password: imapPassword,
			AllowedSenders: []string{"ann@provider.test"}, Reply: &fakeReplier{},
		}
	}
	tests := []struct {
		name string
		edit func(*ingest.IMAPOptions)
		want string // substring of the error; empty: no error
	}{
		{"defaults", func(*ingest.IMAPOptions) {}, ""},
		{"starttls", func(o *ingest.IMAPOptions) { o.Security = "starttls" }, ""},
		{"no security", func(o *ingest.IMAPOptions) { o.Security = "" }, "security"},
		{"clear text", func(o *ingest.IMAPOptions) { o.Security = "none" }, "security"},
		{"no port", func(o *ingest.IMAPOptions) { o.Addr = "imap.example.test" }, "host:port"},
		{"skipping verification", func(o *ingest.IMAPOptions) { o.TLSConfig = &tls.Config{InsecureSkipVerify: true} }, "verification"},
		{"no name", func(o *ingest.IMAPOptions) { o.Name = "" }, "no name"},
		{"no password", func(o *ingest.IMAPOptions) { o.Password = "" }, "password"},
		{"no replier", func(o *ingest.IMAPOptions) { o.Reply = nil }, "replier"},
		{"no allowed sender", func(o *ingest.IMAPOptions) { o.AllowedSenders = []string{" "} }, "allowed senders"},
		{"allowed sender not an address", func(o *ingest.IMAPOptions) { o.AllowedSenders = []string{"ann"} }, "not an address"},
		{"negative limit", func(o *ingest.IMAPOptions) { o.MaxMessageBytes = -1 }, "negative"},
		{"processed is the mailbox", func(o *ingest.IMAPOptions) { o.Processed = "inbox" }, "own folder"},
		{"manual is rejected", func(o *ingest.IMAPOptions) { o.Manual = "Rejected" }, "own folder"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := base()
			tt.edit(&opt)
			_, err := ingest.NewIMAP(opt)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("NewIMAP: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("NewIMAP: no error, want one with %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("NewIMAP: %v, want %q in it", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), imapPassword) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

// TestIMAPAgainstDovecot runs the source against a real Dovecot, started by
// scripts/e2e-dovecot.sh (whose env file sets the variables).
func TestIMAPAgainstDovecot(t *testing.T) {
	addr := os.Getenv("CAREPAY_E2E_IMAP_ADDR")
	if addr == "" {
		if os.Getenv("CI") != "" {
			t.Fatal("CAREPAY_E2E_IMAP_ADDR not set under CI: run the suite through scripts/test, which starts Dovecot")
		}
		t.Skip("CAREPAY_E2E_IMAP_ADDR not set outside CI: scripts/test starts the real Dovecot server")
	}
	user := os.Getenv("CAREPAY_E2E_IMAP_USER")
	pw, err := os.ReadFile(os.Getenv("CAREPAY_E2E_IMAP_PASSWORD_FILE"))
	if err != nil {
		t.Fatalf("reading the password: %v", err)
	}
	password := strings.TrimSpace(string(pw))
	caPEM, err := os.ReadFile(os.Getenv("CAREPAY_E2E_IMAP_CA"))
	if err != nil {
		t.Fatalf("reading the CA: %v", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(caPEM) {
		t.Fatal("no certificate in CAREPAY_E2E_IMAP_CA")
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	token := make([]byte, 6)
	rand.Read(token)
	tag := hex.EncodeToString(token)
	look := dialClient(t, addr, "tls", pool, user, password)
	csv := []byte("invoice_id,amount\nINV-" + tag + ",10.00\n")
	taken := msg{from: "claims@provider.test", subject: "e2e claims " + tag, id: "e2e-" + tag + "@provider.test", atts: []att{
		{name: "claims.csv", ctype: "text/csv", data: csv},
	}}
	stranger := msg{from: "stranger@elsewhere.test", subject: "e2e stranger " + tag, id: "e2e-s-" + tag + "@elsewhere.test", atts: []att{
		{name: "claims.csv", ctype: "text/csv", data: csv},
	}}
	uid := appendMsg(t, look, "INBOX", taken)
	appendMsg(t, look, "INBOX", stranger)

	rep := &fakeReplier{}
	src, err := ingest.NewIMAP(ingest.IMAPOptions{
		Name: "dovecot", Addr: addr, Security: "tls", TLSConfig: &tls.Config{RootCAs: pool},
		User: user, Password: password,
		AllowedSenders: []string{"claims@provider.test"}, Reply: rep,
	})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	names, err := src.List(ctx)
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	name := fmt.Sprintf("%d-claims.csv", uid)
	if !slices.Contains(names, name) {
		t.Fatalf("List = %q, want %q in it", names, name)
	}
	got, err := fetchString(t, src, name)
	if err != nil || !bytes.Equal(got, csv) {
		t.Fatalf("Fetch = %q, %v; want %q", got, err, csv)
	}
	if s := subjects(folder(t, look, "INBOX")); !slices.Contains(s, taken.subject) {
		t.Errorf("INBOX holds %q, want %q", s, taken.subject)
	}
	for _, m := range folder(t, look, "INBOX") {
		if m.Subject == taken.subject && m.Seen {
			t.Errorf("List/Fetch marked the message seen")
		}
	}
	if err := src.Ack(ctx, name, []byte("status: taken\n")); err != nil {
		t.Fatal(err)
	}
	if err := src.Archive(ctx, name, ""); err != nil {
		t.Fatalf("Archive: %v", err)
	}
	tests := []struct {
		folder, subject string
		in              bool
	}{
		{"INBOX", taken.subject, false},
		{"Processed", taken.subject, true},
		{"INBOX", stranger.subject, false},
		{"Rejected", stranger.subject, true},
	}
	for _, tt := range tests {
		t.Run(tt.folder+"/"+tt.subject, func(t *testing.T) {
			if got := slices.Contains(subjects(folder(t, look, tt.folder)), tt.subject); got != tt.in {
				t.Errorf("%q in %s: %v, want %v", tt.subject, tt.folder, got, tt.in)
			}
		})
	}
	var mine []reply
	for _, r := range rep.all() {
		if strings.Contains(r.Subject, tag) {
			mine = append(mine, r)
		}
	}
	if len(mine) != 1 {
		t.Fatalf("replies: %+v, want 1 (none to the stranger)", mine)
	}
	for _, r := range mine {
		switch r.To {
		case "claims@provider.test":
			if r.Subject != "Re: "+taken.subject || r.InReplyTo != "<"+taken.id+">" || !strings.Contains(r.Body, "status: taken") {
				t.Errorf("acknowledgement reply: %+v", r)
			}
		default:
			t.Errorf("reply to %s", r.To)
		}
	}
}
