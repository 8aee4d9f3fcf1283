package kafka

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/podiumhq/podium/internal/bus"
)

// PurgeKeys implements bus.Bus: a Kafka record cannot be deleted one by
// one, so it publishes a tombstone (a null value) per key. On a compacted
// topic (cleanup.policy contains compact) the log cleaner then removes the
// key's older records, and the tombstone itself after delete.retention.ms;
// on any other topic the records stay until retention drops them, which
// Purged.Note says.
func (b *Bus) PurgeKeys(ctx context.Context, topic string, keys ...string) (bus.Purged, error) {
	var out bus.Purged
	if b.closed.Load() {
		return out, bus.ErrClosed
	}
	rcs, err := b.adm.DescribeTopicConfigs(ctx, topic)
	if err != nil {
		return out, fmt.Errorf("kafka: purge keys of %q: %w", topic, mapClosed(err))
	}
	rc, err := rcs.On(topic, nil)
	if err == nil {
		err = rc.Err
	}
	if errors.Is(err, kerr.UnknownTopicOrPartition) {
		return out, fmt.Errorf("kafka: purge keys of %q: %w", topic, bus.ErrUnknownTopic)
	}
	if err != nil {
		return out, fmt.Errorf("kafka: purge keys of %q: %w", topic, err)
	}
	policy, retention := "delete", ""
	for _, c := range rc.Configs {
		switch c.Key {
		case "cleanup.policy":
			policy = c.MaybeValue()
		case "retention.ms":
			retention = c.MaybeValue()
		}
	}
	if len(keys) == 0 {
		return out, nil
	}
	msgs := make([]*bus.Message, len(keys))
	for i, k := range keys {
		msgs[i] = &bus.Message{Topic: topic, Key: k} // nil Value: a tombstone
	}
	if err := b.Publish(ctx, msgs...); err != nil {
		return out, fmt.Errorf("kafka: purge keys of %q: %w", topic, err)
	}
	out.Tombstones = int64(len(keys))
	if !strings.Contains(policy, "compact") {
		out.Note = fmt.Sprintf("cleanup.policy=%s: the records stay until retention drops them (retention.ms=%s); make the topic compacted to have tombstones remove them", policy, retention)
	} else {
		out.Note = "tombstones remove the records at the next compaction"
	}
	return out, nil
}
