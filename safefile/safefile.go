// Package safefile writes files so that a reader sees the whole new file
// or none of it: written aside under a unique temporary name, synced,
// renamed into place, and the folder synced.
package safefile

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
)

// perm is the permission of every file written here; folders get the
// matching execute bits. Private by default: the files carepay writes hold
// bank account numbers and personal data.
var perm atomic.Uint32

func init() { perm.Store(0o600) }

// SetPerm sets the permission of the files written from now on (run.file_mode
// in config.toml). It must give the owner read and write and nothing to
// others; anything wider is refused.
func SetPerm(m os.FileMode) error {
	if err := CheckPerm(m); err != nil {
		return err
	}
	perm.Store(uint32(m))
	return nil
}

// CheckPerm says whether m may be used for carepay's files: 0600, or 0640
// for a team that reads them through a shared group; never wider.
func CheckPerm(m os.FileMode) error {
	if m&^0o640 != 0 || m&0o600 != 0o600 {
		return fmt.Errorf("%04o: want 0600, or 0640 for a team that shares a group (never wider: these files hold account numbers and personal data)", m)
	}
	return nil
}

// Perm returns the permission files are written with (0600 unless SetPerm
// said otherwise).
func Perm() os.FileMode { return os.FileMode(perm.Load()) }

// DirPerm returns the permission folders are created with: the file
// permission plus an execute bit for each class that may read (0700, 0750).
func DirPerm() os.FileMode {
	p := Perm()
	return p | (p&0o444)>>2
}

// MkdirAll creates dir and its missing parents with DirPerm.
func MkdirAll(dir string) error { return os.MkdirAll(dir, DirPerm()) }

// File is a file being written aside. Nothing appears at its path until
// Commit; Abort (or a crash) leaves the path as it was.
type File struct {
	path string
	f    *os.File
	w    *bufio.Writer
	done bool
}

// Create starts writing path aside, in the same folder.
func Create(path string) (*File, error) {
	dir := filepath.Dir(path)
	if err := MkdirAll(dir); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return &File{path: path, f: f, w: bufio.NewWriterSize(f, 64<<10)}, nil
}

// Write writes to the temporary file.
func (f *File) Write(p []byte) (int, error) { return f.w.Write(p) }

// Commit flushes, syncs and renames the file into place.
func (f *File) Commit() error {
	if f.done {
		return fmt.Errorf("writing %s: already finished", f.path)
	}
	f.done = true
	tmp := f.f.Name()
	err := f.w.Flush()
	if err == nil {
		err = f.f.Sync()
	}
	if cerr := f.f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(tmp, Perm())
	}
	if err == nil {
		err = os.Rename(tmp, f.path)
	}
	if err != nil {
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", f.path, err)
	}
	return SyncDir(filepath.Dir(f.path))
}

// Abort removes the temporary file; calling it after Commit does nothing.
func (f *File) Abort() {
	if f.done {
		return
	}
	f.done = true
	f.f.Close()
	os.Remove(f.f.Name())
}

// Write creates or replaces path with what fill writes. On any error the
// temporary file is removed and path is left as it was.
func Write(path string, fill func(w io.Writer) error) error {
	f, err := Create(path)
	if err != nil {
		return err
	}
	if err := fill(f); err != nil {
		f.Abort()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return f.Commit()
}

// WriteBytes writes b to path with Write.
func WriteBytes(path string, b []byte) error {
	return Write(path, func(w io.Writer) error {
		_, err := w.Write(b)
		return err
	})
}

// SyncDir flushes a folder's entries (renames, creations) to disk.
func SyncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("syncing folder %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("syncing folder %s: %w", dir, err)
	}
	return nil
}

// Folder is a folder of many files written aside: files go into a hidden
// staging folder, and Commit syncs them and renames the folder into place,
// replacing what was there. A crash leaves the old folder or the new one,
// never a part of it (stale staging folders are removed by the next
// NewFolder for the same path).
type Folder struct {
	path, staging string
}

// NewFolder starts writing the folder path aside.
func NewFolder(path string) (*Folder, error) {
	parent, base := filepath.Dir(path), filepath.Base(path)
	if err := MkdirAll(parent); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	stale, _ := filepath.Glob(filepath.Join(parent, "."+base+".tmp-*"))
	for _, s := range stale {
		os.RemoveAll(s)
	}
	staging, err := os.MkdirTemp(parent, "."+base+".tmp-")
	if err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Chmod(staging, DirPerm()); err != nil {
		return nil, fmt.Errorf("writing %s: %w", path, err)
	}
	return &Folder{path: path, staging: staging}, nil
}

// Path returns where a file of the folder is written before Commit.
func (f *Folder) Path(name string) string { return filepath.Join(f.staging, name) }

// Commit syncs the staged files and puts the folder in place.
func (f *Folder) Commit() error {
	if err := SyncFS(f.staging); err != nil {
		return err
	}
	if err := os.RemoveAll(f.path); err != nil {
		return fmt.Errorf("replacing %s: %w", f.path, err)
	}
	if err := os.Rename(f.staging, f.path); err != nil {
		return fmt.Errorf("renaming into %s: %w", f.path, err)
	}
	return SyncDir(filepath.Dir(f.path))
}

// Abort removes the staged files.
func (f *Folder) Abort() { os.RemoveAll(f.staging) }

// RemoveStale deletes the temporary files that writes into dir (and its
// subfolders) left behind when a process was killed mid-write.
func RemoveStale(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if os.IsNotExist(err) {
				return nil
			}
			return err
		}
		name := d.Name()
		if path != dir && strings.HasPrefix(name, ".") && strings.Contains(name, ".tmp-") {
			if err := os.RemoveAll(path); err != nil {
				return fmt.Errorf("removing %s: %w", path, err)
			}
			if d.IsDir() {
				return filepath.SkipDir
			}
		}
		return nil
	})
}

// SHA256 returns the hex SHA-256 of a file's bytes.
func SHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("hashing %s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
