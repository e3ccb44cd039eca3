package main

import (
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"carepay/safefile"
)

// TestRunWritesPrivateFiles runs the demo through a configured folder
// source (archive and reports folders) and checks that every file carepay
// wrote (payment files, CSVs, register, letters, acks, the ledger and its
// WAL) and every folder it made is closed to others: 0600 files in 0700
// folders by default, 0640 in 0750 with run.file_mode = "0640".
func TestRunWritesPrivateFiles(t *testing.T) {
	defer safefile.SetPerm(0o600)
	for _, tt := range []struct {
		name            string
		mode            string
		wantFile, wantD os.FileMode
	}{
		{"default", "0600", 0o600, 0o700},
		{"shared_group", "0640", 0o640, 0o750},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			inbox := filepath.Join(dir, "drop", "inbox")
			if err := os.MkdirAll(inbox, 0o755); err != nil {
				t.Fatal(err)
			}
			names, err := filepath.Glob("../../fixtures/drop/*")
			if err != nil {
				t.Fatal(err)
			}
			for _, name := range names {
				name = filepath.Base(name)
				b, err := os.ReadFile(filepath.Join("../../fixtures/drop", name))
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(filepath.Join(inbox, name), b, 0o644); err != nil {
					t.Fatal(err)
				}
				// A drop that has rested: the folder source takes a file
				// only once it is stable_wait old.
				old := time.Now().Add(-time.Minute)
				if err := os.Chtimes(filepath.Join(inbox, name), old, old); err != nil {
					t.Fatal(err)
				}
			}
			cfg, err := os.ReadFile("../../config.toml")
			if err != nil {
				t.Fatal(err)
			}
			text := strings.NewReplacer(
				`file_mode = "0600"`, `file_mode = "`+tt.mode+`"`,
				`key_file = "fixtures/demo-ledger.key"`, `key_file = "`+filepath.Join(mustAbs(t, "../../fixtures"), "demo-ledger.key")+`"`,
			).Replace(string(cfg))
			path := filepath.Join(dir, "config.toml")
			if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			code, _, errs := carepay(t, "run", "--config", path, "--as-of", "2026-04-10")
			if code != exitOK {
				t.Fatalf("run: exit %d: %s", code, errs)
			}
			written := map[string]bool{}
			for _, root := range []string{filepath.Join(dir, "out"), filepath.Join(dir, "drop", "archive"), filepath.Join(dir, "drop", "reports")} {
				err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
					if err != nil {
						return err
					}
					fi, err := d.Info()
					if err != nil {
						return err
					}
					rel, _ := filepath.Rel(dir, p)
					want := tt.wantFile
					if d.IsDir() {
						want = tt.wantD
					} else if strings.HasPrefix(rel, filepath.Join("drop", "archive")) {
						return nil // archived drops keep the mode they were dropped with
					}
					written[filepath.Base(p)] = true
					if got := fi.Mode().Perm(); got != want {
						t.Errorf("%s: mode %04o, want %04o", rel, got, want)
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
			}
			ledgerFiles, _ := filepath.Glob(filepath.Join(dir, "carepay.db*"))
			if len(ledgerFiles) == 0 {
				t.Fatal("no ledger written")
			}
			for _, p := range ledgerFiles {
				fi, err := os.Stat(p)
				if err != nil {
					t.Fatal(err)
				}
				if got := fi.Mode().Perm(); got != tt.wantFile {
					t.Errorf("%s: mode %04o, want %04o", filepath.Base(p), got, tt.wantFile)
				}
			}
			// The walk must have seen the files that hold account numbers
			// and personal data, or it proves nothing.
			for _, name := range []string{"payments.ach", "checks.csv", "positive-pay.csv", "decisions.csv", "register.xlsx", "run.json", "print-batch.pdf", "letters", "01-employees.csv.ack.txt", "archive"} {
				if !written[name] {
					t.Errorf("the run wrote no %s", name)
				}
			}
		})
	}
}
