package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/pkg/sftp"

	"carepay/safefile"
	"carepay/sshclient"
)

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
// held files, names not matching Pattern, and files that may still be
// uploading; in StableDone mode it also leaves out the markers. Fetch
// resumes where it stopped when the connection drops mid-file, so the
// writer sees every byte once, and fails with ErrChanged if the file
// changes meanwhile. Ack writes "<name>.ack.txt" under a hidden temporary
// name and renames it into place. Archive reads the file again and moves it
// (and its marker) to ArchiveDir only if it holds the bytes the run
// decided, and succeeds if that was already done.
type SFTP struct {
	opt SFTPOptions
	c   *sshclient.Client

	mu      sync.Mutex
	waiting []Waiting
	fetched map[string]fetched
}

var _ Source = (*SFTP)(nil)

// fetched is what Fetch saw of a file: its hash and its size and time.
type fetched struct {
	sha string
	st  stat
}

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
		problems = append(problems, fmt.Sprintf("stable %q: want %q or %q (a server's clock cannot be trusted for %q)", opt.Stable, StableSize, StableDone, StableAge))
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
	return &SFTP{opt: opt, c: c, fetched: map[string]fetched{}}, nil
}

// Name identifies the source in the ledger and in reports.
func (s *SFTP) Name() string { return s.opt.Name }

// Close ends the connection to the server, if one is open.
func (s *SFTP) Close() error { return s.c.Close() }

// Waiting returns the files the last List left for a later run.
func (s *SFTP) Waiting() []Waiting {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Waiting(nil), s.waiting...)
}

// List returns the files of the inbox that are completely uploaded, in
// name order.
func (s *SFTP) List(ctx context.Context) ([]string, error) {
	first, markers, err := s.look(ctx)
	if err != nil {
		return nil, err
	}
	var names []string
	var waiting []Waiting
	switch s.opt.Stable {
	case StableDone:
		for n := range first {
			if markers[n+DoneSuffix] {
				names = append(names, n)
			} else {
				waiting = append(waiting, Waiting{n, "no " + n + DoneSuffix + " marker yet"})
			}
		}
	default:
		if len(first) == 0 {
			break
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
			if b, ok := second[n]; ok && a.same(b) {
				names = append(names, n)
			} else {
				waiting = append(waiting, Waiting{n, fmt.Sprintf("still uploading: its size or time changed within %s", s.opt.StableWait)})
			}
		}
	}
	sort.Strings(names)
	sort.Slice(waiting, func(i, j int) bool { return waiting[i].Name < waiting[j].Name })
	s.mu.Lock()
	s.waiting = waiting
	s.mu.Unlock()
	return names, nil
}

// look lists the inbox once: the candidate files, and the names of every
// regular file (to find markers).
func (s *SFTP) look(ctx context.Context) (map[string]stat, map[string]bool, error) {
	var entries []os.FileInfo
	err := s.c.Do(ctx, "listing "+s.opt.Dir, func(sc *sftp.Client) error {
		var err error
		entries, err = sc.ReadDirContext(ctx, s.opt.Dir)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	files := map[string]stat{}
	regular := map[string]bool{}
	for _, e := range entries {
		n := e.Name()
		if !e.Mode().IsRegular() || sshclient.CheckName(n) != nil {
			continue
		}
		regular[n] = true
		if notInput(n) {
			continue
		}
		if s.opt.Stable == StableDone && strings.HasSuffix(n, DoneSuffix) {
			continue
		}
		if ok, _ := path.Match(s.opt.Pattern, n); !ok {
			continue
		}
		files[n] = statOf(e)
	}
	return files, regular, nil
}

// Fetch copies the named file of the inbox into w. If the connection drops
// part-way, it reconnects and goes on from the byte it had reached. If the
// file's size or time changes meanwhile, it fails with ErrChanged.
func (s *SFTP) Fetch(ctx context.Context, name string, w io.Writer) error {
	if err := sshclient.CheckName(name); err != nil {
		return err
	}
	p := path.Join(s.opt.Dir, name)
	var first *stat
	h := sha256.New()
	cw := &countWriter{w: io.MultiWriter(w, h)}
	err := s.c.Do(ctx, "fetching "+p, func(sc *sftp.Client) error {
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
		if first == nil {
			st := statOf(fi)
			first = &st
		} else if !first.same(statOf(fi)) {
			return changed("%d bytes at reconnecting, was %d", fi.Size(), first.size)
		}
		if cw.n > 0 {
			if _, err := f.Seek(cw.n, io.SeekStart); err != nil {
				return err
			}
		}
		if _, err := io.Copy(cw, f); err != nil {
			return err
		}
		after, err := f.Stat()
		if err != nil {
			return err
		}
		if cw.n != first.size || !first.same(statOf(after)) {
			return changed("read %d bytes; %d bytes now, was %d", cw.n, after.Size(), first.size)
		}
		// The name must still be this file: not renamed over meanwhile.
		if now, err := sc.Stat(p); err != nil || !first.same(statOf(now)) {
			return changed("another file took its name")
		}
		return nil
	})
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.fetched[name] = fetched{sha: hex.EncodeToString(h.Sum(nil)), st: *first}
	s.mu.Unlock()
	return nil
}

// changed is ErrChanged while being read, which no reconnecting cures.
func changed(format string, args ...any) error {
	return sshclient.Permanent(fmt.Errorf("%w while being read: %s", ErrChanged, fmt.Sprintf(format, args...)))
}

// hashRemote reads the file at p and returns its SHA-256 and what it saw
// of it; ErrChanged if it changed while being read.
func hashRemote(sc *sftp.Client, p string) (string, stat, error) {
	f, err := sc.Open(p)
	if err != nil {
		return "", stat{}, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", stat{}, err
	}
	if !fi.Mode().IsRegular() {
		return "", stat{}, sshclient.Permanent(errors.New("not a regular file"))
	}
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", stat{}, err
	}
	after, err := f.Stat()
	if err != nil {
		return "", stat{}, err
	}
	if st := statOf(fi); n != st.size || !st.same(statOf(after)) {
		return "", stat{}, changed("read %d bytes; %d bytes now, was %d", n, after.Size(), st.size)
	}
	return hex.EncodeToString(h.Sum(nil)), statOf(after), nil
}

// Verify checks that name still holds the bytes whose SHA-256 is sha. A
// file this source fetched with that hash is checked by its size and time;
// any other is read again.
func (s *SFTP) Verify(ctx context.Context, name, sha string) error {
	if err := sshclient.CheckName(name); err != nil {
		return err
	}
	p := path.Join(s.opt.Dir, name)
	s.mu.Lock()
	seen, ok := s.fetched[name]
	s.mu.Unlock()
	return s.c.Do(ctx, "verifying "+p, func(sc *sftp.Client) error {
		if ok && seen.sha == sha {
			fi, there, err := sshclient.Exists(sc, p)
			if err != nil {
				return err
			}
			if !there {
				return sshclient.Permanent(fmt.Errorf("%s: %w: it is no longer in %s", name, ErrChanged, s.opt.Dir))
			}
			if !seen.st.same(statOf(fi)) {
				return sshclient.Permanent(fmt.Errorf("%s: %w: %d bytes now, was %d", name, ErrChanged, fi.Size(), seen.st.size))
			}
			return nil
		}
		got, _, err := hashRemote(sc, p)
		if errors.Is(err, fs.ErrNotExist) {
			return sshclient.Permanent(fmt.Errorf("%s: %w: it is no longer in %s", name, ErrChanged, s.opt.Dir))
		}
		if err != nil {
			return err
		}
		if got != sha {
			return sshclient.Permanent(fmt.Errorf("%s: %w: SHA-256 %s, was %s", name, ErrChanged, short(got), short(sha)))
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
// the archive folder, replacing an older file of the same name there, if
// the file still holds the bytes whose SHA-256 is sha: it is read again to
// make sure. A file that changed is not archived: it is renamed
// "<name>.changed" in the inbox, its marker removed, and Archive returns a
// *ChangedError. A file already gone from the inbox and present in the
// archive with those bytes counts as archived. The archived file gets the
// mode of the files carepay writes (safefile.Perm), whatever mode it was
// uploaded with. Without an archive folder a file that did not change
// stays where it is.
func (s *SFTP) Archive(ctx context.Context, name, sha string) error {
	if err := sshclient.CheckName(name); err != nil {
		return err
	}
	src := path.Join(s.opt.Dir, name)
	dst := path.Join(s.opt.ArchiveDir, name)
	return s.c.Do(ctx, "archiving "+src, func(sc *sftp.Client) error {
		got, seen, err := hashRemote(sc, src)
		if errors.Is(err, fs.ErrNotExist) {
			return s.archivedBefore(sc, name, sha)
		}
		if errors.Is(err, ErrChanged) {
			return s.hold(sc, name, src, "it is still being written")
		}
		if err != nil {
			return err
		}
		if got != sha {
			return s.hold(sc, name, src, fmt.Sprintf("SHA-256 %s, was %s", short(got), short(sha)))
		}
		if s.opt.ArchiveDir == "" {
			return nil
		}
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
		if err := sshclient.Replace(sc, src, dst); err != nil {
			return err
		}
		// Written to between the check and the move: bring it back, held.
		fi, err := sc.Stat(dst)
		if err != nil {
			return fmt.Errorf("checking %s: %w", dst, err)
		}
		if !seen.same(statOf(fi)) {
			return s.hold(sc, name, dst, "it was written to while being archived")
		}
		return privateRemote(sc, dst)
	})
}

// privateRemote gives a file archived on the server the mode of the files
// carepay writes (safefile.Perm): a drop holds account numbers, and the
// uploader's mode may let anyone on the server read it.
func privateRemote(sc *sftp.Client, p string) error {
	if err := sc.Chmod(p, safefile.Perm()); err != nil {
		return fmt.Errorf("making %s private: %w", p, err)
	}
	return nil
}

// archivedBefore answers Archive for a file no longer in the inbox: moved
// by an earlier attempt or run (to the archive, or held), or gone.
func (s *SFTP) archivedBefore(sc *sftp.Client, name, sha string) error {
	if s.opt.ArchiveDir != "" {
		dst := path.Join(s.opt.ArchiveDir, name)
		got, _, err := hashRemote(sc, dst)
		if err == nil && got == sha {
			// Archived already, by an earlier attempt or run, perhaps
			// before it was made private.
			return privateRemote(sc, dst)
		}
		if err != nil && !errors.Is(err, fs.ErrNotExist) && !errors.Is(err, ErrChanged) {
			return err
		}
	}
	held := ""
	for i := 1; ; i++ {
		h := heldName(name, i)
		_, ok, err := sshclient.Exists(sc, path.Join(s.opt.Dir, h))
		if err != nil {
			return err
		}
		if !ok {
			break
		}
		held = h
	}
	if held != "" {
		return sshclient.Permanent(&ChangedError{Name: name, HeldAs: held, Detail: "held by an earlier attempt"})
	}
	return sshclient.Permanent(fmt.Errorf("%s is neither in the inbox nor in the archive: %w", name, fs.ErrNotExist))
}

// hold renames the changed file at p to a free "<name>.changed" name in
// the inbox and removes its marker, which must not vouch for the next
// upload of the name.
func (s *SFTP) hold(sc *sftp.Client, name, p, detail string) error {
	e := &ChangedError{Name: name, Detail: detail}
	for i := 1; ; i++ {
		h := heldName(name, i)
		dst := path.Join(s.opt.Dir, h)
		if _, ok, err := sshclient.Exists(sc, dst); err != nil {
			return err
		} else if ok {
			continue
		}
		if err := sc.Rename(p, dst); err != nil {
			return fmt.Errorf("holding %s as %s: %w", name, h, err)
		}
		e.HeldAs = h
		break
	}
	if s.opt.Stable == StableDone {
		if err := sc.Remove(path.Join(s.opt.Dir, name+DoneSuffix)); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("holding %s: removing its marker: %w", name, err)
		}
	}
	return sshclient.Permanent(e)
}
