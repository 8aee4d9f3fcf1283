package stream

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the processor runtime's Prometheus series. One Metrics serves
// every processor of a process; a nil *Metrics records into unregistered
// series.
type Metrics struct {
	in, out  *prometheus.CounterVec
	failed   *prometheus.CounterVec
	retries  *prometheus.CounterVec
	batch    *prometheus.HistogramVec
	handle   *prometheus.HistogramVec
	duration *prometheus.HistogramVec
	calls    *prometheus.CounterVec
	callTime *prometheus.HistogramVec
	// running and lastCommit tell whether each stage of this process
	// works: for alerts (a consumer group without a member, a stage not
	// committing) and /readyz (stages).
	running    *prometheus.GaugeVec
	lastCommit *prometheus.GaugeVec

	mu     sync.Mutex
	recent []Batch
	dead   []DeadLetter
	stages map[string]*stageHealth
}

// DeadLetter describes a message a processor sent to the dead-letter topic.
type DeadLetter struct {
	Processor string
	Topic     string
	Partition int32
	Offset    int64
	Key       string
	Reason    string
	At        time.Time
}

// Batch describes one committed batch, for the pipeline page.
type Batch struct {
	Processor string
	Topic     string
	Size      int
	Duration  time.Duration
	At        time.Time
}

// recentBatches is how many batches (and dead letters) are kept for the
// pipeline page and the rates.
const recentBatches = 500

// NewMetrics creates the runtime's series and registers them with reg (if
// not nil).
func NewMetrics(reg prometheus.Registerer) *Metrics {
	labels := []string{"processor", "topic"}
	m := &Metrics{
		in: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "podium_events_in_total", Help: "Messages read by a processor (re-deliveries of handled messages excluded).",
		}, labels),
		out: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "podium_events_out_total", Help: "Messages whose effects a processor committed.",
		}, labels),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "podium_events_failed_total", Help: "Messages a processor sent to the dead-letter topic, by stage (decode or handle).",
		}, append(labels, "stage")),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "podium_batch_retries_total", Help: "Batches retried after a transient error.",
		}, labels),
		batch: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "podium_batch_size", Help: "Messages per committed batch.",
			Buckets: []float64{1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000},
		}, labels),
		handle: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "podium_handler_duration_seconds", Help: "Time a processor's handler took for one batch.",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
		}, labels),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "podium_batch_duration_seconds", Help: "Time from fetch to commit of one batch (decode, handle, commit).",
			Buckets: prometheus.ExponentialBuckets(0.0001, 2.5, 12),
		}, labels),
		calls: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "podium_effect_calls_total", Help: "Calls of an effect stage to its outside service, by outcome (sent, retried, parked).",
		}, []string{"processor", "outcome"}),
		callTime: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "podium_effect_call_duration_seconds", Help: "Time an effect stage's call to its outside service took.",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12),
		}, []string{"processor"}),
		running: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "podium_stage_running", Help: "1 while the stage runs in this process (its consumer is open: a member of the stage's consumer group), 0 while it is restarted after a failure.",
		}, labels),
		lastCommit: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "podium_stage_last_commit_timestamp_seconds", Help: "When this process last committed a batch of the stage (Unix time).",
		}, labels),
	}
	if reg != nil {
		reg.MustRegister(m.in, m.out, m.failed, m.retries, m.batch, m.handle, m.duration, m.calls, m.callTime, m.running, m.lastCommit)
	}
	return m
}

// DeadLetters returns the latest dead letters of this process, newest
// first.
func (m *Metrics) DeadLetters() []DeadLetter {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]DeadLetter, len(m.dead))
	for i, d := range m.dead {
		out[len(m.dead)-1-i] = d
	}
	return out
}

func (m *Metrics) addDeadLetter(d DeadLetter) {
	m.mu.Lock()
	if len(m.dead) == recentBatches {
		copy(m.dead, m.dead[1:])
		m.dead = m.dead[:recentBatches-1]
	}
	m.dead = append(m.dead, d)
	m.mu.Unlock()
}

// Rates returns, per processor, the events committed per second over the
// last 10 seconds.
func (m *Metrics) Rates() map[string]float64 {
	if m == nil {
		return nil
	}
	const window = 10 * time.Second
	since := time.Now().Add(-window)
	out := map[string]float64{}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, b := range m.recent {
		if b.At.After(since) {
			out[b.Processor] += float64(b.Size) / window.Seconds()
		}
	}
	return out
}

// Recent returns the latest committed batches, newest first.
func (m *Metrics) Recent() []Batch {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]Batch, len(m.recent))
	for i, b := range m.recent {
		out[len(m.recent)-1-i] = b
	}
	return out
}

type procMetrics struct {
	m                *Metrics
	processor, topic string
	in, out, retries prometheus.Counter
	batch            prometheus.Observer
	handle, duration prometheus.Observer
	failedByStage    map[string]prometheus.Counter
	callDuration     prometheus.Observer
	running          prometheus.Gauge
	lastCommit       prometheus.Gauge
}

// For returns the series of one processor.
func (m *Metrics) For(processor, topic string) *procMetrics {
	if m == nil {
		m = NewMetrics(nil)
	}
	return &procMetrics{
		m: m, processor: processor, topic: topic,
		in:       m.in.WithLabelValues(processor, topic),
		out:      m.out.WithLabelValues(processor, topic),
		retries:  m.retries.WithLabelValues(processor, topic),
		batch:    m.batch.WithLabelValues(processor, topic),
		handle:   m.handle.WithLabelValues(processor, topic),
		duration: m.duration.WithLabelValues(processor, topic),
		failedByStage: map[string]prometheus.Counter{
			"decode": m.failed.WithLabelValues(processor, topic, "decode"),
			"handle": m.failed.WithLabelValues(processor, topic, "handle"),
		},
		callDuration: m.callTime.WithLabelValues(processor),
		running:      m.running.WithLabelValues(processor, topic),
		lastCommit:   m.lastCommit.WithLabelValues(processor, topic),
	}
}

func (p *procMetrics) calls(outcome string) prometheus.Counter {
	return p.m.calls.WithLabelValues(p.processor, outcome)
}

func (p *procMetrics) failed(stage string) prometheus.Counter { return p.failedByStage[stage] }

func (p *procMetrics) observe(size int, d time.Duration) {
	p.batch.Observe(float64(size))
	p.duration.Observe(d.Seconds())
	p.m.mu.Lock()
	if len(p.m.recent) == recentBatches {
		copy(p.m.recent, p.m.recent[1:])
		p.m.recent = p.m.recent[:recentBatches-1]
	}
	p.m.recent = append(p.m.recent, Batch{Processor: p.processor, Topic: p.topic, Size: size, Duration: d, At: time.Now()})
	p.m.mu.Unlock()
}
