package stream

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podiumhq/podium/internal/bus"
)

// Progress is how far a processor is on its topic.
type Progress struct {
	Processor string
	Topic     string
	// Next is the next offset to handle per partition, as the store
	// records it.
	Next map[int32]int64
	// Lag is the number of messages on the topic not yet committed.
	Lag int64
	// Pending and Parked count an effect stage's calls waiting to be made
	// and parked with a reason (zero for other kinds).
	Pending, Parked int64
}

// Lags reports the progress of each processor, from the topics' end offsets
// on the bus and the positions committed in the store (the authority).
func Lags(ctx context.Context, b bus.Bus, db *sql.DB, specs []Spec) ([]Progress, error) {
	topics, err := b.Topics(ctx)
	if err != nil {
		return nil, err
	}
	byName := make(map[string]bus.TopicInfo, len(topics))
	for _, t := range topics {
		byName[t.Name] = t
	}
	counts, err := CallCounts(ctx, db)
	if err != nil {
		return nil, err
	}
	out := make([]Progress, 0, len(specs))
	for _, sp := range specs {
		p := Progress{Processor: sp.Name, Topic: sp.Topic, Next: map[int32]int64{}}
		rows, err := db.QueryContext(ctx, `SELECT part, next_offset FROM podium_positions WHERE processor = $1 AND topic = $2`, sp.Name, sp.Topic)
		if err != nil {
			return nil, fmt.Errorf("read positions of %s: %w", sp.Name, err)
		}
		for rows.Next() {
			var part int32
			var next int64
			if err := rows.Scan(&part, &next); err != nil {
				rows.Close()
				return nil, err
			}
			p.Next[part] = next
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		for _, part := range byName[sp.Topic].Partitions {
			from := part.Start
			if n, ok := p.Next[part.ID]; ok && n > from {
				from = n
			}
			if part.End > from {
				p.Lag += part.End - from
			}
		}
		p.Pending, p.Parked = counts[sp.Name][CallPending], counts[sp.Name][CallParked]
		out = append(out, p)
	}
	return out, nil
}

// LagCollector exports podium_consumer_lag for the processors specs returns,
// computed at each scrape.
type LagCollector struct {
	Bus    bus.Bus
	DB     *sql.DB
	Specs  func() []Spec
	Logger *slog.Logger
}

var (
	lagDesc = prometheus.NewDesc("podium_consumer_lag",
		"Messages on the topic whose effects the stage has not committed yet (end offset minus committed position).",
		[]string{"processor", "topic"}, nil)
	callsDesc = prometheus.NewDesc("podium_effect_calls",
		"Calls of an effect stage in its ledger, by state (pending: waiting to be made; parked: refused, see podium dlq list).",
		[]string{"processor", "state"}, nil)
)

// Describe implements prometheus.Collector.
func (c LagCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- lagDesc
	ch <- callsDesc
}

// Collect implements prometheus.Collector.
func (c LagCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	lags, err := Lags(ctx, c.Bus, c.DB, c.Specs())
	if err != nil {
		if c.Logger != nil {
			c.Logger.Warn("compute consumer lag", "err", err)
		}
		return
	}
	kinds := map[string]string{}
	for _, sp := range c.Specs() {
		kinds[sp.Name] = sp.Kind
	}
	for _, l := range lags {
		ch <- prometheus.MustNewConstMetric(lagDesc, prometheus.GaugeValue, float64(l.Lag), l.Processor, l.Topic)
		if kinds[l.Processor] == KindEffect {
			ch <- prometheus.MustNewConstMetric(callsDesc, prometheus.GaugeValue, float64(l.Pending), l.Processor, CallPending)
			ch <- prometheus.MustNewConstMetric(callsDesc, prometheus.GaugeValue, float64(l.Parked), l.Processor, CallParked)
		}
	}
}
