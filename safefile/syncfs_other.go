//go:build !linux

package safefile

import (
	"io/fs"
	"os"
	"path/filepath"
)

// SyncFS flushes every file below dir, one by one.
func SyncFS(dir string) error {
	return filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		return f.Sync()
	})
}
