package suggest

import (
	"slices"
	"testing"
)

func TestClosest(t *testing.T) {
	known := []string{"f1.results", "f1.penalties", "f1.live", "f1.results.dlq", "sportsdata.activities.validated"}
	for _, tc := range []struct {
		name string
		want []string
	}{
		{"f1.reslts", []string{"f1.results"}},
		{"f1.results", []string{"f1.results.dlq"}}, // itself is no suggestion
		{"F1.LIVE", nil},
		{"f1.lvie", []string{"f1.live"}},
		{"validated", []string{"sportsdata.activities.validated"}},
		{"xyz", nil},
	} {
		if got := Closest(tc.name, known); !slices.Equal(got, tc.want) && !(len(got) == 0 && len(tc.want) == 0) {
			t.Errorf("Closest(%q) = %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestError(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{Check("topic", "f1.reslts", []string{"f1.live", "f1.results"}),
			`unknown topic "f1.reslts": did you mean "f1.results"? (known: f1.live, f1.results)`},
		{&Error{Kind: "table", Name: "x", Hint: "run podium serve first"},
			`unknown table "x" (there is no table yet); run podium serve first`},
		{Check("stage", "f1-results", []string{"f1-results"}), ""},
	} {
		got := ""
		if tc.err != nil {
			got = tc.err.Error()
		}
		if got != tc.want {
			t.Errorf("got  %s\nwant %s", got, tc.want)
		}
	}
}
