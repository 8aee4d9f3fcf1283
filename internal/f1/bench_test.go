package f1_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// BenchmarkReplayAllSeasons measures the F1 pipeline end to end, as
// `podium f1 replay --interval 0` of every season with the embedded bus
// does: the seven seasons of the archive (about 3,500 results) are
// published to an embedded JetStream and the F1 processors, running
// meanwhile, consume them until they have committed every message into the
// store. Each iteration starts from an empty bus and an empty store; their
// setup is not timed. It reports results/s and s/replay (the seconds of one
// replay of all seven seasons, the same as sec/op).
//
//	PODIUM_TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres \
//	  go test ./internal/f1 -run '^$' -bench BenchmarkReplayAllSeasons -benchtime 5x
func BenchmarkReplayAllSeasons(b *testing.B) {
	a := loadArchive(b)
	var messages, results int
	for _, season := range a.Seasons() {
		msgs, err := archive.ReplayMessages(a, archive.ReplayOptions{Season: season})
		if err != nil {
			b.Fatal(err)
		}
		messages += len(msgs)
		for _, m := range msgs {
			if m.Topic == f1.TopicResults {
				results++
			}
		}
	}
	for _, d := range storetest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			for range b.N {
				b.StopTimer()
				replayAllOnce(b, a, d, messages)
			}
			secs := b.Elapsed().Seconds()
			b.ReportMetric(float64(results*b.N)/secs, "results/s")
			b.ReportMetric(secs/float64(b.N), "s/replay")
		})
	}
}

// replayAllOnce sets up an empty embedded JetStream and an empty store with
// the timer stopped, then, timed, publishes every season of a and runs the
// F1 processors until they have committed all the messages.
func replayAllOnce(b *testing.B, a *archive.Archive, d store.Dialect, messages int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	bs, err := enginetest.Start(b, enginetest.JetStream).Open(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer bs.Close()
	s := storetest.Open(b, d)
	procs := f1.Processors(nil)
	for _, p := range procs {
		if err := stream.Migrate(ctx, s, p.Spec()); err != nil {
			b.Fatal(err)
		}
	}
	var committed atomic.Int64
	done := make(chan struct{})
	hooks := &stream.Hooks{AfterCommit: func(batch []*bus.Message) {
		if committed.Add(int64(len(batch))) == int64(messages) {
			close(done)
		}
	}}
	runCtx, stop := context.WithCancel(ctx)
	errc := make(chan error, len(procs))

	b.StartTimer()
	for _, p := range procs {
		go func() { errc <- p.Run(runCtx, stream.Env{Bus: bs, Store: s, Hooks: hooks}) }()
	}
	for _, season := range a.Seasons() {
		if _, err := archive.Replay(ctx, bs, a, archive.ReplayOptions{Season: season}, nil); err != nil {
			b.Fatal(err)
		}
	}
	select {
	case <-done:
	case <-ctx.Done():
		b.Fatalf("the processors committed %d of %d messages", committed.Load(), messages)
	}
	b.StopTimer()

	stop()
	for range procs {
		if err := <-errc; err != nil {
			b.Fatal(err)
		}
	}
}
