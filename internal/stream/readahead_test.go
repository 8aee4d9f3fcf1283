package stream_test

import (
	"context"
	"database/sql"
	"sync/atomic"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

// countingDecode wraps decodeEvent, counting its calls.
func countingDecode(n *atomic.Int64) func(m *bus.Message) (event, error) {
	return func(m *bus.Message) (event, error) {
		n.Add(1)
		return decodeEvent(m)
	}
}

// TestReadAhead holds a table stage's first batch in its transaction and
// checks that the next batch is read and decoded meanwhile, and that every
// message still lands once.
func TestReadAhead(t *testing.T) {
	enginetest.Each(t, func(t *testing.T, e enginetest.Engine) {
		b := enginetest.Open(t, e)
		s := storetest.Open(t, store.SQLite)
		topic := "test.ahead"
		msgs := events(topic, 300)
		publish(t, b, msgs)

		var decoded atomic.Int64
		var first atomic.Int64 // the first batch's size
		held, release := make(chan struct{}), make(chan struct{})
		p := sink(topic, nil)
		p.Decode = countingDecode(&decoded)
		handle := p.Handle
		p.Handle = func(ctx context.Context, tx *sql.Tx, batch []stream.Record[event]) error {
			if first.CompareAndSwap(0, int64(len(batch))) {
				close(held)
				<-release
			}
			return handle(ctx, tx, batch)
		}
		ctx, cancel := context.WithCancel(context.Background())
		defer cancel()
		done := make(chan error, 1)
		go func() { done <- p.Run(ctx, stream.Env{Bus: b, Store: s, MaxBatch: 100}) }()
		select {
		case <-held:
		case <-time.After(time.Minute):
			t.Fatal("the first batch never reached Handle")
		}
		for deadline := time.Now().Add(30 * time.Second); decoded.Load() <= first.Load(); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("decoded %d messages while the first batch (%d) was in its transaction: no read-ahead", decoded.Load(), first.Load())
			}
		}
		close(release)
		for deadline := time.Now().Add(time.Minute); logCount(s) < len(msgs); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("%d of %d messages landed", logCount(s), len(msgs))
			}
		}
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("stage did not stop cleanly: %v", err)
		}
		if got, want := dump(t, s), expected(msgs); got != want {
			t.Fatalf("tables differ from the events:\n%s", diff(got, want))
		}
	})
}

// blockingTarget is a memTarget whose first commit waits for release.
type blockingTarget struct {
	memTarget
	held, release chan struct{}
	commits       atomic.Int64
}

func (b *blockingTarget) Commit(ctx context.Context, recs []stream.Record[event], next map[int32]int64) error {
	if b.commits.Add(1) == 1 {
		close(b.held)
		<-b.release
	}
	return b.memTarget.Commit(ctx, recs, next)
}

// TestNoReadAheadWithInterval checks that a sink stage with a commit
// interval reads its next batch only after the commit: the interval runs
// from the commit, and a batch gathered during it would be cut short.
func TestNoReadAheadWithInterval(t *testing.T) {
	b := enginetest.Open(t, enginetest.JetStream)
	s := storetest.Open(t, store.SQLite)
	topic := "test.interval"
	publish(t, b, events(topic, 300))
	var decoded atomic.Int64
	target := &blockingTarget{memTarget: memTarget{pos: map[int32]int64{}}, held: make(chan struct{}), release: make(chan struct{})}
	sk := stream.Sink[event]{
		Name:     "interval-sink",
		Topic:    topic,
		Decode:   countingDecode(&decoded),
		Open:     func(context.Context, stream.Env) (stream.Target[event], error) { return target, nil },
		MaxBatch: 100,
		Interval: 20 * time.Millisecond,
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- sk.Run(ctx, stream.Env{Bus: b, Store: s}) }()
	select {
	case <-target.held:
	case <-time.After(time.Minute):
		t.Fatal("the first batch never reached Commit")
	}
	before := decoded.Load()
	time.Sleep(300 * time.Millisecond)
	if after := decoded.Load(); after != before {
		t.Fatalf("decoded %d more messages while the first commit was held", after-before)
	}
	close(target.release)
	for deadline := time.Now().Add(time.Minute); target.commits.Load() < 3; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("%d commits, want at least 3 for 300 messages in batches of 100", target.commits.Load())
		}
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("stage did not stop cleanly: %v", err)
	}
}
