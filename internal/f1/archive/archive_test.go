package archive_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/progress"
)

func load(t testing.TB) *archive.Archive {
	t.Helper()
	a, err := archive.Load()
	if err != nil {
		t.Fatalf("load the archive: %v", err)
	}
	return a
}

func TestSeasons(t *testing.T) {
	t.Parallel()
	a := load(t)
	if b, _ := archive.Load(); b != a {
		t.Errorf("Load parsed the archive twice")
	}
	want := map[int][2]int{ // rounds, sprints
		2019: {21, 0}, 2020: {17, 0}, 2021: {22, 3}, 2022: {22, 3}, 2023: {22, 6}, 2024: {24, 6}, 2025: {24, 6},
	}
	if got := a.Seasons(); len(got) != len(want) {
		t.Fatalf("seasons %v, want 2019 to 2025", got)
	}
	for year, w := range want {
		s, ok := a.Season(year)
		if !ok {
			t.Errorf("no season %d", year)
			continue
		}
		sprints := 0
		for i, r := range s.Rounds {
			if r.Round != i+1 || r.Season != year {
				t.Errorf("%d: round %d at index %d", year, r.Round, i)
			}
			if r.HasSprint {
				sprints++
			}
			kinds := ""
			for _, ss := range r.Sessions {
				kinds += ss.Kind + " "
			}
			if want := map[bool]string{true: "SPRINT RACE ", false: "RACE "}[r.HasSprint]; kinds != want {
				t.Errorf("%d/%d: sessions %q, want %q", year, r.Round, kinds, want)
			}
		}
		if len(s.Rounds) != w[0] || sprints != w[1] {
			t.Errorf("%d: %d rounds and %d sprints, want %d and %d", year, len(s.Rounds), sprints, w[0], w[1])
		}
	}
}

// TestPointsScales checks that every session pays full points but Spa
// 2021, whatever the lap count says (Japan 2022 ran 28 of 53 laps).
func TestPointsScales(t *testing.T) {
	t.Parallel()
	a := load(t)
	for _, year := range a.Seasons() {
		s, _ := a.Season(year)
		for _, r := range s.Rounds {
			for _, ss := range r.Sessions {
				want := f1.ScaleFull
				if year == 2021 && r.Round == 12 && ss.Kind == f1.Race {
					want = f1.ScaleHalf
				}
				if ss.PointsScale != want {
					t.Errorf("%d/%d %s: scale %s, want %s", year, r.Round, ss.Kind, ss.PointsScale, want)
				}
				for _, res := range ss.Results {
					if res.PointsScale != ss.PointsScale {
						t.Errorf("%s: scale %s in a %s session", res.Key(), res.PointsScale, ss.PointsScale)
					}
				}
			}
		}
	}
	japan, _ := a.Round(2022, 18)
	if japan.GrandPrix != "Japanese Grand Prix" || japan.Laps != 28 || japan.ScheduledLaps != 53 {
		t.Errorf("Japan 2022: %+v", japan)
	}
}

// TestResultShape checks the results of one weekend field by field.
func TestResultShape(t *testing.T) {
	t.Parallel()
	a := load(t)
	rd, ok := a.Round(2023, 18)
	if !ok || rd.GrandPrix != "United States Grand Prix" || rd.Date != "2023-10-22" || !rd.HasSprint {
		t.Fatalf("2023 round 18: %+v", rd)
	}
	race, _ := rd.Session(f1.Race)
	if len(race.Results) != 20 {
		t.Fatalf("Austin 2023 race: %d results", len(race.Results))
	}
	ver := race.Results[0]
	want := f1.Result{Season: 2023, Round: 18, Session: f1.Race, GrandPrix: "United States Grand Prix", Date: "2023-10-22",
		PointsScale: f1.ScaleFull, CarNumber: 1, DriverID: "max-verstappen", DriverCode: "VER", DriverName: "Max Verstappen",
		TeamID: "red-bull", TeamName: "Red Bull", TeamColour: "3671C6", Status: f1.Finished, Order: 1, Laps: 56, Cars: 20,
		FastestLapOfficial: true, Source: f1.SourceArchive}
	got := ver
	if got.Position == nil || *got.Position != 1 || got.Grid == nil || got.Time == "" || got.Points == nil || *got.Points != 25 {
		t.Fatalf("Verstappen: position %v, grid %v, time %q, points %v", got.Position, got.Grid, got.Time, got.Points)
	}
	got.Position, got.Grid, got.Time, got.Points = nil, nil, "", nil
	if got != want {
		t.Errorf("Verstappen in Austin 2023:\n got %+v\nwant %+v", got, want)
	}
	for i, r := range race.Results {
		if r.Order != i+1 || r.Cars != 20 {
			t.Errorf("line %d: order %d of %d", i+1, r.Order, r.Cars)
		}
		if (r.Position != nil) != (r.Status == f1.Finished) {
			t.Errorf("line %d: %s with position %v", i+1, r.Status, r.Position)
		}
		if r.Position != nil && *r.Position != i+1 {
			t.Errorf("line %d: classified P%d", i+1, *r.Position)
		}
	}
	last := race.Results[19]
	if last.DriverID != "charles-leclerc" || last.Status != f1.DSQ || *last.Points != 0 || last.Reason != "Illegal skid block wear" ||
		last.Source != f1.SourceArchive {
		t.Errorf("last line: %+v, want Leclerc disqualified for skid block wear, 0 points, from the archive", last)
	}
	if r := race.Results[7]; r.DriverID != "yuki-tsunoda" || !r.FastestLap || !r.FastestLapOfficial || *r.Points != 5 {
		t.Errorf("8th: %+v with %v points, want Tsunoda with the official fastest lap and 5 points", r, *r.Points)
	}
	// A pit-lane start has no grid position.
	pl := 0
	s, _ := a.Season(2023)
	for _, r := range s.Results(1, 22) {
		if r.Grid == nil {
			pl++
		}
		if err := r.Validate(); err != nil {
			t.Errorf("%s: %v", r.Key(), err)
		}
	}
	if pl == 0 {
		t.Errorf("no result of 2023 without a grid position (pit lane)")
	}
}

func TestEntrant(t *testing.T) {
	t.Parallel()
	a := load(t)
	tests := []struct {
		season, car    int
		driver, team   string
		ok             bool
		round          int // for EntrantAt; 0 skips
		roundTeam      string
		roundTeamFound bool
	}{
		{2023, 1, "max-verstappen", "red-bull", true, 5, "red-bull", true},
		{2025, 30, "liam-lawson", "racing-bulls", true, 1, "red-bull", true},
		{2025, 22, "yuki-tsunoda", "red-bull", true, 2, "racing-bulls", true},
		{2020, 63, "george-russell", "williams", true, 16, "mercedes", true},
		{2019, 10, "pierre-gasly", "toro-rosso", true, 12, "red-bull", true},
		{2019, 38, "naoki-yamamoto", "toro-rosso", true, 0, "", false}, // a test driver, alone on 38
		{2022, 34, "", "", false, 0, "", false},                        // two test drivers shared 34
		{2023, 99, "", "", false, 1, "", false},
		{2018, 44, "", "", false, 1, "", false},
	}
	for _, tc := range tests {
		d, tm, ok := a.Entrant(tc.season, tc.car)
		if d != tc.driver || tm != tc.team || ok != tc.ok {
			t.Errorf("Entrant(%d, %d) = %q, %q, %v; want %q, %q, %v", tc.season, tc.car, d, tm, ok, tc.driver, tc.team, tc.ok)
		}
		if tc.round == 0 {
			continue
		}
		e, ok := a.EntrantAt(tc.season, tc.round, tc.car)
		if ok != tc.roundTeamFound || e.TeamID != tc.roundTeam {
			t.Errorf("EntrantAt(%d, %d, %d) = %+v, %v; want team %q", tc.season, tc.round, tc.car, e, ok, tc.roundTeam)
		}
	}
}

func TestRoundLookups(t *testing.T) {
	t.Parallel()
	a := load(t)
	day := func(s string) time.Time {
		d, err := time.Parse(time.DateOnly, s)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		day   string
		round int // 0: none
	}{
		{"2023-10-22", 18}, {"2023-10-20", 18}, {"2023-10-19", 18}, {"2023-10-18", 0}, {"2023-10-23", 18}, {"2023-10-24", 0},
		{"2023-11-19", 21}, // Las Vegas: Saturday night, Sunday in UTC
		{"2019-03-17", 1}, {"2025-12-07", 24}, {"2018-11-25", 0},
	} {
		r, ok := a.RoundOn(day(tc.day))
		switch {
		case tc.round == 0 && ok:
			t.Errorf("RoundOn(%s) = %d/%d, want none", tc.day, r.Season, r.Round)
		case tc.round != 0 && (!ok || r.Round != tc.round):
			t.Errorf("RoundOn(%s) = %v, %v; want round %d", tc.day, r, ok, tc.round)
		}
	}
	// The session start of a race in Australia is the day before in UTC.
	if r, ok := a.RoundOn(time.Date(2025, 3, 16, 4, 0, 0, 0, time.UTC)); !ok || r.Round != 1 {
		t.Errorf("RoundOn(Melbourne 2025 race start) = %v, %v", r, ok)
	}
	for _, tc := range []struct {
		season int
		name   string
		round  int
	}{
		{2023, "United States Grand Prix", 18}, {2023, "united states grand prix", 18}, {2023, "bahrain", 1},
		{2024, "sao-paulo", 21}, {2020, "British Grand Prix", 4}, {2020, "70th Anniversary Grand Prix", 5},
		{2020, "silverstone", 0}, // two rounds there
		{2023, "united-states-of-america", 0}, {2023, "Narnia Grand Prix", 0}, {2030, "bahrain", 0},
	} {
		r, ok := a.RoundByGrandPrix(tc.season, tc.name)
		if (tc.round == 0) == ok || (ok && r.Round != tc.round) {
			t.Errorf("RoundByGrandPrix(%d, %q) = %v, %v; want round %d", tc.season, tc.name, r, ok, tc.round)
		}
	}
	if d, ok := a.Driver("kimi-raikkonen"); !ok || d.Name != "Kimi Räikkönen" || d.Code != "RAI" {
		t.Errorf("Driver(kimi-raikkonen) = %+v, %v", d, ok)
	}
	if tm, ok := a.Team("mclaren"); !ok || tm.Colour != "FF8000" || tm.Name != "McLaren" {
		t.Errorf("Team(mclaren) = %+v, %v", tm, ok)
	}
	for _, id := range []string{"red-bull", "ferrari", "mercedes", "mclaren", "aston-martin", "alpine", "williams",
		"haas", "kick-sauber", "racing-bulls", "rb", "alphatauri", "alfa-romeo", "racing-point", "renault", "toro-rosso"} {
		if c := archive.TeamColour(id); len(c) != 6 {
			t.Errorf("no colour for %s", id)
		}
	}
}

func TestNotice(t *testing.T) {
	t.Parallel()
	b, err := fs.ReadFile(archive.Data(), "NOTICE")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"F1DB", "https://github.com/f1db/f1db", "CC BY 4.0", "6a5845b840e68d53400f3e8db97b55c3ad2fab52"} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("NOTICE does not mention %q", want)
		}
	}
}

// TestParseErrors breaks the data files one way at a time: Parse says
// which file, which line and what is wrong.
func TestParseErrors(t *testing.T) {
	t.Parallel()
	base := fstest.MapFS{}
	err := fs.WalkDir(archive.Data(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := fs.ReadFile(archive.Data(), path)
		base[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := archive.Parse(base); err != nil {
		t.Fatalf("parse the unchanged files: %v", err)
	}
	const firstResult = "2019,1,RACE,1,1,1,valtteri-bottas,77,BOT,mercedes,58,1:25:27.325,,26,2,true,"
	tests := []struct {
		name, file, old, new, errHas string
	}{
		{"unknown driver", "results.csv", firstResult, strings.Replace(firstResult, "valtteri-bottas", "v-bottas", 1),
			`results.csv line 2: driver "v-bottas" is not in drivers.csv`},
		{"bad position text", "results.csv", firstResult, strings.Replace(firstResult, "1,1,valtteri", "1,X,valtteri", 1),
			`results.csv line 2: position_text "X" does not match position_number`},
		{"bad number", "results.csv", firstResult, strings.Replace(firstResult, ",58,", ",5x,", 1), `laps "5x": not an integer`},
		{"bad points", "results.csv", firstResult, strings.Replace(firstResult, ",26,", ",lots,", 1), `points "lots": not a number`},
		{"unknown session", "results.csv", firstResult, strings.Replace(firstResult, "RACE", "QUALI", 1), `session "QUALI"`},
		{"no such race", "results.csv", firstResult, strings.Replace(firstResult, "2019,1,", "2019,40,", 1), "no such race"},
		{"duplicate", "results.csv", firstResult, firstResult + "\n" + firstResult, "listed twice"},
		{"missing column", "results.csv", "season,round,session,", "season,round,sess,", `no column "session"`},
		{"bad rounds", "entrants.csv", "2019,antonio-giovinazzi,alfa-romeo,99,1-21,", "2019,antonio-giovinazzi,alfa-romeo,99,21-1,",
			`rounds "21-1"`},
		{"bad penalty kind", "penalties.csv", "2020,CONSTRUCTOR,", "2020,TEAM,", `kind "TEAM"`},
		{"penalty target", "penalties.csv", "2020,CONSTRUCTOR,racing-point", "2020,CONSTRUCTOR,pink-mercedes", `constructor "pink-mercedes"`},
		{"rounds out of order", "races.csv", "2019,2,bahrain", "2019,3,bahrain", "rounds must be listed in order"},
		{"bad csv", "drivers.csv", "alex-palou,", "\"alex-palou,", "drivers.csv"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			fsys := fstest.MapFS{}
			for k, v := range base {
				fsys[k] = v
			}
			data := string(base[tc.file].Data)
			if !strings.Contains(data, tc.old) {
				t.Fatalf("%s has no %q", tc.file, tc.old)
			}
			fsys[tc.file] = &fstest.MapFile{Data: []byte(strings.Replace(data, tc.old, tc.new, 1))}
			_, err := archive.Parse(fsys)
			if err == nil || !strings.Contains(err.Error(), tc.errHas) || !strings.Contains(err.Error(), tc.file) {
				t.Fatalf("Parse: %v, want an error naming %s with %q", err, tc.file, tc.errHas)
			}
		})
	}
	missing := fstest.MapFS{}
	for k, v := range base {
		if k != "penalties.csv" {
			missing[k] = v
		}
	}
	if _, err := archive.Parse(missing); err == nil || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Parse without penalties.csv: %v, want a not-exist error", err)
	}
}

func BenchmarkParse(b *testing.B) {
	for b.Loop() {
		if _, err := archive.Parse(archive.Data()); err != nil {
			b.Fatal(err)
		}
	}
}

// recorder is a bus that records what is published.
type recorder struct {
	mu    sync.Mutex
	calls [][]*bus.Message
	fail  error
	after func(calls int) // called after each recorded call
}

func (r *recorder) Publish(ctx context.Context, msgs ...*bus.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.fail != nil {
		return r.fail
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	r.calls = append(r.calls, msgs)
	if r.after != nil {
		r.after(len(r.calls))
	}
	return nil
}
func (r *recorder) EnsureTopic(context.Context, bus.TopicConfig) error { return nil }
func (r *recorder) Consume(context.Context, bus.ConsumerConfig) (bus.Consumer, error) {
	return nil, errors.New("not implemented")
}
func (r *recorder) Topics(context.Context) ([]bus.TopicInfo, error)         { return nil, nil }
func (r *recorder) Groups(context.Context, string) ([]bus.GroupInfo, error) { return nil, nil }
func (r *recorder) DeleteTopic(context.Context, string) error               { return nil }
func (r *recorder) Ping(context.Context) error                              { return nil }
func (r *recorder) PurgeKeys(context.Context, string, ...string) (bus.Purged, error) {
	return bus.Purged{}, nil
}
func (r *recorder) Close() error { return nil }
func (r *recorder) all() (out []*bus.Message) {
	for _, c := range r.calls {
		out = append(out, c...)
	}
	return out
}

func TestReplayMessages(t *testing.T) {
	t.Parallel()
	a := load(t)
	msgs, err := archive.ReplayMessages(a, archive.ReplayOptions{Season: 2020})
	if err != nil {
		t.Fatal(err)
	}
	s, _ := a.Season(2020)
	if want := len(s.Results(1, 17)) + 1; len(msgs) != want {
		t.Fatalf("%d messages, want %d results and the penalty", len(msgs), want)
	}
	ids := map[string]bool{}
	lastRound := 0
	for i, m := range msgs {
		if m.Headers["content-type"] != "application/json" || ids[m.ID] || !strings.HasPrefix(m.ID, m.Key+"#") {
			t.Errorf("message %d: key %q, id %q, headers %v", i, m.Key, m.ID, m.Headers)
		}
		ids[m.ID] = true
		if m.Topic == f1.TopicPenalties {
			// Just before the first result of round 5.
			var next f1.Result
			if err := json.Unmarshal(msgs[i+1].Value, &next); err != nil || next.Round != 5 || lastRound != 4 {
				t.Errorf("penalty at message %d, between rounds %d and %d", i, lastRound, next.Round)
			}
			var p f1.Penalty
			if err := json.Unmarshal(m.Value, &p); err != nil || p.ID != "f1db-2020-constructor-racing-point-r5" || m.Key != p.ID || p.Points != -15 {
				t.Errorf("penalty %+v (%v)", p, err)
			}
			continue
		}
		var r f1.Result
		if err := json.Unmarshal(m.Value, &r); err != nil {
			t.Fatal(err)
		}
		if m.Key != r.Key() || m.Topic != f1.TopicResults || r.Round < lastRound {
			t.Errorf("message %d: %s on %s after round %d", i, m.Key, m.Topic, lastRound)
		}
		lastRound = r.Round
	}
	// The same content has the same id; an amended one another.
	again, _ := archive.ReplayMessages(a, archive.ReplayOptions{Season: 2020, FromRound: 1, ToRound: 1})
	if again[0].ID != msgs[0].ID {
		t.Errorf("ids differ between two replays: %s, %s", again[0].ID, msgs[0].ID)
	}
	// Rounds 1-4 leave the penalty out; rounds 6-8 send it first.
	for _, tc := range []struct {
		from, to int
		first    string
		penalty  bool
	}{{1, 4, f1.TopicResults, false}, {6, 8, f1.TopicPenalties, true}, {5, 5, f1.TopicPenalties, true}} {
		msgs, err := archive.ReplayMessages(a, archive.ReplayOptions{Season: 2020, FromRound: tc.from, ToRound: tc.to})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, m := range msgs {
			if m.Topic == f1.TopicPenalties {
				n++
			}
		}
		if msgs[0].Topic != tc.first || (n == 1) != tc.penalty {
			t.Errorf("rounds %d-%d: first message on %s, %d penalties", tc.from, tc.to, msgs[0].Topic, n)
		}
	}
}

func TestReplayOptions(t *testing.T) {
	t.Parallel()
	a := load(t)
	tests := []struct {
		opts   archive.ReplayOptions
		errHas string
	}{
		{archive.ReplayOptions{Season: 2018}, "season 2018 is not in the archive: the seasons available are 2019 to 2025"},
		{archive.ReplayOptions{}, "season 0 is not in the archive"},
		{archive.ReplayOptions{Season: 2023, FromRound: 23}, "from round 23: season 2023 has rounds 1 to 22"},
		{archive.ReplayOptions{Season: 2023, ToRound: -1}, "to round -1"},
		{archive.ReplayOptions{Season: 2023, FromRound: 5, ToRound: 4}, "from round 5 is after to round 4"},
		{archive.ReplayOptions{Season: 2023, Interval: -time.Second}, "interval -1s: must not be negative"},
	}
	for _, tc := range tests {
		_, err := archive.Replay(context.Background(), &recorder{}, a, tc.opts, nil)
		if err == nil || !strings.Contains(err.Error(), tc.errHas) {
			t.Errorf("Replay(%+v): %v, want an error with %q", tc.opts, err, tc.errHas)
		}
	}
	o := archive.ReplayOptions{Season: 2024, FromRound: 3}
	if err := o.Validate(a); err != nil || o.FromRound != 3 || o.ToRound != 24 {
		t.Errorf("Validate filled %+v, %v; want rounds 3 to 24", o, err)
	}
}

func TestReplayPace(t *testing.T) {
	t.Parallel()
	a := load(t)
	// As fast as possible: batches, a progress bar.
	var out bytes.Buffer
	r := &recorder{}
	n, err := archive.Replay(context.Background(), r, a, archive.ReplayOptions{Season: 2023}, progress.New(&out, "replay", 0))
	if err != nil {
		t.Fatal(err)
	}
	if len(r.all()) != n || len(r.calls) != (n+199)/200 {
		t.Errorf("published %d messages in %d calls, reported %d", len(r.all()), len(r.calls), n)
	}
	if !strings.Contains(out.String(), fmt.Sprintf("%d/%d", n, n)) {
		t.Errorf("progress bar: %q", out.String())
	}
	// With an interval: one message per tick.
	r = &recorder{}
	const interval = 5 * time.Millisecond
	start := time.Now()
	n, err = archive.Replay(context.Background(), r, a, archive.ReplayOptions{Season: 2019, ToRound: 1, Interval: interval}, nil)
	if err != nil || n != 20 {
		t.Fatalf("replay round 1 of 2019: %d, %v", n, err)
	}
	if len(r.calls) != 20 || time.Since(start) < 19*interval {
		t.Errorf("%d calls in %s, want 20 one message each, at least %s", len(r.calls), time.Since(start), 19*interval)
	}
	// Cancelled midway (after the 3rd message): returns what it sent and
	// the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r = &recorder{after: func(n int) {
		if n == 3 {
			cancel()
		}
	}}
	n, err = archive.Replay(ctx, r, a, archive.ReplayOptions{Season: 2019, Interval: time.Millisecond}, nil)
	if !errors.Is(err, context.Canceled) || n != 3 || len(r.all()) != 3 {
		t.Errorf("cancelled replay: %d sent (%d recorded), %v; want 3 and context.Canceled", n, len(r.all()), err)
	}
	// A bus error says which message failed.
	boom := errors.New("boom")
	if _, err := archive.Replay(context.Background(), &recorder{fail: boom}, a, archive.ReplayOptions{Season: 2019}, nil); !errors.Is(err, boom) ||
		!strings.Contains(err.Error(), "messages 1 to 200") {
		t.Errorf("replay on a failing bus: %v", err)
	}
}

func TestIdentities(t *testing.T) {
	t.Parallel()
	id := load(t).Identities()
	austin := time.Date(2023, 10, 21, 22, 0, 0, 0, time.UTC) // the sprint
	for _, tc := range []struct {
		season int
		date   time.Time
		name   string
		round  int
		gp     string
	}{
		{2023, austin, "United States Grand Prix", 18, "United States Grand Prix"},
		{2023, austin, "", 18, "United States Grand Prix"},
		{2023, time.Time{}, "Las Vegas Grand Prix", 21, "Las Vegas Grand Prix"},
		{2023, time.Date(2023, 2, 23, 9, 0, 0, 0, time.UTC), "Pre-Season Testing", 0, ""},
		{2022, austin, "", 0, ""}, // the date is in another season
		{2026, time.Date(2026, 3, 8, 4, 0, 0, 0, time.UTC), "Australian Grand Prix", 0, ""},
	} {
		round, gp, ok := id.Round(tc.season, tc.date, tc.name)
		if round != tc.round || gp != tc.gp || ok != (tc.round != 0) {
			t.Errorf("Round(%d, %s, %q) = %d, %q, %v; want %d, %q", tc.season, tc.date, tc.name, round, gp, ok, tc.round, tc.gp)
		}
	}
	for _, tc := range []struct {
		season, round, car int
		driver, team       string
	}{
		{2025, 1, 30, "liam-lawson", "red-bull"},
		{2025, 3, 30, "liam-lawson", "racing-bulls"},
		{2025, 0, 22, "yuki-tsunoda", "red-bull"}, // round unknown: the latest entry
		{2020, 16, 63, "george-russell", "mercedes"},
		{2026, 1, 1, "", ""},
	} {
		d, tm, ok := id.Entrant(tc.season, tc.round, tc.car)
		if d != tc.driver || tm != tc.team || ok != (tc.driver != "") {
			t.Errorf("Entrant(%d, %d, %d) = %q, %q, %v; want %q, %q", tc.season, tc.round, tc.car, d, tm, ok, tc.driver, tc.team)
		}
	}
	var zero archive.Identities
	if _, _, ok := zero.Entrant(2023, 1, 1); ok {
		t.Errorf("the zero Identities knows an entrant")
	}
}

// TestDisqualifications checks the reasons the archive gives for the
// disqualifications the race page shows: Austin 2023 (Hamilton and
// Leclerc, skid block — plank — wear) and Spa 2024 (Russell, underweight).
func TestDisqualifications(t *testing.T) {
	t.Parallel()
	a := load(t)
	got := map[string]string{}
	for _, at := range [][2]int{{2023, 18}, {2024, 14}} {
		rd, _ := a.Round(at[0], at[1])
		race, _ := rd.Session(f1.Race)
		for _, r := range race.Results {
			if r.Status == f1.DSQ {
				got[fmt.Sprintf("%d %s", r.Season, r.DriverID)] = r.Reason
				if r.Position != nil || *r.Points != 0 {
					t.Errorf("%s: disqualified with position %v and %v points", r.Key(), r.Position, *r.Points)
				}
			}
		}
	}
	want := map[string]string{"2023 lewis-hamilton": "Illegal skid block wear", "2023 charles-leclerc": "Illegal skid block wear",
		"2024 george-russell": "Car underweight"}
	if !maps.Equal(got, want) {
		t.Errorf("disqualifications: %v, want %v", got, want)
	}
}

// TestGapsInOneFormat: F1DB writes "+1 lap" and "+1:14.385"; podium
// prints a gap one way everywhere, whatever its source ("+1 LAP",
// "+2 LAPS", "+74.385", as OpenF1's gaps in seconds print).
func TestGapsInOneFormat(t *testing.T) {
	a, err := archive.Load()
	if err != nil {
		t.Fatal(err)
	}
	lapped, overAMinute := 0, 0
	for _, season := range a.Seasons() {
		s, _ := a.Season(season)
		for _, r := range s.Results(1, len(s.Rounds)) {
			switch {
			case strings.Contains(strings.ToLower(r.Time), "lap"):
				lapped++
				if n, ok := f1.ParseGapLaps(r.Time); !ok || r.Time != f1.FormatGapLaps(n) {
					t.Fatalf("%d round %d car %d: gap %q, want %q", r.Season, r.Round, r.CarNumber, r.Time, f1.FormatGapLaps(n))
				}
			case strings.HasPrefix(r.Time, "+"):
				secs, ok := f1.ParseGapSeconds(r.Time)
				if !ok || r.Time != f1.FormatGapSeconds(secs) {
					t.Fatalf("%d round %d car %d: gap %q, want %q", r.Season, r.Round, r.CarNumber, r.Time, f1.FormatGapSeconds(secs))
				}
				if secs >= 60 {
					overAMinute++
				}
			}
		}
	}
	if lapped == 0 || overAMinute == 0 {
		t.Fatalf("%d lapped cars and %d gaps over a minute in the archive: the test proves nothing", lapped, overAMinute)
	}
	// Austin 2023: Tsunoda 8th, 1:14.385 behind in F1DB.
	rd, _ := a.Round(2023, 18)
	race, _ := rd.Session(f1.Race)
	for _, r := range race.Results {
		if r.DriverCode == "TSU" && r.Time != "+74.385" {
			t.Errorf("Tsunoda at Austin 2023: gap %q, want +74.385", r.Time)
		}
	}
}

// TestSprintDate: a sprint is dated on its own day, the Saturday before the
// race (the 2023 Azerbaijan sprint on 29 April, the race on the 30th).
func TestSprintDate(t *testing.T) {
	a, err := archive.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ kind, want string }{{f1.Sprint, "2023-04-29"}, {f1.Race, "2023-04-30"}} {
		res, ok := a.SessionResults(2023, 4, tc.kind)
		if !ok || len(res) == 0 {
			t.Fatalf("no %s results of 2023 round 4", tc.kind)
		}
		for _, r := range res {
			if r.Date != tc.want {
				t.Fatalf("2023 Azerbaijan %s: car %d dated %s, want %s", tc.kind, r.CarNumber, r.Date, tc.want)
			}
		}
	}
}
