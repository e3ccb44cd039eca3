package sshclient

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"strings"

	"github.com/pkg/sftp"
)

// CheckName refuses a remote file name that would leave its folder or
// name no file: empty, "." or "..", containing a slash or a backslash
// (which covers absolute paths and "../"), or a NUL or other control
// character. The error is marked Permanent.
func CheckName(name string) error {
	bad := ""
	switch {
	case name == "":
		bad = "it is empty"
	case name == "." || name == "..":
		bad = "it names a folder"
	case strings.ContainsAny(name, `/\`):
		bad = "it holds a path separator and would leave the folder"
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		bad = "it holds a control character"
	}
	if bad != "" {
		return Permanent(fmt.Errorf("refusing remote file name %q: %s", name, bad))
	}
	return nil
}

// TempName returns a hidden name to write name under before renaming it
// into place: ".name.tmp-" and 16 random hex digits.
func TempName(name string) string {
	var b [8]byte
	rand.Read(b[:])
	return "." + name + ".tmp-" + hex.EncodeToString(b[:])
}

// PosixRenameExtension is the SFTP extension that renames over an
// existing file in one step.
const PosixRenameExtension = "posix-rename@openssh.com"

// Replace renames from to to, replacing to if it exists: in one step with
// posix-rename if the server offers it, else by removing to and then
// renaming (a reader may then briefly find no file, never a partial one).
func Replace(sc *sftp.Client, from, to string) error {
	if _, ok := sc.HasExtension(PosixRenameExtension); ok {
		if err := sc.PosixRename(from, to); err != nil {
			return fmt.Errorf("renaming %s to %s: %w", from, to, err)
		}
		return nil
	}
	if err := sc.Remove(to); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("replacing %s: %w", to, err)
	}
	if err := sc.Rename(from, to); err != nil {
		return fmt.Errorf("renaming %s to %s: %w", from, to, err)
	}
	return nil
}

// Exists stats p: whether it exists, and its details if it does. Any error
// other than "no such file" is returned.
func Exists(sc *sftp.Client, p string) (fs.FileInfo, bool, error) {
	fi, err := sc.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("looking at %s: %w", p, err)
	}
	return fi, true, nil
}
