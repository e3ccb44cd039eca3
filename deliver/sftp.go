package deliver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path"
	"sort"

	"github.com/pkg/sftp"

	"carepay/safefile"
	"carepay/sshclient"
)

// SFTPSinkOptions configure delivery to a folder on an SFTP server.
type SFTPSinkOptions struct {
	// Options say how to reach the server: address, user, key, known_hosts
	// (required: an unknown or changed key stops the delivery), retries.
	sshclient.Options
	// Dir is the folder files are delivered to; it must exist.
	Dir string
}

// SFTPSink delivers files into a folder on an SFTP server. It connects on
// first use and reconnects when the connection drops; call Close when
// done with it.
type SFTPSink struct {
	opt SFTPSinkOptions
	c   *sshclient.Client
}

// NewSFTPSink checks the options and returns the sink. It does not
// connect.
func NewSFTPSink(opt SFTPSinkOptions) (*SFTPSink, error) {
	if opt.Dir == "" {
		return nil, errors.New("sftp sink: folder (dir) is empty")
	}
	c, err := sshclient.New(opt.Options)
	if err != nil {
		return nil, fmt.Errorf("sftp sink: %w", err)
	}
	return &SFTPSink{opt: opt, c: c}, nil
}

// Name is sftp://user@host:port/dir.
func (s *SFTPSink) Name() string {
	return "sftp://" + s.c.String() + "/" + s.opt.Dir
}

// Close ends the connection to the server, if one is open.
func (s *SFTPSink) Close() error { return s.c.Close() }

// Put uploads size bytes from r as name in the folder: under a hidden
// temporary name (".name.tmp-<random>"), checked to hold exactly size
// bytes, then renamed over any file of that name. A negative size means
// unknown: the upload then takes whatever r holds. The final name never
// holds a partial file.
//
// When the connection drops part-way the upload starts again on a new
// connection, which needs r to be rewound: pass an io.Seeker (an *os.File,
// a *bytes.Reader) or the upload fails with the first dropped connection
// after reading began.
func (s *SFTPSink) Put(ctx context.Context, name string, r io.Reader, size int64) error {
	if err := sshclient.CheckName(name); err != nil {
		return fmt.Errorf("delivering to %s: %w", s.Name(), err)
	}
	final := path.Join(s.opt.Dir, name)
	seeker, start := rewinder(r)
	src := &trackReader{r: r}
	var stale []string
	return s.c.Do(ctx, "uploading "+final, func(sc *sftp.Client) (err error) {
		for _, t := range stale {
			sc.Remove(t) // left by an attempt whose connection dropped
		}
		stale = stale[:0]
		if src.began {
			if seeker == nil {
				return sshclient.Permanent(errors.New("the connection dropped part-way and the reader cannot be rewound to start again"))
			}
			if _, err := seeker.Seek(start, io.SeekStart); err != nil {
				return sshclient.Permanent(fmt.Errorf("rewinding the reader: %w", err))
			}
			src.began = false
		}
		tmp := path.Join(s.opt.Dir, sshclient.TempName(name))
		stale = append(stale, tmp)
		defer func() {
			if err != nil && !sshclient.Retryable(err) {
				sc.Remove(tmp)
			}
		}()
		f, err := sc.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL)
		if err != nil {
			return fmt.Errorf("creating %s: %w", tmp, err)
		}
		// Payment files hold account numbers: as private on the server as here.
		if err := f.Chmod(safefile.Perm()); err != nil {
			f.Close()
			return fmt.Errorf("setting the mode of %s: %w", tmp, err)
		}
		var in io.Reader = src
		if size >= 0 {
			in = io.LimitReader(src, size+1) // one more, to notice a reader longer than size
		}
		n, err := f.ReadFrom(in)
		if err != nil {
			f.Close()
			return fmt.Errorf("writing %s: %w", tmp, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", tmp, err)
		}
		if size >= 0 && n != size {
			return sshclient.Permanent(fmt.Errorf("the reader gave %d bytes, want %d", n, size))
		}
		fi, err := sc.Stat(tmp)
		if err != nil {
			return fmt.Errorf("checking %s: %w", tmp, err)
		}
		if fi.Size() != n {
			return fmt.Errorf("%s holds %d bytes after writing %d", tmp, fi.Size(), n)
		}
		if err := sshclient.Replace(sc, tmp, final); err != nil {
			return err
		}
		stale = stale[:0]
		return nil
	})
}

// rewinder returns r as a Seeker, and where it stands, if it can be
// rewound.
func rewinder(r io.Reader) (io.Seeker, int64) {
	s, ok := r.(io.Seeker)
	if !ok {
		return nil, 0
	}
	at, err := s.Seek(0, io.SeekCurrent)
	if err != nil {
		return nil, 0
	}
	return s, at
}

// trackReader notes that reading began, and marks the reader's errors
// permanent: the connection is not at fault.
type trackReader struct {
	r     io.Reader
	began bool
}

func (t *trackReader) Read(p []byte) (int, error) {
	t.began = true
	n, err := t.r.Read(p)
	if err != nil && err != io.EOF {
		err = sshclient.Permanent(fmt.Errorf("reading the file to deliver: %w", err))
	}
	return n, err
}

// Exists reports whether name is in the folder, and its size.
func (s *SFTPSink) Exists(ctx context.Context, name string) (bool, int64, error) {
	if err := sshclient.CheckName(name); err != nil {
		return false, 0, fmt.Errorf("looking in %s: %w", s.Name(), err)
	}
	p := path.Join(s.opt.Dir, name)
	var found bool
	var size int64
	err := s.c.Do(ctx, "looking for "+p, func(sc *sftp.Client) error {
		fi, ok, err := sshclient.Exists(sc, p)
		if err != nil || !ok {
			found, size = false, 0
			return err
		}
		if !fi.Mode().IsRegular() {
			return sshclient.Permanent(fmt.Errorf("%s is not a regular file", p))
		}
		found, size = true, fi.Size()
		return nil
	})
	if err != nil {
		return false, 0, err
	}
	return found, size, nil
}

// List returns the names of the regular files in the folder, sorted, so that a
// run can tell whether it holds deliveries of runs its ledger did not
// make (batch.Lister).
func (s *SFTPSink) List(ctx context.Context) ([]string, error) {
	var names []string
	err := s.c.Do(ctx, "listing "+s.opt.Dir, func(sc *sftp.Client) error {
		entries, err := sc.ReadDirContext(ctx, s.opt.Dir)
		if err != nil {
			return err
		}
		names = names[:0]
		for _, e := range entries {
			if e.Mode().IsRegular() {
				names = append(names, e.Name())
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}
