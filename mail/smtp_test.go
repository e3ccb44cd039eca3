package mail_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-message"
	gomail "github.com/emersion/go-message/mail"
	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"carepay/internal/testcert"
	"carepay/mail"
)

const (
	smtpUser     = "carepay"
	smtpPassword = "s3cret-Pa55word"
)

// testCert makes a throw-away certificate for the servers of the tests.
var testCert = testcert.New

// delivered is one message the test server accepted.
type delivered struct {
	From string
	To   []string
	Data []byte
	TLS  bool
	Auth bool
}

// smtpSink is an in-process SMTP server that keeps what it receives.
type smtpSink struct {
	Addr string
	mu   sync.Mutex
	msgs []delivered
}

func (s *smtpSink) messages() []delivered {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]delivered(nil), s.msgs...)
}

type sinkSession struct {
	sink *smtpSink
	tls  bool
	auth bool
	cur  delivered
}

func (ss *sinkSession) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *sinkSession) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != smtpUser || password != smtpPassword {
			return smtp.ErrAuthFailed
		}
		ss.auth = true
		return nil
	}), nil
}

func (ss *sinkSession) Mail(from string, opts *smtp.MailOptions) error {
	ss.cur = delivered{From: from}
	return nil
}

func (ss *sinkSession) Rcpt(to string, opts *smtp.RcptOptions) error {
	ss.cur.To = append(ss.cur.To, to)
	return nil
}

func (ss *sinkSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	ss.cur.Data = b
	ss.cur.TLS = ss.tls
	ss.cur.Auth = ss.auth
	ss.sink.mu.Lock()
	ss.sink.msgs = append(ss.sink.msgs, ss.cur)
	ss.sink.mu.Unlock()
	return nil
}

func (ss *sinkSession) Reset()        { ss.cur = delivered{} }
func (ss *sinkSession) Logout() error { return nil }

// startSink starts an SMTP server on 127.0.0.1: implicit TLS when
// implicitTLS, else plain with STARTTLS offered.
func startSink(t *testing.T, cert tls.Certificate, implicitTLS bool) *smtpSink {
	t.Helper()
	sink := &smtpSink{}
	srv := smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		return &sinkSession{sink: sink, tls: isTLS}, nil
	}))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true // lets the "none" case authenticate on loopback
	srv.TLSConfig = &tls.Config{Certificates: []tls.Certificate{cert}}
	srv.ReadTimeout = 10 * time.Second
	srv.WriteTimeout = 10 * time.Second
	srv.ErrorLog = discardLogger{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if implicitTLS {
		ln = tls.NewListener(ln, srv.TLSConfig)
	}
	sink.Addr = ln.Addr().String()
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return sink
}

type discardLogger struct{}

func (discardLogger) Printf(string, ...interface{}) {}
func (discardLogger) Println(...interface{})        {}

func TestNewSMTPChecksOptions(t *testing.T) {
	tests := []struct {
		name string
		opt  mail.SMTPOptions
		want string // substring of the error; empty: no error
	}{
		{"tls", mail.SMTPOptions{Addr: "smtp.example.test:465", From: "ops@example.test", Security: "tls"}, ""},
		{"starttls with auth", mail.SMTPOptions{Addr: "smtp.example.test:587", From: "Carepay <ops@example.test>", Security: "starttls", User: "u", Password: "p"}, ""},
		{"none on loopback", mail.SMTPOptions{Addr: "127.0.0.1:25", From: "ops@example.test", Security: "none"}, ""},
		{"none on localhost", mail.SMTPOptions{Addr: "localhost:25", From: "ops@example.test", Security: "none"}, ""},
		{"none off loopback", mail.SMTPOptions{Addr: "smtp.example.test:25", From: "ops@example.test", Security: "none"}, "loopback"},
		{"no security", mail.SMTPOptions{Addr: "smtp.example.test:465", From: "ops@example.test"}, "security"},
		{"unknown security", mail.SMTPOptions{Addr: "smtp.example.test:465", From: "ops@example.test", Security: "ssl"}, "security"},
		{"no port", mail.SMTPOptions{Addr: "smtp.example.test", From: "ops@example.test", Security: "tls"}, "host:port"},
		{"bad from", mail.SMTPOptions{Addr: "smtp.example.test:465", From: "not an address", Security: "tls"}, "from address"},
		{"user without password", mail.SMTPOptions{Addr: "smtp.example.test:465", From: "ops@example.test", Security: "tls", User: "u"}, "user and password"},
		{"skipping verification", mail.SMTPOptions{Addr: "smtp.example.test:465", From: "ops@example.test", Security: "tls", TLSConfig: &tls.Config{InsecureSkipVerify: true}}, "verification"},
		{"password without user", mail.SMTPOptions{Addr: "smtp.example.test:465", From: "ops@example.test", Security: "tls", Password: smtpPassword}, "user and password"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := mail.NewSMTP(tt.opt)
			switch {
			case tt.want == "" && err != nil:
				t.Fatalf("NewSMTP: %v", err)
			case tt.want != "" && err == nil:
				t.Fatalf("NewSMTP: no error, want one with %q", tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Fatalf("NewSMTP: %v, want %q in it", err, tt.want)
			}
			if err != nil && strings.Contains(err.Error(), smtpPassword) {
				t.Fatalf("the error shows the password: %v", err)
			}
		})
	}
}

func TestReply(t *testing.T) {
	cert, pool := testCert(t)
	tests := []struct {
		name      string
		implicit  bool
		security  string
		user      string
		inReplyTo string
		wantTLS   bool
	}{
		{"tls with auth", true, "tls", smtpUser, "<abc.123@sender.test>", true},
		{"starttls with auth", false, "starttls", smtpUser, "abc.123@sender.test", true},
		{"none on loopback", false, "none", "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := startSink(t, cert, tt.implicit)
			opt := mail.SMTPOptions{
				Addr: sink.Addr, From: "Carepay <claims@carepay.test>", Security: tt.security,
				TLSConfig: &tls.Config{RootCAs: pool},
			}
			if tt.user != "" {
				opt.User, opt.Password = tt.user, smtpPassword
			}
			s, err := mail.NewSMTP(opt)
			if err != nil {
				t.Fatal(err)
			}
			body := "carepay acknowledgement\nfile: 7-claims.csv\nstatus: taken — 3 rows\n"
			if err := s.Reply(context.Background(), "Ann Lee <ann@provider.test>", "Re: March claims\r\nBcc: evil@example.test", tt.inReplyTo, body); err != nil {
				t.Fatalf("Reply: %v", err)
			}
			got := sink.messages()
			if len(got) != 1 {
				t.Fatalf("%d messages delivered, want 1", len(got))
			}
			d := got[0]
			if d.From != "claims@carepay.test" || len(d.To) != 1 || d.To[0] != "ann@provider.test" {
				t.Errorf("envelope from %q to %q", d.From, d.To)
			}
			if d.TLS != tt.wantTLS {
				t.Errorf("TLS = %v, want %v", d.TLS, tt.wantTLS)
			}
			if d.Auth != (tt.user != "") {
				t.Errorf("authenticated = %v, want %v", d.Auth, tt.user != "")
			}
			mr, err := gomail.CreateReader(bytes.NewReader(d.Data))
			if err != nil {
				t.Fatalf("parsing the reply: %v", err)
			}
			subject, _ := mr.Header.Subject()
			if subject != "Re: March claims  Bcc: evil@example.test" {
				t.Errorf("Subject = %q", subject)
			}
			if mr.Header.Has("Bcc") {
				t.Errorf("a header was injected through the subject")
			}
			if got := mr.Header.Get("Auto-Submitted"); got != "auto-replied" {
				t.Errorf("Auto-Submitted = %q", got)
			}
			irt, _ := mr.Header.MsgIDList("In-Reply-To")
			refs, _ := mr.Header.MsgIDList("References")
			if tt.inReplyTo == "" {
				if irt != nil || refs != nil {
					t.Errorf("In-Reply-To %q, References %q, want none", irt, refs)
				}
			} else if len(irt) != 1 || irt[0] != "abc.123@sender.test" || len(refs) != 1 || refs[0] != "abc.123@sender.test" {
				t.Errorf("In-Reply-To %q, References %q", irt, refs)
			}
			if id, _ := mr.Header.MessageID(); !strings.HasSuffix(id, "@carepay.test") {
				t.Errorf("Message-ID = %q", id)
			}
			p, err := mr.NextPart()
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(p.Body)
			// Text travels with CRLF line ends.
			if got := strings.ReplaceAll(string(b), "\r\n", "\n"); got != body {
				t.Errorf("body = %q, want %q", got, body)
			}
		})
	}
}

func TestSendMultipartWithPDF(t *testing.T) {
	cert, pool := testCert(t)
	sink := startSink(t, cert, false)
	s, err := mail.NewSMTP(mail.SMTPOptions{
		Addr: sink.Addr, From: "claims@carepay.test", Security: "starttls",
		User: smtpUser, Password: smtpPassword, TLSConfig: &tls.Config{RootCAs: pool},
	})
	if err != nil {
		t.Fatal(err)
	}
	pdf := append([]byte("%PDF-1.4\n"), bytes.Repeat([]byte{0, 1, 2, 0xff, '\r', '\n'}, 5000)...)
	pdf = append(pdf, "\n%%EOF\n"...)
	atts := []mail.Attachment{
		{Name: "letter-E301.pdf", ContentType: "application/pdf", Data: pdf},
		{Name: "Übersicht März.csv", ContentType: "text/csv", Data: []byte("a,b\n1,2\n")},
	}
	if err := s.Send(context.Background(), "ivy@employee.test", "Your backup care decision", "Please find your letter attached.\n", atts); err != nil {
		t.Fatalf("Send: %v", err)
	}
	got := sink.messages()
	if len(got) != 1 {
		t.Fatalf("%d messages delivered, want 1", len(got))
	}
	e, err := message.Read(bytes.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if mt, _, _ := e.Header.ContentType(); mt != "multipart/mixed" {
		t.Fatalf("Content-Type %q, want multipart/mixed", mt)
	}
	if e.Header.Get("Mime-Version") != "1.0" {
		t.Errorf("MIME-Version = %q", e.Header.Get("Mime-Version"))
	}
	mr := gomail.NewReader(e)
	var text string
	files := map[string][]byte{}
	types := map[string]string{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(p.Body)
		if err != nil {
			t.Fatal(err)
		}
		switch h := p.Header.(type) {
		case *gomail.InlineHeader:
			text = strings.ReplaceAll(string(b), "\r\n", "\n")
		case *gomail.AttachmentHeader:
			name, _ := h.Filename()
			files[name] = b
			types[name], _, _ = h.ContentType()
		}
	}
	if text != "Please find your letter attached.\n" {
		t.Errorf("text part %q", text)
	}
	for _, a := range atts {
		t.Run(a.Name, func(t *testing.T) {
			if !bytes.Equal(files[a.Name], a.Data) {
				t.Errorf("attachment %q: %d bytes, want %d intact", a.Name, len(files[a.Name]), len(a.Data))
			}
			if types[a.Name] != a.ContentType {
				t.Errorf("attachment %q: type %q, want %q", a.Name, types[a.Name], a.ContentType)
			}
		})
	}
}

func TestSMTPFailures(t *testing.T) {
	cert, pool := testCert(t)
	_, otherPool := testCert(t)
	tests := []struct {
		name     string
		implicit bool
		opt      func(addr string) mail.SMTPOptions
		want     string
	}{
		{"wrong password", true, func(addr string) mail.SMTPOptions {
			return mail.SMTPOptions{Addr: addr, From: "claims@carepay.test", Security: "tls", User: smtpUser, Password: "wrong-" + smtpPassword, TLSConfig: &tls.Config{RootCAs: pool}}
		}, "authenticating"},
		{"untrusted certificate", true, func(addr string) mail.SMTPOptions {
			return mail.SMTPOptions{Addr: addr, From: "claims@carepay.test", Security: "tls", User: smtpUser, Password: smtpPassword, TLSConfig: &tls.Config{RootCAs: otherPool}}
		}, "certificate"},
		{"untrusted certificate after STARTTLS", false, func(addr string) mail.SMTPOptions {
			return mail.SMTPOptions{Addr: addr, From: "claims@carepay.test", Security: "starttls", User: smtpUser, Password: smtpPassword, TLSConfig: &tls.Config{RootCAs: otherPool}}
		}, "certificate"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sink := startSink(t, cert, tt.implicit)
			s, err := mail.NewSMTP(tt.opt(sink.Addr))
			if err != nil {
				t.Fatal(err)
			}
			err = s.Reply(context.Background(), "ann@provider.test", "Re: x", "", "body")
			if err == nil {
				t.Fatal("Reply: no error")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("error %q, want %q in it", err, tt.want)
			}
			if strings.Contains(err.Error(), smtpPassword) {
				t.Errorf("the error shows the password: %v", err)
			}
			if n := len(sink.messages()); n != 0 {
				t.Errorf("%d messages delivered, want 0", n)
			}
		})
	}
	t.Run("cancelled context", func(t *testing.T) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		go func() { // accepts and never greets
			c, err := ln.Accept()
			if err == nil {
				defer c.Close()
				time.Sleep(5 * time.Second)
			}
		}()
		s, err := mail.NewSMTP(mail.SMTPOptions{Addr: ln.Addr().String(), From: "claims@carepay.test", Security: "none"})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		start := time.Now()
		err = s.Reply(ctx, "ann@provider.test", "Re: x", "", "body")
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Reply: %v, want the deadline", err)
		}
		if time.Since(start) > 3*time.Second {
			t.Errorf("Reply took %v after its deadline", time.Since(start))
		}
	})
}
