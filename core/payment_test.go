package core

import "testing"

func TestPaymentRef(t *testing.T) {
	if got := PaymentRef(42); got != "PAY-42" {
		t.Errorf("PaymentRef(42) = %q", got)
	}
	tests := []struct {
		in string
		id int64
		ok bool
	}{
		{"PAY-42", 42, true},
		{"pay-7", 7, true},
		{"PAY-0", 0, false},
		{"PAY-", 0, false},
		{"PAY--1", 0, false},
		{"PAY-4x", 0, false},
		{"PAY-99999999999999999999", 0, false}, // beyond int64
		{"ST-P02-2026-03", 0, false},
		{"42", 0, false},
	}
	for _, c := range tests {
		t.Run(c.in, func(t *testing.T) {
			id, ok := ParsePaymentRef(c.in)
			if id != c.id || ok != c.ok {
				t.Errorf("ParsePaymentRef(%q) = %d, %v; want %d, %v", c.in, id, ok, c.id, c.ok)
			}
		})
	}
}
