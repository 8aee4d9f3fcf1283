package stream

import (
	"errors"
	"fmt"
	"time"
)

// failingAfter is how many failed attempts in a row of one batch make a
// stage not ready: one or two are a blip (a deadlock retried, a broker
// leader moving), more mean the stage is stuck until something is fixed.
const failingAfter = 3

// stageHealth is what this process knows of one of its stages, for
// readiness.
type stageHealth struct {
	// running: the stage's consumer is open (it is a member of its
	// consumer group) and its loop runs.
	running bool
	// failures counts the failed attempts in a row of the batch in hand.
	failures int
	// err is the last failure: of a batch, or of the stage when it
	// stopped.
	err error
	// since is when the failures began, or when the stage stopped.
	since time.Time
}

// health returns the record of stage name, creating it. Call with m.mu held.
func (m *Metrics) health(name string) *stageHealth {
	if m.stages == nil {
		m.stages = map[string]*stageHealth{}
	}
	h := m.stages[name]
	if h == nil {
		h = &stageHealth{}
		m.stages[name] = h
	}
	return h
}

// started records that p's stage opened its consumer and runs its loop.
func (p *procMetrics) started() {
	p.running.Set(1)
	p.m.mu.Lock()
	*p.m.health(p.processor) = stageHealth{running: true}
	p.m.mu.Unlock()
}

// batchFailed records a failed attempt of the batch in hand.
func (p *procMetrics) batchFailed(err error) {
	p.m.mu.Lock()
	h := p.m.health(p.processor)
	if h.failures == 0 {
		h.since = time.Now()
	}
	h.failures++
	h.err = err
	p.m.mu.Unlock()
}

// committed records a committed batch.
func (p *procMetrics) committed(at time.Time) {
	p.lastCommit.Set(float64(at.UnixNano()) / 1e9)
	p.m.mu.Lock()
	h := p.m.health(p.processor)
	h.failures, h.err = 0, nil
	p.m.mu.Unlock()
}

// stopped records that stage name's Run returned with err while its
// context was live: its supervisor restarts it after a backoff.
func (m *Metrics) stopped(name, topic string, err error) {
	if m == nil {
		return
	}
	if err == nil {
		err = errors.New("stopped unexpectedly")
	}
	m.running.WithLabelValues(name, topic).Set(0)
	m.mu.Lock()
	*m.health(name) = stageHealth{err: err, since: time.Now()}
	m.mu.Unlock()
}

// StagesReady reports whether every stage of specs runs in this process
// and commits its batches. Its error has a line per stage that does not,
// saying why: not started yet, stopped (and being restarted) with the
// cause, or its batch failing again and again with the last error. Nil
// specs are always ready.
func (m *Metrics) StagesReady(specs []Spec) error {
	if len(specs) == 0 {
		return nil
	}
	if m == nil {
		return errors.New("stages: no runtime metrics to tell whether they run")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	var errs []error
	for _, sp := range specs {
		h := m.stages[sp.Name]
		switch {
		case h == nil:
			errs = append(errs, fmt.Errorf("stage %s: not started yet", sp.Name))
		case !h.running:
			errs = append(errs, fmt.Errorf("stage %s: stopped %s ago, restarting: %v", sp.Name, since(h.since), h.err))
		case h.failures >= failingAfter:
			errs = append(errs, fmt.Errorf("stage %s: its batch failed %d times in a row for %s: %v", sp.Name, h.failures, since(h.since), h.err))
		}
	}
	return errors.Join(errs...)
}

func since(t time.Time) time.Duration { return time.Since(t).Round(time.Second) }
