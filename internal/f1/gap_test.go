package f1_test

import (
	"testing"

	"github.com/podiumhq/podium/internal/f1"
)

func TestParseGapSeconds(t *testing.T) {
	tests := []struct {
		in   string
		want float64
		ok   bool
	}{
		{"+20.886", 20.886, true},
		{"20.886", 20.886, true},
		{"+1:14.385", 74.385, true},
		{" +1:09.473 ", 69.473, true},
		{"1:35:21.362", 5721.362, true},
		{"+1 LAP", 0, false},
		{"DNF", 0, false},
		{"", 0, false},
		{"+-3.2", 0, false},
		{"1:2:3:4", 0, false},
		{"+NaN", 0, false},
	}
	for _, tt := range tests {
		got, ok := f1.ParseGapSeconds(tt.in)
		if ok != tt.ok || (ok && f1.FormatGapSeconds(got) != f1.FormatGapSeconds(tt.want)) {
			t.Errorf("ParseGapSeconds(%q) = %v, %v; want %v, %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

func TestCanonicalGap(t *testing.T) {
	for in, want := range map[string]string{
		"+1:14.385": "+74.385", "+20.886": "+20.886", "+1 lap": "+1 LAP", "+3 Laps": "+3 LAPS",
		"1:35:21.362": "1:35:21.362", "": "", "DNF": "DNF",
	} {
		if got := f1.CanonicalGap(in); got != want {
			t.Errorf("CanonicalGap(%q) = %q, want %q", in, got, want)
		}
	}
}
