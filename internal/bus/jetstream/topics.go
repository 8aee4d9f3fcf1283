package jetstream

import (
	"context"
	"errors"
	"slices"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/podiumhq/podium/internal/bus"
)

// Metadata and descriptions name the topic of a stream and the group of a
// consumer (servers before 2.10 keep only the description).
const (
	metaTopic = "podium.topic"
	metaGroup = "podium.group"
	descTopic = "podium topic "
	descGroup = "podium group "
)

// JetStream limit values.
const (
	unlimited   = -1
	noRetention = 0
)

// streamConfig returns the configuration of the stream holding topic.
func (b *Bus) streamConfig(topic string, maxAge time.Duration, maxBytes int64) jetstream.StreamConfig {
	if maxBytes <= 0 {
		maxBytes = unlimited
	}
	if maxAge < 0 {
		maxAge = noRetention
	}
	return jetstream.StreamConfig{
		Name:        streamName(topic),
		Description: descTopic + topic,
		Subjects:    []string{topic},
		Retention:   jetstream.LimitsPolicy,
		Storage:     jetstream.FileStorage,
		Discard:     jetstream.DiscardOld,
		MaxAge:      maxAge,
		MaxBytes:    maxBytes,
		MaxMsgs:     unlimited,
		Duplicates:  b.duplicateWindow(maxAge),
		Replicas:    1,
		Metadata:    map[string]string{metaTopic: topic},
	}
}

// duplicateWindow returns the duplicate window of a stream keeping messages
// for maxAge: JetStream refuses a window longer than the retention.
func (b *Bus) duplicateWindow(maxAge time.Duration) time.Duration {
	if maxAge > 0 && b.cfg.DuplicateWindow > maxAge {
		return maxAge
	}
	return b.cfg.DuplicateWindow
}

// ensure makes sure the stream of topic exists, creating it with the
// default retention on first use.
func (b *Bus) ensure(ctx context.Context, topic string) error {
	b.mu.Lock()
	ok := b.known[topic]
	b.mu.Unlock()
	if ok {
		return nil
	}
	if err := validateTopic(topic); err != nil {
		return err
	}
	cfg := b.streamConfig(topic, b.cfg.DefaultMaxAge, b.cfg.DefaultMaxBytes)
	_, err := b.js.CreateStream(ctx, cfg)
	// Another creator may have won the race, or the topic exists with
	// another retention: either way it exists, and is left as it is.
	if err != nil && !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
		return b.wrap(err, "create stream %s for topic %q", cfg.Name, topic)
	}
	b.remember(topic, true)
	return nil
}

// remember records whether the stream of topic exists.
func (b *Bus) remember(topic string, exists bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if exists {
		b.known[topic] = true
	} else {
		delete(b.known, topic)
	}
}

// EnsureTopic creates the topic's stream if needed and applies the
// retention of cfg to it. Partitions is ignored: a stream has one.
func (b *Bus) EnsureTopic(ctx context.Context, cfg bus.TopicConfig) error {
	if err := b.check(); err != nil {
		return err
	}
	if err := validateTopic(cfg.Name); err != nil {
		return err
	}
	want := b.streamConfig(cfg.Name, cfg.MaxAge, cfg.MaxBytes)
	s, err := b.js.Stream(ctx, want.Name)
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		_, err = b.js.CreateStream(ctx, want)
		if err == nil {
			b.remember(cfg.Name, true)
			return nil
		}
		if !errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) {
			return b.wrap(err, "create stream %s for topic %q", want.Name, cfg.Name)
		}
		// Created meanwhile by someone else: update it below.
		s, err = b.js.Stream(ctx, want.Name)
	}
	if err != nil {
		return b.wrap(err, "look up stream %s of topic %q", want.Name, cfg.Name)
	}
	cur := s.CachedInfo().Config
	if cur.MaxAge == want.MaxAge && cur.MaxBytes == want.MaxBytes && cur.Duplicates == want.Duplicates {
		b.remember(cfg.Name, true)
		return nil
	}
	cur.MaxAge, cur.MaxBytes, cur.Duplicates = want.MaxAge, want.MaxBytes, want.Duplicates
	if _, err := b.js.UpdateStream(ctx, cur); err != nil {
		return b.wrap(err, "update retention of topic %q", cfg.Name)
	}
	b.remember(cfg.Name, true)
	return nil
}

// Topics lists the topics podium manages on the server, sorted by name.
func (b *Bus) Topics(ctx context.Context) ([]bus.TopicInfo, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	list := b.js.ListStreams(ctx)
	var infos []bus.TopicInfo
	for si := range list.Info() {
		topic, ok := topicOf(si)
		if !ok {
			continue
		}
		infos = append(infos, topicInfo(topic, si))
	}
	if err := list.Err(); err != nil {
		return nil, b.wrap(err, "list streams")
	}
	slices.SortFunc(infos, func(a, b bus.TopicInfo) int { return strings.Compare(a.Name, b.Name) })
	return infos, nil
}

// topicOf returns the topic a podium stream holds; ok is false for other
// streams.
func topicOf(si *jetstream.StreamInfo) (string, bool) {
	if !strings.HasPrefix(si.Config.Name, streamPrefix) {
		return "", false
	}
	if t := si.Config.Metadata[metaTopic]; t != "" {
		return t, true
	}
	// Servers before 2.10 drop metadata; the single subject is the topic.
	if len(si.Config.Subjects) == 1 && streamName(si.Config.Subjects[0]) == si.Config.Name {
		return si.Config.Subjects[0], true
	}
	return "", false
}

// topicInfo describes the stream si holding topic.
func topicInfo(topic string, si *jetstream.StreamInfo) bus.TopicInfo {
	st := si.State
	end := int64(st.LastSeq) + 1
	start := int64(st.FirstSeq)
	if st.Msgs == 0 || start > end {
		start = end
	}
	return bus.TopicInfo{
		Name:       topic,
		Partitions: []bus.PartitionInfo{{ID: 0, Start: start, End: end}},
		Messages:   int64(st.Msgs),
		Bytes:      int64(st.Bytes),
		MaxAge:     si.Config.MaxAge,
		MaxBytes:   max(si.Config.MaxBytes, 0),
	}
}

// DeleteTopic deletes the topic's stream, its messages and consumers.
func (b *Bus) DeleteTopic(ctx context.Context, topic string) error {
	if err := b.check(); err != nil {
		return err
	}
	if err := validateTopic(topic); err != nil {
		return err
	}
	b.remember(topic, false)
	err := b.js.DeleteStream(ctx, streamName(topic))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		return b.wrap(bus.ErrUnknownTopic, "delete topic %q", topic)
	}
	return b.wrap(err, "delete topic %q", topic)
}

// stream returns the stream of an existing topic, or an error wrapping
// bus.ErrUnknownTopic.
func (b *Bus) stream(ctx context.Context, topic string) (jetstream.Stream, error) {
	if err := validateTopic(topic); err != nil {
		return nil, err
	}
	s, err := b.js.Stream(ctx, streamName(topic))
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		b.remember(topic, false)
		return nil, b.wrap(bus.ErrUnknownTopic, "topic %q", topic)
	}
	if err != nil {
		return nil, b.wrap(err, "look up stream of topic %q", topic)
	}
	return s, nil
}
