package sshclient_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/pkg/sftp"
	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"

	"carepay/sshclient"
	"carepay/sshclient/sshtest"
)

func options(srv *sshtest.Server) sshclient.Options {
	return sshclient.Options{
		Addr: srv.Addr, User: sshtest.User, KeyFile: srv.KeyFile, KnownHosts: srv.KnownHosts,
		Retries: 3, Backoff: time.Millisecond, Timeout: 5 * time.Second,
	}
}

func newClient(t *testing.T, opt sshclient.Options) *sshclient.Client {
	t.Helper()
	c, err := sshclient.New(opt)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// getwd is the smallest operation that needs a working session.
func getwd(ctx context.Context, c *sshclient.Client) (string, error) {
	var wd string
	err := c.Do(ctx, "asking the folder", func(sc *sftp.Client) error {
		var err error
		wd, err = sc.Getwd()
		return err
	})
	return wd, err
}

func TestCheckName(t *testing.T) {
	tests := []struct {
		name string
		ok   bool
	}{
		{"a.csv", true}, {"20260410-001-payments.ach", true}, {".hidden", true}, {"..a", true}, {"a..b", true},
		{"", false}, {".", false}, {"..", false}, {"../a", false}, {"a/..", false}, {"/etc/passwd", false},
		{"sub/a.csv", false}, {`..\a`, false}, {"a\x00b", false}, {"a\nb", false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%q", tt.name), func(t *testing.T) {
			err := sshclient.CheckName(tt.name)
			if (err == nil) != tt.ok {
				t.Errorf("CheckName(%q) = %v, want ok %v", tt.name, err, tt.ok)
			}
			if err != nil && sshclient.Retryable(err) {
				t.Errorf("a refused name is retryable")
			}
		})
	}
}

func TestTempName(t *testing.T) {
	a, b := sshclient.TempName("x.csv"), sshclient.TempName("x.csv")
	if a == b || !strings.HasPrefix(a, ".x.csv.tmp-") || len(a) != len(".x.csv.tmp-")+16 {
		t.Errorf("TempName = %q, %q", a, b)
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"connection_lost", sftp.ErrSSHFxConnectionLost, true},
		{"wrapped_connection_lost", fmt.Errorf("reading: %w", sftp.ErrSSHFxConnectionLost), true},
		{"eof", io.EOF, true},
		{"unexpected_eof", io.ErrUnexpectedEOF, true},
		{"reset", &net.OpError{Op: "read", Err: os.NewSyscallError("read", syscall.ECONNRESET)}, true},
		{"timeout", os.ErrDeadlineExceeded, true},
		{"closed", net.ErrClosed, true},
		{"not_exist", &fs.PathError{Op: "open", Path: "x", Err: fs.ErrNotExist}, false},
		{"permission", fs.ErrPermission, false},
		{"permanent", sshclient.Permanent(errors.New("bad")), false},
		{"host_key", &sshclient.HostKeyError{Host: "h:22"}, false},
		{"cancelled", context.Canceled, false},
		{"nil", nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := sshclient.Retryable(tt.err); got != tt.want {
				t.Errorf("Retryable(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestDoReconnectsAndGivesUp(t *testing.T) {
	tests := []struct {
		name      string
		cut       []int64
		retries   int
		wantErr   string
		wantConns int
	}{
		{name: "no_drop", wantConns: 1},
		{name: "two_drops_three_attempts", cut: []int64{0, 0}, retries: 3, wantConns: 3},
		{name: "three_drops_three_attempts", cut: []int64{0, 0, 0}, retries: 3, wantErr: "gave up after 3 attempts", wantConns: 3},
		{name: "one_attempt_no_retry", cut: []int64{0}, retries: 1, wantErr: "gave up after 1 attempts", wantConns: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sshtest.Start(t, sshtest.Options{CutAfter: tt.cut})
			opt := options(srv)
			opt.Retries = tt.retries
			c := newClient(t, opt)
			wd, err := getwd(context.Background(), c)
			if tt.wantErr == "" && (err != nil || wd == "") {
				t.Fatalf("Getwd = %q, %v", wd, err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Do = %v, want an error saying %q", err, tt.wantErr)
			}
			if n := srv.Conns(); n != tt.wantConns {
				t.Errorf("server saw %d connections, want %d", n, tt.wantConns)
			}
		})
	}
}

func TestDoKeepsTheConnectionAndReopensIt(t *testing.T) {
	srv := sshtest.Start(t, sshtest.Options{})
	c := newClient(t, options(srv))
	ctx := context.Background()
	for range 3 {
		if _, err := getwd(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	if n := srv.Conns(); n != 1 {
		t.Errorf("three operations took %d connections, want 1", n)
	}
	c.Close()
	if _, err := getwd(ctx, c); err != nil {
		t.Fatalf("after Close: %v", err)
	}
	if n := srv.Conns(); n != 2 {
		t.Errorf("after Close: %d connections, want 2", n)
	}
	// A server answer is not retried, and keeps the connection.
	err := c.Do(ctx, "opening", func(sc *sftp.Client) error {
		_, err := sc.Open("no-such-file")
		return err
	})
	if !errors.Is(err, fs.ErrNotExist) || !strings.Contains(err.Error(), "opening (sftp "+sshtest.User+"@"+srv.Addr+")") {
		t.Errorf("Do = %v, want a wrapped not-exist error", err)
	}
	if n := srv.Conns(); n != 2 {
		t.Errorf("after a server answer: %d connections, want 2", n)
	}
}

func TestTimeoutOnASilentServer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c) // held open, never answered
			mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-done
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
	})
	kh := filepath.Join(t.TempDir(), "known_hosts")
	os.WriteFile(kh, nil, 0o644)
	// The key file is read before dialing: give it one.
	_, priv := sshtest.NewKey(t)
	opt := sshclient.Options{Addr: ln.Addr().String(), User: "u", KnownHosts: kh, Retries: 2,
		Backoff: time.Millisecond, Timeout: 100 * time.Millisecond,
		KeyFile: sshtest.WriteKeyFile(t, filepath.Join(t.TempDir(), "id"), priv)}
	c := newClient(t, opt)
	start := time.Now()
	_, err = getwd(context.Background(), c)
	if err == nil || !strings.Contains(err.Error(), "gave up after 2 attempts") || !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Errorf("Do = %v, want a timeout, twice", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("took %s", d)
	}
}

func TestHostKeyAlgorithmFollowsKnownHosts(t *testing.T) {
	ed, _ := sshtest.NewKey(t)
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ec, _ := ssh.NewSignerFromKey(ecKey)
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	rs, _ := ssh.NewSignerFromKey(rsaKey)
	tests := []struct {
		name  string
		keys  []ssh.Signer // the first is in known_hosts
		known ssh.PublicKey
	}{
		// The client prefers ECDSA to Ed25519 and RSA: a known_hosts
		// file with only the less preferred key must still match.
		{name: "ed25519_known_server_also_has_ecdsa", keys: []ssh.Signer{ed, ec}},
		{name: "rsa_known_server_also_has_ecdsa", keys: []ssh.Signer{rs, ec}},
		{name: "ecdsa_known_server_also_has_ed25519", keys: []ssh.Signer{ec, ed}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sshtest.Start(t, sshtest.Options{HostKeys: tt.keys})
			c := newClient(t, options(srv))
			if _, err := getwd(context.Background(), c); err != nil {
				t.Fatalf("Do: %v", err)
			}
		})
	}
	t.Run("server_lacks_the_known_key_type", func(t *testing.T) {
		srv := sshtest.Start(t, sshtest.Options{HostKeys: []ssh.Signer{ec}})
		opt := options(srv)
		opt.KnownHosts = srv.WriteKnownHosts(t, filepath.Join(t.TempDir(), "known_hosts"), ed.PublicKey())
		_, err := getwd(context.Background(), newClient(t, opt))
		var hk *sshclient.HostKeyError
		if !errors.As(err, &hk) || !hk.Mismatch || !strings.Contains(err.Error(), opt.KnownHosts) {
			t.Errorf("Do = %v, want a host key mismatch naming the known_hosts file", err)
		}
		if n := srv.Conns(); n != 1 {
			t.Errorf("%d connections, want 1", n)
		}
	})
}

func TestKeyFromAgent(t *testing.T) {
	srv := sshtest.Start(t, sshtest.Options{})
	keyring := agent.NewKeyring()
	if err := keyring.Add(agent.AddedKey{PrivateKey: srv.ClientPrivate}); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "agent") // short: a socket path has a length limit
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "s")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				agent.ServeAgent(keyring, c)
			}()
		}
	}()
	t.Cleanup(func() { ln.Close(); wg.Wait() })

	tests := []struct {
		name    string
		sock    string
		keyFile string
		wantErr string
	}{
		{name: "agent_only", sock: sock},
		{name: "agent_and_a_refused_key_file", sock: sock, keyFile: "other"},
		{name: "no_agent_socket", sock: "", wantErr: "SSH_AUTH_SOCK is not set"},
		{name: "agent_socket_missing", sock: filepath.Join(dir, "gone"), wantErr: "using the ssh-agent"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("SSH_AUTH_SOCK", tt.sock)
			opt := options(srv)
			opt.KeyFile, opt.UseAgent = "", true
			if tt.keyFile != "" {
				_, other := sshtest.NewKey(t)
				opt.KeyFile = sshtest.WriteKeyFile(t, filepath.Join(t.TempDir(), "id"), other)
			}
			_, err := getwd(context.Background(), newClient(t, opt))
			if tt.wantErr == "" && err != nil {
				t.Fatalf("Do: %v", err)
			}
			if tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("Do = %v, want an error saying %q", err, tt.wantErr)
			}
		})
	}
}

func TestKeyFileErrorsHideTheKey(t *testing.T) {
	_, priv := sshtest.NewKey(t)
	block, err := ssh.MarshalPrivateKeyWithPassphrase(priv, "", []byte("pass"))
	if err != nil {
		t.Fatal(err)
	}
	encrypted := pem.EncodeToMemory(block)
	plain, err := ssh.MarshalPrivateKey(priv, "")
	if err != nil {
		t.Fatal(err)
	}
	truncated := pem.EncodeToMemory(plain)
	truncated = append(truncated[:len(truncated)/2:len(truncated)/2], "\n-----END OPENSSH PRIVATE KEY-----\n"...)
	tests := []struct {
		name    string
		content []byte
		want    string
	}{
		{name: "passphrase", content: encrypted, want: "protected by a passphrase"},
		{name: "garbage", content: []byte("hunter2-the-secret\n"), want: "does not hold a private key"},
		{name: "truncated", content: truncated, want: "does not hold a private key"},
	}
	srv := sshtest.Start(t, sshtest.Options{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "id")
			os.WriteFile(p, tt.content, 0o600)
			opt := options(srv)
			opt.KeyFile = p
			_, err := getwd(context.Background(), newClient(t, opt))
			if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), p) {
				t.Fatalf("Do = %v, want an error naming %s and saying %q", err, p, tt.want)
			}
			for _, line := range strings.Split(string(tt.content), "\n") {
				if len(line) > 8 && !strings.HasPrefix(line, "-----") && strings.Contains(err.Error(), line) {
					t.Errorf("error %q shows the key file's line %q", err, line)
				}
			}
			if sshclient.Retryable(err) {
				t.Errorf("a bad key file is retryable")
			}
		})
	}
}
