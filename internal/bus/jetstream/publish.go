package jetstream

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/podiumhq/podium/internal/bus"
)

// HeaderKey is the NATS header that carries a message's key.
const HeaderKey = "Podium-Key"

// publishOpts apply to every message. A retry after "no responders" could
// land behind later messages and break the order: fail instead.
var publishOpts = []jetstream.PublishOpt{
	jetstream.WithRetryAttempts(0),
	jetstream.WithStallWait(publishStallWait),
}

// Publish stores msgs and returns once JetStream acknowledged each of them,
// with the first error met. Messages go out asynchronously, in order, on
// one connection, so per-key order holds; topics are created on first use.
func (b *Bus) Publish(ctx context.Context, msgs ...*bus.Message) error {
	if err := b.check(); err != nil {
		return err
	}
	last := ""
	for i, m := range msgs {
		if m == nil {
			return fmt.Errorf("jetstream: publish: message %d is nil", i)
		}
		if m.Topic == last {
			continue
		}
		if err := b.ensure(ctx, m.Topic); err != nil {
			return err
		}
		last = m.Topic
	}
	futures := make([]jetstream.PubAckFuture, 0, len(msgs))
	var first error
	for i, m := range msgs {
		if err := ctx.Err(); err != nil {
			first = err
			break
		}
		f, err := b.js.PublishMsgAsync(natsMsg(m), publishOpts...)
		if err != nil {
			first = b.wrap(err, "publish message %d to %q", i, m.Topic)
			break
		}
		futures = append(futures, f)
	}
	// Wait for every message sent, even after an error, so that none is
	// still in flight when Publish returns.
	for i, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			if first == nil {
				first = b.wrap(err, "publish message %d to %q", i, msgs[i].Topic)
			}
			if errors.Is(err, jetstream.ErrNoStreamResponse) || errors.Is(err, nats.ErrNoResponders) {
				// The stream is gone (deleted elsewhere): create it
				// again on the next publish.
				b.remember(msgs[i].Topic, false)
			}
		case <-ctx.Done():
			if first == nil {
				first = ctx.Err()
			}
			return first
		}
	}
	return first
}

// natsMsg turns m into a NATS message: key and ID in headers, Headers as
// they are.
func natsMsg(m *bus.Message) *nats.Msg {
	nm := &nats.Msg{Subject: m.Topic, Data: m.Value}
	n := len(m.Headers)
	if m.Key != "" {
		n++
	}
	if m.ID != "" {
		n++
	}
	if n == 0 {
		return nm
	}
	h := make(nats.Header, n)
	for k, v := range m.Headers {
		h[k] = []string{v}
	}
	if m.Key != "" {
		h[HeaderKey] = []string{m.Key}
	}
	if m.ID != "" {
		h[jetstream.MsgIDHeader] = []string{m.ID}
	}
	nm.Header = h
	return nm
}

// busMessage turns a consumed JetStream message into a bus message, and
// returns its metadata: its consumer sequence, how many messages its
// consumer had still to deliver. Headers
// starting with "Nats-" are JetStream's and are left out; Nats-Msg-Id
// becomes the ID.
func busMessage(topic string, raw jetstream.Msg) (*bus.Message, *jetstream.MsgMetadata, error) {
	md, err := raw.Metadata()
	if err != nil {
		return nil, nil, fmt.Errorf("jetstream: message metadata on %q: %w", topic, err)
	}
	m := &bus.Message{
		Topic:  topic,
		Value:  raw.Data(),
		Offset: int64(md.Sequence.Stream),
		Time:   md.Timestamp,
	}
	for k, vs := range raw.Headers() {
		if len(vs) == 0 {
			continue
		}
		switch {
		case k == HeaderKey:
			m.Key = vs[0]
		case k == jetstream.MsgIDHeader:
			m.ID = vs[0]
		case len(k) >= 5 && strings.EqualFold(k[:5], "nats-"):
		default:
			if m.Headers == nil {
				m.Headers = make(map[string]string, len(raw.Headers()))
			}
			m.Headers[k] = vs[0]
		}
	}
	return m, md, nil
}
