package kafka

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/podiumhq/podium/internal/bus"
)

// PurgeKeys implements bus.Bus: a Kafka record cannot be deleted one by
// one, so it publishes a tombstone (a null value) per key, routed like the
// key's records to their partition. It reads the topic's cleanup.policy
// (DescribeConfigs) and says what becomes of the records: on a compacted
// topic (the policy contains compact) the log cleaner removes the key's
// older records when it compacts their segments (the active one only once
// it rolls: segment.ms), and the tombstone itself after
// delete.retention.ms; on any other topic they stay until retention.ms
// drops them, and Purged.Note gives the retention and the command that
// makes the topic compacted.
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
	// Kafka's defaults, for a broker that leaves a config out.
	cfg := map[string]string{"cleanup.policy": "delete", "retention.ms": "604800000", "segment.ms": "604800000",
		"delete.retention.ms": "86400000"}
	for _, c := range rc.Configs {
		if _, ok := cfg[c.Key]; ok && c.Value != nil {
			cfg[c.Key] = *c.Value
		}
	}
	out.CleanupPolicy = cfg["cleanup.policy"]
	out.Compacted = strings.Contains(out.CleanupPolicy, "compact")
	out.Retention = msDuration(cfg["retention.ms"])
	if len(keys) > 0 {
		msgs := make([]*bus.Message, len(keys))
		for i, k := range keys {
			msgs[i] = &bus.Message{Topic: topic, Key: k} // nil Value: a tombstone
		}
		if err := b.Publish(ctx, msgs...); err != nil {
			return out, fmt.Errorf("kafka: purge keys of %q: %w", topic, err)
		}
		out.Tombstones = int64(len(keys))
	}
	if out.Compacted {
		out.Note = fmt.Sprintf("cleanup.policy=%s: the log cleaner removes the records at its next compaction of their segments "+
			"(the active segment rolls after segment.ms=%s, %s; max.compaction.lag.ms bounds the wait), the tombstones after delete.retention.ms=%s (%s)",
			out.CleanupPolicy, cfg["segment.ms"], bus.FormatAge(msDuration(cfg["segment.ms"])), cfg["delete.retention.ms"], bus.FormatAge(msDuration(cfg["delete.retention.ms"])))
		return out, nil
	}
	stay := "until retention drops them, after retention.ms=" + cfg["retention.ms"] + " (" + bus.FormatAge(out.Retention) + ")"
	if out.Retention == 0 {
		stay = "for ever (retention.ms=" + cfg["retention.ms"] + ")"
	}
	broker := "BROKER:9092"
	if len(b.cfg.Brokers) > 0 {
		broker = b.cfg.Brokers[0]
	}
	out.Note = fmt.Sprintf("cleanup.policy=%s: the records stay %s; to have the tombstones remove them, make the topic compacted "+
		"(kafka-configs.sh --bootstrap-server %s --alter --entity-type topics --entity-name %s --add-config 'cleanup.policy=[compact,delete]', "+
		"or rpk topic alter-config %s --set cleanup.policy=compact,delete) and erase again",
		out.CleanupPolicy, stay, broker, topic, topic)
	return out, nil
}

// msDuration reads a config in milliseconds as a retention: negative
// (-1) and unreadable are 0, forever (bus.TopicConfig's convention), and
// 0 ms is 1 ms.
func msDuration(v string) time.Duration {
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0
	}
	return max(time.Duration(n)*time.Millisecond, time.Millisecond)
}
