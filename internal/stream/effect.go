package stream

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"io/fs"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/retry"
)

// Call is one call of an effect stage to an outside service.
type Call struct {
	// Key identifies the call in its stage: its idempotency key. A message
	// read again plans the same key and makes no second call.
	Key string
	// Body is what the call sends (text, usually JSON), kept in the ledger.
	Body []byte
	// Msg is the message that asked for the call; its position is kept in
	// the ledger, for dlq list.
	Msg *bus.Message
	// Attempts is the number of tries made before this one (set by the
	// runtime when it hands the call to Do).
	Attempts int
}

// Effect is an effect stage: it turns the messages of one topic into calls
// to a service that cannot join a transaction (Slack, a webhook). For each
// batch, Plan decides the calls in the transaction that records the
// batch's positions, which writes one ledger row per call (podium_effects,
// state pending). A deliverer then makes the calls in order, outside any
// transaction and any store lock, and marks each row sent, or parked with
// the reason. So a slow or failing service never holds the store, and the
// stage's consumption (its lag) keeps up while calls wait.
//
// A sent row is never sent again. A call the process dies in the middle of
// is made again once its lease runs out (the service may see it twice:
// services that take an idempotency key get Call.Key).
//
// Do's error decides what happens to the call: nil marks it sent; an error
// marked by retry.Permanent (a revoked credential, a deleted channel) is
// tried MaxAttempts times, then parked with the error as the reason,
// listed by podium dlq list and re-armed by podium dlq replay; any other
// error is transient (a timeout, a 5xx, a 429): the deliverer waits —
// retry.After's wait when the service gave one, else Backoff — and tries
// again, for as long as it takes.
type Effect[T any] struct {
	// Name identifies the stage: its consumer group, positions, ledger
	// rows and migration component. Keep it stable.
	Name string
	// Topic is the topic it reads.
	Topic string
	// Decode parses and validates one message; an error dead-letters it.
	Decode func(m *bus.Message) (T, error)
	// Plan returns the calls a batch asks for. It runs in the transaction
	// that records the ledger rows and the positions, holding the store's
	// write lock: lookups only, never a call. An error wrapped by Reject
	// dead-letters the offending message; another is retried.
	Plan func(ctx context.Context, tx *sql.Tx, batch []Record[T]) ([]Call, error)
	// Do makes one call, outside any transaction and lock, with a context
	// that ends after Timeout (a stage stopping does not cancel a call in
	// flight: it waits for its answer).
	Do func(ctx context.Context, c Call) error
	// Migrations and Tables: the tables the stage owns, if any (the ledger
	// is the runtime's).
	Migrations fs.FS
	Tables     []string
	// MaxAttempts is how many times a call failing permanently is tried
	// before it is parked; default 3.
	MaxAttempts int
	// Backoff paces the tries after a failure; default 1 s doubling to 5
	// min.
	Backoff retry.Backoff
	// MaxRetryAfter caps a wait the service asks for; default 15 min.
	MaxRetryAfter time.Duration
	// Timeout bounds one call; default 10 s.
	Timeout time.Duration
	// Lease is how long a deliverer holds the call it claimed before
	// another may make it (the call's worker may have died); default
	// Timeout + 5 s.
	Lease time.Duration
	// Poll is how often an idle deliverer looks for calls that became due;
	// default 1 s (a committed batch wakes it at once).
	Poll time.Duration
}

// Defaults of Effect.
const (
	DefaultMaxAttempts   = 3
	DefaultMaxRetryAfter = 15 * time.Minute
	DefaultCallTimeout   = 10 * time.Second
)

// DefaultEffectBackoff paces the tries of a failing call.
var DefaultEffectBackoff = retry.Backoff{Initial: time.Second, Max: 5 * time.Minute, Jitter: 0.2}

// Spec returns e's description.
func (e Effect[T]) Spec() Spec {
	return Spec{Name: e.Name, Kind: KindEffect, Topic: e.Topic, Tables: e.Tables, Migrations: e.Migrations}
}

var _ Runnable = Effect[int]{}

func (e Effect[T]) withDefaults() Effect[T] {
	if e.MaxAttempts <= 0 {
		e.MaxAttempts = DefaultMaxAttempts
	}
	if e.Backoff == (retry.Backoff{}) {
		e.Backoff = DefaultEffectBackoff
	}
	if e.MaxRetryAfter <= 0 {
		e.MaxRetryAfter = DefaultMaxRetryAfter
	}
	if e.Timeout <= 0 {
		e.Timeout = DefaultCallTimeout
	}
	if e.Lease <= 0 {
		e.Lease = e.Timeout + 5*time.Second
	}
	if e.Poll <= 0 {
		e.Poll = time.Second
	}
	return e
}

// Run consumes the topic and makes the calls until ctx ends; then it
// finishes the batch and the call in hand and returns nil.
func (e Effect[T]) Run(ctx context.Context, env Env) error {
	e = e.withDefaults()
	st := stage[T]{spec: e.Spec(), decode: e.Decode}
	if err := st.check(); err != nil {
		return err
	}
	if e.Plan == nil || e.Do == nil {
		return fmt.Errorf("stream: effect stage %s needs Plan and Do", e.Name)
	}
	if err := Migrate(ctx, env.Store, e.Spec()); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	a := &effectApplier[T]{e: e, wake: make(chan struct{}, 1)}
	r := newRun(st, a, env)
	a.r = r
	// The deliverer stops with the consumer, whichever way it ends, so
	// that the supervisor restarts the stage whole.
	dctx, stop := context.WithCancel(ctx)
	d := &deliverer{stage: e.Name, do: e.Do, maxAttempts: e.MaxAttempts, backoff: e.Backoff, maxRetryAfter: e.MaxRetryAfter,
		timeout: e.Timeout, lease: e.Lease, poll: e.Poll, s: env.Store, log: r.log, m: r.m, wake: a.wake, owner: newOwner()}
	done := make(chan struct{})
	go func() {
		defer close(done)
		d.run(dctx)
	}()
	err := r.loop(ctx)
	stop()
	<-done
	return err
}

// effectApplier records an effect stage's calls and positions in one
// transaction.
type effectApplier[T any] struct {
	e    Effect[T]
	r    *run[T]
	wake chan struct{}
}

func (a *effectApplier[T]) load(ctx context.Context, partition int32) (int64, error) {
	return Position(ctx, a.r.env.Store.DB(), a.e.Name, a.e.Topic, partition)
}

func (a *effectApplier[T]) apply(ctx context.Context, msgs []*bus.Message, recs []Record[T], prev, next map[int32]int64) error {
	return inTx(ctx, a.r, msgs, prev, next, func(tx *sql.Tx) error {
		if len(recs) == 0 {
			return nil
		}
		hstart := time.Now()
		calls, err := a.e.Plan(ctx, tx, recs)
		if err != nil {
			return fmt.Errorf("plan batch of %d: %w", len(recs), err)
		}
		if err := planCalls(ctx, tx, a.e.Name, calls, time.Now()); err != nil {
			return err
		}
		a.r.m.handle.Observe(time.Since(hstart).Seconds())
		return nil
	})
}

func (a *effectApplier[T]) committed(context.Context, map[int32]int64) {
	select {
	case a.wake <- struct{}{}:
	default:
	}
}

// newOwner returns a random name for a deliverer's leases.
func newOwner() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
