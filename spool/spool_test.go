package spool

import (
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"carepay/core"
)

func line(date core.Date, seq, row int) *core.Line {
	return &core.Line{Kind: core.Statement, Source: "s.csv", ServiceDate: date, Seq: seq, Row: row}
}

// TestDecisionOrder checks service date, then arrival, then row, with
// unparsed dates first, for in-memory and spilled sorts alike.
func TestDecisionOrder(t *testing.T) {
	d := core.NewDate(2026, 3, 9)
	in := []*core.Line{line(d+1, 1, 2), line(d, 2, 5), line(d, 1, 9), line(0, 3, 4), line(d, 1, 3), line(d-1, 4, 2)}
	want := [][3]int{{0, 3, 4}, {int(d - 1), 4, 2}, {int(d), 1, 3}, {int(d), 1, 9}, {int(d), 2, 5}, {int(d + 1), 1, 2}}
	for _, runSize := range []int{100, 2, 1} {
		s := New(t.TempDir(), runSize)
		for _, l := range in {
			cp := *l
			if err := s.Add(&cp); err != nil {
				t.Fatal(err)
			}
		}
		var got [][3]int
		if err := s.Each(func(l *core.Line) error {
			got = append(got, [3]int{int(l.ServiceDate), l.Seq, l.Row})
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("run size %d: got %v, want %v", runSize, got, want)
		}
	}
}

// TestSpilledLinesRoundTrip writes every field through a spilled run.
func TestSpilledLinesRoundTrip(t *testing.T) {
	l := &core.Line{
		Kind: core.Invoice, Source: "inv.xlsx#March", Row: 7, Seq: 3, Ref: "INV-1", LineID: "9",
		EmployeeID: "E1", DependentID: "D1", ProviderID: "P1", CareType: core.CareInHome,
		ServiceDate: core.NewDate(2026, 3, 9), Hours: 450, HasHours: true, Charged: 12345,
		EmployeeSignedOn: core.NewDate(2026, 3, 10), ProviderSignedOn: core.NewDate(2026, 3, 11),
		ReceivedOn: core.NewDate(2026, 3, 12), Payee: "employee", Period: core.Period{Year: 2026, Month: time.March},
		Mileage: "12.5", Errors: []*core.RowError{{File: "inv.xlsx#March", Row: 7, Column: "hours", Value: "x", Msg: "bad"}},
	}
	s := New(t.TempDir(), 1)
	cp := *l
	if err := s.Add(&cp); err != nil {
		t.Fatal(err)
	}
	var got *core.Line
	if err := s.Each(func(x *core.Line) error { got = x; return nil }); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, l) {
		t.Errorf("round trip:\n got %+v\nwant %+v", got, l)
	}
}

// TestManyRunsStayOrdered merges many spilled runs of random lines.
func TestManyRunsStayOrdered(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	s := New(t.TempDir(), 97)
	const n = 5000
	for i := 0; i < n; i++ {
		if err := s.Add(line(core.NewDate(2026, 1, 1)+core.Date(r.IntN(60)), r.IntN(5), i)); err != nil {
			t.Fatal(err)
		}
	}
	var prev *core.Line
	count := 0
	if err := s.Each(func(l *core.Line) error {
		if prev != nil && Less(l, prev) {
			t.Fatalf("out of order: %+v after %+v", l, prev)
		}
		prev = l
		count++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if count != n {
		t.Errorf("got %d lines back, want %d", count, n)
	}
}
