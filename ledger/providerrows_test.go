package ledger

import (
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"carepay/core"
)

// TestLetterRowRoundTrip: a spooled row reads back as it was written,
// every field, with and without reasons and a row error; a damaged one
// is refused.
func TestLetterRowRoundTrip(t *testing.T) {
	rows := []LetterRow{
		{ID: 7, EmployeeID: "E1", EmployeeName: "Ada Lee", DependentID: "D1", Dependent: "Cy", PlanID: "jitc-invoice", ProviderID: "P1",
			PayeeType: "provider", PayeeID: "P1", PaymentID: 42, ServiceDate: core.NewDate(2026, 3, 9), CareType: "center", Units: "1.50",
			Charged: 12_000, EmployeeShare: -5, EmployerShare: 11_995, Status: "partial", Reasons: []string{"ANNUAL_CAP", "DAY_LIMIT"},
			CareDay: true, DayUsed: true, Placements: 2, DependentKnown: true},
		{ID: 1 << 40, EmployeeID: "É\x00ü", Status: "rejected", Reasons: []string{}, RowError: &core.RowError{File: "f.csv", Row: 3, Column: "hours", Value: "x", Msg: "want a number"}},
		{},
	}
	for i, r := range rows {
		b := appendLetterRow(nil, &r)
		got, err := parseLetterRow(b)
		if err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("row %d read back as\n%+v\nwant\n%+v", i, got, r)
		}
		for cut := range len(b) {
			if _, err := parseLetterRow(b[:cut]); err == nil {
				t.Errorf("row %d cut to %d of %d bytes: no error", i, cut, len(b))
			}
		}
		if _, err := parseLetterRow(append(b, 0)); err == nil {
			t.Errorf("row %d with a byte too many: no error", i)
		}
	}
}

// TestProviderRowsOrder: rows added in any order come back by payee,
// service date and id, whether they stay in memory or go through
// temporary files and a merge.
func TestProviderRowsOrder(t *testing.T) {
	defer func(n int) { providerChunk = n }(providerChunk)
	rng := rand.New(rand.NewPCG(1, 2))
	var in []LetterRow
	for i := range 1000 {
		in = append(in, LetterRow{ID: int64(i + 1), PayeeID: fmt.Sprintf("P%d", rng.IntN(30)), ServiceDate: core.NewDate(2026, 1, 1).AddDays(rng.IntN(20)),
			EmployeeName: fmt.Sprint("name ", i)})
	}
	want := slices.Clone(in)
	slices.SortFunc(want, func(a, b LetterRow) int { return providerLess(&a, &b) })
	for _, chunk := range []int{1, 7, 999, 1000, 32768} {
		providerChunk = chunk
		var p providerRows
		for i := range in {
			if err := p.add(&in[i]); err != nil {
				t.Fatal(err)
			}
		}
		var got []LetterRow
		if err := p.each(func(r *LetterRow) error { got = append(got, *r); return nil }); err != nil {
			t.Fatal(err)
		}
		p.close()
		if !reflect.DeepEqual(got, want) {
			t.Errorf("chunk %d: %d rows back, not in the providers' order", chunk, len(got))
		}
	}
}

// TestProviderRowsSpoolDir: the chunks go to the folder named (here one
// that does not exist, so the spill fails and says so).
func TestProviderRowsSpoolDir(t *testing.T) {
	defer func(n int) { providerChunk = n }(providerChunk)
	providerChunk = 1
	p := providerRows{dir: filepath.Join(t.TempDir(), "missing")}
	defer p.close()
	if err := p.add(&LetterRow{ID: 1}); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("spilling into a missing folder: %v, want an error naming it", err)
	}
}
