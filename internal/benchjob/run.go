package benchjob

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"slices"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/progress"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/stream"
)

// Options configure a run.
type Options struct {
	// Events is the number of events of the publish, consume and job
	// phases.
	Events int
	// Size is the size of an event in bytes (DefaultSize if zero).
	Size int
	// Workers is the number of publishers publishing at once (1 if zero).
	Workers int
	// Rate is the events/s of the latency phase, which publishes one event
	// at a time for RateFor while the stage runs; zero skips it.
	Rate    int
	RateFor time.Duration
	// Raw also measures the raw limits of this machine: JSON decode, and
	// the store's fastest bulk write (SQLite multi-row insert, PostgreSQL
	// COPY).
	Raw bool
	// Bar, if set, returns the progress bar of a phase.
	Bar func(label string, total int64) *progress.Bar
}

// Figure is the throughput of one phase.
type Figure struct {
	Events  int64   `json:"events"`
	Seconds float64 `json:"seconds"`
	PerSec  float64 `json:"events_per_s"`
	// CPUPerEvent is the CPU time podium's process spent per event
	// during the phase, in microseconds (with the embedded engines, theirs
	// included; an external server's not): unlike PerSec, it holds on a
	// machine busy with other work.
	CPUPerEvent float64 `json:"cpu_us_per_event"`
}

// clock measures a phase: wall time and the process's CPU time.
type clock struct {
	start time.Time
	cpu   time.Duration
}

func startClock() clock { return clock{start: time.Now(), cpu: processCPU()} }

func (c clock) figure(n int64) Figure {
	d := time.Since(c.start)
	cpu := processCPU() - c.cpu
	return Figure{Events: n, Seconds: d.Seconds(), PerSec: float64(n) / max(d.Seconds(), 1e-9),
		CPUPerEvent: float64(cpu.Microseconds()) / float64(max(n, 1))}
}

// Latency is the time from publish to the committed row at a fixed rate.
type Latency struct {
	Rate   int     `json:"rate"`
	Events int     `json:"events"`
	P50ms  float64 `json:"p50_ms"`
	P99ms  float64 `json:"p99_ms"`
	MaxMs  float64 `json:"max_ms"`
}

// Raw holds the raw limits measured in the run.
type Raw struct {
	// Decode is Decode alone, on one goroutine.
	Decode Figure `json:"json_decode"`
	// Store is the store's fastest bulk write of the job's rows into a
	// table of the same columns, in transactions of RawBatch rows.
	Store       Figure `json:"store_insert"`
	StoreMethod string `json:"store_method"`
}

// RawBatch is the rows per transaction of the raw store figure.
const RawBatch = 5000

// Result is what a run measured.
type Result struct {
	Bus        string `json:"bus"`
	Store      string `json:"store"`
	EventBytes int    `json:"event_bytes"`
	Workers    int    `json:"workers"`
	// Publish is publishing the events, every publish waiting for its
	// acknowledgement (batches of 1,000 per publisher).
	Publish Figure `json:"publish"`
	// Consume is reading them back in a consumer group: Fetch(1000) and
	// Commit, no decoding.
	Consume Figure `json:"consume"`
	// Job is the real job on the full topic: fetch, decode, upsert,
	// positions, commit — from the stage's start to its last commit.
	Job     Figure   `json:"job"`
	Latency *Latency `json:"latency,omitempty"`
	Raw     *Raw     `json:"raw,omitempty"`
	// JobVsRawStore is Job over Raw.Store (with Raw).
	JobVsRawStore float64 `json:"job_vs_raw_store,omitempty"`
	// CleanedUp says the scratch topic and tables are gone.
	CleanedUp bool `json:"cleaned_up"`
}

// Run measures j on env's bus and store, then removes j's scratch topic
// and tables (also when ctx is cancelled).
func Run(ctx context.Context, env stream.Env, j Job, o Options) (res Result, err error) {
	if o.Events <= 0 {
		return res, errors.New("bench: the number of events must be positive")
	}
	if o.Size <= 0 {
		o.Size = DefaultSize
	}
	o.Workers = max(o.Workers, 1)
	if o.Bar == nil {
		o.Bar = func(string, int64) *progress.Bar { return nil }
	}
	res.Store = string(env.Store.Dialect())
	res.EventBytes = len(NewEvent(1, o.Size, time.Now()))
	res.Workers = o.Workers
	defer func() {
		cerr := j.Cleanup(ctx, env.Bus, env.Store)
		res.CleanedUp = cerr == nil
		if err == nil && cerr != nil {
			err = fmt.Errorf("bench: clean up: %w", cerr)
		}
	}()
	if err := env.Bus.EnsureTopic(ctx, bus.TopicConfig{Name: j.Topic}); err != nil {
		return res, fmt.Errorf("bench: create topic %s: %w", j.Topic, err)
	}
	if res.Publish, err = publish(ctx, env.Bus, j, o); err != nil {
		return res, err
	}
	if res.Consume, err = consume(ctx, env.Bus, j, o); err != nil {
		return res, err
	}
	if res.Job, res.Latency, err = job(ctx, env, j, o); err != nil {
		return res, err
	}
	if o.Raw {
		if res.Raw, err = raw(ctx, env.Store, j, o); err != nil {
			return res, err
		}
		res.JobVsRawStore = res.Job.PerSec / res.Raw.Store.PerSec
	}
	return res, nil
}

// publish publishes events 1..Events from Workers publishers.
func publish(ctx context.Context, b bus.Bus, j Job, o Options) (Figure, error) {
	bar := o.Bar("publish", int64(o.Events))
	defer bar.Finish()
	const batch = 1000
	var next atomic.Int64
	errs := make([]error, o.Workers)
	var wg sync.WaitGroup
	start := time.Now()
	clk := startClock()
	for w := range o.Workers {
		wg.Go(func() {
			msgs := make([]*bus.Message, 0, batch)
			for {
				first := next.Add(batch) - batch + 1
				if first > int64(o.Events) {
					return
				}
				msgs = msgs[:0]
				for i := first; i < first+batch && i <= int64(o.Events); i++ {
					msgs = append(msgs, j.Message(i, o.Size, start))
				}
				if err := b.Publish(ctx, msgs...); err != nil {
					errs[w] = fmt.Errorf("bench: publish: %w", err)
					return
				}
				bar.Add(int64(len(msgs)))
			}
		})
	}
	wg.Wait()
	return clk.figure(int64(o.Events)), errors.Join(errs...)
}

// stallTimeout is how long a phase waits without progress before it
// gives up.
const stallTimeout = 30 * time.Second

// consume reads the topic back in a group of its own, without decoding.
func consume(ctx context.Context, b bus.Bus, j Job, o Options) (Figure, error) {
	bar := o.Bar("consume", int64(o.Events))
	defer bar.Finish()
	clk := startClock()
	c, err := b.Consume(ctx, bus.ConsumerConfig{Topic: j.Topic, Group: j.Stage + "-consume", Start: bus.Earliest})
	if err != nil {
		return Figure{}, fmt.Errorf("bench: consume %s: %w", j.Topic, err)
	}
	defer func() { _ = c.Close() }()
	var got int64
	for got < int64(o.Events) {
		fctx, cancel := context.WithTimeout(ctx, stallTimeout)
		msgs, err := c.Fetch(fctx, 1000)
		cancel()
		if err != nil {
			return Figure{}, fmt.Errorf("bench: consume %s after %d of %d events: %w", j.Topic, got, o.Events, err)
		}
		if err := c.Commit(ctx, bus.LastPositions(msgs)...); err != nil {
			return Figure{}, fmt.Errorf("bench: commit: %w", err)
		}
		got += int64(len(msgs))
		bar.Add(int64(len(msgs)))
	}
	return clk.figure(got), nil
}

// job runs the stage on the full topic, then, with Rate, publishes at that
// rate and measures publish-to-commit latency.
func job(ctx context.Context, env stream.Env, j Job, o Options) (Figure, *Latency, error) {
	bar := o.Bar("job", int64(o.Events))
	n := int64(o.Events)
	var committed atomic.Int64
	all := make(chan struct{})
	var mu sync.Mutex
	var lat []time.Duration
	p := j.Processor(func(batch []stream.Record[Event]) {
		now := time.Now()
		var mine int64
		mu.Lock()
		for _, r := range batch {
			if r.Value.ID > n {
				lat = append(lat, now.Sub(r.Value.UpdatedAt))
			} else {
				mine++
			}
		}
		mu.Unlock()
		bar.Add(mine)
		if mine > 0 && committed.Add(mine) == n {
			close(all)
		}
	})
	runCtx, stop := context.WithCancel(ctx)
	defer stop()
	done := make(chan error, 1)
	clk := startClock()
	go func() { done <- p.Run(runCtx, env) }()
	stopped := func() error {
		stop()
		if err := <-done; err != nil {
			return fmt.Errorf("bench: stage: %w", err)
		}
		return nil
	}
	var last int64
	for waiting := true; waiting; {
		select {
		case <-all:
			waiting = false
		case err := <-done:
			if err == nil {
				err = ctx.Err()
			}
			return Figure{}, nil, fmt.Errorf("bench: stage stopped after %d of %d events: %w", committed.Load(), n, err)
		case <-time.After(stallTimeout):
			if c := committed.Load(); c == last {
				_ = stopped()
				return Figure{}, nil, fmt.Errorf("bench: stage committed nothing for %v (%d of %d events)", stallTimeout, c, n)
			} else {
				last = c
			}
		}
	}
	fig := clk.figure(n)
	bar.Finish()
	var rows int64
	if err := env.Store.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM `+j.Table).Scan(&rows); err != nil {
		_ = stopped()
		return fig, nil, fmt.Errorf("bench: count rows: %w", err)
	}
	if rows != n {
		_ = stopped()
		return fig, nil, fmt.Errorf("bench: the table holds %d rows, want %d", rows, n)
	}
	if o.Rate <= 0 {
		return fig, nil, stopped()
	}
	l, err := latency(ctx, env.Bus, j, o, &mu, &lat)
	if serr := stopped(); err == nil {
		err = serr
	}
	return fig, l, err
}

// latency publishes one event at a time at o.Rate for o.RateFor and waits
// for every one to be committed.
func latency(ctx context.Context, b bus.Bus, j Job, o Options, mu *sync.Mutex, lat *[]time.Duration) (*Latency, error) {
	total := max(1, int(float64(o.Rate)*o.RateFor.Seconds()))
	bar := o.Bar(fmt.Sprintf("latency at %d/s", o.Rate), int64(total))
	defer bar.Finish()
	interval := time.Second / time.Duration(o.Rate)
	start := time.Now()
	for i := range total {
		if d := time.Until(start.Add(time.Duration(i) * interval)); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil, ctx.Err()
			}
		}
		id := int64(o.Events + 1 + i)
		if err := b.Publish(ctx, j.Message(id, o.Size, time.Now())); err != nil {
			return nil, fmt.Errorf("bench: publish: %w", err)
		}
		bar.Add(1)
	}
	deadline := time.Now().Add(stallTimeout)
	for {
		mu.Lock()
		got := len(*lat)
		mu.Unlock()
		if got >= total {
			break
		}
		if time.Now().After(deadline) {
			return nil, fmt.Errorf("bench: only %d of %d events committed within %v", got, total, stallTimeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	mu.Lock()
	defer mu.Unlock()
	p := Percentiles(*lat)
	return &Latency{Rate: o.Rate, Events: total, P50ms: p.P50, P99ms: p.P99, MaxMs: p.Max}, nil
}

// Quantiles are latency percentiles in milliseconds.
type Quantiles struct{ P50, P99, Max float64 }

// Percentiles returns the p50, p99 and maximum of lat (which it sorts).
func Percentiles(lat []time.Duration) Quantiles {
	if len(lat) == 0 {
		return Quantiles{}
	}
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	q := func(f float64) float64 { return ms(lat[int(f*float64(len(lat)-1))]) }
	return Quantiles{P50: q(0.50), P99: q(0.99), Max: ms(lat[len(lat)-1])}
}

// raw measures JSON decode alone and the store's fastest bulk write.
func raw(ctx context.Context, s *store.Store, j Job, o Options) (*Raw, error) {
	r := &Raw{}
	n := o.Events
	// Decode: a ring of distinct events, decoded n times.
	ring := make([]*bus.Message, 1000)
	for i := range ring {
		ring[i] = j.Message(int64(i+1), o.Size, time.Now())
	}
	bar := o.Bar("raw json decode", int64(n))
	clk := startClock()
	for i := range n {
		if _, err := Decode(ring[i%len(ring)]); err != nil {
			return nil, err
		}
		if i%10000 == 9999 {
			bar.Add(10000)
		}
	}
	r.Decode = clk.figure(int64(n))
	bar.Finish()

	table := j.Table + "_raw"
	if _, err := s.DB().ExecContext(ctx, Schema(table)); err != nil {
		return nil, fmt.Errorf("bench: create %s: %w", table, err)
	}
	write, method := RawWriter(s, table)
	r.StoreMethod = method
	bar = o.Bar("raw "+method, int64(n))
	defer bar.Finish()
	var spent, cpu time.Duration
	rows := make([][]any, 0, RawBatch)
	sent := time.Now()
	for first := 1; first <= n; first += RawBatch {
		rows = rows[:0]
		for i := first; i < first+RawBatch && i <= n; i++ {
			e, _ := Decode(j.Message(int64(i), o.Size, sent))
			rows = append(rows, Row(e))
		}
		clk := startClock()
		if err := write(ctx, rows); err != nil {
			return nil, fmt.Errorf("bench: %s: %w", method, err)
		}
		spent += time.Since(clk.start)
		cpu += processCPU() - clk.cpu
		bar.Add(int64(len(rows)))
	}
	r.Store = Figure{Events: int64(n), Seconds: spent.Seconds(), PerSec: float64(n) / max(spent.Seconds(), 1e-9),
		CPUPerEvent: float64(cpu.Microseconds()) / float64(n)}
	return r, nil
}

// RawWriter returns the store's fastest way to write rows of the job's
// columns into table, one transaction per call, and its name: COPY (pgx
// CopyFrom) on PostgreSQL, multi-row INSERT statements on SQLite.
func RawWriter(s *store.Store, table string) (func(ctx context.Context, rows [][]any) error, string) {
	if s.Dialect() == store.Postgres {
		return func(ctx context.Context, rows [][]any) error {
			return s.CopyFrom(ctx, table, Columns, rows)
		}, "postgres copy (pgx CopyFrom)"
	}
	return func(ctx context.Context, rows [][]any) error {
		return s.InTx(ctx, func(tx *sql.Tx) error { return store.InsertRows(ctx, tx, insertHead(table), rows, "") })
	}, "sqlite multi-row insert"
}

// WriteTable prints res as a table.
func WriteTable(w io.Writer, res Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintf(w, "bus %s, store %s, %d-byte events, %d publisher(s)\n", res.Bus, res.Store, res.EventBytes, res.Workers)
	fmt.Fprintln(tw, "phase\tevents\tseconds\tevents/s\tCPU µs/event\t")
	row := func(name string, f Figure) {
		fmt.Fprintf(tw, "%s\t%d\t%.3f\t%.0f\t%.2f\t\n", name, f.Events, f.Seconds, f.PerSec, f.CPUPerEvent)
	}
	row("publish", res.Publish)
	row("consume", res.Consume)
	row("job", res.Job)
	if res.Raw != nil {
		row("raw json decode", res.Raw.Decode)
		row("raw "+res.Raw.StoreMethod, res.Raw.Store)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if l := res.Latency; l != nil {
		fmt.Fprintf(w, "latency at %d events/s (%d events): p50 %.3f ms, p99 %.3f ms, max %.3f ms\n", l.Rate, l.Events, l.P50ms, l.P99ms, l.MaxMs)
	}
	if res.Raw != nil {
		fmt.Fprintf(w, "job / raw store write: %.2f\n", res.JobVsRawStore)
	}
	if res.CleanedUp {
		fmt.Fprintln(w, "scratch topic and tables removed")
	}
	return nil
}
