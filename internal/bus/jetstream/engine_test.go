package jetstream

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/bus/bustest"
)

// TestConformanceEmbeddedWithoutReset runs the suite with the consumer
// reset API turned off, as on servers before 2.14: groups are moved by
// deleting and creating their consumer.
func TestConformanceEmbeddedWithoutReset(t *testing.T) {
	bustest.Run(t, func(t *testing.T) bus.Bus {
		b := openEmbedded(t, t.TempDir())
		b.canReset = false
		return b
	}, suiteOptions)
}

func TestHeadersKeyAndID(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	const topic = "f1.results"
	in := &bus.Message{Topic: topic, Key: "race-1", Value: []byte(`{}`), ID: "result-1",
		Headers: map[string]string{"content-type": "application/json", "Podium-Trace": "abc"}}
	if err := b.Publish(testCtx(t), in); err != nil {
		t.Fatal(err)
	}
	c, err := b.Consume(testCtx(t), bus.ConsumerConfig{Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	m := fetchN(t, c, 1)[0]
	if m.Key != "race-1" || m.ID != "result-1" || m.Partition != 0 || m.Offset != 1 {
		t.Errorf("got key %q id %q at %s, want race-1, result-1 at 0@1", m.Key, m.ID, m.Position())
	}
	if len(m.Headers) != 2 || m.Headers["content-type"] != "application/json" || m.Headers["Podium-Trace"] != "abc" {
		t.Errorf("headers = %v, want exactly content-type and Podium-Trace", m.Headers)
	}
	// Committing without a group is a no-op.
	if err := c.Commit(testCtx(t), m.Position()); err != nil {
		t.Errorf("commit without a group: %v", err)
	}
}

func TestCommitChecksPosition(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	c, err := b.Consume(testCtx(t), bus.ConsumerConfig{Topic: "f1.results", Group: "g"})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Commit(testCtx(t), bus.Position{Topic: "other", Offset: 3}); err == nil {
		t.Errorf("commit of another topic's position succeeded")
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Fetch(testCtx(t), 10); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("fetch after close: %v, want ErrClosed", err)
	}
	if err := c.Commit(testCtx(t), bus.Position{Topic: "f1.results", Offset: 1}); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("commit after close: %v, want ErrClosed", err)
	}
}

func TestShortRetentionCapsDuplicateWindow(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	// The duplicate window (2m) may not exceed the retention.
	cfg := bus.TopicConfig{Name: "live.timing", MaxAge: 30 * time.Second}
	if err := b.EnsureTopic(testCtx(t), cfg); err != nil {
		t.Fatal(err)
	}
	cfg.MaxAge = 0
	if err := b.EnsureTopic(testCtx(t), cfg); err != nil {
		t.Fatalf("back to no retention: %v", err)
	}
	infos, err := b.Topics(testCtx(t))
	if err != nil || len(infos) != 1 || infos[0].MaxAge != 0 || infos[0].MaxBytes != 0 {
		t.Fatalf("topics = %+v, %v; want live.timing without limits", infos, err)
	}
}

func TestGroupsOfUnknownTopic(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	if _, err := b.Groups(testCtx(t), "no.such.topic"); !errors.Is(err, bus.ErrUnknownTopic) {
		t.Errorf("groups of a missing topic: %v, want ErrUnknownTopic", err)
	}
}

func TestFetchFailsWhenTopicDeleted(t *testing.T) {
	for _, group := range []string{"g", ""} {
		t.Run("group="+group, func(t *testing.T) {
			b := openEmbedded(t, t.TempDir())
			defer b.Close()
			c, err := b.Consume(testCtx(t), bus.ConsumerConfig{Topic: "f1.results", Group: group})
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if err := b.DeleteTopic(testCtx(t), "f1.results"); err != nil {
				t.Fatal(err)
			}
			// Missed heartbeats (2 x 5s) reveal the deletion when the
			// server does not report it.
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			if _, err := c.Fetch(ctx, 10); err == nil || errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("fetch on a deleted topic: %v, want the consumer's end", err)
			}
		})
	}
}

func TestOpenNeedsStoreDir(t *testing.T) {
	if _, err := Open(context.Background(), Config{}); err == nil {
		t.Fatal("Open without URL or StoreDir succeeded")
	}
}
