package kafka

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/podiumhq/podium/internal/bus"
)

// consumer is a bus.Consumer backed by its own franz-go client: a group
// member when ConsumerConfig.Group is set, else a direct reader of every
// partition the topic has when Consume is called.
type consumer struct {
	b      *Bus
	cl     *kgo.Client
	topic  string
	group  string
	start  bus.Start
	resume func(ctx context.Context, partition int32) (int64, bool, error)
	log    *slog.Logger

	// openEnds are the end offsets when the consumer opened, where a
	// group consumer with Start=Latest begins on partitions without a
	// position, so that it reads everything published after Consume.
	openEnds map[int32]int64

	closed    atomic.Bool
	closeOnce sync.Once

	mu      sync.Mutex
	pending error // fetch error seen alongside messages, returned next
}

var _ bus.Consumer = (*consumer)(nil)

// Consume opens a consumer on cfg.Topic, creating the topic if needed.
//
// With a group, Resume is asked for a partition each time it is assigned to
// this member (partitions kept across a cooperative rebalance keep their
// position). Start=Latest starts partitions without a position at the end
// they had when Consume was called. Without a group, Resume is asked once
// per partition at open, and the consumer reads the partitions the topic
// has at open.
//
// A position that fell out of retention (or lies past the end of a
// recreated topic) restarts at the oldest message kept, whatever Start says.
func (b *Bus) Consume(ctx context.Context, cfg bus.ConsumerConfig) (bus.Consumer, error) {
	if b.closed.Load() {
		return nil, bus.ErrClosed
	}
	if cfg.Topic == "" {
		return nil, errors.New("kafka: consume: empty topic name")
	}
	if cfg.Start != bus.Earliest && cfg.Start != bus.Latest {
		return nil, fmt.Errorf("kafka: consume %q: unknown start %d", cfg.Topic, cfg.Start)
	}
	if err := b.ensureTopic(ctx, cfg.Topic); err != nil {
		return nil, err
	}
	c := &consumer{
		b:      b,
		topic:  cfg.Topic,
		group:  cfg.Group,
		start:  cfg.Start,
		resume: cfg.Resume,
		log:    b.log.With("topic", cfg.Topic, "group", cfg.Group),
	}
	startAt := kgo.NewOffset().AtStart()
	if cfg.Start == bus.Latest {
		startAt = kgo.NewOffset().AtEnd()
	}
	opts := append([]kgo.Opt(nil), b.common...)
	opts = append(opts,
		kgo.ConsumeStartOffset(startAt),
		// A position that fell out of retention resumes at the oldest
		// message kept, whatever Start says: never skip kept messages.
		kgo.ConsumeResetOffset(kgo.NewOffset().AtStart()),
	)
	if cfg.Start == bus.Latest || cfg.Group == "" {
		ends, err := b.endOffsets(ctx, cfg.Topic)
		if errors.Is(err, bus.ErrUnknownTopic) {
			// Deleted by someone else since we saw it: create again.
			b.forget(cfg.Topic)
			if err = b.ensureTopic(ctx, cfg.Topic); err == nil {
				ends, err = b.endOffsets(ctx, cfg.Topic)
			}
		}
		if err != nil {
			return nil, err
		}
		c.openEnds = ends
	}
	if cfg.Group != "" {
		opts = append(opts,
			kgo.ConsumerGroup(cfg.Group),
			kgo.ConsumeTopics(cfg.Topic),
			kgo.DisableAutoCommit(),
			kgo.BlockRebalanceOnPoll(),
			kgo.SessionTimeout(b.cfg.SessionTimeout),
			kgo.RebalanceTimeout(b.cfg.RebalanceTimeout),
			kgo.HeartbeatInterval(b.cfg.HeartbeatInterval),
		)
		if cfg.Resume != nil || cfg.Start == bus.Latest {
			opts = append(opts, kgo.AdjustFetchOffsetsFn(c.adjustOffsets))
		}
	} else {
		offsets := make(map[int32]kgo.Offset, len(c.openEnds))
		for p, end := range c.openEnds {
			at := startAt
			if cfg.Start == bus.Latest {
				at = kgo.NewOffset().At(end)
			}
			if cfg.Resume != nil {
				next, ok, err := c.askResume(ctx, p)
				if err != nil {
					return nil, err
				}
				if ok {
					at = kgo.NewOffset().At(next)
				}
			}
			offsets[p] = at
		}
		opts = append(opts, kgo.ConsumePartitions(map[string]map[int32]kgo.Offset{cfg.Topic: offsets}))
	}
	cl, err := kgo.NewClient(opts...)
	if err != nil {
		return nil, fmt.Errorf("kafka: consume %q: %w", cfg.Topic, err)
	}
	c.cl = cl
	b.mu.Lock()
	if b.closed.Load() {
		b.mu.Unlock()
		cl.Close()
		return nil, bus.ErrClosed
	}
	b.consumers[c] = struct{}{}
	b.mu.Unlock()
	c.log.Debug("opened consumer", "start", cfg.Start)
	return c, nil
}

// endOffsets lists the end offset of every partition of topic.
func (b *Bus) endOffsets(ctx context.Context, topic string) (map[int32]int64, error) {
	listed, err := b.adm.ListEndOffsets(ctx, topic)
	if err != nil {
		return nil, fmt.Errorf("kafka: list end offsets of %q: %w", topic, mapClosed(err))
	}
	ends := make(map[int32]int64, len(listed[topic]))
	for p, o := range listed[topic] {
		if o.Err != nil {
			if errors.Is(o.Err, kerr.UnknownTopicOrPartition) && p == -1 {
				return nil, fmt.Errorf("kafka: list end offsets of %q: %w", topic, bus.ErrUnknownTopic)
			}
			return nil, fmt.Errorf("kafka: list end offset of %s/%d: %w", topic, p, o.Err)
		}
		ends[p] = o.Offset
	}
	if len(ends) == 0 {
		return nil, fmt.Errorf("kafka: list end offsets of %q: no partitions", topic)
	}
	return ends, nil
}

func (c *consumer) askResume(ctx context.Context, p int32) (int64, bool, error) {
	next, ok, err := c.resume(ctx, p)
	if err != nil {
		return 0, false, fmt.Errorf("kafka: resume %s/%d: %w", c.topic, p, err)
	}
	if ok && next < 0 {
		return 0, false, fmt.Errorf("kafka: resume %s/%d: negative offset %d", c.topic, p, next)
	}
	return next, ok, nil
}

// adjustOffsets runs after each group assignment, before fetching starts on
// the newly assigned partitions: Resume overrides the committed offsets, and
// Start=Latest begins partitions without a commit at their end at open.
func (c *consumer) adjustOffsets(ctx context.Context, offsets map[string]map[int32]kgo.Offset) (map[string]map[int32]kgo.Offset, error) {
	for p, o := range offsets[c.topic] {
		if c.resume != nil {
			next, ok, err := c.askResume(ctx, p)
			if err != nil {
				c.log.Error("resume failed; the group session restarts", "partition", p, "err", err)
				return nil, err
			}
			if ok {
				c.log.Debug("resuming partition", "partition", p, "offset", next)
				offsets[c.topic][p] = kgo.NewOffset().At(next)
				continue
			}
		}
		// No commit: o is the start offset (AtEnd is -1; commits are >= 0).
		if c.start == bus.Latest && o.EpochOffset().Offset == -1 {
			if end, ok := c.openEnds[p]; ok {
				offsets[c.topic][p] = kgo.NewOffset().At(end)
			}
		}
	}
	return offsets, nil
}

// Fetch waits for messages and returns up to max of those at hand.
func (c *consumer) Fetch(ctx context.Context, max int) ([]*bus.Message, error) {
	if c.closed.Load() {
		c.allowRebalance()
		return nil, bus.ErrClosed
	}
	if max < 1 {
		return nil, fmt.Errorf("kafka: fetch: max %d, want at least 1", max)
	}
	c.mu.Lock()
	err := c.pending
	c.pending = nil
	c.mu.Unlock()
	if err != nil {
		return nil, err
	}
	for {
		if c.group != "" {
			// The previous batch is handed out: let a pending rebalance
			// proceed. The stage runtime reads ahead, so that batch may
			// still be committing; its positions, compared at commit,
			// fence the member that gets the partition meanwhile.
			c.cl.AllowRebalance()
		}
		fs := c.cl.PollRecords(ctx, max)
		if c.closed.Load() {
			// Closed meanwhile: hand nothing out (the group gives these
			// records to the next member) and let Close leave the group.
			c.allowRebalance()
			return nil, bus.ErrClosed
		}
		var msgs []*bus.Message
		if n := fs.NumRecords(); n > 0 {
			msgs = make([]*bus.Message, 0, n)
			fs.EachRecord(func(r *kgo.Record) { msgs = append(msgs, toMessage(r)) })
		}
		err := c.fetchErr(ctx, fs)
		if len(msgs) > 0 {
			if err != nil && !errors.Is(err, bus.ErrClosed) && !isContextErr(err) {
				c.mu.Lock()
				c.pending = err
				c.mu.Unlock()
			}
			return msgs, nil
		}
		if c.group != "" {
			// No batch handed out: do not hold back rebalances (a
			// poll that ends with an error still counts as one).
			c.cl.AllowRebalance()
		}
		if err != nil {
			return nil, err
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if c.closed.Load() || c.cl.Context().Err() != nil {
			return nil, bus.ErrClosed
		}
	}
}

// fetchErr picks the error of a poll to return: closing, the caller's
// context, then the first error the client cannot recover from by itself.
// Informational errors are logged.
func (c *consumer) fetchErr(ctx context.Context, fs kgo.Fetches) error {
	var hard error
	for _, fe := range fs.Errors() {
		var dataLoss *kgo.ErrDataLoss
		switch {
		case errors.Is(fe.Err, kgo.ErrClientClosed):
			return bus.ErrClosed
		case isContextErr(fe.Err):
			if ctx.Err() != nil {
				return ctx.Err()
			}
		case errors.As(fe.Err, &dataLoss):
			c.log.Warn("data loss detected; consuming resumes where the client could", "partition", fe.Partition, "err", fe.Err)
		case kerr.IsRetriable(fe.Err):
			c.log.Debug("retryable fetch error", "partition", fe.Partition, "err", fe.Err)
		case isConnErr(fe.Err):
			// The brokers are unreachable (franz-go reports its group
			// session's errors as fetch errors too). franz-go keeps
			// trying with backoff; going on polling keeps this member in
			// its group, whereas a new consumer would wait for the group
			// to evict this one (the session timeout) once the brokers
			// are back.
			c.log.Debug("brokers unreachable; franz-go retries", "err", fe.Err)
		default:
			if hard == nil {
				if fe.Topic == "" {
					hard = fmt.Errorf("kafka: consume %q: %w", c.topic, fe.Err)
				} else {
					hard = fmt.Errorf("kafka: consume %s/%d: %w", fe.Topic, fe.Partition, fe.Err)
				}
			}
		}
	}
	return hard
}

func toMessage(r *kgo.Record) *bus.Message {
	m := &bus.Message{
		Topic:     r.Topic,
		Key:       string(r.Key),
		Value:     r.Value,
		Partition: r.Partition,
		Offset:    r.Offset,
		Time:      r.Timestamp,
	}
	if len(r.Headers) > 0 {
		m.Headers = make(map[string]string, len(r.Headers))
		for _, h := range r.Headers {
			if h.Key == HeaderMsgID {
				m.ID = string(h.Value)
				continue
			}
			m.Headers[h.Key] = string(h.Value)
		}
	}
	return m
}

// Commit commits, for each partition, the offset after the highest given
// position, and returns once the group coordinator stored it.
func (c *consumer) Commit(ctx context.Context, positions ...bus.Position) error {
	if c.closed.Load() {
		return bus.ErrClosed
	}
	if c.group == "" || len(positions) == 0 {
		return nil
	}
	next := make(map[int32]kgo.EpochOffset, len(positions))
	for _, p := range positions {
		if p.Topic != c.topic {
			return fmt.Errorf("kafka: commit %s: consumer reads topic %q", p, c.topic)
		}
		if p.Offset < 0 {
			return fmt.Errorf("kafka: commit %s: negative offset", p)
		}
		if cur, ok := next[p.Partition]; !ok || p.Offset+1 > cur.Offset {
			next[p.Partition] = kgo.EpochOffset{Epoch: -1, Offset: p.Offset + 1}
		}
	}
	var err error
	c.cl.CommitOffsetsSync(ctx, map[string]map[int32]kgo.EpochOffset{c.topic: next},
		func(_ *kgo.Client, _ *kmsg.OffsetCommitRequest, resp *kmsg.OffsetCommitResponse, rerr error) {
			if rerr != nil {
				err = rerr
				return
			}
			for _, t := range resp.Topics {
				for _, p := range t.Partitions {
					if perr := kerr.ErrorForCode(p.ErrorCode); perr != nil && err == nil {
						err = fmt.Errorf("partition %d: %w", p.Partition, perr)
					}
				}
			}
		})
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("kafka: commit group %q on %q: %w", c.group, c.topic, mapClosed(err))
	}
	return nil
}

// allowRebalance lets a rebalance (or the group leave of Close) proceed
// that a poll handing out records blocked.
func (c *consumer) allowRebalance() {
	if c.group != "" {
		c.cl.AllowRebalance()
	}
}

// closeTimeout bounds how long Close waits for the group to let the
// consumer leave.
const closeTimeout = 10 * time.Second

// Close leaves the group (so its partitions move to other members at once)
// and closes the client. Later calls return bus.ErrClosed. A group that does
// not answer does not hold Close beyond closeTimeout: the client then closes
// in the background, and the group drops the member at its session timeout.
func (c *consumer) Close() error {
	err := bus.ErrClosed
	c.closeOnce.Do(func() {
		err = nil
		c.closed.Store(true)
		done := make(chan struct{})
		go func() {
			c.cl.CloseAllowingRebalance()
			close(done)
		}()
		select {
		case <-done:
			c.log.Debug("closed consumer")
		case <-time.After(closeTimeout):
			c.log.Warn("the consumer group did not let this member leave in time; closing in the background", "timeout", closeTimeout)
		}
		c.b.mu.Lock()
		delete(c.b.consumers, c)
		c.b.mu.Unlock()
	})
	return err
}

// isConnErr reports whether err is a failure to reach a broker: a refused
// or dropped connection, a dial that timed out.
func isConnErr(err error) bool {
	var op *net.OpError
	return errors.As(err, &op) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET)
}
