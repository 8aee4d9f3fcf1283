package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/datadir"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/stream"
)

// A revoked Slack webhook must not hold podium up: with Slack answering
// 403 invalid_token (what its documentation gives for a revoked hook), the
// API answers at once, every activity is stored and flows through the
// stages, every notification is parked with Slack's answer, and the other
// stages keep up (lag 0).

const apiToken = "test-token-0123456789abcdef"

// refusingSlack is a Slack incoming webhook that was revoked.
func refusingSlack(t testing.TB) (url string, requests *atomic.Int64) {
	requests = &atomic.Int64{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		_, _ = io.Copy(io.Discard, r.Body)
		w.WriteHeader(http.StatusForbidden)
		_, _ = io.WriteString(w, "invalid_token")
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/services/T000/B000/revoked", requests
}

// serveWithSlack runs `podium serve` on a fresh data dir holding the sample
// HR register, with the webhook and an API token, and returns its base URL
// and the data dir.
func serveWithSlack(t testing.TB, webhook string) (base, dir string) {
	t.Helper()
	dir = t.TempDir()
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(dir, config.DefaultStoreFile))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := hr.ImportSample(ctx, s); err != nil {
		t.Fatal(err)
	}
	s.Close()
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan int, 1)
	var stderr lockedBuffer
	go func() {
		env := map[string]string{
			"PODIUM_NOTIFY_SLACK_WEBHOOK_URL": webhook,
			"PODIUM_ACTIVITIES_API_TOKEN":     apiToken,
		}
		a := newApp(io.Discard, &stderr, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
		done <- a.run(runCtx, []string{"--data-dir", dir, "--http", "127.0.0.1:0", "--log-level", "warn", "serve"})
	}()
	t.Cleanup(func() {
		stop()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("serve exited %d:\n%s", code, stderr.String())
			}
		case <-time.After(30 * time.Second):
			t.Errorf("serve did not stop within 30 s")
		}
	})
	var owner datadir.Owner
	deadline := time.Now().Add(time.Minute)
	for owner.HTTPAddr == "" {
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start:\n%s", stderr.String())
		}
		time.Sleep(20 * time.Millisecond)
		owner, _, _ = datadir.Running(dir)
	}
	return "http://" + owner.HTTPAddr, dir
}

// postActivity posts one live activity of employee 1001 through the API and
// returns how long the answer took.
func postActivity(t testing.TB, base string, i int) time.Duration {
	t.Helper()
	start := time.Now().UTC().Add(-time.Hour).Add(time.Duration(i) * time.Second)
	return post(t, base, fmt.Sprintf(`{"employee_id":"1001","start_time":%q,"sport_type":"Run","distance_m":%d,"elapsed_s":2700}`,
		start.Format(time.RFC3339), 8000+i))
}

// warmUp posts an old activity (not posted to Slack) and waits until it
// reached the gold table: the capture, which takes the activities written
// before it started as a snapshot (never congratulated), is running.
func warmUp(t testing.TB, base, dir string) {
	t.Helper()
	post(t, base, `{"employee_id":"1002","start_time":"2025-03-01T07:00:00Z","sport_type":"Walk","distance_m":3000,"elapsed_s":1800}`)
	s, err := store.Open(context.Background(), filepath.Join(dir, config.DefaultStoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	deadline := time.Now().Add(time.Minute)
	for {
		var n int
		if s.DB().QueryRow(`SELECT COALESCE(SUM(activities), 0) FROM activities_gold`).Scan(&n) == nil && n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("the warm-up activity did not reach the gold table within a minute")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// post posts body to the API and returns how long the answer took.
func post(t testing.TB, base, body string) time.Duration {
	req, err := http.NewRequest(http.MethodPost, base+"/api/activities", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+apiToken)
	req.Header.Set("Content-Type", "application/json")
	client := &http.Client{Timeout: 30 * time.Second}
	began := time.Now()
	resp, err := client.Do(req)
	took := time.Since(began)
	if err != nil {
		t.Fatalf("POST /api/activities: %v", err)
	}
	reply, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		t.Fatalf("POST /api/activities: %s %s", resp.Status, reply)
	}
	return took
}

// checkParked waits until the n activities are stored and their n
// notifications parked with Slack's answer, and checks that every stage
// has caught up.
func checkParked(t testing.TB, dir string, n int) {
	t.Helper()
	ctx := context.Background()
	s, err := store.Open(ctx, filepath.Join(dir, config.DefaultStoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	count := func(q string, args ...any) int {
		var c int
		if err := s.DB().QueryRowContext(ctx, q, args...).Scan(&c); err != nil {
			return -1
		}
		return c
	}
	deadline := time.Now().Add(2 * time.Minute)
	for {
		stored := count(`SELECT COUNT(*) FROM sport_activities`)
		parked := count(`SELECT COUNT(*) FROM podium_effects WHERE stage = 'activities-slack' AND state = 'parked'`)
		gold := count(`SELECT COALESCE(SUM(activities), 0) FROM activities_gold`)
		if stored == n+1 && parked == n && gold == n+1 { // and the warm-up
			break
		}
		if time.Now().After(deadline) {
			var ledger []string
			rows, err := s.DB().QueryContext(ctx, `SELECT call_key, state, attempts, next_try_ms, lease_ms, reason FROM podium_effects WHERE state <> 'parked'`)
			if err == nil {
				for rows.Next() {
					var key, state, reason string
					var attempts int
					var next, lease int64
					_ = rows.Scan(&key, &state, &attempts, &next, &lease, &reason)
					ledger = append(ledger, fmt.Sprintf("%s %s attempts=%d next_try_ms=%d lease_ms=%d %s", key, state, attempts, next, lease, reason))
				}
				rows.Close()
			}
			t.Fatalf("after 2 min: %d of %d activities stored, %d in gold, %d notifications parked; the others: %s (now %d)",
				stored, n, gold, parked, strings.Join(ledger, "; "), time.Now().UnixMilli())
		}
		time.Sleep(50 * time.Millisecond)
	}
	var reason string
	if err := s.DB().QueryRowContext(ctx, `SELECT reason FROM podium_effects WHERE state = 'parked' LIMIT 1`).Scan(&reason); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(reason, "403") || !strings.Contains(reason, "invalid_token") || strings.Contains(reason, "revoked") {
		t.Fatalf("parked with reason %q: want Slack's 403 invalid_token, and no part of the webhook URL", reason)
	}
	b, err := ownerBus(ctx, t, dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	var specs []stream.Spec
	for _, name := range []string{"activities-quality", "activities-rewards", "activities-slack", "activities-lakehouse"} {
		var topic string
		if err := s.DB().QueryRowContext(ctx, `SELECT topic FROM podium_positions WHERE processor = $1`, name).Scan(&topic); err != nil {
			t.Fatalf("no positions for %s: %v", name, err)
		}
		specs = append(specs, stream.Spec{Name: name, Topic: topic})
	}
	for {
		lags, err := stream.Lags(ctx, b, s.DB(), specs)
		if err != nil {
			t.Fatal(err)
		}
		behind := slices.IndexFunc(lags, func(p stream.Progress) bool { return p.Lag != 0 })
		if behind < 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("stage %s lags by %d", lags[behind].Processor, lags[behind].Lag)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func TestRevokedSlackWebhookHoldsNothingUp(t *testing.T) {
	webhook, requests := refusingSlack(t)
	base, dir := serveWithSlack(t, webhook)
	warmUp(t, base, dir)
	const n = 10
	for i := range n {
		postActivity(t, base, i)
	}
	checkParked(t, dir, n)
	if got := requests.Load(); got != n*int64(3) {
		t.Errorf("Slack got %d requests, want %d: each refused message tried 3 times, then parked", got, n*3)
	}
}

// BenchmarkAPIWithSlackRefusing measures the API's answer time while
// Slack refuses every message (403 invalid_token), b.N activities posted
// one after the other. Run:
//
//	go test ./cmd/podium/ -run '^$' -bench APIWithSlackRefusing -benchtime 100x
func BenchmarkAPIWithSlackRefusing(b *testing.B) {
	webhook, _ := refusingSlack(b)
	base, dir := serveWithSlack(b, webhook)
	warmUp(b, base, dir)
	took := make([]time.Duration, b.N)
	b.ResetTimer()
	for i := range b.N {
		took[i] = postActivity(b, base, i)
	}
	b.StopTimer()
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(took[(len(took)*99)/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(took[len(took)-1].Microseconds())/1000, "max-ms")
	checkParked(b, dir, b.N)
}
