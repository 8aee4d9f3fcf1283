package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
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

// TestGroupMembersStartingAtOnce: members starting at the same moment, in
// several processes (connections) and in one, never share a group: one
// opens it, every other is refused with ErrGroupTaken.
func TestGroupMembersStartingAtOnce(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	buses := []*Bus{b}
	for range 3 {
		o, err := Open(testCtx(t), Config{URL: b.ClientURL()})
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		buses = append(buses, o)
	}
	const topic = "activities"
	for round := range 10 {
		group := fmt.Sprintf("stage-%d", round)
		var (
			mu      sync.Mutex
			opened  []bus.Consumer
			refused int
			wg      sync.WaitGroup
		)
		start := make(chan struct{})
		for i := range 2 * len(buses) {
			wg.Go(func() {
				<-start
				c, err := buses[i%len(buses)].Consume(testCtx(t), bus.ConsumerConfig{Topic: topic, Group: group})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					opened = append(opened, c)
				case errors.Is(err, ErrGroupTaken):
					refused++
				default:
					t.Errorf("round %d: %v", round, err)
				}
			})
		}
		close(start)
		wg.Wait()
		if len(opened) != 1 || refused != 2*len(buses)-1 {
			t.Fatalf("round %d: %d members opened the group and %d were refused, want 1 and %d", round, len(opened), refused, 2*len(buses)-1)
		}
		opened[0].Close()
	}
}

// TestGroupOfAKilledMember: a member whose process died without leaving
// (its connection gone, its claim still recorded) does not hold the group:
// the next member takes it over at once.
func TestGroupOfAKilledMember(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	dead, err := Open(testCtx(t), Config{URL: b.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dead.Consume(testCtx(t), bus.ConsumerConfig{Topic: "f1.results", Group: "f1-results"}); err != nil {
		t.Fatal(err)
	}
	dead.nc.Close() // as kill -9 would: no consumer closed, the claim stays
	c, err := b.Consume(testCtx(t), bus.ConsumerConfig{Topic: "f1.results", Group: "f1-results"})
	if err != nil {
		t.Fatalf("the group of a killed member: %v", err)
	}
	defer c.Close()
	// The new member holds it now.
	other, err := Open(testCtx(t), Config{URL: b.ClientURL()})
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if c2, err := other.Consume(testCtx(t), bus.ConsumerConfig{Topic: "f1.results", Group: "f1-results"}); !errors.Is(err, ErrGroupTaken) {
		if err == nil {
			c2.Close()
		}
		t.Fatalf("a member after the take-over: %v, want ErrGroupTaken", err)
	}
}

// TestGroupWithoutDeadline: a stage consumes with a context that has no
// deadline (its run's); claiming the group must not need one.
func TestGroupWithoutDeadline(t *testing.T) {
	b := openEmbedded(t, t.TempDir())
	defer b.Close()
	c, err := b.Consume(context.Background(), bus.ConsumerConfig{Topic: "f1.results", Group: "f1-results"})
	if err != nil {
		t.Fatalf("a group opened with a context without a deadline: %v", err)
	}
	c.Close()
}
