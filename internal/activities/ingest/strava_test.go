package ingest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

const (
	testVerify       = "verify-token-0123456789"
	testClientID     = "4242"
	testClientSecret = "client-secret-xyz"
	testAthlete      = 1001
	testSubscription = 7
)

// clock is a settable time.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// fakeStrava is Strava's activities and token endpoints for one athlete.
type fakeStrava struct {
	t     *testing.T
	clock *clock

	mu            sync.Mutex
	acts          map[int64]map[string]any
	access        string // the valid access token
	refresh       string // the valid refresh token
	issued        int
	tokenCalls    int
	activityCalls int
	unauthorized  int   // 401s answered
	fail          []int // statuses to answer the next activity requests
	athleteCalls  int
	// limit and usage are the X-RateLimit-Limit and -Usage headers of every
	// answer when set; over429 answers 429 to every request.
	limit, usage string
	over429      bool
	// others are activities of other athletes: 404 to testAthlete's
	// token, as Strava answers for a private activity of someone else.
	others map[int64]bool
}

// revokedBody is Strava's answer to a revoked access token.
const revokedBody = `{"message":"Authorization Error","errors":[{"resource":"Athlete","field":"access_token","code":"invalid"}]}`

// refreshRefusedBody is Strava's answer to a revoked refresh token.
const refreshRefusedBody = `{"message":"Bad Request","errors":[{"resource":"RefreshToken","field":"refresh_token","code":"invalid"}]}`

// rateLimitBody is Strava's 429.
const rateLimitBody = `{"message":"Rate Limit Exceeded","errors":[{"resource":"Application","field":"rate limit","code":"exceeded"}]}`

// headers sets the rate-limit headers; it answers 429 (true) when over.
func (f *fakeStrava) headers(w http.ResponseWriter) bool {
	if f.limit != "" {
		w.Header().Set("X-RateLimit-Limit", f.limit)
		w.Header().Set("X-RateLimit-Usage", f.usage)
	}
	if f.over429 {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		_, _ = w.Write([]byte(rateLimitBody))
		return true
	}
	return false
}

// revoke is the athlete deauthorizing podium on Strava.
func (f *fakeStrava) revoke() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.access, f.refresh = "", "revoked-refresh"
}

// reauthorize is the athlete authorizing podium again: a new refresh token.
func (f *fakeStrava) reauthorize(refresh string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.refresh = refresh
}

func (f *fakeStrava) athlete(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.athleteCalls++
	if f.headers(w) {
		return
	}
	if f.access == "" || r.Header.Get("Authorization") != "Bearer "+f.access {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(revokedBody))
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(`{"id":1001,"resource_state":2,"firstname":"Ada","lastname":"L."}`))
}

func newFakeStrava(t *testing.T, c *clock) (*fakeStrava, *httptest.Server) {
	f := &fakeStrava{t: t, clock: c, acts: map[int64]map[string]any{}, refresh: "refresh-0"}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /oauth/token", f.token)
	mux.HandleFunc("GET /api/v3/activities/{id}", f.activity)
	mux.HandleFunc("GET /api/v3/athlete", f.athlete)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return f, srv
}

func (f *fakeStrava) token(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.tokenCalls++
	if f.headers(w) {
		return
	}
	if r.FormValue("client_id") != testClientID || r.FormValue("client_secret") != testClientSecret ||
		r.FormValue("grant_type") != "refresh_token" {
		http.Error(w, `{"message":"Bad Request","errors":[{"resource":"Application","field":"client_id","code":"invalid"}]}`, http.StatusBadRequest)
		return
	}
	if r.FormValue("refresh_token") != f.refresh {
		http.Error(w, refreshRefusedBody, http.StatusBadRequest)
		return
	}
	f.issued++
	f.access = fmt.Sprintf("access-%d", f.issued)
	f.refresh = fmt.Sprintf("refresh-%d", f.issued)
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(map[string]any{"token_type": "Bearer", "access_token": f.access, "refresh_token": f.refresh,
		"expires_at": f.clock.Now().Add(6 * time.Hour).Unix(), "expires_in": 21600})
}

func (f *fakeStrava) activity(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.activityCalls++
	if f.headers(w) {
		return
	}
	if len(f.fail) > 0 {
		code := f.fail[0]
		f.fail = f.fail[1:]
		if code == http.StatusTooManyRequests {
			w.Header().Set("Retry-After", "120")
		}
		http.Error(w, `{"message":"try later"}`, code)
		return
	}
	if f.access == "" || r.Header.Get("Authorization") != "Bearer "+f.access {
		f.unauthorized++
		http.Error(w, revokedBody, http.StatusUnauthorized)
		return
	}
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	a, ok := f.acts[id]
	if !ok || f.others[id] {
		http.Error(w, `{"message":"Record Not Found"}`, http.StatusNotFound)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(a)
}

// put sets Strava's activity id.
func (f *fakeStrava) put(id int64, name, sportType string, distance float64, elapsed int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.acts[id] = map[string]any{"id": id, "name": name, "sport_type": sportType, "type": "Run", "distance": distance,
		"elapsed_time": elapsed, "moving_time": elapsed - 10, "start_date": "2025-06-01T05:30:00Z",
		"start_date_local": "2025-06-01T07:30:00Z", "athlete": map[string]any{"id": testAthlete, "resource_state": 1}}
}

func (f *fakeStrava) counts() (token, activity int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.tokenCalls, f.activityCalls
}

// stravaEnv is a receiver on a fresh store, a fake Strava and a webhook.
type stravaEnv struct {
	t     *testing.T
	s     *store.Store
	v     *Strava
	fake  *fakeStrava
	hook  string // the webhook's URL
	clock *clock
	logs  *syncBuffer
	time  int64 // the next event_time
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}
func (b *syncBuffer) String() string { b.mu.Lock(); defer b.mu.Unlock(); return b.b.String() }

func newStravaEnv(t *testing.T, d store.Dialect) *stravaEnv {
	t.Helper()
	c := &clock{now: testNow}
	fake, api := newFakeStrava(t, c)
	s := storetest.Open(t, d)
	logs := &syncBuffer{}
	v := NewStrava(s, StravaConfig{APIURL: api.URL, ClientID: testClientID, ClientSecret: testClientSecret, VerifyToken: testVerify,
		SubscriptionID: testSubscription,
		Logger:         slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug})), Now: c.Now,
		Backoff: time.Second, MaxBackoff: time.Minute, PollInterval: 20 * time.Millisecond})
	mux := http.NewServeMux()
	v.Register(mux)
	hook := httptest.NewServer(mux)
	t.Cleanup(hook.Close)
	if err := Link(context.Background(), s, testAthlete, "E001", "refresh-0", testNow); err != nil {
		t.Fatal(err)
	}
	return &stravaEnv{t: t, s: s, v: v, fake: fake, hook: hook.URL + "/strava/webhook", clock: c, logs: logs, time: testNow.Unix()}
}

// send posts an event to the webhook and returns the status.
func (e *stravaEnv) send(ev Event) int {
	e.t.Helper()
	if ev.EventTime == 0 {
		e.time++
		ev.EventTime = e.time
	}
	if ev.SubscriptionID == 0 {
		ev.SubscriptionID = testSubscription
	}
	if ev.OwnerID == 0 {
		ev.OwnerID = testAthlete
	}
	body, _ := json.Marshal(ev)
	resp, err := http.Post(e.hook, "application/json", bytes.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// process runs one round of the worker and returns the events settled.
func (e *stravaEnv) process() int {
	e.t.Helper()
	n, err := e.v.ProcessPending(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	return n
}

// row returns the stored activity of Strava's id, ok false when none.
func (e *stravaEnv) row(stravaID int64) (activities.Activity, bool) {
	e.t.Helper()
	id, _ := StravaID(stravaID)
	a, err := read(context.Background(), e.s.DB(), id)
	return a, err == nil
}

func (e *stravaEnv) count(query string) int {
	e.t.Helper()
	var n int
	if err := e.s.DB().QueryRow(query).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func TestStravaHandshake(t *testing.T) {
	e := newStravaEnv(t, store.SQLite)
	disabled := httptest.NewServer(func() *http.ServeMux {
		mux := http.NewServeMux()
		NewStrava(e.s, StravaConfig{}).Register(mux)
		return mux
	}())
	defer disabled.Close()
	tests := []struct {
		name, url, query string
		want             int
	}{
		{"good token", e.hook, "hub.mode=subscribe&hub.challenge=15f7d1a91c1f40f8a748fd134752feb3&hub.verify_token=" + testVerify, http.StatusOK},
		{"wrong token", e.hook, "hub.mode=subscribe&hub.challenge=abc&hub.verify_token=nope", http.StatusForbidden},
		{"no token", e.hook, "hub.mode=subscribe&hub.challenge=abc", http.StatusForbidden},
		{"not subscribe", e.hook, "hub.mode=unsubscribe&hub.challenge=abc&hub.verify_token=" + testVerify, http.StatusBadRequest},
		{"no challenge", e.hook, "hub.mode=subscribe&hub.verify_token=" + testVerify, http.StatusBadRequest},
		{"not configured", disabled.URL + "/strava/webhook", "hub.mode=subscribe&hub.challenge=abc&hub.verify_token=", http.StatusServiceUnavailable},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Get(tt.url + "?" + tt.query)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body map[string]string
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d (%v)", resp.StatusCode, tt.want, body)
			}
			if tt.want == http.StatusOK && body["hub.challenge"] != "15f7d1a91c1f40f8a748fd134752feb3" {
				t.Errorf("answer %v, want the challenge echoed", body)
			}
		})
	}
	// A POST to a receiver without a verify token is refused too.
	resp, err := http.Post(disabled.URL+"/strava/webhook", "application/json", strings.NewReader(`{}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("POST to a disabled webhook: %d, want 503", resp.StatusCode)
	}
}

func TestStravaEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := newStravaEnv(t, d)
		create := Event{ObjectType: "activity", ObjectID: 555, AspectType: "create"}

		// create: recorded, answered, then processed into a row.
		e.fake.put(555, "Morning trail", "TrailRun", 12345.6, 4000)
		if code := e.send(create); code != http.StatusOK {
			t.Fatalf("webhook: status %d", code)
		}
		if _, ok := e.row(555); ok {
			t.Fatal("the row exists before the worker ran: the webhook must only record the event")
		}
		if n := e.process(); n != 1 {
			t.Fatalf("%d events processed, want 1", n)
		}
		got, ok := e.row(555)
		if !ok {
			t.Fatal("no row after the create event")
		}
		want := activities.Activity{ID: StravaIDBase + 555, EmployeeID: "E001", StartTime: time.Date(2025, 6, 1, 5, 30, 0, 0, time.UTC),
			SportType: "Run", DistanceM: 12345.6, ElapsedS: 4000, Comment: "Morning trail", Source: activities.SourceStrava, MovingS: 3990}
		got.UpdatedAt = time.Time{}
		if got != want {
			t.Errorf("row\n%+v, want\n%+v", got, want)
		}
		if tok, _ := e.fake.counts(); tok != 1 {
			t.Errorf("%d token refreshes, want 1 (the link stores no access token)", tok)
		}

		// The same event delivered again: one event, one row, no fetch.
		_, before := e.fake.counts()
		create.EventTime = e.time
		for range 2 {
			if code := e.send(create); code != http.StatusOK {
				t.Fatalf("redelivery: status %d", code)
			}
		}
		if n := e.process(); n != 0 {
			t.Errorf("a redelivered event was processed again (%d)", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM strava_events`); n != 1 {
			t.Errorf("%d events recorded, want 1", n)
		}
		if n := e.count(`SELECT COUNT(*) FROM sport_activities`); n != 1 {
			t.Errorf("%d rows, want 1", n)
		}
		if _, after := e.fake.counts(); after != before {
			t.Errorf("Strava asked %d times for a redelivered event", after-before)
		}

		// update: the row follows Strava.
		e.fake.put(555, "Trail du Pic Saint-Loup", "TrailRun", 13000, 4100)
		e.send(Event{ObjectType: "activity", ObjectID: 555, AspectType: "update", Updates: json.RawMessage(`{"title":"Trail du Pic Saint-Loup"}`)})
		if n := e.process(); n != 1 {
			t.Fatalf("%d events processed, want 1", n)
		}
		if got, _ := e.row(555); got.Comment != "Trail du Pic Saint-Loup" || got.DistanceM != 13000 {
			t.Errorf("after the update: %+v", got)
		}

		// An access token that expired (by the clock): refreshed first.
		e.clock.Add(7 * time.Hour)
		e.fake.put(555, "after expiry", "Run", 13000, 4100)
		e.send(Event{ObjectType: "activity", ObjectID: 555, AspectType: "update"})
		if n := e.process(); n != 1 {
			t.Fatalf("%d events processed, want 1", n)
		}
		if tok, _ := e.fake.counts(); tok != 2 {
			t.Errorf("%d token refreshes, want 2", tok)
		}
		// An access token Strava revoked early (401): refreshed, stored.
		e.fake.mu.Lock()
		e.fake.access = "revoked"
		e.fake.mu.Unlock()
		e.fake.put(555, "after revocation", "Run", 13000, 4100)
		e.send(Event{ObjectType: "activity", ObjectID: 555, AspectType: "update"})
		if n := e.process(); n != 1 {
			t.Fatalf("%d events processed, want 1", n)
		}
		if got, _ := e.row(555); got.Comment != "after revocation" {
			t.Errorf("after the 401: %q", got.Comment)
		}
		var access, refresh string
		if err := e.s.DB().QueryRow(`SELECT access_token, refresh_token FROM strava_athletes WHERE athlete_id = $1`, testAthlete).Scan(&access, &refresh); err != nil {
			t.Fatal(err)
		}
		if access != "access-3" || refresh != "refresh-3" {
			t.Errorf("stored tokens %q, %q, want the third ones", access, refresh)
		}

		// Strava fails (500, then 429): retried later, nothing lost.
		for _, code := range []int{http.StatusInternalServerError, http.StatusTooManyRequests} {
			e.fake.mu.Lock()
			e.fake.fail = []int{code}
			e.fake.mu.Unlock()
			name := fmt.Sprintf("after a %d", code)
			e.fake.put(555, name, "Run", 13000, 4100)
			e.send(Event{ObjectType: "activity", ObjectID: 555, AspectType: "update"})
			if n := e.process(); n != 0 {
				t.Fatalf("%d: %d events processed, want 0", code, n)
			}
			if got, _ := e.row(555); got.Comment == name {
				t.Fatalf("%d: the row changed", code)
			}
			// A 500 is the event's failure; a 429 is Strava's window, not
			// the event's: it waits without an attempt counted.
			failed := `SELECT COUNT(*) FROM strava_events WHERE processed_at IS NULL AND attempts = 1 AND last_error <> ''`
			if code == http.StatusTooManyRequests {
				failed = `SELECT COUNT(*) FROM strava_events WHERE processed_at IS NULL AND attempts = 0`
			}
			if n := e.count(failed); n != 1 {
				t.Fatalf("%d: %d failed events pending, want 1", code, n)
			}
			// Not due yet: nothing happens.
			_, calls := e.fake.counts()
			if n := e.process(); n != 0 {
				t.Errorf("%d: retried before its backoff", code)
			}
			if _, after := e.fake.counts(); after != calls {
				t.Errorf("%d: Strava asked before the backoff", code)
			}
			e.clock.Add(2 * time.Second)
			if code == http.StatusTooManyRequests {
				// Retry-After says 120 s; the 15-minute window (19:00 to
				// 19:15) ends later: podium waits for it.
				e.clock.Add(2 * time.Minute)
				if n := e.process(); n != 0 {
					t.Errorf("429: retried before the window's end")
				}
				e.clock.Add(13 * time.Minute)
			}
			if n := e.process(); n != 1 {
				t.Fatalf("%d: %d events processed on retry, want 1", code, n)
			}
			if got, _ := e.row(555); got.Comment != name {
				t.Errorf("%d: after the retry %q, want %q", code, got.Comment, name)
			}
		}

		// A delete Strava contradicts (the activity is still there) is
		// ignored; a real one removes the row.
		e.send(Event{ObjectType: "activity", ObjectID: 555, AspectType: "delete"})
		e.process()
		if _, ok := e.row(555); !ok {
			t.Fatal("a delete of an activity Strava still has removed the row")
		}
		e.fake.mu.Lock()
		delete(e.fake.acts, 555)
		e.fake.mu.Unlock()
		e.send(Event{ObjectType: "activity", ObjectID: 555, AspectType: "delete"})
		if n := e.process(); n != 1 {
			t.Fatalf("%d events processed, want 1", n)
		}
		if _, ok := e.row(555); ok {
			t.Error("the row is still there after the delete")
		}

		// Unknown sports are recorded as the "other" sport; athletes not
		// linked are skipped.
		e.fake.put(777, "Quidditch", "Quidditch", 0, 3600)
		e.send(Event{ObjectType: "activity", ObjectID: 777, AspectType: "create"})
		e.send(Event{ObjectType: "activity", ObjectID: 888, AspectType: "create", OwnerID: 999})
		if n := e.process(); n != 1 {
			t.Fatalf("%d events processed, want 1 (the unlinked athlete's is not even recorded)", n)
		}
		if got, _ := e.row(777); got.SportType != OtherSport {
			t.Errorf("unknown sport stored as %q, want %q", got.SportType, OtherSport)
		}
		if _, ok := e.row(888); ok {
			t.Error("an activity of an athlete not linked was stored")
		}
		if n := e.count(`SELECT COUNT(*) FROM strava_events WHERE owner_id = 999`); n != 0 {
			t.Errorf("the event of the unlinked athlete was recorded")
		}

		// A deauthorization Strava does not confirm is ignored; a real one
		// forgets the tokens.
		deauth := Event{ObjectType: "athlete", ObjectID: testAthlete, AspectType: "update", Updates: json.RawMessage(`{"authorized":"false"}`)}
		e.send(deauth)
		e.process()
		if n := e.count(`SELECT COUNT(*) FROM strava_athletes WHERE authorized = true AND refresh_token <> ''`); n != 1 {
			t.Fatal("a deauthorization Strava contradicts disconnected the athlete")
		}
		e.fake.revoke()
		deauth.EventTime = 0
		e.send(deauth)
		e.process()
		var authorized bool
		if err := e.s.DB().QueryRow(`SELECT access_token, refresh_token, authorized FROM strava_athletes WHERE athlete_id = $1`, testAthlete).Scan(&access, &refresh, &authorized); err != nil {
			t.Fatal(err)
		}
		if access != "" || refresh != "" || authorized {
			t.Errorf("after deauthorization: tokens kept (%t, %t), authorized %t", access != "", refresh != "", authorized)
		}
		st, err := ReadStatus(context.Background(), e.s)
		if err != nil {
			t.Fatal(err)
		}
		if st.Pending != 0 || len(st.Athletes) != 1 || st.Athletes[0].Authorized {
			t.Errorf("status %+v", st)
		}

		// No token ever reaches the logs.
		logs := e.logs.String()
		for _, secret := range []string{"access-1", "access-2", "access-3", "refresh-0", "refresh-1", "refresh-3", testClientSecret, testVerify} {
			if strings.Contains(logs, secret) {
				t.Errorf("the logs hold the secret %q", secret)
			}
		}
		if !strings.Contains(logs, "event failed, will retry") {
			t.Error("the logs do not tell about the retries")
		}
	})
}

func TestStravaWorkerRunsInBackground(t *testing.T) {
	e := newStravaEnv(t, store.SQLite)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { e.v.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	e.fake.put(321, "Lunch ride", "GravelRide", 20000, 3000)
	if code := e.send(Event{ObjectType: "activity", ObjectID: 321, AspectType: "create"}); code != http.StatusOK {
		t.Fatalf("webhook: status %d", code)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if got, ok := e.row(321); ok {
			if got.SportType != "Ride" {
				t.Errorf("GravelRide stored as %q, want Ride", got.SportType)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the worker did not process the event within 10 s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStravaWebhookRefusesBadEvents(t *testing.T) {
	e := newStravaEnv(t, store.SQLite)
	tests := []struct {
		name, body string
		want       int
	}{
		{"not JSON", `{`, http.StatusBadRequest},
		{"unknown object", `{"object_type":"club","object_id":1,"aspect_type":"create","owner_id":1}`, http.StatusUnprocessableEntity},
		{"unknown aspect", `{"object_type":"activity","object_id":1,"aspect_type":"like","owner_id":1}`, http.StatusUnprocessableEntity},
		{"no object id", `{"object_type":"activity","aspect_type":"create","owner_id":1}`, http.StatusUnprocessableEntity},
		{"good", `{"object_type":"activity","object_id":1,"aspect_type":"create","owner_id":1001,"subscription_id":7,"event_time":1}`, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, err := http.Post(e.hook, "application/json", strings.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tt.want {
				t.Errorf("status %d, want %d", resp.StatusCode, tt.want)
			}
		})
	}
	if n := e.count(`SELECT COUNT(*) FROM strava_events`); n != 1 {
		t.Errorf("%d events recorded, want 1", n)
	}
}

func TestStravaSportMapping(t *testing.T) {
	tests := []struct {
		sportType, typ, want string
		known                bool
	}{
		{"Run", "", "Run", true},
		{"TrailRun", "Run", "Run", true},
		{"VirtualRun", "", "Run", true},
		{"", "Ride", "Ride", true},
		{"EBikeRide", "Ride", "Ride", true},
		{"MountainBikeRide", "Ride", "Ride", true},
		{"VirtualRide", "", "Ride", true},
		{"Swim", "", "Swim", true},
		{"Walk", "", "Walk", true},
		{"Hike", "", "Hike", true},
		{"Kayaking", "", "Canoeing", true},
		{"NordicSki", "", "AlpineSki", true},
		{"Quidditch", "Workout", OtherSport, false},
		{"", "", OtherSport, false},
	}
	for _, tt := range tests {
		got, known := StravaSport(tt.sportType, tt.typ)
		if got != tt.want || known != tt.known {
			t.Errorf("StravaSport(%q, %q) = %q, %t, want %q, %t", tt.sportType, tt.typ, got, known, tt.want, tt.known)
		}
	}
}

func TestIDRangesDoNotOverlap(t *testing.T) {
	// generate.IDBase(9000) + 10⁹ is the generator's last id; the live ids
	// start at 1<<60 and stay below 1<<61 until the year 38000.
	lastGenerated := int64(9001) * 1_000_000_000
	liveEnd := int64(1<<60) + time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC).UnixMicro()
	first, _ := StravaID(1)
	last, _ := StravaID(idSpan - 1)
	if first <= lastGenerated || first <= liveEnd || last >= APIIDBase {
		t.Errorf("Strava's range [%d, %d] overlaps another", first, last)
	}
	if id := APIID("E1", testNow, "Run"); !IsAPIID(id) || id <= last {
		t.Errorf("API id %d outside its range", id)
	}
	if s, ok := StravaActivityID(first); !ok || s != 1 {
		t.Errorf("StravaActivityID(%d) = %d, %t", first, s, ok)
	}
	if _, err := StravaID(0); err == nil {
		t.Error("StravaID(0) accepted")
	}
}
