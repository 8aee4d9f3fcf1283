// Package benchjob is podium's benchmark job: the one `podium bench` runs
// against the configured bus and store, and the one the `go test -bench`
// suite of this package measures. Its figures are only comparable from run
// to run because what it measures is fixed here:
//
//   - The event is an activity as the activities pipeline carries it,
//     activities.Activity in JSON: id, employee_id, start_time, sport_type,
//     distance_m, elapsed_s, comment, source, updated_at — 200 bytes by
//     default (DefaultSize); another size pads or trims the comment.
//     updated_at is the time the event was published (the latency phase
//     measures from it). Every event has its own id; the key is the
//     employee id (16 employees).
//   - Decode is activities.DecodeJSON into activities.Activity, which
//     gives exactly what encoding/json gives (the same Activity, an error
//     exactly when encoding/json gives one; FuzzDecodeJSON compares them)
//     by reading the common shape by hand, then checks: an id, an employee
//     id, a sport type, a distance ≥ 0 (an event failing them is a dead
//     letter). Runs before it decoded with encoding/json itself.
//   - The table has seven columns: id BIGINT PRIMARY KEY, employee_id TEXT,
//     start_time TIMESTAMPTZ, sport_type TEXT, distance_m DOUBLE PRECISION,
//     elapsed_s INTEGER, comment TEXT, each event upserted into it
//     (store.InsertRows … ON CONFLICT (id) DO UPDATE SET every other
//     column) by a table stage of internal/stream: positions committed in
//     the same transaction, as every podium table stage does.
//
// The topic, the stage and the table of a run are scratch ones, named
// after the run (podium.bench.<id>, podium-bench-<id>, podium_bench_<id>),
// and removed when it ends (Job.Cleanup).
package benchjob

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing/fstest"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/stream"
)

// DefaultSize is the default size of an event in bytes: about what an
// activity of the pipeline weighs in JSON.
const DefaultSize = 200

// Event is the benchmark's event.
type Event = activities.Activity

// Columns are the columns of the job's table, in the order of Row.
var Columns = []string{"id", "employee_id", "start_time", "sport_type", "distance_m", "elapsed_s", "comment"}

// Job names the scratch topic, stage and table of one run.
type Job struct {
	ID    string
	Topic string
	Stage string
	Table string
}

// New returns a job with a fresh random id.
func New() Job {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return Named(hex.EncodeToString(b[:]))
}

// Named returns the job of run id (letters, digits).
func Named(id string) Job {
	return Job{ID: id, Topic: "podium.bench." + id, Stage: "podium-bench-" + id, Table: "podium_bench_" + id}
}

// Schema is the CREATE TABLE statement of a job table named table.
func Schema(table string) string {
	return `CREATE TABLE ` + table + ` (
	id          BIGINT PRIMARY KEY,
	employee_id TEXT NOT NULL,
	start_time  TIMESTAMPTZ NOT NULL,
	sport_type  TEXT NOT NULL,
	distance_m  DOUBLE PRECISION NOT NULL,
	elapsed_s   INTEGER NOT NULL,
	comment     TEXT)`
}

var sports = []string{"Run", "Ride", "Walk", "Swim", "Hike", "NordicSki"}

// NewEvent returns event i, published at sent, as JSON of size bytes
// (within a byte or two: at least the size of the event with an empty
// comment).
func NewEvent(i int64, size int, sent time.Time) []byte {
	e := Event{
		ID:         i,
		EmployeeID: strconv.FormatInt(1001+i%16, 10),
		StartTime:  time.Date(2025, 1, 1, 7, 0, 0, 0, time.UTC).Add(time.Duration(i%350_000) * time.Minute),
		SportType:  sports[i%int64(len(sports))],
		DistanceM:  float64(1000 + i%20_000),
		ElapsedS:   int(600 + i%7200),
		Source:     activities.SourceGenerator,
		UpdatedAt:  sent.UTC(),
	}
	b, _ := json.Marshal(e)
	if pad := size - len(b); pad > 0 {
		e.Comment = strings.Repeat("x", pad)
		b, _ = json.Marshal(e)
	}
	return b
}

// Message returns event i as a message of j's topic.
func (j Job) Message(i int64, size int, sent time.Time) *bus.Message {
	return &bus.Message{Topic: j.Topic, Key: strconv.FormatInt(1001+i%16, 10), Value: NewEvent(i, size, sent)}
}

// Decode parses and checks an event.
func Decode(m *bus.Message) (Event, error) {
	e, err := activities.DecodeJSON(m.Value)
	if err != nil {
		return e, fmt.Errorf("decode activity: %w", err)
	}
	switch {
	case e.ID == 0:
		return e, errors.New("activity has no id")
	case e.EmployeeID == "":
		return e, errors.New("activity has no employee_id")
	case e.SportType == "":
		return e, errors.New("activity has no sport_type")
	case e.DistanceM < 0:
		return e, fmt.Errorf("activity distance_m %v is negative", e.DistanceM)
	}
	return e, nil
}

// Row returns the table row of e, in the order of Columns.
func Row(e Event) []any {
	return []any{e.ID, e.EmployeeID, e.StartTime, e.SportType, e.DistanceM, e.ElapsedS, e.Comment}
}

// Upsert writes events into table, one row each, inserted or updated.
func Upsert(ctx context.Context, tx *sql.Tx, table string, events []Event) error {
	rows := make([][]any, len(events))
	for i, e := range events {
		rows[i] = Row(e)
	}
	return store.InsertRows(ctx, tx, insertHead(table), rows,
		`ON CONFLICT (id) DO UPDATE SET employee_id = excluded.employee_id, start_time = excluded.start_time,
		sport_type = excluded.sport_type, distance_m = excluded.distance_m, elapsed_s = excluded.elapsed_s,
		comment = excluded.comment`)
}

func insertHead(table string) string {
	return `INSERT INTO ` + table + ` (` + strings.Join(Columns, ", ") + `)`
}

// Processor returns the job's table stage; after is called with each
// committed batch.
func (j Job) Processor(after func(batch []stream.Record[Event])) stream.Processor[Event] {
	return stream.Processor[Event]{
		Name:       j.Stage,
		Topic:      j.Topic,
		Migrations: fstest.MapFS{"0001_bench.sql": {Data: []byte(Schema(j.Table))}},
		Tables:     []string{j.Table},
		Decode:     Decode,
		Handle: func(ctx context.Context, tx *sql.Tx, batch []stream.Record[Event]) error {
			events := make([]Event, len(batch))
			for i, r := range batch {
				events[i] = r.Value
			}
			return Upsert(ctx, tx, j.Table, events)
		},
		AfterCommit: after,
	}
}

// Cleanup removes what the run left: its topic (and the topic's dead
// letters), its tables, its positions and its migration records. It runs
// to the end even when ctx is cancelled (Ctrl-C), within 30 s.
func (j Job) Cleanup(ctx context.Context, b bus.Bus, s *store.Store) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	var errs []error
	for _, t := range []string{j.Topic, j.Topic + ".dlq"} {
		if err := b.DeleteTopic(ctx, t); err != nil && !errors.Is(err, bus.ErrUnknownTopic) {
			errs = append(errs, fmt.Errorf("delete topic %s: %w", t, err))
		}
	}
	if err := s.DropTables(ctx, j.Table, j.Table+"_raw"); err != nil {
		errs = append(errs, err)
	}
	if err := s.Forget(ctx, j.Stage); err != nil {
		errs = append(errs, err)
	}
	if err := stream.Migrate(ctx, s, stream.Spec{}); err != nil {
		errs = append(errs, err)
	} else if _, err := s.DB().ExecContext(ctx, `DELETE FROM podium_positions WHERE processor = $1`, j.Stage); err != nil {
		errs = append(errs, fmt.Errorf("delete positions of %s: %w", j.Stage, err))
	}
	return errors.Join(errs...)
}
