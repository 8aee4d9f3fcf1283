package cdc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/retry"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/stream"
)

// Component is the migration component of the capture's own tables (see
// store.Migrate): its state and, on SQLite, the change table and triggers.
const Component = "activities-cdc"

// SourceVersion is source.version in the events of podium's captures.
const SourceVersion = "podium"

// Defaults of Config.
const (
	DefaultName           = "activities"
	DefaultServerName     = "sportsdata"
	DefaultMaxBatch       = 2000
	DefaultStatusInterval = 10 * time.Second
	DefaultPollInterval   = 5 * time.Millisecond
	DefaultHeartbeat      = 10 * time.Second
)

// Config configures a capture. The zero value of each field is its default.
type Config struct {
	// Name names the capture: on PostgreSQL, the replication slot and the
	// publication are "podium_" + Name. Lower-case letters, digits and
	// underscores; default "activities". Two captures of one database need
	// two names.
	Name string
	// Topic is where events go; default activities.TopicActivities.
	Topic string
	// ServerName is source.name, Debezium's topic prefix; default
	// "sportsdata".
	ServerName string
	// SkipSnapshot leaves out the initial snapshot: a new capture then
	// publishes only the changes made after it first started.
	SkipSnapshot bool
	// NoTombstones leaves out the tombstone (same key, no value) that
	// follows each delete event by default, as Debezium does for Kafka's
	// log compaction; Debezium's tombstones.on.delete=false.
	NoTombstones bool
	// Schema writes keys and values with their schema part, as the JSON
	// converter does with schemas.enable=true: {"schema":…,"payload":…}.
	// Off by default: consumers read both forms.
	Schema bool
	// MaxBatch is the maximum number of events per bus publish; default
	// 2000. Under load, events of many transactions go in one publish; when
	// the table is quiet, each transaction is published at once.
	MaxBatch int
	// Logger receives the capture's logs; default slog.Default().
	Logger *slog.Logger

	// URL is the PostgreSQL store URL (postgres://…), search_path included
	// when the table is not in the default schema. PostgreSQL only.
	URL string
	// StatusInterval is how often the confirmed position is reported to
	// PostgreSQL when it did not move; default 10 s.
	StatusInterval time.Duration
	// HeartbeatInterval is how often the PostgreSQL capture writes a
	// heartbeat into the WAL (pg_logical_emit_message with the prefix
	// HeartbeatPrefix) and reads its slot's figures for Metrics; default
	// 10 s. The heartbeat comes back through the slot, so the slot's
	// confirmed position moves even when the captured table is quiet and
	// the slot never holds WAL that other tables write.
	HeartbeatInterval time.Duration
	// Metrics receives the capture's gauges; nil: none.
	Metrics *Metrics

	// PollInterval is how long the SQLite capture waits before looking
	// for new changes again when there were none; default 5 ms.
	PollInterval time.Duration
}

var validName = regexp.MustCompile(`^[a-z0-9_]{1,50}$`)

// Keys of the capture's settings.
const (
	KeyName       = "activities.capture_name"   // Config.Name
	KeyTombstones = "activities.cdc_tombstones" // !Config.NoTombstones
	KeyHeartbeat  = "activities.cdc_heartbeat"  // Config.HeartbeatInterval
)

// Settings declares the capture's settings.
func Settings() []config.Setting {
	return []config.Setting{{Key: KeyName, Default: DefaultName,
		Usage: "name of the change-data-capture of sport_activities: on PostgreSQL its replication slot and publication are podium_<name>; two podium installations on one database need two names",
		Check: func(v string) error {
			if !validName.MatchString(v) {
				return fmt.Errorf("use 1 to 50 lower-case letters, digits and underscores")
			}
			return nil
		}},
		{Key: KeyTombstones, Default: "true", Kind: config.KindBool,
			Usage: "follow each delete event with a tombstone (same key, null value), as Debezium's tombstones.on.delete"},
		{Key: KeyHeartbeat, Default: DefaultHeartbeat.String(), Kind: config.KindDuration,
			Usage: "how often the PostgreSQL capture writes a heartbeat into the WAL (pg_logical_emit_message), so that a quiet table's slot never holds WAL"},
	}
}

// FromConfig returns the capture's Config from the loaded configuration
// (the settings of Settings must be registered): its name, and the store's
// URL.
func FromConfig(cfg config.Config, log *slog.Logger) Config {
	return Config{Name: cfg.Get(KeyName).String(), URL: cfg.ResolvedStore(), Logger: log,
		NoTombstones: !cfg.Get(KeyTombstones).Bool(), HeartbeatInterval: cfg.Get(KeyHeartbeat).Duration()}
}

// withDefaults returns c with its defaults applied, or an error for an
// invalid field.
func (c Config) withDefaults() (Config, error) {
	if c.Name == "" {
		c.Name = DefaultName
	}
	if !validName.MatchString(c.Name) {
		return c, fmt.Errorf("capture name %q: use 1 to 50 lower-case letters, digits and underscores", c.Name)
	}
	if c.Topic == "" {
		c.Topic = activities.TopicActivities
	}
	if c.ServerName == "" {
		c.ServerName = DefaultServerName
	}
	if c.MaxBatch <= 0 {
		c.MaxBatch = DefaultMaxBatch
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	if c.StatusInterval <= 0 {
		c.StatusInterval = DefaultStatusInterval
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.HeartbeatInterval <= 0 {
		c.HeartbeatInterval = DefaultHeartbeat
	}
	return c, nil
}

// Slot returns the name of the capture's replication slot and publication
// on PostgreSQL.
func (c Config) Slot() string {
	name := c.Name
	if name == "" {
		name = DefaultName
	}
	return "podium_" + name
}

// Capture publishes the changes of the activities table to the bus.
type Capture interface {
	// Run publishes changes until ctx ends (then it returns nil) or a
	// fatal error. After a restart it resumes where the bus last
	// acknowledged.
	Run(ctx context.Context, b bus.Bus) error
}

// New returns the capture for store s: logical replication on PostgreSQL,
// whose URL (s's) must be in cfg.URL, or triggers on SQLite.
func New(s *store.Store, cfg Config) (Capture, error) {
	switch s.Dialect() {
	case store.Postgres:
		return NewPostgres(cfg)
	case store.SQLite:
		return NewSQLite(s, cfg)
	}
	return nil, fmt.Errorf("change-data-capture: unknown store dialect %q", s.Dialect())
}

// Supervise runs c until ctx ends, starting it again after a failure (a
// database restart, a lost connection) with a backoff of 1 s doubling up
// to a minute, back to 1 s after a run that lasted a minute. Restarts
// resume where the bus last acknowledged; failures are logged to log.
// serve, demo and `podium activities capture` all run the capture through
// it.
func Supervise(ctx context.Context, c Capture, b bus.Bus, log *slog.Logger) {
	if log == nil {
		log = slog.Default()
	}
	stream.Restart(ctx, log, "change-data-capture", func(ctx context.Context) error { return c.Run(ctx, b) })
}

// hooks let tests stop a capture at chosen points.
type hooks struct {
	// published is called after each publish the bus acknowledged, before
	// the position moves: snapshot tells whether it held snapshot events.
	published func(snapshot bool, events int)
	// prepared is called between the preparation of the PostgreSQL slot
	// and the start of its stream.
	prepared func()
}

func (h *hooks) afterPublish(snapshot bool, events int) {
	if h != nil && h.published != nil {
		h.published(snapshot, events)
	}
}

// publish publishes msgs, retrying with backoff while the bus fails, until
// ctx ends. Re-published events keep their IDs, so a retry of a partly
// stored publish doubles nothing (JetStream) or only what consumers drop.
func publish(ctx context.Context, b bus.Bus, log *slog.Logger, msgs []*bus.Message) error {
	for attempt := 1; ; attempt++ {
		err := b.Publish(ctx, msgs...)
		if err == nil {
			return nil
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if errors.Is(err, bus.ErrClosed) {
			return fmt.Errorf("publish %d change events: %w", len(msgs), err)
		}
		wait := publishBackoff.Delay(attempt)
		log.Warn("publish change events failed; retrying", "events", len(msgs), "attempt", attempt, "retry_in", wait, "err", err)
		if err := retry.Sleep(ctx, wait); err != nil {
			return err
		}
	}
}

// publishBackoff paces the retries of a publish the bus refused.
var publishBackoff = retry.Backoff{Initial: 50 * time.Millisecond, Max: 5 * time.Second}

// Dedup drops re-delivered change events by their EventID. It remembers a
// bounded number of the last ids seen (NewDedup's size): delivery after a
// restart repeats at most the events published since the last acknowledged
// position, far fewer than that.
type Dedup struct {
	seen map[string]struct{}
	ring []string
	next int
}

// NewDedup returns a Dedup remembering the last size ids (100,000 if size
// is not positive).
func NewDedup(size int) *Dedup {
	if size <= 0 {
		size = 100_000
	}
	return &Dedup{seen: make(map[string]struct{}, size), ring: make([]string, size)}
}

// Seen reports whether id was seen before, and remembers it. An empty id is
// never seen.
func (d *Dedup) Seen(id string) bool {
	if id == "" {
		return false
	}
	if _, ok := d.seen[id]; ok {
		return true
	}
	if old := d.ring[d.next]; old != "" {
		delete(d.seen, old)
	}
	d.ring[d.next] = id
	d.next = (d.next + 1) % len(d.ring)
	d.seen[id] = struct{}{}
	return false
}

// newEvent returns an event with the processing times set to now.
func newEvent(op Op, before, after []byte, src Source) *Event {
	now := time.Now()
	return &Event{Before: before, After: after, Source: src, Op: op,
		TsMs: now.UnixMilli(), TsUs: now.UnixMicro(), TsNs: now.UnixNano()}
}

// sourceTimes sets the ts fields of src to t.
func sourceTimes(src *Source, t time.Time) {
	src.TsMs, src.TsUs, src.TsNs = t.UnixMilli(), t.UnixMicro(), t.UnixNano()
}

// Message header names Debezium adds to the two events of a primary key
// change.
const (
	HeaderNewKey = "__debezium.newkey" // on the delete event: the row's new key
	HeaderOldKey = "__debezium.oldkey" // on the create event: the row's old key
)

// rowChange is one row-level change to publish, as both captures see it.
type rowChange struct {
	op            Op
	before, after *image
	schemas       *schemas // nil without Config.Schema
}

// messageEvent returns the message of an op "m" event: Debezium's key
// {"prefix":…} and value with the message block (content in base64).
// Its ID is left to the caller.
func (c Config) messageEvent(prefix string, content []byte, src Source) *bus.Message {
	ev := newEvent(OpMessage, nil, nil, src)
	if content == nil {
		content = []byte{}
	}
	ev.Message = &LogicalMessage{Prefix: prefix, Content: content}
	v := ev.appendJSON(make([]byte, 0, 512+len(content)*4/3))
	key := appendString([]byte(`{"prefix":`), prefix)
	key = append(key, '}')
	if c.Schema {
		v = wrap(messageValueSchema, v)
		key = wrap(messageKeySchema, key)
	}
	return &bus.Message{Topic: c.Topic, Key: string(key), Value: v}
}

// The schema parts of message events' values and keys, with the names
// Debezium's PostgreSQL connector gives them.
var (
	messageValueSchema = []byte(`{"type":"struct","fields":[],"optional":false,"name":"io.debezium.connector.postgresql.MessageValue"}`)
	messageKeySchema   = []byte(`{"type":"struct","fields":[{"type":"string","optional":false,"field":"prefix"}],"optional":false,"name":"io.debezium.connector.postgresql.MessageKey"}`)
)

// messages turns a change into the bus messages of its events: one event;
// a delete then a create when the update changed the primary key (as
// Debezium does); each delete followed by a tombstone unless NoTombstones
// (no tombstone for a delete without a key: REPLICA IDENTITY NOTHING). id
// returns the message ID of the change's n-th message.
func (c Config) messages(ch rowChange, src Source, id func(n int) string) []*bus.Message {
	var out []*bus.Message
	add := func(op Op, before, after *image, headers map[string]string) {
		var b, a []byte
		key := ""
		if before != nil {
			b, key = before.row, string(before.key)
		}
		if after != nil {
			a, key = after.row, string(after.key)
		}
		v := newEvent(op, b, a, src).appendJSON(make([]byte, 0, 512+len(a)+len(b)))
		if ch.schemas != nil {
			v = wrap(ch.schemas.value, v)
			if key != "" {
				key = string(wrap(ch.schemas.key, []byte(key)))
			}
		}
		out = append(out, &bus.Message{Topic: c.Topic, Key: key, Value: v, ID: id(len(out)), Headers: headers})
		if op == OpDelete && !c.NoTombstones && key != "" {
			out = append(out, &bus.Message{Topic: c.Topic, Key: key, ID: id(len(out))})
		}
	}
	if ch.op == OpUpdate && ch.before != nil && string(ch.before.key) != string(ch.after.key) {
		add(OpDelete, ch.before, nil, map[string]string{HeaderNewKey: string(ch.after.key)})
		add(OpCreate, nil, ch.after, map[string]string{HeaderOldKey: string(ch.before.key)})
		return out
	}
	add(ch.op, ch.before, ch.after, nil)
	return out
}
