package dashboard_test

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/dashboard"
	"github.com/podiumhq/podium/internal/f1/openf1"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/web"
)

// TestFollow feeds f1.live through a real bus into Live and checks the
// change notifications and the state.
func TestFollow(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, e enginetest.Engine) {
		b := enginetest.Open(t, e)
		ctx, cancel := context.WithCancel(testContext(t))
		l := dashboard.NewLive()
		changed := make(chan dashboard.SessionID, 100)
		done := make(chan struct{})
		go func() {
			defer close(done)
			l.Follow(ctx, b, nil, func(id dashboard.SessionID) { changed <- id })
		}()
		defer func() { cancel(); <-done }()
		// Follow reads from the newest message on: publish until it sees one.
		want := dashboard.SessionID{Season: 2024, Round: 5, Session: f1.Race}
		deadline := time.Now().Add(30 * time.Second)
		for p := 1; ; p++ {
			pos := 20 - p%20
			u := openf1.LiveUpdate{Kind: openf1.KindPosition, Season: 2024, Round: 5, Session: f1.Race, DriverNumber: 44,
				DriverCode: "HAM", Position: &pos, Date: time.Now()}
			publish(t, b, f1.TopicLive, func(v any) string { return v.(openf1.LiveUpdate).Key() }, u)
			select {
			case id := <-changed:
				if id != want {
					t.Fatalf("changed %v, want %v", id, want)
				}
				snap, ok := l.Snapshot(want)
				if !ok || len(snap.Cars) != 1 || snap.Cars[0].Code != "HAM" || snap.Cars[0].Position != pos {
					t.Fatalf("snapshot %+v after position %d", snap, pos)
				}
				// A message that is not an update is skipped.
				if err := b.Publish(ctx, &bus.Message{Topic: f1.TopicLive, Key: "x", Value: []byte("not json")}); err != nil {
					t.Fatal(err)
				}
				return
			case <-time.After(200 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				t.Fatal("Follow saw no update in 30 s")
			}
		}
	})
}

// sseClient reads the server-sent events of url and calls fn with each
// event's name and data until ctx ends. It returns once connected.
func sseClient(tb testing.TB, ctx context.Context, url string, fn func(name string, data []byte)) {
	tb.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() && sc.Text() != ": connected" {
	}
	go func() {
		defer res.Body.Close()
		var name string
		for sc.Scan() {
			line := sc.Text()
			switch {
			case strings.HasPrefix(line, "event: "):
				name = strings.TrimPrefix(line, "event: ")
			case strings.HasPrefix(line, "data: "):
				fn(name, []byte(strings.TrimPrefix(line, "data: ")))
			}
		}
	}()
}

// BenchmarkPublishToBrowser measures the latency from publishing a result
// to the arrival of its "f1" event at an SSE client of /events, with the
// F1 processors running on embedded JetStream and SQLite, at 100 results
// a second. Each result is of its own season and round among the last
// ~2000 published, so that its event is told from the others'. Run:
//
//	go test -run '^$' -bench PublishToBrowser -benchtime 3000x ./internal/f1/dashboard/
func BenchmarkPublishToBrowser(b *testing.B) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bs := enginetest.Open(b, enginetest.JetStream)
	st := storetest.Open(b, store.SQLite)
	srv := web.New(web.Config{})
	dashboard.Register(srv, dashboard.Options{DB: st.DB()})
	ts := httptest.NewServer(srv.Mux)
	defer ts.Close()
	notices := stream.NewNotices(bs, nil)
	defer notices.Relay(ctx, func(n stream.Notice) { srv.Hub.Publish(n.Event, n.Data) })()
	procs := f1.Processors(dashboard.Notify(notices))
	env := stream.Env{Bus: bs, Store: st}
	for _, p := range procs {
		if err := stream.Migrate(ctx, st, p.Spec()); err != nil {
			b.Fatal(err)
		}
	}
	supervised := make(chan struct{})
	go func() { stream.Supervise(ctx, env, procs); close(supervised) }()
	defer func() { cancel(); <-supervised }()

	var mu sync.Mutex
	pending := map[dashboard.Event]time.Time{}
	var lat []time.Duration
	arrived := make(chan struct{}, 1)
	sseClient(b, ctx, ts.URL+"/events", func(name string, data []byte) {
		if name != dashboard.EventResults {
			return
		}
		var ev dashboard.Event
		if err := json.Unmarshal(data, &ev); err != nil {
			return
		}
		now := time.Now()
		mu.Lock()
		if t0, ok := pending[ev]; ok {
			lat = append(lat, now.Sub(t0))
			delete(pending, ev)
		}
		mu.Unlock()
		select {
		case arrived <- struct{}{}:
		default:
		}
	})

	const seasons, rounds = 80, 24
	result := func(i int) f1.Result {
		pos := i/(seasons*rounds) + 1
		return f1.Result{Season: 2020 + i%seasons, Round: (i/seasons)%rounds + 1, Session: f1.Race, GrandPrix: "Benchmark Grand Prix",
			CarNumber: pos, DriverID: "driver-" + strconv.Itoa(pos), DriverCode: "D" + strconv.Itoa(pos%100), DriverName: "Driver " + strconv.Itoa(pos),
			TeamID: "team-" + strconv.Itoa(pos%10), TeamName: "Team", TeamColour: "3671C6", Position: &pos, Status: f1.Finished,
			Order: pos, Laps: 50, Cars: 20}
	}
	send := func(i int) {
		r := result(i)
		raw, err := json.Marshal(r)
		if err != nil {
			b.Fatal(err)
		}
		mu.Lock()
		pending[dashboard.Event{Season: r.Season, Round: r.Round}] = time.Now()
		mu.Unlock()
		if err := bs.Publish(ctx, &bus.Message{Topic: f1.TopicResults, Key: r.Key(), Value: raw}); err != nil {
			b.Fatal(err)
		}
	}
	waitAll := func() {
		deadline := time.After(60 * time.Second)
		for {
			mu.Lock()
			n := len(pending)
			mu.Unlock()
			if n == 0 {
				return
			}
			select {
			case <-arrived:
			case <-time.After(50 * time.Millisecond):
			case <-deadline:
				b.Fatalf("%d events never arrived", n)
			}
		}
	}
	// Warm up: the processors are consuming and the tables exist.
	send(0)
	waitAll()
	mu.Lock()
	lat = lat[:0]
	mu.Unlock()

	tick := time.NewTicker(10 * time.Millisecond) // 100 results a second
	defer tick.Stop()
	b.ResetTimer()
	for i := range b.N {
		<-tick.C
		send(i + 1)
	}
	waitAll()
	b.StopTimer()

	mu.Lock()
	defer mu.Unlock()
	reportLatency(b, lat, "results at 100/s")
}

// reportLatency reports the p50, p99 and maximum of lat as the
// benchmark's metrics (ns/op means nothing here).
func reportLatency(b *testing.B, lat []time.Duration, what string) {
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	b.ReportMetric(float64(q(0.50).Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(q(0.99).Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(lat[len(lat)-1].Microseconds())/1000, "max-ms")
	b.ReportMetric(0, "ns/op")
	b.Logf("%d %s: p50 %s, p99 %s, max %s", len(lat), what, q(0.50), q(0.99), lat[len(lat)-1])
}
