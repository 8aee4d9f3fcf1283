// Package bustest is the conformance suite every bus engine passes: the same
// tests, run against embedded JetStream, an external NATS server and Kafka.
package bustest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
)

// Options describes what an engine offers beyond the common contract.
type Options struct {
	// DedupByID is true when publishing two messages with the same ID
	// stores one (JetStream's Nats-Msg-Id).
	DedupByID bool
	// Partitions is the number of partitions a new topic gets (1 for
	// JetStream).
	Partitions int
}

// Run runs the suite. open returns a bus for one test; the suite closes it.
// Topic names are unique per test and deleted afterwards, so engines backed
// by a shared server can run the suite in parallel with other packages.
func Run(t *testing.T, open func(t *testing.T) bus.Bus, opts Options) {
	tests := []struct {
		name string
		fn   func(t *testing.T, b bus.Bus, opts Options)
	}{
		{"PublishConsume", testPublishConsume},
		{"OrderPerKey", testOrderPerKey},
		{"GroupResume", testGroupResume},
		{"ResumeOverridesGroup", testResumeOverridesGroup},
		{"StartLatest", testStartLatest},
		{"BatchesAdapt", testBatchesAdapt},
		{"FetchWaitsForMessage", testFetchWaitsForMessage},
		{"IndependentGroups", testIndependentGroups},
		{"ConcurrentPublish", testConcurrentPublish},
		{"DedupByID", testDedupByID},
		{"TopicsAndRetention", testTopicsAndRetention},
		{"GroupsLag", testGroupsLag},
		{"DeleteTopic", testDeleteTopic},
		{"PurgeKeys", testPurgeKeys},
		{"DeadLetter", testDeadLetter},
		{"Ping", testPing},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := open(t)
			t.Cleanup(func() {
				// A test may have closed it already (Kafka then says so).
				if err := b.Close(); err != nil && !errors.Is(err, bus.ErrClosed) {
					t.Errorf("close bus: %v", err)
				}
			})
			tc.fn(t, b, opts)
		})
	}
}

// Topic returns a topic name unique to this test run, and deletes the topic
// (and its dead-letter topic) when the test ends.
func Topic(t *testing.T, b bus.Bus, name string) string {
	t.Helper()
	var r [4]byte
	_, _ = rand.Read(r[:])
	topic := "test." + hex.EncodeToString(r[:]) + "." + name
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		for _, tp := range []string{topic, bus.DLQTopic(topic)} {
			if err := b.DeleteTopic(ctx, tp); err != nil && !errors.Is(err, bus.ErrUnknownTopic) && !errors.Is(err, bus.ErrClosed) {
				t.Logf("delete topic %s: %v", tp, err)
			}
		}
	})
	return topic
}

func ctxT(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func publishN(t *testing.T, b bus.Bus, topic string, n int, key func(i int) string) []*bus.Message {
	t.Helper()
	msgs := make([]*bus.Message, n)
	for i := range msgs {
		msgs[i] = &bus.Message{
			Topic:   topic,
			Key:     key(i),
			Value:   fmt.Appendf(nil, `{"i":%d}`, i),
			Headers: map[string]string{"i": fmt.Sprint(i), "content-type": "application/json"},
		}
	}
	if err := b.Publish(ctxT(t), msgs...); err != nil {
		t.Fatalf("publish %d messages to %s: %v", n, topic, err)
	}
	return msgs
}

func open(t *testing.T, b bus.Bus, cfg bus.ConsumerConfig) bus.Consumer {
	t.Helper()
	c, err := b.Consume(ctxT(t), cfg)
	if err != nil {
		t.Fatalf("consume %+v: %v", cfg, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// readN fetches until n messages arrived, failing after a timeout.
func readN(t *testing.T, c bus.Consumer, n, max int) []*bus.Message {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var got []*bus.Message
	for len(got) < n {
		// Never ask for more than n: the caller commits what it read.
		batch, err := c.Fetch(ctx, min(max, n-len(got)))
		if err != nil {
			t.Fatalf("fetch after %d of %d messages: %v", len(got), n, err)
		}
		if len(batch) == 0 || len(batch) > min(max, n-len(got)) {
			t.Fatalf("fetch returned %d messages, want 1..%d", len(batch), min(max, n-len(got)))
		}
		got = append(got, batch...)
	}
	return got
}

// expectNone checks that no message arrives within d.
func expectNone(t *testing.T, c bus.Consumer, d time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	batch, err := c.Fetch(ctx, 10)
	if err == nil {
		t.Fatalf("expected no message, got %d (first %s %q)", len(batch), batch[0].Position(), batch[0].Value)
	}
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("fetch on idle topic: got %v, want context.DeadlineExceeded", err)
	}
}

func values(msgs []*bus.Message) map[string]bool {
	m := make(map[string]bool, len(msgs))
	for _, msg := range msgs {
		m[string(msg.Value)] = true
	}
	return m
}

func testPublishConsume(t *testing.T, b bus.Bus, _ Options) {
	topic := Topic(t, b, "basic")
	sent := publishN(t, b, topic, 20, func(i int) string { return fmt.Sprintf("k%d", i%3) })
	c := open(t, b, bus.ConsumerConfig{Topic: topic, Group: "g"})
	got := readN(t, c, len(sent), 100)
	if len(got) != len(sent) {
		t.Fatalf("got %d messages, want %d", len(got), len(sent))
	}
	last := map[int32]int64{}
	byValue := map[string]*bus.Message{}
	for _, m := range got {
		if m.Topic != topic {
			t.Errorf("message topic %q, want %q", m.Topic, topic)
		}
		if prev, ok := last[m.Partition]; ok && m.Offset <= prev {
			t.Errorf("partition %d: offset %d after %d", m.Partition, m.Offset, prev)
		}
		last[m.Partition] = m.Offset
		if m.Time.IsZero() || time.Since(m.Time) > time.Hour {
			t.Errorf("message %s: time %v not set to the store time", m.Position(), m.Time)
		}
		byValue[string(m.Value)] = m
	}
	for i, s := range sent {
		m := byValue[string(s.Value)]
		if m == nil {
			t.Fatalf("message %d (%s) not received", i, s.Value)
		}
		if m.Key != s.Key {
			t.Errorf("message %d: key %q, want %q", i, m.Key, s.Key)
		}
		if m.Headers["i"] != fmt.Sprint(i) || m.Headers["content-type"] != "application/json" {
			t.Errorf("message %d: headers %v, want i=%d and content-type", i, m.Headers, i)
		}
	}
	expectNone(t, c, 300*time.Millisecond)
}

func testOrderPerKey(t *testing.T, b bus.Bus, _ Options) {
	topic := Topic(t, b, "order")
	const n = 600
	keys := []string{"alpha", "beta", "gamma", "delta", "epsilon"}
	// Publish in several calls so that ordering holds across them too.
	var sent []*bus.Message
	for part := 0; part < 3; part++ {
		sent = append(sent, publishN(t, b, topic, n/3, func(i int) string { return keys[(i+part)%len(keys)] })...)
	}
	c := open(t, b, bus.ConsumerConfig{Topic: topic, Group: "g"})
	got := readN(t, c, n, 64)
	want := map[string][]string{}
	for _, m := range sent {
		want[m.Key] = append(want[m.Key], string(m.Value))
	}
	have := map[string][]string{}
	for _, m := range got {
		have[m.Key] = append(have[m.Key], string(m.Value))
	}
	for _, k := range keys {
		if strings.Join(have[k], ",") != strings.Join(want[k], ",") {
			t.Errorf("key %s: order\n got %v\nwant %v", k, have[k], want[k])
		}
	}
}

func testGroupResume(t *testing.T, b bus.Bus, _ Options) {
	topic := Topic(t, b, "resume")
	sent := publishN(t, b, topic, 30, func(i int) string { return "same-key" })
	c := open(t, b, bus.ConsumerConfig{Topic: topic, Group: "g"})
	first := readN(t, c, 10, 10)
	// Commit only the first 10; everything after must come again.
	if err := c.Commit(ctxT(t), bus.LastPositions(first)...); err != nil {
		t.Fatalf("commit: %v", err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("close consumer: %v", err)
	}
	c2 := open(t, b, bus.ConsumerConfig{Topic: topic, Group: "g"})
	rest := readN(t, c2, 20, 100)
	seen := values(first)
	for _, m := range rest {
		if seen[string(m.Value)] {
			t.Errorf("committed message %s delivered again", m.Value)
		}
	}
	all := values(append(first, rest...))
	for _, s := range sent {
		if !all[string(s.Value)] {
			t.Errorf("message %s lost across the restart", s.Value)
		}
	}
}

func testResumeOverridesGroup(t *testing.T, b bus.Bus, _ Options) {
	topic := Topic(t, b, "override")
	// One key, so every message is on one partition.
	publishN(t, b, topic, 10, func(i int) string { return "k" })
	c := open(t, b, bus.ConsumerConfig{Topic: topic, Group: "g"})
	all := readN(t, c, 10, 100)
	if err := c.Commit(ctxT(t), bus.LastPositions(all)...); err != nil {
		t.Fatalf("commit: %v", err)
	}
	_ = c.Close()
	// The group has everything committed; Resume asks for the 4th message on.
	from := all[3]
	var asked []int32
	var mu sync.Mutex
	c2 := open(t, b, bus.ConsumerConfig{Topic: topic, Group: "g", Resume: func(_ context.Context, p int32) (int64, bool, error) {
		mu.Lock()
		asked = append(asked, p)
		mu.Unlock()
		if p == from.Partition {
			return from.Offset, true, nil
		}
		return 0, false, nil
	}})
	got := readN(t, c2, 7, 100)
	if got[0].Offset != from.Offset || string(got[0].Value) != string(from.Value) {
		t.Fatalf("first message after Resume(%d) = %s %q, want %s %q", from.Offset, got[0].Position(), got[0].Value, from.Position(), from.Value)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(asked) == 0 {
		t.Fatalf("Resume was never called")
	}
}

func testStartLatest(t *testing.T, b bus.Bus, _ Options) {
	topic := Topic(t, b, "latest")
	publishN(t, b, topic, 5, func(i int) string { return "old" })
	c := open(t, b, bus.ConsumerConfig{Topic: topic, Start: bus.Latest})
	// Give a consumer without a group time to settle at the end.
	expectNone(t, c, 300*time.Millisecond)
	msg := &bus.Message{Topic: topic, Key: "new", Value: []byte("fresh")}
	if err := b.Publish(ctxT(t), msg); err != nil {
		t.Fatal(err)
	}
	got := readN(t, c, 1, 10)
	if string(got[0].Value) != "fresh" {
		t.Fatalf("Start=Latest read %q, want only the new message", got[0].Value)
	}
	// Earliest without a group reads from the start.
	c2 := open(t, b, bus.ConsumerConfig{Topic: topic, Start: bus.Earliest})
	if got := readN(t, c2, 6, 100); len(got) != 6 {
		t.Fatalf("Start=Earliest read %d messages, want 6", len(got))
	}
}

func testBatchesAdapt(t *testing.T, b bus.Bus, _ Options) {
	topic := Topic(t, b, "batch")
	publishN(t, b, topic, 2000, func(i int) string { return fmt.Sprint(i % 7) })
	c := open(t, b, bus.ConsumerConfig{Topic: topic, Group: "g"})
	ctx := ctxT(t)
	total, fetches, biggest := 0, 0, 0
	for total < 2000 {
		batch, err := c.Fetch(ctx, 500)
		if err != nil {
			t.Fatalf("fetch: %v", err)
		}
		if len(batch) > 500 {
			t.Fatalf("fetch returned %d messages, max 500", len(batch))
		}
		total += len(batch)
		fetches++
		biggest = max(biggest, len(batch))
	}
	// Under load a fetch returns many messages at once.
	if biggest < 50 {
		t.Errorf("largest batch %d of 2000 messages in %d fetches: batches do not grow under load", biggest, fetches)
	}
}

func testFetchWaitsForMessage(t *testing.T, b bus.Bus, _ Options) {
	topic := Topic(t, b, "wait")
	publishN(t, b, topic, 1, func(int) string { return "k" })
	c := open(t, b, bus.ConsumerConfig{Topic: topic, Group: "g"})
	readN(t, c, 1, 10)
	expectNone(t, c, 200*time.Millisecond)
	// An idle fetch returns as soon as one message arrives: low latency.
	go func() {
		time.Sleep(100 * time.Millisecond)
		_ = b.Publish(context.Background(), &bus.Message{Topic: topic, Key: "k", Value: []byte("late")})
	}()
	start := time.Now()
	got := readN(t, c, 1, 100)
	if string(got[0].Value) != "late" {
		t.Fatalf("got %q, want late", got[0].Value)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("fetch took %v to return a single waiting message", d)
	}
}

func testIndependentGroups(t *testing.T, b bus.Bus, _ Options) {
	topic := Topic(t, b, "groups")
	publishN(t, b, topic, 10, func(i int) string { return fmt.Sprint(i) })
	a := open(t, b, bus.ConsumerConfig{Topic: topic, Group: "a"})
	got := readN(t, a, 10, 100)
	if err := a.Commit(ctxT(t), bus.LastPositions(got)...); err != nil {
		t.Fatal(err)
	}
	bb := open(t, b, bus.ConsumerConfig{Topic: topic, Group: "b"})
	if got := readN(t, bb, 10, 100); len(got) != 10 {
		t.Fatalf("group b read %d, want all 10 regardless of group a", len(got))
	}
}

func testConcurrentPublish(t *testing.T, b bus.Bus, _ Options) {
	topic := Topic(t, b, "concurrent")
	const writers, each = 8, 50
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				m := &bus.Message{Topic: topic, Key: fmt.Sprint(w), Value: fmt.Appendf(nil, "%d-%d", w, i)}
				if err := b.Publish(context.Background(), m); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatalf("concurrent publish: %v", err)
	}
	c := open(t, b, bus.ConsumerConfig{Topic: topic, Group: "g"})
	got := readN(t, c, writers*each, 1000)
	next := map[string]int{}
	for _, m := range got {
		var w, i int
		if _, err := fmt.Sscanf(string(m.Value), "%d-%d", &w, &i); err != nil {
			t.Fatal(err)
		}
		if i != next[m.Key] {
			t.Fatalf("writer %d: message %d arrived when %d was expected", w, i, next[m.Key])
		}
		next[m.Key]++
	}
}

func testDedupByID(t *testing.T, b bus.Bus, opts Options) {
	if !opts.DedupByID {
		t.Skip("engine does not de-duplicate by message ID")
	}
	topic := Topic(t, b, "dedup")
	m := func(v string) *bus.Message {
		return &bus.Message{Topic: topic, Key: "k", Value: []byte(v), ID: "result-2023-1-race-1"}
	}
	if err := b.Publish(ctxT(t), m("first")); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctxT(t), m("second")); err != nil {
		t.Fatal(err)
	}
	if err := b.Publish(ctxT(t), &bus.Message{Topic: topic, Key: "k", Value: []byte("other"), ID: "other"}); err != nil {
		t.Fatal(err)
	}
	c := open(t, b, bus.ConsumerConfig{Topic: topic, Group: "g"})
	got := readN(t, c, 2, 10)
	if string(got[0].Value) != "first" || string(got[1].Value) != "other" {
		t.Fatalf("got %q, %q; want first, other (the duplicate dropped)", got[0].Value, got[1].Value)
	}
	expectNone(t, c, 300*time.Millisecond)
}

func testTopicsAndRetention(t *testing.T, b bus.Bus, opts Options) {
	ctx := ctxT(t)
	topic := Topic(t, b, "retention")
	cfg := bus.TopicConfig{Name: topic, MaxAge: 48 * time.Hour, MaxBytes: 64 << 20}
	if err := b.EnsureTopic(ctx, cfg); err != nil {
		t.Fatalf("ensure topic: %v", err)
	}
	if err := b.EnsureTopic(ctx, cfg); err != nil {
		t.Fatalf("ensure topic a second time: %v", err)
	}
	publishN(t, b, topic, 12, func(i int) string { return fmt.Sprint(i) })
	auto := Topic(t, b, "auto")
	publishN(t, b, auto, 3, func(int) string { return "k" })

	infos, err := b.Topics(ctx)
	if err != nil {
		t.Fatalf("topics: %v", err)
	}
	find := func(name string) *bus.TopicInfo {
		for i := range infos {
			if infos[i].Name == name {
				return &infos[i]
			}
		}
		t.Fatalf("topic %s not listed among %d topics", name, len(infos))
		return nil
	}
	for i := 1; i < len(infos); i++ {
		if infos[i-1].Name >= infos[i].Name {
			t.Errorf("topics not sorted: %s before %s", infos[i-1].Name, infos[i].Name)
		}
	}
	ti := find(topic)
	if ti.Messages != 12 {
		t.Errorf("topic messages = %d, want 12", ti.Messages)
	}
	if ti.MaxAge != cfg.MaxAge || ti.MaxBytes != cfg.MaxBytes {
		t.Errorf("retention = %v/%d bytes, want %v/%d", ti.MaxAge, ti.MaxBytes, cfg.MaxAge, cfg.MaxBytes)
	}
	if opts.Partitions > 0 && len(ti.Partitions) != opts.Partitions {
		t.Errorf("partitions = %d, want %d", len(ti.Partitions), opts.Partitions)
	}
	var kept int64
	for _, p := range ti.Partitions {
		kept += p.End - p.Start
	}
	if kept != 12 {
		t.Errorf("partition offsets cover %d messages, want 12: %+v", kept, ti.Partitions)
	}
	if find(auto).Messages != 3 {
		t.Errorf("auto-created topic messages = %d, want 3", find(auto).Messages)
	}
	// Retention can change on an existing topic.
	cfg.MaxAge = time.Hour
	if err := b.EnsureTopic(ctx, cfg); err != nil {
		t.Fatalf("update retention: %v", err)
	}
	if infos, err = b.Topics(ctx); err != nil {
		t.Fatal(err)
	}
	if got := find(topic).MaxAge; got != time.Hour {
		t.Errorf("MaxAge after update = %v, want 1h", got)
	}
}

func testGroupsLag(t *testing.T, b bus.Bus, _ Options) {
	ctx := ctxT(t)
	topic := Topic(t, b, "lag")
	publishN(t, b, topic, 10, func(int) string { return "k" })
	c := open(t, b, bus.ConsumerConfig{Topic: topic, Group: "workers"})
	got := readN(t, c, 10, 100)
	if err := c.Commit(ctx, got[3].Position()); err != nil {
		t.Fatal(err)
	}
	var groups []bus.GroupInfo
	deadline := time.Now().Add(10 * time.Second)
	for {
		var err error
		if groups, err = b.Groups(ctx, topic); err != nil {
			t.Fatalf("groups: %v", err)
		}
		if len(groups) == 1 && groups[0].Lag == 6 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(groups) != 1 || groups[0].Group != "workers" {
		t.Fatalf("groups = %+v, want one group named workers", groups)
	}
	if groups[0].Lag != 6 {
		t.Errorf("lag = %d after committing 4 of 10, want 6", groups[0].Lag)
	}
	if next := groups[0].Next[got[3].Partition]; next != got[3].Offset+1 {
		t.Errorf("next offset = %d, want %d", next, got[3].Offset+1)
	}
}

func testDeleteTopic(t *testing.T, b bus.Bus, _ Options) {
	ctx := ctxT(t)
	topic := Topic(t, b, "delete")
	publishN(t, b, topic, 2, func(int) string { return "k" })
	if err := b.DeleteTopic(ctx, topic); err != nil {
		t.Fatalf("delete: %v", err)
	}
	infos, err := b.Topics(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, ti := range infos {
		if ti.Name == topic {
			t.Fatalf("deleted topic still listed")
		}
	}
	if err := b.DeleteTopic(ctx, topic); !errors.Is(err, bus.ErrUnknownTopic) {
		t.Fatalf("deleting a missing topic: %v, want ErrUnknownTopic", err)
	}
}

// testPurgeKeys purges two keys of a topic: reading it again from the
// start, their values are gone (deleted, or followed by a tombstone on an
// engine that cannot delete a record, which says what stays), the other
// keys' messages are all there.
func testPurgeKeys(t *testing.T, b bus.Bus, _ Options) {
	ctx := ctxT(t)
	topic := Topic(t, b, "purge")
	key := func(i int) string { return fmt.Sprintf("k%d", i%4) }
	publishN(t, b, topic, 12, key)
	p, err := b.PurgeKeys(ctx, topic, "k1", "k3", "absent")
	if err != nil {
		t.Fatalf("purge: %v", err)
	}
	if p.Removed != 6 && (p.Tombstones != 3 || p.Note == "") {
		t.Fatalf("purge: %+v, want 6 removed, or 3 tombstones and a note", p)
	}
	want := 6 + int(p.Tombstones) + (6 - int(p.Removed))
	got := readN(t, open(t, b, bus.ConsumerConfig{Topic: topic, Start: bus.Earliest}), want, 100)
	last := map[string]*bus.Message{}
	kept := 0
	for _, m := range got {
		last[m.Key] = m
		if m.Key == "k0" || m.Key == "k2" {
			kept++
		}
	}
	if kept != 6 {
		t.Errorf("%d messages of the other keys, want 6", kept)
	}
	for _, k := range []string{"k1", "k3"} {
		if m, ok := last[k]; ok && m.Value != nil {
			t.Errorf("key %s: last message %q at %s, want none or a tombstone", k, m.Value, m.Position())
		}
	}
	if _, err := b.PurgeKeys(ctx, topic+"-missing", "k1"); !errors.Is(err, bus.ErrUnknownTopic) {
		t.Errorf("purge of a missing topic: %v, want ErrUnknownTopic", err)
	}
}

func testDeadLetter(t *testing.T, b bus.Bus, opts Options) {
	ctx := ctxT(t)
	topic := Topic(t, b, "src")
	publishN(t, b, topic, 3, func(int) string { return "k" })
	c := open(t, b, bus.ConsumerConfig{Topic: topic, Group: "g"})
	got := readN(t, c, 3, 10)
	bad := got[1]
	dl := bus.DeadLetter(bad, "scorer", "decode: unexpected end of JSON input")
	if err := b.Publish(ctx, dl); err != nil {
		t.Fatalf("publish dead letter: %v", err)
	}
	if opts.DedupByID {
		// A crash and retry sends the same dead letter again.
		if err := b.Publish(ctx, bus.DeadLetter(bad, "scorer", "decode: unexpected end of JSON input")); err != nil {
			t.Fatal(err)
		}
	}
	d := open(t, b, bus.ConsumerConfig{Topic: bus.DLQTopic(topic)})
	dead := readN(t, d, 1, 10)[0]
	if dead.Headers[bus.HeaderDLQReason] != "decode: unexpected end of JSON input" ||
		dead.Headers[bus.HeaderDLQTopic] != topic ||
		dead.Headers[bus.HeaderDLQOffset] != fmt.Sprint(bad.Offset) ||
		dead.Headers[bus.HeaderDLQPartition] != fmt.Sprint(bad.Partition) ||
		dead.Headers[bus.HeaderDLQProcessor] != "scorer" {
		t.Errorf("dead letter headers = %v", dead.Headers)
	}
	if string(dead.Value) != string(bad.Value) || dead.Key != bad.Key || dead.Headers["i"] != bad.Headers["i"] {
		t.Errorf("dead letter lost the original message: %q %q", dead.Key, dead.Value)
	}
	if opts.DedupByID {
		expectNone(t, d, 300*time.Millisecond)
	}
	back, ok := bus.Redrive(dead)
	if !ok || back.Topic != topic || string(back.Value) != string(bad.Value) || back.Headers[bus.HeaderDLQReason] != "" || back.Headers["i"] != bad.Headers["i"] {
		t.Fatalf("redrive = %+v, %v", back, ok)
	}
}

// testPing: an open bus answers Ping; a closed one says it is closed.
func testPing(t *testing.T, b bus.Bus, _ Options) {
	if err := b.Ping(ctxT(t)); err != nil {
		t.Fatalf("Ping on an open bus: %v", err)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if err := b.Ping(ctxT(t)); !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("Ping after Close: %v, want ErrClosed", err)
	}
}
