package web

import (
	"context"
	"database/sql"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/stream"
)

// PipelineSource is what the pipeline page shows: the bus, the store's
// positions, the processors of this process and their metrics.
type PipelineSource struct {
	Bus     bus.Bus
	DB      *sql.DB
	Specs   []stream.Spec
	Metrics *stream.Metrics
}

// pipelineData is the pipeline page's data.
type pipelineData struct {
	Topics      []topicRow
	Processors  []procRow
	Batches     []stream.Batch
	DeadLetters []stream.DeadLetter
	Parked      []stream.ParkedCall
	Rate        float64
	Lag         int64
	Dead        int64
	// Waiting counts the effect stages' calls waiting (pending) and
	// refused (parked).
	Waiting, Refused int64
	Error            string
}

type topicRow struct {
	Name       string
	Partitions int
	Messages   int64
	Bytes      int64
	Retention  string
	DLQ        bool
}

type procRow struct {
	Name    string
	Kind    string
	Topic   string
	Lag     int64
	Rate    float64
	Pending int64
	Parked  int64
}

// HandlePipeline serves the pipeline page at /pipeline: topics, processors
// with their lag and rate, recent batches, dead letters — what Spark UI's
// streaming tab shows, for podium.
func (s *Server) HandlePipeline(src PipelineSource) {
	t := s.Template(templateFiles, "templates/pipeline.html")
	s.Nav("Pipeline", "/pipeline")
	s.Mux.HandleFunc("GET /pipeline", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		d := pipelineData{Batches: src.Metrics.Recent(), DeadLetters: src.Metrics.DeadLetters()}
		if len(d.Batches) > 15 {
			d.Batches = d.Batches[:15]
		}
		if len(d.DeadLetters) > 10 {
			d.DeadLetters = d.DeadLetters[:10]
		}
		if err := s.pipelineStatus(ctx, src, &d); err != nil {
			d.Error = err.Error()
		}
		s.Render(w, r, t, Page{Title: "Pipeline", Live: "tick", Data: d})
	})
}

func (s *Server) pipelineStatus(ctx context.Context, src PipelineSource, d *pipelineData) error {
	topics, err := src.Bus.Topics(ctx)
	if err != nil {
		return err
	}
	for _, ti := range topics {
		ret := "forever"
		if ti.MaxAge > 0 {
			ret = strings.TrimSuffix(ti.MaxAge.String(), "0m0s")
		}
		row := topicRow{Name: ti.Name, Partitions: len(ti.Partitions), Messages: ti.Messages, Bytes: ti.Bytes, Retention: ret, DLQ: bus.IsDLQ(ti.Name)}
		if row.DLQ {
			d.Dead += ti.Messages
		}
		d.Topics = append(d.Topics, row)
	}
	rates := src.Metrics.Rates()
	if len(src.Specs) > 0 {
		lags, err := stream.Lags(ctx, src.Bus, src.DB, src.Specs)
		if err != nil {
			return err
		}
		kinds := map[string]string{}
		for _, sp := range src.Specs {
			kinds[sp.Name] = sp.Kind
		}
		for _, l := range lags {
			d.Processors = append(d.Processors, procRow{Name: l.Processor, Kind: kinds[l.Processor], Topic: l.Topic, Lag: l.Lag,
				Rate: rates[l.Processor], Pending: l.Pending, Parked: l.Parked})
			d.Lag += l.Lag
			d.Rate += rates[l.Processor]
			d.Waiting += l.Pending
			d.Refused += l.Parked
		}
		parked, err := stream.Parked(ctx, src.DB, "")
		if err != nil {
			return err
		}
		if len(parked) > 10 {
			parked = parked[len(parked)-10:]
		}
		d.Parked = parked
	}
	sort.Slice(d.Processors, func(i, j int) bool { return d.Processors[i].Name < d.Processors[j].Name })
	return nil
}

// Tick publishes a "tick" event every interval while browsers are
// connected, so that pages showing moving figures (the pipeline page)
// refresh, until ctx ends.
func (s *Server) Tick(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			if s.Hub.Clients() > 0 {
				s.Hub.Publish("tick", map[string]any{"time": now.UTC()})
			}
		}
	}
}
