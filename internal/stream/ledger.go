package stream

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/podiumhq/podium/internal/retry"
	"github.com/podiumhq/podium/internal/store"
)

// States of a ledger row.
const (
	CallPending = "pending"
	CallSent    = "sent"
	CallParked  = "parked"
)

// planCalls writes the ledger rows of calls, pending, in tx. A call whose
// key the stage already has (a message read again) is left as it is.
func planCalls(ctx context.Context, tx *sql.Tx, stage string, calls []Call, now time.Time) error {
	if len(calls) == 0 {
		return nil
	}
	rows := make([][]any, 0, len(calls))
	seen := make(map[string]bool, len(calls))
	for _, c := range calls {
		if c.Key == "" {
			return fmt.Errorf("stage %s planned a call without a key", stage)
		}
		if seen[c.Key] {
			continue
		}
		seen[c.Key] = true
		var topic string
		var part int32
		var off int64 = -1
		if c.Msg != nil {
			topic, part, off = c.Msg.Topic, c.Msg.Partition, c.Msg.Offset
		}
		rows = append(rows, []any{stage, c.Key, topic, part, off, string(c.Body), CallPending, 0, "", now.UnixMilli(), 0, now.UTC(), now.UTC()})
	}
	if err := store.InsertRows(ctx, tx, `INSERT INTO podium_effects (stage, call_key, topic, part, src_offset, body, state,
		attempts, reason, next_try_ms, lease_ms, created_at, updated_at)`, rows, `ON CONFLICT (stage, call_key) DO NOTHING`); err != nil {
		return fmt.Errorf("record %d calls of %s: %w", len(rows), stage, err)
	}
	return nil
}

// deliverer makes an effect stage's pending calls.
type deliverer struct {
	stage         string
	do            func(ctx context.Context, c Call) error
	maxAttempts   int
	backoff       retry.Backoff
	maxRetryAfter time.Duration
	timeout       time.Duration
	lease         time.Duration
	poll          time.Duration

	s     *store.Store
	log   *slog.Logger
	m     *procMetrics
	wake  chan struct{}
	owner string
}

// claimed is a ledger row a deliverer holds.
type claimed struct {
	Call
	leaseMS int64
}

// claimBatch is how many pending calls a deliverer reads at a time to
// find the next one it may make.
const claimBatch = 50

// run makes the due calls until ctx ends. A call in flight when ctx ends
// is finished and recorded.
func (d *deliverer) run(ctx context.Context) {
	failures := 0
	for ctx.Err() == nil {
		calls, wait, err := d.claim(ctx)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			failures++
			wait := d.backoff.Delay(failures)
			d.log.Error("claim calls from the ledger; retrying", "err", err, "backoff", wait)
			_ = retry.Sleep(ctx, wait)
			continue
		}
		failures = 0
		if len(calls) == 0 {
			d.idle(ctx, wait)
			continue
		}
		for i, c := range calls {
			if ctx.Err() != nil {
				d.release(calls[i:])
				return
			}
			if pause := d.call(ctx, c); pause > 0 {
				// The service is unwell: the other calls wait with this one.
				d.release(calls[i+1:])
				_ = retry.Sleep(ctx, pause)
				break
			}
		}
	}
}

// idle waits for a committed batch, until (if positive and sooner than
// the poll interval), the poll interval or the end of ctx.
func (d *deliverer) idle(ctx context.Context, until time.Duration) {
	wait := d.poll
	if until > 0 {
		wait = min(wait, until)
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-d.wake:
	case <-t.C:
	}
}

// claim leases the next call to this deliverer, in the order the calls
// were planned: a call waiting for its retry holds the ones after it back,
// so that messages keep their order; when none is due it returns how long
// until the first is. One call at a time: the lease need only outlast one
// call, so a call claimed by a worker that died is made by another (or the
// restarted one) soon after.
func (d *deliverer) claim(ctx context.Context) ([]claimed, time.Duration, error) {
	now := time.Now().UnixMilli()
	until := now + d.lease.Milliseconds()
	var out []claimed
	var wait time.Duration
	err := d.s.InTx(ctx, func(tx *sql.Tx) error {
		out, wait = out[:0], 0
		rows, err := tx.QueryContext(ctx, `SELECT call_key, body, attempts, next_try_ms FROM podium_effects
			WHERE stage = $1 AND state = 'pending' AND lease_ms < $2
			ORDER BY created_at, part, src_offset, call_key LIMIT $3`, d.stage, now, claimBatch)
		if err != nil {
			return fmt.Errorf("read the calls of %s: %w", d.stage, err)
		}
		for rows.Next() {
			var c claimed
			var body string
			var due int64
			if err := rows.Scan(&c.Key, &body, &c.Attempts, &due); err != nil {
				rows.Close()
				return err
			}
			if due > now {
				if len(out) == 0 {
					wait = time.Duration(due-now) * time.Millisecond
				}
				break
			}
			c.Body, c.leaseMS = []byte(body), until
			out = append(out, c)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
		for _, c := range out {
			res, err := tx.ExecContext(ctx, `UPDATE podium_effects SET lease_owner = $1, lease_ms = $2
				WHERE stage = $3 AND call_key = $4 AND state = 'pending' AND lease_ms < $5`, d.owner, until, d.stage, c.Key, now)
			if err != nil {
				return fmt.Errorf("claim a call of %s: %w", d.stage, err)
			}
			if n, err := res.RowsAffected(); err == nil && n == 1 {
				out = []claimed{c}
				return nil
			} // else another deliverer took it: try the next
		}
		out = nil
		return nil
	})
	return out, wait, err
}

// call makes one call and records its outcome. It returns how long the
// deliverer should pause when the service failed transiently.
func (d *deliverer) call(ctx context.Context, c claimed) time.Duration {
	// A call in flight is not cancelled by a stop: cancelling it after the
	// service acted but before its answer came would make it again.
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), d.timeout)
	start := time.Now()
	err := d.do(cctx, c.Call)
	cancel()
	d.m.callDuration.Observe(time.Since(start).Seconds())
	attempts := c.Attempts + 1
	rec := context.WithoutCancel(ctx)
	switch {
	case err == nil:
		d.m.calls(CallSent).Inc()
		d.mark(rec, c, CallSent, attempts, "", 0)
		return 0
	case retry.IsPermanent(err):
		if attempts >= d.maxAttempts {
			d.m.calls(CallParked).Inc()
			d.log.Error("call parked: the service refused it", "key", c.Key, "attempts", attempts, "reason", err)
			d.mark(rec, c, CallParked, attempts, err.Error(), 0)
			return 0
		}
		d.m.calls("retried").Inc()
		wait := d.backoff.Delay(attempts)
		d.log.Warn("call refused; trying again before parking it", "key", c.Key, "attempts", attempts, "reason", err, "retry_in", wait)
		d.mark(rec, c, CallPending, attempts, err.Error(), wait)
		return 0
	default:
		d.m.calls("retried").Inc()
		wait := d.backoff.Wait(attempts, err, d.maxRetryAfter)
		d.log.Warn("call failed; retrying", "key", c.Key, "attempts", attempts, "err", err, "retry_in", wait)
		d.mark(rec, c, CallPending, attempts, err.Error(), wait)
		return wait
	}
}

// mark records a call's outcome and ends its lease.
func (d *deliverer) mark(ctx context.Context, c claimed, state string, attempts int, reason string, wait time.Duration) {
	now := time.Now()
	err := d.s.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE podium_effects SET state = $1, attempts = $2, reason = $3, next_try_ms = $4,
			lease_owner = NULL, lease_ms = 0, updated_at = $5
			WHERE stage = $6 AND call_key = $7 AND lease_owner = $8 AND lease_ms = $9`,
			state, attempts, reason, now.Add(wait).UnixMilli(), now.UTC(), d.stage, c.Key, d.owner, c.leaseMS)
		if err != nil {
			return err
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 {
			d.log.Warn("a call's lease ran out before its outcome was recorded; another deliverer may make it again", "key", c.Key, "state", state)
		}
		return nil
	})
	if err != nil {
		d.log.Error("record a call's outcome; its lease runs out and it is made again", "key", c.Key, "state", state, "err", err)
	}
}

// release ends the leases of calls not made.
func (d *deliverer) release(calls []claimed) {
	if len(calls) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	err := d.s.InTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `UPDATE podium_effects SET lease_owner = NULL, lease_ms = 0
			WHERE stage = $1 AND lease_owner = $2 AND state = 'pending'`, d.stage, d.owner)
		return err
	})
	if err != nil {
		d.log.Warn("release claimed calls; they wait for their lease to run out", "err", err)
	}
}

// ParkedCall is a ledger row an effect stage parked.
type ParkedCall struct {
	Stage     string
	Key       string
	Topic     string
	Partition int32
	Offset    int64
	Attempts  int
	Reason    string
	At        time.Time
	Body      string
}

// Parked returns the calls parked by the effect stages reading topic (all
// topics when empty), oldest first.
func Parked(ctx context.Context, db *sql.DB, topic string) ([]ParkedCall, error) {
	rows, err := db.QueryContext(ctx, `SELECT stage, call_key, topic, part, src_offset, attempts, reason, updated_at, body
		FROM podium_effects WHERE state = 'parked' AND ($1 = '' OR topic = $1) ORDER BY updated_at, stage, call_key`, topic)
	if err != nil {
		if missingLedger(ctx, db) {
			return nil, nil
		}
		return nil, fmt.Errorf("read parked calls: %w", err)
	}
	defer rows.Close()
	var out []ParkedCall
	for rows.Next() {
		var p ParkedCall
		if err := rows.Scan(&p.Stage, &p.Key, &p.Topic, &p.Partition, &p.Offset, &p.Attempts, &p.Reason, &p.At, &p.Body); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// Rearm sets the parked calls of the effect stages reading topic back to
// pending, to be tried again (after the cause was fixed), and returns how
// many. A running stage makes them within its poll interval.
func Rearm(ctx context.Context, s *store.Store, topic string) (int, error) {
	var n int64
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE podium_effects SET state = 'pending', attempts = 0, next_try_ms = $1,
			reason = 'replayed after: ' || reason, updated_at = $2 WHERE state = 'parked' AND topic = $3`,
			time.Now().UnixMilli(), time.Now().UTC(), topic)
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		if missingLedger(ctx, s.DB()) {
			return 0, nil
		}
		return 0, fmt.Errorf("re-arm parked calls of %s: %w", topic, err)
	}
	return int(n), nil
}

// CallCounts returns, per effect stage, its pending and parked calls.
func CallCounts(ctx context.Context, db *sql.DB) (map[string]map[string]int64, error) {
	rows, err := db.QueryContext(ctx, `SELECT stage, state, COUNT(*) FROM podium_effects WHERE state <> 'sent' GROUP BY stage, state`)
	if err != nil {
		if missingLedger(ctx, db) {
			return nil, nil
		}
		return nil, fmt.Errorf("count calls: %w", err)
	}
	defer rows.Close()
	out := map[string]map[string]int64{}
	for rows.Next() {
		var stage, state string
		var n int64
		if err := rows.Scan(&stage, &state, &n); err != nil {
			return nil, err
		}
		if out[stage] == nil {
			out[stage] = map[string]int64{}
		}
		out[stage][state] = n
	}
	return out, rows.Err()
}

// missingLedger reports whether the ledger table does not exist yet (no
// effect stage ever ran on this store).
func missingLedger(ctx context.Context, db *sql.DB) bool {
	var one int
	err := db.QueryRowContext(ctx, `SELECT 1 FROM podium_effects LIMIT 1`).Scan(&one)
	return err != nil && !errors.Is(err, sql.ErrNoRows)
}
