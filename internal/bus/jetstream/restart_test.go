package jetstream

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
)

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func messages(topic string, n int) []*bus.Message {
	msgs := make([]*bus.Message, n)
	for i := range msgs {
		msgs[i] = &bus.Message{Topic: topic, Key: "k", Value: fmt.Appendf(nil, "m%d", i)}
	}
	return msgs
}

// fetchN reads exactly n messages from c.
func fetchN(t *testing.T, c bus.Consumer, n int) []*bus.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var got []*bus.Message
	for len(got) < n {
		batch, err := c.Fetch(ctx, n-len(got))
		if err != nil {
			t.Fatalf("fetch after %d of %d messages: %v", len(got), n, err)
		}
		got = append(got, batch...)
	}
	return got
}

func TestRestartKeepsMessagesAndPositions(t *testing.T) {
	dir := t.TempDir()
	const topic = "f1.results"
	b := openEmbedded(t, dir)
	if err := b.Publish(testCtx(t), messages(topic, 10)...); err != nil {
		t.Fatal(err)
	}
	c, err := b.Consume(testCtx(t), bus.ConsumerConfig{Topic: topic, Group: "scorer"})
	if err != nil {
		t.Fatal(err)
	}
	got := fetchN(t, c, 4)
	if err := c.Commit(testCtx(t), got[3].Position()); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	if _, err := b.Topics(testCtx(t)); !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("Topics after Close: %v, want ErrClosed", err)
	}
	if err := b.Publish(testCtx(t), messages(topic, 1)...); !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("Publish after Close: %v, want ErrClosed", err)
	}

	b = openEmbedded(t, dir)
	defer b.Close()
	infos, err := b.Topics(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].Name != topic || infos[0].Messages != 10 {
		t.Fatalf("topics after restart = %+v, want %s with 10 messages", infos, topic)
	}
	if p := infos[0].Partitions; len(p) != 1 || p[0].Start != 1 || p[0].End != 11 {
		t.Errorf("partitions after restart = %+v, want [1, 11)", p)
	}
	groups, err := b.Groups(testCtx(t), topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].Group != "scorer" || groups[0].Next[0] != 5 || groups[0].Lag != 6 {
		t.Errorf("groups after restart = %+v, want scorer at 5 with lag 6", groups)
	}
	c, err = b.Consume(testCtx(t), bus.ConsumerConfig{Topic: topic, Group: "scorer"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	rest := fetchN(t, c, 6)
	for i, m := range rest {
		if want := fmt.Sprintf("m%d", i+4); string(m.Value) != want || m.Offset != int64(i+5) {
			t.Errorf("message %d after restart = %s %q, want offset %d %q", i, m.Position(), m.Value, i+5, want)
		}
	}
}

func TestSecondClientThroughClientURL(t *testing.T) {
	a := openEmbedded(t, t.TempDir())
	defer a.Close()
	if err := a.Publish(testCtx(t), messages("sportsdata.public.sport_activities", 3)...); err != nil {
		t.Fatal(err)
	}
	b := openURL(t, a.ClientURL())
	defer b.Close()
	if b.ClientURL() != a.ClientURL() {
		t.Errorf("second client URL %q, want %q", b.ClientURL(), a.ClientURL())
	}
	infos, err := b.Topics(testCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(infos) != 1 || infos[0].Name != "sportsdata.public.sport_activities" || infos[0].Messages != 3 {
		t.Fatalf("topics seen by the second client = %+v", infos)
	}
	c, err := b.Consume(testCtx(t), bus.ConsumerConfig{Topic: "sportsdata.public.sport_activities"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	got := fetchN(t, c, 3)
	if string(got[2].Value) != "m2" || got[2].Key != "k" {
		t.Errorf("third message = %q key %q, want m2 key k", got[2].Value, got[2].Key)
	}
	// And the first client sees what the second publishes.
	if err := b.Publish(testCtx(t), &bus.Message{Topic: "f1.results", Key: "k", Value: []byte("x")}); err != nil {
		t.Fatal(err)
	}
	if infos, err = a.Topics(testCtx(t)); err != nil || len(infos) != 2 {
		t.Fatalf("topics seen by the first client = %+v, %v", infos, err)
	}
}
