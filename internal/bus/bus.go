// Package bus defines podium's message bus: topics of keyed messages, consumer
// groups with durable positions and dead-letter topics. Engines live in
// sub-packages (jetstream, kafka) and all pass the same conformance suite,
// bustest.Run.
package bus

import (
	"context"
	"errors"
	"strconv"
	"time"
)

// Message is one record on a topic.
type Message struct {
	// Topic is the topic the message is published to or was read from.
	Topic string
	// Key orders messages: two messages with the same key are read in the
	// order they were published. Kafka also routes by key to a partition.
	Key string
	// Value is the payload, usually JSON.
	Value []byte
	// Headers carry metadata (content type, dead-letter reason, ...).
	Headers map[string]string
	// ID, when set, lets the engine drop a re-published duplicate: JetStream
	// keeps a duplicate window keyed by Nats-Msg-Id. Kafka's idempotent
	// producer only drops its own retries, so consumers must still be
	// idempotent (the processor runtime is).
	ID string

	// Partition and Offset are set on consumed messages. On JetStream there
	// is one partition (0) and Offset is the stream sequence, from 1; on
	// Kafka, Offset is the partition offset, from 0.
	Partition int32
	Offset    int64
	// Time is when the engine stored the message.
	Time time.Time
}

// Position returns where m sits on its topic.
func (m *Message) Position() Position {
	return Position{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset}
}

// Position is the place of one message on a topic.
type Position struct {
	Topic     string
	Partition int32
	Offset    int64
}

func (p Position) String() string {
	return p.Topic + "/" + strconv.Itoa(int(p.Partition)) + "@" + strconv.FormatInt(p.Offset, 10)
}

// Bus is a message bus engine.
//
// Topics are created on first use (publish or consume) with the engine's
// default retention; EnsureTopic sets partitions and retention explicitly.
type Bus interface {
	// EnsureTopic creates the topic if it does not exist and applies the
	// retention of cfg to it.
	EnsureTopic(ctx context.Context, cfg TopicConfig) error
	// Publish stores msgs and returns once the engine has acknowledged every
	// one of them. Messages are sent in order; per key, order is kept.
	Publish(ctx context.Context, msgs ...*Message) error
	// Consume opens a consumer on a topic.
	Consume(ctx context.Context, cfg ConsumerConfig) (Consumer, error)
	// Topics lists the topics with their sizes and offsets, sorted by name.
	Topics(ctx context.Context) ([]TopicInfo, error)
	// Groups lists the consumer groups reading topic with their committed
	// positions and lag, sorted by name.
	Groups(ctx context.Context, topic string) ([]GroupInfo, error)
	// DeleteTopic deletes a topic and its messages. Deleting a missing topic
	// returns an error wrapping ErrUnknownTopic.
	DeleteTopic(ctx context.Context, topic string) error
	// PurgeKeys removes from topic every message whose key is one of keys,
	// for erasure requests: JetStream deletes them from the stream (secure
	// delete: their bytes are overwritten); Kafka cannot delete a record,
	// so it publishes a tombstone (null value) per key, which removes the
	// older records of the key when the topic is compacted
	// (cleanup.policy=compact); on a topic that is not, they stay until
	// retention drops them, and Purged.Note says so. A missing topic gives
	// an error wrapping ErrUnknownTopic.
	PurgeKeys(ctx context.Context, topic string, keys ...string) (Purged, error)
	// Ping reports whether the engine reaches its servers now: nil, or
	// why not. It answers at once while the engine is reconnecting,
	// instead of waiting for the connection to come back (readiness
	// probes call it).
	Ping(ctx context.Context) error
	// Close releases the engine. Consumers must be closed first.
	Close() error
}

// Purged says what PurgeKeys did to a topic.
type Purged struct {
	// Removed is the number of messages deleted.
	Removed int64
	// Tombstones is the number of tombstones published (Kafka).
	Tombstones int64
	// CleanupPolicy is the topic's cleanup.policy where the engine writes
	// tombstones instead of deleting (Kafka), "" elsewhere.
	CleanupPolicy string
	// Compacted says the tombstones remove the records: cleanup.policy
	// includes compact.
	Compacted bool
	// Retention is how long the records stay on a topic that is not
	// compacted (retention.ms; 0 is forever).
	Retention time.Duration
	// Note says what stays and why, "" when nothing does.
	Note string
}

// ErrUnknownTopic is returned for operations on a topic that does not exist.
var ErrUnknownTopic = errors.New("unknown topic")

// ErrClosed is returned by operations on a closed bus or consumer.
var ErrClosed = errors.New("bus closed")

// TopicConfig describes a topic.
type TopicConfig struct {
	Name string
	// Partitions is the number of partitions (Kafka only; JetStream has one).
	// Zero means the engine's default. An existing topic's partitions are
	// never reduced.
	Partitions int
	// MaxAge drops messages older than this; zero keeps them forever.
	MaxAge time.Duration
	// MaxBytes drops the oldest messages once the topic holds more than this
	// (per partition on Kafka); zero means no limit.
	MaxBytes int64
}

// FormatAge writes a retention age as podium shows it: whole days as
// "7d", "forever" for zero (kept forever), else Go's duration.
func FormatAge(d time.Duration) string {
	if d == 0 {
		return "forever"
	}
	if d%(24*time.Hour) == 0 {
		return strconv.Itoa(int(d/(24*time.Hour))) + "d"
	}
	return d.String()
}

// Start says where a consumer starts when it has no position.
type Start int

const (
	// Earliest starts at the oldest message kept.
	Earliest Start = iota
	// Latest starts after the newest message: only new messages are read.
	Latest
)

// ConsumerConfig describes a consumer.
type ConsumerConfig struct {
	Topic string
	// Group names a consumer group whose position the engine keeps (Commit).
	// Empty reads the topic without a group and without keeping a position,
	// as `podium topics tail` does.
	Group string
	// Start applies to partitions with no resume offset and no committed
	// group position.
	Start Start
	// Resume, when set, is asked for the next offset to read on a partition
	// each time the consumer starts reading it (at open, and on Kafka after
	// each group rebalance). ok=false falls back to the group's committed
	// position, then to Start. The processor runtime answers from the
	// positions it committed in the store, which are authoritative.
	Resume func(ctx context.Context, partition int32) (next int64, ok bool, err error)
}

// Consumer reads one topic.
//
// A consumer may deliver a message again (after a restart, a rebalance or
// an engine redelivery); callers skip offsets they have already handled.
type Consumer interface {
	// Fetch waits until at least one message is available, then returns up
	// to max messages that are already at hand without waiting for more:
	// small batches when the topic is quiet, full ones under load. It
	// returns ctx.Err() when ctx ends first.
	Fetch(ctx context.Context, max int) ([]*Message, error)
	// Commit records in the group that every message up to and including
	// each given position has been handled. It is a no-op without a group.
	Commit(ctx context.Context, positions ...Position) error
	// Close stops the consumer. Uncommitted messages are delivered again to
	// the group's next consumer.
	Close() error
}

// TopicInfo describes a topic.
type TopicInfo struct {
	Name       string
	Partitions []PartitionInfo
	// Messages is the number of messages kept, over all partitions.
	Messages int64
	// Bytes is the storage used, where the engine reports it (else 0).
	Bytes    int64
	MaxAge   time.Duration
	MaxBytes int64
}

// PartitionInfo gives the offsets kept on one partition: messages from
// Start (inclusive) to End (exclusive) are kept; End is the offset the next
// published message will get.
type PartitionInfo struct {
	ID    int32
	Start int64
	End   int64
}

// GroupInfo describes a consumer group on a topic.
type GroupInfo struct {
	Group string
	Topic string
	// Next is the next offset to read per partition, as committed.
	Next map[int32]int64
	// Lag is the number of messages not yet committed, over all partitions.
	Lag int64
}

// LastPositions returns, for each partition msgs touch, the position of the
// last (highest-offset) message: what a consumer commits after handling
// msgs.
func LastPositions(msgs []*Message) []Position {
	last := map[int32]Position{}
	for _, m := range msgs {
		if p, ok := last[m.Partition]; !ok || m.Offset > p.Offset {
			last[m.Partition] = m.Position()
		}
	}
	out := make([]Position, 0, len(last))
	for _, p := range last {
		out = append(out, p)
	}
	return out
}
