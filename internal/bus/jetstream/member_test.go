package jetstream

import (
	"errors"
	"strings"
	"testing"

	"github.com/podiumhq/podium/internal/bus"
)

// TestSecondGroupMemberRefused: JetStream cannot share a group's topic
// among members, so a second member (another process's client here) is
// refused at once with a message naming the first and pointing to Kafka,
// and the first one goes on reading undisturbed; once it leaves, the
// group can be opened again.
func TestSecondGroupMemberRefused(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	other, err := Open(testCtx(t), Config{URL: b.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	const topic = "f1.results"
	publish := func(n int) {
		for range n {
			if err := b.Publish(testCtx(t), &bus.Message{Topic: topic, Key: "k", Value: []byte("v")}); err != nil {
				t.Fatal(err)
			}
		}
	}
	publish(5)
	first, err := b.Consume(testCtx(t), bus.ConsumerConfig{Topic: topic, Group: "f1-results"})
	if err != nil {
		t.Fatal(err)
	}
	got := fetchN(t, first, 3)
	for name, bb := range map[string]*Bus{"another process": other, "the same process": b} {
		c, err := bb.Consume(testCtx(t), bus.ConsumerConfig{Topic: topic, Group: "f1-results"})
		if err == nil {
			c.Close()
			t.Fatalf("a second member of the group, in %s, opened it", name)
		}
		if !errors.Is(err, ErrGroupTaken) || !strings.Contains(err.Error(), "pid") || !strings.Contains(err.Error(), "Kafka") {
			t.Errorf("a second member in %s: %v, want ErrGroupTaken naming the first member's pid and pointing to Kafka", name, err)
		}
	}
	// The first member was not rewound: it reads on from where it was.
	got = append(got, fetchN(t, first, 2)...)
	for i, m := range got {
		if m.Offset != int64(i+1) {
			t.Fatalf("the first member read offset %d as its message %d: disturbed by the second", m.Offset, i+1)
		}
	}
	// Another group reads the topic meanwhile.
	o, err := other.Consume(testCtx(t), bus.ConsumerConfig{Topic: topic, Group: "audit"})
	if err != nil {
		t.Fatalf("another group: %v", err)
	}
	o.Close()
	if err := first.Commit(testCtx(t), got[len(got)-1].Position()); err != nil {
		t.Fatal(err)
	}
	first.Close()
	next, err := other.Consume(testCtx(t), bus.ConsumerConfig{Topic: topic, Group: "f1-results"})
	if err != nil {
		t.Fatalf("the group after its member left: %v", err)
	}
	defer next.Close()
	publish(1)
	if m := fetchN(t, next, 1)[0]; m.Offset != 6 {
		t.Fatalf("the next member read offset %d, want 6", m.Offset)
	}
}
