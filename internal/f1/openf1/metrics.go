package openf1

import (
	"errors"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podiumhq/podium/internal/f1"
)

// metrics are the follower's Prometheus metrics.
type metrics struct {
	source    *prometheus.GaugeVec
	fallbacks prometheus.Counter
	rows      *prometheus.CounterVec
	rejects   *prometheus.CounterVec
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
	}
	if reg == nil {
		return m
	}
	m.source = register(reg, m.source, log)
	m.fallbacks = register(reg, m.fallbacks, log)
	m.rows = register(reg, m.rows, log)
	m.rejects = register(reg, m.rejects, log)
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

func (m *metrics) row(endpoint, source string) { m.rows.WithLabelValues(endpoint, source).Inc() }

func (m *metrics) rejected(endpoint string) { m.rejects.WithLabelValues(endpoint).Inc() }
