package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/datadir"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/stream"
)

// The operator commands are tested on a pipeline of the test's own: a
// processor that counts events per key.
const testTopic = "test.events"

// testApp returns an app with the test's pipeline added.
func testApp(stdout, stderr io.Writer) *app {
	a := newApp(stdout, stderr, func(string) (string, bool) { return "", false })
	a.extraPipelines = append(a.extraPipelines, testPipeline)
	return a
}

func testPipeline(*app, *platform.App) platform.Pipeline {
	return platform.Pipeline{
		Name: "test",
		Stages: []stream.Runnable{stream.Processor[map[string]any]{
			Name:  "testsink",
			Topic: testTopic,
			Migrations: fstest.MapFS{"0001_counts.sql": {Data: []byte(
				`CREATE TABLE test_counts (k TEXT PRIMARY KEY, n INTEGER NOT NULL)`)}},
			Tables: []string{"test_counts"},
			Decode: func(m *bus.Message) (map[string]any, error) {
				var v map[string]any
				if err := json.Unmarshal(m.Value, &v); err != nil {
					return nil, err
				}
				if _, ok := v["key"].(string); !ok {
					return nil, errors.New("key is missing")
				}
				return v, nil
			},
			Handle: func(ctx context.Context, tx *sql.Tx, batch []stream.Record[map[string]any]) error {
				for _, r := range batch {
					if _, err := tx.ExecContext(ctx, `INSERT INTO test_counts (k, n) VALUES ($1, 1)
							ON CONFLICT (k) DO UPDATE SET n = test_counts.n + 1`, r.Value["key"]); err != nil {
						return err
					}
				}
				return nil
			},
		}},
	}
}

// lockedBuffer is a bytes.Buffer that several goroutines may write: a
// command's processors log on stderr while its progress bars draw there.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// podium runs a podium command on data dir dir with stdin.
func podium(t *testing.T, dir, stdin string, args ...string) result {
	t.Helper()
	var stdout, stderr lockedBuffer
	a := testApp(&stdout, &stderr)
	a.stdin = strings.NewReader(stdin)
	code := a.run(context.Background(), append([]string{"--data-dir", dir}, args...))
	return result{code, stdout.String(), stderr.String()}
}

func counts(t *testing.T, dir string) int {
	t.Helper()
	s, err := store.Open(context.Background(), filepath.Join(dir, config.DefaultStoreFile))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var n sql.NullInt64
	if err := s.DB().QueryRow(`SELECT SUM(n) FROM test_counts`).Scan(&n); err != nil {
		return -1
	}
	return int(n.Int64)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestServeAndOperatorCommands(t *testing.T) {
	dir := t.TempDir()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	served := make(chan result, 1)
	go func() {
		var stdout, stderr lockedBuffer
		a := testApp(&stdout, &stderr)
		code := a.run(ctx, []string{"--data-dir", dir, "--http", "127.0.0.1:0", "serve"})
		served <- result{code, stdout.String(), stderr.String()}
	}()
	var owner datadir.Owner
	waitFor(t, "serve to record its HTTP address", func() bool {
		o, running, err := datadir.Running(dir)
		owner = o
		return err == nil && running && o.HTTPAddr != "" && o.NATSURL != ""
	})
	base := "http://" + owner.HTTPAddr

	// Publish through the running process, as any other command would.
	cfg := dataDirConfig(t, dir)
	client, err := platform.Open(context.Background(), cfg, nil, platform.Client, "test")
	if err != nil {
		t.Fatalf("open a client of the running podium: %v", err)
	}
	if !client.Remote {
		t.Fatalf("client did not use the running process's bus")
	}
	var msgs []*bus.Message
	for i := 0; i < 30; i++ {
		msgs = append(msgs, &bus.Message{Topic: testTopic, Key: fmt.Sprint(i % 3), Value: fmt.Appendf(nil, `{"key":"k%d"}`, i%3)})
	}
	msgs = append(msgs, &bus.Message{Topic: testTopic, Key: "bad", Value: []byte(`{"nokey":true}`)})
	if err := client.Bus.Publish(context.Background(), msgs...); err != nil {
		t.Fatal(err)
	}
	client.Close()
	waitFor(t, "the processor to count 30 events", func() bool { return counts(t, dir) == 30 })

	// Health, readiness (once every stage has started: the other
	// pipelines' stages may still be opening their consumers) and metrics.
	if body := get(t, base+"/healthz"); strings.TrimSpace(body) != "ok" {
		t.Errorf("GET /healthz = %q, want ok", body)
	}
	waitReady(t, base, http.StatusOK, "ready")
	metrics := get(t, base+"/metrics")
	for _, series := range []string{
		`podium_events_in_total{processor="testsink",topic="test.events"} 31`,
		`podium_events_out_total{processor="testsink",topic="test.events"} 30`,
		`podium_events_failed_total{processor="testsink",stage="decode",topic="test.events"} 1`,
		`podium_consumer_lag{processor="testsink",topic="test.events"} 0`,
		`podium_batch_size_bucket`, `podium_handler_duration_seconds_bucket`,
	} {
		if !strings.Contains(metrics, series) {
			t.Errorf("/metrics lacks %s", series)
		}
	}
	problems, err := promlint.New(strings.NewReader(metrics)).Lint()
	if err != nil {
		t.Fatalf("lint /metrics: %v", err)
	}
	for _, p := range problems {
		if strings.HasPrefix(p.Metric, "podium_") {
			t.Errorf("/metrics: %s: %s", p.Metric, p.Text)
		}
	}

	// topics list shows the topic, its dead-letter topic and the lag.
	r := podium(t, dir, "", "topics", "list", "--format", "json")
	if r.code != 0 {
		t.Fatalf("topics list: %+v", r)
	}
	var topics []struct {
		Topic     string `json:"topic"`
		Messages  int64  `json:"messages"`
		Consumers []struct {
			Processor string `json:"processor"`
			Lag       int64  `json:"lag"`
		} `json:"consumers"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &topics); err != nil {
		t.Fatalf("topics list --format json is not JSON: %v\n%s", err, r.stdout)
	}
	found := map[string]int64{}
	for _, tp := range topics {
		found[tp.Topic] = tp.Messages
		if tp.Topic == testTopic && (len(tp.Consumers) != 1 || tp.Consumers[0].Processor != "testsink" || tp.Consumers[0].Lag != 0) {
			t.Errorf("consumers of %s = %+v, want testsink with lag 0", testTopic, tp.Consumers)
		}
	}
	if found[testTopic] != 31 || found[testTopic+".dlq"] != 1 {
		t.Errorf("topics list = %v, want 31 messages on %s and 1 dead letter", found, testTopic)
	}

	// dlq list shows the reason; tail shows the messages.
	r = podium(t, dir, "", "dlq", "list", testTopic, "--format", "csv")
	if r.code != 0 || !strings.Contains(r.stdout, "decode: key is missing") || !strings.Contains(r.stdout, "testsink") {
		t.Errorf("dlq list: %+v", r)
	}
	r = podium(t, dir, "", "topics", "tail", testTopic, "--from-start", "--limit", "2")
	if r.code != 0 || strings.Count(r.stdout, "── "+testTopic) != 2 || !strings.Contains(r.stdout, `"key": "k0"`) {
		t.Errorf("topics tail: %+v", r)
	}

	// dlq replay sends the dead letter back once; it fails again, as its
	// cause is not fixed, and lands in the dead-letter topic a second time.
	r = podium(t, dir, "", "dlq", "replay", testTopic)
	if r.code != 0 || !strings.Contains(r.stderr, "replayed 1 dead letters") {
		t.Fatalf("dlq replay: %+v", r)
	}
	waitFor(t, "the replayed message to fail again", func() bool {
		r := podium(t, dir, "", "dlq", "list", testTopic, "--format", "json")
		return strings.Count(r.stdout, "\n") == 2
	})
	r = podium(t, dir, "", "dlq", "replay", testTopic)
	if r.code != 0 || !strings.Contains(r.stderr, "replayed 1 dead letters") {
		t.Fatalf("second dlq replay should send only the new dead letter: %+v", r)
	}

	// rebuild and reset refuse while serve runs.
	r = podium(t, dir, "", "rebuild", "testsink")
	if r.code != 1 || !strings.Contains(r.stderr, "stop it") {
		t.Errorf("rebuild while serve runs: %+v", r)
	}

	stop()
	s := <-served
	if s.code != 0 || !strings.Contains(s.stderr, "stopped cleanly") {
		t.Fatalf("serve did not stop cleanly: %+v", s)
	}

	// rebuild replays the topic into fresh tables: the same counts.
	r = podium(t, dir, "", "rebuild", "nosuch")
	if r.code != 2 || !strings.Contains(r.stderr, `unknown stage "nosuch" (known: f1-results`) {
		t.Errorf("rebuild of an unknown processor: %+v", r)
	}
	r = podium(t, dir, "", "rebuild", "testsink")
	if r.code != 0 {
		t.Fatalf("rebuild: %+v", r)
	}
	if n := counts(t, dir); n != 30 {
		t.Fatalf("after rebuild the sink counts %d events, want 30", n)
	}

	// reset asks first.
	r = podium(t, dir, "no\n", "reset")
	if r.code != 1 || !strings.Contains(r.stderr, "nothing was deleted") || counts(t, dir) != 30 {
		t.Fatalf("reset answered no: %+v", r)
	}
	r = podium(t, dir, "", "reset", "--yes")
	if r.code != 0 {
		t.Fatalf("reset --yes: %+v", r)
	}
	if n := counts(t, dir); n != -1 {
		t.Errorf("after reset the sink table still has %d events", n)
	}
	r = podium(t, dir, "", "topics", "list", "--format", "json")
	if strings.TrimSpace(r.stdout) != "[]" {
		t.Errorf("after reset, topics = %s (%+v)", r.stdout, r)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
