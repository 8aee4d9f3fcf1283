package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/store"
)

// TestBench runs `podium bench --json` on the embedded engines (SQLite and
// JetStream) with a few events, checks the figures it prints, and that
// its scratch topic, tables and positions are gone afterwards.
func TestBench(t *testing.T) {
	dir := t.TempDir()
	r := podium(t, dir, "", "--log-level", "warn", "bench", "--events", "3000", "--rate", "500", "--rate-for", "400ms",
		"--size", "300", "--workers", "2", "--raw", "--json")
	if r.code != 0 {
		t.Fatalf("bench exited %d: %s", r.code, r.stderr)
	}
	var res struct {
		Store      string `json:"store"`
		EventBytes int    `json:"event_bytes"`
		Workers    int    `json:"workers"`
		Publish    struct {
			Events int64   `json:"events"`
			PerSec float64 `json:"events_per_s"`
		} `json:"publish"`
		Consume struct {
			Events int64   `json:"events"`
			PerSec float64 `json:"events_per_s"`
		} `json:"consume"`
		Job struct {
			Events  int64   `json:"events"`
			Seconds float64 `json:"seconds"`
			PerSec  float64 `json:"events_per_s"`
		} `json:"job"`
		Latency *struct {
			Rate   int     `json:"rate"`
			Events int     `json:"events"`
			P50    float64 `json:"p50_ms"`
			P99    float64 `json:"p99_ms"`
			Max    float64 `json:"max_ms"`
		} `json:"latency"`
		Raw *struct {
			Decode struct {
				PerSec float64 `json:"events_per_s"`
			} `json:"json_decode"`
			Store struct {
				Events int64   `json:"events"`
				PerSec float64 `json:"events_per_s"`
			} `json:"store_insert"`
			Method string `json:"store_method"`
		} `json:"raw"`
		Ratio     float64 `json:"job_vs_raw_store"`
		CleanedUp bool    `json:"cleaned_up"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &res); err != nil {
		t.Fatalf("bench --json printed %q: %v", r.stdout, err)
	}
	switch {
	case !strings.Contains(res.Store, "podium.db"), res.EventBytes < 299 || res.EventBytes > 302, res.Workers != 2:
		t.Errorf("store %q, %d-byte events, %d workers", res.Store, res.EventBytes, res.Workers)
	case res.Publish.Events != 3000 || res.Consume.Events != 3000 || res.Job.Events != 3000:
		t.Errorf("events: publish %d, consume %d, job %d, want 3000 each", res.Publish.Events, res.Consume.Events, res.Job.Events)
	case res.Publish.PerSec <= 0 || res.Consume.PerSec <= 0 || res.Job.PerSec <= 0 || res.Job.Seconds <= 0:
		t.Errorf("rates: %+v", res)
	case res.Latency == nil || res.Latency.Rate != 500 || res.Latency.Events != 200 ||
		res.Latency.P50 <= 0 || res.Latency.P50 > res.Latency.P99 || res.Latency.P99 > res.Latency.Max:
		t.Errorf("latency: %+v", res.Latency)
	case res.Raw == nil || res.Raw.Decode.PerSec <= 0 || res.Raw.Store.Events != 3000 || res.Raw.Store.PerSec <= 0 ||
		res.Raw.Method != "sqlite multi-row insert" || res.Ratio <= 0:
		t.Errorf("raw: %+v, ratio %v", res.Raw, res.Ratio)
	case !res.CleanedUp:
		t.Errorf("not cleaned up")
	}

	// Nothing of the run is left: no topic, no table, no position, no
	// migration record.
	topics := podium(t, dir, "", "topics", "list", "--format", "json")
	if topics.code != 0 || strings.Contains(topics.stdout, "bench") {
		t.Errorf("topics after bench (exit %d): %s", topics.code, topics.stdout)
	}
	s, err := store.Open(context.Background(), filepath.Join(dir, config.DefaultStoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, q := range []string{
		`SELECT COUNT(*) FROM sqlite_master WHERE name LIKE 'podium_bench%'`,
		`SELECT COUNT(*) FROM podium_positions WHERE processor LIKE 'podium-bench-%'`,
		`SELECT COUNT(*) FROM podium_migrations WHERE component LIKE 'podium-bench-%'`,
	} {
		var n int
		if err := s.DB().QueryRow(q).Scan(&n); err != nil || n != 0 {
			t.Errorf("%s = %d (%v), want 0", q, n, err)
		}
	}
}

// TestBenchBadFlags: a wrong flag says what is wrong, and nothing runs.
func TestBenchBadFlags(t *testing.T) {
	r := podium(t, t.TempDir(), "", "bench", "--events", "0")
	if r.code == 0 || !strings.Contains(r.stderr, "--events must be positive") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
}
