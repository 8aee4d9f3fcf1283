package jetstream

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/podiumhq/podium/internal/bus"
)

const (
	// ackWait is how long a delivered message may stay uncommitted before
	// JetStream delivers it again.
	ackWait = time.Minute
	// maxAckPending bounds the messages a group has delivered but not yet
	// committed; prefetching needs room.
	maxAckPending = 20000
	// prefetch is how many messages a consumer asks for ahead of Fetch,
	// and the size of its buffer.
	prefetch = 1000
	// orderedInactive removes the ephemeral consumer of a closed reader
	// without a group.
	orderedInactive = time.Minute
)

// Consume opens a consumer on cfg.Topic, creating the topic if needed. With
// a group it reads through the group's durable consumer, from cfg.Resume's
// offset when it gives one, else from the group's committed position, else
// from cfg.Start. Without a group it reads with an ordered consumer from
// cfg.Start and keeps no position.
func (b *Bus) Consume(ctx context.Context, cfg bus.ConsumerConfig) (bus.Consumer, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	if err := b.ensure(ctx, cfg.Topic); err != nil {
		return nil, err
	}
	stream := streamName(cfg.Topic)
	var (
		jc  jetstream.Consumer
		err error
	)
	if cfg.Group == "" {
		policy := jetstream.DeliverAllPolicy
		if cfg.Start == bus.Latest {
			policy = jetstream.DeliverNewPolicy
		}
		jc, err = b.js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{
			DeliverPolicy:     policy,
			InactiveThreshold: orderedInactive,
		})
		if err != nil {
			return nil, b.wrap(err, "open reader on topic %q", cfg.Topic)
		}
		return b.startConsumer(cfg, jc, nil)
	}
	leave, err := b.claimMember(ctx, stream, cfg.Topic, cfg.Group)
	if err != nil {
		return nil, err
	}
	if jc, err = b.groupConsumer(ctx, stream, cfg); err != nil {
		leave()
		return nil, err
	}
	return b.startConsumer(cfg, jc, leave)
}

// groupConsumer returns the durable consumer of cfg.Group, created or
// moved so that it delivers from the right place: Resume's offset, else
// the first uncommitted message.
func (b *Bus) groupConsumer(ctx context.Context, stream string, cfg bus.ConsumerConfig) (jetstream.Consumer, error) {
	var start uint64 // 0: no resume offset
	if cfg.Resume != nil {
		next, ok, err := cfg.Resume(ctx, 0)
		if err != nil {
			return nil, fmt.Errorf("jetstream: resume offset of group %q on topic %q: %w", cfg.Group, cfg.Topic, err)
		}
		if ok {
			start = uint64(max(next, 1))
		}
	}
	name := consumerName(cfg.Group)
	jc, err := b.js.Consumer(ctx, stream, name)
	if errors.Is(err, jetstream.ErrConsumerNotFound) {
		jc, err = b.js.CreateConsumer(ctx, stream, groupConsumerConfig(cfg, start))
		if errors.Is(err, jetstream.ErrConsumerExists) {
			// Created meanwhile by another member of the group.
			jc, err = b.js.Consumer(ctx, stream, name)
		} else if err == nil {
			return jc, nil
		}
	}
	if err != nil {
		return nil, b.wrap(err, "open group %q on topic %q", cfg.Group, cfg.Topic)
	}
	info := jc.CachedInfo()
	switch {
	case start != 0 && (info.NumAckPending != 0 || info.Delivered.Stream+1 != start):
		// Resume is authoritative: deliver from its offset.
	case start == 0 && info.NumAckPending != 0:
		// Messages delivered to an earlier member and never committed
		// would wait for the ack timeout: deliver them again now.
	default:
		return jc, nil
	}
	if jc, err = b.rewind(ctx, stream, cfg, start, info); err != nil {
		return nil, b.wrap(err, "move group %q on topic %q to offset %d", cfg.Group, cfg.Topic, start)
	}
	return jc, nil
}

// groupConsumerConfig is the durable consumer of a group, delivering from
// start, or from cfg.Start when start is 0.
func groupConsumerConfig(cfg bus.ConsumerConfig, start uint64) jetstream.ConsumerConfig {
	name := consumerName(cfg.Group)
	c := jetstream.ConsumerConfig{
		Name:          name,
		Durable:       name,
		Description:   descGroup + cfg.Group,
		DeliverPolicy: jetstream.DeliverAllPolicy,
		AckPolicy:     jetstream.AckAllPolicy,
		AckWait:       ackWait,
		MaxDeliver:    -1,
		MaxAckPending: maxAckPending,
		ReplayPolicy:  jetstream.ReplayInstantPolicy,
		Metadata:      map[string]string{metaGroup: cfg.Group},
	}
	switch {
	case start != 0:
		c.DeliverPolicy, c.OptStartSeq = jetstream.DeliverByStartSequencePolicy, start
	case cfg.Start == bus.Latest:
		c.DeliverPolicy = jetstream.DeliverNewPolicy
	}
	return c
}

// rewind makes the group's consumer deliver from start (0: from its ack
// floor), forgetting what it delivered without a commit. Servers from 2.14
// reset the consumer in place; older ones, or a reset the consumer's
// deliver policy forbids, delete and create it again at that offset.
func (b *Bus) rewind(ctx context.Context, stream string, cfg bus.ConsumerConfig, start uint64, info *jetstream.ConsumerInfo) (jetstream.Consumer, error) {
	name := consumerName(cfg.Group)
	if b.canReset {
		var err error
		if start == 0 {
			_, err = b.js.ResetConsumer(ctx, stream, name)
		} else {
			_, err = b.js.ResetConsumerToSequence(ctx, stream, name, start)
		}
		if err == nil {
			return b.js.Consumer(ctx, stream, name)
		}
		if !errors.Is(err, jetstream.ErrConsumerInvalidReset) {
			return nil, fmt.Errorf("reset consumer: %w", err)
		}
	}
	if start == 0 {
		start = info.AckFloor.Stream + 1
	}
	if err := b.js.DeleteConsumer(ctx, stream, name); err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("delete consumer: %w", err)
	}
	jc, err := b.js.CreateConsumer(ctx, stream, groupConsumerConfig(cfg, start))
	if err != nil {
		return nil, fmt.Errorf("create consumer: %w", err)
	}
	return jc, nil
}
