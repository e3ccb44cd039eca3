package safefile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesWholeOrNothing(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "f.txt")
	if err := WriteBytes(path, []byte("one")); err != nil {
		t.Fatal(err)
	}
	err := Write(path, func(w io.Writer) error {
		w.Write([]byte("half of two"))
		return errors.New("disk on fire")
	})
	if err == nil {
		t.Fatal("a failed fill succeeded")
	}
	got, _ := os.ReadFile(path)
	if string(got) != "one" {
		t.Errorf("after a failed write the file holds %q", got)
	}
	entries, _ := os.ReadDir(filepath.Dir(path))
	if len(entries) != 1 {
		t.Errorf("temporary files left behind: %d entries", len(entries))
	}
}

func TestCreateIsInvisibleUntilCommit(t *testing.T) {
	path := filepath.Join(t.TempDir(), "d.csv")
	f, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	f.Write([]byte("a,b\n"))
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("file visible before commit: %v", err)
	}
	if err := f.Commit(); err != nil {
		t.Fatal(err)
	}
	f.Abort() // after Commit: nothing
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "a,b\n" {
		t.Errorf("%q %v", got, err)
	}
	if err := f.Commit(); err == nil {
		t.Error("second commit succeeded")
	}
	g, _ := Create(filepath.Join(filepath.Dir(path), "e.csv"))
	g.Abort()
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Errorf("abort left %d entries", len(entries))
	}
}
