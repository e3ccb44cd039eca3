package ingest

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	gomessage "github.com/emersion/go-message"
	"github.com/emersion/go-message/charset"
	gomail "github.com/emersion/go-message/mail"
)

// Replier answers the sender of a message: a plain-text reply whose
// In-Reply-To and References name inReplyTo (a Message-ID). mail.SMTP is
// one; the IMAP source depends only on this interface.
type Replier interface {
	Reply(ctx context.Context, to, subject, inReplyTo, body string) error
}

// IMAP security modes.
const (
	// IMAPSecurityTLS is implicit TLS (imaps, usually port 993).
	IMAPSecurityTLS = "tls"
	// IMAPSecurityStartTLS is a plain connection upgraded with STARTTLS
	// (usually port 143); the upgrade is required before logging in.
	IMAPSecurityStartTLS = "starttls"
)

// Defaults of IMAPOptions.
const (
	DefaultIMAPMailbox            = "INBOX"
	DefaultIMAPProcessed          = "Processed"
	DefaultIMAPRejected           = "Rejected"
	DefaultIMAPManual             = "Manual"
	DefaultIMAPMaxMessageBytes    = 25 << 20
	DefaultIMAPMaxAttachmentBytes = 20 << 20
)

// IMAPOptions configures an IMAP source.
type IMAPOptions struct {
	// Name identifies the source in the ledger and in reports.
	Name string
	// Addr is the server as host:port.
	Addr string
	// Security is "tls" (implicit TLS) or "starttls". There is no clear
	// text mode and no way to skip certificate verification.
	Security string
	// TLSConfig, if set, is used for the handshake (tests pass RootCAs
	// here). ServerName defaults to the host of Addr. InsecureSkipVerify
	// is refused.
	TLSConfig *tls.Config
	// User and Password log in. The caller resolves the password from a
	// file or an environment variable; it never appears in errors.
	User     string
	Password string
	// Mailbox is where drops arrive (default INBOX). A message leaves it
	// for Processed once its files are archived, for Rejected when nothing
	// in it is taken; a message with attachments to key by hand is also
	// copied to Manual. Defaults: Processed, Rejected, Manual; the three
	// are created when missing.
	Mailbox   string
	Processed string
	Rejected  string
	Manual    string
	// AllowedSenders are the From addresses whose messages are taken
	// (compared without regard to case). Messages from anyone else go to
	// Rejected without a reply: a From address is easily forged, and a
	// reply would land on whoever it names.
	AllowedSenders []string
	// MaxMessageBytes and MaxAttachmentBytes bound the size of a message
	// (as the server counts it) and of one decoded attachment; a message
	// over either goes to Rejected. Zero means the defaults, 25 MiB and
	// 20 MiB.
	MaxMessageBytes    int64
	MaxAttachmentBytes int64
	// Reply answers senders: acknowledgements, rejections and attachments
	// filed for keying by hand. Required.
	Reply Replier
}

// IMAPFiling is a message that was not taken as a whole: rejected, or
// filed in the Manual folder for keying by hand.
type IMAPFiling struct {
	UID     uint32
	From    string
	Subject string
	// Folder is where the message went: the Rejected or the Manual folder
	// (a message filed for keying is also moved to Processed). Empty when
	// the message was left where it was (see Err).
	Folder string
	// Reason says why, in the words of the reply (or of the log, for a
	// message that gets none).
	Reason string
	// Replied is false when no reply was sent: a sender that is not
	// allowed, no usable sender address, an automatic message (RFC 3834),
	// or a failure (see Err).
	Replied bool
	// Err is a failure that left the message unseen in the mailbox, to be
	// handled again by the next List.
	Err string
}

// IMAP is a mailbox that drops are sent to as CSV and XLSX attachments.
// Each machine-readable attachment of an unseen message from an allowed
// sender is one file, named "<uid>-<filename>". Messages are read with
// BODY.PEEK and never marked \Seen: a message stays unseen in the mailbox
// until all its files are archived, so a run that stops between the
// ledger commit and the move finds it again (and the ledger recognises
// its files by their bytes).
//
// An IMAP keeps one connection and serialises its calls.
type IMAP struct {
	opt     IMAPOptions
	host    string
	allowed map[string]bool

	mu          sync.Mutex
	c           *imapclient.Client
	uidValidity uint32
	msgs        map[imap.UID]*imapMessage
	filed       []IMAPFiling
	cacheUID    imap.UID
	cacheRaw    []byte
}

var _ Source = (*IMAP)(nil)

// imapMessage is what the source knows of one message it lists files of.
type imapMessage struct {
	uid       imap.UID
	from      string
	subject   string
	messageID string
	auto      bool       // an automatic message: no reply
	files     []string   // names of the machine-readable attachments
	manual    []imapPart // attachments to key by hand
	loaded    bool       // files and manual are known
	done      map[string]bool
	acks      map[string][]byte
}

// imapPart is one attachment of a message.
type imapPart struct {
	filename    string // as sent, for people
	name        string // the file name in the source: "<uid>-<safe name>"
	contentType string
	size        int64
	readable    bool // CSV or XLSX
	data        []byte
}

// NewIMAP checks the options and returns the source; it connects on
// first use.
func NewIMAP(opt IMAPOptions) (*IMAP, error) {
	host, port, err := net.SplitHostPort(opt.Addr)
	if err != nil || host == "" || port == "" {
		return nil, fmt.Errorf("imap source %s: address %q: want host:port", opt.Name, opt.Addr)
	}
	if opt.Name == "" {
		return nil, errors.New("imap source: no name")
	}
	switch opt.Security {
	case IMAPSecurityTLS, IMAPSecurityStartTLS:
	default:
		return nil, fmt.Errorf("imap source %s: security %q: want %q or %q", opt.Name, opt.Security, IMAPSecurityTLS, IMAPSecurityStartTLS)
	}
	if opt.TLSConfig != nil && opt.TLSConfig.InsecureSkipVerify {
		return nil, fmt.Errorf("imap source %s: TLS certificate verification cannot be turned off; trust a private CA with RootCAs instead", opt.Name)
	}
	if opt.User == "" || opt.Password == "" {
		return nil, fmt.Errorf("imap source %s: user and password are required", opt.Name)
	}
	if opt.Reply == nil {
		return nil, fmt.Errorf("imap source %s: no replier: senders must hear what became of their messages", opt.Name)
	}
	if opt.Mailbox == "" {
		opt.Mailbox = DefaultIMAPMailbox
	}
	if opt.Processed == "" {
		opt.Processed = DefaultIMAPProcessed
	}
	if opt.Rejected == "" {
		opt.Rejected = DefaultIMAPRejected
	}
	if opt.Manual == "" {
		opt.Manual = DefaultIMAPManual
	}
	folders := map[string]string{}
	for _, f := range []struct{ key, name string }{
		{"mailbox", opt.Mailbox}, {"processed", opt.Processed}, {"rejected", opt.Rejected}, {"manual", opt.Manual},
	} {
		k := f.name
		if strings.EqualFold(k, "INBOX") {
			k = "INBOX"
		}
		if other, dup := folders[k]; dup {
			return nil, fmt.Errorf("imap source %s: %s and %s are both %q: each needs its own folder", opt.Name, other, f.key, f.name)
		}
		folders[k] = f.key
	}
	if opt.MaxMessageBytes < 0 || opt.MaxAttachmentBytes < 0 {
		return nil, fmt.Errorf("imap source %s: size limits cannot be negative", opt.Name)
	}
	if opt.MaxMessageBytes == 0 {
		opt.MaxMessageBytes = DefaultIMAPMaxMessageBytes
	}
	if opt.MaxAttachmentBytes == 0 {
		opt.MaxAttachmentBytes = DefaultIMAPMaxAttachmentBytes
	}
	allowed := map[string]bool{}
	for _, a := range opt.AllowedSenders {
		a = strings.ToLower(strings.TrimSpace(a))
		if a == "" {
			continue
		}
		if !strings.Contains(a, "@") {
			return nil, fmt.Errorf("imap source %s: allowed sender %q is not an address", opt.Name, a)
		}
		allowed[a] = true
	}
	if len(allowed) == 0 {
		return nil, fmt.Errorf("imap source %s: no allowed senders: every message would be rejected", opt.Name)
	}
	opt.AllowedSenders = slices.Clone(opt.AllowedSenders)
	return &IMAP{opt: opt, host: host, allowed: allowed, msgs: map[imap.UID]*imapMessage{}}, nil
}

// Name identifies the source in the ledger and in reports.
func (s *IMAP) Name() string { return s.opt.Name }

// Close logs out and closes the connection, if one is open.
func (s *IMAP) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.c == nil {
		return nil
	}
	c := s.c
	s.c = nil
	logoutErr := c.Logout().Wait()
	closeErr := c.Close()
	if logoutErr != nil {
		return fmt.Errorf("imap source %s: logging out: %w", s.opt.Name, logoutErr)
	}
	if closeErr != nil && !errors.Is(closeErr, net.ErrClosed) {
		return fmt.Errorf("imap source %s: closing: %w", s.opt.Name, closeErr)
	}
	return nil
}

// Filed returns the messages rejected or filed for keying by hand since
// the last call, and forgets them.
func (s *IMAP) Filed() []IMAPFiling {
	s.mu.Lock()
	defer s.mu.Unlock()
	f := s.filed
	s.filed = nil
	return f
}

// List returns one name per machine-readable attachment of each unseen
// message from an allowed sender, in UID order then attachment order.
// On the way it moves messages from other senders to Rejected without a
// reply, rejects oversize messages and messages with nothing to take
// (moved to Rejected, with a reply to the allowed sender), and
// files messages whose attachments must all be keyed by hand (copied to
// Manual, moved to Processed, with a reply naming them). A message whose
// reply fails is left unseen for the next List and reported by Filed.
func (s *IMAP) List(ctx context.Context) ([]string, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var names []string
	err := s.do(ctx, func(c *imapclient.Client) error {
		sel, err := c.Select(s.opt.Mailbox, nil).Wait()
		if err != nil {
			return fmt.Errorf("selecting %s: %w", s.opt.Mailbox, err)
		}
		s.uidValidity = sel.UIDValidity
		s.msgs = map[imap.UID]*imapMessage{}
		s.cacheUID, s.cacheRaw = 0, nil
		found, err := c.UIDSearch(&imap.SearchCriteria{NotFlag: []imap.Flag{imap.FlagSeen, imap.FlagDeleted}}, nil).Wait()
		if err != nil {
			return fmt.Errorf("searching %s for unseen messages: %w", s.opt.Mailbox, err)
		}
		uids := found.AllUIDs()
		if len(uids) == 0 {
			return nil
		}
		slices.Sort(uids)
		heads, err := s.fetchHeads(c, uids)
		if err != nil {
			return err
		}
		for _, uid := range uids {
			h := heads[uid]
			if h == nil {
				continue // expunged meanwhile
			}
			files, err := s.listMessage(ctx, c, h)
			if err != nil {
				return err
			}
			names = append(names, files...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("imap source %s: %w", s.opt.Name, err)
	}
	return names, nil
}

// head is what List learns of a message before reading its body.
type head struct {
	m    *imapMessage
	size int64
	// fromErr explains why the From address is unusable ("" if it is).
	fromErr string
}

// autoHeaders are the fields that mark an automatic message (RFC 3834).
var autoHeaders = &imap.FetchItemBodySection{
	Specifier:    imap.PartSpecifierHeader,
	HeaderFields: []string{"Auto-Submitted", "Precedence"},
	Peek:         true,
}

// fetchHeads fetches the envelope, size and automatic-message headers of
// uids.
func (s *IMAP) fetchHeads(c *imapclient.Client, uids []imap.UID) (map[imap.UID]*head, error) {
	bufs, err := c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{
		UID:         true,
		Envelope:    true,
		RFC822Size:  true,
		BodySection: []*imap.FetchItemBodySection{autoHeaders},
	}).Collect()
	if err != nil {
		return nil, fmt.Errorf("fetching message headers: %w", err)
	}
	heads := map[imap.UID]*head{}
	for _, b := range bufs {
		if b.UID == 0 {
			continue
		}
		h := &head{m: &imapMessage{uid: b.UID, done: map[string]bool{}, acks: map[string][]byte{}}, size: b.RFC822Size}
		if env := b.Envelope; env != nil {
			h.m.subject = oneLine(env.Subject)
			h.m.messageID = env.MessageID
			var addrs []string
			for _, a := range env.From {
				if a.IsGroupStart() || a.IsGroupEnd() {
					continue
				}
				addrs = append(addrs, a.Addr())
			}
			switch {
			case len(addrs) == 1 && addrs[0] != "":
				h.m.from = addrs[0]
			case len(addrs) == 0:
				h.fromErr = "the message has no From address"
			default:
				h.fromErr = "the message has more than one From address"
			}
		} else {
			h.fromErr = "the server gave no envelope for the message"
		}
		h.m.auto = isAutomatic(b.FindBodySection(autoHeaders))
		heads[b.UID] = h
	}
	return heads, nil
}

// isAutomatic reports whether header fields mark an automatic message,
// which must not be answered automatically (RFC 3834).
func isAutomatic(fields []byte) bool {
	if len(fields) == 0 {
		return false
	}
	hdr, err := gomessage.Read(bytes.NewReader(append(fields, "\r\n"...)))
	if err != nil {
		return false
	}
	if v := strings.ToLower(strings.TrimSpace(hdr.Header.Get("Auto-Submitted"))); v != "" && v != "no" {
		return true
	}
	switch strings.ToLower(strings.TrimSpace(hdr.Header.Get("Precedence"))) {
	case "bulk", "junk", "list":
		return true
	}
	return false
}

// listMessage decides one unseen message: its file names if it is taken,
// nothing if it was rejected or filed for keying by hand.
func (s *IMAP) listMessage(ctx context.Context, c *imapclient.Client, h *head) ([]string, error) {
	m := h.m
	// No reply to a sender that is not allowed: From is easily forged, and
	// a reply would go to whoever was named (backscatter).
	if h.fromErr != "" {
		return nil, s.refuse(c, m, h.fromErr+": not from an allowed sender; no reply sent")
	}
	if !s.allowed[strings.ToLower(m.from)] {
		return nil, s.refuse(c, m, fmt.Sprintf("the sender %s is not an allowed sender; no reply sent (add the address to allowed_senders if it should send claims)", m.from))
	}
	if h.size > s.opt.MaxMessageBytes {
		return nil, s.reject(ctx, c, m, fmt.Sprintf("the message is %s; carepay takes messages of at most %s. Nothing in it was taken: please send the files again in several smaller messages.", byteCount(h.size), byteCount(s.opt.MaxMessageBytes)))
	}
	raw, err := s.fetchRaw(c, m.uid)
	if errors.Is(err, errOversize) {
		return nil, s.reject(ctx, c, m, fmt.Sprintf("the message is larger than %s, the most carepay takes. Nothing in it was taken: please send the files again in several smaller messages.", byteCount(s.opt.MaxMessageBytes)))
	}
	if errors.Is(err, errGone) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	parts, err := parseAttachments(raw, m.uid, -1)
	if err != nil {
		return nil, s.reject(ctx, c, m, fmt.Sprintf("the message could not be read (%v). Nothing in it was taken: please send it again.", err))
	}
	var big []string
	for _, p := range parts {
		if p.size > s.opt.MaxAttachmentBytes {
			big = append(big, fmt.Sprintf("%s (%s)", p.display(), byteCount(p.size)))
		}
	}
	if len(big) > 0 {
		return nil, s.reject(ctx, c, m, fmt.Sprintf("carepay takes attachments of at most %s, and %s %s larger. Nothing in the message was taken: please split the file and send it again.", byteCount(s.opt.MaxAttachmentBytes), strings.Join(big, ", "), isAre(len(big))))
	}
	if len(parts) == 0 {
		return nil, s.reject(ctx, c, m, "the message has no attachment. Please send claims as CSV or XLSX attachments.")
	}
	m.setParts(parts)
	if len(m.files) == 0 {
		return nil, s.fileManual(ctx, c, m)
	}
	s.msgs[m.uid] = m
	return slices.Clone(m.files), nil
}

// setParts records which attachments are files and which are for keying
// by hand.
func (m *imapMessage) setParts(parts []imapPart) {
	m.files, m.manual = nil, nil
	for _, p := range parts {
		if p.readable {
			m.files = append(m.files, p.name)
		} else {
			m.manual = append(m.manual, p)
		}
	}
	m.loaded = true
}

// refuse moves a message from a sender that is not allowed to Rejected,
// without a reply, and files it for the log.
func (s *IMAP) refuse(c *imapclient.Client, m *imapMessage, reason string) error {
	if _, err := c.Move(imap.UIDSetNum(m.uid), s.opt.Rejected).Wait(); err != nil {
		return fmt.Errorf("moving message %d to %s: %w", m.uid, s.opt.Rejected, err)
	}
	s.filed = append(s.filed, IMAPFiling{UID: uint32(m.uid), From: m.from, Subject: m.subject, Folder: s.opt.Rejected, Reason: reason})
	return nil
}

// reject answers the sender with reason and moves the message to
// Rejected. The reply goes first: if it fails, the message stays unseen
// and is tried again by the next List.
func (s *IMAP) reject(ctx context.Context, c *imapclient.Client, m *imapMessage, reason string) error {
	f := IMAPFiling{UID: uint32(m.uid), From: m.from, Subject: m.subject, Reason: reason}
	body := fmt.Sprintf("Your message %s was not processed: %s\n", s.describe(m), reason)
	replied, err := s.reply(ctx, m, body)
	if err != nil {
		f.Err = err.Error()
		s.filed = append(s.filed, f)
		return nil
	}
	f.Replied = replied
	if _, err := c.Move(imap.UIDSetNum(m.uid), s.opt.Rejected).Wait(); err != nil {
		return fmt.Errorf("moving message %d to %s: %w", m.uid, s.opt.Rejected, err)
	}
	f.Folder = s.opt.Rejected
	s.filed = append(s.filed, f)
	return nil
}

// fileManual handles a message with nothing machine readable: a reply
// naming the attachments to key by hand, a copy in Manual, the message
// itself to Processed.
func (s *IMAP) fileManual(ctx context.Context, c *imapclient.Client, m *imapMessage) error {
	var b strings.Builder
	fmt.Fprintf(&b, "Your message %s has no file carepay can read by machine (CSV or XLSX).\n\n", s.describe(m))
	writeManual(&b, m.manual)
	body := b.String()
	f := IMAPFiling{UID: uint32(m.uid), From: m.from, Subject: m.subject, Reason: manualReason(m.manual)}
	replied, err := s.reply(ctx, m, body)
	if err != nil {
		f.Err = err.Error()
		s.filed = append(s.filed, f)
		return nil
	}
	f.Replied = replied
	if err := s.finishMove(c, m); err != nil {
		return err
	}
	f.Folder = s.opt.Manual
	s.filed = append(s.filed, f)
	return nil
}

// finishMove copies the message to Manual if it has attachments to key
// by hand, then moves it to Processed.
func (s *IMAP) finishMove(c *imapclient.Client, m *imapMessage) error {
	if len(m.manual) > 0 {
		if _, err := c.Copy(imap.UIDSetNum(m.uid), s.opt.Manual).Wait(); err != nil {
			return fmt.Errorf("copying message %d to %s: %w", m.uid, s.opt.Manual, err)
		}
	}
	if _, err := c.Move(imap.UIDSetNum(m.uid), s.opt.Processed).Wait(); err != nil {
		return fmt.Errorf("moving message %d to %s: %w", m.uid, s.opt.Processed, err)
	}
	if s.cacheUID == m.uid {
		s.cacheUID, s.cacheRaw = 0, nil
	}
	return nil
}

// writeManual writes the paragraph naming the attachments to key by hand.
func writeManual(b *strings.Builder, parts []imapPart) {
	if len(parts) == 0 {
		return
	}
	b.WriteString("These attachments are not machine readable and will be keyed by hand by the operations team:\n")
	for _, p := range parts {
		fmt.Fprintf(b, "  - %s (%s)\n", p.display(), p.contentType)
	}
	b.WriteString("The message has been filed for manual keying. Claims sent as CSV or XLSX files are processed sooner.\n")
}

func manualReason(parts []imapPart) string {
	var names []string
	for _, p := range parts {
		names = append(names, p.display())
	}
	return "to key by hand: " + strings.Join(names, ", ")
}

// reply answers the sender of m. It reports false, without error, when
// the message must not be answered: no usable address, or an automatic
// message.
func (s *IMAP) reply(ctx context.Context, m *imapMessage, body string) (bool, error) {
	if m.from == "" || m.auto {
		return false, nil
	}
	if err := s.opt.Reply.Reply(ctx, m.from, replySubject(m.subject), msgID(m.messageID), body); err != nil {
		return false, fmt.Errorf("replying to %s about message %d: %w", m.from, m.uid, err)
	}
	return true, nil
}

// describe names a message for its sender.
func (s *IMAP) describe(m *imapMessage) string {
	if m.subject == "" {
		return "(no subject)"
	}
	return strconv.Quote(m.subject)
}

// replySubject is "Re: " and the subject, without stacking prefixes.
func replySubject(subject string) string {
	if len(subject) >= 3 && strings.EqualFold(subject[:3], "re:") {
		return subject
	}
	return "Re: " + subject
}

// msgID puts a message identifier in angle brackets.
func msgID(id string) string {
	if id == "" {
		return ""
	}
	return "<" + strings.Trim(id, "<>") + ">"
}

// Fetch writes the decoded bytes of the named attachment to w.
func (s *IMAP) Fetch(ctx context.Context, name string, w io.Writer) error {
	uid, err := parseIMAPName(name)
	if err != nil {
		return fmt.Errorf("imap source %s: %w", s.opt.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var data []byte
	err = s.do(ctx, func(c *imapclient.Client) error {
		if err := s.selectMailbox(c); err != nil {
			return err
		}
		raw, err := s.fetchRaw(c, uid)
		if errors.Is(err, errGone) {
			return fmt.Errorf("%s: message %d is no longer in %s", name, uid, s.opt.Mailbox)
		}
		if err != nil {
			return err
		}
		parts, err := parseAttachments(raw, uid, s.opt.MaxAttachmentBytes)
		if err != nil {
			return fmt.Errorf("%s: reading message %d: %w", name, uid, err)
		}
		for _, p := range parts {
			if p.name == name && p.readable {
				if p.size > s.opt.MaxAttachmentBytes {
					return fmt.Errorf("%s: %s, over the limit of %s", name, byteCount(p.size), byteCount(s.opt.MaxAttachmentBytes))
				}
				data = p.data
				return nil
			}
		}
		return fmt.Errorf("%s: message %d has no such attachment", name, uid)
	})
	if err != nil {
		return fmt.Errorf("imap source %s: %w", s.opt.Name, err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("imap source %s: writing %s: %w", s.opt.Name, name, err)
	}
	return nil
}

// Verify accepts every file: a message under a UID never changes, so the
// attachment holds the bytes Fetch read.
func (s *IMAP) Verify(ctx context.Context, name, sha string) error {
	if _, err := parseIMAPName(name); err != nil {
		return fmt.Errorf("imap source %s: %w", s.opt.Name, err)
	}
	return nil
}

// Ack keeps the acknowledgement of the named file for the reply that
// goes out when the whole message is archived.
func (s *IMAP) Ack(ctx context.Context, name string, report []byte) error {
	uid, err := parseIMAPName(name)
	if err != nil {
		return fmt.Errorf("imap source %s: %w", s.opt.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.msgs[uid]
	if m == nil {
		// Not listed by this process: Archive loads the rest.
		m = &imapMessage{uid: uid, done: map[string]bool{}, acks: map[string][]byte{}}
		s.msgs[uid] = m
	}
	m.acks[name] = bytes.Clone(report)
	return nil
}

// Archive marks the named file done. A run calls it only after the ledger
// committed the file, so the reply never claims what the ledger does not
// hold. When every file of its message is done, the sender gets one reply
// with their acknowledgements (and the
// attachments to key by hand, if any, for which the message is copied to
// Manual), and the message moves to Processed. The reply goes before the
// move: if the reply fails, Archive fails and the message stays where it
// is, so that the run is completed later with the reply; if the move
// fails after the reply, the sender may get the reply twice.
//
// Archive works for a file listed by another process: it reads the
// message again. A file whose message already left the mailbox is done.
// sha is not checked: a message under a UID never changes (RFC 9051), and
// Fetch reads it whole or not at all.
func (s *IMAP) Archive(ctx context.Context, name, sha string) error {
	uid, err := parseIMAPName(name)
	if err != nil {
		return fmt.Errorf("imap source %s: %w", s.opt.Name, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	err = s.do(ctx, func(c *imapclient.Client) error {
		m := s.msgs[uid]
		if m == nil || !m.loaded {
			if err := s.selectMailbox(c); err != nil {
				return err
			}
			loaded, err := s.load(c, uid, m)
			if err != nil {
				return err
			}
			if loaded == nil {
				delete(s.msgs, uid) // archived already
				return nil
			}
			m = loaded
			s.msgs[uid] = m
		}
		if !slices.Contains(m.files, name) {
			return fmt.Errorf("%s: message %d has no such attachment", name, uid)
		}
		m.done[name] = true
		for _, f := range m.files {
			if !m.done[f] {
				return nil
			}
		}
		if err := s.selectMailbox(c); err != nil {
			return err
		}
		if _, err := s.reply(ctx, m, s.ackBody(m)); err != nil {
			return err
		}
		if err := s.finishMove(c, m); err != nil {
			return err
		}
		delete(s.msgs, uid)
		if len(m.manual) > 0 {
			s.filed = append(s.filed, IMAPFiling{
				UID: uint32(uid), From: m.from, Subject: m.subject, Folder: s.opt.Manual,
				Reason: manualReason(m.manual), Replied: m.from != "" && !m.auto,
			})
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("imap source %s: archiving %s: %w", s.opt.Name, name, err)
	}
	return nil
}

// load reads a message not listed by this process. It returns nil if the
// message is no longer in the mailbox. Acknowledgements already kept in
// prev are carried over.
func (s *IMAP) load(c *imapclient.Client, uid imap.UID, prev *imapMessage) (*imapMessage, error) {
	heads, err := s.fetchHeads(c, []imap.UID{uid})
	if err != nil {
		return nil, err
	}
	h := heads[uid]
	if h == nil {
		return nil, nil
	}
	if h.fromErr != "" || !s.allowed[strings.ToLower(h.m.from)] {
		return nil, fmt.Errorf("message %d is not from an allowed sender: refusing to archive it", uid)
	}
	raw, err := s.fetchRaw(c, uid)
	if errors.Is(err, errGone) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	parts, err := parseAttachments(raw, uid, -1)
	if err != nil {
		return nil, fmt.Errorf("reading message %d: %w", uid, err)
	}
	m := h.m
	m.setParts(parts)
	if prev != nil {
		m.acks = prev.acks
		m.done = prev.done
	}
	return m, nil
}

// ackBody is the reply to a message whose files are all archived.
func (s *IMAP) ackBody(m *imapMessage) string {
	var b strings.Builder
	n := len(m.files)
	fmt.Fprintf(&b, "Your message %s was received by carepay, with %d %s to read. The acknowledgement of each follows.\n\n", s.describe(m), n, plural(n, "file", "files"))
	for _, f := range m.files {
		fmt.Fprintf(&b, "=== %s ===\n", f)
		if ack, ok := m.acks[f]; ok {
			b.Write(ack)
			if len(ack) > 0 && ack[len(ack)-1] != '\n' {
				b.WriteByte('\n')
			}
		} else {
			b.WriteString("(no acknowledgement was recorded for this file)\n")
		}
		b.WriteByte('\n')
	}
	writeManual(&b, m.manual)
	return b.String()
}

// selectMailbox selects the mailbox unless it is selected, and checks
// that its UIDs still mean what they meant when List ran.
func (s *IMAP) selectMailbox(c *imapclient.Client) error {
	if mb := c.Mailbox(); mb != nil && mb.Name == s.opt.Mailbox {
		return nil
	}
	sel, err := c.Select(s.opt.Mailbox, nil).Wait()
	if err != nil {
		return fmt.Errorf("selecting %s: %w", s.opt.Mailbox, err)
	}
	if s.uidValidity != 0 && sel.UIDValidity != s.uidValidity {
		return fmt.Errorf("%s was re-created (UIDVALIDITY %d, was %d): the listed names no longer hold", s.opt.Mailbox, sel.UIDValidity, s.uidValidity)
	}
	s.uidValidity = sel.UIDValidity
	return nil
}

var (
	errGone     = errors.New("message not found")
	errOversize = errors.New("message over the size limit")
)

// fetchRaw reads the whole message uid with BODY.PEEK[] (leaving \Seen
// alone), at most MaxMessageBytes of it.
func (s *IMAP) fetchRaw(c *imapclient.Client, uid imap.UID) ([]byte, error) {
	if s.cacheUID == uid && s.cacheRaw != nil {
		return s.cacheRaw, nil
	}
	section := &imap.FetchItemBodySection{Peek: true}
	cmd := c.Fetch(imap.UIDSetNum(uid), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}})
	var raw []byte
	var found, over bool
	var readErr error
	for {
		msg := cmd.Next()
		if msg == nil {
			break
		}
		for {
			item := msg.Next()
			if item == nil {
				break
			}
			body, ok := item.(imapclient.FetchItemDataBodySection)
			if !ok || found || body.Literal == nil {
				continue
			}
			found = true
			b, err := io.ReadAll(io.LimitReader(body.Literal, s.opt.MaxMessageBytes+1))
			if err != nil {
				readErr = err
				continue
			}
			if int64(len(b)) > s.opt.MaxMessageBytes {
				over = true
				continue
			}
			raw = b
		}
	}
	if err := cmd.Close(); err != nil {
		return nil, fmt.Errorf("fetching message %d: %w", uid, err)
	}
	switch {
	case readErr != nil:
		return nil, fmt.Errorf("fetching message %d: %w", uid, readErr)
	case over:
		return nil, errOversize
	case !found:
		return nil, errGone
	}
	s.cacheUID, s.cacheRaw = uid, raw
	return raw, nil
}

// Machine-readable attachments: by extension or by content type.
var (
	readableExt   = map[string]string{".csv": "csv", ".xlsx": "xlsx"}
	readableTypes = map[string]string{
		"text/csv":                    ".csv",
		"application/csv":             ".csv",
		"text/comma-separated-values": ".csv",
		"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
	}
	// signatureTypes are parts of signed mail, not attachments.
	signatureTypes = map[string]bool{
		"application/pkcs7-signature":   true,
		"application/x-pkcs7-signature": true,
		"application/pgp-signature":     true,
	}
)

// parseAttachments reads a message and returns its attachments in order,
// named "<uid>-<safe file name>". Body text (text/plain and text/html
// parts with no file name), images embedded in an HTML body (inline, with
// a Content-ID) and signatures are not attachments. Decoded content is
// kept for machine-readable attachments up to keepMax bytes (none if
// keepMax < 0); sizes are always counted.
func parseAttachments(raw []byte, uid imap.UID, keepMax int64) ([]imapPart, error) {
	mr, err := gomail.CreateReader(bytes.NewReader(raw))
	if err != nil && !gomessage.IsUnknownCharset(err) {
		return nil, err
	}
	defer mr.Close()
	var parts []imapPart
	used := map[string]bool{}
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil && !gomessage.IsUnknownCharset(err) && !gomessage.IsUnknownEncoding(err) {
			return nil, err
		}
		hdr := partHeader(p.Header)
		mediaType, params, _ := hdr.ContentType()
		mediaType = strings.ToLower(mediaType)
		disp, dparams, _ := hdr.ContentDisposition()
		disp = strings.ToLower(disp)
		filename := dparams["filename"]
		if filename == "" {
			filename = params["name"]
		}
		if filename != "" {
			if dec, derr := (&mime.WordDecoder{CharsetReader: charset.Reader}).DecodeHeader(filename); derr == nil {
				filename = dec
			}
		}
		_, inline := p.Header.(*gomail.InlineHeader)
		switch {
		case inline && filename == "" && (mediaType == "text/plain" || mediaType == "text/html" || mediaType == ""):
			continue // the body text
		case disp != "attachment" && hdr.Get("Content-Id") != "" && strings.HasPrefix(mediaType, "image/"):
			continue // an image shown in an HTML body
		case signatureTypes[mediaType]:
			continue
		}
		ext := strings.ToLower(filepath.Ext(filename))
		_, byExt := readableExt[ext]
		typeExt, byType := readableTypes[mediaType]
		part := imapPart{filename: filename, contentType: mediaType, readable: byExt || byType}
		if part.contentType == "" {
			part.contentType = "application/octet-stream"
		}
		safe := safeFileName(filename)
		if part.readable && !byExt && filepath.Ext(safe) == "" {
			safe += typeExt
		}
		safe = uniqueName(safe, used)
		part.name = fmt.Sprintf("%d-%s", uid, safe)
		var sink io.Writer = io.Discard
		var buf bytes.Buffer
		if part.readable && keepMax >= 0 {
			sink = &limitWriter{w: &buf, n: keepMax}
		}
		n, err := io.Copy(sink, p.Body)
		if err != nil && !errors.Is(err, errLimit) {
			return nil, fmt.Errorf("attachment %s: %w", part.display(), err)
		}
		if errors.Is(err, errLimit) {
			// Count the rest without keeping it.
			m, cerr := io.Copy(io.Discard, p.Body)
			if cerr != nil {
				return nil, fmt.Errorf("attachment %s: %w", part.display(), cerr)
			}
			n += m
		}
		part.size = n
		if part.readable && keepMax >= 0 && n <= keepMax {
			part.data = buf.Bytes()
		}
		parts = append(parts, part)
	}
	return parts, nil
}

// partHeader returns the go-message header of a mail part.
func partHeader(h gomail.PartHeader) *gomessage.Header {
	switch h := h.(type) {
	case *gomail.InlineHeader:
		return &h.Header
	case *gomail.AttachmentHeader:
		return &h.Header
	}
	return &gomessage.Header{}
}

var errLimit = errors.New("limit reached")

// limitWriter writes at most n bytes, then fails with errLimit.
type limitWriter struct {
	w io.Writer
	n int64
}

func (l *limitWriter) Write(p []byte) (int, error) {
	if int64(len(p)) > l.n {
		k, _ := l.w.Write(p[:l.n])
		l.n -= int64(k)
		return k, errLimit
	}
	k, err := l.w.Write(p)
	l.n -= int64(k)
	return k, err
}

// display names an attachment for people.
func (p imapPart) display() string {
	if p.filename != "" {
		return oneLine(p.filename)
	}
	return "an unnamed attachment"
}

// safeFileName reduces a file name from a message to one path element:
// the last element of either kind of path, no control characters, no
// leading dots, at most 150 bytes.
func safeFileName(name string) string {
	name = strings.ReplaceAll(name, "\\", "/")
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	name = strings.Map(func(r rune) rune {
		switch {
		case r < ' ' || r == 0x7f || r == utf8.RuneError:
			return '_'
		case strings.ContainsRune(`:*?"<>|`, r):
			return '_'
		}
		return r
	}, name)
	name = strings.TrimLeft(strings.TrimSpace(name), ".")
	name = strings.TrimSpace(name)
	if name == "" {
		name = "attachment"
	}
	const max = 150
	if len(name) > max {
		ext := filepath.Ext(name)
		if len(ext) > 16 {
			ext = ""
		}
		stem := name[:max-len(ext)]
		for !utf8.ValidString(stem) {
			stem = stem[:len(stem)-1]
		}
		name = stem + ext
	}
	return name
}

// uniqueName makes name unique among used, inserting "-2", "-3"... before
// the extension.
func uniqueName(name string, used map[string]bool) string {
	key := strings.ToLower(name)
	if !used[key] {
		used[key] = true
		return name
	}
	ext := filepath.Ext(name)
	stem := strings.TrimSuffix(name, ext)
	for i := 2; ; i++ {
		n := fmt.Sprintf("%s-%d%s", stem, i, ext)
		if !used[strings.ToLower(n)] {
			used[strings.ToLower(n)] = true
			return n
		}
	}
}

// parseIMAPName splits "<uid>-<file name>".
func parseIMAPName(name string) (imap.UID, error) {
	i := strings.IndexByte(name, '-')
	if i <= 0 || i == len(name)-1 || name != filepath.Base(name) {
		return 0, fmt.Errorf("%q is not a file of this source (want <uid>-<file name>)", name)
	}
	n, err := strconv.ParseUint(name[:i], 10, 32)
	if err != nil || n == 0 {
		return 0, fmt.Errorf("%q is not a file of this source (want <uid>-<file name>)", name)
	}
	return imap.UID(n), nil
}

// do runs f on a logged-in connection, dialling one if needed. The end of
// ctx closes the connection, which interrupts f; a broken connection is
// dropped so that the next call dials again.
func (s *IMAP) do(ctx context.Context, f func(*imapclient.Client) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c, err := s.client(ctx)
	if err != nil {
		return err
	}
	stop := context.AfterFunc(ctx, func() { _ = c.Close() })
	err = f(c)
	if !stop() || ctx.Err() != nil {
		s.drop()
		if err != nil {
			return fmt.Errorf("%w: %w", ctx.Err(), err)
		}
		return ctx.Err()
	}
	if err != nil {
		select {
		case <-c.Closed():
			s.drop()
		default:
		}
	}
	return err
}

// drop forgets a connection that cannot be used any more.
func (s *IMAP) drop() {
	if s.c != nil {
		_ = s.c.Close()
		s.c = nil
	}
	s.cacheUID, s.cacheRaw = 0, nil
}

// client returns the open connection, or dials, logs in and makes sure
// the folders exist.
func (s *IMAP) client(ctx context.Context) (*imapclient.Client, error) {
	if s.c != nil {
		select {
		case <-s.c.Closed():
			s.drop()
		default:
			return s.c, nil
		}
	}
	cfg := s.tlsConfig()
	opts := &imapclient.Options{
		TLSConfig:   cfg,
		WordDecoder: &mime.WordDecoder{CharsetReader: charset.Reader},
	}
	d := net.Dialer{Timeout: 30 * time.Second}
	raw, err := d.DialContext(ctx, "tcp", s.opt.Addr)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", s.opt.Addr, err)
	}
	// Until logged in, the end of ctx closes the connection.
	stop := context.AfterFunc(ctx, func() { _ = raw.Close() })
	defer stop()
	var c *imapclient.Client
	switch s.opt.Security {
	case IMAPSecurityTLS:
		tc := tls.Client(raw, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			raw.Close()
			return nil, fmt.Errorf("TLS handshake with %s: %w", s.opt.Addr, err)
		}
		c = imapclient.New(tc, opts)
	case IMAPSecurityStartTLS:
		c, err = imapclient.NewStartTLS(raw, opts)
		if err != nil {
			raw.Close()
			return nil, fmt.Errorf("STARTTLS with %s: %w", s.opt.Addr, err)
		}
	}
	if err := c.Login(s.opt.User, s.opt.Password).Wait(); err != nil {
		c.Close()
		return nil, fmt.Errorf("logging in to %s as %s: %w", s.opt.Addr, s.opt.User, err)
	}
	if err := s.ensureFolders(c); err != nil {
		c.Close()
		return nil, err
	}
	if ctx.Err() != nil {
		c.Close()
		return nil, ctx.Err()
	}
	s.c = c
	return c, nil
}

// ensureFolders creates Processed, Rejected and Manual if missing.
func (s *IMAP) ensureFolders(c *imapclient.Client) error {
	list, err := c.List("", "*", nil).Collect()
	if err != nil {
		return fmt.Errorf("listing folders: %w", err)
	}
	have := map[string]bool{}
	for _, l := range list {
		have[l.Mailbox] = true
	}
	for _, f := range []string{s.opt.Processed, s.opt.Rejected, s.opt.Manual} {
		if have[f] {
			continue
		}
		if err := c.Create(f, nil).Wait(); err != nil {
			var ierr *imap.Error
			if errors.As(err, &ierr) && ierr.Code == imap.ResponseCodeAlreadyExists {
				continue
			}
			return fmt.Errorf("creating folder %s: %w", f, err)
		}
	}
	return nil
}

// tlsConfig is the configured TLS settings with the server name filled in.
func (s *IMAP) tlsConfig() *tls.Config {
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
	if len(cfg.NextProtos) == 0 && s.opt.Security == IMAPSecurityTLS {
		cfg.NextProtos = []string{"imap"}
	}
	return cfg
}

// oneLine folds control characters into spaces.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, s)
}

// byteCount writes a size for people: "31,457,280 bytes (30.0 MiB)".
func byteCount(n int64) string {
	s := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	b.WriteString(" bytes")
	if n >= 1<<20 {
		fmt.Fprintf(&b, " (%.1f MiB)", float64(n)/(1<<20))
	} else if n >= 1<<10 {
		fmt.Fprintf(&b, " (%.1f KiB)", float64(n)/(1<<10))
	}
	return b.String()
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

func isAre(n int) string { return plural(n, "is", "are") }
