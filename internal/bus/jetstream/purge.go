package jetstream

import (
	"context"
	"errors"
	"slices"

	"github.com/nats-io/nats.go/jetstream"

	"github.com/podiumhq/podium/internal/bus"
)

// PurgeKeys implements bus.Bus: it reads the topic's stream from its first
// message to its last and securely deletes (the stored bytes overwritten)
// those whose Podium-Key is one of keys. A topic has one subject for every
// key, so the stream's purge by subject cannot single a key out.
func (b *Bus) PurgeKeys(ctx context.Context, topic string, keys ...string) (bus.Purged, error) {
	var out bus.Purged
	if err := b.check(); err != nil {
		return out, err
	}
	s, err := b.stream(ctx, topic)
	if err != nil {
		return out, err
	}
	if len(keys) == 0 {
		return out, nil
	}
	info, err := s.Info(ctx)
	if err != nil {
		return out, b.wrap(err, "purge keys of %q", topic)
	}
	want := slices.Clone(keys)
	slices.Sort(want)
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue // deleted, or dropped by retention meanwhile
		}
		if err != nil {
			return out, b.wrap(err, "purge keys of %q: read message %d", topic, seq)
		}
		if _, found := slices.BinarySearch(want, m.Header.Get(HeaderKey)); !found {
			continue
		}
		if err := s.SecureDeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return out, b.wrap(err, "purge keys of %q: delete message %d", topic, seq)
		}
		out.Removed++
	}
	return out, nil
}
