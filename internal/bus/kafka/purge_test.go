package kafka

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kmsg"

	"github.com/podiumhq/podium/internal/bus"
)

// TestPurgeKeysPolicies purges two keys of three topics — compacted
// (cleanup.policy=compact,delete, created as an operator would), delete
// with a 7-day retention, delete kept forever: each erased key ends with a
// tombstone (a null value) on its records' partition, the other keys are
// untouched, and the result says per topic whether compaction removes the
// records or how long they stay, with the command that makes the topic
// compacted.
func TestPurgeKeysPolicies(t *testing.T) {
	c := newCluster(t)
	b := openBus(t, testGroupTimeouts(Config{Brokers: c.ListenAddrs()}))
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	compacted, week, forever := uniqueTopic("compacted"), uniqueTopic("week"), uniqueTopic("forever")
	resp, err := b.adm.CreateTopic(ctx, 3, 1, map[string]*string{"cleanup.policy": kmsg.StringPtr("compact,delete")}, compacted)
	if err != nil || resp.Err != nil {
		t.Fatalf("create a compacted topic: %v %v", err, resp.Err)
	}
	if err := b.EnsureTopic(ctx, bus.TopicConfig{Name: week, Partitions: 3, MaxAge: 7 * 24 * time.Hour}); err != nil {
		t.Fatal(err)
	}
	if err := b.EnsureTopic(ctx, bus.TopicConfig{Name: forever, Partitions: 3}); err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{compacted, week, forever} {
		var msgs []*bus.Message
		for i := range 12 {
			msgs = append(msgs, &bus.Message{Topic: topic, Key: fmt.Sprintf(`{"id":%d}`, i%4), Value: fmt.Appendf(nil, `{"n":%d}`, i)})
		}
		if err := b.Publish(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
	}

	purged := map[string]bus.Purged{}
	for _, topic := range []string{compacted, week, forever} {
		p, err := b.PurgeKeys(ctx, topic, `{"id":1}`, `{"id":3}`)
		if err != nil {
			t.Fatalf("purge %s: %v", topic, err)
		}
		purged[topic] = p

		// Read the topic back: per key, its partition and last record.
		cons, err := b.Consume(ctx, bus.ConsumerConfig{Topic: topic, Start: bus.Earliest})
		if err != nil {
			t.Fatal(err)
		}
		var got []*bus.Message
		for len(got) < 14 {
			ms, err := cons.Fetch(ctx, 100)
			if err != nil {
				t.Fatalf("read %s: %v (%d of 14 messages)", topic, err, len(got))
			}
			got = append(got, ms...)
		}
		_ = cons.Close()
		parts := map[string]map[int32]bool{}
		last := map[string]*bus.Message{}
		values := map[string]int{}
		for _, m := range got {
			if parts[m.Key] == nil {
				parts[m.Key] = map[int32]bool{}
			}
			parts[m.Key][m.Partition] = true
			last[m.Key] = m
			if m.Value != nil {
				values[m.Key]++
			}
		}
		for _, k := range []string{`{"id":1}`, `{"id":3}`} {
			if m := last[k]; m == nil || m.Value != nil || len(parts[k]) != 1 || values[k] != 3 {
				t.Errorf("%s key %s: last %+v, partitions %v, %d values; want 3 values then a tombstone on their partition", topic, k, m, parts[k], values[k])
			}
		}
		for _, k := range []string{`{"id":0}`, `{"id":2}`} {
			if m := last[k]; m == nil || m.Value == nil || values[k] != 3 {
				t.Errorf("%s key %s: %d values, last %+v; want its 3 untouched", topic, k, values[k], m)
			}
		}
	}

	if p := purged[compacted]; !p.Compacted || p.CleanupPolicy != "compact,delete" || p.Tombstones != 2 ||
		!strings.Contains(p.Note, "the log cleaner removes the records") || !strings.Contains(p.Note, "delete.retention.ms=") {
		t.Errorf("compacted topic: %+v", p)
	}
	p := purged[week]
	if p.Compacted || p.CleanupPolicy != "delete" || p.Retention != 7*24*time.Hour || p.Tombstones != 2 {
		t.Errorf("7-day topic: %+v", p)
	}
	for _, want := range []string{"retention.ms=604800000 (7d)", "--bootstrap-server " + c.ListenAddrs()[0],
		"--entity-name " + week + " --add-config 'cleanup.policy=[compact,delete]'", "rpk topic alter-config " + week} {
		if !strings.Contains(p.Note, want) {
			t.Errorf("7-day topic's note %q does not say %q", p.Note, want)
		}
	}
	if p := purged[forever]; p.Compacted || p.Retention != 0 || !strings.Contains(p.Note, "stay for ever (retention.ms=-1)") {
		t.Errorf("topic kept forever: %+v", p)
	}
	if _, err := b.PurgeKeys(ctx, uniqueTopic("missing"), "k"); !errors.Is(err, bus.ErrUnknownTopic) {
		t.Errorf("purge of a missing topic: %v", err)
	}
}
