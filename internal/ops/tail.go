package ops

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/podiumhq/podium/internal/bus"
)

// TailOptions configure Tail.
type TailOptions struct {
	// From is where to start: bus.Latest (new messages only) or
	// bus.Earliest.
	From bus.Start
	// Limit stops after this many messages; 0 runs until ctx ends.
	Limit int
	// JSON prints one JSON object per line instead of the readable form.
	JSON bool
}

// Tail prints the messages of topic as they arrive, with key, headers and
// position. It reads without a consumer group, so it never moves a
// processor's position.
func Tail(ctx context.Context, b bus.Bus, topic string, opts TailOptions, w io.Writer) error {
	c, err := b.Consume(ctx, bus.ConsumerConfig{Topic: topic, Start: opts.From})
	if err != nil {
		return fmt.Errorf("tail %s: %w", topic, err)
	}
	defer c.Close()
	n := 0
	for opts.Limit == 0 || n < opts.Limit {
		max := 100
		if opts.Limit > 0 {
			max = min(max, opts.Limit-n)
		}
		msgs, err := c.Fetch(ctx, max)
		if err != nil {
			if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
				return nil
			}
			return fmt.Errorf("tail %s: %w", topic, err)
		}
		for _, m := range msgs {
			if err := PrintMessage(w, m, opts.JSON); err != nil {
				return err
			}
		}
		n += len(msgs)
	}
	return nil
}

// messageJSON is the JSON form of a message.
type messageJSON struct {
	Topic     string            `json:"topic"`
	Partition int32             `json:"partition"`
	Offset    int64             `json:"offset"`
	Time      time.Time         `json:"time"`
	Key       string            `json:"key"`
	Headers   map[string]string `json:"headers,omitempty"`
	Value     json.RawMessage   `json:"value,omitempty"`
	Text      string            `json:"value_text,omitempty"`
}

// PrintMessage prints m readably (a header line, headers, the value
// pretty-printed when it is JSON) or as one line of JSON.
func PrintMessage(w io.Writer, m *bus.Message, asJSON bool) error {
	if asJSON {
		j := messageJSON{Topic: m.Topic, Partition: m.Partition, Offset: m.Offset, Time: m.Time.UTC(), Key: m.Key, Headers: m.Headers}
		if json.Valid(m.Value) {
			j.Value = m.Value
		} else {
			j.Text = string(m.Value)
		}
		b, err := json.Marshal(j)
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(w, "%s\n", b)
		return err
	}
	fmt.Fprintf(w, "── %s  partition %d  offset %d  %s\n", m.Topic, m.Partition, m.Offset, m.Time.Local().Format("2006-01-02 15:04:05.000"))
	fmt.Fprintf(w, "   key: %s\n", m.Key)
	keys := make([]string, 0, len(m.Headers))
	for k := range m.Headers {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Fprintf(w, "   %s: %s\n", k, m.Headers[k])
	}
	var pretty bytes.Buffer
	if json.Indent(&pretty, m.Value, "   ", "  ") == nil {
		_, err := fmt.Fprintf(w, "   %s\n", pretty.Bytes())
		return err
	}
	_, err := fmt.Fprintf(w, "   %q\n", m.Value)
	return err
}
