package quality

import (
	"bytes"
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/stream"
)

// Name is the processor's name: its consumer group, positions and
// migration component.
const Name = "activities-quality"

// The tables of the stage and of the review queue.
const (
	// TableQuarantine holds the events that failed an error expectation:
	// held for review.
	TableQuarantine = "activities_quarantine"
	// TableFlags holds the warnings (flags) of the events that passed.
	TableFlags = "activities_flags"
	// TableReviews holds the review decisions (component ReviewComponent).
	TableReviews = "activities_reviews"
)

// ReviewComponent is the migration component of TableReviews: apart from
// the stage's, so that a rebuild of the stage keeps the decisions.
const ReviewComponent = "activities-review"

// The statuses of a quarantined event.
const (
	StatusHeld     = "held"
	StatusApproved = "approved"
	StatusRejected = "rejected"
)

//go:embed migrations/*.sql reviews/*.sql
var migrationFiles embed.FS

// Migrations returns the schema of the quarantine and flags tables.
func Migrations() fs.FS { return sub("migrations") }

// ReviewMigrations returns the schema of TableReviews.
func ReviewMigrations() fs.FS { return sub("reviews") }

func sub(dir string) fs.FS {
	f, err := fs.Sub(migrationFiles, dir)
	if err != nil {
		panic(err) // the embedded directory exists
	}
	return f
}

// MigrateReviews creates or updates the review queue's tables: the
// stage's and TableReviews.
func MigrateReviews(ctx context.Context, s *store.Store) error {
	if err := s.Migrate(ctx, Name, Migrations()); err != nil {
		return err
	}
	return s.Migrate(ctx, ReviewComponent, ReviewMigrations())
}

// Metrics are the processor's Prometheus series.
type Metrics struct {
	failures    *prometheus.CounterVec
	quarantined prometheus.Counter
	forwarded   prometheus.Counter
}

// NewMetrics creates the series and registers them with reg (if not nil);
// series reg already has are reused.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		failures: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "podium_quality_failures_total",
			Help: "Change events that failed a data-quality expectation, by rule and severity (error: quarantined; warning: forwarded).",
		}, []string{"rule", "severity"}),
		quarantined: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "podium_quality_quarantined_total", Help: "Change events quarantined instead of forwarded to the validated topic.",
		}),
		forwarded: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "podium_quality_forwarded_total", Help: "Change events forwarded to the validated topic.",
		}),
	}
	if reg != nil {
		m.failures = register(reg, m.failures)
		m.quarantined = register(reg, m.quarantined)
		m.forwarded = register(reg, m.forwarded)
	}
	return m
}

// register registers c with reg, or returns the collector reg already has.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if prev, ok := are.ExistingCollector.(C); ok {
				return prev
			}
		}
		panic(err)
	}
	return c
}

// Config configures the processor.
type Config struct {
	// Suite is the expectation suite; nil is Default().
	Suite *Suite
	// Metrics records the failures; nil records into unregistered series.
	Metrics *Metrics
	// Now is the clock (now in the rules); nil is time.Now.
	Now func() time.Time
}

// Processor returns the table stage "activities-quality": it reads the
// raw change events of activities.TopicActivities and evaluates the row
// rules of sport_activities on the after image of each insert, update and
// snapshot read (Prepare: outside the store's write lock). Events that
// pass (and deletes, truncates, logical messages, tombstones) are its
// declared output: republished unchanged — key, value, headers — on
// activities.TopicValidated, with the event id as message ID, by the
// runtime before the batch commits (at least once: JetStream drops the
// duplicate of a publish repeated after a crash, and the sinks are
// idempotent per activity anyway, as Kafka keeps duplicates). Events that
// fail an error expectation go to activities_quarantine, in the
// transaction of the positions, and are not forwarded; warnings are
// counted and the event forwarded. Events that cannot be decoded go to the
// dead-letter topic. A failing update is not forwarded, so the sinks keep
// the activity's last good version.
func Processor(cfg Config) stream.Runnable {
	if cfg.Suite == nil {
		cfg.Suite = Default()
	}
	if cfg.Metrics == nil {
		cfg.Metrics = NewMetrics(nil)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	// Every rule's series exists from the start, at 0: alerts and
	// dashboards see a rule's first failure as an increase.
	for _, e := range cfg.Suite.RowRules(activities.Table) {
		cfg.Metrics.failures.WithLabelValues(e.Name, string(e.Severity))
	}
	return runnable{cfg}
}

type runnable struct{ cfg Config }

func (r runnable) Spec() stream.Spec { return r.processor(nil).Spec() }

// Run migrates the tables the rules read (the HR register), checks the
// suite's cross-table references, then runs the stage.
func (r runnable) Run(ctx context.Context, env stream.Env) error {
	for _, m := range []func(context.Context, *store.Store) error{hr.Migrate, activities.Migrate, MigrateReviews} {
		if err := m(ctx, env.Store); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("stage %s: %w", Name, err)
		}
	}
	if err := r.cfg.Suite.CheckRefs(ctx, env.Store.DB()); err != nil {
		return fmt.Errorf("stage %s: %w", Name, err)
	}
	return r.processor(env.Store.DB()).Run(ctx, env)
}

// event is a change event with what the expectations said of it.
type event struct {
	change  cdc.Change
	verdict verdict
}

func decode(m *bus.Message) (event, error) {
	c, err := cdc.DecodeMessage(m)
	return event{change: c}, err
}

func (r runnable) processor(db *sql.DB) stream.Processor[event] {
	h := &handler{cfg: r.cfg, db: db}
	return stream.Processor[event]{
		Name:        Name,
		Topic:       activities.TopicActivities,
		Decode:      decode,
		Migrations:  Migrations(),
		Tables:      []string{TableQuarantine, TableFlags},
		Prepare:     h.prepare,
		Outputs:     []string{activities.TopicValidated},
		Emit:        emit,
		Handle:      h.handle,
		AfterCommit: h.afterCommit,
	}
}

type handler struct {
	cfg Config
	db  *sql.DB
}

// verdict is what the expectations said of one event.
type verdict struct {
	fails []Failure
	at    time.Time
}

func (v verdict) passes() bool { return len(v.fails) == 0 || v.fails[0].Severity != Error }

// prepare evaluates the rules on the events of batch, before the
// transaction (the store's write lock is not held while they run), and
// records each event's verdict in its record.
func (h *handler) prepare(ctx context.Context, batch []stream.Record[event]) error {
	now := h.cfg.Now()
	l := NewLookup(ctx, h.db)
	// The employees of the batch, looked up at once for employee_exists.
	seenEmp, seenPair := map[string]bool{}, map[EmployeeSource]bool{}
	var emps []string
	var pairs []EmployeeSource
	for _, rec := range batch {
		c := rec.Value.change
		if !checked(&c) {
			continue
		}
		if p := (EmployeeSource{c.After.EmployeeID, c.After.Source}); !seenPair[p] {
			seenPair[p] = true
			pairs = append(pairs, p)
		}
		if e := c.After.EmployeeID; !seenEmp[e] {
			seenEmp[e] = true
			emps = append(emps, e)
		}
	}
	l.Prime(employeesTable, employeesColumn, emps)
	if h.cfg.Suite.overlaps() {
		l.PrimeSources(pairs)
	}
	if err := l.Err(); err != nil {
		return err // a database error: retried
	}
	approved, err := h.approvals(ctx, batch)
	if err != nil {
		return err // a database error: retried
	}
	for i := range batch {
		c := &batch[i].Value.change
		v := verdict{at: now}
		if checked(c) {
			fails, err := h.cfg.Suite.CheckRow(activities.Table, EventRow(c), now, l)
			if err != nil {
				return err // a database error: retried
			}
			v.fails = demote(fails, approved[c.After.ID])
		}
		batch[i].Value.verdict = v
	}
	return nil
}

// approvals returns, per activity of batch, the rules a reviewer approved
// it for: a later version of an approved activity is not held again by
// them.
func (h *handler) approvals(ctx context.Context, batch []stream.Record[event]) (map[int64][]string, error) {
	var ids []any
	seen := map[int64]bool{}
	for _, rec := range batch {
		if c := rec.Value.change; checked(&c) && !seen[c.After.ID] {
			seen[c.After.ID] = true
			ids = append(ids, c.After.ID)
		}
	}
	out := map[int64][]string{}
	for start := 0; start < len(ids); start += 400 {
		part := ids[start:min(start+400, len(ids))]
		marks := make([]string, len(part))
		for i := range part {
			marks[i] = "$" + strconv.Itoa(i+2)
		}
		rows, err := h.db.QueryContext(ctx, `SELECT activity_id, rule FROM `+TableReviews+` WHERE decision = $1
			AND activity_id IN (`+strings.Join(marks, ", ")+`)`, append([]any{StatusApproved}, part...)...)
		if err != nil {
			return nil, fmt.Errorf("read review decisions: %w", err)
		}
		for rows.Next() {
			var id int64
			var rule string
			if err := rows.Scan(&id, &rule); err != nil {
				rows.Close()
				return nil, fmt.Errorf("read review decisions: %w", err)
			}
			out[id] = append(out[id], rule)
		}
		if err := rows.Close(); err != nil {
			return nil, fmt.Errorf("read review decisions: %w", err)
		}
	}
	return out, nil
}

// demote turns the failures of rules a reviewer approved into flags
// (warnings), errors first still.
func demote(fails []Failure, approved []string) []Failure {
	if len(approved) == 0 {
		return fails
	}
	var errs, warns []Failure
	for _, f := range fails {
		if f.Severity == Error && slices.Contains(approved, f.Rule) {
			f.Severity = Warning
			f.Message += " (approved in review)"
		}
		if f.Severity == Error {
			errs = append(errs, f)
		} else {
			warns = append(warns, f)
		}
	}
	return append(errs, warns...)
}

// emit forwards an event that passed to the validated topic, unchanged.
func emit(rec stream.Record[event]) []*bus.Message {
	if !rec.Value.verdict.passes() {
		return nil
	}
	return []*bus.Message{validated(rec.Msg, EventID(rec.Msg, &rec.Value.change))}
}

// handle quarantines the failing events of a batch, in the transaction of
// the positions.
func (h *handler) handle(ctx context.Context, tx *sql.Tx, batch []stream.Record[event]) error {
	var quarantine, flags [][]any
	for _, rec := range batch {
		c, m, v := rec.Value.change, rec.Msg, rec.Value.verdict
		if v.passes() {
			for _, f := range v.fails {
				vals, err := json.Marshal(f.Values)
				if err != nil {
					return stream.Reject(fmt.Errorf("flag: %w", err))
				}
				flags = append(flags, []any{EventID(m, &c), f.Rule, c.ID, c.After.EmployeeID, f.Message, string(vals), v.at.UTC()})
			}
			continue
		}
		detail, err := json.Marshal(v.fails)
		if err != nil {
			return stream.Reject(fmt.Errorf("quarantine: %w", err))
		}
		quarantine = append(quarantine, []any{EventID(m, &c), m.Topic, m.Partition, m.Offset, c.ID, string(c.Op),
			v.fails[0].Rule, v.fails[0].Message, string(detail), m.Key, string(m.Value), v.at.UTC(), c.After.EmployeeID})
	}
	if err := store.InsertRows(ctx, tx, `INSERT INTO `+TableQuarantine+` (event_id, topic, topic_partition, topic_offset,
		activity_id, op, rule, message, failures, message_key, event, quarantined_at, employee_id)`, quarantine,
		`ON CONFLICT (event_id) DO NOTHING`); err != nil {
		return fmt.Errorf("quarantine %d events: %w", len(quarantine), err)
	}
	if len(quarantine) > 0 {
		// A rebuilt quarantine keeps the decisions made on it.
		if _, err := tx.ExecContext(ctx, `UPDATE `+TableQuarantine+` SET status = (SELECT r.decision FROM `+TableReviews+` r
			WHERE r.event_id = `+TableQuarantine+`.event_id) WHERE status = $1 AND event_id IN (SELECT event_id FROM `+TableReviews+`)`,
			StatusHeld); err != nil {
			return fmt.Errorf("quarantine: apply the review decisions: %w", err)
		}
	}
	if err := store.InsertRows(ctx, tx, `INSERT INTO `+TableFlags+` (event_id, rule, activity_id, employee_id, message, vals,
		flagged_at)`, flags, `ON CONFLICT (event_id, rule) DO NOTHING`); err != nil {
		return fmt.Errorf("flag %d events: %w", len(flags), err)
	}
	return nil
}

// afterCommit counts the committed batch in the metrics.
func (h *handler) afterCommit(batch []stream.Record[event]) {
	for _, rec := range batch {
		fails := rec.Value.verdict.fails
		for _, f := range fails {
			h.cfg.Metrics.failures.WithLabelValues(f.Rule, string(f.Severity)).Inc()
		}
		if rec.Value.verdict.passes() {
			h.cfg.Metrics.forwarded.Inc()
		} else {
			h.cfg.Metrics.quarantined.Inc()
		}
	}
}

// checked reports whether c carries a row to check: inserts, updates and
// snapshot reads. Deletes, truncates, messages and tombstones pass.
func checked(c *cdc.Change) bool {
	return !c.Tombstone && c.After != nil && (c.Op == cdc.OpCreate || c.Op == cdc.OpUpdate || c.Op == cdc.OpRead)
}

// EventID returns the id of the event in m: its message ID or the one
// derived from the Debezium source block, else its position.
func EventID(m *bus.Message, c *cdc.Change) string {
	if c.EventID != "" {
		return c.EventID
	}
	return m.Topic + "/" + strconv.Itoa(int(m.Partition)) + "@" + strconv.FormatInt(m.Offset, 10)
}

// validated returns m unchanged for the validated topic, with id as
// message ID.
func validated(m *bus.Message, id string) *bus.Message {
	return &bus.Message{Topic: activities.TopicValidated, Key: m.Key, Value: m.Value, Headers: maps.Clone(m.Headers), ID: id}
}

// EventRow returns the after image of c as a rule sees it (see Row): the
// typed columns of the decoded activity, minus those that are null or
// missing in the event (c.AfterColumns()), plus the columns of the
// event podium does not know, as JSON gives them (numbers as int or
// double).
func EventRow(c *cdc.Change) Row {
	a := c.After
	row := Row{
		"id": a.ID, "employee_id": a.EmployeeID, "start_time": a.StartTime.UTC(), "sport_type": a.SportType,
		"distance_m": a.DistanceM, "elapsed_s": int64(a.ElapsedS), "comment": a.Comment, "source": a.Source,
		"updated_at": a.UpdatedAt.UTC(), "moving_s": int64(a.MovingS), "manual": a.Manual, "trainer": a.Trainer,
		"commute": a.Commute,
	}
	raw := c.AfterColumns()
	if raw == nil {
		return row
	}
	for k := range row {
		v, ok := raw[k]
		if !ok && laterColumns[k] {
			continue // an event from before the column: its default
		}
		if !ok || isNull(v) {
			delete(row, k)
		}
	}
	for k, v := range raw {
		if _, known := row[k]; known || isNull(v) || knownColumn(k) {
			continue
		}
		dec := json.NewDecoder(bytes.NewReader(v))
		dec.UseNumber()
		var x any
		if dec.Decode(&x) != nil {
			continue
		}
		if n, ok := x.(json.Number); ok {
			if i, err := n.Int64(); err == nil {
				x = i
			} else if f, err := n.Float64(); err == nil {
				x = f
			}
		}
		row[k] = x
	}
	return row
}

var activityColumns = map[string]bool{"id": true, "employee_id": true, "start_time": true, "sport_type": true,
	"distance_m": true, "elapsed_s": true, "comment": true, "source": true, "updated_at": true, "moving_s": true, "manual": true,
	"trainer": true, "commute": true}

func knownColumn(k string) bool { return activityColumns[k] }

// laterColumns are the columns sport_activities gained with defaults (NOT
// NULL): an event written before them, or by a connector that does not
// know them, reads as their default rather than as NULL.
var laterColumns = map[string]bool{"moving_s": true, "manual": true, "trainer": true, "commute": true}

func isNull(v json.RawMessage) bool {
	v = bytes.TrimSpace(v)
	return len(v) == 0 || string(v) == "null"
}
