package f1_test

import (
	"strings"
	"testing"

	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
)

func loadArchive(t testing.TB) *archive.Archive {
	t.Helper()
	a, err := archive.Load()
	if err != nil {
		t.Fatalf("load the archive: %v", err)
	}
	return a
}

func rules(t testing.TB, season int) f1.Scoring {
	t.Helper()
	s, err := f1.Rules(season)
	if err != nil {
		t.Fatalf("rules of %d: %v", season, err)
	}
	return s
}

// TestPointsMatchArchive scores every result of 2019–2025 with the rules of
// its season and compares with the official points F1DB records.
func TestPointsMatchArchive(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	n := 0
	for _, year := range a.Seasons() {
		s, _ := a.Season(year)
		sc := rules(t, year)
		for _, rd := range s.Rounds {
			for _, ss := range rd.Sessions {
				for _, r := range ss.Results {
					n++
					if err := sc.Check(r); err != nil {
						t.Errorf("%s: %v", r.Key(), err)
					}
					if got, want := f1.Points(r, sc), *r.Points; got != want {
						t.Errorf("%s (%s, %s, P%v, fastest lap %v, scale %s): %v points, official %v",
							r.Key(), r.DriverID, r.Status, pos(r), r.FastestLap, r.PointsScale, got, want)
					}
				}
			}
		}
	}
	if n < 3500 {
		t.Fatalf("scored %d results; the archive has more than 3500", n)
	}
}

func pos(r f1.Result) any {
	if r.Position == nil {
		return "-"
	}
	return *r.Position
}

func at(p int) *int { return &p }

func TestPoints(t *testing.T) {
	t.Parallel()
	res := func(season int, session string, position int, fastest bool, scale string) f1.Result {
		r := f1.Result{Season: season, Round: 1, Session: session, CarNumber: 1, DriverID: "d", TeamID: "t",
			Status: f1.Finished, Position: at(position), FastestLap: fastest, PointsScale: scale}
		if position == 0 {
			r.Status, r.Position = f1.DNF, nil
		}
		return r
	}
	dsq := res(2023, f1.Race, 0, false, f1.ScaleFull)
	dsq.Status = f1.DSQ
	dsqWithPosition := res(2023, f1.Race, 1, true, f1.ScaleFull)
	dsqWithPosition.Status = f1.DSQ
	tests := []struct {
		name string
		r    f1.Result
		want float64
	}{
		{"2019 win with fastest lap", res(2019, f1.Race, 1, true, f1.ScaleFull), 26},
		{"2019 10th with fastest lap", res(2019, f1.Race, 10, true, f1.ScaleFull), 2},
		{"2019 11th with fastest lap scores nothing", res(2019, f1.Race, 11, true, f1.ScaleFull), 0},
		{"2018 has no fastest-lap point", res(2018, f1.Race, 1, true, f1.ScaleFull), 25},
		{"2024 last fastest-lap point", res(2024, f1.Race, 3, true, f1.ScaleFull), 16},
		{"2025 has no fastest-lap point", res(2025, f1.Race, 1, true, f1.ScaleFull), 25},
		{"empty scale is full", res(2023, f1.Race, 2, false, ""), 18},
		{"race positions", res(2023, f1.Race, 7, false, f1.ScaleFull), 6},
		{"2021 sprint win", res(2021, f1.Sprint, 1, false, f1.ScaleFull), 3},
		{"2021 sprint 3rd", res(2021, f1.Sprint, 3, false, f1.ScaleFull), 1},
		{"2021 sprint 4th", res(2021, f1.Sprint, 4, false, f1.ScaleFull), 0},
		{"2022 sprint 8th", res(2022, f1.Sprint, 8, false, f1.ScaleFull), 1},
		{"2023 sprint win", res(2023, f1.Sprint, 1, false, f1.ScaleFull), 8},
		{"2023 sprint 9th", res(2023, f1.Sprint, 9, false, f1.ScaleFull), 0},
		{"sprint fastest lap scores nothing", res(2023, f1.Sprint, 1, true, f1.ScaleFull), 8},
		{"half points, no fastest-lap point", res(2021, f1.Race, 1, true, f1.ScaleHalf), 12.5},
		{"half points 10th", res(2021, f1.Race, 10, false, f1.ScaleHalf), 0.5},
		{"no points", res(2021, f1.Race, 1, true, f1.ScaleNone), 0},
		{"reduced to 25% win", res(2023, f1.Race, 1, true, f1.ScaleReduced25), 6},
		{"reduced to 25% 5th", res(2023, f1.Race, 5, false, f1.ScaleReduced25), 1},
		{"reduced to 25% 6th", res(2023, f1.Race, 6, false, f1.ScaleReduced25), 0},
		{"reduced to 50% win", res(2022, f1.Race, 1, false, f1.ScaleReduced50), 13},
		{"reduced to 50% 9th", res(2022, f1.Race, 9, false, f1.ScaleReduced50), 1},
		{"reduced to 50% 10th", res(2022, f1.Race, 10, false, f1.ScaleReduced50), 0},
		{"reduced to 75% win, no fastest-lap point", res(2024, f1.Race, 1, true, f1.ScaleReduced75), 19},
		{"reduced to 75% 10th", res(2024, f1.Race, 10, false, f1.ScaleReduced75), 1},
		{"unknown scale", res(2024, f1.Race, 1, false, "DOUBLE"), 0},
		{"not classified", res(2023, f1.Race, 0, true, f1.ScaleFull), 0},
		{"disqualified", dsq, 0},
		{"disqualified with a position", dsqWithPosition, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			if got := f1.Points(tc.r, rules(t, tc.r.Season)); got != tc.want {
				t.Fatalf("Points = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestRules(t *testing.T) {
	t.Parallel()
	if _, err := f1.Rules(2009); err == nil || !strings.Contains(err.Error(), "not modelled") {
		t.Errorf("Rules(2009): %v, want an error saying the season is not modelled", err)
	}
	s := rules(t, 2026)
	if s.Season != 2026 || len(s.Sprint) != 8 || s.FastestLap != 0 {
		t.Errorf("Rules(2026) = %+v, want the 2025 rules for season 2026", s)
	}
	for season, sprint := range map[int]int{2019: 0, 2020: 0, 2021: 3, 2022: 8, 2025: 8} {
		if got := len(rules(t, season).Sprint); got != sprint {
			t.Errorf("%d: %d sprint places score, want %d", season, got, sprint)
		}
	}
}

func TestCheck(t *testing.T) {
	t.Parallel()
	tests := []struct {
		season        int
		session       string
		scale, errHas string
	}{
		{2023, f1.Race, f1.ScaleFull, ""},
		{2023, f1.Race, "", ""},
		{2023, f1.Sprint, f1.ScaleNone, ""},
		{2021, f1.Race, f1.ScaleHalf, ""},
		{2022, f1.Race, f1.ScaleReduced50, ""},
		{2019, f1.Sprint, f1.ScaleFull, "no sprints"},
		{2023, f1.Race, f1.ScaleHalf, "does not exist in season 2023"},
		{2021, f1.Race, f1.ScaleReduced75, "does not exist in season 2021"},
		{2023, f1.Sprint, f1.ScaleReduced25, "applies to races"},
		{2023, f1.Race, "half", `points scale "half"`},
	}
	for _, tc := range tests {
		r := f1.Result{Season: tc.season, Session: tc.session, PointsScale: tc.scale}
		err := rules(t, tc.season).Check(r)
		switch {
		case tc.errHas == "" && err != nil:
			t.Errorf("%d %s %q: %v, want no error", tc.season, tc.session, tc.scale, err)
		case tc.errHas != "" && (err == nil || !strings.Contains(err.Error(), tc.errHas)):
			t.Errorf("%d %s %q: %v, want an error with %q", tc.season, tc.session, tc.scale, err, tc.errHas)
		}
	}
}
