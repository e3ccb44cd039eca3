package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/pkg/sftp"

	"carepay/safefile"
	"carepay/sshclient"
)

// Ways of telling that a remote file is completely uploaded.
const (
	// StableSize takes a file when its size and modification time are
	// the same in two listings StableWait apart.
	StableSize = "size"
	// StableDone takes a file when a marker file "<name>.done" is beside
	// it.
	StableDone = "done"
)

// DoneSuffix ends the name of the marker that says a file is completely
// uploaded, in StableDone mode.
const DoneSuffix = ".done"

// DefaultStableWait separates the two listings of StableSize mode when
// SFTPOptions.StableWait is zero.
const DefaultStableWait = 5 * time.Second

// SFTPOptions configure an SFTP drop source.
type SFTPOptions struct {
	// Name identifies the source in the ledger and in reports.
	Name string
	// Options say how to reach the server: address, user, key, known_hosts
	// (required: an unknown or changed key stops the pull), retries.
	sshclient.Options
	// Dir is the inbox folder on the server (relative paths start at the
	// login folder).
	Dir string
	// Pattern selects files of the inbox by name (path.Match; empty: all).
	Pattern string
	// ArchiveDir receives taken files once the ledger has them (empty:
	// they stay in the inbox).
	ArchiveDir string
	// ReportsDir receives acknowledgements (empty: beside the drop).
	ReportsDir string
	// Stable is StableSize (the default) or StableDone.
	Stable string
	// StableWait separates the two listings of StableSize mode
	// (0: DefaultStableWait).
	StableWait time.Duration
}

// SFTP is a drop folder on an SFTP server. It connects on first use and
// reconnects when the connection drops; call Close when done with it.
//
// List leaves out hidden files (names starting with "."), acknowledgements,
// names not matching Pattern, and files that may still be uploading; in
// StableDone mode it also leaves out the markers. Fetch resumes where it
// stopped when the connection drops mid-file, so the writer sees every byte
// once. Ack writes "<name>.ack.txt" under a hidden temporary name and
// renames it into place. Archive moves the file (and its marker) to
// ArchiveDir and succeeds if that was already done.
type SFTP struct {
	opt SFTPOptions
	c   *sshclient.Client
}

var _ Source = (*SFTP)(nil)

// NewSFTP checks the options and returns the source. It does not connect.
func NewSFTP(opt SFTPOptions) (*SFTP, error) {
	var problems []string
	if opt.Name == "" {
		problems = append(problems, "name is empty")
	}
	if opt.Dir == "" {
		problems = append(problems, "inbox folder (dir) is empty")
	}
	if opt.Pattern == "" {
		opt.Pattern = "*"
	}
	if _, err := path.Match(opt.Pattern, ""); err != nil {
		problems = append(problems, fmt.Sprintf("pattern %q: %v", opt.Pattern, err))
	}
	if opt.ArchiveDir != "" && path.Clean(opt.ArchiveDir) == path.Clean(opt.Dir) {
		problems = append(problems, "archive folder is the inbox folder")
	}
	switch opt.Stable {
	case "":
		opt.Stable = StableSize
	case StableSize, StableDone:
	default:
		problems = append(problems, fmt.Sprintf("stable %q: want %q or %q", opt.Stable, StableSize, StableDone))
	}
	if opt.StableWait < 0 {
		problems = append(problems, fmt.Sprintf("stable wait %s is negative", opt.StableWait))
	} else if opt.StableWait == 0 {
		opt.StableWait = DefaultStableWait
	}
	c, err := sshclient.New(opt.Options)
	if err != nil {
		problems = append(problems, err.Error())
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("sftp source %q: %s", opt.Name, strings.Join(problems, "; "))
	}
	return &SFTP{opt: opt, c: c}, nil
}

// Name identifies the source in the ledger and in reports.
func (s *SFTP) Name() string { return s.opt.Name }

// Close ends the connection to the server, if one is open.
func (s *SFTP) Close() error { return s.c.Close() }

// look is what one listing saw of a file.
type look struct {
	size  int64
	mtime time.Time
}

// List returns the files of the inbox that are completely uploaded, in
// name order.
func (s *SFTP) List(ctx context.Context) ([]string, error) {
	first, markers, err := s.look(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	switch s.opt.Stable {
	case StableDone:
		for n := range first {
			if markers[n+DoneSuffix] {
				names = append(names, n)
			}
		}
	default:
		if len(first) == 0 {
			return nil, nil
		}
		t := time.NewTimer(s.opt.StableWait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("listing %s (sftp %s): %w", s.opt.Dir, s.c, ctx.Err())
		case <-t.C:
		}
		second, _, err := s.look(ctx)
		if err != nil {
			return nil, err
		}
		for n, a := range first {
			if b, ok := second[n]; ok && a.size == b.size && a.mtime.Equal(b.mtime) {
				names = append(names, n)
			}
		}
	}
	sort.Strings(names)
	return names, nil
}

// look lists the inbox once: the candidate files, and the names of every
// regular file (to find markers).
func (s *SFTP) look(ctx context.Context) (map[string]look, map[string]bool, error) {
	var entries []os.FileInfo
	err := s.c.Do(ctx, "listing "+s.opt.Dir, func(sc *sftp.Client) error {
		var err error
		entries, err = sc.ReadDirContext(ctx, s.opt.Dir)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	files := map[string]look{}
	regular := map[string]bool{}
	for _, e := range entries {
		n := e.Name()
		if !e.Mode().IsRegular() || sshclient.CheckName(n) != nil {
			continue
		}
		regular[n] = true
		if strings.HasPrefix(n, ".") || strings.HasSuffix(n, AckSuffix) {
			continue
		}
		if s.opt.Stable == StableDone && strings.HasSuffix(n, DoneSuffix) {
			continue
		}
		if ok, _ := path.Match(s.opt.Pattern, n); !ok {
			continue
		}
		files[n] = look{size: e.Size(), mtime: e.ModTime()}
	}
	return files, regular, nil
}

// Fetch copies the named file of the inbox into w. If the connection drops
// part-way, it reconnects and goes on from the byte it had reached; if
// the file changes size meanwhile, it fails.
func (s *SFTP) Fetch(ctx context.Context, name string, w io.Writer) error {
	if err := sshclient.CheckName(name); err != nil {
		return err
	}
	p := path.Join(s.opt.Dir, name)
	size := int64(-1)
	cw := &countWriter{w: w}
	return s.c.Do(ctx, "fetching "+p, func(sc *sftp.Client) error {
		f, err := sc.Open(p)
		if err != nil {
			return err
		}
		defer f.Close()
		fi, err := f.Stat()
		if err != nil {
			return err
		}
		if !fi.Mode().IsRegular() {
			return sshclient.Permanent(errors.New("not a regular file"))
		}
		if size < 0 {
			size = fi.Size()
		} else if fi.Size() != size {
			return sshclient.Permanent(fmt.Errorf("the file changed while being fetched: %d bytes, was %d", fi.Size(), size))
		}
		if cw.n > 0 {
			if _, err := f.Seek(cw.n, io.SeekStart); err != nil {
				return err
			}
		}
		if _, err := io.Copy(cw, f); err != nil {
			return err
		}
		if cw.n != size {
			return sshclient.Permanent(fmt.Errorf("the file changed while being fetched: read %d bytes, expected %d", cw.n, size))
		}
		return nil
	})
}

// countWriter counts the bytes its writer took, and marks the writer's
// errors permanent: the connection is not at fault.
type countWriter struct {
	w io.Writer
	n int64
}

func (c *countWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	if err != nil {
		return n, sshclient.Permanent(fmt.Errorf("writing the fetched bytes: %w", err))
	}
	return n, nil
}

// Ack writes the acknowledgement of name as name.ack.txt in the reports
// folder (or beside the drop), under a hidden temporary name first and
// then renamed into place.
func (s *SFTP) Ack(ctx context.Context, name string, report []byte) error {
	if err := sshclient.CheckName(name); err != nil {
		return err
	}
	dir := s.opt.ReportsDir
	if dir == "" {
		dir = s.opt.Dir
	}
	final := path.Join(dir, name+AckSuffix)
	var stale []string
	err := s.c.Do(ctx, "acknowledging "+name+" in "+dir, func(sc *sftp.Client) (err error) {
		for _, t := range stale {
			sc.Remove(t) // left by an attempt whose connection dropped
		}
		stale = stale[:0]
		if err := sc.MkdirAll(dir); err != nil {
			return fmt.Errorf("making %s: %w", dir, err)
		}
		tmp := path.Join(dir, sshclient.TempName(name+AckSuffix))
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
		if err := f.Chmod(safefile.Perm()); err != nil {
			f.Close()
			return fmt.Errorf("setting the mode of %s: %w", tmp, err)
		}
		if _, err := f.Write(report); err != nil {
			f.Close()
			return fmt.Errorf("writing %s: %w", tmp, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("writing %s: %w", tmp, err)
		}
		fi, err := sc.Stat(tmp)
		if err != nil {
			return fmt.Errorf("checking %s: %w", tmp, err)
		}
		if fi.Size() != int64(len(report)) {
			return sshclient.Permanent(fmt.Errorf("%s holds %d bytes, wrote %d", tmp, fi.Size(), len(report)))
		}
		if err := sshclient.Replace(sc, tmp, final); err != nil {
			return err
		}
		stale = stale[:0]
		return nil
	})
	return err
}

// Archive moves a taken file (and, in StableDone mode, its marker) into
// the archive folder, replacing an older file of the same name there. A
// file already gone from the inbox and present in the archive counts as
// archived. Without an archive folder it does nothing.
func (s *SFTP) Archive(ctx context.Context, name string) error {
	if err := sshclient.CheckName(name); err != nil {
		return err
	}
	if s.opt.ArchiveDir == "" {
		return nil
	}
	src := path.Join(s.opt.Dir, name)
	dst := path.Join(s.opt.ArchiveDir, name)
	return s.c.Do(ctx, "archiving "+src+" to "+s.opt.ArchiveDir, func(sc *sftp.Client) error {
		if err := sc.MkdirAll(s.opt.ArchiveDir); err != nil {
			return fmt.Errorf("making %s: %w", s.opt.ArchiveDir, err)
		}
		if s.opt.Stable == StableDone {
			// The marker goes first: a marker left behind would vouch for
			// the next upload of the same name before it is complete.
			marker := src + DoneSuffix
			if _, ok, err := sshclient.Exists(sc, marker); err != nil {
				return err
			} else if ok {
				if err := sshclient.Replace(sc, marker, dst+DoneSuffix); err != nil {
					return err
				}
			}
		}
		_, inInbox, err := sshclient.Exists(sc, src)
		if err != nil {
			return err
		}
		if !inInbox {
			if _, archived, err := sshclient.Exists(sc, dst); err != nil {
				return err
			} else if archived {
				return nil // archived already, by an earlier attempt or run
			}
			return sshclient.Permanent(fmt.Errorf("%s is neither in the inbox nor in the archive: %w", name, fs.ErrNotExist))
		}
		return sshclient.Replace(sc, src, dst)
	})
}
