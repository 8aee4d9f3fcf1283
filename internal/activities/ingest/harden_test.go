package ingest

import (
	"bytes"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/web"
)

// TestAPIBadBytes: a NUL or invalid UTF-8 is a 400 that says what is
// wrong, on every store (PostgreSQL refuses NUL in text: it was a 500),
// and nothing is written.
func TestAPIBadBytes(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		srv, s := newTestAPI(t, d, testToken)
		url := srv.URL + "/api/activities"
		tests := []struct {
			name, method, url, body, field, msg string
		}{
			{"NUL in the comment", http.MethodPost, url, strings.Replace(goodActivity, "Footing", `Foot\u0000ing`, 1), "comment", "NUL"},
			{"NUL in the comment, PUT", http.MethodPut, url + "/" + itoa(APIIDBase+7), strings.Replace(goodActivity, "Footing", `\u0000`, 1), "comment", "NUL"},
			{"NUL in a batch", http.MethodPost, url, "[" + goodActivity + "," + strings.Replace(goodActivity, "Footing", `x\u0000`, 1) + "]", "comment", "NUL"},
			{"NUL in the employee id", http.MethodPost, url, strings.Replace(goodActivity, "E001", `E\u00001`, 1), "employee_id", "control"},
			{"invalid UTF-8 in the comment", http.MethodPost, url, strings.Replace(goodActivity, "Footing", "Foot\xffing", 1), "", "not valid UTF-8 (bad byte at offset"},
			{"a raw NUL byte", http.MethodPost, url, strings.Replace(goodActivity, "Footing", "Foot\x00ing", 1), "", "invalid JSON"},
			{"Latin-1 text", http.MethodPost, url, strings.Replace(goodActivity, "Footing", "V\xe9lo", 1), "", "UTF-8"},
		}
		for _, tt := range tests {
			var body web.Problem
			code := call(t, tt.method, tt.url, testToken, "application/json", tt.body, &body)
			if code != http.StatusBadRequest || body.Field != tt.field || !strings.Contains(body.Detail, tt.msg) {
				t.Errorf("%s: %d field %q %q, want 400 field %q saying %q", tt.name, code, body.Field, body.Detail, tt.field, tt.msg)
			}
		}
		if n := countRows(t, s); n != 0 {
			t.Errorf("%d rows written by refused requests", n)
		}
		// Accents and emoji are fine.
		var got struct{ Comment string }
		body := strings.Replace(goodActivity, "Footing", "Vélo 🚲", 1)
		if code := call(t, http.MethodPost, url, testToken, "application/json", body, &got); code != http.StatusCreated || got.Comment != "Vélo 🚲" {
			t.Errorf("a UTF-8 comment: %d %q", code, got.Comment)
		}
	})
}

// TestAuthFailuresLogLimited: a client trying tokens is logged once per
// interval, with a count, not once per try.
func TestAuthFailuresLogLimited(t *testing.T) {
	var buf bytes.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	now := testNow
	s := storetest.Open(t, store.SQLite)
	mux := http.NewServeMux()
	NewAPI(s, APIConfig{Token: testToken, Logger: log, Now: func() time.Time { return now }, AuthLogEvery: 10 * time.Second}).Register(mux)
	NewStrava(s, StravaConfig{VerifyToken: testToken, Logger: log, Now: func() time.Time { return now }}).Register(mux)
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for i := range 200 {
		now = testNow.Add(time.Duration(i) * 100 * time.Millisecond) // 20 s of tries
		if code := call(t, http.MethodPost, srv.URL+"/api/activities", "wrong-token-0123456789-"+itoa(int64(i)), "application/json", goodActivity, nil); code != http.StatusUnauthorized {
			t.Fatalf("try %d: %d, want 401", i, code)
		}
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/strava/webhook?hub.mode=subscribe&hub.challenge=x&hub.verify_token=nope", nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Fatalf("handshake %d: %d, want 403", i, resp.StatusCode)
		}
	}
	api := strings.Count(buf.String(), "activities api: wrong token")
	strava := strings.Count(buf.String(), "wrong verify token")
	if api != 2 || !strings.Contains(buf.String(), "count=100 per=10s") {
		t.Errorf("200 wrong tokens in 20 s logged %d lines, want 2 (at once, then after 10 s with count=100):\n%s", api, buf.String())
	}
	if strava != 1 {
		t.Errorf("200 wrong verify tokens in 20 s logged %d lines, want 1 (a line a minute)", strava)
	}
}
