// Package review is the review queue of the activities held by the
// data-quality rules (package quality): list them with the rule that held
// each and its numbers, approve one — it is released into the validated
// topic, so that rewards and the lake count it, once — or reject it. Every
// decision is recorded (who, when, why) in activities_reviews and shown in
// the employee's history, with the flags of their activities. The CLI is
// `podium activities review list|approve|reject`, the page
// /activities/review (Handler).
package review

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/quality"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/store"
)

// Held is a quarantined event: the activity as it was held, the rule that
// held it and every failing rule with the values it read.
type Held struct {
	EventID       string
	ActivityID    int64
	EmployeeID    string
	Rule          string
	Message       string
	Failures      []quality.Failure
	QuarantinedAt time.Time
	Status        string // quality.StatusHeld, StatusApproved, StatusRejected
	ReleasedAt    time.Time
	// Activity is the after image of the event (nil for one that has none).
	Activity *activities.Activity
	// Decision is the review decision, nil while held.
	Decision *Decision
}

// SpeedKmh is the activity's average speed over its moving time (else its
// elapsed time), 0 when it has no time.
func (h Held) SpeedKmh() float64 {
	a := h.Activity
	if a == nil {
		return 0
	}
	t := a.MovingS
	if t <= 0 {
		t = a.ElapsedS
	}
	if t <= 0 {
		return 0
	}
	return a.DistanceM / float64(t) * 3.6
}

// DistanceKm is the activity's distance in km, to the metre.
func (h Held) DistanceKm() float64 {
	if h.Activity == nil {
		return 0
	}
	return math.Round(h.Activity.DistanceM) / 1000
}

// Elapsed is the activity's elapsed time as h:mm:ss.
func (h Held) Elapsed() string {
	if h.Activity == nil {
		return ""
	}
	return clock(h.Activity.ElapsedS)
}

// Moving is the activity's moving time as h:mm:ss.
func (h Held) Moving() string {
	if h.Activity == nil {
		return ""
	}
	return clock(h.Activity.MovingS)
}

// Unreleased reports whether h is approved but not yet published (the bus
// refused it: Release tries again).
func (h Held) Unreleased() bool { return h.Status == quality.StatusApproved && h.ReleasedAt.IsZero() }

// StatusText is h's status, "approved, waiting for the bus" while
// Unreleased.
func (h Held) StatusText() string {
	if h.Unreleased() {
		return h.Status + ", waiting for the bus"
	}
	return h.Status
}

func clock(s int) string { return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60) }

// Decision is one review decision.
type Decision struct {
	EventID    string
	ActivityID int64
	EmployeeID string
	Rule       string
	Decision   string // approved or rejected
	Reason     string
	By         string
	At         time.Time
}

// Flag is a warning rule an activity failed: it counts, and is shown.
type Flag struct {
	EventID    string
	ActivityID int64
	EmployeeID string
	Rule       string
	Message    string
	Values     map[string]any
	At         time.Time
}

// Migrate creates or updates the tables of the queue.
func Migrate(ctx context.Context, s *store.Store) error {
	if err := activities.Migrate(ctx, s); err != nil {
		return err
	}
	return quality.MigrateReviews(ctx, s)
}

// Filter selects the held events List returns.
type Filter struct {
	// Status is held (the default), approved, rejected or all.
	Status string
	// Employee, when set, keeps that employee's only.
	Employee string
	// Limit caps the rows; 0 is 200.
	Limit int
}

const heldColumns = `q.event_id, q.activity_id, q.employee_id, q.rule, q.message, q.failures, q.quarantined_at, q.status,
	q.released_at, q.event, r.decision, r.reason, r.decided_by, r.decided_at`

// List returns the quarantined events f selects, newest first.
func List(ctx context.Context, db *sql.DB, f Filter) ([]Held, error) {
	where, args := []string{"1 = 1"}, []any{}
	switch f.Status {
	case "", quality.StatusHeld:
		where, args = append(where, fmt.Sprintf("q.status = $%d", len(args)+1)), append(args, quality.StatusHeld)
	case quality.StatusApproved, quality.StatusRejected:
		where, args = append(where, fmt.Sprintf("q.status = $%d", len(args)+1)), append(args, f.Status)
	case "all":
	default:
		return nil, fmt.Errorf("status %q: use held, approved, rejected or all", f.Status)
	}
	if f.Employee != "" {
		where, args = append(where, fmt.Sprintf("q.employee_id = $%d", len(args)+1)), append(args, f.Employee)
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 200
	}
	rows, err := db.QueryContext(ctx, `SELECT `+heldColumns+` FROM `+quality.TableQuarantine+` q
		LEFT JOIN `+quality.TableReviews+` r ON r.event_id = q.event_id
		WHERE `+strings.Join(where, " AND ")+` ORDER BY q.quarantined_at DESC, q.event_id LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("read the review queue: %w", err)
	}
	defer rows.Close()
	var out []Held
	for rows.Next() {
		h, err := scanHeld(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the review queue: %w", err)
	}
	return out, nil
}

func scanHeld(row interface{ Scan(...any) error }) (Held, error) {
	var h Held
	var failures, event string
	var released, decidedAt sql.NullTime
	var decision, reason, by sql.NullString
	if err := row.Scan(&h.EventID, &h.ActivityID, &h.EmployeeID, &h.Rule, &h.Message, &failures, &h.QuarantinedAt, &h.Status,
		&released, &event, &decision, &reason, &by, &decidedAt); err != nil {
		return h, fmt.Errorf("read the review queue: %w", err)
	}
	h.ReleasedAt = released.Time
	_ = json.Unmarshal([]byte(failures), &h.Failures)
	if c, err := cdc.Decode([]byte(event)); err == nil && c.After != nil {
		h.Activity = c.After
	}
	if decision.Valid {
		h.Decision = &Decision{EventID: h.EventID, ActivityID: h.ActivityID, EmployeeID: h.EmployeeID, Rule: h.Rule,
			Decision: decision.String, Reason: reason.String, By: by.String, At: decidedAt.Time}
	}
	return h, nil
}

// Flags returns the flags of employee's activities (every employee's when
// empty), newest first.
func Flags(ctx context.Context, db *sql.DB, employee string, limit int) ([]Flag, error) {
	if limit <= 0 {
		limit = 200
	}
	q, args := `SELECT event_id, activity_id, employee_id, rule, message, vals, flagged_at FROM `+quality.TableFlags, []any{}
	if employee != "" {
		q, args = q+` WHERE employee_id = $1`, append(args, employee)
	}
	rows, err := db.QueryContext(ctx, q+` ORDER BY flagged_at DESC, event_id LIMIT `+strconv.Itoa(limit), args...)
	if err != nil {
		return nil, fmt.Errorf("read the flags: %w", err)
	}
	defer rows.Close()
	var out []Flag
	for rows.Next() {
		var f Flag
		var vals string
		if err := rows.Scan(&f.EventID, &f.ActivityID, &f.EmployeeID, &f.Rule, &f.Message, &vals, &f.At); err != nil {
			return nil, fmt.Errorf("read the flags: %w", err)
		}
		_ = json.Unmarshal([]byte(vals), &f.Values)
		out = append(out, f)
	}
	return out, rows.Err()
}

// ErrNotFound is an id that names no held event.
var ErrNotFound = errors.New("no held activity with that id")

// rowQuerier is a *sql.DB or a *sql.Tx.
type rowQuerier interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}

// find returns the quarantined event id names: an event id, or an activity
// id (its newest held event).
func find(ctx context.Context, q rowQuerier, id string) (Held, error) {
	h, err := scanHeld(q.QueryRowContext(ctx, `SELECT `+heldColumns+` FROM `+quality.TableQuarantine+` q
		LEFT JOIN `+quality.TableReviews+` r ON r.event_id = q.event_id WHERE q.event_id = $1`, id))
	if err == nil {
		return h, nil
	}
	if n, perr := strconv.ParseInt(id, 10, 64); perr == nil {
		h, err = scanHeld(q.QueryRowContext(ctx, `SELECT `+heldColumns+` FROM `+quality.TableQuarantine+` q
			LEFT JOIN `+quality.TableReviews+` r ON r.event_id = q.event_id WHERE q.activity_id = $1
			ORDER BY CASE WHEN q.status = $2 THEN 0 ELSE 1 END, q.quarantined_at DESC LIMIT 1`, n, quality.StatusHeld))
		if err == nil {
			return h, nil
		}
	}
	if errors.Is(err, sql.ErrNoRows) || strings.Contains(err.Error(), sql.ErrNoRows.Error()) {
		return h, fmt.Errorf("%w: %s (podium activities review list shows them)", ErrNotFound, id)
	}
	return h, err
}

// Get returns the quarantined event id names (an event id or an activity
// id).
func Get(ctx context.Context, db *sql.DB, id string) (Held, error) { return find(ctx, db, id) }

// Queue decides on held events.
type Queue struct {
	Store *store.Store
	// Bus receives the approved events on the validated topic.
	Bus bus.Bus
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Log receives the releases Run makes and the approvals it finds
	// superseded; nil discards.
	Log *slog.Logger
}

// DefaultReleaseInterval is how often Run retries the releases that
// failed.
const DefaultReleaseInterval = 10 * time.Second

// Approve records the approval of the held event id (an event id or an
// activity id) by who, for reason, then releases it: the event, unchanged,
// on the validated topic with its event id as message id — the id it would
// have had had it passed — so that rewards and the lake count it once
// (JetStream drops a repeated publish, the sinks are idempotent per
// activity and the lake's bronze per event id).
//
// The approval is durable before the publish: the decision and the
// quarantine's status approved with released_at unset — the queue's
// outbox mark, "to be published" — land in one transaction, and Release
// publishes the marked events. Approve runs it (releasing any earlier
// approval still waiting too); when the bus refuses, the error says so, the
// approval stands, and the next Approve or Run (podium serve, at start and
// every DefaultReleaseInterval) releases it once the bus is back.
func (q *Queue) Approve(ctx context.Context, id, who, reason string) (Held, error) {
	h, err := q.decide(ctx, id, quality.StatusApproved, who, reason)
	if err != nil {
		return h, err
	}
	if _, err := q.Release(ctx); err != nil {
		return h, fmt.Errorf("the approval is recorded, but releasing the activity failed; podium serve releases it once the bus is back (or approve it again): %w", err)
	}
	return h, nil
}

// Reject records the rejection of the held event id by who, for reason:
// it stays out of rewards and the lake.
func (q *Queue) Reject(ctx context.Context, id, who, reason string) (Held, error) {
	return q.decide(ctx, id, quality.StatusRejected, who, reason)
}

func (q *Queue) now() time.Time {
	if q.Now != nil {
		return q.Now()
	}
	return time.Now()
}

// errDecided is a decision on an event decided already.
type errDecided struct{ d *Decision }

func (e errDecided) Error() string {
	return fmt.Sprintf("already %s by %s at %s: %s", e.d.Decision, e.d.By, e.d.At.UTC().Format(time.RFC3339), e.d.Reason)
}

// decide records a decision in one transaction with the quarantine's
// status. An approved event not released yet is returned as it is, for
// release.
func (q *Queue) decide(ctx context.Context, id, decision, who, reason string) (Held, error) {
	who, reason = strings.TrimSpace(who), strings.TrimSpace(reason)
	switch {
	case who == "":
		return Held{}, errors.New("say who decides (--by, or the name you signed in with)")
	case reason == "":
		return Held{}, errors.New("give the reason of the decision (--reason): it is recorded and shown in the employee's history")
	case len(reason) > 1000:
		return Held{}, errors.New("the reason is longer than 1000 characters")
	}
	if err := Migrate(ctx, q.Store); err != nil {
		return Held{}, err
	}
	var h Held
	err := q.Store.InTx(ctx, func(tx *sql.Tx) error {
		var err error
		h, err = find(ctx, tx, id)
		if err != nil {
			return err
		}
		if h.Decision != nil {
			if h.Decision.Decision == quality.StatusApproved && decision == quality.StatusApproved && h.ReleasedAt.IsZero() {
				return nil // released below
			}
			return errDecided{h.Decision}
		}
		if decision == quality.StatusApproved {
			if err := current(ctx, tx, h); err != nil {
				return err
			}
		}
		now := q.now().UTC()
		if _, err := tx.ExecContext(ctx, `INSERT INTO `+quality.TableReviews+` (event_id, activity_id, employee_id, rule, decision,
			reason, decided_by, decided_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
			h.EventID, h.ActivityID, h.EmployeeID, h.Rule, decision, reason, who, now); err != nil {
			return fmt.Errorf("record the decision: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE `+quality.TableQuarantine+` SET status = $1 WHERE event_id = $2`, decision, h.EventID); err != nil {
			return fmt.Errorf("record the decision: %w", err)
		}
		h.Status = decision
		h.Decision = &Decision{EventID: h.EventID, ActivityID: h.ActivityID, EmployeeID: h.EmployeeID, Rule: h.Rule,
			Decision: decision, Reason: reason, By: who, At: now}
		return nil
	})
	return h, err
}

// current checks that the held event is still the activity's current
// version: a later change of the activity went through the rules on its own
// and releasing an older version would undo it.
func current(ctx context.Context, tx rowQuerier, h Held) error {
	if h.Activity == nil {
		return errors.New("the held event has no activity to release")
	}
	var a activities.Activity
	err := a.Scan(tx.QueryRowContext(ctx, `SELECT `+activities.Columns+` FROM `+activities.Table+` WHERE id = $1`, h.ActivityID))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return fmt.Errorf("activity %d was deleted since it was held: nothing to release (reject it to close it)", h.ActivityID)
	case err != nil:
		return fmt.Errorf("read activity %d: %w", h.ActivityID, err)
	case !a.UpdatedAt.Equal(h.Activity.UpdatedAt):
		return fmt.Errorf("activity %d changed since it was held (at %s): its newer version went through the rules on its own; reject this one to close it",
			h.ActivityID, a.UpdatedAt.UTC().Format(time.RFC3339))
	}
	return nil
}

// Release publishes the approved events not released yet (status
// approved, released_at unset: the mark the decision's transaction set),
// oldest decision first, each then marked released, and returns how many it
// published. It stops at the first publish that fails (the bus is down):
// the rest wait for the next call. An event whose activity changed or was
// deleted since it was approved is not published — the newer version went
// through the rules on its own (and the approved rule no longer holds it);
// the old one would undo it — and is marked released, with a log line.
// Two releases of one event (two processes, or a crash before the mark)
// publish the same message, which rewards and the lake count once.
func (q *Queue) Release(ctx context.Context) (int, error) {
	if err := Migrate(ctx, q.Store); err != nil {
		return 0, err
	}
	db := q.Store.DB()
	rows, err := db.QueryContext(ctx, `SELECT q.event_id FROM `+quality.TableQuarantine+` q
		JOIN `+quality.TableReviews+` r ON r.event_id = q.event_id
		WHERE q.status = $1 AND r.decision = $1 AND q.released_at IS NULL
			AND r.rule = q.rule -- a row a rebuilt stage held by another rule is not this approval's
		ORDER BY r.decided_at, q.event_id`, quality.StatusApproved)
	if err != nil {
		return 0, fmt.Errorf("read the approvals to release: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return 0, fmt.Errorf("read the approvals to release: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Close(); err != nil {
		return 0, fmt.Errorf("read the approvals to release: %w", err)
	}
	if len(ids) > 0 && q.Bus == nil {
		return 0, errors.New("no bus to release the approved events on")
	}
	n := 0
	for _, id := range ids {
		published, err := q.release(ctx, id)
		if err != nil {
			return n, err
		}
		if published {
			n++
		}
	}
	return n, nil
}

// release publishes the approved event id on the validated topic, unless
// its activity changed since, and records the release.
func (q *Queue) release(ctx context.Context, id string) (bool, error) {
	db := q.Store.DB()
	h, err := find(ctx, db, id)
	if err != nil {
		return false, err
	}
	publish := true
	if err := current(ctx, db, h); err != nil {
		publish = false
		q.log().Warn("review: an approved activity changed since its approval: not released, its newer version counts",
			"activity", h.ActivityID, "event", h.EventID, "why", err.Error())
	}
	if publish {
		var key, event string
		if err := db.QueryRowContext(ctx, `SELECT message_key, event FROM `+quality.TableQuarantine+` WHERE event_id = $1`,
			h.EventID).Scan(&key, &event); err != nil {
			return false, fmt.Errorf("read the held event: %w", err)
		}
		m := &bus.Message{Topic: activities.TopicValidated, Key: key, Value: []byte(event), ID: h.EventID,
			Headers: map[string]string{"podium-review": "approved"}}
		if err := q.Bus.Publish(ctx, m); err != nil {
			return false, fmt.Errorf("release activity %d: %w", h.ActivityID, err)
		}
	}
	if _, err := db.ExecContext(ctx, `UPDATE `+quality.TableQuarantine+` SET released_at = $1 WHERE event_id = $2`,
		q.now().UTC(), h.EventID); err != nil {
		return publish, fmt.Errorf("record the release: %w", err)
	}
	return publish, nil
}

// Run releases the approved events waiting for the bus (Release) at once,
// then every interval (DefaultReleaseInterval when 0), until ctx ends:
// podium serve runs it, so that an approval made while the bus was down
// reaches rewards and the lake when it is back.
func (q *Queue) Run(ctx context.Context, interval time.Duration) {
	if interval <= 0 {
		interval = DefaultReleaseInterval
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	failing := false
	for {
		n, err := q.Release(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			if !failing {
				q.log().Warn("review: approved activities wait for the bus", "err", err)
			}
			failing = true
		case err == nil:
			if failing || n > 0 {
				q.log().Info("review: approved activities released", "released", n)
			}
			failing = false
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

func (q *Queue) log() *slog.Logger {
	if q.Log != nil {
		return q.Log
	}
	return slog.New(slog.DiscardHandler)
}

// History is an employee's record in review: their held activities with
// the decisions, and the flags of their activities.
type History struct {
	Employee string
	Held     []Held
	Flags    []Flag
}

// EmployeeHistory returns employee's history.
func EmployeeHistory(ctx context.Context, db *sql.DB, employee string) (History, error) {
	h := History{Employee: employee}
	var err error
	if h.Held, err = List(ctx, db, Filter{Status: "all", Employee: employee}); err != nil {
		return h, err
	}
	h.Flags, err = Flags(ctx, db, employee, 0)
	return h, err
}
