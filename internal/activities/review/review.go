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

// find returns the quarantined event id names: an event id, or an activity
// id (its newest held event).
func find(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, id string) (Held, error) {
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
}

// Approve records the approval of the held event id (an event id or an
// activity id) by who, for reason, then releases it: the event, unchanged,
// on the validated topic with its event id as message id — the id it would
// have had had it passed — so that rewards and the lake count it once
// (JetStream drops a repeated publish, the sinks are idempotent per
// activity and the lake's bronze per event id). An approval whose release
// failed is released again by the next Approve of the same id.
func (q *Queue) Approve(ctx context.Context, id, who, reason string) (Held, error) {
	h, err := q.decide(ctx, id, quality.StatusApproved, who, reason)
	if err != nil {
		return h, err
	}
	return h, q.release(ctx, h)
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
func current(ctx context.Context, tx *sql.Tx, h Held) error {
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

// release publishes an approved event on the validated topic and records
// when.
func (q *Queue) release(ctx context.Context, h Held) error {
	var key, event string
	if err := q.Store.DB().QueryRowContext(ctx, `SELECT message_key, event FROM `+quality.TableQuarantine+` WHERE event_id = $1`,
		h.EventID).Scan(&key, &event); err != nil {
		return fmt.Errorf("read the held event: %w", err)
	}
	if q.Bus == nil {
		return errors.New("no bus to release the approved event on")
	}
	m := &bus.Message{Topic: activities.TopicValidated, Key: key, Value: []byte(event), ID: h.EventID,
		Headers: map[string]string{"podium-review": "approved"}}
	if err := q.Bus.Publish(ctx, m); err != nil {
		return fmt.Errorf("the approval is recorded, but releasing the activity failed (approve it again to retry): %w", err)
	}
	if _, err := q.Store.DB().ExecContext(ctx, `UPDATE `+quality.TableQuarantine+` SET released_at = $1 WHERE event_id = $2`,
		q.now().UTC(), h.EventID); err != nil {
		return fmt.Errorf("record the release: %w", err)
	}
	return nil
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
