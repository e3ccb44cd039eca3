// Package sshtest runs an SSH server with the SFTP subsystem inside a test
// process, on 127.0.0.1 and a free port: a fresh ed25519 host key,
// public-key login for one user, SFTP (github.com/pkg/sftp) serving real
// files with a temporary folder as the working directory. It writes the
// client's key file and a known_hosts file naming the server, and can cut
// connections part-way to imitate a network that drops them.
//
// It is for tests only.
package sshtest

import (
	"carepay/sshclient"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"
)

// User is the login name the server accepts.
const User = "carepay"

// Options shape a test server.
type Options struct {
	// CutAfter cuts the i-th connection (counting from 0) once the
	// server has sent and received CutAfter[i] bytes on it in all (0: at
	// once, before the SSH handshake). Connections past the end of the
	// slice are not cut.
	CutAfter []int64
	// HostKeys are the server's host keys (nil: one fresh ed25519 key).
	// KnownHosts names the first.
	HostKeys []ssh.Signer
}

// Server is a running test server. It stops when the test ends.
type Server struct {
	// Addr is 127.0.0.1:port.
	Addr string
	// Root is the server's working directory: relative remote paths name
	// files under it.
	Root string
	// HostKey is the server's public host key.
	HostKey ssh.PublicKey
	// ClientKey is the public key of KeyFile, the only key accepted.
	ClientKey ssh.PublicKey
	// ClientSigner signs with the private key of KeyFile.
	ClientSigner ssh.Signer
	// ClientPrivate is the private key of KeyFile (for an ssh-agent).
	ClientPrivate ed25519.PrivateKey
	// KeyFile is the client's private key file (OpenSSH format).
	KeyFile string
	// KnownHosts is a known_hosts file with the server's host key.
	KnownHosts string

	opt  Options
	ln   net.Listener
	cfg  *ssh.ServerConfig
	wg   sync.WaitGroup
	mu   sync.Mutex
	n    int
	open map[net.Conn]bool
}

// Start starts a server for t.
func Start(t testing.TB, opt Options) *Server {
	t.Helper()
	dir := t.TempDir()
	s := &Server{Root: filepath.Join(dir, "root"), opt: opt, open: map[net.Conn]bool{}}
	if err := os.Mkdir(s.Root, 0o755); err != nil {
		t.Fatal(err)
	}
	hostKeys := opt.HostKeys
	if len(hostKeys) == 0 {
		k, _ := NewKey(t)
		hostKeys = []ssh.Signer{k}
	}
	s.HostKey = hostKeys[0].PublicKey()
	s.ClientSigner, s.ClientPrivate = NewKey(t)
	s.ClientKey = s.ClientSigner.PublicKey()
	s.KeyFile = WriteKeyFile(t, filepath.Join(dir, "id_ed25519"), s.ClientPrivate)

	s.cfg = &ssh.ServerConfig{
		PublicKeyCallback: func(c ssh.ConnMetadata, key ssh.PublicKey) (*ssh.Permissions, error) {
			if c.User() == User && string(key.Marshal()) == string(s.ClientKey.Marshal()) {
				return &ssh.Permissions{}, nil
			}
			return nil, errors.New("key not accepted")
		},
	}
	for _, k := range hostKeys {
		s.cfg.AddHostKey(k)
	}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.ln = ln
	s.Addr = ln.Addr().String()
	s.KnownHosts = s.WriteKnownHosts(t, filepath.Join(dir, "known_hosts"), s.HostKey)

	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.stop)
	return s
}

// NewKey makes an ed25519 key.
func NewKey(t testing.TB) (ssh.Signer, ed25519.PrivateKey) {
	t.Helper()
	_, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := ssh.NewSignerFromKey(priv)
	if err != nil {
		t.Fatal(err)
	}
	return signer, priv
}

// WriteKeyFile writes priv to path as an OpenSSH private key file.
func WriteKeyFile(t testing.TB, path string, priv ed25519.PrivateKey) string {
	t.Helper()
	block, err := ssh.MarshalPrivateKey(priv, "carepay test key")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, pem.EncodeToMemory(block), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// WriteKnownHosts writes a known_hosts file at path that gives key as
// the host key of this server, and returns path.
func (s *Server) WriteKnownHosts(t testing.TB, path string, key ssh.PublicKey) string {
	t.Helper()
	line := knownhosts.Line([]string{s.Addr}, key) + "\n"
	if err := os.WriteFile(path, []byte(line), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// Path is the local path of a remote path relative to Root.
func (s *Server) Path(rel string) string { return filepath.Join(s.Root, filepath.FromSlash(rel)) }

// Conns is how many connections the server has accepted.
func (s *Server) Conns() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *Server) stop() {
	s.ln.Close()
	s.mu.Lock()
	for c := range s.open {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		i := s.n
		s.n++
		s.open[c] = true
		s.mu.Unlock()
		if i < len(s.opt.CutAfter) {
			if s.opt.CutAfter[i] <= 0 {
				s.forget(c)
				c.Close()
				continue
			}
			c = &cutConn{Conn: c, left: s.opt.CutAfter[i]}
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer s.forget(c)
			s.handle(c)
		}()
	}
}

func (s *Server) forget(c net.Conn) {
	if cc, ok := c.(*cutConn); ok {
		c = cc.Conn
	}
	s.mu.Lock()
	delete(s.open, c)
	s.mu.Unlock()
}

func (s *Server) handle(c net.Conn) {
	defer c.Close()
	conn, chans, reqs, err := ssh.NewServerConn(c, s.cfg)
	if err != nil {
		return
	}
	defer conn.Close()
	go ssh.DiscardRequests(reqs)
	var wg sync.WaitGroup
	defer wg.Wait()
	for nc := range chans {
		if nc.ChannelType() != "session" {
			nc.Reject(ssh.UnknownChannelType, "only sessions")
			continue
		}
		ch, creqs, err := nc.Accept()
		if err != nil {
			return
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer ch.Close()
			for req := range creqs {
				ok := req.Type == "subsystem" && len(req.Payload) >= 4 && string(req.Payload[4:]) == "sftp"
				req.Reply(ok, nil)
				if !ok {
					continue
				}
				go ssh.DiscardRequests(creqs)
				srv, err := sftp.NewServer(ch, sftp.WithServerWorkingDirectory(s.Root))
				if err != nil {
					return
				}
				if err := srv.Serve(); err == nil || errors.Is(err, io.EOF) {
					ch.SendRequest("exit-status", false, ssh.Marshal(struct{ Status uint32 }{0}))
				}
				srv.Close()
				return
			}
		}()
	}
}

// cutConn closes its connection once it has moved (sent or received) its
// budget of bytes.
type cutConn struct {
	net.Conn
	mu   sync.Mutex
	left int64
}

// take reserves up to n bytes of the budget and says how many.
func (c *cutConn) take(n int) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if int64(n) > c.left {
		n = int(max(c.left, 0))
	}
	c.left -= int64(n)
	return n
}

func (c *cutConn) spent() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.left <= 0
}

// Read receives up to the remaining budget, then closes the connection.
func (c *cutConn) Read(p []byte) (int, error) {
	k := c.take(len(p))
	if k == 0 {
		c.Conn.Close()
		return 0, net.ErrClosed
	}
	n, err := c.Conn.Read(p[:k])
	if n < k {
		c.mu.Lock()
		c.left += int64(k - n)
		c.mu.Unlock()
	}
	if err == nil && c.spent() {
		c.Conn.Close()
	}
	return n, err
}

// Write sends up to the remaining budget, then closes the connection.
func (c *cutConn) Write(p []byte) (int, error) {
	k := c.take(len(p))
	n, err := c.Conn.Write(p[:k])
	if err == nil && (k < len(p) || c.spent()) {
		c.Conn.Close()
		if k < len(p) {
			err = net.ErrClosed
		}
	}
	return n, err
}

// Files lists every file under the server's root with its content, by
// slash-separated path.
func (s *Server) Files(t testing.TB) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(s.Root, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		rel, _ := filepath.Rel(s.Root, p)
		out[filepath.ToSlash(rel)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// RandomBytes returns n random bytes, for files whose every byte must
// arrive intact.
func RandomBytes(t testing.TB, n int) []byte {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

// ClientOptions are options to reach the server as its test user, with
// the short retry waits fit for tests.
func (s *Server) ClientOptions() sshclient.Options {
	return sshclient.Options{Addr: s.Addr, User: User, KeyFile: s.KeyFile, KnownHosts: s.KnownHosts,
		Retries: 4, Backoff: 5 * time.Millisecond, Timeout: 10 * time.Second}
}
