package stream_test

import (
	"context"
	"database/sql"
	"encoding/binary"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/fstest"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// benchRow is the message the benchmarks stream: an id and the publish time.
type benchRow struct {
	ID   int64
	Sent int64 // unix nanoseconds
}

// benchProcessor upserts one row per message with multi-row statements, as
// a sink should, and calls done after each commit.
func benchProcessor(topic string, done func([]stream.Record[benchRow])) stream.Processor[benchRow] {
	return stream.Processor[benchRow]{
		Name:  "bench",
		Topic: topic,
		Migrations: fstest.MapFS{"0001_bench.sql": {Data: []byte(
			`CREATE TABLE bench_rows (id BIGINT PRIMARY KEY, sent BIGINT NOT NULL)`)}},
		Decode: func(m *bus.Message) (benchRow, error) {
			if len(m.Value) != 16 {
				return benchRow{}, fmt.Errorf("want 16 bytes, got %d", len(m.Value))
			}
			return benchRow{ID: int64(binary.BigEndian.Uint64(m.Value)), Sent: int64(binary.BigEndian.Uint64(m.Value[8:]))}, nil
		},
		Handle: func(ctx context.Context, tx *sql.Tx, batch []stream.Record[benchRow]) error {
			rows := make([][]any, len(batch))
			for i, r := range batch {
				rows[i] = []any{r.Value.ID, r.Value.Sent}
			}
			return store.InsertRows(ctx, tx, "INSERT INTO bench_rows (id, sent)", rows,
				"ON CONFLICT (id) DO UPDATE SET sent = excluded.sent")
		},
		AfterCommit: done,
	}
}

func benchMessage(topic string, id int64, sent time.Time) *bus.Message {
	v := make([]byte, 16)
	binary.BigEndian.PutUint64(v, uint64(id))
	binary.BigEndian.PutUint64(v[8:], uint64(sent.UnixNano()))
	return &bus.Message{Topic: topic, Key: fmt.Sprint(id % 16), Value: v}
}

func benchEach(b *testing.B, fn func(b *testing.B, d store.Dialect, e enginetest.Engine)) {
	for _, d := range storetest.Dialects() {
		for _, e := range enginetest.Engines() {
			b.Run(fmt.Sprintf("%s/%s", d, e), func(b *testing.B) { fn(b, d, e) })
		}
	}
}

// BenchmarkProcessorThroughput measures events/s from a full topic into the
// store: fetch, decode, one upsert per event, positions, commit.
func BenchmarkProcessorThroughput(b *testing.B) {
	benchEach(b, func(b *testing.B, d store.Dialect, e enginetest.Engine) {
		bs := enginetest.Open(b, e)
		s := storetest.Open(b, d)
		topic := "bench.throughput"
		ctx := context.Background()
		for i := 0; i < b.N; i += 5000 {
			msgs := make([]*bus.Message, 0, 5000)
			for j := i; j < min(i+5000, b.N); j++ {
				msgs = append(msgs, benchMessage(topic, int64(j), time.Now()))
			}
			if err := bs.Publish(ctx, msgs...); err != nil {
				b.Fatal(err)
			}
		}
		var got atomic.Int64
		all := make(chan struct{})
		p := benchProcessor(topic, func(batch []stream.Record[benchRow]) {
			if got.Add(int64(len(batch))) == int64(b.N) {
				close(all)
			}
		})
		if err := stream.Migrate(ctx, s, p.Spec()); err != nil {
			b.Fatal(err)
		}
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		b.ResetTimer()
		go func() { done <- p.Run(runCtx, stream.Env{Bus: bs, Store: s, MaxBatch: 2000}) }()
		select {
		case <-all:
		case err := <-done:
			b.Fatalf("processor stopped: %v", err)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkLatency publishes b.N events at a steady 1,000 events/s and
// measures the time from publish to the committed row (p50, p99).
func BenchmarkLatency(b *testing.B) {
	benchEach(b, func(b *testing.B, d store.Dialect, e enginetest.Engine) {
		bs := enginetest.Open(b, e)
		s := storetest.Open(b, d)
		topic := "bench.latency"
		ctx := context.Background()
		var mu sync.Mutex
		lat := make([]time.Duration, 0, b.N)
		warm, all := make(chan struct{}), make(chan struct{})
		p := benchProcessor(topic, func(batch []stream.Record[benchRow]) {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			for _, r := range batch {
				if r.Value.ID < 0 {
					close(warm)
					continue
				}
				lat = append(lat, now.Sub(time.Unix(0, r.Value.Sent)))
			}
			if len(lat) == b.N {
				close(all)
			}
		})
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- p.Run(runCtx, stream.Env{Bus: bs, Store: s, MaxBatch: 1000}) }()
		// Warm up: the first message creates the topic and the consumer.
		if err := bs.Publish(ctx, benchMessage(topic, -1, time.Now())); err != nil {
			b.Fatal(err)
		}
		<-warm
		b.ResetTimer()
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for i := 0; i < b.N; i++ {
			<-tick.C
			if err := bs.Publish(ctx, benchMessage(topic, int64(i), time.Now())); err != nil {
				b.Fatal(err)
			}
		}
		select {
		case <-all:
		case <-time.After(time.Minute):
			b.Fatalf("only %d of %d events committed", len(lat), b.N)
		}
		b.StopTimer()
		cancel()
		<-done
		slices.Sort(lat)
		q := func(f float64) float64 { return float64(lat[int(f*float64(len(lat)-1))].Microseconds()) / 1000 }
		b.ReportMetric(q(0.50), "p50-ms")
		b.ReportMetric(q(0.99), "p99-ms")
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}
