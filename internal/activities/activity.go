// Package activities is the activity stream: sport activities of employees
// arrive from the generator, the API and Strava, are written to the
// operational table sport_activities, and every change of that table becomes
// a Debezium-compatible change event on TopicActivities (package cdc).
package activities

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/activities/migrations"
	"github.com/podiumhq/podium/internal/store"
)

// Table is the operational table of activities.
const Table = "sport_activities"

// TopicActivities is the topic of the change events of Table. Its name
// follows Debezium's <prefix>.<schema>.<table>, so that podium can read the
// topic of an existing Debezium deployment.
const TopicActivities = "sportsdata.public.sport_activities"

// TopicValidated is the clean change stream: the events of TopicActivities
// that passed the data-quality expectations (package quality), unchanged.
// The sinks (rewards, Slack, lakehouse) read it; failing events are
// quarantined instead.
const TopicValidated = "sportsdata.activities.validated"

// Component is the migration component of Table (see store.Migrate).
const Component = "activities"

// The writers of activities, the values of Activity.Source.
const (
	SourceGenerator = "generator"
	SourceAPI       = "api"
	SourceStrava    = "strava"
)

// Activity is one row of Table.
type Activity struct {
	ID         int64     `json:"id"`
	EmployeeID string    `json:"employee_id"`
	StartTime  time.Time `json:"start_time"`
	SportType  string    `json:"sport_type"`
	DistanceM  float64   `json:"distance_m"`
	ElapsedS   int       `json:"elapsed_s"`
	Comment    string    `json:"comment"`
	// Source is the writer: SourceGenerator, SourceAPI or SourceStrava.
	Source    string    `json:"source"`
	UpdatedAt time.Time `json:"updated_at"`
	// MovingS is the moving time in seconds; 0 when unknown (Strava gives
	// it, the generator and the API do not).
	MovingS int `json:"moving_s"`
	// Manual is an activity entered by hand on Strava; Trainer one recorded
	// on a training machine (a home trainer, a treadmill, a virtual ride);
	// Commute one its athlete marked a commute.
	Manual  bool `json:"manual"`
	Trainer bool `json:"trainer"`
	Commute bool `json:"commute"`
}

// Migrate creates or updates Table in s.
func Migrate(ctx context.Context, s *store.Store) error {
	return s.Migrate(ctx, Component, migrations.Activities())
}

// Execer is what Upsert and Delete write through: a *sql.DB, *sql.Tx or
// *sql.Conn.
type Execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// columns lists the columns of Table in table order.
const columns = "id, employee_id, start_time, sport_type, distance_m, elapsed_s, comment, source, updated_at, moving_s, manual, trainer, commute"

// Columns lists the columns of Table in table order, for SELECTs that scan
// into an Activity with Scan.
const Columns = columns

// Scan reads a row of Columns into a.
func (a *Activity) Scan(row interface{ Scan(...any) error }) error {
	return row.Scan(&a.ID, &a.EmployeeID, &a.StartTime, &a.SportType, &a.DistanceM, &a.ElapsedS, &a.Comment, &a.Source,
		&a.UpdatedAt, &a.MovingS, &a.Manual, &a.Trainer, &a.Commute)
}

// upsertChunk is the number of ids per DELETE statement: far below both
// databases' parameter limits.
const upsertChunk = 200

// upsertTail makes Upsert's INSERT update the row that has the id.
const upsertTail = `ON CONFLICT (id) DO UPDATE SET employee_id = excluded.employee_id,
	start_time = excluded.start_time, sport_type = excluded.sport_type,
	distance_m = excluded.distance_m, elapsed_s = excluded.elapsed_s, comment = excluded.comment,
	source = excluded.source, updated_at = excluded.updated_at, moving_s = excluded.moving_s,
	manual = excluded.manual, trainer = excluded.trainer, commute = excluded.commute`

// Upsert inserts acts into Table, or updates the rows that have their ids,
// with store.InsertRows (COPY on PostgreSQL, prepared ? statements on
// SQLite) in the transaction db, or in a transaction of its own when db is
// a *sql.DB. acts must not repeat an id. Times are stored in UTC,
// truncated to microseconds (PostgreSQL's precision); a zero UpdatedAt is
// set to the current time.
func Upsert(ctx context.Context, db Execer, acts ...Activity) error {
	now := time.Now()
	rows := make([][]any, len(acts))
	for i, a := range acts {
		if a.Source == "" {
			return fmt.Errorf("upsert activity %d: source is empty (want %s, %s or %s)", a.ID, SourceGenerator, SourceAPI, SourceStrava)
		}
		updated := a.UpdatedAt
		if updated.IsZero() {
			updated = now
		}
		rows[i] = []any{a.ID, a.EmployeeID, dbTime(a.StartTime), a.SportType, a.DistanceM, a.ElapsedS,
			a.Comment, a.Source, dbTime(updated), a.MovingS, a.Manual, a.Trainer, a.Commute}
	}
	write := func(tx *sql.Tx) error {
		if err := store.InsertRows(ctx, tx, "INSERT INTO "+Table+" ("+columns+")", rows, upsertTail); err != nil {
			return fmt.Errorf("upsert %d activities into %s: %w", len(acts), Table, err)
		}
		return nil
	}
	switch db := db.(type) {
	case *sql.Tx:
		return write(db)
	case *sql.DB:
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return fmt.Errorf("upsert %d activities into %s: %w", len(acts), Table, err)
		}
		defer func() { _ = tx.Rollback() }() // a no-op after Commit
		if err := write(tx); err != nil {
			return err
		}
		return tx.Commit()
	}
	return fmt.Errorf("upsert activities: want a *sql.Tx or a *sql.DB, got %T", db)
}

// Delete deletes the activities with the given ids; missing ones are
// ignored.
func Delete(ctx context.Context, db Execer, ids ...int64) error {
	for start := 0; start < len(ids); start += upsertChunk {
		chunk := ids[start:min(start+upsertChunk, len(ids))]
		var q strings.Builder
		q.WriteString("DELETE FROM " + Table + " WHERE id IN (")
		args := make([]any, len(chunk))
		for i, id := range chunk {
			if i > 0 {
				q.WriteString(", ")
			}
			fmt.Fprintf(&q, "$%d", i+1)
			args[i] = id
		}
		q.WriteString(")")
		if _, err := db.ExecContext(ctx, q.String(), args...); err != nil {
			return fmt.Errorf("delete %d activities from %s: %w", len(chunk), Table, err)
		}
	}
	return nil
}

// dbTime is t as stored: UTC, microseconds.
func dbTime(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
