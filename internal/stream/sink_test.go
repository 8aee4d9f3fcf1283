package stream_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"
	"sync"
	"testing"
	"testing/fstest"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// The tests run a sink processor whose effects are deliberately not
// idempotent: every message adds to a running total and appends a log row,
// so a message applied twice, or never, shows in the tables.

type event struct {
	Key string `json:"key"`
	N   int64  `json:"n"`
}

var sinkMigrations = fstest.MapFS{
	"0001_sink.sql": {Data: []byte(`
CREATE TABLE sink_totals (k TEXT PRIMARY KEY, n BIGINT NOT NULL, total BIGINT NOT NULL);
CREATE TABLE sink_log (k TEXT NOT NULL, v BIGINT NOT NULL);`)},
}

func decodeEvent(m *bus.Message) (event, error) {
	var e event
	if err := json.Unmarshal(m.Value, &e); err != nil {
		return e, err
	}
	if e.Key == "" {
		return e, errors.New("key is missing")
	}
	if e.N < 0 {
		return e, fmt.Errorf("n = %d: must not be negative", e.N)
	}
	return e, nil
}

// sink returns the test processor. midBatch, if set, runs after half of a
// batch has been written, inside the transaction.
func sink(topic string, midBatch func(n int)) stream.Processor[event] {
	return stream.Processor[event]{
		Name:       "sink",
		Topic:      topic,
		Decode:     decodeEvent,
		Migrations: sinkMigrations,
		Tables:     []string{"sink_totals", "sink_log"},
		Handle: func(ctx context.Context, tx *sql.Tx, batch []stream.Record[event]) error {
			up, err := tx.PrepareContext(ctx, `INSERT INTO sink_totals (k, n, total) VALUES ($1, 1, $2)
				ON CONFLICT (k) DO UPDATE SET n = sink_totals.n + 1, total = sink_totals.total + excluded.total`)
			if err != nil {
				return err
			}
			defer up.Close()
			log, err := tx.PrepareContext(ctx, `INSERT INTO sink_log (k, v) VALUES ($1, $2)`)
			if err != nil {
				return err
			}
			defer log.Close()
			for i, r := range batch {
				if r.Value.Key == "reject-me" {
					return stream.Reject(fmt.Errorf("key %q is refused", r.Value.Key))
				}
				if _, err := up.ExecContext(ctx, r.Value.Key, r.Value.N); err != nil {
					return err
				}
				if _, err := log.ExecContext(ctx, r.Value.Key, r.Value.N); err != nil {
					return err
				}
				if midBatch != nil && i == len(batch)/2 {
					midBatch(len(batch))
				}
			}
			return nil
		},
	}
}

// events returns n valid events over a few keys.
func events(topic string, n int) []*bus.Message {
	msgs := make([]*bus.Message, n)
	for i := range msgs {
		key := fmt.Sprintf("k%d", i%7)
		msgs[i] = &bus.Message{Topic: topic, Key: key, Value: fmt.Appendf(nil, `{"key":%q,"n":%d}`, key, i)}
	}
	return msgs
}

// expected computes the sink tables for msgs directly.
func expected(msgs []*bus.Message) string {
	totals := map[string][2]int64{}
	logRows := map[string]int{}
	for _, m := range msgs {
		e, err := decodeEvent(m)
		if err != nil || e.Key == "reject-me" {
			continue
		}
		t := totals[e.Key]
		totals[e.Key] = [2]int64{t[0] + 1, t[1] + e.N}
		logRows[fmt.Sprintf("%s=%d", e.Key, e.N)]++
	}
	return render(totals, logRows)
}

func render(totals map[string][2]int64, logRows map[string]int) string {
	var b strings.Builder
	var keys []string
	for k := range totals {
		keys = append(keys, k)
	}
	sortStrings(keys)
	for _, k := range keys {
		fmt.Fprintf(&b, "total %s n=%d sum=%d\n", k, totals[k][0], totals[k][1])
	}
	var rows []string
	for r, c := range logRows {
		rows = append(rows, fmt.Sprintf("log %s x%d", r, c))
	}
	sortStrings(rows)
	b.WriteString(strings.Join(rows, "\n"))
	return b.String()
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// dump renders the sink tables of s like expected does.
func dump(t testing.TB, s *store.Store) string {
	t.Helper()
	ctx := context.Background()
	totals := map[string][2]int64{}
	rows, err := s.DB().QueryContext(ctx, `SELECT k, n, total FROM sink_totals`)
	if err != nil {
		t.Fatalf("read sink_totals: %v", err)
	}
	for rows.Next() {
		var k string
		var n, total int64
		if err := rows.Scan(&k, &n, &total); err != nil {
			t.Fatal(err)
		}
		totals[k] = [2]int64{n, total}
	}
	rows.Close()
	logRows := map[string]int{}
	rows, err = s.DB().QueryContext(ctx, `SELECT k, v, COUNT(*) FROM sink_log GROUP BY k, v`)
	if err != nil {
		t.Fatalf("read sink_log: %v", err)
	}
	for rows.Next() {
		var k string
		var v int64
		var c int
		if err := rows.Scan(&k, &v, &c); err != nil {
			t.Fatal(err)
		}
		logRows[fmt.Sprintf("%s=%d", k, v)] = c
	}
	rows.Close()
	return render(totals, logRows)
}

// logCount returns the rows in sink_log, 0 if the table does not exist yet.
func logCount(s *store.Store) int {
	var n int
	if err := s.DB().QueryRow(`SELECT COUNT(*) FROM sink_log`).Scan(&n); err != nil {
		return 0
	}
	return n
}

// runUntil runs p until the sink log has want rows, then stops it and
// checks that it stopped cleanly.
func runUntil(t *testing.T, p stream.Processor[event], env stream.Env, want int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx, env) }()
	deadline := time.After(60 * time.Second)
	for logCount(env.Store) < want {
		select {
		case err := <-done:
			cancel()
			t.Fatalf("processor stopped early with %d of %d rows: %v", logCount(env.Store), want, err)
		case <-deadline:
			cancel()
			t.Fatalf("timed out with %d of %d rows in the sink", logCount(env.Store), want)
		case <-time.After(5 * time.Millisecond):
		}
	}
	// Let the processor see any redelivery before it stops.
	time.Sleep(50 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("processor did not stop cleanly: %v", err)
	}
}

// memTarget is an outside store of positions alone, as a worker last read
// it.
type memTarget struct {
	mu  sync.Mutex
	pos map[int32]int64
}

func (m *memTarget) Load(context.Context) (map[int32]int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return maps.Clone(m.pos), nil
}

func (m *memTarget) Commit(_ context.Context, _ []stream.Record[event], next map[int32]int64) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	maps.Copy(m.pos, next)
	return nil
}

func (m *memTarget) Close() error { return nil }

// TestSinkResumeCopiesItsPartitionOnly starts a sink stage whose Target
// holds an old position of a partition another worker owns: the stage
// resumes its own partition from the Target and leaves the other
// partition's copy in podium_positions, newer, as its owner wrote it. A
// worker that copied every partition of its Target at a resume set such a
// copy back, and the lag of a partition whose owner had nothing left to
// commit never fell to 0 again.
func TestSinkResumeCopiesItsPartitionOnly(t *testing.T) {
	ctx := context.Background()
	b := enginetest.Open(t, enginetest.JetStream) // one partition, 0
	s := storetest.Open(t, store.SQLite)
	topic := "test.sink.copies"
	publish(t, b, events(topic, 10))
	tgt := &memTarget{pos: map[int32]int64{0: 5, 1: 50}}
	sk := stream.Sink[event]{Name: "copying-sink", Topic: topic, Decode: decodeEvent,
		Open: func(context.Context, stream.Env) (stream.Target[event], error) { return tgt, nil }}
	if err := stream.Migrate(ctx, s, sk.Spec()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.DB().ExecContext(ctx, `INSERT INTO podium_positions (processor, topic, part, next_offset, updated_at)
		VALUES ($1, $2, 1, 100, $3)`, sk.Name, topic, time.Now().UTC()); err != nil {
		t.Fatal(err)
	}
	env := stream.Env{Bus: b, Store: s, Metrics: stream.NewMetrics(nil)}
	stop := start(t, sk, env)
	waitFor(t, "the sink to catch up", func() bool { return lag(t, env, sk.Spec()).Lag == 0 })
	stop()
	if n, err := stream.Position(ctx, s.DB(), sk.Name, topic, 1); err != nil || n != 100 {
		t.Errorf("the copy of partition 1 is %d (%v) after the stage resumed partition 0, want its owner's 100", n, err)
	}
	pos, _ := tgt.Load(ctx)
	if n, err := stream.Position(ctx, s.DB(), sk.Name, topic, 0); err != nil || n != pos[0] || n <= 5 {
		t.Errorf("the copy of partition 0 is %d (%v), want the Target's %d, past 5", n, err, pos[0])
	}
}
