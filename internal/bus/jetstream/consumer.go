package jetstream

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/podiumhq/podium/internal/bus"
)

const (
	// stopTimeout bounds the wait for a consumer's subscription to end.
	stopTimeout = 5 * time.Second
	// heartbeat is how often the server reports an idle pull as alive; two
	// missed ones trigger a check that the consumer still exists.
	heartbeat = 5 * time.Second
	// checkTimeout bounds that check.
	checkTimeout = 5 * time.Second
)

// Fetch waits up to fetchGap for each further message the server is
// already sending (a message says how many the consumer has still to
// deliver), and up to fetchLinger in all. The flow is continuous, so the
// limits only matter when it stalls (e.g. MaxAckPending reached); they are
// generous for slow, loaded machines.
const (
	fetchGap    = 50 * time.Millisecond
	fetchLinger = 250 * time.Millisecond
)

// delivery is a message with the reply subject that acknowledges it. It
// keeps no jetstream.Msg: those hold the decoded headers of every message
// (which busMessage has copied what it needs of) until it is committed.
type delivery struct {
	msg   *bus.Message
	reply string
	// more is the number of messages the consumer had still to deliver
	// when the server sent this one.
	more uint64
}

// consumer implements bus.Consumer. JetStream pushes prefetched messages
// into buf from its own goroutine; Fetch takes what is there.
type consumer struct {
	b      *Bus
	topic  string
	group  string
	stream string
	cc     jetstream.ConsumeContext

	buf  chan delivery
	done chan struct{} // closed by Close

	failOnce sync.Once
	// leave stops answering as the group's member (nil without a group).
	leave   func()
	failed  chan struct{} // closed when the subscription ended for good
	failErr error

	// delivered is the consumer sequence of the last delivery handled
	// (group only; 0 before the first): JetStream numbers a durable
	// consumer's deliveries, redeliveries included, one by one.
	delivered uint64

	checking atomic.Bool    // a liveness check runs
	checks   sync.WaitGroup // liveness checks, waited for by Close

	mu sync.Mutex // guards unacked, and checks.Add against close(done)
	// unacked lists the messages handed out by Fetch and not yet
	// committed, in delivery order (group only).
	unacked []delivery

	closeOnce sync.Once
}

// startConsumer starts pulling from jc into a new consumer.
func (b *Bus) startConsumer(cfg bus.ConsumerConfig, jc jetstream.Consumer, leave func()) (*consumer, error) {
	c := &consumer{
		leave:  leave,
		b:      b,
		topic:  cfg.Topic,
		group:  cfg.Group,
		stream: streamName(cfg.Topic),
		buf:    make(chan delivery, prefetch),
		done:   make(chan struct{}),
		failed: make(chan struct{}),
	}
	cc, err := jc.Consume(c.handle,
		jetstream.PullMaxMessages(prefetch),
		jetstream.PullHeartbeat(heartbeat),
		jetstream.ConsumeErrHandler(c.consumeError),
	)
	if err != nil {
		if leave != nil {
			leave()
		}
		return nil, b.wrap(err, "consume topic %q", cfg.Topic)
	}
	c.cc = cc
	b.mu.Lock()
	b.consumers[c] = struct{}{}
	b.mu.Unlock()
	if b.closed.Load() {
		_ = c.Close()
		return nil, bus.ErrClosed
	}
	return c, nil
}

// handle receives one message from JetStream. It blocks while the buffer
// is full, which holds back further pulls.
//
// A group's messages must come without gaps: the processor runtime takes
// an offset past one it has not seen for proof that the one before was
// handled. Deliveries in flight when the connection drops are lost, and
// the server, which counts them as delivered, goes on with the next ones
// after the reconnection (it delivers the lost ones again only after the
// ack wait). So a group consumer fails at a disconnection (lostConnection)
// and at a gap in the delivery sequence; the runtime then opens it again
// from its committed position. Once failed, it hands out nothing more.
func (c *consumer) handle(raw jetstream.Msg) {
	select {
	case <-c.failed:
		return
	default:
	}
	m, md, err := busMessage(c.topic, raw)
	if err != nil {
		c.b.log.Warn("jetstream: skipping undecodable message", "topic", c.topic, "err", err)
		return
	}
	if c.group != "" {
		if seq := md.Sequence.Consumer; c.delivered != 0 && seq != c.delivered+1 {
			c.fail(fmt.Errorf("deliveries %d to %d of the group's consumer never arrived (lost with a connection); open the consumer again",
				c.delivered+1, seq-1))
			return
		}
		c.delivered = md.Sequence.Consumer
	}
	select {
	case c.buf <- delivery{msg: m, reply: raw.Reply(), more: md.NumPending}:
	case <-c.done:
	}
}

// lostConnection fails c if it reads for a group: messages in flight when
// the connection dropped are lost (see handle).
func (c *consumer) lostConnection(err error) {
	if c.group == "" {
		return // an ordered consumer notices gaps and recovers by itself
	}
	c.fail(fmt.Errorf("connection to NATS lost, messages in flight with it (%w); open the consumer again", err))
}

// consumeError handles the errors JetStream reports while consuming. The
// ones that end the subscription make Fetch fail; after the others (missed
// heartbeats, no responders) a check finds out whether the topic or the
// group was deleted under the consumer, which the server does not always
// report.
func (c *consumer) consumeError(_ jetstream.ConsumeContext, err error) {
	switch {
	case errors.Is(err, jetstream.ErrConsumerDeleted),
		errors.Is(err, jetstream.ErrConsumerNotFound),
		errors.Is(err, jetstream.ErrStreamNotFound),
		errors.Is(err, jetstream.ErrConnectionClosed),
		errors.Is(err, nats.ErrConnectionClosed):
		c.fail(err)
	default:
		c.b.log.Debug("jetstream: consumer error", "topic", c.topic, "group", c.group, "err", err)
		c.checkAlive()
	}
}

// checkAlive fails the consumer, in the background, if its stream or
// durable consumer no longer exists.
func (c *consumer) checkAlive() {
	if !c.checking.CompareAndSwap(false, true) {
		return
	}
	// Under mu, Add happens before Close's Wait or not at all.
	c.mu.Lock()
	select {
	case <-c.done:
		c.mu.Unlock()
		c.checking.Store(false)
		return
	default:
	}
	c.checks.Add(1)
	c.mu.Unlock()
	go func() {
		defer c.checks.Done()
		defer c.checking.Store(false)
		ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
		defer cancel()
		var err error
		if c.group != "" {
			_, err = c.b.js.Consumer(ctx, c.stream, consumerName(c.group))
		} else {
			_, err = c.b.js.Stream(ctx, c.stream)
		}
		if errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrStreamNotFound) {
			c.fail(err)
		}
	}()
}

// fail records the error that ended the subscription.
func (c *consumer) fail(err error) {
	c.failOnce.Do(func() {
		c.b.log.Warn("jetstream: consumer stopped", "topic", c.topic, "group", c.group, "err", err)
		c.failErr = err
		close(c.failed)
	})
}

// Fetch waits for a message, then returns it with the others at hand, up
// to max: those already buffered, and those the server is sending at that
// moment (the last message taken says more are pending), which arrive
// within microseconds. An idle topic answers at once with what came; a
// backlog gives full batches.
func (c *consumer) Fetch(ctx context.Context, max int) ([]*bus.Message, error) {
	if max < 1 {
		return nil, fmt.Errorf("jetstream: fetch: max is %d, must be at least 1", max)
	}
	var first delivery
	select {
	case <-c.done:
		return nil, bus.ErrClosed
	default:
	}
	select {
	case first = <-c.buf:
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-c.done:
		return nil, bus.ErrClosed
	case <-c.failed:
		// Hand out what arrived before the failure first.
		select {
		case first = <-c.buf:
		default:
			return nil, c.b.wrap(c.failErr, "consume topic %q", c.topic)
		}
	}
	batch := c.gather(ctx, first, max)
	msgs := make([]*bus.Message, len(batch))
	for i, d := range batch {
		msgs[i] = d.msg
	}
	if c.group != "" {
		c.mu.Lock()
		c.unacked = append(c.unacked, batch...)
		c.mu.Unlock()
	}
	return msgs, nil
}

// gather returns first and the messages that follow it at once, up to max.
func (c *consumer) gather(ctx context.Context, first delivery, max int) []delivery {
	batch := make([]delivery, 1, min(max, len(c.buf)+1))
	batch[0] = first
	more := first.more
	var gap, linger *time.Timer
	defer func() {
		if gap != nil {
			gap.Stop()
			linger.Stop()
		}
	}()
	for len(batch) < max {
		select {
		case d := <-c.buf:
			batch, more = append(batch, d), d.more
			continue
		default:
		}
		if more == 0 {
			break // nothing else on its way
		}
		if gap == nil {
			gap, linger = time.NewTimer(fetchGap), time.NewTimer(fetchLinger)
		} else {
			gap.Reset(fetchGap)
		}
		select {
		case d := <-c.buf:
			batch, more = append(batch, d), d.more
			continue
		case <-gap.C:
		case <-linger.C:
		case <-ctx.Done():
		case <-c.done:
		case <-c.failed:
		}
		break
	}
	return batch
}

// Commit acknowledges, with AckAll semantics, the last message handed out
// at or before each position, and waits until the server has recorded it.
func (c *consumer) Commit(ctx context.Context, positions ...bus.Position) error {
	select {
	case <-c.done:
		return bus.ErrClosed
	default:
	}
	if c.group == "" || len(positions) == 0 {
		return nil
	}
	var upto int64 = -1
	for _, p := range positions {
		if p.Topic != c.topic || p.Partition != 0 {
			return fmt.Errorf("jetstream: commit %s: group %q reads topic %q, partition 0", p, c.group, c.topic)
		}
		upto = max(upto, p.Offset)
	}
	c.mu.Lock()
	// The latest delivery of the highest offset not above upto carries the
	// current ack subject.
	at := -1
	for i, d := range c.unacked {
		if d.msg.Offset <= upto && (at < 0 || d.msg.Offset >= c.unacked[at].msg.Offset) {
			at = i
		}
	}
	if at < 0 {
		c.mu.Unlock()
		return nil // nothing handed out up to there: already committed
	}
	target := c.unacked[at]
	c.mu.Unlock()

	// A failed consumer is to be opened again, from the positions the
	// caller keeps: its acks are moot, and one sent over a lost
	// connection may never be answered.
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() {
		select {
		case <-c.failed:
			cancel()
		case <-c.done:
			cancel()
		case <-ctx.Done():
		}
	}()
	if err := c.ack(ctx, target.reply); err != nil {
		select {
		case <-c.failed:
			return c.b.wrap(c.failErr, "commit %s for group %q", target.msg.Position(), c.group)
		default:
		}
		return c.b.wrap(err, "commit %s for group %q", target.msg.Position(), c.group)
	}
	c.mu.Lock()
	kept := c.unacked[:0]
	for _, d := range c.unacked {
		if d.msg.Offset > target.msg.Offset {
			kept = append(kept, d)
		}
	}
	clear(c.unacked[len(kept):])
	c.unacked = kept
	c.mu.Unlock()
	return nil
}

// ack acknowledges, as jetstream.Msg.DoubleAck does, the message whose
// reply subject is reply (with AckAll, every one before it too) and waits
// for the server's answer, at most ackTimeout when ctx has no deadline (as
// the JetStream client's default API timeout).
func (c *consumer) ack(ctx context.Context, reply string) error {
	if reply == "" {
		return jetstream.ErrMsgNoReply
	}
	if _, ok := ctx.Deadline(); !ok {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, ackTimeout)
		defer cancel()
	}
	_, err := c.b.nc.RequestWithContext(ctx, reply, ackBody)
	return err
}

// ackBody is the body of an acknowledgement.
var ackBody = []byte("+ACK")

// ackTimeout bounds the wait for the answer to an acknowledgement when the
// caller's context has no deadline.
const ackTimeout = 5 * time.Second

// Close stops pulling. Messages not committed are delivered again to the
// group's next consumer.
func (c *consumer) Close() error {
	c.closeOnce.Do(func() {
		c.mu.Lock()
		close(c.done)
		c.mu.Unlock()
		if c.leave != nil {
			c.leave()
		}
		c.cc.Stop()
		timer := time.NewTimer(stopTimeout)
		defer timer.Stop()
		select {
		case <-c.cc.Closed():
		case <-timer.C:
			c.b.log.Warn("jetstream: consumer did not stop in time", "topic", c.topic, "group", c.group)
		}
		c.checks.Wait()
		c.b.mu.Lock()
		delete(c.b.consumers, c)
		c.b.mu.Unlock()
		c.mu.Lock()
		c.unacked = nil
		c.mu.Unlock()
	})
	return nil
}
