package deliver_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"carepay/deliver"
	"carepay/safefile"
	"carepay/sshclient"
	"carepay/sshclient/sshtest"
)

func sinkOptions(srv *sshtest.Server) deliver.SFTPSinkOptions {
	return deliver.SFTPSinkOptions{Options: srv.ClientOptions(), Dir: "payroll/in"}
}

func newSink(t *testing.T, opt deliver.SFTPSinkOptions) *deliver.SFTPSink {
	t.Helper()
	s, err := deliver.NewSFTPSink(opt)
	if err != nil {
		t.Fatalf("NewSFTPSink: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// onlyReader hides every method of a reader but Read: it cannot be
// rewound.
type onlyReader struct{ r io.Reader }

func (o onlyReader) Read(p []byte) (int, error) { return o.r.Read(p) }

func TestSFTPSinkPut(t *testing.T) {
	big := sshtest.RandomBytes(t, 4<<20)
	tests := []struct {
		name      string
		cut       []int64
		existing  map[string]string // files on the server before
		put       string
		body      []byte
		reader    func(b []byte) io.Reader
		size      int64 // -2: len(body)
		wantErr   string
		want      map[string]string // files on the server after (nil: body under put)
		wantConns int
	}{
		{name: "small_file", put: "20260410-001-payroll.csv", body: []byte("employee_id,amount\nE201,100.00\n"), size: -2, wantConns: 1},
		{name: "empty_file", put: "empty.csv", body: []byte{}, size: -2, wantConns: 1},
		{name: "unknown_size", put: "u.csv", body: []byte("no size given"), size: -1, wantConns: 1},
		{
			name: "replaces_a_file_of_the_same_name", put: "a.csv", body: []byte("new"), size: -2,
			existing: map[string]string{"payroll/in/a.csv": "older and longer"}, wantConns: 1,
		},
		{
			name: "dropped_mid_upload_starts_again", put: "payments.ach", body: big, size: -2,
			cut: []int64{1 << 20}, wantConns: 2,
		},
		{
			name: "dropped_mid_upload_reader_cannot_rewind", put: "payments.ach", body: big, size: -2,
			reader: func(b []byte) io.Reader { return onlyReader{bytes.NewReader(b)} },
			cut:    []int64{1 << 20}, wantErr: "cannot be rewound",
			want: map[string]string{}, wantConns: 2,
		},
		{
			name: "reader_shorter_than_size", put: "short.csv", body: []byte("12345"), size: 10,
			wantErr: "gave 5 bytes, want 10", want: map[string]string{}, wantConns: 1,
		},
		{
			name: "reader_longer_than_size", put: "long.csv", body: []byte("1234567890"), size: 4,
			wantErr: "gave 5 bytes, want 4", want: map[string]string{}, wantConns: 1,
		},
		{
			name: "escaping_name_refused", put: "../outside.csv", body: []byte("x"), size: -2,
			wantErr: "refusing remote file name", want: map[string]string{}, wantConns: 0,
		},
		{
			name: "absolute_name_refused", put: "/tmp/x.csv", body: []byte("x"), size: -2,
			wantErr: "refusing remote file name", want: map[string]string{}, wantConns: 0,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sshtest.Start(t, sshtest.Options{CutAfter: tt.cut})
			if err := os.MkdirAll(srv.Path("payroll/in"), 0o755); err != nil {
				t.Fatal(err)
			}
			for name, body := range tt.existing {
				if err := os.WriteFile(srv.Path(name), []byte(body), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			sink := newSink(t, sinkOptions(srv))
			var r io.Reader = bytes.NewReader(tt.body)
			if tt.reader != nil {
				r = tt.reader(tt.body)
			}
			size := tt.size
			if size == -2 {
				size = int64(len(tt.body))
			}
			err := sink.Put(context.Background(), tt.put, r, size)
			switch {
			case tt.wantErr == "" && err != nil:
				t.Fatalf("Put: %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Fatalf("Put = %v, want an error saying %q", err, tt.wantErr)
			}
			want := tt.want
			if want == nil {
				want = map[string]string{"payroll/in/" + tt.put: string(tt.body)}
			}
			if tt.wantErr == "" {
				// Payment files hold account numbers: private on the server too.
				fi, err := os.Stat(srv.Path("payroll/in/" + tt.put))
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != safefile.Perm() {
					t.Errorf("delivered with mode %04o, want %04o", got, safefile.Perm())
				}
			}
			got := srv.Files(t)
			if !reflect.DeepEqual(got, want) {
				for name, body := range got {
					t.Errorf("on the server: %s (%d bytes)", name, len(body))
				}
				for name, body := range want {
					t.Errorf("wanted: %s (%d bytes)", name, len(body))
				}
			}
			if n := srv.Conns(); n != tt.wantConns {
				t.Errorf("server saw %d connections, want %d", n, tt.wantConns)
			}
		})
	}
}

func TestSFTPSinkExists(t *testing.T) {
	srv := sshtest.Start(t, sshtest.Options{})
	for name, body := range map[string]string{"payroll/in/a.csv": "12345", "payroll/in/empty.csv": "", "payroll/in/sub/x": "x"} {
		if err := os.MkdirAll(filepath.Dir(srv.Path(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(srv.Path(name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	sink := newSink(t, sinkOptions(srv))
	tests := []struct {
		name     string
		file     string
		wantOK   bool
		wantSize int64
		wantErr  string
	}{
		{name: "present", file: "a.csv", wantOK: true, wantSize: 5},
		{name: "present_empty", file: "empty.csv", wantOK: true, wantSize: 0},
		{name: "absent", file: "b.csv"},
		{name: "a_folder", file: "sub", wantErr: "not a regular file"},
		{name: "escaping", file: "../in/a.csv", wantErr: "refusing remote file name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ok, size, err := sink.Exists(context.Background(), tt.file)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Exists = %v, want an error saying %q", err, tt.wantErr)
				}
				return
			}
			if err != nil || ok != tt.wantOK || size != tt.wantSize {
				t.Errorf("Exists = %v, %d, %v; want %v, %d", ok, size, err, tt.wantOK, tt.wantSize)
			}
		})
	}
	if n := srv.Conns(); n != 1 {
		t.Errorf("server saw %d connections, want 1 (kept open between calls)", n)
	}
}

func TestSFTPSinkList(t *testing.T) {
	srv := sshtest.Start(t, sshtest.Options{})
	for name, body := range map[string]string{"payroll/in/b.csv": "12345", "payroll/in/a.csv": "", "payroll/in/sub/x": "x"} {
		if err := os.MkdirAll(filepath.Dir(srv.Path(name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(srv.Path(name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	names, err := newSink(t, sinkOptions(srv)).List(context.Background())
	if err != nil || !reflect.DeepEqual(names, []string{"a.csv", "b.csv"}) {
		t.Errorf("List = %q, %v; want the two files, not the folder", names, err)
	}
	missing := sinkOptions(srv)
	missing.Dir = "payroll/none"
	if _, err := newSink(t, missing).List(context.Background()); err == nil {
		t.Error("listing a missing folder succeeded")
	}
}

func TestSFTPSinkRefuses(t *testing.T) {
	tests := []struct {
		name    string
		opt     func(t *testing.T, srv *sshtest.Server, o *deliver.SFTPSinkOptions)
		wantErr []string
	}{
		{
			name: "changed_host_key",
			opt: func(t *testing.T, srv *sshtest.Server, o *deliver.SFTPSinkOptions) {
				other, _ := sshtest.NewKey(t)
				o.KnownHosts = srv.WriteKnownHosts(t, filepath.Join(t.TempDir(), "known_hosts"), other.PublicKey())
			},
			wantErr: []string{"does not match", "known_hosts"},
		},
		{
			name: "unknown_host",
			opt: func(t *testing.T, srv *sshtest.Server, o *deliver.SFTPSinkOptions) {
				o.KnownHosts = filepath.Join(t.TempDir(), "known_hosts")
				os.WriteFile(o.KnownHosts, []byte("# nothing yet\n"), 0o644)
			},
			wantErr: []string{"is unknown", "known_hosts"},
		},
		{
			name:    "missing_folder",
			opt:     func(t *testing.T, srv *sshtest.Server, o *deliver.SFTPSinkOptions) { o.Dir = "no/such/folder" },
			wantErr: []string{"no/such/folder"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := sshtest.Start(t, sshtest.Options{})
			os.MkdirAll(srv.Path("payroll/in"), 0o755)
			opt := sinkOptions(srv)
			tt.opt(t, srv, &opt)
			sink := newSink(t, opt)
			err := sink.Put(context.Background(), "a.csv", strings.NewReader("abc"), 3)
			if err == nil {
				t.Fatal("Put succeeded")
			}
			for _, w := range append(tt.wantErr, srv.Addr) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			var hk *sshclient.HostKeyError
			if errors.As(err, &hk) && srv.Conns() != 1 {
				t.Errorf("host key refused after %d connections, want 1", srv.Conns())
			}
			if got := srv.Files(t); len(got) != 0 {
				t.Errorf("server files %q, want none", got)
			}
		})
	}
}

func TestNewSFTPSink(t *testing.T) {
	good := deliver.SFTPSinkOptions{Options: sshclient.Options{Addr: "sftp.example.com:22", User: "carepay", KeyFile: "/k", KnownHosts: "/kh"}, Dir: "in"}
	s, err := deliver.NewSFTPSink(good)
	if err != nil {
		t.Fatalf("NewSFTPSink: %v", err)
	}
	if got, want := s.Name(), "sftp://carepay@sftp.example.com:22/in"; got != want {
		t.Errorf("Name() = %q, want %q", got, want)
	}
	tests := []struct {
		name string
		opt  func(*deliver.SFTPSinkOptions)
		want string
	}{
		{name: "no_dir", opt: func(o *deliver.SFTPSinkOptions) { o.Dir = "" }, want: "folder"},
		{name: "no_known_hosts", opt: func(o *deliver.SFTPSinkOptions) { o.KnownHosts = "" }, want: "known_hosts"},
		{name: "no_key", opt: func(o *deliver.SFTPSinkOptions) { o.KeyFile = "" }, want: "no key"},
		{name: "no_user", opt: func(o *deliver.SFTPSinkOptions) { o.User = "" }, want: "user"},
		{name: "negative_timeout", opt: func(o *deliver.SFTPSinkOptions) { o.Timeout = -1 }, want: "timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opt := good
			tt.opt(&opt)
			if _, err := deliver.NewSFTPSink(opt); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("NewSFTPSink = %v, want an error saying %q", err, tt.want)
			}
		})
	}
}
