package openf1

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/f1/openf1/openf1test"
)

var t0 = time.Date(2023, 3, 5, 16, 0, 0, 0, time.UTC)

func TestEncodeFilters(t *testing.T) {
	at := time.Date(2023, 9, 16, 13, 3, 35, 200_000_000, time.FixedZone("CEST", 2*3600))
	tests := []struct {
		name    string
		filters []Filter
		want    string
	}{
		{"none", nil, ""},
		{"latest", []Filter{SessionKey(Latest)}, "session_key=latest"},
		{"eq ints", []Filter{Eq("session_key", 9158), Eq("driver_number", 1)}, "session_key=9158&driver_number=1"},
		{"gt time in UTC", []Filter{Gt("date", at)}, "date%3E2023-09-16T11%3A03%3A35.2"},
		{"gte", []Filter{Gte("date", at)}, "date%3E=2023-09-16T11%3A03%3A35.2"},
		{"lt float", []Filter{Lt("interval", 0.005)}, "interval%3C0.005"},
		{"lte", []Filter{Lte("position", 3)}, "position%3C=3"},
		{"spaces and ampersands", []Filter{Eq("flag", "BLACK AND WHITE"), Eq("team_name", "A&B")}, "flag=BLACK+AND+WHITE&team_name=A%26B"},
		{"bool", []Filter{Eq("is_pit_out_lap", true)}, "is_pit_out_lap=true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := encodeFilters(tt.filters); got != tt.want {
				t.Errorf("encodeFilters = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFiltersReachOpenF1 checks that filters arrive as OpenF1 parses them
// and select the right rows.
func TestFiltersReachOpenF1(t *testing.T) {
	f := openf1test.NewFake(t, openf1test.Bahrain)
	c := testClient(f, nil, Config{RateLimit: -1})
	ctx := context.Background()

	from := time.Date(2023, 3, 5, 15, 3, 38, 119_000_000, time.UTC)
	rows, err := c.Positions(ctx, Eq("session_key", 7953), Gte("date", from), Lte("position", 2))
	if err != nil {
		t.Fatal(err)
	}
	reqs := f.Requests()
	if got, want := reqs[len(reqs)-1].RawQuery, "session_key=7953&date%3E=2023-03-05T15%3A03%3A38.119&position%3C=2"; got != want {
		t.Errorf("query = %q, want %q", got, want)
	}
	var got []string
	for _, r := range rows {
		got = append(got, r.Date.Format("15:04:05.000")+"/"+itoa(r.DriverNumber))
	}
	if want := "15:03:38.119/16 15:41:12.671/11"; strings.Join(got, " ") != want {
		t.Errorf("rows = %v, want %s", got, want)
	}

	// Strictly greater: the row at the bound is left out.
	rows, err = c.Positions(ctx, Eq("session_key", 7953), Gt("date", from))
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Errorf("date> gave %d rows, want 3", len(rows))
	}

	// "latest" is the session that starts last.
	ss, err := c.Sessions(ctx, SessionKey(Latest))
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 1 || ss[0].SessionKey != 7779 || ss[0].SessionName != "Race" {
		t.Errorf("latest session = %+v", ss)
	}
}

func TestNotFoundIsEmpty(t *testing.T) {
	f := openf1test.NewFake(t, openf1test.Bahrain)
	c := testClient(f, nil, Config{RateLimit: -1})
	ctx := context.Background()

	laps, err := c.Laps(ctx, Eq("session_key", 7953), Eq("driver_number", 99))
	if err != nil {
		t.Fatalf("no rows: err = %v, want nil", err)
	}
	if laps == nil || len(laps) != 0 {
		t.Errorf("no rows: got %#v, want an empty slice", laps)
	}

	// A 404 that is not "No results found." is an error.
	f.Hook = func(w http.ResponseWriter, r *http.Request, _ int) bool {
		openf1test.WriteJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
		return true
	}
	_, err = c.Meetings(ctx)
	var ae *APIError
	if !errors.As(err, &ae) || ae.StatusCode != 404 || ae.Detail != "Not Found" {
		t.Errorf("unknown route: err = %v, want an APIError 404 Not Found", err)
	}
}

func TestRetries(t *testing.T) {
	tests := []struct {
		name string
		// responses answers request n (from 1); nil lets the fake answer.
		responses  func(w http.ResponseWriter, n int) bool
		maxRetries int
		wantErr    int // expected APIError status, 0 for success
		wantReqs   int
		// checkSleeps checks the waits between attempts.
		checkSleeps func(t *testing.T, sleeps []time.Duration)
	}{
		{
			name: "429 honours Retry-After",
			responses: func(w http.ResponseWriter, n int) bool {
				if n == 1 {
					w.Header().Set("Retry-After", "7")
					openf1test.WriteJSON(w, http.StatusTooManyRequests, map[string]string{"error": "Rate limit exceeded: 30 per 10 second"})
					return true
				}
				return false
			},
			wantReqs: 2,
			checkSleeps: func(t *testing.T, sleeps []time.Duration) {
				if len(sleeps) != 1 || sleeps[0] != 7*time.Second {
					t.Errorf("sleeps = %v, want [7s]", sleeps)
				}
			},
		},
		{
			name: "500 twice then success, exponential backoff",
			responses: func(w http.ResponseWriter, n int) bool {
				if n <= 2 {
					w.Header().Set("Content-Type", "text/html")
					w.WriteHeader(http.StatusInternalServerError)
					_, _ = w.Write([]byte("<h1>An error occurred</h1><pre>Traceback...</pre>"))
					return true
				}
				return false
			},
			wantReqs: 3,
			checkSleeps: func(t *testing.T, sleeps []time.Duration) {
				// MinBackoff 100ms: attempt 1 waits 50–100ms, attempt 2 100–200ms.
				if len(sleeps) != 2 || sleeps[0] < 50*time.Millisecond || sleeps[0] > 100*time.Millisecond ||
					sleeps[1] < 100*time.Millisecond || sleeps[1] > 200*time.Millisecond {
					t.Errorf("sleeps = %v, want [50-100ms 100-200ms]", sleeps)
				}
			},
		},
		{
			name: "503 until retries run out",
			responses: func(w http.ResponseWriter, n int) bool {
				openf1test.WriteJSON(w, http.StatusServiceUnavailable, map[string]string{"detail": "Service Unavailable"})
				return true
			},
			maxRetries: 2,
			wantErr:    503,
			wantReqs:   3,
		},
		{
			name: "422 is not retried",
			responses: func(w http.ResponseWriter, n int) bool {
				openf1test.WriteJSON(w, http.StatusUnprocessableEntity, map[string]string{"detail": "No valid operator found in `session_key`."})
				return true
			},
			wantErr:  422,
			wantReqs: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := openf1test.NewFake(t, openf1test.Bahrain)
			f.Hook = func(w http.ResponseWriter, r *http.Request, n int) bool { return tt.responses(w, n) }
			clk := openf1test.NewClock(t0)
			c := testClient(f, clk, Config{RateLimit: -1, MinBackoff: 100 * time.Millisecond, MaxRetries: tt.maxRetries})
			ss, err := c.Sessions(context.Background(), Eq("session_key", 7953))
			if tt.wantErr == 0 {
				if err != nil || len(ss) != 1 || ss[0].SessionKey != 7953 {
					t.Fatalf("Sessions = %v, %v; want session 7953", ss, err)
				}
			} else {
				var ae *APIError
				if !errors.As(err, &ae) || ae.StatusCode != tt.wantErr {
					t.Fatalf("err = %v, want APIError %d", err, tt.wantErr)
				}
				if !strings.Contains(err.Error(), itoa(tt.wantErr)) || !strings.Contains(err.Error(), "/v1/sessions?session_key=7953") {
					t.Errorf("error %q lacks the status or the request", err)
				}
				if tt.wantErr == 422 && !strings.Contains(err.Error(), "No valid operator found") {
					t.Errorf("error %q lacks OpenF1's detail", err)
				}
			}
			if got := f.Count("/v1/sessions"); got != tt.wantReqs {
				t.Errorf("%d requests, want %d", got, tt.wantReqs)
			}
			if tt.checkSleeps != nil {
				tt.checkSleeps(t, clk.Sleeps())
			}
		})
	}
}

func TestTokenFlow(t *testing.T) {
	f := openf1test.NewFake(t, openf1test.Bahrain)
	f.RequireAuth = true
	clk := openf1test.NewClock(t0)
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c := testClient(f, clk, Config{Username: openf1test.User, Password: openf1test.Password, RateLimit: -1, Logger: logger})
	ctx := context.Background()

	// The first request gets a token with the credentials as a form.
	if _, err := c.Drivers(ctx, Eq("session_key", 7953)); err != nil {
		t.Fatal(err)
	}
	reqs := f.Requests()
	if len(reqs) != 2 || reqs[0].Path != "/token" || reqs[0].Method != http.MethodPost {
		t.Fatalf("requests = %+v, want POST /token then GET", reqs)
	}
	if reqs[0].Form["username"] != openf1test.User || reqs[0].Form["password"] != openf1test.Password ||
		reqs[0].CType != "application/x-www-form-urlencoded" {
		t.Errorf("token request = %+v", reqs[0])
	}
	if reqs[0].Auth != "" {
		t.Errorf("token request carries Authorization %q", reqs[0].Auth)
	}
	if reqs[1].Auth != "Bearer tok-1" {
		t.Errorf("GET Authorization = %q, want Bearer tok-1", reqs[1].Auth)
	}

	// The token is reused while valid...
	clk.Advance(50 * time.Minute)
	if _, err := c.Drivers(ctx, Eq("session_key", 7953)); err != nil {
		t.Fatal(err)
	}
	if n := f.Count("/token"); n != 1 {
		t.Errorf("%d token requests after 50 min, want 1", n)
	}
	// ... and refreshed ahead of its expiry (3600 s, refreshed 5 min early).
	clk.Advance(6 * time.Minute)
	if _, err := c.Drivers(ctx, Eq("session_key", 7953)); err != nil {
		t.Fatal(err)
	}
	reqs = f.Requests()
	if n := f.Count("/token"); n != 2 || reqs[len(reqs)-1].Auth != "Bearer tok-2" {
		t.Errorf("after 56 min: %d token requests, last Authorization %q; want 2 and tok-2", n, reqs[len(reqs)-1].Auth)
	}

	// A token the server stops accepting is replaced once.
	f.Revoke()
	if _, err := c.Drivers(ctx, Eq("session_key", 7953)); err != nil {
		t.Fatalf("after revocation: %v", err)
	}
	reqs = f.Requests()
	if n := f.Count("/token"); n != 3 || reqs[len(reqs)-1].Auth != "Bearer tok-3" {
		t.Errorf("after revocation: %d token requests, last Authorization %q; want 3 and tok-3", n, reqs[len(reqs)-1].Auth)
	}

	// Wrong credentials: a clear error, no retry loop.
	bad := testClient(f, clk, Config{Username: openf1test.User, Password: "wrong", RateLimit: -1, Logger: logger})
	_, err := bad.Drivers(ctx)
	if err == nil || !strings.Contains(err.Error(), "check the OpenF1 username and password") {
		t.Errorf("wrong password: err = %v", err)
	}

	for _, secret := range []string{openf1test.Password, "tok-1", "tok-2", "tok-3"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("logs contain the secret %q:\n%s", secret, logs.String())
		}
		if err != nil && strings.Contains(err.Error(), secret) {
			t.Errorf("error contains the secret %q", secret)
		}
	}
}

func TestTokenExpiresInForms(t *testing.T) {
	tests := []struct {
		expiresIn any
		reuseFor  time.Duration // still reused after this long
		renewBy   time.Duration // renewed after this long
	}{
		{"3600", 54 * time.Minute, 56 * time.Minute},
		{3600, 54 * time.Minute, 56 * time.Minute},
		{"120", 59 * time.Second, 61 * time.Second}, // short tokens renew half-way
		{nil, 54 * time.Minute, 56 * time.Minute},   // missing: an hour
	}
	for _, tt := range tests {
		f := openf1test.NewFake(t, openf1test.Bahrain)
		f.ExpiresIn = tt.expiresIn
		clk := openf1test.NewClock(t0)
		c := testClient(f, clk, Config{Username: openf1test.User, Password: openf1test.Password, RateLimit: -1})
		ctx := context.Background()
		if _, err := c.accessToken(ctx); err != nil {
			t.Fatal(err)
		}
		clk.Advance(tt.reuseFor)
		_, _ = c.accessToken(ctx)
		if n := f.Count("/token"); n != 1 {
			t.Errorf("expires_in %v: renewed after %v", tt.expiresIn, tt.reuseFor)
		}
		clk.Advance(tt.renewBy - tt.reuseFor)
		_, _ = c.accessToken(ctx)
		if n := f.Count("/token"); n != 2 {
			t.Errorf("expires_in %v: not renewed after %v", tt.expiresIn, tt.renewBy)
		}
	}
}

func TestWindowLimiter(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	sec := rateWindow{3, time.Second}
	tests := []struct {
		name    string
		windows []rateWindow
		at      []time.Duration // request times after t0
		want    []time.Duration // waits reserved
	}{
		{"within limit", []rateWindow{sec}, []time.Duration{0, 0, 0}, []time.Duration{0, 0, 0}},
		{"n+1th waits for the window", []rateWindow{sec}, []time.Duration{0, ms(100), ms(200), ms(300)}, []time.Duration{0, 0, 0, ms(700)}},
		{"queued requests space out", []rateWindow{{2, time.Second}}, []time.Duration{0, 0, 0, 0, 0}, []time.Duration{0, 0, time.Second, time.Second, 2 * time.Second}},
		{"window slides", []rateWindow{{2, time.Second}}, []time.Duration{0, ms(600), ms(1100), ms(1200)}, []time.Duration{0, 0, 0, ms(400)}},
		// 3 a second and 4 in 10 s: the 4th goes in the second second,
		// the 5th once the first has left the 10 s.
		{"the longer window binds", []rateWindow{sec, {4, 10 * time.Second}}, []time.Duration{0, 0, 0, 0, 0},
			[]time.Duration{0, 0, 0, time.Second, 10 * time.Second}},
		{"a later request waits behind the queue", []rateWindow{{1, time.Second}}, []time.Duration{0, 0, ms(100)},
			[]time.Duration{0, time.Second, ms(1900)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := newWindowLimiter(tt.windows...)
			for i, at := range tt.at {
				if got := l.reserve(t0.Add(at)); got != tt.want[i] {
					t.Errorf("request %d at %v waits %v, want %v", i+1, at, got, tt.want[i])
				}
			}
		})
	}
}

// TestPublicRateLimits sends requests as fast as they are asked for, for
// four minutes, through the default client's limiter: OpenF1's public
// limits (3 in any second, 30 in any minute) hold whatever the order of
// arrival, and the limiter uses the minute's whole allowance.
func TestPublicRateLimits(t *testing.T) {
	for _, every := range []time.Duration{0, 150 * time.Millisecond, 2100 * time.Millisecond} {
		c := New(Config{})
		var sent []time.Time
		now := t0
		for i := 0; now.Before(t0.Add(4 * time.Minute)); i++ {
			s := now.Add(c.limiter.reserve(now))
			sent = append(sent, s)
			now = now.Add(every)
			if every == 0 {
				now = s // the next request is asked for once this one went
			}
		}
		for _, w := range []rateWindow{{PublicRatePerSecond, time.Second}, {PublicRatePerMinute, time.Minute}} {
			for i := range sent {
				in := 0
				for _, s := range sent {
					if !s.Before(sent[i]) && s.Before(sent[i].Add(w.window)) {
						in++
					}
				}
				if in > w.n {
					t.Fatalf("asked every %v: %d requests in the %v from request %d, the limit is %d", every, in, w.window, i, w.n)
				}
			}
		}
		if every == 0 {
			// Back to back: the minute's 30, then 30 more each minute.
			in := 0
			for _, s := range sent {
				if s.Before(t0.Add(3 * time.Minute)) {
					in++
				}
			}
			if in != 3*PublicRatePerMinute {
				t.Errorf("back to back: %d requests in the first 3 minutes, want %d", in, 3*PublicRatePerMinute)
			}
		}
	}
}

func TestClientRateLimit(t *testing.T) {
	f := openf1test.NewFake(t, openf1test.Bahrain)
	clk := openf1test.NewClock(t0)
	c := testClient(f, clk, Config{RateLimit: 3, RateWindow: 10 * time.Second})
	for range 3 {
		if _, err := c.Meetings(context.Background(), Eq("year", 2023)); err != nil {
			t.Fatal(err)
		}
	}
	if s := clk.Sleeps(); len(s) != 0 {
		t.Fatalf("first 3 requests waited %v", s)
	}
	if _, err := c.Meetings(context.Background(), Eq("year", 2023)); err != nil {
		t.Fatal(err)
	}
	if s := clk.Sleeps(); len(s) != 1 || s[0] != 10*time.Second {
		t.Errorf("4th request waited %v, want [10s]", s)
	}
	if n := f.Count("/v1/meetings"); n != 4 {
		t.Errorf("%d requests, want 4", n)
	}
}

func TestRetryAfterForms(t *testing.T) {
	c := New(Config{})
	c.now = func() time.Time { return t0 }
	tests := []struct {
		h    string
		want time.Duration
		ok   bool
	}{
		{"", 0, false},
		{"3", 3 * time.Second, true},
		{"0.5", 0, false}, // RFC 9110: a whole number of seconds
		{t0.Add(20 * time.Second).Format(http.TimeFormat), 20 * time.Second, true},
		{"3600", maxRetryAfter, true},
		{"soon", 0, false},
	}
	for _, tt := range tests {
		got, ok := c.retryAfter(tt.h)
		if got != tt.want || ok != tt.ok {
			t.Errorf("retryAfter(%q) = %v, %v; want %v, %v", tt.h, got, ok, tt.want, tt.ok)
		}
	}
}

func itoa(n int) string { return strconv.Itoa(n) }
