// Package lake is the lakehouse sink of the activities pipeline: the
// processor "activities-lakehouse" reads the validated change events of
// sport_activities and keeps three Apache Iceberg tables (package
// lakehouse):
//
//   - TableBronze, every change event as read, appended;
//   - TableSilver, the current activities, updates and deletes applied;
//   - TableGold, per employee and year, the figures of the rewards policy
//     (rewards.Policy.Gold), from the silver table, the HR register and the
//     commute distances.
//
// An Iceberg commit cannot share a transaction with the store, so each
// commit records, in its snapshot summary (PropPositions), the positions
// on the topic up to which the table holds the events. A restart reads the
// topic from the smallest of the three tables' positions, and each table
// applies only the events beyond its own: a crash between two commits, or
// anywhere else, leaves the tables of an uninterrupted run, with no event
// twice in bronze and none missing. The consumer group's committed
// positions only serve lag reports.
package lake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/commute"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/lakehouse"
	"github.com/podiumhq/podium/internal/stream"
)

// Name is the processor's name and consumer group.
const Name = "activities-lakehouse"

// Defaults of Config.
const (
	DefaultMaxEvents = 10000
	// DefaultCommitInterval is Config.CommitInterval's default.
	DefaultCommitInterval = 10 * time.Second
	// DefaultRetention is Config.Retention's default.
	DefaultRetention = time.Hour
	// DefaultMaintainEvery is how often the tables are maintained.
	DefaultMaintainEvery = 5 * time.Minute
	// DefaultCompactFiles is Config.CompactFiles's default.
	DefaultCompactFiles = 32
	// RetainSnapshots is the number of snapshots of each table that expiry
	// always keeps, whatever their age.
	RetainSnapshots = 10
)

// Config configures the sink.
type Config struct {
	// Lake says where the catalog's files go (the catalog itself is in the
	// store the sink runs against).
	Lake lakehouse.Config
	// Policy computes the gold rows.
	Policy rewards.Policy
	// RulesVersion, when set, is recorded in every snapshot's summary
	// (PropRulesVersion): the version of the rules the rows were computed
	// with (payroll.RulesVersion).
	RulesVersion string
	// Topic defaults to activities.TopicValidated.
	Topic string
	// MaxEvents caps a batch (default DefaultMaxEvents). Each batch costs
	// three commits (a snapshot, a metadata file and a manifest list each).
	MaxEvents int
	// CommitInterval is the least time between two batches (default
	// DefaultCommitInterval) unless a batch is full: events gather under
	// load and on a trickle, and the first event after a quiet interval is
	// written at once. Each snapshot stays in the table's metadata until it
	// expires, so committing per event would grow every later commit.
	CommitInterval time.Duration
	// Retention is how old a snapshot gets before it is expired (the last
	// RetainSnapshots of each table are kept, the current one always, and
	// with it the positions); negative keeps every snapshot, 0 is
	// DefaultRetention. Each commit rewrites the table's metadata with its
	// whole history, so a long-running sink must expire: a quiet topic
	// makes three snapshots per event.
	Retention time.Duration
	// CompactFiles compacts a table's small data files, and merges its
	// manifests, once it has more than this many (every commit adds one of
	// each); negative never, 0 is DefaultCompactFiles.
	CompactFiles int
	// MaintainEvery is how often the tables are maintained (expiry and
	// compaction); default DefaultMaintainEvery.
	MaintainEvery time.Duration
	// Now gives the time of gold computations (rolling-year policy);
	// default time.Now.
	Now func() time.Time
	// Hooks inject faults in tests; nil in production.
	Hooks *Hooks
}

// Hooks are called at fixed points of the sink, for tests.
type Hooks struct {
	// AfterCommit runs after each table's commit of a batch; an error stops
	// the sink as a crash there would.
	AfterCommit func(table string, batch []*bus.Message) error
}

// Runnable returns the sink: a sink stage of the runtime (stream.Sink),
// whose Target is the three Iceberg tables.
func Runnable(cfg Config) stream.Runnable {
	if cfg.Topic == "" {
		cfg.Topic = activities.TopicValidated
	}
	if cfg.MaxEvents <= 0 {
		cfg.MaxEvents = DefaultMaxEvents
	}
	if cfg.CommitInterval <= 0 {
		cfg.CommitInterval = DefaultCommitInterval
	}
	if cfg.MaintainEvery <= 0 {
		cfg.MaintainEvery = DefaultMaintainEvery
	}
	if cfg.Retention == 0 {
		cfg.Retention = DefaultRetention
	}
	if cfg.CompactFiles == 0 {
		cfg.CompactFiles = DefaultCompactFiles
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	return stream.Sink[decoded]{
		Name:  Name,
		Topic: cfg.Topic,
		// Bronze keeps every event as read, the undecodable ones too (with
		// the error): nothing is dead-lettered.
		Decode: func(m *bus.Message) (decoded, error) {
			c, err := cdc.DecodeMessage(m)
			return decoded{msg: m, change: c, err: err}, nil
		},
		Open:     func(ctx context.Context, env stream.Env) (stream.Target[decoded], error) { return open(ctx, cfg, env) },
		Reset:    func(ctx context.Context, env stream.Env) error { return reset(ctx, cfg, env) },
		MaxBatch: cfg.MaxEvents,
		Interval: cfg.CommitInterval,
	}
}

// table is one of the sink's tables with the positions it records.
type table struct {
	*lakehouse.Table
	pos Positions
}

// load reads the table's positions from its last snapshot that has them.
func (t *table) load() error {
	t.pos = Positions{}
	v, ok := t.LastProperty(PropPositions)
	if !ok {
		return nil
	}
	p, err := ParsePositions(v)
	if err != nil {
		return fmt.Errorf("table %s: %w", t.Name(), err)
	}
	t.pos = p
	return nil
}

// run is the open sink: the stage's Target.
type run struct {
	cfg    Config
	env    stream.Env
	log    *slog.Logger
	lake   *lakehouse.Lake
	tables map[string]*table
	// maintained is when the tables were last maintained.
	maintained time.Time
	// recent holds the ids of the events bronze took lately.
	recent *recentEvents
	// mu serialises Load, which the bus's consumer calls when the group
	// assigns the stage a partition, with Commit.
	mu sync.Mutex
}

// openLake opens the lake of cfg in env's store.
func openLake(ctx context.Context, cfg Config, env stream.Env, log *slog.Logger) (*lakehouse.Lake, error) {
	lc := cfg.Lake
	lc.Logger = log
	return lakehouse.Open(ctx, env.Store.DB(), lakehouse.Dialect(env.Store.Dialect()), lc)
}

// open opens the lake and creates the tables if needed.
func open(ctx context.Context, cfg Config, env stream.Env) (*run, error) {
	if err := cfg.Policy.Validate(); err != nil {
		return nil, err
	}
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	// The gold rows read the HR register and the commute distances.
	if err := hr.Migrate(ctx, env.Store); err != nil {
		return nil, err
	}
	if err := commute.Migrate(ctx, env.Store); err != nil {
		return nil, err
	}
	log := env.Logger.With("stage", Name, "topic", cfg.Topic)
	lake, err := openLake(ctx, cfg, env, log)
	if err != nil {
		return nil, err
	}
	r := &run{cfg: cfg, env: env, log: log, lake: lake, tables: map[string]*table{}}
	for _, name := range Tables {
		var t *table
		if name == TableGold {
			t, err = r.ensureGold(ctx) // after silver: an old gold table is computed again from it
		} else {
			var lt *lakehouse.Table
			lt, err = lake.EnsureTable(ctx, name, tableColumns[name], nil)
			t = &table{Table: lt}
		}
		if err == nil {
			err = t.load()
		}
		if err != nil {
			_ = lake.Close()
			return nil, err
		}
		r.tables[name] = t
	}
	if r.recent, err = seedRecent(ctx, r.tables[TableBronze]); err != nil {
		_ = lake.Close()
		return nil, err
	}
	log.Info("lakehouse sink opened", "warehouse", lake.Warehouse(), "positions", r.applied().String())
	return r, nil
}

// reset drops the sink's tables and their files, for a rebuild.
func reset(ctx context.Context, cfg Config, env stream.Env) error {
	lake, err := openLake(ctx, cfg, env, env.Logger)
	if err != nil {
		return err
	}
	defer func() { _ = lake.Close() }()
	for _, name := range Tables {
		if err := lake.DropTable(ctx, name); err != nil && !errors.Is(err, lakehouse.ErrNoSuchTable) {
			return fmt.Errorf("drop %s: %w", name, err)
		}
	}
	return nil
}

// Load implements stream.Target: the positions every table has reached.
func (r *run) Load(context.Context) (map[int32]int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.applied(), nil
}

// Close implements stream.Target.
func (r *run) Close() error { return r.lake.Close() }

// applied returns the positions every table has reached.
func (r *run) applied() Positions {
	ps := make([]Positions, 0, len(Tables))
	for _, name := range Tables {
		ps = append(ps, r.tables[name].pos)
	}
	return Min(ps...)
}

// maxConflicts bounds the retries of a commit another writer beat.
const maxConflicts = 10

// Commit implements stream.Target: it commits batch to each table in turn,
// each only the events beyond its own positions, then maintains the tables
// when it is time.
func (r *run) Commit(ctx context.Context, batch []stream.Record[decoded], _ map[int32]int64) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	// Pointers into batch: a decoded change is some 300 bytes, and the
	// batch holds up to MaxEvents of them.
	changes := make([]*decoded, len(batch))
	for i := range batch {
		changes[i] = &batch[i].Value
	}
	for _, name := range Tables {
		t := r.tables[name]
		for attempt := 0; ; attempt++ {
			fresh := fresh(t.pos, changes)
			if len(fresh) == 0 {
				break
			}
			err := r.apply(ctx, name, t, fresh)
			if err == nil {
				if h := r.cfg.Hooks; h != nil && h.AfterCommit != nil {
					if err := h.AfterCommit(name, msgsOf(fresh)); err != nil {
						return stream.Halt(err)
					}
				}
				break
			}
			if !errors.Is(err, lakehouse.ErrConflict) || attempt >= maxConflicts {
				return err
			}
			r.log.Warn("table changed by another writer; reloading", "table", name, "err", err)
			if err := r.reload(ctx, name); err != nil {
				return err
			}
		}
	}
	r.log.Debug("lakehouse batch committed", "events", len(batch), "positions", r.applied().String())
	r.maintain(ctx)
	return nil
}

// reload reads table name again from the catalog, with what other
// writers committed, and with it their positions: a table's positions are
// always those of the snapshot it was loaded at, so that the next commit
// records the positions of every writer (it is built on that snapshot, or
// fails with a conflict). For bronze it also reads the other writers'
// latest event ids: a copy of one of them published again would be taken
// twice otherwise.
// On an error the table stays as it was.
func (r *run) reload(ctx context.Context, name string) error {
	lt, err := r.lake.Table(ctx, name)
	if err != nil {
		return err
	}
	t := &table{Table: lt}
	if err := t.load(); err != nil {
		return err
	}
	recent := r.recent
	if name == TableBronze {
		if recent, err = seedRecent(ctx, t); err != nil {
			return err
		}
	}
	*r.tables[name] = *t
	r.recent = recent
	return nil
}

type decoded struct {
	msg    *bus.Message
	change cdc.Change
	err    error
}

// fresh returns the events of ds beyond the positions p: ds itself when
// all are.
func fresh(p Positions, ds []*decoded) []*decoded {
	for i, d := range ds {
		if d.msg.Offset < p[d.msg.Partition] {
			out := ds[:i:i] // a copy at the first append
			for _, d := range ds[i+1:] {
				if d.msg.Offset >= p[d.msg.Partition] {
					out = append(out, d)
				}
			}
			return out
		}
	}
	return ds
}

func msgsOf(ds []*decoded) []*bus.Message {
	out := make([]*bus.Message, len(ds))
	for i, d := range ds {
		out[i] = d.msg
	}
	return out
}

// props returns the summary properties of a commit of ds to t.
func (r *run) props(t *table, ds []*decoded) (map[string]string, Positions) {
	next := t.pos.After(msgsOf(ds))
	props := map[string]string{PropPositions: next.String(), PropTopic: r.cfg.Topic, PropEvents: strconv.Itoa(len(ds))}
	if r.cfg.RulesVersion != "" {
		props[PropRulesVersion] = r.cfg.RulesVersion
	}
	return props, next
}

// apply commits ds to the table name.
func (r *run) apply(ctx context.Context, name string, t *table, ds []*decoded) error {
	props, next := r.props(t, ds)
	var err error
	switch name {
	case TableBronze:
		err = t.Append(ctx, bronzeRows(r.recent.fresh(ds)), props)
	case TableSilver:
		err = r.applySilver(ctx, t, ds, props)
	case TableGold:
		err = r.applyGold(ctx, t, ds, props)
	}
	if err != nil {
		return err
	}
	if name == TableBronze {
		r.recent.add(ds)
	}
	t.pos = next
	return nil
}

// eventID returns the id bronze records for d: the message ID, else the
// one derived from the Debezium source block, else the bus position.
func eventID(d *decoded) string {
	id := d.msg.ID
	if d.err == nil && d.change.EventID != "" {
		id = d.change.EventID
	}
	if id == "" {
		id = bus.Position{Topic: d.msg.Topic, Partition: d.msg.Partition, Offset: d.msg.Offset}.String()
	}
	return id
}

func bronzeRows(ds []*decoded) []lakehouse.Row {
	rows := make([]lakehouse.Row, 0, len(ds))
	for _, d := range ds {
		m, c := d.msg, &d.change
		var id, sourceTS, source, before, after, published any
		var op, errText string
		eventID := eventID(d)
		if d.err != nil {
			errText = d.err.Error()
		} else {
			op = string(c.Op)
			if c.ID != 0 || c.Before != nil || c.After != nil {
				id = c.ID
			}
			if c.Source.TsMs != 0 {
				sourceTS = time.UnixMilli(c.Source.TsMs).UTC()
			}
			if !c.Tombstone {
				source = jsonText(c.Source)
			}
			if c.Before != nil {
				before = jsonText(c.Before)
			}
			if c.After != nil {
				after = jsonText(c.After)
			}
		}
		if !m.Time.IsZero() {
			published = m.Time.UTC()
		}
		var value any
		if m.Value != nil {
			value = m.Value
		}
		rows = append(rows, lakehouse.Row{eventID, op, id, c.TsMs, sourceTS, m.Topic, m.Partition, m.Offset, m.Key,
			published, source, before, after, value, errText})
	}
	return rows
}

func jsonText(v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		return nil
	}
	return string(b)
}

// final folds the decoded changes of ds into the final state of each
// activity they touch (see cdc.Final).
func final(ds []*decoded) (map[int64]*activities.Activity, bool) {
	changes := make([]cdc.Change, 0, len(ds))
	for _, d := range ds {
		if d.err == nil {
			changes = append(changes, d.change)
		}
	}
	return cdc.Final(changes)
}

// applySilver replaces the rows of the activities ds touch by their final
// state, in one overwrite.
func (r *run) applySilver(ctx context.Context, t *table, ds []*decoded, props map[string]string) error {
	fin, truncated := final(ds)
	ids := slices.Sorted(maps.Keys(fin))
	var rows []lakehouse.Row
	for _, id := range ids {
		if a := fin[id]; a != nil {
			rows = append(rows, silverRow(a, r.cfg.Policy.Location))
		}
	}
	filter := lakehouse.InInt64("id", ids...)
	if truncated {
		filter = lakehouse.All()
	}
	return t.Overwrite(ctx, filter, rows, props)
}

func silverRow(a *activities.Activity, loc *time.Location) lakehouse.Row {
	local := a.StartTime.In(loc)
	return lakehouse.Row{a.ID, a.EmployeeID, a.StartTime.UTC(), local.Year(), int(local.Month()), a.SportType,
		a.DistanceM, a.ElapsedS, a.Source, a.UpdatedAt.UTC()}
}
