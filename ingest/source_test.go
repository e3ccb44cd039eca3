package ingest_test

import (
	"bytes"
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"testing"
	"time"

	"carepay/ingest"
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
