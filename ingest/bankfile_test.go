package ingest

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIsNACHA(t *testing.T) {
	header := "101 031300012 1210428822604101951A094101FEDERAL RESERVE BANK   ACME BENEFITS                  "
	if len(header) != 94 {
		t.Fatalf("header is %d characters", len(header))
	}
	batch := "5220ACME BENEFITS                       1234567890PPDCAREPAY         260413   1121042880000001"
	tests := []struct {
		name string
		head string
		want bool
	}{
		{"lines_end_lf", header + "\n" + batch, true},
		{"lines_end_crlf", header + "\r\n" + batch, true},
		{"no_line_breaks", header + batch, true},
		{"header_alone", header, true},
		{"short_header", header[:80] + "\n", false},
		{"long_first_line", header + "XYZ\n", false},
		{"csv_starting_101", "101,E301,D1,P1,center\n" + strings.Repeat("x", 100), false},
		{"employee_csv", "employee_id,first_name\n", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := isNACHA([]byte(tt.head)); got != tt.want {
				t.Errorf("isNACHA = %v, want %v", got, tt.want)
			}
		})
	}
}

// A file that starts like a NACHA file but that moov-io/ach cannot read is
// rejected whole, with moov-io/ach's reason, and passes nothing on.
func TestBankFileUnreadable(t *testing.T) {
	header := "101 031300012 1210428822604101951A094101FEDERAL RESERVE BANK   ACME BENEFITS                  "
	path := filepath.Join(t.TempDir(), "returns.ach")
	if err := os.WriteFile(path, []byte(header+"\n5220 broken batch\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	visited := 0
	rep, err := ReadFile(context.Background(), path, "returns.ach", Options{}, func(*Record) error { visited++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Rejected() || visited != 0 || !strings.HasPrefix(rep.Tables[0].Rejected, "not a NACHA file moov-io/ach can read: ") {
		t.Errorf("rejected %v (%q), %d records", rep.Rejected(), rep.Tables[0].Rejected, visited)
	}
}
