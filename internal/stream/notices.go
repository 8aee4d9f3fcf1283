package stream

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/retry"
)

// TopicNotices carries the stages' notices: small messages that tell the
// pages of every podium process what a stage just committed, so that a
// dashboard served by one process follows the work of the workers.
const TopicNotices = "podium.notices"

// noticesRetention keeps notices briefly: they matter only while fresh.
const noticesRetention = time.Hour

// Notice is what a stage tells the pages after a commit: a server-sent
// event's name and data (JSON).
type Notice struct {
	Event string          `json:"event"`
	Data  json.RawMessage `json:"data,omitempty"`
}

// NewNotice returns the notice of event with data marshalled to JSON.
func NewNotice(event string, data any) Notice {
	b, err := json.Marshal(data)
	if err != nil {
		b = nil
	}
	return Notice{Event: event, Data: b}
}

// Notices publishes the notices of this process's stages on TopicNotices.
// Send never blocks a stage: notices are queued and published in the
// background, identical ones queued together sent once; when the queue is
// full, or the bus fails, notices are dropped (a page then updates at its
// next notice or reload).
type Notices struct {
	bus bus.Bus
	log *slog.Logger
	ch  chan Notice
}

// NewNotices returns a Notices publishing on b; run it with Run.
func NewNotices(b bus.Bus, log *slog.Logger) *Notices {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Notices{bus: b, log: log, ch: make(chan Notice, 1024)}
}

// Send queues notices. A nil Notices drops them.
func (n *Notices) Send(notices ...Notice) {
	if n == nil {
		return
	}
	for _, x := range notices {
		select {
		case n.ch <- x:
		default: // full: a page misses an update, no stage waits
		}
	}
}

// Run publishes the queued notices until ctx ends.
func (n *Notices) Run(ctx context.Context) {
	if err := n.bus.EnsureTopic(ctx, bus.TopicConfig{Name: TopicNotices, MaxAge: noticesRetention, MaxBytes: 64 << 20}); err != nil && ctx.Err() == nil {
		n.log.Warn("create the notices topic", "err", err)
	}
	for {
		var batch []Notice
		select {
		case <-ctx.Done():
			return
		case x := <-n.ch:
			batch = append(batch, x)
		}
	drain:
		for len(batch) < 256 {
			select {
			case x := <-n.ch:
				batch = append(batch, x)
			default:
				break drain
			}
		}
		seen := map[string]bool{}
		msgs := make([]*bus.Message, 0, len(batch))
		for _, x := range batch {
			v, err := json.Marshal(x)
			if err != nil || seen[string(v)] {
				continue
			}
			seen[string(v)] = true
			msgs = append(msgs, &bus.Message{Topic: TopicNotices, Key: x.Event, Value: v})
		}
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		if err := n.bus.Publish(pctx, msgs...); err != nil && ctx.Err() == nil {
			n.log.Debug("publish notices; dropped", "notices", len(msgs), "err", err)
		}
		cancel()
	}
}

// probeEvent is the notice Relay sends to itself until its follower
// reads it: the follower reads only what is published after it started.
const probeEvent = "podium.probe"

// Relay runs n and follows the notices topic of every process into
// publish (typically the web hub), until ctx ends. It returns once the
// follower reads (or after 10 s, if the bus is slow to answer), so that the
// notices sent after it reach publish; wait joins its goroutines after ctx
// ended.
func (n *Notices) Relay(ctx context.Context, publish func(Notice)) (wait func()) {
	ready := make(chan struct{})
	var once sync.Once
	var wg sync.WaitGroup
	wg.Go(func() { n.Run(ctx) })
	wg.Go(func() {
		followNotices(ctx, n.bus, n.log, func(x Notice) {
			if x.Event == probeEvent {
				once.Do(func() { close(ready) })
				return
			}
			publish(x)
		})
	})
	probe := time.NewTicker(50 * time.Millisecond)
	defer probe.Stop()
	timeout := time.After(10 * time.Second)
	for {
		n.Send(Notice{Event: probeEvent})
		select {
		case <-ready:
			return wg.Wait
		case <-ctx.Done():
			return wg.Wait
		case <-timeout:
			n.log.Warn("the notices topic did not answer within 10s; live page updates may start late")
			return wg.Wait
		case <-probe.C:
		}
	}
}

// followNotices calls fn with every notice published from now on, by any
// process, until ctx ends.
func followNotices(ctx context.Context, b bus.Bus, log *slog.Logger, fn func(Notice)) {
	Follow(ctx, b, TopicNotices, log, func(msgs []*bus.Message) {
		for _, m := range msgs {
			var x Notice
			if json.Unmarshal(m.Value, &x) == nil && x.Event != "" {
				fn(x)
			}
		}
	})
}

// followBackoff paces the retries of a follower whose bus failed.
var followBackoff = retry.Backoff{Initial: 500 * time.Millisecond, Max: 30 * time.Second}

// Follow reads topic from its newest message on, without a group (nothing
// is recorded on the bus), and calls fn with each fetched batch, until ctx
// ends. A failing bus is retried with backoff. Pages use it for what they
// show live (notices, an F1 session's running order).
func Follow(ctx context.Context, b bus.Bus, topic string, log *slog.Logger, fn func([]*bus.Message)) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	for attempt := 1; ctx.Err() == nil; attempt++ {
		start := time.Now()
		err := follow(ctx, b, topic, fn)
		if ctx.Err() != nil {
			return
		}
		if time.Since(start) > time.Minute {
			attempt = 1
		}
		wait := followBackoff.Delay(attempt)
		log.Warn("following a topic; retrying", "topic", topic, "err", err, "retry_in", wait)
		_ = retry.Sleep(ctx, wait)
	}
}

func follow(ctx context.Context, b bus.Bus, topic string, fn func([]*bus.Message)) error {
	c, err := b.Consume(ctx, bus.ConsumerConfig{Topic: topic, Start: bus.Latest})
	if err != nil {
		return err
	}
	defer func() { _ = c.Close() }()
	for {
		msgs, err := c.Fetch(ctx, 256)
		if err != nil {
			return err
		}
		fn(msgs)
	}
}
