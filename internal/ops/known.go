package ops

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/suggest"
)

// KnownTopics returns the topics podium knows, sorted: those on the bus and
// those the stages declare (what they read, their dead-letter topic, what
// they write); onBus tells which are on the bus.
func KnownTopics(ctx context.Context, b bus.Bus, specs []stream.Spec) (known []string, onBus map[string]bool, err error) {
	infos, err := b.Topics(ctx)
	if err != nil {
		return nil, nil, fmt.Errorf("list topics: %w", err)
	}
	onBus = make(map[string]bool, len(infos))
	for _, ti := range infos {
		onBus[ti.Name] = true
		known = append(known, ti.Name)
	}
	for _, sp := range specs {
		if sp.Topic != "" {
			known = append(known, sp.Topic, bus.DLQTopic(sp.Topic))
		}
		known = append(known, sp.Outputs...)
	}
	slices.Sort(known)
	return slices.Compact(known), onBus, nil
}

// CheckTopic returns whether topic is on the bus, and an error naming the
// known topics (with a "did you mean") when podium does not know it.
func CheckTopic(ctx context.Context, b bus.Bus, specs []stream.Spec, topic string) (exists bool, err error) {
	known, onBus, err := KnownTopics(ctx, b, specs)
	if err != nil {
		return false, err
	}
	if !slices.Contains(known, topic) {
		return false, &suggest.Error{Kind: "topic", Name: topic, Known: known, Hint: "podium topics list shows the topics on the bus"}
	}
	return onBus[topic], nil
}

// WaitTopic waits, without creating it, until topic is on the bus.
func WaitTopic(ctx context.Context, b bus.Bus, topic string, every time.Duration) error {
	for {
		infos, err := b.Topics(ctx)
		if err != nil {
			return fmt.Errorf("list topics: %w", err)
		}
		for _, ti := range infos {
			if ti.Name == topic {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(every):
		}
	}
}
