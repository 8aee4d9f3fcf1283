package dashboard_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/f1/dashboard"
	"github.com/podiumhq/podium/internal/f1/openf1"
	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/web"
)

// headshotURL is the headshot given to one 2023 result.
const headshotURL = "https://media.example.invalid/d_driver_fallback_image.png/1col/image.png"

// calendar is the archive's calendar, as podium serve passes it.
func calendar(t testing.TB) func(int) (f1.Calendar, bool) {
	arc, err := archive.Load()
	if err != nil {
		t.Fatal(err)
	}
	return func(season int) (f1.Calendar, bool) {
		s, ok := arc.Season(season)
		if !ok {
			return f1.Calendar{}, false
		}
		return s.Calendar(), true
	}
}

func testContext(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// publish publishes values as JSON messages of topic, keyed by key.
func publish(t testing.TB, b bus.Bus, topic string, key func(any) string, values ...any) {
	t.Helper()
	var msgs []*bus.Message
	for _, v := range values {
		raw, err := json.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		msgs = append(msgs, &bus.Message{Topic: topic, Key: key(v), Value: raw})
	}
	if err := b.Publish(testContext(t), msgs...); err != nil {
		t.Fatalf("publish to %s: %v", topic, err)
	}
}

func resultKey(v any) string { return v.(f1.Result).Key() }

// fill replays the 2021 season and the first two rounds of 2023 into a
// store through the F1 processors, and adds a result with a headshot and
// one with markup in its names.
func fill(t *testing.T, d store.Dialect) *store.Store {
	t.Helper()
	ctx := testContext(t)
	b := enginetest.Open(t, enginetest.JetStream)
	st := storetest.Open(t, d)
	arc, err := archive.Load()
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range []archive.ReplayOptions{{Season: 2021}, {Season: 2023, ToRound: 2}} {
		if _, err := archive.Replay(ctx, b, arc, o, nil); err != nil {
			t.Fatalf("replay %+v: %v", o, err)
		}
	}
	s23, _ := arc.Season(2023)
	race, _ := s23.Rounds[1].Session(f1.Race)
	withHeadshot := race.Results[0] // Pérez won in Jeddah
	withHeadshot.HeadshotURL = headshotURL
	odd := race.Results[19]
	odd.Round, odd.GrandPrix, odd.DriverName = 3, `<script>alert("gp")</script> Grand Prix`, `Bobby "Tables" <b>`
	odd.DriverID = "bobby-tables"
	publish(t, b, f1.TopicResults, resultKey, withHeadshot, odd)
	if err := ops.CatchUp(ctx, stream.Env{Bus: b, Store: st, MaxBatch: 500}, f1.Processors(nil), nil); err != nil {
		t.Fatalf("apply the replay: %v", err)
	}
	return st
}

// live returns a live state with 2023 round 4 (no results in the store)
// in progress.
func live(t *testing.T) *dashboard.Live {
	l := dashboard.NewLive()
	at := time.Date(2023, 4, 30, 11, 5, 0, 0, time.UTC)
	pos := func(car, p int, sec int) openf1.LiveUpdate {
		return openf1.LiveUpdate{Kind: openf1.KindPosition, Season: 2023, Round: 4, Session: f1.Race, GrandPrix: "Azerbaijan Grand Prix",
			DriverNumber: car, Position: &p, Date: at.Add(time.Duration(sec) * time.Second)}
	}
	gap := func(car int, g, iv float64) openf1.LiveUpdate {
		lead, in := openf1.SecondsGap(g), openf1.SecondsGap(iv)
		return openf1.LiveUpdate{Kind: openf1.KindInterval, Season: 2023, Round: 4, Session: f1.Race, DriverNumber: car,
			GapToLeader: &lead, Interval: &in, Date: at}
	}
	for _, u := range []openf1.LiveUpdate{
		pos(11, 1, 0), pos(1, 2, 0), pos(16, 3, 0), gap(1, 2.5, 2.5), gap(16, 4.75, 2.25),
		{Kind: openf1.KindLap, Season: 2023, Round: 4, Session: f1.Race, DriverNumber: 11, LapNumber: 12},
		{Kind: openf1.KindRaceControl, Season: 2023, Round: 4, Session: f1.Race, Category: "SafetyCar", Flag: "",
			Message: "SAFETY CAR DEPLOYED", LapNumber: 11, Date: at},
	} {
		l.Apply(u)
	}
	return l
}

// newServer serves the F1 pages on st.
func newServer(t *testing.T, st *store.Store, l *dashboard.Live) *httptest.Server {
	srv := web.New(web.Config{})
	dashboard.Register(srv, dashboard.Options{DB: st.DB(), Calendar: calendar(t), Live: l})
	ts := httptest.NewServer(srv.Mux)
	t.Cleanup(ts.Close)
	return ts
}

type response struct {
	code     int
	body     string
	location string
}

func get(t *testing.T, url string, fragment bool) response {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if fragment {
		req.Header.Set("X-Podium-Fragment", "1")
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return response{res.StatusCode, string(b), res.Header.Get("Location")}
}

func TestPages(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ts := newServer(t, fill(t, d), live(t))
		for _, tc := range []struct {
			name     string
			path     string
			fragment bool
			code     int
			want     []string
			not      []string
			location string
		}{
			{name: "overview", path: "/", code: 200, want: []string{
				"<title>F1 2023 · podium</title>", "&lt;script&gt;", `id="leaders-drivers"`, "Sergio Pérez",
				`href="/race?season=2023&amp;round=3&amp;session=RACE"`, `data-live="f1 f1live"`,
				`id="live-link"`, "Live now: Azerbaijan Grand Prix", `aria-current="page"`}},
			{name: "latest race", path: "/race", code: 200, want: []string{
				// The live session is the latest.
				"Azerbaijan Grand Prix", `id="running-order"`, "SAFETY CAR DEPLOYED"},
				not: []string{"data-filter"}},
			{name: "race", path: "/race?season=2021&round=22&session=race", code: 200, want: []string{
				"<title>2021 Abu Dhabi Grand Prix · Race · podium</title>", `id="classification"`,
				`<option value="22" selected>R22 · Abu Dhabi Grand Prix</option>`, "Final",
				`href="/drivers/max-verstappen"`, "1:30:17.345", "&#43;2.256", "&#43;1 LAP", "&#43;3 LAPS",
				`<span class="badge dnf" title="Did not finish">DNF</span>`,
				`data-filter="{&#34;round&#34;:22,&#34;season&#34;:2021,&#34;session&#34;:&#34;RACE&#34;}"`,
				`<span class="badge fl" title="Fastest lap">FL</span>`, `style="background: #3671C6"`},
				not: []string{`id="running-order"`}},
			{name: "sprint", path: "/race?season=2021&round=10&session=sprint", code: 200, want: []string{
				"British Grand Prix · Sprint", `<option value="SPRINT" selected>Sprint</option>`}},
			{name: "round beyond the calendar", path: "/race?season=2021&round=30", code: 200, want: []string{
				"2021 has 22 rounds: showing the latest with results.", "Abu Dhabi Grand Prix",
				`data-filter="{&#34;round&#34;:30,&#34;season&#34;:2021}"`}},
			{name: "round to come", path: "/race?season=2023&round=6&session=race", code: 200, want: []string{
				"No result of 2023 round 6 yet", `<option value="6" selected>Round 6</option>`, "No result yet",
				`data-filter="{&#34;round&#34;:6,&#34;season&#34;:2023,&#34;session&#34;:&#34;RACE&#34;}"`}},
			{name: "missing sprint", path: "/race?season=2021&round=1&session=SPRINT", code: 200, want: []string{
				"Round 1 of 2021 has no Sprint results", "Bahrain Grand Prix",
				`data-filter="{&#34;round&#34;:1,&#34;season&#34;:2021,&#34;session&#34;:&#34;SPRINT&#34;}"`}},
			{name: "escaped", path: "/race?season=2023&round=3", code: 200, want: []string{
				"&lt;script&gt;alert(&#34;gp&#34;)&lt;/script&gt; Grand Prix", "Bobby &#34;Tables&#34; &lt;b&gt;", "1 of 20 cars in"},
				not: []string{"<script>alert", "<b>"}},
			{name: "live round", path: "/race?season=2023&round=4&session=race", code: 200, want: []string{
				`id="running-order"`, "lap 12", `<tr data-car="11"><td class="num">1</td>`,
				`href="/drivers/sergio-perez"`, "&#43;4.750", "&#43;2.250", "SAFETY CAR DEPLOYED", "Leader",
				`<option value="4" selected>R4 · Azerbaijan Grand Prix</option>`}},
			{name: "fragment", path: "/race?season=2021&round=22", fragment: true, code: 200,
				want: []string{`id="classification"`}, not: []string{"<html", "<nav"}},
			{name: "bad season", path: "/race?season=abc", code: 400, want: []string{"season &#34;abc&#34;: must be a number"}},
			{name: "bad session", path: "/race?session=qualifying", code: 400, want: []string{"must be race or sprint"}},
			{name: "champion", path: "/championship?season=2021", code: 200, want: []string{
				`id="champion"`, "is the 2021 World Champion with 395.5 points", "Mercedes win the constructors' title with 613.5",
				`id="drivers"`, `id="constructors"`, `<svg viewBox="0 0 560 300" role="img"`,
				"<title id=\"drivers-chart-t\">Drivers&#39; points after each round, 2021</title>",
				"Max Verstappen 395.5, Lewis Hamilton 387.5", "−8", "22 of 22 rounds", `data-filter="{&#34;season&#34;:2021}"`,
				`id="title-race"`, "Nothing left to win: the season is over.",
				"Max Verstappen clinched the title at round 22, Abu Dhabi Grand Prix.",
				"Mercedes clinched the title at round 22, Abu Dhabi Grand Prix.", "<td class=\"num\">Champion</td>",
				"20 more can no longer win it.", "9 more can no longer win it."}},
			{name: "after a round", path: "/championship?season=2021&round=10", code: 200, want: []string{
				"After round 10, British Grand Prix", `<option value="10" selected>After R10 · British Grand Prix</option>`},
				not: []string{`id="champion"`}},
			// Level on 369.5 before Abu Dhabi: both can still win, neither
			// by its own result alone whatever the other does.
			{name: "title open before the final round", path: "/championship?season=2021&round=21", code: 200, want: []string{
				"Still to be won: 26 points per driver, 44 per constructor (1 race with the fastest-lap point).",
				`<a href="/drivers/max-verstappen">Max Verstappen</a> <span class="code">VER</span></td><td class="num"><b>369.5</b></td><td class="num">395.5</td><td class="num">needs rivals to drop points</td>`,
				`<a href="/drivers/lewis-hamilton">Lewis Hamilton</a> <span class="code">HAM</span></td><td class="num"><b>369.5</b></td><td class="num">395.5</td>`,
				"19 more can no longer win it."},
				not: []string{"clinched the title", "<td class=\"num\">Champion</td>"}},
			{name: "disqualified, with the reason", path: "/race?season=2021&round=11", code: 200, want: []string{
				`<span class="badge dsq" title="Disqualified">DSQ</span> <span class="muted small reason">Fuel sample</span>`},
				not: []string{`id="amendments"`, `id="provisional"`}},
			{name: "season in progress", path: "/championship", code: 200, want: []string{
				"2023 championship", "After round 3", "Sergio Pérez"}, not: []string{`id="champion"`}},
			{name: "standings alias", path: "/standings?season=2021", code: 302, location: "/championship?season=2021"},
			{name: "season podium does not know", path: "/championship?season=1950", code: 200, want: []string{
				"podium has no season 1950: showing 2023.", "2023 championship", "After round 3"},
				not: []string{"Round 0", "1950 championship"}},
			{name: "driver", path: "/drivers/max-verstappen?season=2021", code: 200, want: []string{
				"<title>Max Verstappen · podium</title>", `<span class="initials" aria-hidden="true" id="initials">MV</span>`, `id="driver-results"`,
				"Abu Dhabi Grand Prix", "Winner", `id="driver-chart"`, `id="driver-history"`, "395.5"},
				not: []string{`<img class="headshot"`}},
			{name: "headshot", path: "/drivers/sergio-perez", code: 200, want: []string{
				`<img class="headshot" id="headshot" src="` + headshotURL + `"`, `onerror="this.hidden=true"`, ">SP</span>",
				`data-initials="SP"`, `style="--team: #3671C6"`,
				"<option value=\"2023\" selected>2023</option>"}},
			{name: "driver season missing", path: "/drivers/max-verstappen?season=2019", code: 200, want: []string{
				"Max Verstappen has no result in 2019: showing 2023."}},
			{name: "unknown driver", path: "/drivers/nobody", code: 404, want: []string{"no result of a driver &#34;nobody&#34;"}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				r := get(t, ts.URL+tc.path, tc.fragment)
				if r.code != tc.code {
					t.Fatalf("GET %s: status %d, want %d\n%s", tc.path, r.code, tc.code, r.body)
				}
				if r.location != tc.location {
					t.Errorf("GET %s: Location %q, want %q", tc.path, r.location, tc.location)
				}
				for _, w := range tc.want {
					if !strings.Contains(r.body, w) {
						t.Errorf("GET %s lacks %q", tc.path, w)
					}
				}
				for _, n := range tc.not {
					if strings.Contains(r.body, n) {
						t.Errorf("GET %s has %q", tc.path, n)
					}
				}
				if t.Failed() {
					t.Logf("body:\n%s", r.body)
				}
			})
		}
	})
}

func TestPagesOnAnEmptyStore(t *testing.T) {
	st := storetest.Open(t, store.SQLite)
	ctx := testContext(t)
	for _, p := range f1.Processors(nil) {
		if err := stream.Migrate(ctx, st, p.Spec()); err != nil {
			t.Fatal(err)
		}
	}
	ts := newServer(t, st, nil)
	for _, path := range []string{"/", "/race", "/championship", "/race?season=2022", "/championship?season=2022"} {
		r := get(t, ts.URL+path, false)
		if r.code != 200 {
			t.Errorf("GET %s: status %d\n%s", path, r.code, r.body)
			continue
		}
		if !strings.Contains(r.body, "No F1 results yet") && !strings.Contains(r.body, "The store has no result of 2022 yet") {
			t.Errorf("GET %s does not say the store is empty:\n%s", path, r.body)
		}
	}
}

// TestChampionshipWithoutCalendar: with no calendar of the season the
// championship page says why it has no title maths.
func TestChampionshipWithoutCalendar(t *testing.T) {
	st := fill(t, store.SQLite)
	srv := web.New(web.Config{})
	dashboard.Register(srv, dashboard.Options{DB: st.DB()})
	ts := httptest.NewServer(srv.Mux)
	t.Cleanup(ts.Close)
	r := get(t, ts.URL+"/championship?season=2021", false)
	if r.code != 200 || !strings.Contains(r.body, "The title maths need the calendar of 2021") || strings.Contains(r.body, `id="available"`) {
		t.Errorf("championship without a calendar: %d\n%s", r.code, r.body)
	}
}

// TestRaceFlags checks what the race page says of a race whose fastest
// lap is not official yet (provisional), of an official points figure the
// rules do not give (flagged), and of the archive's disqualification at
// Spa 2024 (Russell, underweight).
func TestRaceFlags(t *testing.T) {
	ctx := testContext(t)
	b := enginetest.Open(t, enginetest.JetStream)
	st := storetest.Open(t, store.SQLite)
	arc, err := archive.Load()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := archive.Replay(ctx, b, arc, archive.ReplayOptions{Season: 2024, FromRound: 14, ToRound: 14}, nil); err != nil {
		t.Fatal(err)
	}
	rd, _ := arc.Round(2023, 1)
	race, _ := rd.Session(f1.Race)
	var live []any
	for _, r := range race.Results {
		r.Source, r.FastestLapOfficial, r.Points = f1.SourceOpenF1MQTT, false, nil
		if r.DriverCode == "SAI" {
			official := 14.0 // 4th: the rules give 12
			r.Points = &official
		}
		live = append(live, r)
	}
	publish(t, b, f1.TopicResults, resultKey, live...)
	if err := ops.CatchUp(ctx, stream.Env{Bus: b, Store: st}, f1.Processors(nil), nil); err != nil {
		t.Fatal(err)
	}
	ts := newServer(t, st, nil)
	r := get(t, ts.URL+"/race?season=2023&round=1", false)
	for _, w := range []string{`id="provisional"`, "Provisional: fastest lap not official",
		`<span class="badge" title="Official points 14; the season&#39;s rules give 12">≠</span>`} {
		if !strings.Contains(r.body, w) {
			t.Errorf("provisional race page lacks %q", w)
		}
	}
	if strings.Contains(r.body, `badge fl`) {
		t.Error("provisional race page shows a fastest lap")
	}
	r = get(t, ts.URL+"/race?season=2024&round=14", false)
	if !strings.Contains(r.body, `<span class="badge dsq" title="Disqualified">DSQ</span> <span class="muted small reason">Car underweight</span>`) ||
		strings.Contains(r.body, `id="provisional"`) || strings.Contains(r.body, `id="amendments"`) {
		t.Errorf("Spa 2024 race page:\n%s", r.body)
	}
}
