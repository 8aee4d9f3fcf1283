package f1

import (
	"fmt"
	"slices"
	"strings"
)

// Scoring is the points system of one season.
type Scoring struct {
	// Season is the championship year the rules apply to.
	Season int
	// Race holds a Grand Prix's points by classified position (index 0 =
	// winner) at full scale.
	Race []float64
	// Sprint holds a sprint's points by classified position; empty in the
	// seasons without sprints.
	Sprint []float64
	// FastestLap is the point for the race's fastest lap, awarded when its
	// driver is classified within FastestLapTop at full scale; 0 when the
	// season has none.
	FastestLap    float64
	FastestLapTop int
	// Reduced holds the points tables of the shortened-race scales the
	// season's regulations know, by scale (ScaleHalf up to 2021, the
	// ScaleReduced… sliding scale from 2022). ScaleFull and ScaleNone are
	// known to every season.
	Reduced map[string][]float64
}

// rulesFrom is the table of points systems, each in force from its season
// until the next entry's.
var rulesFrom = []struct {
	from int
	s    Scoring
}{
	{2010, Scoring{
		Race:    []float64{25, 18, 15, 12, 10, 8, 6, 4, 2, 1},
		Reduced: map[string][]float64{ScaleHalf: half(25, 18, 15, 12, 10, 8, 6, 4, 2, 1)},
	}},
	{2019, Scoring{
		Race:       []float64{25, 18, 15, 12, 10, 8, 6, 4, 2, 1},
		FastestLap: 1, FastestLapTop: 10,
		Reduced: map[string][]float64{ScaleHalf: half(25, 18, 15, 12, 10, 8, 6, 4, 2, 1)},
	}},
	{2021, Scoring{
		Race:       []float64{25, 18, 15, 12, 10, 8, 6, 4, 2, 1},
		Sprint:     []float64{3, 2, 1},
		FastestLap: 1, FastestLapTop: 10,
		Reduced: map[string][]float64{ScaleHalf: half(25, 18, 15, 12, 10, 8, 6, 4, 2, 1)},
	}},
	{2022, Scoring{
		Race:       []float64{25, 18, 15, 12, 10, 8, 6, 4, 2, 1},
		Sprint:     []float64{8, 7, 6, 5, 4, 3, 2, 1},
		FastestLap: 1, FastestLapTop: 10,
		Reduced: slidingScale,
	}},
	{2025, Scoring{
		Race:    []float64{25, 18, 15, 12, 10, 8, 6, 4, 2, 1},
		Sprint:  []float64{8, 7, 6, 5, 4, 3, 2, 1},
		Reduced: slidingScale,
	}},
}

// slidingScale is the 2022+ points of a shortened race.
var slidingScale = map[string][]float64{
	ScaleReduced25: {6, 4, 3, 2, 1},
	ScaleReduced50: {13, 10, 8, 6, 5, 4, 3, 2, 1},
	ScaleReduced75: {19, 14, 12, 9, 8, 6, 5, 3, 2, 1},
}

func half(points ...float64) []float64 {
	out := make([]float64, len(points))
	for i, p := range points {
		out[i] = p / 2
	}
	return out
}

// FirstSeason is the first season whose points system Rules knows.
const FirstSeason = 2010

// Rules returns the points system of season: the race points
// 25-18-15-12-10-8-6-4-2-1 throughout; the fastest-lap point for a top-10
// finisher from 2019 to 2024; sprints 3-2-1 in 2021 and 8-7-6-5-4-3-2-1
// from 2022; half points for a shortened race up to 2021, the sliding scale
// from 2022. Seasons after the last known change keep its rules. Seasons
// before FirstSeason are an error: their points systems are not modelled.
func Rules(season int) (Scoring, error) {
	if season < FirstSeason {
		return Scoring{}, fmt.Errorf("season %d: the points systems before %d are not modelled", season, FirstSeason)
	}
	var s Scoring
	for _, r := range rulesFrom {
		if season >= r.from {
			s = r.s
		}
	}
	s.Season = season
	return s, nil
}

// Check reports whether r can be scored under s: the session kind exists in
// the season and the points scale is one the season's regulations know.
func (s Scoring) Check(r Result) error {
	if r.Session == Sprint && len(s.Sprint) == 0 {
		return fmt.Errorf("season %d had no sprints", s.Season)
	}
	switch scale := r.PointsScale; scale {
	case "", ScaleFull, ScaleNone:
	case ScaleHalf, ScaleReduced25, ScaleReduced50, ScaleReduced75:
		if _, ok := s.Reduced[scale]; !ok {
			return fmt.Errorf("points scale %s does not exist in season %d (it knows %s)", scale, s.Season, s.scaleNames())
		}
		if r.Session == Sprint {
			return fmt.Errorf("points scale %s applies to races; a sprint scores %s or %s", scale, ScaleFull, ScaleNone)
		}
	default:
		return fmt.Errorf("points scale %q: must be one of %s", scale, s.scaleNames())
	}
	return nil
}

func (s Scoring) scaleNames() string {
	var reduced []string
	for k := range s.Reduced {
		reduced = append(reduced, k)
	}
	slices.Sort(reduced)
	return strings.Join(append([]string{ScaleFull, ScaleNone}, reduced...), ", ")
}

// Points returns the points r scores under s. Only a classified car
// (Finished with a position) scores; a disqualified car scores nothing. The
// fastest-lap point goes with a full-scale race only, and only when the
// fastest lap is official (Result.FastestLapKnown): a fastest lap read from
// partial lap data scores nothing. A scale s does not know scores nothing
// (Check reports it).
func Points(r Result, s Scoring) float64 {
	if r.Status != Finished || r.Position == nil || *r.Position < 1 {
		return 0
	}
	pos := *r.Position
	at := func(table []float64) float64 {
		if pos > len(table) {
			return 0
		}
		return table[pos-1]
	}
	scale := r.PointsScale
	if scale == "" {
		scale = ScaleFull
	}
	switch {
	case scale == ScaleNone:
		return 0
	case r.Session == Sprint:
		if scale == ScaleFull {
			return at(s.Sprint)
		}
		return 0
	case scale == ScaleFull:
		p := at(s.Race)
		if r.FastestLap && r.FastestLapKnown() && s.FastestLap > 0 && pos <= s.FastestLapTop {
			p += s.FastestLap
		}
		return p
	default:
		return at(s.Reduced[scale])
	}
}

// hasFastestLapPoint reports whether a session of kind at points scale
// awards the fastest-lap point under s: a race at full scale, in a season
// that has the point.
func (s Scoring) hasFastestLapPoint(kind, scale string) bool {
	return s.FastestLap > 0 && kind == Race && (scale == "" || scale == ScaleFull)
}

// MaxPoints returns the most points one competitor entering cars cars (1
// for a driver, 2 for a constructor) can score in one session of kind at
// full scale: the top cars places, and the fastest-lap point of a race in
// the seasons that have one.
func (s Scoring) MaxPoints(kind string, cars int) float64 {
	table := s.Race
	if kind == Sprint {
		table = s.Sprint
	}
	var p float64
	for i := 0; i < cars && i < len(table); i++ {
		p += table[i]
	}
	if s.hasFastestLapPoint(kind, ScaleFull) && s.FastestLapTop >= 1 {
		p += s.FastestLap
	}
	return p
}

// settleFastestLap returns r with its fastest lap as official data has it.
// When r's own flag is not official but its official points figure is, the
// points tell: a figure that is exactly the place's points plus the
// fastest-lap point means the car set the fastest lap (OpenF1's
// session_result has points but no fastest-lap flag); any other official
// figure means it scored no fastest-lap point. Without either, FastestLap
// is cleared: a fastest lap read from partial lap data is never awarded.
// FastestLapOfficial tells afterwards whether the car's points still wait
// for an official word on the fastest lap.
func settleFastestLap(r Result, s Scoring) Result {
	switch {
	case r.FastestLapKnown():
	case r.Points != nil:
		with, without := r, r
		with.FastestLap, with.FastestLapOfficial = true, true
		without.FastestLap = false
		r.FastestLap = *r.Points == Points(with, s) && Points(with, s) != Points(without, s)
	default:
		r.FastestLap = false
	}
	r.FastestLapOfficial = r.FastestLapKnown() || r.Points != nil
	return r
}
