package main

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestHealth asks a real serve whether it is alive and ready with
// `podium health`, the command the compose healthchecks run, and checks
// its answers when the process is not ready or not there.
func TestHealth(t *testing.T) {
	t.Parallel()
	p := startPodium(t, t.TempDir(), "serve")
	addr := p.owner().HTTPAddr
	r := runPodium(t, nil, "health", "--url", "http://"+addr+"/healthz")
	if r.code != 0 || r.stdout != "http://"+addr+"/healthz: ok\n" {
		t.Errorf("health --url /healthz: %+v", r)
	}
	// Ready once every stage of serve has opened its consumer.
	deadline := time.Now().Add(time.Minute)
	for {
		r = runPodium(t, map[string]string{"PODIUM_HTTP_ADDR": addr}, "health")
		if r.code == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	if r.code != 0 || r.stdout != "http://"+addr+"/readyz: ok\n" {
		t.Errorf("health (default /readyz of PODIUM_HTTP_ADDR): %+v", r)
	}

	notReady := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("not ready: stage f1-results: its batch failed 4 times in a row for 3s: disk full\n"))
	}))
	defer notReady.Close()
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"not ready", []string{"health", "--url", notReady.URL + "/readyz"},
			"/readyz answered 503 Service Unavailable:\npodium: not ready: stage f1-results: its batch failed 4 times in a row for 3s: disk full"},
		{"nobody listening", []string{"--http", "127.0.0.1:1", "health", "--timeout", "2s"}, "http://127.0.0.1:1/readyz"},
	} {
		r := runPodium(t, nil, tc.args...)
		if r.code != exitError || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%s: %+v, want exit 1 and %q", tc.name, r, tc.want)
		}
	}
}

func TestDialAddr(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		":8080":          "localhost:8080",
		"0.0.0.0:8080":   "localhost:8080",
		"[::]:8080":      "localhost:8080",
		"10.0.0.5:9101":  "10.0.0.5:9101",
		"localhost:8080": "localhost:8080",
	} {
		if got := dialAddr(in); got != want {
			t.Errorf("dialAddr(%q) = %q, want %q", in, got, want)
		}
	}
}
