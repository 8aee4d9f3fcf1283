package web

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestNotFound: a path nothing serves gets an HTML page with the
// navigation's links back, or a problem under /api/.
func TestNotFound(t *testing.T) {
	s := New(Config{})
	s.Nav("Overview", "/")
	s.Nav("Pipeline", "/pipeline")
	s.Mux.HandleFunc("GET /pipeline", func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, "pipeline") })
	srv := httptest.NewServer(s.handler())
	defer srv.Close()

	get := func(path string) (*http.Response, string) {
		t.Helper()
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp, string(b)
	}
	resp, body := get("/no-such-page")
	if resp.StatusCode != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Errorf("unknown page: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for _, want := range []string{"Not Found", "There is no page at /no-such-page.", `href="/pipeline"`, "Back to the overview"} {
		if !strings.Contains(body, want) {
			t.Errorf("the 404 page lacks %q:\n%s", want, body)
		}
	}

	resp, body = get("/api/nothing")
	var p Problem
	if err := json.Unmarshal([]byte(body), &p); err != nil || resp.StatusCode != http.StatusNotFound ||
		resp.Header.Get("Content-Type") != ProblemContentType || p.Status != 404 || p.Instance != "/api/nothing" {
		t.Errorf("unknown API: %d %s %s (%v)", resp.StatusCode, resp.Header.Get("Content-Type"), body, err)
	}

	// What is served is served as before.
	if resp, body := get("/pipeline"); resp.StatusCode != 200 || body != "pipeline" {
		t.Errorf("/pipeline: %d %q", resp.StatusCode, body)
	}
}
