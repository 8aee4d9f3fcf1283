package openf1

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/f1"

	"github.com/podiumhq/podium/internal/f1/openf1/openf1test"
)

// recordingBus records what is handed to Publish before passing it on: the
// engine's duplicate window would hide a needless republish.
type recordingBus struct {
	bus.Bus
	mu   sync.Mutex
	msgs []*bus.Message
}

func (r *recordingBus) Publish(ctx context.Context, msgs ...*bus.Message) error {
	r.mu.Lock()
	r.msgs = append(r.msgs, msgs...)
	r.mu.Unlock()
	return r.Bus.Publish(ctx, msgs...)
}

// live returns the f1.live messages of OpenF1's live rows: not the drivers
// nor the source changes.
func (r *recordingBus) live(t *testing.T) []*bus.Message {
	var out []*bus.Message
	for _, m := range r.topic(f1.TopicLive) {
		if u := decodeLive(t, m); u.Kind != KindDriver && u.Kind != KindSource {
			out = append(out, m)
		}
	}
	return out
}

// ofKind returns the f1.live updates of a kind.
func (r *recordingBus) ofKind(t *testing.T, kind string) []LiveUpdate {
	var out []LiveUpdate
	for _, m := range r.topic(f1.TopicLive) {
		if u := decodeLive(t, m); u.Kind == kind {
			out = append(out, u)
		}
	}
	return out
}

func (r *recordingBus) topic(name string) []*bus.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []*bus.Message
	for _, m := range r.msgs {
		if m.Topic == name {
			out = append(out, m)
		}
	}
	return out
}

func testLogger(t *testing.T) (*slog.Logger, *openf1test.Logs) { return openf1test.NewLogger(t) }

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// readTopic reads n messages of topic from the start of the bus.
func readTopic(t *testing.T, b bus.Bus, topic string, n int) []*bus.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	c, err := b.Consume(ctx, bus.ConsumerConfig{Topic: topic, Start: bus.Earliest})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	var out []*bus.Message
	for len(out) < n {
		ms, err := c.Fetch(ctx, n-len(out))
		if err != nil {
			t.Fatalf("read %s: %d of %d messages: %v", topic, len(out), n, err)
		}
		out = append(out, ms...)
	}
	return out
}

func decodeResult(t *testing.T, m *bus.Message) f1.Result {
	t.Helper()
	var r f1.Result
	if err := json.Unmarshal(m.Value, &r); err != nil {
		t.Fatal(err)
	}
	return r
}

func decodeLive(t *testing.T, m *bus.Message) LiveUpdate {
	t.Helper()
	var u LiveUpdate
	if err := json.Unmarshal(m.Value, &u); err != nil {
		t.Fatal(err)
	}
	return u
}

// Rows in the bahrain2023 fixtures.
const (
	fixtureResults = 20
	fixtureLive    = 8 + 6 + 6 + 2 + 5 // position, intervals, laps, pit, race_control
	fixtureDrivers = 20
)

var (
	raceEnd    = time.Date(2023, 3, 5, 17, 0, 0, 0, time.UTC)
	duringRace = time.Date(2023, 3, 5, 16, 50, 0, 0, time.UTC)
)

func TestFollowerPolls(t *testing.T) {
	f := openf1test.NewFake(t, openf1test.Bahrain)
	c := testClient(f, nil, Config{RateLimit: -1})
	b := enginetest.Open(t, enginetest.JetStream)
	rb := &recordingBus{Bus: b}
	clk := openf1test.NewClock(duringRace)
	logger, _ := testLogger(t)
	fl := &Follower{Client: c, Session: "7953", PollInterval: 20 * time.Millisecond, Now: clk.Now, Logger: logger}

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fl.Run(ctx, rb) }()

	// Everything OpenF1 has so far is published once.
	waitFor(t, "the first poll", func() bool {
		return len(rb.topic(f1.TopicResults)) >= fixtureResults && len(rb.live(t)) >= fixtureLive
	})
	results := readTopic(t, b, f1.TopicResults, fixtureResults)
	first := decodeResult(t, results[0])
	if first.CarNumber != 1 || first.Order != 1 || first.Status != f1.Finished || first.DriverID != "max-verstappen" ||
		first.Round != 1 || results[0].Key != "2023/1/RACE/1" || !strings.HasPrefix(results[0].ID, "2023/1/RACE/1#") {
		t.Errorf("first result %s %s: %+v", results[0].Key, results[0].ID, first)
	}
	live := readTopic(t, b, f1.TopicLive, fixtureLive+fixtureDrivers+1)
	// The drivers, then the source, come first: a page names every car
	// from its first update.
	if u := decodeLive(t, live[fixtureDrivers]); u.Kind != KindSource || u.Source != f1.SourceOpenF1REST || u.Fallback {
		t.Errorf("update %d: %+v, want the source", fixtureDrivers, u)
	}
	for _, m := range live[:fixtureDrivers] {
		u := decodeLive(t, m)
		if u.Kind != KindDriver || u.DriverName == "" || u.DriverCode == "" || m.Key != u.Key() {
			t.Errorf("driver update %s: %+v", m.Key, u)
		}
		if u.DriverNumber == 1 && (u.DriverName != "Max Verstappen" || u.TeamName != "Red Bull Racing" || u.TeamColour != "3671C6") {
			t.Errorf("VER: %+v", u)
		}
	}
	live = live[1+fixtureDrivers:]
	kinds := map[string]int{}
	var lapped LiveUpdate
	for _, m := range live {
		u := decodeLive(t, m)
		kinds[u.Kind]++
		if m.Key != u.Key() {
			t.Errorf("message key %q, update key %q", m.Key, u.Key())
		}
		if u.Kind == KindInterval && u.DriverNumber == 2 {
			lapped = u
			if !strings.Contains(string(m.Value), `"gap_to_leader":"+1 LAP","interval":3.402`) {
				t.Errorf("interval of a lapped car: %s", m.Value)
			}
		}
		if u.Kind == KindRaceControl && m.Key != "2023/1/RACE" {
			t.Errorf("race control key %q", m.Key)
		}
		if u.Season != 2023 || u.Round != 1 || u.Session != f1.Race || u.SessionKey != 7953 || u.GrandPrix != "Bahrain Grand Prix" {
			t.Errorf("live identity: %+v", u)
		}
	}
	if kinds[KindPosition] != 8 || kinds[KindInterval] != 6 || kinds[KindLap] != 6 || kinds[KindPit] != 2 || kinds[KindRaceControl] != 5 {
		t.Errorf("live kinds = %v", kinds)
	}
	if lapped.Key() != "2023/1/RACE/2" || lapped.GapToLeader.String() != "+1 LAP" || lapped.Interval.Seconds != 3.402 {
		t.Errorf("lapped car update %+v", lapped)
	}

	// Later polls ask only for new rows.
	polls := f.Count("/v1/position")
	waitFor(t, "more polls", func() bool { return f.Count("/v1/position") >= polls+2 })
	var queries []string
	for _, r := range f.Requests() {
		if r.Path == "/v1/position" {
			queries = append(queries, r.RawQuery)
		}
	}
	if queries[0] != "session_key=7953" || queries[1] != "session_key=7953&date%3E=2023-03-05T16%3A09%3A10.102" {
		t.Errorf("position queries %q", queries[:2])
	}

	// An amended result, a new position, a lap completed: each published
	// once; the rest is not published again.
	f.Edit(EndpointSessionResult, openf1test.Row(14, 0), func(r map[string]any) {
		r["gap_to_leader"], r["duration"] = 43.637, 5680.373 // a 5 s penalty
	})
	f.Add(EndpointPosition, `[{"date":"2023-03-05T16:49:58.200000+00:00","driver_number":44,"meeting_key":1141,"position":4,"session_key":7953}]`)
	f.Edit(EndpointLaps, openf1test.Row(1, 45), func(r map[string]any) {
		r["lap_duration"], r["duration_sector_2"], r["duration_sector_3"] = 96.931, 40.5, 25.56
	})
	waitFor(t, "the amendments", func() bool {
		return len(rb.topic(f1.TopicResults)) >= fixtureResults+1 && len(rb.live(t)) >= fixtureLive+2
	})
	polls = f.Count("/v1/session_result")
	waitFor(t, "more polls", func() bool { return f.Count("/v1/session_result") >= polls+3 })
	if n := len(rb.topic(f1.TopicResults)); n != fixtureResults+1 {
		t.Errorf("%d results published, want %d: unchanged results were republished", n, fixtureResults+1)
	}
	if n := len(rb.live(t)); n != fixtureLive+2 {
		t.Errorf("%d live updates published, want %d", n, fixtureLive+2)
	}
	amended := decodeResult(t, rb.topic(f1.TopicResults)[fixtureResults])
	if amended.CarNumber != 14 || amended.Time != "+43.637" || amended.Order != 3 {
		t.Errorf("amended result %+v", amended)
	}
	newLive := rb.live(t)[fixtureLive:]
	gotNew := map[string]bool{}
	for _, m := range newLive {
		u := decodeLive(t, m)
		gotNew[u.Kind+"/"+itoa(u.DriverNumber)] = true
		if u.Kind == KindLap && (u.LapDuration == nil || *u.LapDuration != 96.931 || u.LapNumber != 45) {
			t.Errorf("completed lap %+v", u)
		}
	}
	if !gotNew["position/44"] || !gotNew["lap/1"] {
		t.Errorf("new live updates %v, want position/44 and lap/1", gotNew)
	}
	readTopic(t, b, f1.TopicResults, fixtureResults+1)

	// The minutely refresh re-reads all laps and the drivers: nothing new.
	fullLapReads := func() int {
		n := 0
		for _, r := range f.Requests() {
			if r.Path == "/v1/laps" && r.RawQuery == "session_key=7953" {
				n++
			}
		}
		return n
	}
	if n := fullLapReads(); n != 1 {
		t.Errorf("%d full lap reads before the first refresh, want 1", n)
	}
	drivers := f.Count("/v1/drivers")
	clk.Advance(DefaultRefreshInterval + time.Second)
	waitFor(t, "a refresh", func() bool { return fullLapReads() == 2 && f.Count("/v1/drivers") > drivers })
	polls = f.Count("/v1/session_result")
	waitFor(t, "more polls", func() bool { return f.Count("/v1/session_result") >= polls+2 })
	if n := len(rb.live(t)); n != fixtureLive+2 {
		t.Errorf("%d live updates published after a refresh, want %d", n, fixtureLive+2)
	}

	// After the end, once the results have been stable for StableFor, Run returns.
	select {
	case err := <-done:
		t.Fatalf("Run returned before the session ended: %v", err)
	default:
	}
	clk.Set(raceEnd.Add(DefaultStableFor + time.Minute))
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Run = %v, want nil", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("Run did not return after the session ended")
	}
}

func TestFollowerHistoricSession(t *testing.T) {
	f := openf1test.NewFake(t, openf1test.Bahrain)
	c := testClient(f, nil, Config{RateLimit: -1})
	rb := &recordingBus{Bus: enginetest.Open(t, enginetest.JetStream)}
	clk := openf1test.NewClock(time.Date(2023, 3, 6, 12, 0, 0, 0, time.UTC))
	logger, _ := testLogger(t)
	since := time.Date(2023, 3, 5, 16, 0, 0, 0, time.UTC)
	fl := &Follower{Client: c, Session: "7953", PollInterval: 10 * time.Millisecond, Now: clk.Now, Logger: logger, LiveSince: since}

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := fl.Run(ctx, rb); err != nil {
		t.Fatalf("Run = %v", err)
	}
	if n := len(rb.topic(f1.TopicResults)); n != fixtureResults {
		t.Errorf("%d results, want %d", n, fixtureResults)
	}
	// Only rows from LiveSince on: 1 position, 6 intervals, 4 laps, 2 race control.
	if n := len(rb.live(t)); n != 13 {
		t.Errorf("%d live updates, want 13", n)
	}
	var queries []string
	for _, r := range f.Requests() {
		if r.Path == "/v1/intervals" {
			queries = append(queries, r.RawQuery)
		}
	}
	if len(queries) == 0 || queries[0] != "session_key=7953&date%3E=2023-03-05T16%3A00%3A00" {
		t.Errorf("first intervals query %q, want one from LiveSince", queries)
	}
}

func TestFollowerErrors(t *testing.T) {
	f := openf1test.NewFake(t, openf1test.Bahrain)
	c := testClient(f, nil, Config{RateLimit: -1})
	b := enginetest.Open(t, enginetest.JetStream)
	ctx := context.Background()

	if err := (&Follower{Client: c, Session: "1"}).Run(ctx, b); err == nil || !strings.Contains(err.Error(), `no session "1"`) {
		t.Errorf("unknown session: %v", err)
	}
	if err := (&Follower{}).Run(ctx, b); err == nil {
		t.Error("no client: no error")
	}

	// A race long over without results fails with ErrNoResults.
	f.Set(EndpointSessionResult, `[]`)
	clk := openf1test.NewClock(time.Date(2023, 3, 6, 12, 0, 0, 0, time.UTC))
	fl := &Follower{Client: c, Session: "7953", PollInterval: 10 * time.Millisecond, Now: clk.Now}
	if err := fl.Run(ctx, b); !errors.Is(err, ErrNoResults) {
		t.Errorf("no results: %v, want ErrNoResults", err)
	}

	// Cancelled: ctx.Err().
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	fl = &Follower{Client: c, Session: "7953", Now: openf1test.NewClock(duringRace).Now}
	if err := fl.Run(cctx, b); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

// TestFollowerWaitsForDrivers: results naming a car OpenF1 has no driver
// for yet are held back, the drivers re-read, and published once known.
func TestFollowerWaitsForDrivers(t *testing.T) {
	f := openf1test.NewFake(t, openf1test.Bahrain)
	piastri := f.Remove(EndpointDrivers, openf1test.Row(81, 0))
	c := testClient(f, nil, Config{RateLimit: -1})
	rb := &recordingBus{Bus: enginetest.Open(t, enginetest.JetStream)}
	logger, logs := testLogger(t)
	fl := &Follower{Client: c, Session: "7953", PollInterval: 10 * time.Millisecond, Now: openf1test.NewClock(duringRace).Now, Logger: logger}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fl.Run(ctx, rb) }()

	drivers := f.Count("/v1/drivers")
	waitFor(t, "drivers re-read", func() bool { return f.Count("/v1/drivers") >= drivers+2 })
	if n := len(rb.topic(f1.TopicResults)); n != 0 {
		t.Fatalf("%d results published without all drivers", n)
	}
	if !strings.Contains(logs.String(), "car(s) [81]") {
		t.Error("the missing car is not logged")
	}
	f.Add(EndpointDrivers, piastri)
	waitFor(t, "the results", func() bool { return len(rb.topic(f1.TopicResults)) == fixtureResults })
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Run = %v", err)
	}
}
