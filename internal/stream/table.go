package stream

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"time"

	"github.com/podiumhq/podium/internal/bus"
)

// Processor is a table stage: it turns the messages of one topic into rows
// of the store, its effects and its positions committed in one transaction.
type Processor[T any] struct {
	// Name identifies the stage: its consumer group, the key of its
	// positions and the component of its migrations. Keep it stable.
	Name string
	// Topic is the topic it reads.
	Topic string
	// Decode parses and validates one message. An error sends the message to
	// the dead-letter topic with the error as the reason.
	Decode func(m *bus.Message) (T, error)
	// Handle applies the effects of a batch in tx. The runtime commits tx
	// together with the batch's positions. An error wrapped by Reject sends
	// the offending message to the dead-letter topic (the runtime finds it by
	// handling the batch one message at a time); any other error is taken as
	// transient and the batch is retried with backoff.
	Handle func(ctx context.Context, tx *sql.Tx, batch []Record[T]) error
	// Migrations holds the stage's schema (see store.Migrate).
	Migrations fs.FS
	// Tables lists the tables the stage owns, dropped by a rebuild.
	Tables []string
	// Prepare, if set, is called with each batch before its transaction,
	// outside the store's write lock (SQLite has one writer), for the work
	// that needs no transaction, such as lookups: it may fill in the
	// records' values (batch[i].Value), which Handle and Emit then see. It
	// must have no effect outside the batch: a batch may be prepared again
	// (after a failure), or one record at a time (to isolate a rejected
	// message). An error is handled as Handle's are.
	Prepare func(ctx context.Context, batch []Record[T]) error
	// Outputs declares the topics Emit publishes to.
	Outputs []string
	// Emit, if set, returns the messages a prepared record sends to the
	// Outputs topics. The runtime publishes them before it commits the
	// batch, so they are published at least once: give them an ID (a
	// re-publish is dropped by JetStream) and make their readers idempotent.
	// Handle should not reject a record Emit gave messages for.
	Emit func(rec Record[T]) []*bus.Message
	// AfterCommit, if set, is called after each committed batch on the
	// stage's goroutine: for counting, or to tell the pages of every
	// process through Notices. It must not block.
	AfterCommit func(batch []Record[T])
}

// Spec returns p's description.
func (p Processor[T]) Spec() Spec {
	return Spec{Name: p.Name, Kind: KindTable, Topic: p.Topic, Outputs: p.Outputs, Tables: p.Tables, Migrations: p.Migrations}
}

var _ Runnable = Processor[int]{}

// Run processes p's topic until ctx ends. When ctx ends it finishes the
// batch in hand, commits it and returns nil.
func (p Processor[T]) Run(ctx context.Context, env Env) error {
	st := stage[T]{spec: p.Spec(), decode: p.Decode, prepare: p.Prepare, emit: p.Emit, after: p.AfterCommit}
	if err := st.check(); err != nil {
		return err
	}
	if p.Handle == nil {
		return fmt.Errorf("stream: table stage %s needs Handle", p.Name)
	}
	if err := Migrate(ctx, env.Store, p.Spec()); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return err
	}
	t := &tableApplier[T]{p: p}
	r := newRun(st, t, env)
	t.r = r
	return r.loop(ctx)
}

// tableApplier commits a table stage's batches: effects and positions in
// one transaction.
type tableApplier[T any] struct {
	p Processor[T]
	r *run[T]
}

func (t *tableApplier[T]) load(ctx context.Context, partition int32) (int64, error) {
	return Position(ctx, t.r.env.Store.DB(), t.p.Name, t.p.Topic, partition)
}

func (t *tableApplier[T]) apply(ctx context.Context, msgs []*bus.Message, recs []Record[T], prev, next map[int32]int64) error {
	return inTx(ctx, t.r, msgs, prev, next, func(tx *sql.Tx) error {
		if len(recs) == 0 {
			return nil
		}
		hstart := time.Now()
		if err := t.p.Handle(ctx, tx, recs); err != nil {
			return fmt.Errorf("handle batch of %d: %w", len(recs), err)
		}
		t.r.m.handle.Observe(time.Since(hstart).Seconds())
		return nil
	})
}

func (t *tableApplier[T]) committed(context.Context, map[int32]int64) {}

// inTx runs fn and records the positions next in one transaction of the
// store, with the store's write lock held.
func inTx[T any](ctx context.Context, r *run[T], msgs []*bus.Message, prev, next map[int32]int64, fn func(tx *sql.Tx) error) error {
	unlock, err := r.env.Store.LockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	tx, end, err := r.env.Store.Begin(ctx)
	if err != nil {
		return err
	}
	defer end()
	if err := fn(tx); err != nil {
		return err
	}
	if err := savePositions(ctx, tx, r.st.spec.Name, r.st.spec.Topic, prev, next); err != nil {
		return err
	}
	if h := r.env.Hooks; h != nil && h.BeforeCommit != nil {
		h.BeforeCommit(msgs)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit batch: %w", err)
	}
	return nil
}
