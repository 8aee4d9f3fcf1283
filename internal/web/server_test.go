package web

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestProbes(t *testing.T) {
	var ready error
	s := New(Config{Ready: func(context.Context) error { return ready }})
	srv := httptest.NewServer(s.Mux)
	defer srv.Close()
	tests := []struct {
		path  string
		ready error
		code  int
		body  string
	}{
		{"/healthz", nil, 200, "ok"},
		{"/readyz", nil, 200, "ready"},
		{"/readyz", errors.New("store: connection refused"), 503, "not ready: store: connection refused"},
		{"/readyz", errors.Join(errors.New("store: connection refused"), errors.New("bus: reconnecting")), 503,
			"not ready: store: connection refused\nnot ready: bus: reconnecting\n"},
		{"/metrics", nil, 200, ""},
		{"/static/app.css", nil, 200, "prefers-color-scheme"},
		{"/nope", nil, 404, ""},
	}
	for _, tc := range tests {
		ready = tc.ready
		resp, err := http.Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || !strings.Contains(string(b), tc.body) {
			t.Errorf("GET %s = %d %q, want %d containing %q", tc.path, resp.StatusCode, b, tc.code, tc.body)
		}
	}
}

func TestHubStreamsEvents(t *testing.T) {
	s := New(Config{})
	srv := httptest.NewServer(s.Mux)
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	for s.Hub.Clients() == 0 {
		time.Sleep(time.Millisecond)
	}
	s.Hub.Publish("f1", map[string]int{"season": 2023, "round": 1})
	r := bufio.NewReader(resp.Body)
	var got []string
	for len(got) < 2 {
		line, err := r.ReadString('\n')
		if err != nil {
			t.Fatalf("read event stream: %v (got %q)", err, got)
		}
		if strings.HasPrefix(line, "event:") || strings.HasPrefix(line, "data:") {
			got = append(got, strings.TrimSpace(line))
		}
	}
	if got[0] != "event: f1" || got[1] != `data: {"round":1,"season":2023}` {
		t.Fatalf("event = %q", got)
	}
	cancel()
	deadline := time.Now().Add(5 * time.Second)
	for s.Hub.Clients() != 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	if n := s.Hub.Clients(); n != 0 {
		t.Fatalf("%d clients still registered after disconnect", n)
	}
}

func TestServeShutsDownOnCancel(t *testing.T) {
	s := New(Config{})
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	resp, err := http.Get("http://" + ln.Addr().String() + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("Serve returned %v after cancel", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after cancel")
	}
	ln2, err := Listen(ln.Addr().String())
	if err != nil {
		t.Fatalf("address still in use after shutdown: %v", err)
	}
	defer ln2.Close()
	if _, err := Listen(ln.Addr().String()); err == nil || !strings.Contains(err.Error(), "--http") {
		t.Fatalf("listening on a busy address: %v, want an error mentioning --http", err)
	}
}

func TestBackgroundRunsWithServe(t *testing.T) {
	s := New(Config{})
	started := make(chan struct{})
	stopped := false
	s.Background(func(ctx context.Context) {
		close(started)
		<-ctx.Done()
		stopped = true
	})
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	select {
	case <-started:
	case <-time.After(10 * time.Second):
		t.Fatal("the background function did not start")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if !stopped {
		t.Error("Serve returned before its background function")
	}
}

func TestDurationFunc(t *testing.T) {
	f := Funcs["duration"].(func(time.Duration) string)
	for d, want := range map[time.Duration]string{
		6526061 * time.Nanosecond:    "6.5ms",
		1234567891 * time.Nanosecond: "1.23s",
		48123 * time.Nanosecond:      "48µs",
	} {
		if got := f(d); got != want {
			t.Errorf("duration(%d) = %q, want %q", d, got, want)
		}
	}
}

// TestServerMetrics serves through Serve and checks the server's own
// series: request durations by route and status, and SSE clients.
func TestServerMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	s := New(Config{Gatherer: reg, Registerer: reg})
	s.Mux.HandleFunc("GET /drivers/{id}", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusTeapot) })
	ln, err := Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(ctx, ln) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	base := "http://" + ln.Addr().String()
	get := func(path string) string {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	sse, cancelSSE := context.WithCancel(context.Background())
	defer cancelSSE()
	req, _ := http.NewRequestWithContext(sse, "GET", base+"/events", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := bufio.NewReader(resp.Body).ReadString('\n'); err != nil {
		t.Fatalf("event stream through the instrumented server: %v", err)
	}
	get("/healthz")
	get("/drivers/max-verstappen")
	get("/drivers/lewis-hamilton")
	get("/nope")
	page := get("/metrics")
	for _, want := range []string{
		`podium_http_request_duration_seconds_count{code="200",route="GET /healthz"} 1`,
		`podium_http_request_duration_seconds_count{code="418",route="GET /drivers/{id}"} 2`,
		`podium_http_request_duration_seconds_count{code="404",route="unmatched"} 1`,
		"podium_sse_clients 1",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("/metrics lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, `route="GET /events"`) {
		t.Error("the event stream is timed as a request")
	}
}

func TestProbe(t *testing.T) {
	var ready error
	s := New(Config{Ready: func(context.Context) error { return ready }})
	srv := httptest.NewServer(s.Mux)
	defer srv.Close()
	ctx := context.Background()
	if err := Probe(ctx, srv.URL+"/readyz"); err != nil {
		t.Errorf("ready: %v", err)
	}
	ready = errors.Join(errors.New("store postgres://u:****@db/podium: connection refused"), errors.New("stage f1-results: not started yet"))
	err := Probe(ctx, srv.URL+"/readyz")
	if err == nil || !strings.Contains(err.Error(), "503 Service Unavailable") ||
		!strings.Contains(err.Error(), "not ready: store postgres://u:****@db/podium: connection refused\nnot ready: stage f1-results: not started yet") {
		t.Errorf("not ready: %v", err)
	}
	if err := Probe(ctx, srv.URL+"/healthz"); err != nil {
		t.Errorf("alive while not ready: %v", err)
	}
	srv.Close()
	if err := Probe(ctx, srv.URL+"/healthz"); err == nil || !strings.Contains(err.Error(), "connection refused") {
		t.Errorf("nobody listening: %v", err)
	}
}
