package stream

import (
	"context"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podiumhq/podium/internal/bus"
)

// CountPublished returns b with podium_events_published_total counted per
// topic, registered with reg.
func CountPublished(b bus.Bus, reg prometheus.Registerer) bus.Bus {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "podium_events_published_total", Help: "Messages published to the bus by this process.",
	}, []string{"topic"})
	if reg != nil {
		reg.MustRegister(c)
	}
	return &countingBus{Bus: b, published: c}
}

type countingBus struct {
	bus.Bus
	published *prometheus.CounterVec
}

// Publish implements bus.Bus.
func (c *countingBus) Publish(ctx context.Context, msgs ...*bus.Message) error {
	if err := c.Bus.Publish(ctx, msgs...); err != nil {
		return err
	}
	if len(msgs) > 0 {
		topic, n := msgs[0].Topic, 0
		for _, m := range msgs {
			if m.Topic != topic {
				c.published.WithLabelValues(topic).Add(float64(n))
				topic, n = m.Topic, 0
			}
			n++
		}
		c.published.WithLabelValues(topic).Add(float64(n))
	}
	return nil
}

// Unwrap returns the bus c counts for.
func (c *countingBus) Unwrap() bus.Bus { return c.Bus }
