package rewards_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/hr/hrtest"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/web"
)

// TestActivitiesPage renders /activities from the processor's tables, checks
// that it shows the aggregates and no personal data, and that a committed
// batch reaches the browsers as an "activities" server-sent event.
func TestActivitiesPage(t *testing.T) {
	ctx := context.Background()
	b := enginetest.Open(t, enginetest.JetStream)
	s := storetest.Open(t, store.SQLite)
	reg := hrtest.Sample(t, s)
	var msgs []*bus.Message
	for i, e := range reg.Employees[:20] {
		msgs = append(msgs, event(t, cdc.OpCreate, int64(i+1), nil, act(int64(i+1), e.ID, fmt.Sprintf("2025-%02d-10T07:00:00Z", i%12+1))))
	}
	if err := b.Publish(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	srv := web.New(web.Config{})
	events := make(chan string, 10)
	sse := httptest.NewServer(srv.Mux)
	defer sse.Close()
	sseCtx, stopSSE := context.WithCancel(ctx)
	defer stopSSE() // before sse.Close, which waits for the stream to end
	go func() {
		req, err := http.NewRequestWithContext(sseCtx, "GET", sse.URL+"/events", nil)
		if err != nil {
			events <- "error: " + err.Error()
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			events <- "error: " + err.Error()
			return
		}
		defer resp.Body.Close()
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			select {
			case events <- sc.Text():
			case <-sseCtx.Done():
				return
			}
		}
	}()
	waitClients(t, srv.Hub)
	// The notices go through the bus, as between a worker and serve.
	notices := stream.NewNotices(b, nil)
	relayCtx, stopRelay := context.WithCancel(ctx)
	defer notices.Relay(relayCtx, func(n stream.Notice) { srv.Hub.Publish(n.Event, n.Data) })()
	defer stopRelay() // runs first: the relay's goroutines end, then are joined
	procs := []stream.Runnable{rewards.Processor(rewards.DefaultPolicy(), rewards.Notify(notices))}
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if err := ops.CatchUp(cctx, stream.Env{Bus: b, Store: s}, procs, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.After(10 * time.Second)
	for got := false; !got; {
		select {
		case line := <-events:
			got = line == "event: "+rewards.EventActivities
		case <-deadline:
			t.Fatal("no activities event after a committed batch")
		}
	}

	rewards.HandlePage(srv, s.DB(), rewards.DefaultPolicy().Location, nil)
	tests := []struct {
		name, path string
		fragment   bool
		want       []string
	}{
		{"latest year", "/activities", false, []string{"<h1>Activities 2025</h1>", "total bonus cost", "eligible employees",
			"wellness days granted", "By business unit", reg.Employees[0].BusinessUnit, "Top sports", "Run", "monthly-chart",
			`data-live="activities"`, `href="/activities"`,
			// Times named with their zone, the chart with its scale.
			`<span data-tz-name>Europe/Paris</span>`, `<time datetime="2025-`, " CET</time>", "activities per month"}},
		// Every list follows the year: no 2025 activity in 2019's feed.
		{"a year without data", "/activities?year=2019", false, []string{"<h1>Activities 2019</h1>", "Nothing this year.", "No activity in 2019."}},
		{"live fragment", "/activities", true, []string{"<h1>Activities 2025</h1>"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := httptest.NewRequest("GET", tt.path, nil)
			if tt.fragment {
				req.Header.Set("X-Podium-Fragment", "1")
			}
			rec := httptest.NewRecorder()
			srv.Mux.ServeHTTP(rec, req)
			body, _ := io.ReadAll(rec.Body)
			if rec.Code != http.StatusOK {
				t.Fatalf("GET %s: %d\n%s", tt.path, rec.Code, body)
			}
			for _, w := range tt.want {
				if !strings.Contains(string(body), w) {
					t.Errorf("GET %s lacks %q", tt.path, w)
				}
			}
			if tt.fragment && strings.Contains(string(body), "<html") {
				t.Errorf("the fragment has the layout")
			}
			// The company's time zone is no one's address (an employee
			// of the sample lives in "Paris").
			page := strings.ReplaceAll(string(body), "Europe/Paris", "")
			for _, e := range reg.Employees {
				for _, personal := range []string{e.LastName, e.HomeAddress, fmt.Sprintf("%.2f", e.GrossSalary), e.BirthDate.Format("2006-01-02")} {
					if personal != "" && strings.Contains(page, personal) {
						t.Errorf("GET %s shows personal data of employee %s: %q", tt.path, e.ID, personal)
					}
				}
			}
		})
	}
}

func waitClients(t *testing.T, h *web.Hub) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for h.Clients() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the event stream did not connect")
		}
		time.Sleep(10 * time.Millisecond)
	}
}
