package benchjob_test

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/benchjob"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// The suite measures the job of package benchjob (see its doc comment for
// the event and the table) and, in the same run, the raw limits it is
// compared with: consuming the bus, decoding JSON, the store's fastest
// bulk write.

func benchEach(b *testing.B, fn func(b *testing.B, d store.Dialect, e enginetest.Engine)) {
	for _, d := range storetest.Dialects() {
		for _, e := range enginetest.Engines() {
			b.Run(fmt.Sprintf("%s/%s", d, e), func(b *testing.B) { fn(b, d, e) })
		}
	}
}

// fill publishes events 1..n of j.
func fill(b *testing.B, bs bus.Bus, j benchjob.Job, n int) {
	ctx := context.Background()
	now := time.Now()
	for i := 1; i <= n; i += 5000 {
		msgs := make([]*bus.Message, 0, 5000)
		for k := i; k < i+5000 && k <= n; k++ {
			msgs = append(msgs, j.Message(int64(k), benchjob.DefaultSize, now))
		}
		if err := bs.Publish(ctx, msgs...); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkJob measures the job on a full topic: events/s from the
// stage's start to the commit of the last event.
func BenchmarkJob(b *testing.B) {
	benchEach(b, func(b *testing.B, d store.Dialect, e enginetest.Engine) {
		bs := enginetest.Open(b, e)
		s := storetest.Open(b, d)
		j := benchjob.New()
		fill(b, bs, j, b.N)
		var got atomic.Int64
		all := make(chan struct{})
		p := j.Processor(func(batch []stream.Record[benchjob.Event]) {
			if got.Add(int64(len(batch))) == int64(b.N) {
				close(all)
			}
		})
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		b.ResetTimer()
		go func() { done <- p.Run(ctx, stream.Env{Bus: bs, Store: s}) }()
		select {
		case <-all:
		case err := <-done:
			b.Fatalf("stage stopped: %v", err)
		}
		b.StopTimer()
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		cancel()
		if err := <-done; err != nil {
			b.Fatal(err)
		}
	})
}

// BenchmarkJobLatency publishes b.N events at a steady 1,000 events/s
// while the job's stage runs and measures publish to committed row.
func BenchmarkJobLatency(b *testing.B) {
	benchEach(b, func(b *testing.B, d store.Dialect, e enginetest.Engine) {
		bs := enginetest.Open(b, e)
		s := storetest.Open(b, d)
		j := benchjob.New()
		ctx := context.Background()
		var mu sync.Mutex
		lat := make([]time.Duration, 0, b.N)
		warm, all := make(chan struct{}), make(chan struct{})
		p := j.Processor(func(batch []stream.Record[benchjob.Event]) {
			now := time.Now()
			mu.Lock()
			defer mu.Unlock()
			for _, r := range batch {
				if r.Value.ID == 1 {
					close(warm)
					continue
				}
				lat = append(lat, now.Sub(r.Value.UpdatedAt))
			}
			if len(lat) == b.N {
				close(all)
			}
		})
		runCtx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- p.Run(runCtx, stream.Env{Bus: bs, Store: s}) }()
		// Warm up: the first event creates the topic, the consumer, the table.
		if err := bs.Publish(ctx, j.Message(1, benchjob.DefaultSize, time.Now())); err != nil {
			b.Fatal(err)
		}
		<-warm
		b.ResetTimer()
		start := time.Now()
		for i := 0; i < b.N; i++ {
			time.Sleep(time.Until(start.Add(time.Duration(i) * time.Millisecond)))
			if err := bs.Publish(ctx, j.Message(int64(i+2), benchjob.DefaultSize, time.Now())); err != nil {
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
		q := benchjob.Percentiles(lat)
		b.ReportMetric(q.P50, "p50-ms")
		b.ReportMetric(q.P99, "p99-ms")
		b.ReportMetric(q.Max, "max-ms")
		b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
	})
}

// BenchmarkRawConsume reads a full topic of job events with Fetch(1000)
// and Commit, without decoding: the bus's limit.
func BenchmarkRawConsume(b *testing.B) {
	for _, e := range enginetest.Engines() {
		b.Run(string(e), func(b *testing.B) {
			bs := enginetest.Open(b, e)
			j := benchjob.New()
			fill(b, bs, j, b.N)
			ctx := context.Background()
			b.ResetTimer()
			c, err := bs.Consume(ctx, bus.ConsumerConfig{Topic: j.Topic, Group: "raw", Start: bus.Earliest})
			if err != nil {
				b.Fatal(err)
			}
			defer c.Close()
			for got := 0; got < b.N; {
				msgs, err := c.Fetch(ctx, 1000)
				if err != nil {
					b.Fatal(err)
				}
				if err := c.Commit(ctx, bus.LastPositions(msgs)...); err != nil {
					b.Fatal(err)
				}
				got += len(msgs)
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
		})
	}
}

// BenchmarkRawDecode decodes job events on one goroutine.
func BenchmarkRawDecode(b *testing.B) {
	j := benchjob.New()
	ring := make([]*bus.Message, 1000)
	for i := range ring {
		ring[i] = j.Message(int64(i+1), benchjob.DefaultSize, time.Now())
	}
	b.SetBytes(int64(len(ring[0].Value)))
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := benchjob.Decode(ring[i%len(ring)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkRawStore writes the job's rows with the store's fastest bulk
// write (benchjob.RawWriter: SQLite multi-row INSERT, PostgreSQL COPY), in
// transactions of benchjob.RawBatch rows, and, for comparison, with the
// job's upsert (store.InsertRows … ON CONFLICT) outside the stage.
func BenchmarkRawStore(b *testing.B) {
	for _, d := range storetest.Dialects() {
		for _, mode := range []string{"raw", "upsert"} {
			b.Run(fmt.Sprintf("%s/%s", d, mode), func(b *testing.B) {
				s := storetest.Open(b, d)
				ctx := context.Background()
				table := "podium_bench_raw"
				if _, err := s.DB().ExecContext(ctx, benchjob.Schema(table)); err != nil {
					b.Fatal(err)
				}
				raw, _ := benchjob.RawWriter(s, table)
				j := benchjob.New()
				var spent time.Duration
				events := make([]benchjob.Event, 0, benchjob.RawBatch)
				rows := make([][]any, 0, benchjob.RawBatch)
				b.ResetTimer()
				for first := 1; first <= b.N; first += benchjob.RawBatch {
					b.StopTimer()
					events, rows = events[:0], rows[:0]
					for i := first; i < first+benchjob.RawBatch && i <= b.N; i++ {
						e, _ := benchjob.Decode(j.Message(int64(i), benchjob.DefaultSize, time.Now()))
						events = append(events, e)
						rows = append(rows, benchjob.Row(e))
					}
					b.StartTimer()
					start := time.Now()
					var err error
					if mode == "raw" {
						err = raw(ctx, rows)
					} else {
						err = s.InTx(ctx, func(tx *sql.Tx) error { return benchjob.Upsert(ctx, tx, table, events) })
					}
					if err != nil {
						b.Fatal(err)
					}
					spent += time.Since(start)
				}
				b.ReportMetric(float64(b.N)/spent.Seconds(), "rows/s")
			})
		}
	}
}
