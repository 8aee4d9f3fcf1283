// Package stream runs processors: consume a batch from a topic, decode and
// validate it, apply the handler's effects and record the consumed positions
// in one database transaction. On start a processor resumes from the
// positions it recorded, so a crash at any point and a restart leave exactly
// the tables of an uninterrupted run. Messages that cannot be decoded or that
// the handler rejects go to the topic's dead-letter topic with the reason.
package stream

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/store"
)

// Record is one decoded message of a batch.
type Record[T any] struct {
	Msg   *bus.Message
	Value T
}

// Processor turns the messages of one topic into rows of the store.
type Processor[T any] struct {
	// Name identifies the processor: its consumer group, the key of its
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
	// Migrations holds the processor's schema (see store.Migrate).
	Migrations fs.FS
	// Tables lists the tables the processor owns, dropped by a rebuild.
	Tables []string
	// Prepare, if set, is called with each batch before its transaction,
	// outside the store's write lock (SQLite has one writer): for the work
	// that needs no transaction, such as lookups or publishing to another
	// topic. A batch may be prepared again (after a failure) and Handle may
	// get a part of it (to isolate a rejected message), or records Prepare
	// never saw: Handle must not count on Prepare. An error is handled as
	// Handle's are.
	Prepare func(ctx context.Context, batch []Record[T]) error
	// AfterCommit, if set, is called after each committed batch, for
	// notifications such as live page updates. It must not block for long.
	AfterCommit func(batch []Record[T])
}

// Spec describes a processor without its type parameter.
type Spec struct {
	Name       string
	Topic      string
	Tables     []string
	Migrations fs.FS
}

// Spec returns p's description.
func (p Processor[T]) Spec() Spec {
	return Spec{Name: p.Name, Topic: p.Topic, Tables: p.Tables, Migrations: p.Migrations}
}

// Runnable is a processor of any message type.
type Runnable interface {
	Spec() Spec
	Run(ctx context.Context, env Env) error
}

// Env is what processors run against.
type Env struct {
	Bus     bus.Bus
	Store   *store.Store
	Logger  *slog.Logger // nil discards logs
	Metrics *Metrics     // nil records nothing
	// MaxBatch caps the messages handled in one transaction; default 5000: large
	// enough that a backlog costs few transactions; a quiet topic gives small
	// batches anyway (Fetch returns what is at hand).
	MaxBatch int
	// Hooks inject faults at points of the loop; nil in production.
	Hooks *Hooks
}

// Hooks are called at fixed points of the processing loop, so that tests can
// stop a processor hard exactly there (e.g. by killing the process).
type Hooks struct {
	// BeforeCommit runs after the handler wrote a batch, before the commit.
	BeforeCommit func(batch []*bus.Message)
	// AfterCommit runs after the store commit, before the bus commit.
	AfterCommit func(batch []*bus.Message)
}

// Reject marks err as a problem with the message itself, not with the
// database: the message goes to the dead-letter topic and processing goes
// on.
func Reject(err error) error { return &rejectError{err} }

type rejectError struct{ err error }

func (e *rejectError) Error() string { return e.err.Error() }
func (e *rejectError) Unwrap() error { return e.err }

// rejectReason returns the message of the error err's Reject wrapped.
func rejectReason(err error) string {
	var r *rejectError
	if errors.As(err, &r) {
		return r.err.Error()
	}
	return err.Error()
}

// IsRejected reports whether err was wrapped by Reject.
func IsRejected(err error) bool {
	var r *rejectError
	return errors.As(err, &r)
}

var _ Runnable = Processor[int]{}

// Run processes p's topic until ctx ends. When ctx ends it finishes the
// batch in hand, commits it and returns nil.
func (p Processor[T]) Run(ctx context.Context, env Env) error {
	if p.Name == "" || p.Topic == "" || p.Decode == nil || p.Handle == nil {
		return errors.New("stream: a processor needs a Name, a Topic, Decode and Handle")
	}
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	if env.MaxBatch <= 0 {
		env.MaxBatch = 5000
	}
	if err := Migrate(ctx, env.Store, p.Spec()); err != nil {
		if ctx.Err() != nil {
			return nil // stopped while starting
		}
		return err
	}
	r := &run[T]{p: p, env: env, log: env.Logger.With("processor", p.Name, "topic", p.Topic),
		pos: newPositions(env.Store, p.Name, p.Topic), m: env.Metrics.For(p.Name, p.Topic)}
	return r.loop(ctx)
}

// Migrate applies the runtime's own schema and the processor's.
func Migrate(ctx context.Context, s *store.Store, spec Spec) error {
	if err := s.Migrate(ctx, "stream", migrations); err != nil {
		return err
	}
	if spec.Migrations != nil {
		if err := s.Migrate(ctx, spec.Name, spec.Migrations); err != nil {
			return err
		}
	}
	return nil
}

type run[T any] struct {
	p   Processor[T]
	env Env
	log *slog.Logger
	pos *positions
	m   *procMetrics
}

func (r *run[T]) loop(ctx context.Context) error {
	c, err := r.env.Bus.Consume(ctx, bus.ConsumerConfig{
		Topic:  r.p.Topic,
		Group:  r.p.Name,
		Start:  bus.Earliest,
		Resume: r.pos.resume,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("processor %s: consume %s: %w", r.p.Name, r.p.Topic, err)
	}
	defer c.Close()
	r.log.Info("processor started")
	for {
		msgs, err := c.Fetch(ctx, r.env.MaxBatch)
		if err != nil {
			if ctx.Err() != nil {
				r.log.Info("processor stopped")
				return nil
			}
			return fmt.Errorf("processor %s: fetch from %s: %w", r.p.Name, r.p.Topic, err)
		}
		// The batch in hand is finished even when ctx ends meanwhile.
		bctx := context.WithoutCancel(ctx)
		if err := r.batch(ctx, bctx, c, msgs); err != nil {
			if ctx.Err() != nil {
				r.log.Info("processor stopped before committing a batch; it will be read again", "messages", len(msgs))
				return nil
			}
			return err
		}
	}
}

// batch handles one fetched batch: skip what was applied already, decode,
// dead-letter the bad messages, apply and commit the rest with positions.
func (r *run[T]) batch(ctx, bctx context.Context, c bus.Consumer, msgs []*bus.Message) error {
	start := time.Now()
	fresh := r.pos.unseen(msgs)
	if len(fresh) == 0 {
		return nil
	}
	r.m.in.Add(float64(len(fresh)))
	recs := make([]Record[T], 0, len(fresh))
	var dead []*bus.Message
	for _, m := range fresh {
		v, err := r.p.Decode(m)
		if err != nil {
			dead = append(dead, bus.DeadLetter(m, r.p.Name, "decode: "+err.Error()))
			continue
		}
		recs = append(recs, Record[T]{Msg: m, Value: v})
	}
	if err := r.deadLetter(bctx, dead, "decode"); err != nil {
		return err
	}
	backoff := 50 * time.Millisecond
	for {
		var err error
		if r.p.Prepare != nil && len(recs) > 0 {
			err = r.p.Prepare(bctx, recs)
		}
		if err == nil {
			err = r.commit(bctx, fresh, recs)
		}
		switch {
		case err == nil:
		case errors.Is(err, errFenced):
			// Another worker moved this processor's positions: reload them
			// and drop what it applied.
			r.log.Warn("positions moved by another worker; reloading", "err", err)
			r.pos.forget()
			if fresh = r.pos.unseen(fresh); len(fresh) == 0 {
				return nil
			}
			recs = keep(recs, fresh)
			continue
		case IsRejected(err):
			if err := r.oneByOne(bctx, fresh, recs); err != nil {
				return err
			}
		default:
			r.m.retries.Inc()
			r.log.Error("batch failed; retrying", "err", err, "messages", len(fresh), "backoff", backoff)
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(backoff):
			}
			backoff = min(2*backoff, 10*time.Second)
			r.pos.forget()
			if fresh = r.pos.unseen(fresh); len(fresh) == 0 {
				return nil
			}
			recs = keep(recs, fresh)
			continue
		}
		break
	}
	if h := r.env.Hooks; h != nil && h.AfterCommit != nil {
		h.AfterCommit(fresh)
	}
	r.m.out.Add(float64(len(recs)))
	r.m.observe(len(fresh), time.Since(start))
	if r.p.AfterCommit != nil && len(recs) > 0 {
		r.p.AfterCommit(recs)
	}
	// The store holds the authoritative positions; the bus group position
	// serves lag reports and group-less tools, so a failure here only logs.
	if err := c.Commit(bctx, bus.LastPositions(fresh)...); err != nil {
		r.log.Warn("commit positions to the bus", "err", err)
	}
	return nil
}

// commit applies recs and records the positions of msgs (a superset: the
// dead-lettered messages are consumed too) in one transaction.
func (r *run[T]) commit(ctx context.Context, msgs []*bus.Message, recs []Record[T]) error {
	unlock, err := r.env.Store.LockWrites(ctx)
	if err != nil {
		return err
	}
	defer unlock()
	tx, err := r.env.Store.DB().BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	if len(recs) > 0 {
		hstart := time.Now()
		if err := r.p.Handle(ctx, tx, recs); err != nil {
			return fmt.Errorf("handle batch of %d: %w", len(recs), err)
		}
		r.m.handle.Observe(time.Since(hstart).Seconds())
	}
	next, err := r.pos.save(ctx, tx, msgs)
	if err != nil {
		return err
	}
	if h := r.env.Hooks; h != nil && h.BeforeCommit != nil {
		h.BeforeCommit(msgs)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit batch: %w", err)
	}
	r.pos.advance(next)
	return nil
}

// oneByOne handles a batch in which the handler rejected a message: each
// message in its own transaction, the rejected ones to the dead-letter topic.
func (r *run[T]) oneByOne(ctx context.Context, msgs []*bus.Message, recs []Record[T]) error {
	byMsg := make(map[*bus.Message]Record[T], len(recs))
	for _, rec := range recs {
		byMsg[rec.Msg] = rec
	}
	for _, m := range msgs {
		var one []Record[T]
		if rec, ok := byMsg[m]; ok {
			one = []Record[T]{rec}
		}
		for {
			err := r.commit(ctx, []*bus.Message{m}, one)
			if err == nil || errors.Is(err, errFenced) {
				break
			}
			if IsRejected(err) {
				if err := r.deadLetter(ctx, []*bus.Message{bus.DeadLetter(m, r.p.Name, "handle: "+rejectReason(err))}, "handle"); err != nil {
					return err
				}
				one = nil // record the position alone
				continue
			}
			return err
		}
	}
	return nil
}

func (r *run[T]) deadLetter(ctx context.Context, dead []*bus.Message, stage string) error {
	if len(dead) == 0 {
		return nil
	}
	for _, d := range dead {
		r.log.Warn("dead letter", "stage", stage, "position", d.Headers[bus.HeaderDLQOffset], "reason", d.Headers[bus.HeaderDLQReason])
		part, _ := strconv.Atoi(d.Headers[bus.HeaderDLQPartition])
		off, _ := strconv.ParseInt(d.Headers[bus.HeaderDLQOffset], 10, 64)
		r.m.m.addDeadLetter(DeadLetter{Processor: r.p.Name, Topic: r.p.Topic, Partition: int32(part), Offset: off,
			Key: d.Key, Reason: d.Headers[bus.HeaderDLQReason], At: time.Now()})
	}
	if err := r.env.Bus.Publish(ctx, dead...); err != nil {
		return fmt.Errorf("processor %s: publish %d dead letters: %w", r.p.Name, len(dead), err)
	}
	r.m.failed(stage).Add(float64(len(dead)))
	return nil
}

func keep[T any](recs []Record[T], msgs []*bus.Message) []Record[T] {
	in := make(map[*bus.Message]bool, len(msgs))
	for _, m := range msgs {
		in[m] = true
	}
	out := recs[:0:0]
	for _, rec := range recs {
		if in[rec.Msg] {
			out = append(out, rec)
		}
	}
	return out
}

// Supervise runs procs until ctx ends, each under Restart, so that one
// pipeline's trouble — a database restart, a broker failover — does not stop
// the others. It returns when every processor has stopped.
func Supervise(ctx context.Context, env Env, procs []Runnable) {
	log := env.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var wg sync.WaitGroup
	for _, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			Restart(ctx, log, "processor "+p.Spec().Name, func(ctx context.Context) error { return p.Run(ctx, env) })
		}()
	}
	wg.Wait()
}

// Restart runs run until ctx ends. When run fails, or returns while ctx
// is still live, it is logged and started again after a backoff (1 s,
// doubling up to a minute; back to 1 s after a minute of good running).
func Restart(ctx context.Context, log *slog.Logger, what string, run func(context.Context) error) {
	backoff := time.Second
	for {
		start := time.Now()
		err := run(ctx)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = errors.New("stopped unexpectedly")
		}
		if time.Since(start) > time.Minute {
			backoff = time.Second
		}
		log.Error(what+" failed; restarting", "err", err, "backoff", backoff)
		select {
		case <-ctx.Done():
			return
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, time.Minute)
	}
}
