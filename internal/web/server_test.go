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
