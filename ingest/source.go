package ingest

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"carepay/safefile"
)

// Source is a place drops come from. List gives the files waiting, in name
// order; Fetch copies one; Ack hands its acknowledgement back to whoever
// dropped it; Archive moves it out of the way once the ledger has it.
type Source interface {
	Name() string
	List(ctx context.Context) ([]string, error)
	Fetch(ctx context.Context, name string, w io.Writer) error
	Ack(ctx context.Context, name string, report []byte) error
	Archive(ctx context.Context, name string) error
}

// AckSuffix ends the name of an acknowledgement file; such files in a drop
// folder are never taken as input.
const AckSuffix = ".ack.txt"

// Folder is a drop folder on the local disk.
type Folder struct {
	SourceName string
	Dir        string
	ArchiveDir string // empty: taken files stay where they are
	ReportsDir string // empty: acknowledgements go beside the drop
	// ReadOnly leaves the folder untouched (the --inbox mode): no archive,
	// no acknowledgements written there.
	ReadOnly bool
}

// Name identifies the source in the ledger and in reports.
func (f *Folder) Name() string { return f.SourceName }

// List returns the regular files of the folder in name order, leaving out
// hidden files and acknowledgements.
func (f *Folder) List(ctx context.Context) ([]string, error) {
	entries, err := os.ReadDir(f.Dir)
	if err != nil {
		return nil, fmt.Errorf("listing %s: %w", f.Dir, err)
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if !e.Type().IsRegular() || strings.HasPrefix(n, ".") || strings.HasSuffix(n, AckSuffix) {
			continue
		}
		names = append(names, n)
	}
	sort.Strings(names)
	return names, nil
}

// path refuses names that would leave the folder.
func (f *Folder) path(name string) (string, error) {
	if name == "" || name != filepath.Base(name) || name == ".." || name == "." {
		return "", fmt.Errorf("refusing file name %q: it leaves the drop folder", name)
	}
	return filepath.Join(f.Dir, name), nil
}

// Fetch copies the named file into w.
func (f *Folder) Fetch(ctx context.Context, name string, w io.Writer) error {
	p, err := f.path(name)
	if err != nil {
		return err
	}
	in, err := os.Open(p)
	if err != nil {
		return fmt.Errorf("opening %s: %w", name, err)
	}
	defer in.Close()
	if _, err := io.Copy(w, in); err != nil {
		return fmt.Errorf("reading %s: %w", name, err)
	}
	return nil
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

// Archive moves a taken file into the archive folder.
func (f *Folder) Archive(ctx context.Context, name string) error {
	p, err := f.path(name)
	if err != nil {
		return err
	}
	if f.ReadOnly || f.ArchiveDir == "" {
		return nil
	}
	if err := safefile.MkdirAll(f.ArchiveDir); err != nil {
		return fmt.Errorf("archiving %s: %w", name, err)
	}
	dst := filepath.Join(f.ArchiveDir, name)
	if err := os.Rename(p, dst); err != nil {
		// Archived already by a run that stopped before recording it.
		if _, serr := os.Stat(p); os.IsNotExist(serr) {
			if _, derr := os.Stat(dst); derr == nil {
				return nil
			}
		}
		return fmt.Errorf("archiving %s: %w", name, err)
	}
	return safefile.SyncDir(f.ArchiveDir)
}
