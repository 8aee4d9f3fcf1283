// Package ops holds the operator commands: list topics and consumer lag,
// tail a topic, inspect and replay dead letters, rebuild a processor, reset
// podium. Machine-readable output (csv, json) goes to the given writer
// alone; progress goes to a separate one.
package ops

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"text/tabwriter"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/stream"
)

// Format is an output format.
type Format string

// The output formats.
const (
	Table Format = "table"
	JSON  Format = "json"
	CSV   Format = "csv"
)

// ParseFormat checks a --format value.
func ParseFormat(s string) (Format, error) {
	switch f := Format(s); f {
	case Table, JSON, CSV:
		return f, nil
	}
	return "", fmt.Errorf("unknown format %q: use table, json or csv", s)
}

// TopicRow is one line of `podium topics list`.
type TopicRow struct {
	Topic      string              `json:"topic"`
	Partitions int                 `json:"partitions"`
	Messages   int64               `json:"messages"`
	Bytes      int64               `json:"bytes"`
	MaxAge     string              `json:"max_age"`
	MaxBytes   int64               `json:"max_bytes"`
	Consumers  []ConsumerRow       `json:"consumers"`
	Offsets    []bus.PartitionInfo `json:"-"`
}

// ConsumerRow is a processor's progress on a topic.
type ConsumerRow struct {
	Processor string `json:"processor"`
	Lag       int64  `json:"lag"`
}

// Topics lists the topics with their sizes, retention and, for the given
// processors, their lag (from the positions committed in db).
func Topics(ctx context.Context, b bus.Bus, store *store.Store, specs []stream.Spec) ([]TopicRow, error) {
	infos, err := b.Topics(ctx)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	var lags []stream.Progress
	if len(specs) > 0 {
		if err := stream.Migrate(ctx, store, stream.Spec{}); err != nil {
			return nil, err
		}
		if lags, err = stream.Lags(ctx, b, store.DB(), specs); err != nil {
			return nil, err
		}
	}
	rows := make([]TopicRow, 0, len(infos))
	for _, ti := range infos {
		r := TopicRow{Topic: ti.Name, Partitions: len(ti.Partitions), Messages: ti.Messages, Bytes: ti.Bytes,
			MaxAge: bus.FormatAge(ti.MaxAge), MaxBytes: ti.MaxBytes, Offsets: ti.Partitions, Consumers: []ConsumerRow{}}
		for _, l := range lags {
			if l.Topic == ti.Name {
				r.Consumers = append(r.Consumers, ConsumerRow{Processor: l.Processor, Lag: l.Lag})
			}
		}
		rows = append(rows, r)
	}
	return rows, nil
}

// WriteTopics prints rows in format f.
func WriteTopics(w io.Writer, rows []TopicRow, f Format) error {
	switch f {
	case JSON:
		return writeJSON(w, rows)
	case CSV:
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"topic", "partitions", "messages", "bytes", "max_age", "max_bytes", "processor", "lag"})
		for _, r := range rows {
			base := []string{r.Topic, strconv.Itoa(r.Partitions), strconv.FormatInt(r.Messages, 10), strconv.FormatInt(r.Bytes, 10), r.MaxAge, strconv.FormatInt(r.MaxBytes, 10)}
			if len(r.Consumers) == 0 {
				_ = cw.Write(append(base, "", ""))
			}
			for _, c := range r.Consumers {
				_ = cw.Write(append(base, c.Processor, strconv.FormatInt(c.Lag, 10)))
			}
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "TOPIC\tPARTITIONS\tMESSAGES\tSIZE\tRETENTION\tPROCESSOR\tLAG")
	for _, r := range rows {
		ret := r.MaxAge
		if r.MaxBytes > 0 {
			ret += " / " + size(r.MaxBytes)
		}
		proc, lag := "-", "-"
		if len(r.Consumers) > 0 {
			proc, lag = r.Consumers[0].Processor, strconv.FormatInt(r.Consumers[0].Lag, 10)
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\t%s\n", r.Topic, r.Partitions, r.Messages, size(r.Bytes), ret, proc, lag)
		for _, c := range r.Consumers[min(1, len(r.Consumers)):] {
			fmt.Fprintf(tw, "\t\t\t\t\t%s\t%d\n", c.Processor, c.Lag)
		}
	}
	return tw.Flush()
}

func size(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTPE"[exp])
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
