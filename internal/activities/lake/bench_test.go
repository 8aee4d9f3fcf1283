package lake_test

import (
	"fmt"
	"testing"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
)

// BenchmarkSink measures change events per second from the validated topic
// to the gold table: a year of the sample's activities read by a snapshot,
// then updates, deletes and tombstones (about 9,600 events), on SQLite and
// the embedded JetStream, local warehouse, batches of up to 1,000 and
// 10,000 events. The sink is polled every 100 ms for completion.
func BenchmarkSink(b *testing.B) {
	for _, max := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("batch=%d", max), func(b *testing.B) { benchSink(b, max) })
	}
}

func benchSink(b *testing.B, maxEvents int) {
	events := 0
	for range b.N {
		b.StopTimer()
		f := setup(b, store.SQLite, enginetest.JetStream, 0)
		f.publish(b, activities.TopicValidated)
		end := f.end(b, activities.TopicValidated)
		l := f.openLake(b)
		cfg := f.config(nil)
		cfg.MaxEvents = maxEvents
		b.StartTimer()
		if err := runSink(b, f, cfg, func() bool { return f.caughtUp(b, l, end) }); err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		events += len(f.events)
	}
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}
