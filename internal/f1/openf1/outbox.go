package openf1

import (
	"context"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/podiumhq/podium/internal/bus"
)

// outbox publishes the follower's messages, at once or after a broadcast
// delay: each message is held until delay after it was handed over, in
// order, so that the live pages match a TV stream that runs that far
// behind.
type outbox struct {
	b     bus.Bus // nil: messages are dropped (recording only)
	delay time.Duration
	log   *slog.Logger

	mu     sync.Mutex
	queue  []held
	err    error // the first failed publish of the delay loop
	wake   chan struct{}
	idle   chan struct{} // signalled when the queue empties
	cancel context.CancelFunc
	done   chan struct{}
}

type held struct {
	due time.Time
	m   *bus.Message
}

func newOutbox(ctx context.Context, b bus.Bus, delay time.Duration, log *slog.Logger) *outbox {
	o := &outbox{b: b, delay: delay, log: log}
	if b == nil || delay <= 0 {
		return o
	}
	// The delay loop outlives a cancelled ctx only as long as close lets it.
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	o.cancel, o.done = cancel, make(chan struct{})
	o.wake, o.idle = make(chan struct{}, 1), make(chan struct{}, 1)
	go o.loop(lctx)
	return o
}

// publish publishes msgs now, or queues them for the delay. It returns
// the error of a delayed publish that failed, so that the follower stops.
func (o *outbox) publish(ctx context.Context, msgs []*bus.Message) error {
	if o.b == nil {
		return nil
	}
	if o.delay <= 0 {
		for batch := range slices.Chunk(msgs, publishBatch) {
			if err := o.b.Publish(ctx, batch...); err != nil {
				return err
			}
		}
		return nil
	}
	due := time.Now().Add(o.delay)
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.err != nil {
		return o.err
	}
	for _, m := range msgs {
		o.queue = append(o.queue, held{due, m})
	}
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return nil
}

// loop publishes the queued messages as they fall due.
func (o *outbox) loop(ctx context.Context) {
	defer close(o.done)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		o.mu.Lock()
		var due []*bus.Message
		now := time.Now()
		i := 0
		for ; i < len(o.queue) && !o.queue[i].due.After(now) && len(due) < publishBatch; i++ {
			due = append(due, o.queue[i].m)
		}
		o.queue = o.queue[i:]
		var next time.Duration = time.Hour
		if len(o.queue) > 0 {
			next = max(0, time.Until(o.queue[0].due))
		}
		empty := len(o.queue) == 0
		o.mu.Unlock()
		if len(due) > 0 {
			if err := o.b.Publish(ctx, due...); err != nil {
				o.mu.Lock()
				o.err = err
				o.mu.Unlock()
				o.log.Error("openf1: publishing delayed messages failed", "messages", len(due), "err", err)
				return
			}
			if !empty {
				continue
			}
		}
		if empty {
			select {
			case o.idle <- struct{}{}:
			default:
			}
		}
		timer.Reset(next)
		select {
		case <-ctx.Done():
			return
		case <-o.wake:
		case <-timer.C:
		}
	}
}

// close stops the delay loop: after publishing what it holds when flush
// is set (at most the delay), dropping it otherwise.
func (o *outbox) close(flush bool) error {
	if o.done == nil {
		return nil
	}
	if flush {
		for {
			o.mu.Lock()
			n, err := len(o.queue), o.err
			o.mu.Unlock()
			if n == 0 || err != nil {
				break
			}
			select {
			case <-o.idle:
			case <-o.done:
			case <-time.After(o.delay + time.Second):
			}
		}
	}
	o.cancel()
	<-o.done
	o.mu.Lock()
	defer o.mu.Unlock()
	if n := len(o.queue); n > 0 {
		o.log.Warn("openf1: broadcast delay: messages not published", "messages", n)
	}
	return o.err
}
