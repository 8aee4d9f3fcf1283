package dashboard_test

// End-to-end tests of the live path: OpenF1 (a fake of its REST API, the
// real Mosquitto for the MQTT feed, or a recording) → openf1.Follower →
// f1.live and f1.results → the F1 processors → the standings tables → the
// race page's HTML, with the payloads of OpenF1's documentation
// (openf1test's fixtures).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/f1/dashboard"
	"github.com/podiumhq/podium/internal/f1/openf1"
	"github.com/podiumhq/podium/internal/f1/openf1/openf1test"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/web"
)

// pipelines are the engine pairs the end-to-end tests run on.
var pipelines = []struct {
	name string
	bus  enginetest.Engine
	db   store.Dialect
}{
	{"jetstream+sqlite", enginetest.JetStream, store.SQLite},
	{"kafka+postgres", enginetest.Kafka, store.Postgres},
}

// eachPipeline runs fn on every engine pair.
func eachPipeline(t *testing.T, fn func(t *testing.T, p *livePipeline)) {
	for _, pl := range pipelines {
		t.Run(pl.name, func(t *testing.T) {
			fn(t, startPipeline(t, pl.bus, pl.db))
		})
	}
}

// During the 2023 Bahrain Grand Prix (the fixtures' race): the session is
// running for the follower's clock.
var bahrainDuringRace = time.Date(2023, 3, 5, 16, 50, 0, 0, time.UTC)

// livePipeline is podium serve's F1 side on real engines: the F1
// processors, the dashboard and its live state.
type livePipeline struct {
	t    *testing.T
	ctx  context.Context
	bus  *countingBus
	st   *store.Store
	ts   *httptest.Server
	live *dashboard.Live
	log  *slog.Logger
}

func startPipeline(t *testing.T, e enginetest.Engine, d store.Dialect) *livePipeline {
	t.Helper()
	st := storetest.Open(t, d) // skips without PostgreSQL
	raw := enginetest.Open(t, e)
	ctx, cancel := context.WithCancel(testContext(t))
	log, _ := openf1test.NewLogger(t)
	p := &livePipeline{t: t, ctx: ctx, bus: &countingBus{Bus: raw, ids: map[string]int{}}, st: st,
		live: dashboard.NewLive(), log: log}
	arc, err := archive.Load()
	if err != nil {
		t.Fatal(err)
	}
	srv := web.New(web.Config{})
	dashboard.Register(srv, dashboard.Options{DB: st.DB(), Calendar: calendar(t), Cars: arc.Identities().Car, Live: p.live})
	p.ts = httptest.NewServer(srv.Mux)
	procs := f1.Processors(nil)
	env := stream.Env{Bus: raw, Store: st, Logger: p.log}
	for _, pr := range procs {
		if err := stream.Migrate(ctx, st, pr.Spec()); err != nil {
			t.Fatal(err)
		}
	}
	var wg sync.WaitGroup
	wg.Go(func() { stream.Supervise(ctx, env, procs) })
	wg.Go(func() { p.live.Follow(ctx, raw, p.log, dashboard.NotifyLive(srv.Hub)) })
	t.Cleanup(func() {
		cancel()
		wg.Wait()
		p.ts.Close()
	})
	p.waitFollowing()
	return p
}

// waitFollowing returns once the dashboard's consumer of f1.live (which
// starts at the newest message) reads: it publishes a probe of a session
// of its own until the live state has it.
func (p *livePipeline) waitFollowing() {
	probe := dashboard.SessionID{Season: 2023, Round: 99, Session: f1.Race}
	deadline := time.Now().Add(30 * time.Second)
	for i := 1; ; i++ {
		pos := i
		u := openf1.LiveUpdate{Kind: openf1.KindPosition, Season: probe.Season, Round: probe.Round, Session: probe.Session,
			DriverNumber: 99, Position: &pos, Date: time.Now()}
		publish(p.t, p.bus.Bus, f1.TopicLive, func(v any) string { return v.(openf1.LiveUpdate).Key() }, u)
		if _, ok := p.live.Snapshot(probe); ok {
			return
		}
		if time.Now().After(deadline) {
			p.t.Fatal("the dashboard does not follow f1.live")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// follow runs fl on the pipeline's bus until the test ends; its error is
// reported then (a cancelled follow is not an error).
func (p *livePipeline) follow(fl *openf1.Follower) {
	p.t.Helper()
	fl.Logger = p.log
	ctx, cancel := context.WithCancel(p.ctx)
	done := make(chan error, 1)
	go func() { done <- fl.Run(ctx, p.bus) }()
	p.t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && ctx.Err() == nil {
			p.t.Errorf("follower: %v", err)
		}
	})
}

// racePage returns the HTML of the Bahrain race page.
func (p *livePipeline) racePage() string {
	return get(p.t, p.ts.URL+"/race?season=2023&round=1&session=race", false).body
}

// waitPage waits until the race page holds every want, and returns it.
func (p *livePipeline) waitPage(what string, want ...string) string {
	p.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		page := p.racePage()
		missing := ""
		for _, w := range want {
			if !strings.Contains(page, w) {
				missing = w
				break
			}
		}
		if missing == "" {
			return page
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("%s: the race page lacks %q:\n%s", what, missing, page)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitStandings waits until the drivers' standings after round 1 have
// every driver of the race, and returns their points by driver id.
func (p *livePipeline) waitStandings(drivers int) map[string]float64 {
	p.t.Helper()
	deadline := time.Now().Add(45 * time.Second)
	for {
		ds, err := f1.DriverStandings(p.ctx, p.st.DB(), 2023, 1)
		if err == nil && len(ds) >= drivers {
			cls, err := f1.Classification(p.ctx, p.st.DB(), 2023, 1, f1.Race)
			if err == nil && len(cls) >= drivers {
				out := map[string]float64{}
				for _, d := range ds {
					out[d.DriverID] = d.Points
				}
				return out
			}
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("standings after round 1: %d of %d drivers (%v)", len(ds), drivers, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// checkNoDeadLetters fails the test if any F1 message went to a
// dead-letter topic.
func (p *livePipeline) checkNoDeadLetters() {
	p.t.Helper()
	topics, err := p.bus.Topics(p.ctx)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, tp := range topics {
		if strings.HasPrefix(tp.Name, "f1.") && strings.HasSuffix(tp.Name, bus.DLQSuffix) && tp.Messages > 0 {
			p.t.Errorf("%d dead letters on %s", tp.Messages, tp.Name)
		}
	}
}

// checkOnce fails the test if a live row or a result was published twice,
// or a result in more than one version (a classification published car by
// car as it arrived).
func (p *livePipeline) checkOnce() {
	p.t.Helper()
	for id, n := range p.bus.counts() {
		if n > 1 && !strings.Contains(id, "/source/") {
			p.t.Errorf("message %s published %d times", id, n)
		}
	}
	p.checkResultsOnce()
}

// checkResultsOnce fails the test unless the 20 results were published
// once each.
func (p *livePipeline) checkResultsOnce() {
	p.t.Helper()
	results := 0
	for id, n := range p.bus.counts() {
		if strings.HasPrefix(id, "2023/1/RACE/") {
			results += n
		}
	}
	if results != 20 {
		p.t.Errorf("%d results published, want the 20 of the classification once", results)
	}
}

// officialPoints are the points of the fixtures' session_result rows, by
// car.
func officialPoints(t *testing.T) map[int]float64 {
	var rows []struct {
		SessionKey   int      `json:"session_key"`
		DriverNumber int      `json:"driver_number"`
		Points       *float64 `json:"points"`
	}
	if err := json.Unmarshal(openf1test.Fixture(t, openf1test.Bahrain, "session_result.json"), &rows); err != nil {
		t.Fatal(err)
	}
	out := map[int]float64{}
	for _, r := range rows {
		if r.SessionKey == openf1test.BahrainRace && r.Points != nil {
			out[r.DriverNumber] = *r.Points
		}
	}
	return out
}

// checkStandings compares the standings with the official points of the
// fixtures, through the classification's car numbers.
func (p *livePipeline) checkStandings(want map[int]float64) {
	p.t.Helper()
	got := p.waitStandings(len(want))
	cls, err := f1.Classification(p.ctx, p.st.DB(), 2023, 1, f1.Race)
	if err != nil {
		p.t.Fatal(err)
	}
	for _, r := range cls {
		if w, ok := want[r.CarNumber]; !ok || got[r.DriverID] != w || r.Points != w {
			p.t.Errorf("car %d (%s): %v points in the standings, %v in the classification; official %v",
				r.CarNumber, r.DriverID, got[r.DriverID], r.Points, w)
		}
	}
	if len(cls) != len(want) {
		p.t.Errorf("%d cars classified, want %d", len(cls), len(want))
	}
}

// liveNames are what the live page must show of the running order: every
// driver named (from the feed's drivers), gaps in one format.
var liveNames = []string{`id="running-order"`, "Max Verstappen", "Sergio Perez", "Charles Leclerc", "Lando Norris",
	"&#43;1 LAP", "&#43;2 LAPS"}

// checkNamed fails if a car of the running order is shown by number, or
// the leader (OpenF1's gap_to_leader 0) with a gap instead of "Leader".
func checkNamed(t *testing.T, page string) {
	t.Helper()
	i := strings.Index(page, `id="running-order"`)
	j := strings.Index(page, `id="race-control"`)
	if i < 0 || j < i {
		t.Fatalf("no running order:\n%s", page)
	}
	if order := page[i:j]; strings.Contains(order, ">#") || strings.Contains(order, "Car ") {
		t.Errorf("a car of the running order is not named:\n%s", order)
	}
	if order := page[i:j]; !strings.Contains(order, `<td class="num">Leader</td>`) || strings.Contains(order, "&#43;0.000") {
		t.Errorf("the leader is not shown as the leader:\n%s", order)
	}
}

// TestLiveRESTEndToEnd follows the Bahrain race over REST: the running
// order, gaps and race control reach the live page with every driver
// named and the source shown; then the results reach the standings with
// OpenF1's official points, and no message is dead-lettered or doubled.
func TestLiveRESTEndToEnd(t *testing.T) {
	eachPipeline(t, func(t *testing.T, p *livePipeline) {
		fake := openf1test.NewFake(t, openf1test.Bahrain)
		results := fake.Remove(openf1.EndpointSessionResult, func(map[string]any) bool { return true })
		c := openf1.New(openf1.Config{BaseURL: fake.BaseURL(), RateLimit: -1})
		p.follow(&openf1.Follower{Client: c, Session: "7953", PollInterval: 50 * time.Millisecond,
			Now: openf1test.NewClock(bahrainDuringRace).Now})

		page := p.waitPage("the running order", append(liveNames, `id="live-source"`, "OpenF1 REST · ",
			"CAR 16 (LEC) STOPPED AT TURN 4")...)
		checkNamed(t, page)

		fake.Set(openf1.EndpointSessionResult, results)
		p.checkStandings(officialPoints(t))
		page = p.waitPage("the classification", `id="classification"`, "Final", "Max Verstappen", "1:33:56.736", "DSQ")
		if strings.Contains(page, `id="provisional"`) {
			t.Error("a race with OpenF1's official points is flagged provisional")
		}
		p.checkNoDeadLetters()
		p.checkOnce()
	})
}

// TestLiveMQTTEndToEnd follows the race on the MQTT feed (the real
// broker): OpenF1's REST API gives the session, its drivers and grid; the
// feed (v1/… topics, rows with _id and _key) brings everything else.
func TestLiveMQTTEndToEnd(t *testing.T) {
	u := openf1test.MQTTURL(t)
	eachPipeline(t, func(t *testing.T, p *livePipeline) {
		fake := openf1test.NewFake(t, openf1test.Bahrain)
		fake.RequireAuth = true
		fake.Drop(openf1.EndpointPosition, openf1.EndpointIntervals, openf1.EndpointLaps, openf1.EndpointPit,
			openf1.EndpointRaceControl, openf1.EndpointSessionResult)
		prefix := openf1test.TopicPrefix()
		c := openf1.New(openf1.Config{BaseURL: fake.BaseURL(), Username: openf1test.User, Password: openf1test.Password, RateLimit: -1})
		p.follow(&openf1.Follower{Client: c, Session: "7953", MQTTURL: u.String(), MQTTTopicPrefix: prefix,
			PollInterval: 200 * time.Millisecond, Now: openf1test.NewClock(bahrainDuringRace).Now})
		p.waitLiveSource(f1.SourceOpenF1MQTT, false)

		feed := openf1test.FeedFixture(t, openf1test.Bahrain, "mqtt.ndjson")
		live, results := splitResults(feed)
		pub := openf1test.NewPublisher(t, u, prefix)
		pub.Send(live...)
		page := p.waitPage("the running order", append(liveNames, `id="live-source"`, "OpenF1 MQTT · ", "CAR 16 (LEC) STOPPED AT TURN 4")...)
		checkNamed(t, page)

		pub.Send(results...)
		p.checkStandings(officialPoints(t))
		p.checkNoDeadLetters()
		p.checkOnce()
		if fake.Count("/token") == 0 {
			t.Error("no access token was requested")
		}
	})
}

// TestLiveRecordingEndToEnd plays a recording (the documented file
// format, with the rows of OpenF1's documentation) through the live path:
// first the part before the results, then the whole file.
func TestLiveRecordingEndToEnd(t *testing.T) {
	eachPipeline(t, func(t *testing.T, p *livePipeline) {
		rec, err := openf1.ReadRecording(bytes.NewReader(openf1test.Fixture(t, openf1test.Bahrain, "recording.ndjson")))
		if err != nil {
			t.Fatal(err)
		}
		first := *rec
		for i, r := range rec.Rows {
			if r.Endpoint == openf1.EndpointSessionResult {
				first.Rows = rec.Rows[:i]
				break
			}
		}
		arc, err := archive.Load()
		if err != nil {
			t.Fatal(err)
		}
		fl := &openf1.Follower{Resolver: arc.Identities(), Logger: p.log}
		if err := fl.RunRecording(p.ctx, p.bus, &first, 100, nil); err != nil {
			t.Fatal(err)
		}
		page := p.waitPage("the running order", append(liveNames, `id="live-source"`, "recording · ", "CAR 16 (LEC) STOPPED AT TURN 4")...)
		checkNamed(t, page)

		if err := fl.RunRecording(p.ctx, p.bus, rec, 0, nil); err != nil {
			t.Fatal(err)
		}
		p.checkStandings(officialPoints(t))
		p.checkNoDeadLetters()
		p.checkResultsOnce() // the live rows were played twice, by the two plays
		cls, err := f1.Classification(p.ctx, p.st.DB(), 2023, 1, f1.Race)
		if err != nil {
			t.Fatal(err)
		}
		// With the archive as resolver, the archive's ids.
		if cls[0].DriverID != "max-verstappen" || cls[0].TeamID != "red-bull" {
			t.Errorf("winner %s of %s: want the archive's ids", cls[0].DriverID, cls[0].TeamID)
		}
	})
}

// TestLiveOfficialPointsWin: OpenF1's points are the official figure. A
// shortened race that paid half points (OpenF1 says nothing of the scale,
// only the points) must score them, not the full scale.
func TestLiveOfficialPointsWin(t *testing.T) {
	p := startPipeline(t, enginetest.JetStream, store.SQLite)
	fake := openf1test.NewFake(t, openf1test.Bahrain)
	want := officialPoints(t)
	for car, pts := range want {
		want[car] = pts / 2
	}
	fake.Edit(openf1.EndpointSessionResult, func(r map[string]any) bool { return r["session_key"] == json.Number("7953") },
		func(r map[string]any) {
			if n, err := r["points"].(json.Number).Float64(); err == nil {
				r["points"] = n / 2
			}
		})
	c := openf1.New(openf1.Config{BaseURL: fake.BaseURL(), RateLimit: -1})
	p.follow(&openf1.Follower{Client: c, Session: "7953", PollInterval: 50 * time.Millisecond,
		Now: openf1test.NewClock(bahrainDuringRace).Now})
	p.checkStandings(want)
	if got := p.waitStandings(len(want)); got["max-verstappen"] != 12.5 {
		t.Errorf("VER %v points, want OpenF1's 12.5", got["max-verstappen"])
	}
}

// TestLiveArchiveEndToEnd follows a race long over that OpenF1 has no
// results for: the follower publishes the archive's, the standings have
// their official points and the race page says the data comes from the
// archive (the live page's badge is for a session under way: a complete
// classification replaces the running order).
func TestLiveArchiveEndToEnd(t *testing.T) {
	arc, err := archive.Load()
	if err != nil {
		t.Fatal(err)
	}
	rd, _ := arc.Round(2023, 1)
	race, _ := rd.Session(f1.Race)
	want := map[int]float64{}
	for _, r := range race.Results {
		want[r.CarNumber] = *r.Points
	}
	eachPipeline(t, func(t *testing.T, p *livePipeline) {
		fake := openf1test.NewFake(t, openf1test.Bahrain)
		fake.Drop(openf1.EndpointSessionResult)
		c := openf1.New(openf1.Config{BaseURL: fake.BaseURL(), RateLimit: -1})
		p.follow(&openf1.Follower{Client: c, Session: "7953", PollInterval: 50 * time.Millisecond, Resolver: arc.Identities(),
			Archive: func(season, round int, session string) ([]f1.Result, bool) {
				rd, ok := arc.Round(season, round)
				if !ok {
					return nil, false
				}
				s, ok := rd.Session(session)
				return s.Results, ok
			},
			Now: openf1test.NewClock(time.Date(2023, 3, 6, 12, 0, 0, 0, time.UTC)).Now})
		p.checkStandings(want)
		// The classification is complete: the page shows it, with its
		// source, instead of the running order.
		p.waitPage("the archive as the source", `id="classification"`, "Final",
			`<span class="muted small" id="results-source">source: archive</span>`, "Max Verstappen", "Fernando Alonso")
		p.checkNoDeadLetters()
	})
}

// waitLiveSource waits until the live state says the session comes from
// source.
func (p *livePipeline) waitLiveSource(source string, fallback bool) time.Duration {
	p.t.Helper()
	start := time.Now()
	id := dashboard.SessionID{Season: 2023, Round: 1, Session: f1.Race}
	deadline := start.Add(60 * time.Second)
	for {
		if snap, ok := p.live.Snapshot(id); ok && snap.Source.Source == source && snap.Source.Fallback == fallback {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			snap, _ := p.live.Snapshot(id)
			p.t.Fatalf("the live source is %+v, want %s (fallback %v)", snap.Source, source, fallback)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// splitResults separates the feed's session_result messages from the
// live ones.
func splitResults(feed []openf1test.Message) (live, results []openf1test.Message) {
	for _, m := range feed {
		if m.Topic == openf1.EndpointSessionResult {
			results = append(results, m)
		} else {
			live = append(live, m)
		}
	}
	return live, results
}

// countingBus counts the messages handed to Publish by ID: the engine's
// duplicate window would hide a second publish of the same message.
type countingBus struct {
	bus.Bus
	mu  sync.Mutex
	ids map[string]int
}

func (c *countingBus) Publish(ctx context.Context, msgs ...*bus.Message) error {
	c.mu.Lock()
	for _, m := range msgs {
		if m.ID != "" {
			c.ids[m.ID]++
		}
	}
	c.mu.Unlock()
	return c.Bus.Publish(ctx, msgs...)
}

func (c *countingBus) counts() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]int, len(c.ids))
	for k, v := range c.ids {
		out[k] = v
	}
	return out
}

// published returns the IDs published whose identity part (after
// "openf1/<session>/") starts with prefix.
func (c *countingBus) published(prefix string) []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []string
	for id := range c.ids {
		if strings.HasPrefix(id, fmt.Sprintf("openf1/%d/%s", openf1test.BahrainRace, prefix)) {
			out = append(out, id)
		}
	}
	return out
}

// TestLiveMQTTFallback stops the MQTT feed mid-session (a proxy between
// the follower and the broker), in the two ways a broker stops: its
// connections close, or it stops answering without closing them (hung, or
// a network that drops everything). REST polling takes over and brings
// what the feed missed; the log, the metrics and the page say so. When the
// feed is back, the follower returns to it. Every row is published once:
// nothing lost, nothing doubled.
//
// The follower's poll interval and silence limit are an hour here, so no
// timer of its own can bring REST in: the takeover must come from the
// connection's loss itself — at once when it closes, within two MQTT
// keep-alives (6 s) when the broker stops answering. That is what keeps
// the takeover within 10 s whatever the machine's load; the test checks
// the mechanism, not the wall clock (the time it took is logged).
func TestLiveMQTTFallback(t *testing.T) {
	u := openf1test.MQTTURL(t)
	for _, tt := range []struct {
		name string
		stop func(*openf1test.Proxy)
	}{
		{"connection closed", (*openf1test.Proxy).Cut},
		{"broker not answering", (*openf1test.Proxy).Freeze},
	} {
		t.Run(tt.name, func(t *testing.T) {
			testMQTTFallback(t, u, tt.stop)
		})
	}
}

func testMQTTFallback(t *testing.T, u *url.URL, stop func(*openf1test.Proxy)) {
	p := startPipeline(t, enginetest.JetStream, store.SQLite)
	log, logs := openf1test.NewLogger(t)
	p.log = log
	fake := openf1test.NewFake(t, openf1test.Bahrain)
	fake.RequireAuth = true
	liveEndpoints := []string{openf1.EndpointPosition, openf1.EndpointIntervals, openf1.EndpointLaps, openf1.EndpointPit,
		openf1.EndpointRaceControl}
	fake.Drop(append(liveEndpoints, openf1.EndpointSessionResult)...)
	proxy := openf1test.NewProxy(t, u)
	prefix := openf1test.TopicPrefix()
	reg := prometheus.NewRegistry()
	c := openf1.New(openf1.Config{BaseURL: fake.BaseURL(), Username: openf1test.User, Password: openf1test.Password, RateLimit: -1})
	p.follow(&openf1.Follower{Client: c, Session: "7953", MQTTURL: proxy.URL(), MQTTTopicPrefix: prefix,
		PollInterval: time.Hour, StaleAfter: time.Hour, Metrics: reg, Now: openf1test.NewClock(bahrainDuringRace).Now})
	p.waitLiveSource(f1.SourceOpenF1MQTT, false)

	live, results := splitResults(openf1test.FeedFixture(t, openf1test.Bahrain, "mqtt.ndjson"))
	third := len(live) / 3
	a, b, rest := live[:third], live[third:2*third], live[2*third:]
	pub := openf1test.NewPublisher(t, u, prefix)
	dataRows := func() int {
		n := 0
		for _, k := range []string{"position/", "interval/", "lap/", "pit/", "race_control/"} {
			n += len(p.bus.published(k))
		}
		return n
	}
	waitRows := func(what string, n int) {
		t.Helper()
		deadline := time.Now().Add(60 * time.Second)
		for dataRows() < n {
			if time.Now().After(deadline) {
				t.Fatalf("%s: %d rows published, want %d", what, dataRows(), n)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	pub.Send(a...)
	waitRows("feed A over MQTT", len(a))

	// OpenF1's REST API has what happens next (and what the feed already
	// brought); the feed stops before it brings B. While the feed is up
	// the follower does not poll the live endpoints.
	restRows := map[string][]json.RawMessage{}
	for _, m := range append(slices.Clone(a), b...) {
		restRows[m.Topic] = append(restRows[m.Topic], withoutFeedFields(t, m.Payload))
	}
	for ep, rows := range restRows {
		raw, err := json.Marshal(rows)
		if err != nil {
			t.Fatal(err)
		}
		fake.Set(ep, string(raw))
	}
	stop(proxy)
	stopped := time.Now()
	p.waitLiveSource(f1.SourceOpenF1REST, true)
	waitRows("feed B over REST", len(a)+len(b))
	t.Logf("REST took over and brought the missed rows in %s", time.Since(stopped).Round(time.Millisecond))
	p.waitPage("the fallback badge", "OpenF1 REST (fallback) · ", "the OpenF1 MQTT connection was lost")
	if v := gauge(t, reg, "podium_openf1_fallbacks_total", ""); v != 1 {
		t.Errorf("podium_openf1_fallbacks_total = %v, want 1", v)
	}
	if v := gauge(t, reg, "podium_openf1_source", f1.SourceOpenF1REST); v != 1 {
		t.Errorf("podium_openf1_source{openf1-rest} = %v, want 1", v)
	}
	if !strings.Contains(logs.String(), "openf1 source: falling back") {
		t.Errorf("no log of the fallback:\n%s", logs.String())
	}

	// The feed comes back: the follower returns to it.
	proxy.Restore()
	p.waitLiveSource(f1.SourceOpenF1MQTT, false)
	pub.Send(rest...)
	waitRows("the rest over MQTT", len(live))
	p.waitPage("the badge back", "OpenF1 MQTT · ")
	pub.Send(results...)
	p.checkStandings(officialPoints(t))
	if v := gauge(t, reg, "podium_openf1_source", f1.SourceOpenF1MQTT); v != 1 {
		t.Errorf("podium_openf1_source{openf1-mqtt} = %v, want 1", v)
	}
	if !strings.Contains(logs.String(), "openf1 source: back") {
		t.Errorf("no log of the return to MQTT:\n%s", logs.String())
	}
	time.Sleep(300 * time.Millisecond) // nothing more may come
	if n := dataRows(); n != len(live) {
		t.Errorf("%d live rows published, want %d", n, len(live))
	}
	p.checkOnce()
	p.checkNoDeadLetters()
}

// withoutFeedFields returns an MQTT payload as the REST API gives the row:
// without "_id" and "_key".
func withoutFeedFields(t *testing.T, payload []byte) json.RawMessage {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(payload, &m); err != nil {
		t.Fatal(err)
	}
	delete(m, "_id")
	delete(m, "_key")
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// gauge reads a metric's value from reg, for the series whose "source"
// label is source ("" for a metric without labels).
func gauge(t *testing.T, reg *prometheus.Registry, name, source string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			label := ""
			for _, l := range m.GetLabel() {
				if l.GetName() == "source" {
					label = l.GetValue()
				}
			}
			if label != source {
				continue
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return -1
}
