package ingest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

// snapshot is what a forged event must not change: the activities and the
// athletes.
func (e *stravaEnv) snapshot() string {
	e.t.Helper()
	var b strings.Builder
	for _, q := range []string{
		`SELECT id || '/' || employee_id || '/' || distance_m FROM sport_activities ORDER BY id`,
		`SELECT athlete_id || '/' || employee_id || '/' || refresh_token || '/' || authorized FROM strava_athletes ORDER BY athlete_id`,
	} {
		rows, err := e.s.DB().Query(q)
		if err != nil {
			e.t.Fatal(err)
		}
		for rows.Next() {
			var s string
			if err := rows.Scan(&s); err != nil {
				e.t.Fatal(err)
			}
			b.WriteString(s + "\n")
		}
		rows.Close()
	}
	return b.String()
}

func TestStravaForgedWebhooks(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := newStravaEnv(t, d)
		ctx := context.Background()
		// Athlete 2002 is linked to another employee and has activity 900
		// in the store; Strava shows it only to them (404 to athlete 1001).
		if err := Link(ctx, e.s, 2002, "E002", "refresh-other", testNow); err != nil {
			t.Fatal(err)
		}
		other, _ := StravaID(900)
		if err := activities.Upsert(ctx, e.s.DB(), activities.Activity{ID: other, EmployeeID: "E002", StartTime: testNow.Add(-time.Hour),
			SportType: "Run", DistanceM: 10000, ElapsedS: 3000, Source: activities.SourceStrava}); err != nil {
			t.Fatal(err)
		}
		e.fake.mu.Lock()
		e.fake.others = map[int64]bool{900: true}
		e.fake.mu.Unlock()
		// And 555 is athlete 1001's own, on Strava and in the store.
		e.fake.put(555, "Lunch run", "Run", 8000, 2400)
		e.send(Event{ObjectType: "activity", ObjectID: 555, AspectType: "create"})
		e.process()
		if _, ok := e.row(555); !ok {
			t.Fatal("setup: the genuine create was not stored")
		}

		tests := []struct {
			name string
			ev   Event
			// logged is the log line the ignored event leaves, once.
			logged string
		}{
			{"unknown owner", Event{ObjectType: "activity", ObjectID: 555, AspectType: "delete", OwnerID: 31337},
				"event ignored: the owner is not a linked athlete"},
			{"unknown owner creates", Event{ObjectType: "activity", ObjectID: 4242, AspectType: "create", OwnerID: 31337},
				"event ignored: the owner is not a linked athlete"},
			{"wrong subscription", Event{ObjectType: "activity", ObjectID: 555, AspectType: "delete", SubscriptionID: 99},
				"event ignored: subscription 99 is not podium's (7)"},
			{"wrong subscription deauthorizes", Event{ObjectType: "athlete", ObjectID: testAthlete, AspectType: "update",
				SubscriptionID: 99, Updates: []byte(`{"authorized":"false"}`)}, "event ignored: subscription 99 is not podium's (7)"},
			{"delete of another athlete's activity", Event{ObjectType: "activity", ObjectID: 900, AspectType: "delete"},
				"outcome=\"skipped: activity 900 is not athlete 1001's: delete event ignored\""},
			{"update of another athlete's activity", Event{ObjectType: "activity", ObjectID: 900, AspectType: "update"},
				"outcome=\"skipped: Strava does not show activity 900"},
			{"deauthorization Strava contradicts", Event{ObjectType: "athlete", ObjectID: testAthlete, AspectType: "update",
				Updates: []byte(`{"authorized":"false"}`)}, "Strava still authorizes athlete 1001: deauthorization ignored"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				before := e.snapshot()
				logsBefore := strings.Count(e.logs.String(), tt.logged)
				if code := e.send(tt.ev); code != http.StatusOK {
					t.Fatalf("answered %d, want 200 (Strava redelivers anything else)", code)
				}
				e.process()
				if after := e.snapshot(); after != before {
					t.Errorf("the store changed:\nbefore %s\nafter %s", before, after)
				}
				if n := e.count(`SELECT COUNT(*) FROM strava_events WHERE processed_at IS NULL`); n != 0 {
					t.Errorf("%d events left pending", n)
				}
				if a, ok := e.row(555); !ok || a.DistanceM != 8000 {
					t.Errorf("athlete 1001's activity changed: %+v, %t", a, ok)
				}
				if _, ok := e.row(900); !ok {
					t.Error("athlete 2002's activity was deleted")
				}
				if n := e.count(`SELECT COUNT(*) FROM strava_athletes WHERE authorized = true AND refresh_token <> ''`); n != 2 {
					t.Errorf("%d athletes still authorized, want 2", n)
				}
				if n := strings.Count(e.logs.String(), tt.logged) - logsBefore; n != 1 {
					t.Errorf("logged %d times, want once: %q\n%s", n, tt.logged, e.logs.String())
				}
			})
		}
		if n := e.count(`SELECT COUNT(*) FROM strava_events WHERE owner_id <> 1001 OR subscription_id <> 7`); n != 0 {
			t.Errorf("%d events of strangers recorded", n)
		}
	})
}

func TestStravaWebhookNeedsSubscriptionID(t *testing.T) {
	e := newStravaEnv(t, store.SQLite)
	v := NewStrava(e.s, StravaConfig{APIURL: "http://127.0.0.1:1", VerifyToken: testVerify})
	mux := http.NewServeMux()
	v.Register(mux)
	rec := httptest.NewRecorder()
	mux.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/strava/webhook",
		strings.NewReader(`{"object_type":"activity","object_id":1,"aspect_type":"create","owner_id":1001,"subscription_id":7,"event_time":1}`)))
	if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "ignored") {
		t.Errorf("answer %d %s, want 200 ignored", rec.Code, rec.Body)
	}
	if n := e.count(`SELECT COUNT(*) FROM strava_events`); n != 0 {
		t.Errorf("%d events recorded without a subscription id configured", n)
	}
}

func TestStravaRevokedAuthorization(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		e := newStravaEnv(t, d)
		ctx := context.Background()
		e.fake.put(555, "Morning run", "Run", 8000, 2400)
		e.send(Event{ObjectType: "activity", ObjectID: 555, AspectType: "create"})
		if n := e.process(); n != 1 {
			t.Fatalf("%d processed, want 1", n)
		}
		// The athlete revokes podium on strava.com; Strava sends no event
		// (or it is lost). The next fetch is refused: 401, then the
		// refresh token is refused too.
		e.fake.revoke()
		e.fake.put(556, "Evening run", "Run", 5000, 1500)
		e.send(Event{ObjectType: "activity", ObjectID: 556, AspectType: "create"})
		if n := e.process(); n != 0 {
			t.Fatalf("%d processed while revoked, want 0", n)
		}
		st, err := ReadStatus(ctx, e.s)
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Athletes) != 1 || st.Athletes[0].Authorized || st.Athletes[0].DisconnectedAt.IsZero() ||
			!strings.Contains(st.Athletes[0].DisconnectReason, "RefreshToken refresh_token invalid") {
			t.Fatalf("status %+v, want the athlete disconnected with Strava's reason", st.Athletes)
		}
		if st.Waiting != 1 || st.Pending != 1 || st.Failing != 0 {
			t.Errorf("status: %d waiting, %d pending, %d failing; want 1, 1, 0", st.Waiting, st.Pending, st.Failing)
		}
		// While disconnected, Strava is not asked again.
		tok, acts := e.fake.counts()
		for range 3 {
			e.clock.Add(time.Hour)
			e.process()
		}
		if tok2, acts2 := e.fake.counts(); tok2 != tok || acts2 != acts {
			t.Errorf("Strava asked %d token and %d activity calls for a disconnected athlete", tok2-tok, acts2-acts)
		}
		if _, ok := e.row(556); ok {
			t.Fatal("stored while disconnected")
		}
		// Re-authorization: linked again with the new refresh token; the
		// waiting event goes through.
		e.fake.reauthorize("refresh-new")
		if err := Link(ctx, e.s, testAthlete, "E001", "refresh-new", e.clock.Now()); err != nil {
			t.Fatal(err)
		}
		if n := e.process(); n != 1 {
			t.Fatalf("%d processed after re-authorization, want 1", n)
		}
		if _, ok := e.row(556); !ok {
			t.Error("the waiting event was not processed after re-authorization")
		}
		st, _ = ReadStatus(ctx, e.s)
		if !st.Athletes[0].Authorized || st.Athletes[0].DisconnectReason != "" || st.Waiting != 0 {
			t.Errorf("after re-authorization: %+v, %d waiting", st.Athletes[0], st.Waiting)
		}
	})
}

func TestStravaRateLimits(t *testing.T) {
	e := newStravaEnv(t, store.SQLite)
	// 12:00 UTC: the 15-minute window ends at 12:15.
	for id := int64(601); id <= 603; id++ {
		e.fake.put(id, "run", "Run", 5000, 1500)
		e.send(Event{ObjectType: "activity", ObjectID: id, AspectType: "create"})
	}
	e.fake.mu.Lock()
	e.fake.limit, e.fake.usage = "200,2000", "199,1200"
	e.fake.mu.Unlock()
	if n := e.process(); n != 3 {
		t.Fatalf("%d processed under the limit, want 3", n)
	}
	// The window is full: the next event waits until 12:15, Strava is
	// not asked meanwhile.
	e.fake.mu.Lock()
	e.fake.usage = "200,1201"
	e.fake.mu.Unlock()
	e.fake.put(604, "run", "Run", 5000, 1500)
	e.fake.put(605, "run", "Run", 5000, 1500)
	e.send(Event{ObjectType: "activity", ObjectID: 604, AspectType: "update"})
	e.send(Event{ObjectType: "activity", ObjectID: 605, AspectType: "create"})
	if n := e.process(); n != 1 {
		t.Fatalf("%d processed, want 1 (the call that filled the window)", n)
	}
	_, calls := e.fake.counts()
	for range 5 {
		e.clock.Add(2 * time.Minute) // up to 12:10
		if n := e.process(); n != 0 {
			t.Fatalf("processed %d inside a full window", n)
		}
	}
	if _, c := e.fake.counts(); c != calls {
		t.Fatalf("Strava asked %d times inside a full window", c-calls)
	}
	e.clock.Add(5 * time.Minute) // 12:15
	e.fake.mu.Lock()
	e.fake.usage = "1,1202"
	e.fake.mu.Unlock()
	if n := e.process(); n != 1 {
		t.Fatalf("%d processed in the next window, want 1", n)
	}

	// A 429 with the daily limit reached: nothing until midnight UTC.
	e.fake.mu.Lock()
	e.fake.usage, e.fake.over429 = "5,2000", true
	e.fake.mu.Unlock()
	e.fake.put(606, "run", "Run", 5000, 1500)
	e.send(Event{ObjectType: "activity", ObjectID: 606, AspectType: "create"})
	if n := e.process(); n != 0 {
		t.Fatal("processed through a 429")
	}
	if n := e.count(`SELECT COUNT(*) FROM strava_events WHERE processed_at IS NULL AND attempts = 0`); n != 1 {
		t.Errorf("a rate-limited event counts as failed (%d pending untouched, want 1)", n)
	}
	_, calls = e.fake.counts()
	e.fake.mu.Lock()
	e.fake.over429 = false
	e.fake.usage = "6,2000"
	e.fake.mu.Unlock()
	for range 11 {
		e.clock.Add(time.Hour) // up to 23:15
		e.process()
	}
	if _, c := e.fake.counts(); c != calls {
		t.Fatalf("Strava asked %d times before the day's end", c-calls)
	}
	e.clock.Add(time.Hour) // 00:15 the next day
	e.fake.mu.Lock()
	e.fake.usage = "1,1"
	e.fake.mu.Unlock()
	if n := e.process(); n != 1 {
		t.Fatalf("%d processed the next day, want 1", n)
	}
	if !strings.Contains(e.logs.String(), "rate limit reached, waiting for the next window") {
		t.Error("the wait is not logged")
	}
}

func TestRateLimitWindows(t *testing.T) {
	at := time.Date(2025, 6, 10, 12, 7, 30, 0, time.UTC)
	tests := []struct {
		name          string
		limit, usage  string
		status        int
		now           time.Time
		want          time.Duration
		wantZeroAfter bool
	}{
		{"under", "200,2000", "100,1200", 200, at, 0, false},
		{"quarter full", "200,2000", "200,1200", 200, at, 7*time.Minute + 30*time.Second, false},
		{"quarter full, next window", "200,2000", "200,1200", 200, at.Add(8 * time.Minute), 0, false},
		{"day full", "200,2000", "3,2000", 200, at, 11*time.Hour + 52*time.Minute + 30*time.Second, false},
		{"429 without headers", "", "", 429, at, 7*time.Minute + 30*time.Second, false},
		{"read limit tighter", "200,2000", "10,10", 200, at, 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var l rateLimits
			h := http.Header{}
			if tt.limit != "" {
				h.Set("X-RateLimit-Limit", tt.limit)
				h.Set("X-RateLimit-Usage", tt.usage)
			}
			l.observe(h, tt.status, at)
			if got := l.wait(tt.now); got != tt.want {
				t.Errorf("wait %v, want %v", got, tt.want)
			}
		})
	}
	// The read limits (X-ReadRateLimit-*) count when they are the tighter.
	var l rateLimits
	h := http.Header{}
	h.Set("X-RateLimit-Limit", "200,2000")
	h.Set("X-RateLimit-Usage", "10,10")
	h.Set("X-ReadRateLimit-Limit", "100,1000")
	h.Set("X-ReadRateLimit-Usage", "100,500")
	l.observe(h, 200, at)
	if got := l.wait(at); got != 7*time.Minute+30*time.Second {
		t.Errorf("read limit full: wait %v", got)
	}
}

// FuzzStravaAnswers feeds the readers of Strava's answers — the error body
// and the rate-limit headers — with anything: they never panic, and a wait
// is never negative.
func FuzzStravaAnswers(f *testing.F) {
	f.Add([]byte(revokedBody), "200,2000", "100,1200", 200)
	f.Add([]byte(refreshRefusedBody), "600,30000", "600,1", 429)
	f.Add([]byte(rateLimitBody), "", "", 429)
	f.Add([]byte(`{"message":""}`), "1", "x,y", 401)
	f.Fuzz(func(t *testing.T, body []byte, limit, usage string, status int) {
		if fault, ok := parseFault(body); ok {
			_ = fault.String()
			_ = fault.refreshRefused()
		}
		var l rateLimits
		h := http.Header{}
		h.Set("X-RateLimit-Limit", limit)
		h.Set("X-RateLimit-Usage", usage)
		l.observe(h, status, testNow)
		if d := l.wait(testNow); d < 0 || d > 24*time.Hour {
			t.Errorf("wait %v for %q/%q", d, limit, usage)
		}
	})
}
