package f1_test

import (
	"context"
	"slices"
	"testing"

	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

func ptr(v float64) *float64 { return &v }

// live returns the 2023 Bahrain Grand Prix as a live source without
// official data gives it: no points figure, and Zhou's fastest lap (he set
// it, 16th) read from the lap times, not official.
func live(t *testing.T) []f1.Result {
	a := loadArchive(t)
	rd, _ := a.Round(2023, 1)
	race, _ := rd.Session(f1.Race)
	res := slices.Clone(race.Results)
	for i := range res {
		res[i].Points, res[i].Source, res[i].FastestLapOfficial = nil, f1.SourceOpenF1REST, false
	}
	return res
}

func classification(t *testing.T, p *pipeline, round int) (map[string]f1.ScoredResult, f1.SessionInfo) {
	t.Helper()
	ctx := context.Background()
	cl, err := f1.Classification(ctx, p.store.DB(), 2023, round, f1.Race)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]f1.ScoredResult{}
	for _, r := range cl {
		out[r.DriverCode] = r
	}
	rounds, err := f1.Rounds(ctx, p.store.DB(), 2023)
	if err != nil {
		t.Fatal(err)
	}
	for _, rd := range rounds {
		for _, s := range rd.Sessions {
			if rd.Round == round && s.Session == f1.Race {
				return out, s
			}
		}
	}
	t.Fatalf("no race of round %d", round)
	return nil, f1.SessionInfo{}
}

// TestPipelineFastestLapNotOfficial publishes a race whose fastest lap
// comes from live lap times: nobody scores the fastest-lap point and the
// race is provisional. A fastest lap read from laps that are missing could
// go to the wrong car, so the point waits; here Pérez (2nd) is given the
// lap, which a partial reading could do. Then the official result of the
// holder arrives: the point is his and the race is no longer provisional.
func TestPipelineFastestLapNotOfficial(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		p := newPipeline(t, d, enginetest.JetStream)
		res := live(t)
		for i := range res {
			res[i].FastestLap = res[i].DriverCode == "PER"
		}
		p.publish(f1.TopicResults, anys(res)...)
		p.catchUp()
		cl, s := classification(t, p, 1)
		if per := cl["PER"]; per.Points != 18 || per.FastestLap || !s.Provisional {
			t.Errorf("Pérez, unofficial fastest lap: %v points, fastest lap %v, race provisional %v; want 18, false, true",
				per.Points, per.FastestLap, s.Provisional)
		}
		if ds, _ := standing(t, p.store.DB(), 2023, 1, "sergio-perez"); ds.Points != 18 {
			t.Errorf("Pérez in the standings: %v, want 18 (no fastest-lap point)", ds.Points)
		}

		// The official result of Verstappen's car, with the fastest lap
		// (a made-up holder: the point is what is checked).
		ver := res[0]
		ver.FastestLap, ver.FastestLapOfficial = true, true
		p.publish(f1.TopicResults, ver)
		p.catchUp()
		cl, s = classification(t, p, 1)
		if v := cl["VER"]; v.Points != 26 || !v.FastestLap || s.Provisional || cl["PER"].FastestLap {
			t.Errorf("after the official fastest lap: Verstappen %v points, fastest lap %v; race provisional %v; want 26, true, false",
				v.Points, v.FastestLap, s.Provisional)
		}
	})
}

// TestPipelineOfficialPoints publishes results with the source's official
// points: the official figure counts, even where the rules give another
// (which is kept, and flagged); a figure of the place's points plus one
// tells the fastest lap (OpenF1's session_result has points, no
// fastest-lap flag), and the race is not provisional.
func TestPipelineOfficialPoints(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		p := newPipeline(t, d, enginetest.JetStream)
		res := live(t)
		table := []float64{25, 18, 15, 12, 10, 8, 6, 4, 2, 1}
		for i := range res {
			pts := 0.0
			if i < len(table) {
				pts = table[i]
			}
			res[i].Points = ptr(pts)
			res[i].FastestLap = false
			switch res[i].DriverCode {
			case "ALO": // 3rd: the official points say he had the fastest lap
				res[i].Points = ptr(16)
			case "SAI": // 4th: a figure the rules do not give
				res[i].Points = ptr(14)
			}
		}
		p.publish(f1.TopicResults, anys(res)...)
		p.catchUp()
		cl, s := classification(t, p, 1)
		if alo := cl["ALO"]; alo.Points != 16 || !alo.FastestLap || alo.DerivedPoints != 16 || alo.PointsMismatch() {
			t.Errorf("Alonso: %v points (rules %v), fastest lap %v, mismatch %v; want 16 (rules 16), true, false",
				alo.Points, alo.DerivedPoints, alo.FastestLap, alo.PointsMismatch())
		}
		if sai := cl["SAI"]; sai.Points != 14 || sai.DerivedPoints != 12 || !sai.PointsMismatch() {
			t.Errorf("Sainz: %v points (rules %v), mismatch %v; want 14 (rules 12), true", sai.Points, sai.DerivedPoints, sai.PointsMismatch())
		}
		if s.Provisional {
			t.Error("a race with official points is provisional")
		}
		if sai, _ := standing(t, p.store.DB(), 2023, 1, "carlos-sainz-jr"); sai.Points != 14 {
			t.Errorf("Sainz in the standings: %v, want the official 14", sai.Points)
		}

		// Points removed: the official figure of Sainz's result drops to
		// 12; the audit trail records it.
		sai := res[3]
		sai.Points = ptr(12)
		p.publish(f1.TopicResults, sai)
		p.catchUp()
		if got, _ := standing(t, p.store.DB(), 2023, 1, "carlos-sainz-jr"); got.Points != 12 {
			t.Errorf("Sainz after the correction: %v, want 12", got.Points)
		}
		as, err := f1.Amendments(context.Background(), p.store.DB(), 2023, 1, f1.Race)
		if err != nil {
			t.Fatal(err)
		}
		notes := f1.Notes(as)
		if len(as) != 1 || as[0].Field != f1.FieldPoints || *as[0].Old != "14" || *as[0].New != "12" || as[0].Source != f1.SourceOpenF1REST ||
			len(notes) != 1 || notes[0].Text != "Carlos Sainz Jr. points 14 → 12, −2 pts" {
			t.Errorf("audit trail %+v, notes %+v; want Sainz's points 14 → 12", as, notes)
		}

		// The same gap written another way (F1DB's "+1:12.647" for
		// OpenF1's +72.647) is no amendment.
		for _, r := range res {
			if r.DriverCode == "BOT" {
				if r.Time != "+72.647" {
					t.Fatalf("Bottas's gap %q, want +72.647", r.Time)
				}
				r.Time = "+1:12.647"
				p.publish(f1.TopicResults, r)
			}
		}
		p.catchUp()
		if as, err := f1.Amendments(context.Background(), p.store.DB(), 2023, 1, f1.Race); err != nil || len(as) != 1 {
			t.Errorf("after a gap written another way: %v, audit trail %+v; want Sainz's points only", err, as)
		}
	})
}
