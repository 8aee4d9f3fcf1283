package jetstream

import (
	"context"
	"slices"
	"strings"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/podiumhq/podium/internal/bus"
)

// Groups lists the groups reading topic: its durable consumers, with the
// next offset after their ack floor and the messages not yet committed.
func (b *Bus) Groups(ctx context.Context, topic string) ([]bus.GroupInfo, error) {
	if err := b.check(); err != nil {
		return nil, err
	}
	s, err := b.stream(ctx, topic)
	if err != nil {
		return nil, err
	}
	list := s.ListConsumers(ctx)
	var groups []bus.GroupInfo
	for ci := range list.Info() {
		if ci.Config.Durable == "" {
			continue // a reader without a group
		}
		groups = append(groups, bus.GroupInfo{
			Group: groupOf(ci),
			Topic: topic,
			Next:  map[int32]int64{0: int64(ci.AckFloor.Stream) + 1},
			// Not yet delivered, plus delivered and not acknowledged.
			Lag: int64(ci.NumPending) + int64(ci.NumAckPending),
		})
	}
	if err := list.Err(); err != nil {
		return nil, b.wrap(err, "list groups of topic %q", topic)
	}
	slices.SortFunc(groups, func(a, b bus.GroupInfo) int { return strings.Compare(a.Group, b.Group) })
	return groups, nil
}

// groupOf returns the group name of a durable consumer.
func groupOf(ci *jetstream.ConsumerInfo) string {
	if g := ci.Config.Metadata[metaGroup]; g != "" {
		return g
	}
	// Servers before 2.10 drop metadata; the description keeps the name.
	if g, ok := strings.CutPrefix(ci.Config.Description, descGroup); ok && consumerName(g) == ci.Name {
		return g
	}
	return ci.Name
}
