package sshclient

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// Defaults taken when an Options field is left zero.
const (
	DefaultRetries = 4
	DefaultBackoff = 200 * time.Millisecond
	DefaultTimeout = 30 * time.Second
	// maxBackoff caps the wait between two attempts.
	maxBackoff = time.Minute
)

// Options says where to connect and how to authenticate.
type Options struct {
	// Addr is the server as host:port.
	Addr string
	// User is the login name.
	User string
	// KeyFile is an unencrypted private key file (OpenSSH or PEM). Its
	// content never appears in an error or a log.
	KeyFile string
	// UseAgent also offers the keys of the ssh-agent at SSH_AUTH_SOCK.
	UseAgent bool
	// KnownHosts is the known_hosts file holding the server's host key.
	// It is required: a server whose key is not there, or differs, is
	// refused.
	KnownHosts string
	// Retries is how many times in all an operation is attempted when the
	// connection drops (0: DefaultRetries; 1: no retry).
	Retries int
	// Backoff is the wait after the first failed attempt, doubled after
	// each further one (0: DefaultBackoff).
	Backoff time.Duration
	// Timeout bounds connecting (TCP and SSH handshake) and any stretch of
	// an operation during which the server sends or takes nothing
	// (0: DefaultTimeout).
	Timeout time.Duration
	// Logger receives a warning for each dropped connection that is
	// retried (nil: nothing is logged).
	Logger *slog.Logger
}

// Validate checks the options without connecting or reading any file.
func (o Options) Validate() error {
	var problems []string
	if o.Addr == "" {
		problems = append(problems, "addr is empty (want host:port)")
	} else if host, port, err := net.SplitHostPort(o.Addr); err != nil || host == "" || port == "" {
		problems = append(problems, fmt.Sprintf("addr %q is not host:port", o.Addr))
	}
	if o.User == "" {
		problems = append(problems, "user is empty")
	}
	if o.KeyFile == "" && !o.UseAgent {
		problems = append(problems, "no key: set a key file or use the ssh-agent")
	}
	if o.KnownHosts == "" {
		problems = append(problems, "known_hosts file is empty: the server's host key must be checked")
	}
	if o.Retries < 0 {
		problems = append(problems, fmt.Sprintf("retries %d is negative", o.Retries))
	}
	if o.Backoff < 0 {
		problems = append(problems, fmt.Sprintf("backoff %s is negative", o.Backoff))
	}
	if o.Timeout < 0 {
		problems = append(problems, fmt.Sprintf("timeout %s is negative", o.Timeout))
	}
	if len(problems) > 0 {
		return fmt.Errorf("sftp options: %s", strings.Join(problems, "; "))
	}
	return nil
}

// Client is a lazily opened SFTP connection that is reopened when it
// drops. It is safe for concurrent use; operations run one at a time.
type Client struct {
	opt Options
	log *slog.Logger

	mu   sync.Mutex // held for a whole Do, connection state included
	sess *session
}

// session is one SSH connection and the SFTP session on it.
type session struct {
	raw  *watchConn
	ssh  *ssh.Client
	sftp *sftp.Client
	dead atomic.Bool // the SSH connection ended
}

func (s *session) close() {
	s.sftp.Close()
	s.ssh.Close()
	s.raw.Close()
}

// New checks the options and returns a client that connects on first use.
func New(opt Options) (*Client, error) {
	if err := opt.Validate(); err != nil {
		return nil, err
	}
	if opt.Retries == 0 {
		opt.Retries = DefaultRetries
	}
	if opt.Backoff == 0 {
		opt.Backoff = DefaultBackoff
	}
	if opt.Timeout == 0 {
		opt.Timeout = DefaultTimeout
	}
	log := opt.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{opt: opt, log: log}, nil
}

// String names the server as user@host:port, for errors and logs.
func (c *Client) String() string { return c.opt.User + "@" + c.opt.Addr }

// Close ends the connection, if one is open. The client may be used
// again afterwards: it reconnects.
func (c *Client) Close() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.drop()
	return nil
}

func (c *Client) drop() {
	if c.sess != nil {
		c.sess.close()
		c.sess = nil
	}
}

// Do runs fn with a working SFTP session, connecting first if need be.
// When fn (or connecting) fails because the connection dropped, the
// connection is reopened and fn run again, after Backoff, then twice as
// long, and so on, up to Retries attempts in all. fn must therefore be
// safe to run again after a partial run. Cancelling ctx closes the
// connection under fn and returns at once.
//
// Errors are wrapped as "what (sftp user@host:port): ...".
func (c *Client) Do(ctx context.Context, what string, fn func(sc *sftp.Client) error) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	wait := c.opt.Backoff
	for attempt := 1; ; attempt++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s (sftp %s): %w", what, c, err)
		}
		err := c.try(ctx, fn)
		if err == nil {
			return nil
		}
		if cerr := ctx.Err(); cerr != nil {
			return fmt.Errorf("%s (sftp %s): %w (%v)", what, c, cerr, err)
		}
		if !Retryable(err) {
			return fmt.Errorf("%s (sftp %s): %w", what, c, err)
		}
		if attempt >= c.opt.Retries {
			return fmt.Errorf("%s (sftp %s): gave up after %d attempts: %w", what, c, attempt, err)
		}
		c.log.Warn("sftp connection failed; retrying", "server", c.String(), "op", what,
			"attempt", attempt, "of", c.opt.Retries, "wait", wait, "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("%s (sftp %s): %w (%v)", what, c, ctx.Err(), err)
		case <-t.C:
		}
		wait = min(2*wait, maxBackoff)
	}
}

// try runs fn once, connecting first if there is no live connection.
func (c *Client) try(ctx context.Context, fn func(sc *sftp.Client) error) error {
	if c.sess != nil && c.sess.dead.Load() {
		c.drop() // the server hung up while we were idle: not a failed attempt
	}
	if c.sess == nil {
		s, err := c.connect(ctx)
		if err != nil {
			return err
		}
		c.sess = s
	}
	s := c.sess
	s.raw.arm(true)
	stop := context.AfterFunc(ctx, func() { s.raw.Close() })
	err := fn(s.sftp)
	stopped := stop()
	s.raw.arm(false)
	if !stopped || (err != nil && Retryable(err)) || s.dead.Load() {
		c.drop()
	}
	return err
}

// connect dials the server, checks its host key and logs in.
func (c *Client) connect(ctx context.Context) (*session, error) {
	hostKeys, algos, err := c.hostKeyCheck()
	if err != nil {
		return nil, err
	}
	auth, closeAgent, err := c.authMethod(ctx)
	if err != nil {
		return nil, err
	}
	defer closeAgent()

	d := net.Dialer{Timeout: c.opt.Timeout}
	nc, err := d.DialContext(ctx, "tcp", c.opt.Addr)
	if err != nil {
		return nil, fmt.Errorf("connecting: %w", err)
	}
	raw := &watchConn{Conn: nc, timeout: c.opt.Timeout}
	raw.arm(true)
	stop := context.AfterFunc(ctx, func() { raw.Close() })
	defer stop()

	var hostErr *HostKeyError
	cfg := &ssh.ClientConfig{
		User: c.opt.User,
		Auth: []ssh.AuthMethod{auth},
		HostKeyCallback: func(hostname string, remote net.Addr, key ssh.PublicKey) error {
			err := hostKeys(hostname, remote, key)
			if err != nil {
				hostErr = c.hostKeyError(key, err)
				return hostErr
			}
			return nil
		},
		HostKeyAlgorithms: algos,
	}
	conn, chans, reqs, err := ssh.NewClientConn(raw, c.opt.Addr, cfg)
	if err != nil {
		raw.Close()
		switch msg := err.Error(); {
		case hostErr != nil:
			return nil, hostErr
		case strings.Contains(msg, "no common algorithm for host key"):
			return nil, &HostKeyError{Host: c.opt.Addr, KnownHosts: c.opt.KnownHosts, Mismatch: true,
				Err: fmt.Errorf("the server offers none of the key types known_hosts has for it (%s): %w", strings.Join(algos, ", "), err)}
		case strings.Contains(msg, "unable to authenticate"):
			return nil, Permanent(fmt.Errorf("logging in as %s: the server refused the key (%w)", c.opt.User, err))
		case strings.Contains(msg, "no common algorithm"):
			return nil, Permanent(err)
		}
		return nil, fmt.Errorf("connecting: %w", err)
	}
	sc := ssh.NewClient(conn, chans, reqs)
	s := &session{raw: raw, ssh: sc}
	go func() {
		sc.Wait()
		s.dead.Store(true)
	}()
	fc, err := sftp.NewClient(sc)
	if err != nil {
		sc.Close()
		raw.Close()
		return nil, fmt.Errorf("starting the sftp subsystem: %w", err)
	}
	s.sftp = fc
	raw.arm(false)
	return s, nil
}

// hostKeyCheck reads the known_hosts file and returns the check and the
// host key algorithms to ask for: those of the keys known for the host, so
// that a server with several host keys shows one that can be checked.
func (c *Client) hostKeyCheck() (ssh.HostKeyCallback, []string, error) {
	cb, err := knownhosts.New(c.opt.KnownHosts)
	if err != nil {
		return nil, nil, Permanent(fmt.Errorf("reading known_hosts file %s: %w", c.opt.KnownHosts, err))
	}
	// Ask the file about a key no server has, to learn which keys it
	// holds for the host.
	probe, err := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize)))
	if err != nil {
		return nil, nil, err
	}
	var algos []string
	var kerr *knownhosts.KeyError
	if err := cb(c.opt.Addr, &net.TCPAddr{IP: net.IPv4zero}, probe); errors.As(err, &kerr) {
		seen := map[string]bool{}
		for _, k := range kerr.Want {
			for _, a := range algorithmsFor(k.Key.Type()) {
				if !seen[a] {
					seen[a] = true
					algos = append(algos, a)
				}
			}
		}
	}
	return cb, algos, nil
}

// algorithmsFor lists the host key algorithms that can show a key of the
// given type.
func algorithmsFor(keyType string) []string {
	if keyType == ssh.KeyAlgoRSA {
		return []string{ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA}
	}
	return []string{keyType}
}

func (c *Client) hostKeyError(key ssh.PublicKey, err error) *HostKeyError {
	e := &HostKeyError{Host: c.opt.Addr, KnownHosts: c.opt.KnownHosts, Err: err,
		KeyType: key.Type(), Fingerprint: ssh.FingerprintSHA256(key)}
	var kerr *knownhosts.KeyError
	var rerr *knownhosts.RevokedError
	switch {
	case errors.As(err, &rerr):
		e.Revoked = true
		e.Line = rerr.Revoked.Line
	case errors.As(err, &kerr) && len(kerr.Want) > 0:
		e.Mismatch = true
		e.Line = kerr.Want[0].Line
	}
	return e
}

// authMethod offers the key file's key and, if asked, the agent's keys.
// The returned function closes the agent connection.
func (c *Client) authMethod(ctx context.Context) (ssh.AuthMethod, func(), error) {
	var signers []ssh.Signer
	if c.opt.KeyFile != "" {
		s, err := readKey(c.opt.KeyFile)
		if err != nil {
			return nil, nil, err
		}
		signers = append(signers, s)
	}
	closeAgent := func() {}
	var ag agent.ExtendedAgent
	if c.opt.UseAgent {
		sock := os.Getenv("SSH_AUTH_SOCK")
		if sock == "" {
			return nil, nil, Permanent(errors.New("using the ssh-agent: SSH_AUTH_SOCK is not set"))
		}
		d := net.Dialer{Timeout: c.opt.Timeout}
		conn, err := d.DialContext(ctx, "unix", sock)
		if err != nil {
			return nil, nil, Permanent(fmt.Errorf("using the ssh-agent at SSH_AUTH_SOCK: %w", err))
		}
		closeAgent = func() { conn.Close() }
		ag = agent.NewClient(conn)
	}
	return ssh.PublicKeysCallback(func() ([]ssh.Signer, error) {
		if ag == nil {
			return signers, nil
		}
		more, err := ag.Signers()
		if err != nil {
			return nil, fmt.Errorf("asking the ssh-agent for keys: %w", err)
		}
		return append(signers[:len(signers):len(signers)], more...), nil
	}), closeAgent, nil
}

// readKey parses a private key file. The file's bytes never go into the
// error: only its name and what kind of problem it has.
func readKey(path string) (ssh.Signer, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, Permanent(fmt.Errorf("reading key file: %w", err))
	}
	s, err := ssh.ParsePrivateKey(b)
	clear(b)
	if err != nil {
		var pm *ssh.PassphraseMissingError
		if errors.As(err, &pm) {
			return nil, Permanent(fmt.Errorf("key file %s is protected by a passphrase: load it into the ssh-agent and use the agent instead", path))
		}
		return nil, Permanent(fmt.Errorf("key file %s does not hold a private key this program can read (an unencrypted OpenSSH or PEM key)", path))
	}
	return s, nil
}

// HostKeyError says the server's host key could not be trusted: it is not
// in the known_hosts file, differs from the key there, or is revoked.
type HostKeyError struct {
	Host        string // as configured, host:port
	KnownHosts  string // the known_hosts file consulted
	KeyType     string // the key the server showed (empty if none was)
	Fingerprint string // its SHA256 fingerprint
	Mismatch    bool   // the file holds another key for the host
	Revoked     bool   // the file marks the key @revoked
	Line        int    // the line of the file concerned, when known
	Err         error  // the underlying error
}

// Error names the host, the key and the known_hosts file, and says what to
// do.
func (e *HostKeyError) Error() string {
	shown := ""
	if e.Fingerprint != "" {
		shown = fmt.Sprintf(" (%s %s)", e.KeyType, e.Fingerprint)
	}
	at := e.KnownHosts
	if e.Line > 0 {
		at = fmt.Sprintf("%s line %d", e.KnownHosts, e.Line)
	}
	switch {
	case e.Revoked:
		return fmt.Sprintf("host key of %s%s is marked revoked in known_hosts file %s: refusing to connect", e.Host, shown, at)
	case e.Mismatch && e.Fingerprint == "":
		return fmt.Sprintf("host key of %s cannot be checked against known_hosts file %s: refusing to connect: %v", e.Host, e.KnownHosts, e.Err)
	case e.Mismatch:
		return fmt.Sprintf("host key of %s%s does not match the key for it in known_hosts file %s: refusing to connect (the server's key changed, or someone is in between; check with the server's owner before updating the file)", e.Host, shown, at)
	default:
		return fmt.Sprintf("host key of %s%s is unknown: it is not in known_hosts file %s; refusing to connect (check the fingerprint with the server's owner, then add the key to that file)", e.Host, shown, e.KnownHosts)
	}
}

// Unwrap returns the underlying error.
func (e *HostKeyError) Unwrap() error { return e.Err }

// permanentError marks an error that retrying will not cure.
type permanentError struct{ err error }

func (p *permanentError) Error() string { return p.err.Error() }
func (p *permanentError) Unwrap() error { return p.err }

// Permanent marks err as one that a new connection would not cure, so
// that Do returns it without retrying. Permanent(nil) is nil.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return &permanentError{err}
}

// Retryable reports whether err may be cured by reconnecting: it is not
// marked Permanent, not a host key problem, not an answer of the server
// (an SFTP status such as no such file or permission denied), and not a
// local system error other than a network one.
func Retryable(err error) bool {
	if err == nil {
		return false
	}
	var p *permanentError
	var hk *HostKeyError
	if errors.As(err, &p) || errors.As(err, &hk) {
		return false
	}
	if errors.Is(err, sftp.ErrSSHFxConnectionLost) || errors.Is(err, sftp.ErrSSHFxNoConnection) {
		return true
	}
	var st *sftp.StatusError
	if errors.As(err, &st) {
		code := st.FxCode()
		return code == sftp.ErrSSHFxConnectionLost || code == sftp.ErrSSHFxNoConnection
	}
	if errors.Is(err, fs.ErrNotExist) || errors.Is(err, fs.ErrPermission) || errors.Is(err, fs.ErrExist) ||
		errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var errno syscall.Errno
	if errors.As(err, &errno) {
		switch errno {
		case syscall.ECONNRESET, syscall.ECONNREFUSED, syscall.ECONNABORTED, syscall.EPIPE,
			syscall.ETIMEDOUT, syscall.ENETUNREACH, syscall.EHOSTUNREACH, syscall.ENETDOWN, syscall.EHOSTDOWN:
			return true
		}
		return false
	}
	return true
}

// watchConn is the TCP connection under SSH. While armed (an operation is
// running) every byte moved pushes its deadline Timeout further, so that a
// server that stops answering fails the operation instead of hanging it.
type watchConn struct {
	net.Conn
	timeout time.Duration
	mu      sync.Mutex
	armed   bool
}

func (w *watchConn) arm(on bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.armed = on
	if on {
		w.Conn.SetDeadline(time.Now().Add(w.timeout))
	} else {
		w.Conn.SetDeadline(time.Time{})
	}
}

func (w *watchConn) progress() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.armed {
		w.Conn.SetDeadline(time.Now().Add(w.timeout))
	}
}

// Read reads from the connection and pushes the deadline on progress.
func (w *watchConn) Read(p []byte) (int, error) {
	n, err := w.Conn.Read(p)
	if n > 0 {
		w.progress()
	}
	return n, err
}

// Write writes to the connection and pushes the deadline on progress.
func (w *watchConn) Write(p []byte) (int, error) {
	n, err := w.Conn.Write(p)
	if n > 0 {
		w.progress()
	}
	return n, err
}
