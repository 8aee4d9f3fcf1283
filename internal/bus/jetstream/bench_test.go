package jetstream

import (
	"bytes"
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
)

const (
	benchBatch = 1000
	benchTopic = "bench.results"
)

// benchMessages returns a batch of ~200-byte messages over 16 keys.
func benchMessages() []*bus.Message {
	value := bytes.Repeat([]byte("x"), 200)
	msgs := make([]*bus.Message, benchBatch)
	for i := range msgs {
		msgs[i] = &bus.Message{Topic: benchTopic, Key: fmt.Sprintf("driver-%d", i%16), Value: value,
			Headers: map[string]string{"content-type": "application/json"}}
	}
	return msgs
}

// publishBench publishes n messages in batches of benchBatch.
func publishBench(b *testing.B, bs *Bus, n int) {
	msgs := benchMessages()
	ctx := context.Background()
	for done := 0; done < n; done += benchBatch {
		if err := bs.Publish(ctx, msgs[:min(benchBatch, n-done)]...); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkPublish(b *testing.B) {
	bs := openEmbedded(b, b.TempDir())
	defer bs.Close()
	publishBench(b, bs, 1) // create the topic outside the timing
	b.ResetTimer()
	publishBench(b, bs, b.N)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
}

func BenchmarkConsume(b *testing.B) {
	bs := openEmbedded(b, b.TempDir())
	defer bs.Close()
	publishBench(b, bs, b.N)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	b.ResetTimer()
	c, err := bs.Consume(ctx, bus.ConsumerConfig{Topic: benchTopic, Group: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	fetches := 0
	for read := 0; read < b.N; {
		batch, err := c.Fetch(ctx, benchBatch)
		if err != nil {
			b.Fatalf("fetch after %d of %d: %v", read, b.N, err)
		}
		if err := c.Commit(ctx, batch[len(batch)-1].Position()); err != nil {
			b.Fatal(err)
		}
		read += len(batch)
		fetches++
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "msg/s")
	b.ReportMetric(float64(b.N)/float64(fetches), "msg/fetch")
}
