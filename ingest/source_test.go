package ingest_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"carepay/ingest"
	"carepay/safefile"
)

// folderFixture lays out root/drop with a few files and returns a Folder
// on it with archive and reports folders beside it.
func folderFixture(t *testing.T) (string, *ingest.Folder) {
	t.Helper()
	root := t.TempDir()
	drop := filepath.Join(root, "drop")
	for name, body := range map[string]string{
		"b.csv":          "b",
		"a.xlsx":         "a",
		"10-first.csv":   "10",
		"B-upper.csv":    "B",
		".hidden.csv":    "hidden",
		".b.csv.tmp-123": "partial",
		"a.xlsx.ack.txt": "ack",
		"sub/inside.csv": "nested",
		"../outside.csv": "outside the drop",
	} {
		writeFile(t, filepath.Join(drop, name), []byte(body))
		age(t, filepath.Join(drop, name), time.Hour)
	}
	return root, &ingest.Folder{
		SourceName: "ops-drop",
		Dir:        drop,
		ArchiveDir: filepath.Join(root, "archive"),
		ReportsDir: filepath.Join(root, "reports"),
	}
}

// age sets the modification time of the file at p to d ago: a drop that
// has rested.
func age(t *testing.T, p string, d time.Duration) {
	t.Helper()
	then := time.Now().Add(-d)
	if err := os.Chtimes(p, then, then); err != nil {
		t.Fatal(err)
	}
}

// wantMode fails t unless the file at p has permission bits want.
func wantMode(t *testing.T, p string, want os.FileMode) {
	t.Helper()
	fi, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	if got := fi.Mode().Perm(); got != want {
		t.Errorf("%s has mode %04o, want %04o", filepath.Base(p), got, want)
	}
}

// snapshot lists every file under root with its content.
func snapshot(t *testing.T, root string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		if d.IsDir() {
			out[rel+"/"] = ""
			return nil
		}
		b, err := os.ReadFile(p)
		out[rel] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// sameTree fails t with the entries that differ between two snapshots.
func sameTree(t *testing.T, what string, before, after map[string]string) {
	t.Helper()
	var diff []string
	for k, v := range after {
		if b, ok := before[k]; !ok {
			diff = append(diff, "+"+k)
		} else if b != v {
			diff = append(diff, "~"+k)
		}
	}
	for k := range before {
		if _, ok := after[k]; !ok {
			diff = append(diff, "-"+k)
		}
	}
	if len(diff) > 0 {
		sort.Strings(diff)
		t.Errorf("%s changed the tree: %q", what, diff)
	}
}

var badNames = []struct{ name, in string }{
	{"parent", "../outside.csv"},
	{"parent_of_missing", "../x"},
	{"absolute", "/etc/passwd"},
	{"nested", "sub/inside.csv"},
	{"nested_parent", "sub/../b.csv"},
	{"dot", "."},
	{"dotdot", ".."},
	{"empty", ""},
}

func TestFolderList(t *testing.T) {
	_, f := folderFixture(t)
	if f.Name() != "ops-drop" {
		t.Errorf("Name() = %q", f.Name())
	}
	got, err := f.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10-first.csv", "B-upper.csv", "a.xlsx", "b.csv"}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("List() = %q, want %q", got, want)
	}
}

func TestFolderListMissingDir(t *testing.T) {
	f := &ingest.Folder{Dir: filepath.Join(t.TempDir(), "nope")}
	if _, err := f.List(context.Background()); err == nil || !strings.Contains(err.Error(), "nope") {
		t.Fatalf("err = %v, want one naming the folder", err)
	}
}

func TestFolderFetch(t *testing.T) {
	ctx := context.Background()
	_, f := folderFixture(t)
	t.Run("copies_the_file", func(t *testing.T) {
		var buf bytes.Buffer
		if err := f.Fetch(ctx, "b.csv", &buf); err != nil {
			t.Fatal(err)
		}
		if buf.String() != "b" {
			t.Fatalf("got %q", buf.String())
		}
	})
	t.Run("missing_file", func(t *testing.T) {
		var buf bytes.Buffer
		if err := f.Fetch(ctx, "gone.csv", &buf); err == nil || !strings.Contains(err.Error(), "gone.csv") {
			t.Fatalf("err = %v", err)
		}
	})
	for _, tc := range badNames {
		t.Run("refuses_"+tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := f.Fetch(ctx, tc.in, &buf)
			if err == nil || !strings.Contains(err.Error(), "refusing") {
				t.Fatalf("Fetch(%q) err = %v, want a refusal", tc.in, err)
			}
			if buf.Len() != 0 {
				t.Fatalf("Fetch(%q) copied %q", tc.in, buf.String())
			}
		})
	}
}

func TestFolderAck(t *testing.T) {
	ctx := context.Background()
	t.Run("into_reports_folder", func(t *testing.T) {
		root, f := folderFixture(t)
		if err := f.Ack(ctx, "b.csv", []byte("rows taken: 3\n")); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(root, "reports", "b.csv.ack.txt"))
		if err != nil || string(b) != "rows taken: 3\n" {
			t.Fatalf("ack = %q, %v", b, err)
		}
		if _, err := os.Stat(filepath.Join(f.Dir, "b.csv.ack.txt")); !os.IsNotExist(err) {
			t.Fatalf("ack also written beside the drop: %v", err)
		}
		// Writing it again replaces it.
		if err := f.Ack(ctx, "b.csv", []byte("again")); err != nil {
			t.Fatal(err)
		}
		if b, _ := os.ReadFile(filepath.Join(root, "reports", "b.csv.ack.txt")); string(b) != "again" {
			t.Fatalf("ack = %q after rewrite", b)
		}
	})
	t.Run("beside_the_drop_and_not_listed", func(t *testing.T) {
		_, f := folderFixture(t)
		f.ReportsDir = ""
		if err := f.Ack(ctx, "b.csv", []byte("ok")); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(f.Dir, "b.csv.ack.txt")); err != nil || string(b) != "ok" {
			t.Fatalf("ack = %q, %v", b, err)
		}
		got, err := f.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"10-first.csv", "B-upper.csv", "a.xlsx", "b.csv"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("List() = %q, want %q", got, want)
		}
	})
	for _, tc := range badNames {
		t.Run("refuses_"+tc.name, func(t *testing.T) {
			root, f := folderFixture(t)
			before := snapshot(t, root)
			err := f.Ack(ctx, tc.in, []byte("ack"))
			if err == nil || !strings.Contains(err.Error(), "refusing") {
				t.Errorf("Ack(%q) err = %v, want a refusal", tc.in, err)
			}
			sameTree(t, fmt.Sprintf("Ack(%q)", tc.in), before, snapshot(t, root))
		})
	}
}

func TestFolderArchive(t *testing.T) {
	ctx := context.Background()
	t.Run("moves_the_file", func(t *testing.T) {
		root, f := folderFixture(t)
		if err := f.Archive(ctx, "b.csv", shaOf("b")); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(filepath.Join(root, "archive", "b.csv")); err != nil || string(b) != "b" {
			t.Fatalf("archived = %q, %v", b, err)
		}
		if _, err := os.Stat(filepath.Join(f.Dir, "b.csv")); !os.IsNotExist(err) {
			t.Fatalf("b.csv still in the drop: %v", err)
		}
		got, _ := f.List(ctx)
		if want := []string{"10-first.csv", "B-upper.csv", "a.xlsx"}; !reflect.DeepEqual(got, want) {
			t.Fatalf("List() = %q, want %q", got, want)
		}
	})
	// A drop uploaded readable by anyone (0644) holds account numbers: once
	// archived it has the mode of the files carepay writes, also when an
	// earlier attempt moved it and stopped before the chmod.
	t.Run("archived_file_gets_the_private_mode", func(t *testing.T) {
		defer safefile.SetPerm(0o600)
		for _, perm := range []os.FileMode{0o600, 0o640} {
			if err := safefile.SetPerm(perm); err != nil {
				t.Fatal(err)
			}
			root, f := folderFixture(t)
			if err := f.Archive(ctx, "b.csv", shaOf("b")); err != nil {
				t.Fatal(err)
			}
			dst := filepath.Join(root, "archive", "b.csv")
			wantMode(t, dst, perm)
			if err := os.Chmod(dst, 0o644); err != nil {
				t.Fatal(err)
			}
			if err := f.Archive(ctx, "b.csv", shaOf("b")); err != nil {
				t.Fatalf("second Archive: %v", err)
			}
			wantMode(t, dst, perm)
		}
	})
	t.Run("already_archived_is_a_no_op", func(t *testing.T) {
		root, f := folderFixture(t)
		if err := f.Archive(ctx, "b.csv", shaOf("b")); err != nil {
			t.Fatal(err)
		}
		before := snapshot(t, root)
		if err := f.Archive(ctx, "b.csv", shaOf("b")); err != nil {
			t.Fatalf("second Archive: %v", err)
		}
		sameTree(t, "second Archive", before, snapshot(t, root))
	})
	t.Run("never_existed", func(t *testing.T) {
		_, f := folderFixture(t)
		if err := f.Archive(ctx, "gone.csv", shaOf("")); err == nil || !strings.Contains(err.Error(), "gone.csv") {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("no_archive_folder_leaves_file", func(t *testing.T) {
		root, f := folderFixture(t)
		f.ArchiveDir = ""
		before := snapshot(t, root)
		if err := f.Archive(ctx, "b.csv", shaOf("b")); err != nil {
			t.Fatal(err)
		}
		sameTree(t, "Archive without ArchiveDir", before, snapshot(t, root))
	})
	for _, tc := range badNames {
		t.Run("refuses_"+tc.name, func(t *testing.T) {
			root, f := folderFixture(t)
			before := snapshot(t, root)
			err := f.Archive(ctx, tc.in, shaOf(""))
			if err == nil || !strings.Contains(err.Error(), "refusing") {
				t.Errorf("Archive(%q) err = %v, want a refusal", tc.in, err)
			}
			sameTree(t, fmt.Sprintf("Archive(%q)", tc.in), before, snapshot(t, root))
		})
	}
}

func TestFolderReadOnly(t *testing.T) {
	ctx := context.Background()
	root, f := folderFixture(t)
	f.ReadOnly = true
	before := snapshot(t, root)

	names, err := f.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, n := range names {
		var buf bytes.Buffer
		if err := f.Fetch(ctx, n, &buf); err != nil {
			t.Fatalf("Fetch(%q): %v", n, err)
		}
		if err := f.Ack(ctx, n, []byte("ack")); err != nil {
			t.Fatalf("Ack(%q): %v", n, err)
		}
		if err := f.Archive(ctx, n, shaOf(buf.String())); err != nil {
			t.Fatalf("Archive(%q): %v", n, err)
		}
	}
	sameTree(t, "read-only use", before, snapshot(t, root))
}

// Folder is used through the Source interface by the run.
var _ ingest.Source = (*ingest.Folder)(nil)

func TestFolderStable(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 4, 10, 9, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		stable  string
		wait    time.Duration
		files   map[string]time.Duration // name: age at List
		grows   string                   // a file written to between the two looks
		want    []string
		waiting []string
	}{
		{
			name:  "age_default_takes_files_older_than_5s",
			files: map[string]time.Duration{"old.csv": time.Minute, "just-5s.csv": 5 * time.Second, "young.csv": 4 * time.Second},
			want:  []string{"just-5s.csv", "old.csv"}, waiting: []string{"young.csv"},
		},
		{
			name: "age_with_its_own_wait", stable: ingest.StableAge, wait: time.Hour,
			files: map[string]time.Duration{"old.csv": 2 * time.Hour, "young.csv": time.Minute},
			want:  []string{"old.csv"}, waiting: []string{"young.csv"},
		},
		{
			name: "age_refuses_a_time_in_the_future", stable: ingest.StableAge,
			files:   map[string]time.Duration{"skewed.csv": -time.Minute},
			waiting: []string{"skewed.csv"},
		},
		{
			name: "size_takes_what_did_not_change_between_two_looks", stable: ingest.StableSize, wait: 200 * time.Millisecond,
			files: map[string]time.Duration{"done.csv": 0, "growing.csv": 0},
			grows: "growing.csv",
			want:  []string{"done.csv"}, waiting: []string{"growing.csv"},
		},
		{
			name: "done_takes_files_with_a_marker", stable: ingest.StableDone,
			files: map[string]time.Duration{"a.csv": 0, "a.csv.done": 0, "b.csv": time.Hour, "orphan.csv.done": 0},
			want:  []string{"a.csv"}, waiting: []string{"b.csv"},
		},
		{
			name:  "held_files_are_never_taken",
			files: map[string]time.Duration{"a.csv.changed": time.Hour, "a.csv.2.changed": time.Hour, "b.csv": time.Hour},
			want:  []string{"b.csv"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for n, a := range tt.files {
				p := filepath.Join(dir, n)
				writeFile(t, p, []byte("x\n"))
				if err := os.Chtimes(p, now.Add(-a), now.Add(-a)); err != nil {
					t.Fatal(err)
				}
			}
			f := &ingest.Folder{SourceName: "ops", Dir: dir, Stable: tt.stable, StableWait: tt.wait, Now: func() time.Time { return now }}
			var wg sync.WaitGroup
			listed := make(chan struct{})
			if tt.grows != "" {
				// A writer that keeps appending until the listing is done,
				// so that the two looks see different sizes however the
				// machine schedules them.
				wg.Add(1)
				go func() {
					defer wg.Done()
					w, err := os.OpenFile(filepath.Join(dir, tt.grows), os.O_APPEND|os.O_WRONLY, 0)
					if err != nil {
						t.Error(err)
						return
					}
					defer w.Close()
					for {
						select {
						case <-listed:
							return
						case <-time.After(tt.wait / 10):
							w.Write([]byte("y\n"))
						}
					}
				}()
			}
			got, err := f.List(ctx)
			close(listed)
			wg.Wait()
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("List = %q, want %q", got, tt.want)
			}
			var waiting []string
			for _, w := range f.Waiting() {
				waiting = append(waiting, w.Name)
				if w.Why == "" {
					t.Errorf("%s waits with no reason", w.Name)
				}
			}
			if !reflect.DeepEqual(waiting, tt.waiting) {
				t.Errorf("Waiting = %q, want %q", waiting, tt.waiting)
			}
		})
	}
	t.Run("unknown_rule_is_refused", func(t *testing.T) {
		f := &ingest.Folder{SourceName: "ops", Dir: t.TempDir(), Stable: "sometimes"}
		if _, err := f.List(ctx); err == nil || !strings.Contains(err.Error(), `stable "sometimes"`) {
			t.Errorf("List: %v, want the rule refused", err)
		}
	})
	// The --inbox folder, read in place, takes only files that have
	// rested like any other folder's: one still being written waits,
	// with the reason, for a later run.
	t.Run("read_only_waits_for_a_fresh_file", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "fresh.csv"), []byte("x\n"))
		writeFile(t, filepath.Join(dir, "rested.csv"), []byte("x\n"))
		age(t, filepath.Join(dir, "rested.csv"), time.Minute)
		f := &ingest.Folder{SourceName: "inbox", Dir: dir, ReadOnly: true}
		if got, err := f.List(ctx); err != nil || !reflect.DeepEqual(got, []string{"rested.csv"}) {
			t.Errorf("List = %q, %v", got, err)
		}
		w := f.Waiting()
		if len(w) != 1 || w[0].Name != "fresh.csv" || !strings.Contains(w[0].Why, "less than the 5s a file must rest") {
			t.Errorf("Waiting = %+v", w)
		}
	})
}

// growingWriter appends more to the file at path when first written to,
// as a writer still at work would while carepay reads.
type growingWriter struct {
	buf  bytes.Buffer
	path string
	done bool
}

func (g *growingWriter) Write(p []byte) (int, error) {
	if !g.done {
		g.done = true
		f, err := os.OpenFile(g.path, os.O_WRONLY|os.O_APPEND, 0)
		if err != nil {
			return 0, err
		}
		f.WriteString("more,rows\n")
		f.Close()
	}
	return g.buf.Write(p)
}

func TestFolderFetchRefusesAGrowingFile(t *testing.T) {
	_, f := folderFixture(t)
	w := &growingWriter{path: filepath.Join(f.Dir, "b.csv")}
	err := f.Fetch(context.Background(), "b.csv", w)
	if !errors.Is(err, ingest.ErrChanged) || !strings.Contains(err.Error(), "b.csv") {
		t.Fatalf("Fetch = %v, want ErrChanged naming the file", err)
	}
}

func TestFolderVerify(t *testing.T) {
	ctx := context.Background()
	_, f := folderFixture(t)
	if err := f.Verify(ctx, "b.csv", shaOf("b")); err != nil {
		t.Errorf("Verify of the same bytes: %v", err)
	}
	writeFile(t, filepath.Join(f.Dir, "b.csv"), []byte("b,and more"))
	if err := f.Verify(ctx, "b.csv", shaOf("b")); !errors.Is(err, ingest.ErrChanged) {
		t.Errorf("Verify of changed bytes = %v, want ErrChanged", err)
	}
	if err := f.Verify(ctx, "gone.csv", shaOf("")); !errors.Is(err, ingest.ErrChanged) {
		t.Errorf("Verify of a file gone = %v, want ErrChanged", err)
	}
}

func TestFolderArchiveChangedFile(t *testing.T) {
	ctx := context.Background()
	t.Run("held_beside_the_drop_not_archived", func(t *testing.T) {
		root, f := folderFixture(t)
		writeFile(t, filepath.Join(f.Dir, "b.csv"), []byte("b\nmore\n"))
		for range 2 { // the second call finds it held
			err := f.Archive(ctx, "b.csv", shaOf("b"))
			var ch *ingest.ChangedError
			if !errors.As(err, &ch) || ch.HeldAs != "b.csv.changed" || !errors.Is(err, ingest.ErrChanged) {
				t.Fatalf("Archive = %v, want a ChangedError holding b.csv.changed", err)
			}
		}
		if b, err := os.ReadFile(filepath.Join(f.Dir, "b.csv.changed")); err != nil || string(b) != "b\nmore\n" {
			t.Errorf("held file = %q, %v", b, err)
		}
		if _, err := os.Stat(filepath.Join(root, "archive", "b.csv")); !os.IsNotExist(err) {
			t.Errorf("archived: %v", err)
		}
		got, _ := f.List(ctx)
		if want := []string{"10-first.csv", "B-upper.csv", "a.xlsx"}; !reflect.DeepEqual(got, want) {
			t.Errorf("List = %q, want %q", got, want)
		}
	})
	t.Run("a_second_change_takes_a_free_name", func(t *testing.T) {
		_, f := folderFixture(t)
		writeFile(t, filepath.Join(f.Dir, "b.csv.changed"), []byte("earlier"))
		writeFile(t, filepath.Join(f.Dir, "b.csv"), []byte("b2"))
		var ch *ingest.ChangedError
		if err := f.Archive(ctx, "b.csv", shaOf("b")); !errors.As(err, &ch) || ch.HeldAs != "b.csv.2.changed" {
			t.Fatalf("Archive = %v", err)
		}
		if b, _ := os.ReadFile(filepath.Join(f.Dir, "b.csv.changed")); string(b) != "earlier" {
			t.Errorf("the earlier held file was replaced: %q", b)
		}
	})
	t.Run("done_mode_drops_the_marker", func(t *testing.T) {
		_, f := folderFixture(t)
		f.Stable = ingest.StableDone
		writeFile(t, filepath.Join(f.Dir, "b.csv.done"), nil)
		writeFile(t, filepath.Join(f.Dir, "b.csv"), []byte("b2"))
		if err := f.Archive(ctx, "b.csv", shaOf("b")); !errors.Is(err, ingest.ErrChanged) {
			t.Fatalf("Archive = %v", err)
		}
		if _, err := os.Stat(filepath.Join(f.Dir, "b.csv.done")); !os.IsNotExist(err) {
			t.Errorf("the marker would vouch for the next b.csv: %v", err)
		}
	})
	t.Run("done_mode_archives_the_marker_too", func(t *testing.T) {
		root, f := folderFixture(t)
		f.Stable = ingest.StableDone
		writeFile(t, filepath.Join(f.Dir, "b.csv.done"), nil)
		if err := f.Archive(ctx, "b.csv", shaOf("b")); err != nil {
			t.Fatal(err)
		}
		for _, n := range []string{"b.csv", "b.csv.done"} {
			if _, err := os.Stat(filepath.Join(root, "archive", n)); err != nil {
				t.Errorf("%s not archived: %v", n, err)
			}
		}
	})
	t.Run("read_only_reports_and_touches_nothing", func(t *testing.T) {
		root, f := folderFixture(t)
		f.ReadOnly = true
		writeFile(t, filepath.Join(f.Dir, "b.csv"), []byte("b2"))
		before := snapshot(t, root)
		var ch *ingest.ChangedError
		if err := f.Archive(ctx, "b.csv", shaOf("b")); !errors.As(err, &ch) || ch.HeldAs != "" {
			t.Fatalf("Archive = %v, want a ChangedError holding nothing", err)
		}
		sameTree(t, "read-only Archive", before, snapshot(t, root))
	})
}
