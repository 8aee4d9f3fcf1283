package openf1

import (
	"errors"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podiumhq/podium/internal/f1"
)

// metrics are the follower's Prometheus metrics.
type metrics struct {
	source    *prometheus.GaugeVec
	fallbacks prometheus.Counter
	rows      *prometheus.CounterVec
	rejects   *prometheus.CounterVec
	// lastRow, sessionStart and sessionEnd tell an alert that the
	// source went quiet while the session runs.
	lastRow, sessionStart, sessionEnd prometheus.Gauge
}

// sources are the values of the source label.
var sources = []string{f1.SourceOpenF1MQTT, f1.SourceOpenF1REST, f1.SourceFile, f1.SourceArchive}

func newMetrics(reg prometheus.Registerer, log *slog.Logger) *metrics {
	m := &metrics{
		source: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "podium_openf1_source",
			Help: "1 for the source the OpenF1 follower reads from now (openf1-mqtt, openf1-rest, file, archive), 0 for the others."},
			[]string{"source"}),
		fallbacks: prometheus.NewCounter(prometheus.CounterOpts{Name: "podium_openf1_fallbacks_total",
			Help: "Times the OpenF1 follower fell back to a lesser source (MQTT feed down or silent → REST; no OpenF1 results → archive)."}),
		rows: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "podium_openf1_rows_total",
			Help: "New or changed OpenF1 rows handled, by endpoint and source."}, []string{"endpoint", "source"}),
		rejects: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "podium_openf1_rows_rejected_total",
			Help: "OpenF1 rows that could not be decoded, by endpoint."}, []string{"endpoint"}),
		lastRow: prometheus.NewGauge(prometheus.GaugeOpts{Name: "podium_openf1_last_row_timestamp_seconds",
			Help: "When the OpenF1 follower last handled a new or changed row (Unix time; 0 before the first)."}),
		sessionStart: prometheus.NewGauge(prometheus.GaugeOpts{Name: "podium_openf1_session_start_timestamp_seconds",
			Help: "When the session the OpenF1 follower follows starts (Unix time, OpenF1's date_start)."}),
		sessionEnd: prometheus.NewGauge(prometheus.GaugeOpts{Name: "podium_openf1_session_end_timestamp_seconds",
			Help: "When the session the OpenF1 follower follows ends (Unix time, OpenF1's date_end)."}),
	}
	if reg == nil {
		return m
	}
	m.source = register(reg, m.source, log)
	m.fallbacks = register(reg, m.fallbacks, log)
	m.rows = register(reg, m.rows, log)
	m.rejects = register(reg, m.rejects, log)
	m.lastRow = register(reg, m.lastRow, log)
	m.sessionStart = register(reg, m.sessionStart, log)
	m.sessionEnd = register(reg, m.sessionEnd, log)
	return m
}

// register registers c, or returns the collector already registered under
// its name (a second follower in one process).
func register[C prometheus.Collector](reg prometheus.Registerer, c C, log *slog.Logger) C {
	err := reg.Register(c)
	if err == nil {
		return c
	}
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing
		}
	}
	log.Warn("openf1 metrics not registered", "err", err)
	return c
}

func (m *metrics) setSource(source string) {
	for _, s := range sources {
		v := 0.0
		if s == source {
			v = 1
		}
		m.source.WithLabelValues(s).Set(v)
	}
}

func (m *metrics) row(endpoint, source string) {
	m.rows.WithLabelValues(endpoint, source).Inc()
	m.lastRow.SetToCurrentTime()
}

// session records the time window of the session followed.
func (m *metrics) session(start, end time.Time) {
	if !start.IsZero() {
		m.sessionStart.Set(float64(start.Unix()))
	}
	if !end.IsZero() {
		m.sessionEnd.Set(float64(end.Unix()))
	}
}

func (m *metrics) rejected(endpoint string) { m.rejects.WithLabelValues(endpoint).Inc() }
