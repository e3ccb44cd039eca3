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

// TestFilesArePrivate checks the modes of what safefile writes: files 0600
// in folders 0700 by default, 0640 in 0750 when a team shares a group, and
// nothing wider accepted.
func TestFilesArePrivate(t *testing.T) {
	defer SetPerm(0o600)
	for _, tt := range []struct {
		name          string
		perm, wantDir os.FileMode
	}{
		{"default_owner_only", 0o600, 0o700},
		{"shared_group_reads", 0o640, 0o750},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if err := SetPerm(tt.perm); err != nil {
				t.Fatal(err)
			}
			root := t.TempDir()
			file := filepath.Join(root, "run", "payments.ach")
			if err := WriteBytes(file, []byte("101 ...")); err != nil {
				t.Fatal(err)
			}
			folder, err := NewFolder(filepath.Join(root, "run", "letters"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(folder.Path("a.pdf"), []byte("%PDF"), Perm()); err != nil {
				t.Fatal(err)
			}
			if err := folder.Commit(); err != nil {
				t.Fatal(err)
			}
			for path, want := range map[string]os.FileMode{
				file:                                  tt.perm,
				filepath.Join(root, "run"):            tt.wantDir,
				filepath.Join(root, "run", "letters"): tt.wantDir,
				filepath.Join(root, "run", "letters", "a.pdf"): tt.perm,
			} {
				fi, err := os.Stat(path)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != want {
					t.Errorf("%s: mode %04o, want %04o", path, got, want)
				}
			}
		})
	}
	for _, wide := range []os.FileMode{0o644, 0o604, 0o660, 0o400, 0o700} {
		if err := SetPerm(wide); err == nil {
			t.Errorf("SetPerm(%04o) accepted", wide)
		}
	}
	if Perm() != 0o640 {
		t.Errorf("a refused SetPerm changed the mode to %04o", Perm())
	}
}
