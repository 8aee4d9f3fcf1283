package f1_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// each runs fn on every store dialect and every bus engine.
func each(t *testing.T, fn func(t *testing.T, d store.Dialect, e enginetest.Engine)) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		enginetest.Each(t, func(t *testing.T, e enginetest.Engine) {
			fn(t, d, e)
		})
	})
}

// pipeline is a bus and a store with the F1 processors.
type pipeline struct {
	t     *testing.T
	bus   bus.Bus
	store *store.Store
	mu    sync.Mutex
	seen  [][2]int // notifications
}

func newPipeline(t *testing.T, d store.Dialect, e enginetest.Engine) *pipeline {
	return &pipeline{t: t, bus: enginetest.Open(t, e), store: storetest.Open(t, d)}
}

func (p *pipeline) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	p.t.Cleanup(cancel)
	return ctx
}

// catchUp runs the processors until they have handled every message.
func (p *pipeline) catchUp() {
	p.t.Helper()
	procs := f1.Processors(func(season, round int) {
		p.mu.Lock()
		p.seen = append(p.seen, [2]int{season, round})
		p.mu.Unlock()
	})
	env := stream.Env{Bus: p.bus, Store: p.store, MaxBatch: 250}
	if err := ops.CatchUp(p.ctx(), env, procs, nil); err != nil {
		p.t.Fatalf("catch up: %v", err)
	}
}

func (p *pipeline) replay(a *archive.Archive, opts archive.ReplayOptions) int {
	p.t.Helper()
	n, err := archive.Replay(p.ctx(), p.bus, a, opts, nil)
	if err != nil {
		p.t.Fatalf("replay %+v: %v", opts, err)
	}
	return n
}

func (p *pipeline) publish(topic string, values ...any) {
	p.t.Helper()
	var msgs []*bus.Message
	for _, v := range values {
		m := &bus.Message{Topic: topic, Headers: map[string]string{"content-type": "application/json"}}
		switch v := v.(type) {
		case string:
			m.Value = []byte(v)
		case f1.Result:
			m.Key = v.Key()
			m.Value = mustJSON(p.t, v)
		default:
			m.Value = mustJSON(p.t, v)
		}
		msgs = append(msgs, m)
	}
	if err := p.bus.Publish(p.ctx(), msgs...); err != nil {
		p.t.Fatalf("publish: %v", err)
	}
}

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func (p *pipeline) count(table string) int {
	p.t.Helper()
	var n int
	if err := p.store.DB().QueryRow(`SELECT COUNT(*) FROM ` + table).Scan(&n); err != nil {
		p.t.Fatalf("count %s: %v", table, err)
	}
	return n
}

// expectStandings checks the standings tables against f1.Standings of the
// given results, every round and every row.
func (p *pipeline) expectStandings(season int, results []f1.ScoredResult, penalties []f1.Penalty) {
	p.t.Helper()
	ctx := p.ctx()
	wantD, wantC := f1.Standings(season, results, penalties)
	var rounds []int
	for _, d := range wantD {
		if !slices.Contains(rounds, d.Round) {
			rounds = append(rounds, d.Round)
		}
	}
	for _, round := range rounds {
		got, err := f1.DriverStandings(ctx, p.store.DB(), season, round)
		if err != nil {
			p.t.Fatal(err)
		}
		var want []f1.DriverStanding
		for _, d := range wantD {
			if d.Round == round {
				want = append(want, d)
			}
		}
		if !slices.Equal(got, want) {
			p.t.Errorf("drivers' standings of %d after round %d:\n got %v\nwant %v", season, round, got, want)
		}
		gotC, err := f1.ConstructorStandings(ctx, p.store.DB(), season, round)
		if err != nil {
			p.t.Fatal(err)
		}
		var wantCR []f1.ConstructorStanding
		for _, c := range wantC {
			if c.Round == round {
				wantCR = append(wantCR, c)
			}
		}
		if !slices.Equal(gotC, wantCR) {
			p.t.Errorf("constructors' standings of %d after round %d:\n got %v\nwant %v", season, round, gotC, wantCR)
		}
	}
	if n := p.count("f1_driver_standings WHERE season = " + fmt.Sprint(season)); n != len(wantD) {
		p.t.Errorf("f1_driver_standings has %d rows of %d, want %d", n, season, len(wantD))
	}
}

// archiveResults returns the scored archive results of some rounds.
func archiveResults(t testing.TB, a *archive.Archive, season, from, to int) []f1.ScoredResult {
	var out []f1.ScoredResult
	for _, r := range scored(t, a, season) {
		if r.Round >= from && r.Round <= to {
			out = append(out, r)
		}
	}
	return out
}

func standing(t *testing.T, q f1.Queryer, season, round int, id string) (f1.DriverStanding, f1.ConstructorStanding) {
	t.Helper()
	ds, err := f1.DriverStandings(context.Background(), q, season, round)
	if err != nil {
		t.Fatal(err)
	}
	cs, err := f1.ConstructorStandings(context.Background(), q, season, round)
	if err != nil {
		t.Fatal(err)
	}
	var d f1.DriverStanding
	var c f1.ConstructorStanding
	for _, x := range ds {
		if x.DriverID == id {
			d = x
		}
	}
	for _, x := range cs {
		if x.TeamID == id {
			c = x
		}
	}
	return d, c
}

// TestPipelineSeasons replays 2020 and 2021 onto the bus, runs the
// processors until they caught up, and checks every table.
func TestPipelineSeasons(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	each(t, func(t *testing.T, d store.Dialect, e enginetest.Engine) {
		p := newPipeline(t, d, e)
		s2020, _ := a.Season(2020)
		n := p.replay(a, archive.ReplayOptions{Season: 2020})
		n += p.replay(a, archive.ReplayOptions{Season: 2021})
		p.catchUp()
		if got := p.count("f1_results") + p.count("f1_penalties"); got != n {
			t.Fatalf("%d results and penalties stored, %d published", got, n)
		}
		p.expectStandings(2020, archiveResults(t, a, 2020, 1, 99), s2020.Penalties)
		p.expectStandings(2021, archiveResults(t, a, 2021, 1, 99), nil)

		db := p.store.DB()
		ver, _ := standing(t, db, 2021, 0, "max-verstappen")
		ham, _ := standing(t, db, 2021, 0, "lewis-hamilton")
		if ver.Position != 1 || ver.Points != 395.5 || ham.Position != 2 || ham.Points != 387.5 {
			t.Errorf("2021 final: %+v, %+v; want Verstappen 1st on 395.5, Hamilton 2nd on 387.5", ver, ham)
		}
		_, rp := standing(t, db, 2020, 0, "racing-point")
		_, rp4 := standing(t, db, 2020, 4, "racing-point")
		if rp.Points != 195 || rp.Position != 4 {
			t.Errorf("2020 final Racing Point: %+v, want 195 points in 4th", rp)
		}
		if total := sumTeam(archiveResults(t, a, 2020, 1, 4), "racing-point"); rp4.Points != total {
			t.Errorf("Racing Point after round 4: %v points, want %v (the penalty counts from round 5)", rp4.Points, total)
		}

		// The classification of Spa 2021: half points.
		cl, err := f1.Classification(context.Background(), db, 2021, 12, f1.Race)
		if err != nil {
			t.Fatal(err)
		}
		if len(cl) != 20 || cl[0].DriverID != "max-verstappen" || cl[0].Points != 12.5 || cl[0].PointsScale != f1.ScaleHalf {
			t.Errorf("Spa 2021: %d results, first %+v; want 20, Verstappen on 12.5 (half points)", len(cl), first(cl))
		}
		rd, _ := a.Round(2021, 12)
		rs, _ := rd.Session(f1.Race)
		for i, r := range cl {
			if i < len(rs.Results) && (r.CarNumber != rs.Results[i].CarNumber || r.Points != *rs.Results[i].Points || r.PointsMismatch()) {
				t.Errorf("Spa 2021 line %d: car %d on %v (rules: %v), official car %d on %v", i+1, r.CarNumber, r.Points, r.DerivedPoints,
					rs.Results[i].CarNumber, *rs.Results[i].Points)
			}
		}
		checkNavigation(t, p, a)
	})
}

func first(rs []f1.ScoredResult) any {
	if len(rs) == 0 {
		return nil
	}
	return rs[0]
}

func sumTeam(rs []f1.ScoredResult, team string) float64 {
	var s float64
	for _, r := range rs {
		if r.TeamID == team {
			s += r.Points
		}
	}
	return s
}

// checkNavigation checks the season, round and driver queries after 2020
// and 2021 were replayed.
func checkNavigation(t *testing.T, p *pipeline, a *archive.Archive) {
	t.Helper()
	ctx := context.Background()
	db := p.store.DB()
	seasons, err := f1.Seasons(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	if len(seasons) != 2 || seasons[0].Season != 2021 || seasons[0].Rounds != 22 || seasons[0].LastRound != 22 ||
		seasons[1].Season != 2020 || seasons[1].Rounds != 17 || seasons[0].Version < 1 {
		t.Errorf("seasons: %+v; want 2021 (22 rounds) then 2020 (17 rounds)", seasons)
	}
	rounds, err := f1.Rounds(ctx, db, 2021)
	if err != nil {
		t.Fatal(err)
	}
	if len(rounds) != 22 {
		t.Fatalf("2021 has %d rounds, want 22", len(rounds))
	}
	for _, r := range rounds {
		ar, _ := a.Round(2021, r.Round)
		if r.GrandPrix != ar.GrandPrix || r.Date != ar.Date || r.HasSprint != ar.HasSprint || len(r.Sessions) != len(ar.Sessions) {
			t.Errorf("round %d: %+v, archive %s %s sprint=%v", r.Round, r, ar.GrandPrix, ar.Date, ar.HasSprint)
			continue
		}
		for i, s := range r.Sessions {
			as := ar.Sessions[i]
			if s.Session != as.Kind || s.Cars != len(as.Results) || s.Received != len(as.Results) || s.PointsScale != as.PointsScale {
				t.Errorf("round %d session %d: %+v, archive %s with %d cars", r.Round, i, s, as.Kind, len(as.Results))
			}
		}
	}
	prog, err := f1.Progression(ctx, db, 2021)
	if err != nil {
		t.Fatal(err)
	}
	verRound1 := 0.0
	for _, r := range archiveResults(t, a, 2021, 1, 1) {
		if r.DriverID == "max-verstappen" {
			verRound1 += r.Points
		}
	}
	if len(prog.Rounds) != 22 || len(prog.Drivers) != 21 || len(prog.Constructors) != 10 ||
		prog.Drivers[0].ID != "max-verstappen" || prog.Drivers[0].Points[21] != 395.5 || prog.Drivers[0].Points[0] != verRound1 {
		t.Errorf("2021 progression: %d rounds, %d drivers, %d constructors, first %+v", len(prog.Rounds), len(prog.Drivers), len(prog.Constructors), prog.Drivers[0])
	}
	for _, l := range prog.Drivers {
		if len(l.Points) != 22 || len(l.Positions) != 22 {
			t.Errorf("progression line %s has %d points and %d positions", l.ID, len(l.Points), len(l.Positions))
		}
	}
	// Mazepin's first round was round 1; Kubica's round 13.
	for _, l := range prog.Drivers {
		if l.ID == "robert-kubica" && (l.Positions[11] != 0 || l.Positions[12] == 0) {
			t.Errorf("Kubica (from round 13): positions %v", l.Positions)
		}
	}
	russell, err := f1.Driver(ctx, db, "george-russell")
	if err != nil {
		t.Fatal(err)
	}
	if len(russell.Seasons) != 2 || russell.Seasons[0].Season != 2021 || russell.Seasons[0].Points != 16 ||
		russell.Seasons[1].Points != 3 || russell.Name != "George Russell" {
		t.Errorf("Russell: %+v", russell.Seasons)
	}
	var mercedes int
	for _, r := range russell.Results {
		if r.TeamID == "mercedes" {
			mercedes++
		}
	}
	want := 0
	for _, season := range []int{2020, 2021} {
		for _, r := range archiveResults(t, a, season, 1, 99) {
			if r.DriverID == "george-russell" {
				want++
			}
		}
	}
	if mercedes != 1 || len(russell.Results) != want {
		t.Errorf("Russell: %d results (%d with Mercedes), want %d (1 with Mercedes, Sakhir 2020)", len(russell.Results), mercedes, want)
	}
	// f1_drivers: one row per driver of the season, as of the latest
	// result. Russell's 2020 is Williams's car 63 again after his Mercedes
	// race at Sakhir (round 16).
	drivers2020, err := f1.SeasonDrivers(ctx, db, 2020)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]bool{}
	for _, r := range archiveResults(t, a, 2020, 1, 99) {
		ids[r.DriverID] = true
	}
	if len(drivers2020) != len(ids) {
		t.Errorf("2020 has %d drivers in f1_drivers, %d in the results", len(drivers2020), len(ids))
	}
	for _, d := range drivers2020 {
		if d.DriverID == "george-russell" && (d.TeamID != "williams" || d.CarNumber != 63 || d.LastRound != 17 || d.DriverCode != "RUS") {
			t.Errorf("Russell in 2020: %+v, want Williams's car 63 in round 17", d)
		}
	}
	if _, err := f1.Driver(ctx, db, "juan-manuel-fangio"); !errors.Is(err, f1.ErrNotFound) {
		t.Errorf("unknown driver: %v, want ErrNotFound", err)
	}
	if ds, err := f1.DriverStandings(ctx, db, 1999, 0); err != nil || len(ds) != 0 {
		t.Errorf("standings of a season not in the store: %v, %v; want none", ds, err)
	}
}

// TestPipelineReplayTwice replays the same rounds twice: results and
// penalties are upserts, nothing counts twice.
func TestPipelineReplayTwice(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	each(t, func(t *testing.T, d store.Dialect, e enginetest.Engine) {
		p := newPipeline(t, d, e)
		opts := archive.ReplayOptions{Season: 2020, FromRound: 4, ToRound: 6}
		n := p.replay(a, opts)
		p.catchUp()
		p.replay(a, opts)
		// A second penalty message, under a new message id, is still the
		// same penalty.
		s, _ := a.Season(2020)
		p.publish(f1.TopicPenalties, s.Penalties[0])
		p.catchUp()
		if got := p.count("f1_results") + p.count("f1_penalties"); got != n {
			t.Errorf("%d results and penalties stored after two replays of %d messages", got, n)
		}
		p.expectStandings(2020, archiveResults(t, a, 2020, 4, 6), s.Penalties)
		_, rp := standing(t, p.store.DB(), 2020, 6, "racing-point")
		if want := sumTeam(archiveResults(t, a, 2020, 4, 6), "racing-point") - 15; rp.Points != want {
			t.Errorf("Racing Point after round 6: %v points, want %v (15 deducted once)", rp.Points, want)
		}
		p.mu.Lock()
		defer p.mu.Unlock()
		if !slices.Contains(p.seen, [2]int{2020, 5}) || !slices.Contains(p.seen, [2]int{2020, 4}) {
			t.Errorf("notifications %v lack 2020/4 and 2020/5", p.seen)
		}
	})
}

// provisional returns the Austin 2023 race as first classified, before
// Hamilton (2nd) and Leclerc (6th) were disqualified.
func provisional(t testing.TB, a *archive.Archive) []f1.Result {
	rd, _ := a.Round(2023, 18)
	ss, _ := rd.Session(f1.Race)
	var classified, out, ham, lec []f1.Result
	for _, r := range ss.Results {
		switch {
		case r.DriverID == "lewis-hamilton":
			ham = append(ham, r)
		case r.DriverID == "charles-leclerc":
			lec = append(lec, r)
		case r.Status == f1.Finished:
			classified = append(classified, r)
		default:
			out = append(out, r)
		}
	}
	if len(ham) != 1 || len(lec) != 1 || ham[0].Status != f1.DSQ {
		t.Fatalf("Austin 2023 in the archive: Hamilton %v, Leclerc %v", ham, lec)
	}
	order := slices.Concat(classified[:1], ham, classified[1:4], lec, classified[4:])
	for i := range order {
		// The order as the cars crossed the line: no official points
		// figure yet, the rules give them.
		order[i].Status, order[i].Position, order[i].Order, order[i].Points, order[i].Reason = f1.Finished, at(i+1), i+1, nil, ""
	}
	for i := range out {
		out[i].Order, out[i].Points = len(order)+i+1, nil
	}
	return append(order, out...)
}

// TestPipelineAmendment publishes the Austin 2023 race as first classified,
// then the disqualifications of Hamilton and Leclerc, then the first
// classification again (a reinstatement): at each step the results are
// replaced and the standings follow.
func TestPipelineAmendment(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	prov := provisional(t, a)
	each(t, func(t *testing.T, d store.Dialect, e enginetest.Engine) {
		p := newPipeline(t, d, e)
		p.replay(a, archive.ReplayOptions{Season: 2023, FromRound: 17, ToRound: 17})
		rd, _ := a.Round(2023, 18)
		sprint, _ := rd.Session(f1.Sprint)
		race, _ := rd.Session(f1.Race)
		p.publish(f1.TopicResults, anys(sprint.Results)...)
		p.publish(f1.TopicResults, anys(prov)...)
		p.catchUp()

		before := archiveResults(t, a, 2023, 17, 17)
		sc := rules(t, 2023)
		for _, r := range append(slices.Clone(sprint.Results), prov...) {
			before = append(before, f1.ScoredResult{Result: r, Points: f1.Points(r, sc)})
		}
		p.expectStandings(2023, before, nil)
		ham, _ := standing(t, p.store.DB(), 2023, 18, "lewis-hamilton")
		_, merc := standing(t, p.store.DB(), 2023, 18, "mercedes")
		if ham.RoundPoints != 7+18 {
			t.Errorf("Hamilton in round 18 before the disqualification: %v points, want 25 (7 + 18)", ham.RoundPoints)
		}

		// The stewards' decision: the official classification replaces
		// the provisional one, car by car.
		p.publish(f1.TopicResults, anys(race.Results)...)
		p.catchUp()
		p.expectStandings(2023, archiveResults(t, a, 2023, 17, 18), nil)
		hamAfter, _ := standing(t, p.store.DB(), 2023, 18, "lewis-hamilton")
		if hamAfter.RoundPoints != 7 || hamAfter.Points != ham.Points-18 {
			t.Errorf("Hamilton after the disqualification: %+v, want 7 round points, 18 fewer than %v", hamAfter, ham.Points)
		}
		// Mercedes lose Hamilton's 18 and gain 4 with Russell, 7th to 5th.
		_, mercAfter := standing(t, p.store.DB(), 2023, 18, "mercedes")
		if mercAfter.Points != merc.Points-18+4 {
			t.Errorf("Mercedes after the disqualification: %v points, want %v", mercAfter.Points, merc.Points-18+4)
		}
		cl, err := f1.Classification(context.Background(), p.store.DB(), 2023, 18, f1.Race)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, r := range cl {
			got = append(got, fmt.Sprintf("%s:%s:%g", r.DriverCode, r.Status, r.Points))
		}
		want := "VER:FINISHED:25 NOR:FINISHED:18 SAI:FINISHED:15 PER:FINISHED:12 RUS:FINISHED:10 GAS:FINISHED:8 " +
			"STR:FINISHED:6 TSU:FINISHED:5 ALB:FINISHED:2 SAR:FINISHED:1"
		if !strings.HasPrefix(strings.Join(got, " "), want) || !strings.HasSuffix(strings.Join(got, " "), "HAM:DSQ:0 LEC:DSQ:0") {
			t.Errorf("Austin 2023 after the amendment:\n%s\nwant it to start with\n%s\nand end with HAM:DSQ:0 LEC:DSQ:0", strings.Join(got, " "), want)
		}

		// An appeal reinstates the original classification, published
		// again: everything is as before the disqualification.
		p.publish(f1.TopicResults, anys(prov)...)
		p.catchUp()
		p.expectStandings(2023, before, nil)
		hamBack, _ := standing(t, p.store.DB(), 2023, 18, "lewis-hamilton")
		_, mercBack := standing(t, p.store.DB(), 2023, 18, "mercedes")
		if hamBack != ham || mercBack != merc {
			t.Errorf("after the reinstatement: Hamilton %+v, Mercedes %+v; want them as before the disqualification: %+v, %+v",
				hamBack, mercBack, ham, merc)
		}
		cl, err = f1.Classification(context.Background(), p.store.DB(), 2023, 18, f1.Race)
		if err != nil {
			t.Fatal(err)
		}
		got = got[:0]
		for _, r := range cl {
			got = append(got, fmt.Sprintf("%s:%s:%g", r.DriverCode, r.Status, r.Points))
		}
		want = "VER:FINISHED:25 HAM:FINISHED:18 NOR:FINISHED:15 SAI:FINISHED:12 PER:FINISHED:10 LEC:FINISHED:8 " +
			"RUS:FINISHED:6 GAS:FINISHED:4 STR:FINISHED:2 TSU:FINISHED:2" // 10th and the fastest lap
		if !strings.HasPrefix(strings.Join(got, " "), want) || strings.Contains(strings.Join(got, " "), f1.DSQ) {
			t.Errorf("Austin 2023 after the reinstatement:\n%s\nwant it to start with\n%s\nand no disqualification", strings.Join(got, " "), want)
		}
	})
}

func anys[T any](s []T) []any {
	out := make([]any, len(s))
	for i, v := range s {
		out[i] = v
	}
	return out
}

// TestPipelineFastestLapMoves checks that a result taking the fastest lap
// takes its point from the car that held it.
func TestPipelineFastestLapMoves(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		p := newPipeline(t, d, enginetest.JetStream)
		rd, _ := a.Round(2023, 1)
		race, _ := rd.Session(f1.Race)
		res := slices.Clone(race.Results)
		for i := range res {
			res[i].FastestLap = i == 0 // the winner first
			res[i].Points = nil        // the rules give the points
		}
		p.publish(f1.TopicResults, anys(res)...)
		p.catchUp()
		second := res[1]
		second.FastestLap = true
		second.Points = nil
		p.publish(f1.TopicResults, second)
		p.catchUp()
		cl, err := f1.Classification(context.Background(), p.store.DB(), 2023, 1, f1.Race)
		if err != nil {
			t.Fatal(err)
		}
		if cl[0].FastestLap || cl[0].Points != 25 || !cl[1].FastestLap || cl[1].Points != 19 {
			t.Errorf("after the fastest lap moved to P2: P1 %v/%v, P2 %v/%v; want P1 25 without, P2 19 with",
				cl[0].FastestLap, cl[0].Points, cl[1].FastestLap, cl[1].Points)
		}
		ds, err := f1.DriverStandings(context.Background(), p.store.DB(), 2023, 1)
		if err != nil {
			t.Fatal(err)
		}
		if ds[0].Points != 25 || ds[1].Points != 19 {
			t.Errorf("standings after the fastest lap moved: %v", ds[:2])
		}
	})
}

// TestPipelineDeadLetters sends malformed and invalid messages: they go
// to the dead-letter topics with the reason, the valid ones are stored.
func TestPipelineDeadLetters(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	each(t, func(t *testing.T, d store.Dialect, e enginetest.Engine) {
		p := newPipeline(t, d, e)
		rd, _ := a.Round(2019, 1)
		race, _ := rd.Session(f1.Race)
		good := race.Results[0]
		noPosition := good
		noPosition.CarNumber, noPosition.Position = 98, nil
		sprint2019 := good
		sprint2019.Session = f1.Sprint
		badScale := good
		badScale.CarNumber, badScale.PointsScale = 97, "DOUBLE"
		old := good
		old.Season = 1988
		p.publish(f1.TopicResults, `{"season":`, noPosition, good, sprint2019, badScale, old, `{}`)
		p.publish(f1.TopicPenalties, `not json`,
			f1.Penalty{ID: "x", Season: 2019, Kind: "TEAM", Target: "ferrari", Points: -10, FromRound: 1},
			f1.Penalty{ID: "y", Season: 1990, Kind: f1.PenaltyDriver, Target: "ayrton-senna", Points: -10, FromRound: 1},
			f1.Penalty{ID: "z", Season: 2019, Kind: f1.PenaltyDriver, Target: "valtteri-bottas", Points: -10, FromRound: 1})
		p.catchUp()
		if n, m := p.count("f1_results"), p.count("f1_penalties"); n != 1 || m != 1 {
			t.Errorf("%d results and %d penalties stored, want the valid one of each", n, m)
		}
		// Bottas's 26 points (win and fastest lap) less the valid penalty's 10.
		if bot, _ := standing(t, p.store.DB(), 2019, 1, "valtteri-bottas"); bot.Points != 16 {
			t.Errorf("Bottas after round 1: %+v, want 16 points", bot)
		}
		wantReasons := map[string][]string{
			f1.TopicResults: {
				"decode: not a result: unexpected end of JSON input",
				"decode: invalid result 2019/1/RACE/98: a FINISHED result needs a position of 1 or more",
				"decode: result 2019/1/SPRINT/77: season 2019 had no sprints",
				`decode: result 2019/1/RACE/97: points scale "DOUBLE": must be one of`,
				"decode: result 1988/1/RACE/77: season 1988: the points systems before 2010 are not modelled",
				"decode: invalid result 0/0//0: season 0 out of range",
			},
			f1.TopicPenalties: {
				"decode: not a penalty: invalid character 'o' in literal null (expecting 'u')",
				`decode: invalid penalty "x": kind "TEAM": must be DRIVER or CONSTRUCTOR`,
				`decode: penalty "y": season 1990: the points systems before 2010 are not modelled`,
			},
		}
		for topic, want := range wantReasons {
			dead, err := ops.DeadLetters(p.ctx(), p.bus, topic)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range dead {
				got = append(got, m.Headers[bus.HeaderDLQReason])
				if m.Topic != bus.DLQTopic(topic) || m.Headers["content-type"] != "application/json" {
					t.Errorf("dead letter on %s with headers %v", m.Topic, m.Headers)
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if len(got) != len(want) {
				t.Errorf("%s: dead letters\n%s\nwant\n%s", topic, strings.Join(got, "\n"), strings.Join(want, "\n"))
				continue
			}
			for i := range want {
				if !strings.HasPrefix(got[i], want[i]) {
					t.Errorf("%s: dead letter %q, want %q", topic, got[i], want[i])
				}
			}
		}
	})
}

// TestPipelineTwoWorkers runs the processors in two workers on one Kafka
// cluster, as `podium worker` twice would: the partitions of each topic
// spread over them, and both change the same season at once. The
// recomputations of the season are serialized and the tables end up right.
func TestPipelineTwoWorkers(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		cluster := enginetest.Start(t, enginetest.Kafka)
		s := storetest.Open(t, d)
		open := func() bus.Bus {
			b, err := cluster.Open(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = b.Close() })
			return b
		}
		b1, b2 := open(), open()
		p := &pipeline{t: t, bus: b1, store: s}
		s2020, _ := a.Season(2020)
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		procs := f1.Processors(nil)
		var specs []stream.Spec
		for _, pr := range procs {
			specs = append(specs, pr.Spec())
			if err := stream.Migrate(ctx, s, pr.Spec()); err != nil {
				t.Fatal(err)
			}
		}
		runCtx, stop := context.WithCancel(ctx)
		defer stop()
		done := make(chan error, 4)
		start := func(b bus.Bus) {
			for _, pr := range f1.Processors(nil) {
				go func() { done <- pr.Run(runCtx, stream.Env{Bus: b, Store: s, MaxBatch: 20}) }()
			}
		}
		start(b1)
		p.replay(a, archive.ReplayOptions{Season: 2020, ToRound: 8})
		// The second worker joins mid-stream, forcing a rebalance.
		start(b2)
		p.replay(a, archive.ReplayOptions{Season: 2020, FromRound: 9})
		p.publish(f1.TopicPenalties, s2020.Penalties[0])
		for {
			lags, err := stream.Lags(ctx, b1, s.DB(), specs)
			if err != nil {
				t.Fatal(err)
			}
			var lag int64
			for _, l := range lags {
				lag += l.Lag
			}
			if lag == 0 {
				break
			}
			select {
			case <-ctx.Done():
				t.Fatalf("workers did not catch up: %d messages left", lag)
			case <-time.After(20 * time.Millisecond):
			}
		}
		stop()
		for range 4 {
			if err := <-done; err != nil {
				t.Errorf("worker: %v", err)
			}
		}
		p.expectStandings(2020, archiveResults(t, a, 2020, 1, 99), s2020.Penalties)
	})
}

// TestHandleResultsBatchIsSequential checks that a batch holding several
// results of one car, and several holders of a session's fastest lap, ends
// as if its results had come one at a time.
func TestHandleResultsBatchIsSequential(t *testing.T) {
	t.Parallel()
	a := loadArchive(t)
	rd, _ := a.Round(2023, 1)
	race, _ := rd.Session(f1.Race)
	car := func(i int, fastest bool) f1.Result {
		r := race.Results[i]
		r.FastestLap = fastest
		return r
	}
	dsq := race.Results[1]
	dsq.Status, dsq.Position = f1.DSQ, nil
	tests := []struct {
		name  string
		first []f1.Result // committed before the batch
		batch []f1.Result
	}{
		{"the last holder keeps the lap", nil, []f1.Result{car(0, true), car(1, true), car(2, true)}},
		{"a holder amended without the lap", []f1.Result{car(3, true)}, []f1.Result{car(0, true), car(1, true), car(1, false)}},
		{"the lap leaves a car outside the batch", []f1.Result{car(3, true)}, []f1.Result{car(0, true), car(0, false)}},
		{"a car amended twice", nil, []f1.Result{car(1, true), dsq, car(1, false), car(0, false)}},
		{"a batch without the lap", []f1.Result{car(3, true)}, []f1.Result{car(0, false), car(1, false)}},
	}
	records := func(rs []f1.Result) []stream.Record[f1.Result] {
		out := make([]stream.Record[f1.Result], len(rs))
		for i, r := range rs {
			out[i] = stream.Record[f1.Result]{Value: r}
		}
		return out
	}
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				ctx := context.Background()
				state := func(batches ...[]f1.Result) string {
					s := storetest.Open(t, d)
					for _, p := range f1.Processors(nil) {
						if err := stream.Migrate(ctx, s, p.Spec()); err != nil {
							t.Fatal(err)
						}
					}
					for _, b := range batches {
						if err := s.InTx(ctx, func(tx *sql.Tx) error { return f1.HandleResults(ctx, tx, records(b)) }); err != nil {
							t.Fatal(err)
						}
					}
					cl, err := f1.Classification(ctx, s.DB(), 2023, 1, f1.Race)
					if err != nil {
						t.Fatal(err)
					}
					ds, err := f1.DriverStandings(ctx, s.DB(), 2023, 1)
					if err != nil {
						t.Fatal(err)
					}
					var b strings.Builder
					for _, r := range cl {
						fmt.Fprintf(&b, "%s:%s:%v:%g ", r.DriverCode, r.Status, r.FastestLap, r.Points)
					}
					for _, d := range ds {
						fmt.Fprintf(&b, "%d.%s:%g ", d.Position, d.DriverCode, d.Points)
					}
					return b.String()
				}
				var oneByOne [][]f1.Result
				if tt.first != nil {
					oneByOne = append(oneByOne, tt.first)
				}
				for _, r := range tt.batch {
					oneByOne = append(oneByOne, []f1.Result{r})
				}
				var batched [][]f1.Result
				if tt.first != nil {
					batched = append(batched, tt.first)
				}
				batched = append(batched, tt.batch)
				if got, want := state(batched...), state(oneByOne...); got != want {
					t.Errorf("in one batch:\n%s\none at a time:\n%s", got, want)
				}
			})
		}
	})
}
