package ops

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/stream"
)

// ReplayGroup is the consumer group that remembers which dead letters were
// replayed, so that a second replay sends only the new ones.
const ReplayGroup = "podium-dlq-replay"

// readToEnd calls fn with the messages of topic from the start (or the
// group's position) up to the end the topic had when readToEnd began.
func readToEnd(ctx context.Context, b bus.Bus, topic, group string, fn func([]*bus.Message) error) error {
	infos, err := b.Topics(ctx)
	if err != nil {
		return fmt.Errorf("list topics: %w", err)
	}
	var info *bus.TopicInfo
	for i := range infos {
		if infos[i].Name == topic {
			info = &infos[i]
		}
	}
	if info == nil {
		return fmt.Errorf("topic %s: %w", topic, bus.ErrUnknownTopic)
	}
	remaining := map[int32]int64{} // partition → last offset to read
	for _, p := range info.Partitions {
		if p.End > p.Start {
			remaining[p.ID] = p.End - 1
		}
	}
	if group != "" {
		groups, err := b.Groups(ctx, topic)
		if err != nil {
			return fmt.Errorf("read group positions on %s: %w", topic, err)
		}
		for _, g := range groups {
			if g.Group != group {
				continue
			}
			for part, next := range g.Next {
				if last, ok := remaining[part]; ok && next > last {
					delete(remaining, part)
				}
			}
		}
	}
	if len(remaining) == 0 {
		return nil
	}
	c, err := b.Consume(ctx, bus.ConsumerConfig{Topic: topic, Group: group, Start: bus.Earliest})
	if err != nil {
		return fmt.Errorf("read %s: %w", topic, err)
	}
	defer c.Close()
	for len(remaining) > 0 {
		msgs, err := c.Fetch(ctx, 500)
		if err != nil {
			return fmt.Errorf("read %s: %w", topic, err)
		}
		var batch []*bus.Message
		for _, m := range msgs {
			last, ok := remaining[m.Partition]
			if !ok || m.Offset > last {
				continue
			}
			batch = append(batch, m)
			if m.Offset == last {
				delete(remaining, m.Partition)
			}
		}
		if len(batch) == 0 {
			continue
		}
		if err := fn(batch); err != nil {
			return err
		}
		if group != "" {
			if err := c.Commit(ctx, bus.LastPositions(batch)...); err != nil {
				return fmt.Errorf("commit %s position on %s: %w", group, topic, err)
			}
		}
	}
	return nil
}

// dlqTopic accepts a topic or its dead-letter topic.
func dlqTopic(topic string) string {
	if bus.IsDLQ(topic) {
		return topic
	}
	return bus.DLQTopic(topic)
}

// DeadLetters returns the dead letters of topic (or of the dead-letter topic
// named), oldest first. A topic without dead letters has none.
func DeadLetters(ctx context.Context, b bus.Bus, topic string) ([]*bus.Message, error) {
	var out []*bus.Message
	err := readToEnd(ctx, b, dlqTopic(topic), "", func(msgs []*bus.Message) error {
		out = append(out, msgs...)
		return nil
	})
	if errors.Is(err, bus.ErrUnknownTopic) {
		return nil, nil
	}
	return out, err
}

// WriteDeadLetters prints, in format f, what the stages reading a topic
// could not take: the dead letters of its dead-letter topic, and the calls
// its effect stages parked (an outside service refused them).
func WriteDeadLetters(w io.Writer, msgs []*bus.Message, parked []stream.ParkedCall, f Format) error {
	switch f {
	case JSON:
		for _, m := range msgs {
			if err := PrintMessage(w, m, true); err != nil {
				return err
			}
		}
		for _, p := range parked {
			if err := writeJSON(w, map[string]any{"parked": true, "time": p.At.UTC().Format(time.RFC3339), "stage": p.Stage,
				"topic": p.Topic, "partition": p.Partition, "offset": p.Offset, "call": p.Key, "attempts": p.Attempts,
				"reason": p.Reason, "body": p.Body}); err != nil {
				return err
			}
		}
		return nil
	case CSV:
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"dlq_offset", "time", "processor", "topic", "partition", "offset", "key", "reason", "value"})
		for _, m := range msgs {
			h := m.Headers
			_ = cw.Write([]string{strconv.FormatInt(m.Offset, 10), h[bus.HeaderDLQTime], h[bus.HeaderDLQProcessor], h[bus.HeaderDLQTopic],
				h[bus.HeaderDLQPartition], h[bus.HeaderDLQOffset], m.Key, h[bus.HeaderDLQReason], string(m.Value)})
		}
		for _, p := range parked {
			_ = cw.Write([]string{"parked", p.At.UTC().Format(time.RFC3339), p.Stage, p.Topic, strconv.Itoa(int(p.Partition)),
				strconv.FormatInt(p.Offset, 10), p.Key, p.Reason, p.Body})
		}
		cw.Flush()
		return cw.Error()
	}
	if len(msgs) == 0 && len(parked) == 0 {
		_, err := fmt.Fprintln(w, "no dead letters and no parked calls")
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if len(msgs) > 0 {
		fmt.Fprintln(tw, "TIME\tPROCESSOR\tSOURCE\tKEY\tREASON\tVALUE")
		for _, m := range msgs {
			h := m.Headers
			fmt.Fprintf(tw, "%s\t%s\t%s/%s@%s\t%s\t%s\t%s\n", h[bus.HeaderDLQTime], h[bus.HeaderDLQProcessor], h[bus.HeaderDLQTopic],
				h[bus.HeaderDLQPartition], h[bus.HeaderDLQOffset], m.Key, h[bus.HeaderDLQReason], clip(string(m.Value), 60))
		}
	}
	if len(parked) > 0 {
		if len(msgs) > 0 {
			fmt.Fprintln(tw)
		}
		fmt.Fprintln(tw, "PARKED\tSTAGE\tSOURCE\tCALL\tREASON\tATTEMPTS")
		for _, p := range parked {
			fmt.Fprintf(tw, "%s\t%s\t%s/%d@%d\t%s\t%s\t%d\n", p.At.UTC().Format(time.RFC3339), p.Stage, p.Topic, p.Partition, p.Offset,
				p.Key, clip(p.Reason, 100), p.Attempts)
		}
	}
	return tw.Flush()
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if len(s) <= n {
		return s
	}
	return s[:n-1] + "…"
}

// ReplayDeadLetters publishes the dead letters of topic that were not
// replayed before back onto their source topic, and returns how many.
// Run it after fixing what rejected them; the processor reads them again as
// new messages (and dead-letters them again if they still fail).
func ReplayDeadLetters(ctx context.Context, b bus.Bus, topic string) (int, error) {
	n := 0
	err := readToEnd(ctx, b, dlqTopic(topic), ReplayGroup, func(msgs []*bus.Message) error {
		out := make([]*bus.Message, 0, len(msgs))
		for _, d := range msgs {
			m, ok := bus.Redrive(d)
			if !ok {
				return fmt.Errorf("dead letter at offset %d has no %s header: cannot tell its source topic", d.Offset, bus.HeaderDLQTopic)
			}
			out = append(out, m)
		}
		if err := b.Publish(ctx, out...); err != nil {
			return fmt.Errorf("publish replayed messages: %w", err)
		}
		n += len(out)
		return nil
	})
	if errors.Is(err, bus.ErrUnknownTopic) {
		return 0, nil
	}
	return n, err
}
