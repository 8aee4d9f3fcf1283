package stream

import (
	"context"
	"fmt"
	"io/fs"
	"time"

	"github.com/podiumhq/podium/internal/bus"
)

// Target is the outside store of a sink stage: it keeps data, and the
// positions up to which it holds the topic, and commits both together (an
// Iceberg table records them in its snapshot's summary), so that it is its
// own checkpoint.
type Target[T any] interface {
	// Load returns the next offset to apply on each partition, as the
	// store records it; a partition it never saw is absent.
	Load(ctx context.Context) (map[int32]int64, error)
	// Commit writes batch and records next, the positions after it,
	// together: after a crash the store holds both or neither. batch holds
	// every decoded message beyond the positions the runtime last loaded or
	// committed; it may be empty (every message was dead-lettered), and
	// then next alone is recorded.
	// It returns an error wrapping ErrFenced when another writer moved the
	// store's positions (the runtime calls Load again), one wrapped by Reject
	// for a record the store refuses, and any other error for a transient
	// failure (retried with backoff).
	Commit(ctx context.Context, batch []Record[T], next map[int32]int64) error
	// Close releases the store.
	Close() error
}

// Sink is a sink stage: it writes the messages of one topic to an outside
// store that commits data and positions together. The runtime keeps a copy
// of the positions in podium_positions after each commit (for lag reports,
// the pipeline page and catch-up); the Target's are the authority.
type Sink[T any] struct {
	// Name identifies the stage: its consumer group and the key of its
	// positions' copy. Keep it stable.
	Name string
	// Topic is the topic it reads.
	Topic string
	// Decode parses and validates one message; an error dead-letters it.
	Decode func(m *bus.Message) (T, error)
	// Open opens the outside store. It runs once per start of the stage.
	Open func(ctx context.Context, env Env) (Target[T], error)
	// Reset, if set, drops the outside store's data (podium rebuild,
	// podium reset).
	Reset func(ctx context.Context, env Env) error
	// Migrations and Tables: the stage's tables in the store, if any.
	Migrations fs.FS
	Tables     []string
	// MaxBatch caps a batch (default Env.MaxBatch). A commit of an outside
	// store is costly, so a sink commits at most every Interval (when
	// positive) unless a batch is full: batches gather under load, and the
	// first message after a quiet Interval is written at once.
	MaxBatch int
	Interval time.Duration
	// AfterCommit, if set, is called after each committed batch on the
	// stage's goroutine. It must not block.
	AfterCommit func(batch []Record[T])
}

// Spec returns s's description.
func (s Sink[T]) Spec() Spec {
	return Spec{Name: s.Name, Kind: KindSink, Topic: s.Topic, Tables: s.Tables, Migrations: s.Migrations, Reset: s.Reset}
}

var _ Runnable = Sink[int]{}

// Run opens the store and applies the topic's messages until ctx ends. When
// ctx ends it finishes the batch in hand, commits it and returns nil.
func (s Sink[T]) Run(ctx context.Context, env Env) error {
	st := stage[T]{spec: s.Spec(), decode: s.Decode, after: s.AfterCommit, maxBatch: s.MaxBatch, interval: s.Interval}
	if err := st.check(); err != nil {
		return err
	}
	if s.Open == nil {
		return fmt.Errorf("stream: sink stage %s needs Open", s.Name)
	}
	if err := Migrate(ctx, env.Store, s.Spec()); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	t, err := s.Open(ctx, env)
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("stage %s: open: %w", s.Name, err)
	}
	defer func() { _ = t.Close() }()
	a := &sinkApplier[T]{t: t}
	r := newRun(st, a, env)
	a.r = r
	return r.loop(ctx)
}

// sinkApplier commits a sink stage's batches through its Target.
type sinkApplier[T any] struct {
	t Target[T]
	r *run[T]
}

func (a *sinkApplier[T]) load(ctx context.Context, partition int32) (int64, error) {
	pos, err := a.t.Load(ctx)
	if err != nil {
		return 0, err
	}
	n, ok := pos[partition]
	if !ok {
		return -1, nil
	}
	// The copy of this partition's position follows the authority, also
	// after a crash between the Target's commit and the copy. Only this
	// partition's: the others may be another worker's, whose copies are
	// newer than what this worker last read of the Target (a worker
	// copying them all set back the copy of a partition whose owner had
	// nothing left to commit: a lag that never fell to 0).
	if err := copyPositions(ctx, a.r.env.Store, a.r.st.spec.Name, a.r.st.spec.Topic, map[int32]int64{partition: n}); err != nil {
		a.r.log.Warn("copy positions to podium_positions", "err", err)
	}
	return n, nil
}

func (a *sinkApplier[T]) apply(ctx context.Context, _ []*bus.Message, recs []Record[T], _, next map[int32]int64) error {
	start := time.Now()
	if err := a.t.Commit(ctx, recs, next); err != nil {
		return err
	}
	a.r.m.handle.Observe(time.Since(start).Seconds())
	return nil
}

func (a *sinkApplier[T]) committed(ctx context.Context, next map[int32]int64) {
	if err := copyPositions(ctx, a.r.env.Store, a.r.st.spec.Name, a.r.st.spec.Topic, next); err != nil {
		// Only the reports lag behind: the Target holds the positions.
		a.r.log.Warn("copy positions to podium_positions", "err", err)
	}
}
