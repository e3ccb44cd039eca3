// Package mail sends carepay's email over SMTP: plain-text replies to the
// people who mailed a drop (their acknowledgements) and messages with
// attachments (PDF letters). Messages are built with go-message; the
// connection is always encrypted, except on the loopback interface where
// tests may turn encryption off.
package mail

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	netmail "net/mail"
	"net/smtp"
	"strings"
	"time"

	gomail "github.com/emersion/go-message/mail"
)

// Security names how the connection to the SMTP server is protected.
const (
	// SecurityTLS is implicit TLS (submissions, usually port 465).
	SecurityTLS = "tls"
	// SecurityStartTLS is a plain connection upgraded with STARTTLS
	// (submission, usually port 587); the upgrade is required.
	SecurityStartTLS = "starttls"
	// SecurityNone sends in clear text; it is accepted only for a server on
	// the loopback interface (tests).
	SecurityNone = "none"
)

// defaultTimeout bounds one delivery when the context has no deadline.
const defaultTimeout = 2 * time.Minute

// SMTPOptions configures an SMTP sender.
type SMTPOptions struct {
	// Addr is the server as host:port.
	Addr string
	// From is the sender, "ops@example.com" or "Carepay <ops@example.com>":
	// the From header and the envelope sender.
	From string
	// User and Password authenticate with AUTH PLAIN (over TLS only); both
	// empty sends without authenticating. The caller resolves the password
	// from a file or an environment variable; it never appears in errors.
	User     string
	Password string
	// Security is "tls", "starttls" or "none" (loopback servers only).
	Security string
	// TLSConfig, if set, is used for the TLS handshake (tests pass a pool
	// of RootCAs here). ServerName defaults to the host of Addr.
	// InsecureSkipVerify is refused.
	TLSConfig *tls.Config
}

// SMTP sends mail through one SMTP server. It opens a connection per
// message and is safe for concurrent use.
type SMTP struct {
	opt  SMTPOptions
	host string
	from *netmail.Address
}

// Attachment is a file attached to a message sent with Send.
type Attachment struct {
	// Name is the file name the recipient sees.
	Name string
	// ContentType is the media type, e.g. "application/pdf";
	// empty means application/octet-stream.
	ContentType string
	// Data is the file's content.
	Data []byte
}

// NewSMTP checks the options and returns a sender; it does not connect.
func NewSMTP(opt SMTPOptions) (*SMTP, error) {
	host, port, err := net.SplitHostPort(opt.Addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("smtp: address %q: want host:port", opt.Addr)
	}
	from, err := netmail.ParseAddress(opt.From)
	if err != nil {
		return nil, fmt.Errorf("smtp: from address %q: %w", opt.From, err)
	}
	switch opt.Security {
	case SecurityTLS, SecurityStartTLS:
	case SecurityNone:
		if !isLoopback(host) {
			return nil, fmt.Errorf("smtp: security %q is allowed only for a loopback server, not %s", SecurityNone, host)
		}
	default:
		return nil, fmt.Errorf("smtp: security %q: want %q or %q", opt.Security, SecurityTLS, SecurityStartTLS)
	}
	if opt.TLSConfig != nil && opt.TLSConfig.InsecureSkipVerify {
		return nil, errors.New("smtp: TLS certificate verification cannot be turned off; trust a private CA with RootCAs instead")
	}
	if (opt.User == "") != (opt.Password == "") {
		return nil, errors.New("smtp: user and password go together: set both or neither")
	}
	return &SMTP{opt: opt, host: host, from: from}, nil
}

// isLoopback reports whether host names the loopback interface.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Reply sends a plain-text reply to to. inReplyTo is the Message-ID of the
// message answered (with or without angle brackets; empty for none): it
// goes into In-Reply-To and References so the reply threads under it. The
// reply is marked Auto-Submitted: auto-replied so that auto-responders do
// not answer it.
func (s *SMTP) Reply(ctx context.Context, to, subject, inReplyTo, body string) error {
	rcpt, err := netmail.ParseAddress(to)
	if err != nil {
		return fmt.Errorf("smtp: reply: recipient %q: %w", to, err)
	}
	h, err := s.header(rcpt, subject)
	if err != nil {
		return err
	}
	h.Set("Auto-Submitted", "auto-replied")
	if id := cleanMsgID(inReplyTo); id != "" {
		h.SetMsgIDList("In-Reply-To", []string{id})
		h.SetMsgIDList("References", []string{id})
	}
	h.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	var buf bytes.Buffer
	w, err := gomail.CreateSingleInlineWriter(&buf, h)
	if err != nil {
		return fmt.Errorf("smtp: reply: building the message: %w", err)
	}
	if _, err := io.WriteString(w, body); err != nil {
		return fmt.Errorf("smtp: reply: building the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: reply: building the message: %w", err)
	}
	if err := s.deliver(ctx, rcpt.Address, buf.Bytes()); err != nil {
		return fmt.Errorf("smtp: reply to %s: %w", rcpt.Address, err)
	}
	return nil
}

// Send sends a multipart/mixed message to to: body as its plain-text part,
// then each attachment, base64-encoded, under its name.
func (s *SMTP) Send(ctx context.Context, to, subject, body string, attachments []Attachment) error {
	rcpt, err := netmail.ParseAddress(to)
	if err != nil {
		return fmt.Errorf("smtp: send: recipient %q: %w", to, err)
	}
	h, err := s.header(rcpt, subject)
	if err != nil {
		return err
	}
	h.Set("Auto-Submitted", "auto-generated")
	msg, err := buildMixed(h, body, attachments)
	if err != nil {
		return fmt.Errorf("smtp: send: building the message: %w", err)
	}
	if err := s.deliver(ctx, rcpt.Address, msg); err != nil {
		return fmt.Errorf("smtp: send to %s: %w", rcpt.Address, err)
	}
	return nil
}

// header is the header every message carries: Date, From, To, Subject and
// a fresh Message-ID in the sender's domain.
func (s *SMTP) header(rcpt *netmail.Address, subject string) (gomail.Header, error) {
	var h gomail.Header
	h.SetDate(time.Now())
	h.SetAddressList("From", []*gomail.Address{{Name: s.from.Name, Address: s.from.Address}})
	h.SetAddressList("To", []*gomail.Address{{Name: rcpt.Name, Address: rcpt.Address}})
	h.SetSubject(oneLine(subject))
	domain := "carepay.invalid"
	if at := strings.LastIndexByte(s.from.Address, '@'); at >= 0 && at+1 < len(s.from.Address) {
		domain = s.from.Address[at+1:]
	}
	if err := h.GenerateMessageIDWithHostname(domain); err != nil {
		return h, fmt.Errorf("smtp: generating a Message-ID: %w", err)
	}
	return h, nil
}

// buildMixed writes a multipart/mixed message: a text part, then the
// attachments.
func buildMixed(h gomail.Header, body string, attachments []Attachment) ([]byte, error) {
	var buf bytes.Buffer
	mw, err := gomail.CreateWriter(&buf, h)
	if err != nil {
		return nil, err
	}
	var th gomail.InlineHeader
	th.SetContentType("text/plain", map[string]string{"charset": "utf-8"})
	tw, err := mw.CreateSingleInline(th)
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(tw, body); err != nil {
		return nil, err
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	for _, a := range attachments {
		if a.Name == "" {
			return nil, errors.New("an attachment has no name")
		}
		ct := a.ContentType
		if ct == "" {
			ct = "application/octet-stream"
		}
		var ah gomail.AttachmentHeader
		ah.SetContentType(ct, map[string]string{"name": oneLine(a.Name)})
		ah.SetFilename(oneLine(a.Name))
		aw, err := mw.CreateAttachment(ah)
		if err != nil {
			return nil, fmt.Errorf("attachment %s: %w", a.Name, err)
		}
		if _, err := aw.Write(a.Data); err != nil {
			return nil, fmt.Errorf("attachment %s: %w", a.Name, err)
		}
		if err := aw.Close(); err != nil {
			return nil, fmt.Errorf("attachment %s: %w", a.Name, err)
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// deliver runs one SMTP transaction: connect, secure, authenticate, send.
func (s *SMTP) deliver(ctx context.Context, rcpt string, msg []byte) error {
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, defaultTimeout)
		defer cancel()
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", s.opt.Addr)
	if err != nil {
		return fmt.Errorf("connecting: %w", err)
	}
	defer conn.Close()
	// The end of the context (its deadline, or a cancellation) interrupts
	// whatever the connection is doing.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	if s.opt.Security == SecurityTLS {
		tc := tls.Client(conn, s.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return fmt.Errorf("TLS handshake: %w", err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return fmt.Errorf("greeting: %w", ctxErr(ctx, err))
	}
	defer c.Close()
	if s.opt.Security == SecurityStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("the server does not offer STARTTLS")
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return fmt.Errorf("STARTTLS: %w", ctxErr(ctx, err))
		}
	}
	if s.opt.User != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("the server does not offer AUTH")
		}
		if err := c.Auth(smtp.PlainAuth("", s.opt.User, s.opt.Password, s.host)); err != nil {
			return fmt.Errorf("authenticating as %s: %w", s.opt.User, ctxErr(ctx, err))
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", ctxErr(ctx, err))
	}
	if err := c.Rcpt(rcpt); err != nil {
		return fmt.Errorf("RCPT TO: %w", ctxErr(ctx, err))
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", ctxErr(ctx, err))
	}
	if _, err := w.Write(msg); err != nil {
		return fmt.Errorf("DATA: %w", ctxErr(ctx, err))
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", ctxErr(ctx, err))
	}
	// The message is accepted; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

// tlsConfig is the configured TLS settings with the server name filled in.
func (s *SMTP) tlsConfig() *tls.Config {
	var cfg *tls.Config
	if s.opt.TLSConfig != nil {
		cfg = s.opt.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.host
	}
	if cfg.MinVersion == 0 {
		cfg.MinVersion = tls.VersionTLS12
	}
	return cfg
}

// ctxErr prefers the context's error when the context ended: an I/O error
// caused by the cancellation says less.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w: %w", cerr, err)
	}
	return err
}

// oneLine folds CR, LF and other control characters into spaces so that a
// value cannot start a new header field.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// cleanMsgID returns a message identifier without angle brackets, or ""
// if id is not a plausible one.
func cleanMsgID(id string) string {
	id = strings.TrimSpace(id)
	id = strings.TrimPrefix(id, "<")
	id = strings.TrimSuffix(id, ">")
	if id == "" || strings.ContainsAny(id, "<> \t\r\n") {
		return ""
	}
	return id
}
