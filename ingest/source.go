package ingest

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"carepay/safefile"
)

// Source is a place drops come from. List gives the files waiting, in name
// order, leaving out files that may still be being written; Fetch copies
// one; Verify tells whether it still holds the bytes a run read; Ack hands
// its acknowledgement back to whoever dropped it; Archive moves it out of
// the way once the ledger has it, and only if it still holds the bytes the
// ledger has.
type Source interface {
	Name() string
	List(ctx context.Context) ([]string, error)
	// Fetch fails with ErrChanged when the file changed while it was
	// being read.
	Fetch(ctx context.Context, name string, w io.Writer) error
	// Verify fails with ErrChanged when name no longer holds the bytes
	// whose SHA-256 (hex) is sha.
	Verify(ctx context.Context, name, sha string) error
	Ack(ctx context.Context, name string, report []byte) error
	// Archive fails with a *ChangedError, and archives nothing, when
	// name no longer holds the bytes whose SHA-256 is sha.
	Archive(ctx context.Context, name, sha string) error
}

// Rules that tell when a dropped file is completely written.
const (
	// StableAge takes a file last modified at least StableWait ago. It is
	// the default of a folder source.
	StableAge = "age"
	// StableSize takes a file when its size and modification time are
	// the same in two listings StableWait apart. It is the default of an
	// SFTP source.
	StableSize = "size"
	// StableDone takes a file when a marker file "<name>.done" is beside
	// it.
	StableDone = "done"
)

// DoneSuffix ends the name of the marker that says a file is completely
// written, in StableDone mode.
const DoneSuffix = ".done"

// DefaultStableWait is the StableWait of StableAge and StableSize when none
// is configured.
const DefaultStableWait = 5 * time.Second

// AckSuffix ends the name of an acknowledgement file; such files in a drop
// folder are never taken as input.
const AckSuffix = ".ack.txt"

// ChangedSuffix ends the name a file is given, beside the drop, when it
// changed after a run decided its rows (see ChangedError); such files are
// never taken as input.
const ChangedSuffix = ".changed"

// ErrChanged says that a file does not hold the bytes a run read: it was
// still being written, or it was replaced.
var ErrChanged = errors.New("the file changed")

// ChangedError is returned by Archive when the file no longer holds the
// bytes whose rows the ledger has. The file is not archived: taken again
// whole, its first rows would be decided twice; left out, the rest would
// be lost. So it is held under HeldAs beside the drop, where no run takes
// it, for the operator to split.
type ChangedError struct {
	Name string
	// HeldAs is the name the file now has in the drop folder, or "" when
	// it was left as it is (a folder read in place) or is gone.
	HeldAs string
	// Detail says what differs.
	Detail string
}

// Error says which file changed, how, and where it is held.
func (e *ChangedError) Error() string {
	s := fmt.Sprintf("%s changed after it was read (%s): not archived", e.Name, e.Detail)
	if e.HeldAs != "" {
		s += "; held as " + e.HeldAs
	}
	return s
}

// Unwrap makes errors.Is(err, ErrChanged) true.
func (e *ChangedError) Unwrap() error { return ErrChanged }

// Waiting is a file a listing left for a later run because it may still
// be being written.
type Waiting struct {
	Name string
	Why  string
}

// heldName is the i-th name (from 1) a changed file may be held under.
func heldName(name string, i int) string {
	if i == 1 {
		return name + ChangedSuffix
	}
	return name + "." + strconv.Itoa(i) + ChangedSuffix
}

// notInput reports whether a name in a drop folder is never input:
// hidden files, acknowledgements and held files.
func notInput(name string) bool {
	return strings.HasPrefix(name, ".") || strings.HasSuffix(name, AckSuffix) || strings.HasSuffix(name, ChangedSuffix)
}

// Folder is a drop folder on the local disk.
//
// A file is taken when it is completely written by the Stable rule: by
// default (StableAge) when it was last modified at least StableWait ago.
// Fetch fails with ErrChanged if the file changes while it is read; Archive
// moves a file only if it still holds the bytes the run decided.
type Folder struct {
	SourceName string
	Dir        string
	ArchiveDir string // empty: taken files stay where they are
	ReportsDir string // empty: acknowledgements go beside the drop
	// ReadOnly leaves the folder untouched (the --inbox mode): no archive,
	// no acknowledgements written there. The Stable rule applies all the
	// same: a folder named on the command line may still be being filled,
	// and a file taken half-written would have its first rows decided now
	// and, once complete, be taken again whole.
	ReadOnly bool
	// Stable is StableAge (the default), StableSize or StableDone.
	Stable string
	// StableWait is how long ago a file must have last changed
	// (StableAge), or the time between the two listings (StableSize);
	// 0 means DefaultStableWait.
	StableWait time.Duration
	// Now tells the time for StableAge (nil: time.Now).
	Now func() time.Time

	mu      sync.Mutex
	waiting []Waiting
}

// Name identifies the source in the ledger and in reports.
func (f *Folder) Name() string { return f.SourceName }

// Waiting returns the files the last List left for a later run.
func (f *Folder) Waiting() []Waiting {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Waiting(nil), f.waiting...)
}

// stat is what one look saw of a file.
type stat struct {
	size  int64
	mtime time.Time
}

func statOf(fi os.FileInfo) stat { return stat{size: fi.Size(), mtime: fi.ModTime()} }

func (a stat) same(b stat) bool { return a.size == b.size && a.mtime.Equal(b.mtime) }

// List returns the regular files of the folder that are completely
// written, in name order, leaving out hidden files, acknowledgements, held
// files and, in StableDone mode, the markers.
func (f *Folder) List(ctx context.Context) ([]string, error) {
	mode, wait, err := f.rule()
	if err != nil {
		return nil, err
	}
	first, markers, err := f.look()
	if err != nil {
		return nil, err
	}
	var names []string
	var waiting []Waiting
	switch mode {
	case StableDone:
		for n := range first {
			if markers[n+DoneSuffix] {
				names = append(names, n)
			} else {
				waiting = append(waiting, Waiting{n, "no " + n + DoneSuffix + " marker yet"})
			}
		}
	case StableAge:
		now := time.Now
		if f.Now != nil {
			now = f.Now
		}
		t := now()
		for n, s := range first {
			if age := t.Sub(s.mtime); age >= wait {
				names = append(names, n)
			} else {
				waiting = append(waiting, Waiting{n, fmt.Sprintf("modified %s ago, less than the %s a file must rest", age.Round(time.Millisecond), wait)})
			}
		}
	case StableSize:
		if len(first) > 0 {
			tm := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				tm.Stop()
				return nil, fmt.Errorf("listing %s: %w", f.Dir, ctx.Err())
			case <-tm.C:
			}
			second, _, err := f.look()
			if err != nil {
				return nil, err
			}
			for n, a := range first {
				if b, ok := second[n]; ok && a.same(b) {
					names = append(names, n)
				} else {
					waiting = append(waiting, Waiting{n, fmt.Sprintf("still changing: its size or time changed within %s", wait)})
				}
			}
		}
	}
	sort.Strings(names)
	sort.Slice(waiting, func(i, j int) bool { return waiting[i].Name < waiting[j].Name })
	f.mu.Lock()
	f.waiting = waiting
	f.mu.Unlock()
	return names, nil
}

// rule returns the stability rule in force and its wait.
func (f *Folder) rule() (string, time.Duration, error) {
	wait := f.StableWait
	if wait < 0 {
		return "", 0, fmt.Errorf("folder source %s: stable wait %s is negative", f.SourceName, wait)
	}
	if wait == 0 {
		wait = DefaultStableWait
	}
	switch f.Stable {
	case "":
		return StableAge, wait, nil
	case StableAge, StableSize, StableDone:
		return f.Stable, wait, nil
	}
	return "", 0, fmt.Errorf("folder source %s: stable %q: want %q, %q or %q", f.SourceName, f.Stable, StableAge, StableSize, StableDone)
}

// look reads the folder once: the candidate files, and the names of every
// regular file (to find markers).
func (f *Folder) look() (map[string]stat, map[string]bool, error) {
	entries, err := os.ReadDir(f.Dir)
	if err != nil {
		return nil, nil, fmt.Errorf("listing %s: %w", f.Dir, err)
	}
	files := map[string]stat{}
	regular := map[string]bool{}
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() {
			continue
		}
		regular[n] = true
		if notInput(n) || (f.Stable == StableDone && strings.HasSuffix(n, DoneSuffix)) {
			continue
		}
		fi, err := e.Info()
		if errors.Is(err, os.ErrNotExist) {
			continue // gone since the listing
		}
		if err != nil {
			return nil, nil, fmt.Errorf("listing %s: %w", f.Dir, err)
		}
		files[n] = statOf(fi)
	}
	return files, regular, nil
}

// path refuses names that would leave the folder.
func (f *Folder) path(name string) (string, error) {
	if name == "" || name != filepath.Base(name) || name == ".." || name == "." {
		return "", fmt.Errorf("refusing file name %q: it leaves the drop folder", name)
	}
	return filepath.Join(f.Dir, name), nil
}

// Fetch copies the named file into w. It fails with ErrChanged if the
// file's size or modification time changed while it was read, or if
// another file took its name meanwhile.
func (f *Folder) Fetch(ctx context.Context, name string, w io.Writer) error {
	p, err := f.path(name)
	if err != nil {
		return err
	}
	_, err = copyChecked(p, w)
	if err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	return nil
}

// copyChecked copies the file at p into w and returns what it saw of the
// file; ErrChanged if the file changed during the copy.
func copyChecked(p string, w io.Writer) (stat, error) {
	in, err := os.Open(p)
	if err != nil {
		return stat{}, err
	}
	defer in.Close()
	before, err := in.Stat()
	if err != nil {
		return stat{}, err
	}
	if !before.Mode().IsRegular() {
		return stat{}, errors.New("not a regular file")
	}
	n, err := io.Copy(w, in)
	if err != nil {
		return stat{}, err
	}
	after, err := in.Stat()
	if err != nil {
		return stat{}, err
	}
	b, a := statOf(before), statOf(after)
	if !b.same(a) || n != a.size {
		return stat{}, fmt.Errorf("%w while being read: %d bytes read, %d bytes now (was %d)", ErrChanged, n, a.size, b.size)
	}
	// The name must still be this file: not renamed over meanwhile.
	if now, err := os.Stat(p); err != nil || !os.SameFile(before, now) {
		return stat{}, fmt.Errorf("%w while being read: another file took its name", ErrChanged)
	}
	return a, nil
}

// hashChecked returns the SHA-256 of the file at p and what it saw of it.
func hashChecked(p string) (string, stat, error) {
	h := sha256.New()
	st, err := copyChecked(p, h)
	if err != nil {
		return "", stat{}, err
	}
	return hex.EncodeToString(h.Sum(nil)), st, nil
}

// Verify checks that name still holds the bytes whose SHA-256 is sha, by
// reading it again.
func (f *Folder) Verify(ctx context.Context, name, sha string) error {
	p, err := f.path(name)
	if err != nil {
		return err
	}
	got, _, err := hashChecked(p)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return fmt.Errorf("%s: %w: it is no longer in %s", name, ErrChanged, f.Dir)
	case err != nil:
		return fmt.Errorf("verifying %s: %w", name, err)
	case got != sha:
		return fmt.Errorf("%s: %w: SHA-256 %s, was %s", name, ErrChanged, short(got), short(sha))
	}
	return nil
}

func short(sha string) string {
	if len(sha) > 12 {
		return sha[:12]
	}
	return sha
}

// Ack writes the acknowledgement of name as name.ack.txt in the reports
// folder (or beside the drop).
func (f *Folder) Ack(ctx context.Context, name string, report []byte) error {
	if _, err := f.path(name); err != nil {
		return err
	}
	if f.ReadOnly {
		return nil
	}
	dir := f.ReportsDir
	if dir == "" {
		dir = f.Dir
	}
	return safefile.WriteBytes(filepath.Join(dir, name+AckSuffix), report)
}

// Archive moves a taken file into the archive folder, if it still holds
// the bytes whose SHA-256 is sha; in StableDone mode its marker goes too.
// The archived file gets the mode of the files carepay writes
// (safefile.Perm), whatever mode it was uploaded with.
//
// A file that changed is not archived: it is renamed "<name>.changed"
// beside the drop (see ChangedError) and Archive returns a *ChangedError.
// A writer that still has it open writes on into the held file. Read-only
// folders are never changed: a changed file is only reported. Without an
// archive folder a file that did not change stays where it is. A file
// already gone from the drop and present in the archive counts as
// archived.
func (f *Folder) Archive(ctx context.Context, name, sha string) error {
	p, err := f.path(name)
	if err != nil {
		return err
	}
	got, seen, err := hashChecked(p)
	if errors.Is(err, os.ErrNotExist) {
		return f.archivedBefore(name, sha)
	}
	if err != nil && !errors.Is(err, ErrChanged) {
		return fmt.Errorf("archiving %s: %w", name, err)
	}
	if err != nil || got != sha {
		detail := "it is still being written"
		if err == nil {
			detail = fmt.Sprintf("SHA-256 %s, was %s", short(got), short(sha))
		}
		return f.hold(name, p, detail)
	}
	if f.ReadOnly || f.ArchiveDir == "" {
		return nil
	}
	if err := safefile.MkdirAll(f.ArchiveDir); err != nil {
		return fmt.Errorf("archiving %s: %w", name, err)
	}
	dst := filepath.Join(f.ArchiveDir, name)
	if f.Stable == StableDone {
		// The marker goes first: a marker left behind would vouch for the
		// next file of the same name before it is complete.
		if err := os.Rename(p+DoneSuffix, dst+DoneSuffix); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("archiving %s: %w", name+DoneSuffix, err)
		}
	}
	if err := os.Rename(p, dst); err != nil {
		return fmt.Errorf("archiving %s: %w", name, err)
	}
	// Written to between the check and the move: bring it back, held.
	if fi, err := os.Stat(dst); err != nil {
		return fmt.Errorf("archiving %s: %w", name, err)
	} else if !statOf(fi).same(seen) {
		return f.hold(name, dst, "it was written to while being archived")
	}
	if err := privateArchived(dst); err != nil {
		return fmt.Errorf("archiving %s: %w", name, err)
	}
	return safefile.SyncDir(f.ArchiveDir)
}

// privateArchived gives an archived file the mode of the files carepay
// writes (safefile.Perm): a drop holds account numbers, and the uploader's
// mode may let anyone read it.
func privateArchived(p string) error {
	if err := os.Chmod(p, safefile.Perm()); err != nil {
		return fmt.Errorf("making %s private: %w", filepath.Base(p), err)
	}
	return nil
}

// archivedBefore answers Archive for a file no longer in the drop: moved
// by an earlier attempt (to the archive, or held), or gone.
func (f *Folder) archivedBefore(name, sha string) error {
	if f.ReadOnly {
		return nil // nothing to move; the bytes read are in the ledger
	}
	if f.ArchiveDir != "" {
		dst := filepath.Join(f.ArchiveDir, name)
		if got, _, err := hashChecked(dst); err == nil && got == sha {
			// Archived already by a run that stopped before recording it,
			// perhaps before making it private.
			return privateArchived(dst)
		}
	}
	held := ""
	for i := 1; ; i++ {
		h := heldName(name, i)
		if _, err := os.Lstat(filepath.Join(f.Dir, h)); err != nil {
			break
		}
		held = h
	}
	if held != "" {
		return &ChangedError{Name: name, HeldAs: held, Detail: "held by an earlier attempt"}
	}
	return fmt.Errorf("archiving %s: it is neither in %s nor in the archive: %w", name, f.Dir, os.ErrNotExist)
}

// hold renames the changed file at p to a free "<name>.changed" name in
// the drop folder (and drops its marker, which must not vouch for the
// next file of the name), unless the folder is read-only.
func (f *Folder) hold(name, p, detail string) error {
	e := &ChangedError{Name: name, Detail: detail}
	if f.ReadOnly {
		return e
	}
	for i := 1; ; i++ {
		h := heldName(name, i)
		dst := filepath.Join(f.Dir, h)
		if _, err := os.Lstat(dst); err == nil {
			continue
		} else if !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("holding %s: %w", name, err)
		}
		if err := os.Rename(p, dst); err != nil {
			return fmt.Errorf("holding %s as %s: %w", name, h, err)
		}
		e.HeldAs = h
		break
	}
	if f.Stable == StableDone {
		if err := os.Remove(filepath.Join(f.Dir, name+DoneSuffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("holding %s: removing its marker: %w", name, err)
		}
	}
	if err := safefile.SyncDir(f.Dir); err != nil {
		return err
	}
	return e
}
