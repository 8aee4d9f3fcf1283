package cdc

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the capture's Prometheus series, per replication slot
// (PostgreSQL only: a SQLite capture has no slot).
type Metrics struct {
	// walRetained is pg_current_wal_lsn() - restart_lsn: the WAL the slot
	// keeps from being recycled. The deploy/ dashboard and alert rules use
	// this name.
	walRetained *prometheus.GaugeVec
	// lag is pg_current_wal_lsn() - confirmed_flush_lsn.
	lag *prometheus.GaugeVec
	// heartbeat is when the capture last received its own heartbeat back
	// through the slot, Unix seconds.
	heartbeat *prometheus.GaugeVec
	// losses counts the times the capture found its slot lost (dropped,
	// or invalidated by the server) and took a new snapshot.
	losses *prometheus.CounterVec
}

// NewMetrics creates the series and registers them with reg (if not nil);
// series reg already has are reused.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		walRetained: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "podium_cdc_wal_retained_bytes",
			Help: "WAL the change-data-capture's replication slot retains on the PostgreSQL server (pg_current_wal_lsn() - restart_lsn), bytes."},
			[]string{"slot"}),
		lag: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "podium_cdc_lag_bytes",
			Help: "WAL written since the change-data-capture's confirmed position (pg_current_wal_lsn() - confirmed_flush_lsn), bytes."},
			[]string{"slot"}),
		heartbeat: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "podium_cdc_last_heartbeat_timestamp_seconds",
			Help: "When the change-data-capture last received its heartbeat back through its replication slot, Unix seconds."},
			[]string{"slot"}),
		losses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "podium_cdc_slot_losses_total",
			Help: "Times the change-data-capture found its replication slot lost (dropped, or invalidated by the server beyond max_slot_wal_keep_size) and took a new snapshot of the table."},
			[]string{"slot"}),
	}
	if reg == nil {
		return m
	}
	if err := reg.Register(m.losses); err != nil {
		are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err)
		if !ok {
			panic(err)
		}
		m.losses = are.ExistingCollector.(*prometheus.CounterVec)
	}
	for _, g := range []**prometheus.GaugeVec{&m.walRetained, &m.lag, &m.heartbeat} {
		if err := reg.Register(*g); err != nil {
			are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err)
			if !ok {
				panic(err)
			}
			*g = are.ExistingCollector.(*prometheus.GaugeVec)
		}
	}
	return m
}

// slotFigures sets the gauges of slot.
func (m *Metrics) slotFigures(slot string, f SlotStatus) {
	if m == nil {
		return
	}
	if f.WALRetained != nil {
		m.walRetained.WithLabelValues(slot).Set(float64(*f.WALRetained))
	}
	if f.Lag != nil {
		m.lag.WithLabelValues(slot).Set(float64(*f.Lag))
	}
}

// slotLoss counts a loss of slot.
func (m *Metrics) slotLoss(slot string) {
	if m != nil {
		m.losses.WithLabelValues(slot).Inc()
	}
}

// heartbeatSeen records a heartbeat received back through slot.
func (m *Metrics) heartbeatSeen(slot string, unixSeconds float64) {
	if m != nil {
		m.heartbeat.WithLabelValues(slot).Set(unixSeconds)
	}
}
