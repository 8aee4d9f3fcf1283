// Package stream runs stages: the consumers of topics. Every stage reads a
// batch from its topic, decodes it, sends the messages it cannot decode to
// the topic's dead-letter topic with the reason, and applies the rest
// together with the batch's positions, so that a crash at any point and a
// restart leave exactly the effects of an uninterrupted run.
//
// Stages differ only in where their effects and positions go:
//
//   - a table stage (Processor) writes SQL rows and its positions in one
//     transaction of the store;
//   - a sink stage (Sink) writes to an outside store that commits data and
//     positions together (an Iceberg snapshot and its summary), behind the
//     Target interface;
//   - an effect stage (Effect) calls a service that cannot join a
//     transaction (Slack, a webhook): it records one ledger row per call
//     with its positions, then makes the calls outside any transaction and
//     any store lock, marking each sent, or parked with the reason.
//
// All three share one loop, one set of metrics, one way to report progress
// (podium_positions: the authority for table and effect stages, a copy kept
// after each commit for sink stages), one rebuild and one dead-letter path.
// A stage may also emit messages to other topics it declares (Outputs): the
// runtime publishes them before it commits the batch's positions.
package stream

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/retry"
	"github.com/podiumhq/podium/internal/store"
)

// Record is one decoded message of a batch.
type Record[T any] struct {
	Msg   *bus.Message
	Value T
}

// Kinds of stage, as Spec.Kind names them.
const (
	KindTable  = "table"
	KindSink   = "sink"
	KindEffect = "effect"
)

// Spec describes a stage without its type parameter: what the runtime, the
// operator commands and the pages need to know of it.
type Spec struct {
	// Name identifies the stage: its consumer group, the key of its
	// positions and the component of its migrations. Keep it stable.
	Name string
	// Kind is KindTable, KindSink or KindEffect.
	Kind string
	// Topic is the topic it reads.
	Topic string
	// Outputs lists the topics it publishes to.
	Outputs []string
	// Tables lists the store tables it owns, dropped by a rebuild.
	Tables []string
	// Migrations holds the schema of its tables (see store.Migrate).
	Migrations fs.FS
	// Reset, if set, drops what the stage keeps outside its Tables (a sink's
	// outside store), for a rebuild or a reset.
	Reset func(ctx context.Context, env Env) error
}

// Runnable is a stage of any message type.
type Runnable interface {
	Spec() Spec
	Run(ctx context.Context, env Env) error
}

// Env is what stages run against.
type Env struct {
	Bus     bus.Bus
	Store   *store.Store
	Logger  *slog.Logger // nil discards logs
	Metrics *Metrics     // nil records nothing
	// MaxBatch caps the messages handled in one commit; default 5000: large
	// enough that a backlog costs few transactions; a quiet topic gives small
	// batches anyway (Fetch returns what is at hand). A stage may set its own.
	MaxBatch int
	// Hooks inject faults at points of the loop; nil in production.
	Hooks *Hooks
}

// Hooks are called at fixed points of the loop, so that tests can stop a
// stage hard exactly there (e.g. by killing the process).
type Hooks struct {
	// BeforeCommit runs after a table or effect stage wrote a batch, before
	// the commit.
	BeforeCommit func(batch []*bus.Message)
	// AfterCommit runs after the commit, before the bus commit.
	AfterCommit func(batch []*bus.Message)
}

// Reject marks err as a problem with the message itself, not with the
// store: the message goes to the dead-letter topic and processing goes on.
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

// ErrFenced means another worker recorded positions this one did not
// expect. A sink's Target returns an error wrapping it when its store's
// positions moved under it; the runtime then loads them again and drops
// what the other worker applied.
var ErrFenced = errors.New("positions were moved by another worker")

// stage is the loop every kind runs: what differs between kinds is behind
// applier.
type stage[T any] struct {
	spec    Spec
	decode  func(m *bus.Message) (T, error)
	prepare func(ctx context.Context, batch []Record[T]) error
	emit    func(rec Record[T]) []*bus.Message
	after   func(batch []Record[T])
	// maxBatch overrides Env.MaxBatch when positive.
	maxBatch int
	// interval, when positive, is the least time between two commits: a
	// batch gathers messages until it is full or interval has passed since
	// the last commit, for stages whose commit is costly (a sink's
	// snapshot). The first message after a quiet interval is committed at
	// once.
	interval time.Duration
}

// applier is what a kind of stage does with a batch.
type applier[T any] interface {
	// load returns the next offset to handle on a partition as the
	// stage's authority records it, -1 when it has handled nothing there.
	load(ctx context.Context, partition int32) (int64, error)
	// apply applies recs and records next, the positions after msgs (a
	// superset of the records' messages: dead letters are consumed too),
	// atomically. It fails with an error wrapping ErrFenced when the stored
	// positions are not prev, the ones this worker last saw.
	apply(ctx context.Context, msgs []*bus.Message, recs []Record[T], prev, next map[int32]int64) error
	// committed runs after each successful apply.
	committed(ctx context.Context, next map[int32]int64)
}

// run is one running stage.
type run[T any] struct {
	st  stage[T]
	a   applier[T]
	env Env
	log *slog.Logger
	pos *positions
	m   *procMetrics
	// committed is when the last batch committed.
	committed time.Time
}

func newRun[T any](st stage[T], a applier[T], env Env) *run[T] {
	if env.Logger == nil {
		env.Logger = slog.New(slog.DiscardHandler)
	}
	if st.maxBatch > 0 {
		env.MaxBatch = st.maxBatch
	}
	if env.MaxBatch <= 0 {
		env.MaxBatch = 5000
	}
	return &run[T]{st: st, a: a, env: env,
		log: env.Logger.With("stage", st.spec.Name, "topic", st.spec.Topic),
		pos: newPositions(a.load),
		m:   env.Metrics.For(st.spec.Name, st.spec.Topic)}
}

// check reports what is missing from a stage's definition.
func (st stage[T]) check() error {
	if st.spec.Name == "" || st.spec.Topic == "" || st.decode == nil {
		return fmt.Errorf("stream: stage %q needs a Name, a Topic and Decode", st.spec.Name)
	}
	if st.emit != nil && len(st.spec.Outputs) == 0 {
		return fmt.Errorf("stream: stage %s emits messages but declares no Outputs", st.spec.Name)
	}
	return nil
}

// Migrate applies the runtime's own schema and the stage's.
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

// loop consumes the topic until ctx ends. When ctx ends it finishes the
// batch in hand, commits it and returns nil.
//
// A fetcher goroutine reads and decodes the next batch while the loop
// applies the current one, so that the bus keeps delivering during a
// commit instead of filling its buffer and waiting: batches are still
// applied one at a time, in order. A stage with a commit interval reads its
// next batch only after the commit, since the interval runs from it.
func (r *run[T]) loop(ctx context.Context) error {
	c, err := r.env.Bus.Consume(ctx, bus.ConsumerConfig{
		Topic:  r.st.spec.Topic,
		Group:  r.st.spec.Name,
		Start:  bus.Earliest,
		Resume: r.pos.resume,
	})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("stage %s: consume %s: %w", r.st.spec.Name, r.st.spec.Topic, err)
	}
	defer func() { _ = c.Close() }()
	want, next, quit := make(chan struct{}, 1), make(chan fetched[T]), make(chan struct{})
	var fetcher sync.WaitGroup
	fetcher.Go(func() { r.fetch(ctx, c, want, next, quit) })
	defer func() {
		close(quit)
		fetcher.Wait() // before the consumer closes
	}()
	r.log.Info("stage started", "kind", r.st.spec.Kind)
	r.m.started()
	readAhead := r.st.interval <= 0
	want <- struct{}{}
	for {
		if ctx.Err() != nil {
			// Stop after the batch in hand, not after the messages read
			// ahead.
			r.log.Info("stage stopped")
			return nil
		}
		f := <-next
		if readAhead && f.err == nil {
			want <- struct{}{}
		}
		if len(f.msgs) > 0 {
			// The batch in hand is finished even when ctx ends meanwhile.
			if berr := r.batch(ctx, context.WithoutCancel(ctx), c, f); berr != nil {
				if ctx.Err() != nil {
					r.log.Info("stage stopped before committing a batch; it will be read again", "messages", len(f.msgs))
					return nil
				}
				return berr
			}
		}
		if err := f.err; err != nil {
			if ctx.Err() != nil {
				r.log.Info("stage stopped")
				return nil
			}
			return fmt.Errorf("stage %s: fetch from %s: %w", r.st.spec.Name, r.st.spec.Topic, err)
		}
		if !readAhead {
			want <- struct{}{}
		}
	}
}

// fetched is a batch the fetcher read: the messages, decoded, and the
// fetch's error, which comes after them.
type fetched[T any] struct {
	msgs []*bus.Message
	recs []Record[T]     // the messages decoded
	bad  []Record[error] // the messages that failed to decode, with why
	err  error
}

// fetch reads and decodes a batch each time the loop asks (want) and hands
// it over (next), until the fetch fails or the loop quits. It ends after a
// failed fetch, whose error the loop then returns.
func (r *run[T]) fetch(ctx context.Context, c bus.Consumer, want <-chan struct{}, next chan<- fetched[T], quit <-chan struct{}) {
	for {
		select {
		case <-want:
		case <-quit:
			return
		}
		msgs, err := r.gather(ctx, c)
		f := fetched[T]{msgs: msgs, err: err, recs: make([]Record[T], 0, len(msgs))}
		for _, m := range msgs {
			if v, err := r.st.decode(m); err != nil {
				f.bad = append(f.bad, Record[error]{Msg: m, Value: err})
			} else {
				f.recs = append(f.recs, Record[T]{Msg: m, Value: v})
			}
		}
		select {
		case next <- f:
		case <-quit:
			return
		}
		if err != nil {
			return
		}
	}
}

// gather fetches a batch: what is at hand; for a stage with a commit
// interval, what comes until the batch is full or the interval since the
// last commit has passed (batches under load, at once when quiet).
func (r *run[T]) gather(ctx context.Context, c bus.Consumer) ([]*bus.Message, error) {
	batch, err := c.Fetch(ctx, r.env.MaxBatch)
	if err != nil || r.st.interval <= 0 {
		return batch, err
	}
	due := r.committed.Add(r.st.interval)
	for len(batch) < r.env.MaxBatch {
		wait := time.Until(due)
		if wait <= 0 {
			break
		}
		fctx, cancel := context.WithTimeout(ctx, wait)
		more, err := c.Fetch(fctx, r.env.MaxBatch-len(batch))
		cancel()
		if err != nil {
			if ctx.Err() != nil {
				return batch, ctx.Err()
			}
			continue // the interval is over
		}
		batch = append(batch, more...)
	}
	return batch, nil
}

// batchBackoff paces the retries of a batch after a transient error.
var batchBackoff = retry.Backoff{Initial: 50 * time.Millisecond, Max: 10 * time.Second}

// batch handles one fetched batch: skip what was applied already, decode,
// dead-letter the bad messages, publish the outputs, apply and commit the
// rest with positions.
func (r *run[T]) batch(ctx, bctx context.Context, c bus.Consumer, f fetched[T]) error {
	start := time.Now()
	fresh := r.pos.unseen(f.msgs)
	if len(fresh) == 0 {
		return nil
	}
	recs, bad := f.recs, f.bad
	if len(fresh) < len(f.msgs) {
		recs, bad = keep(recs, fresh), keep(bad, fresh)
	}
	r.m.in.Add(float64(len(fresh)))
	dead := make([]*bus.Message, len(bad))
	for i, b := range bad {
		dead[i] = bus.DeadLetter(b.Msg, r.st.spec.Name, "decode: "+b.Value.Error())
	}
	if err := r.deadLetter(bctx, dead, "decode"); err != nil {
		return err
	}
	for attempt := 1; ; attempt++ {
		err := r.prepareAndEmit(bctx, recs)
		if err == nil {
			err = r.commit(bctx, fresh, recs)
		}
		switch {
		case err == nil:
		case errors.Is(err, ErrFenced):
			// Another worker moved this stage's positions: reload them and
			// drop what it applied.
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
		case IsHalt(err):
			return err
		default:
			r.m.retries.Inc()
			r.m.batchFailed(err)
			wait := batchBackoff.Delay(attempt)
			r.log.Error("batch failed; retrying", "err", err, "messages", len(fresh), "backoff", wait)
			if retry.Sleep(ctx, wait) != nil {
				return ctx.Err()
			}
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
	r.committed = time.Now()
	r.m.committed(r.committed)
	r.m.out.Add(float64(len(recs)))
	r.m.observe(len(fresh), time.Since(start))
	if len(recs) > 0 {
		if r.st.after != nil {
			r.st.after(recs)
		}
	}
	// The stage's authority holds the positions; the bus group position
	// serves group-less tools, so a failure here only logs.
	if err := c.Commit(bctx, bus.LastPositions(fresh)...); err != nil {
		r.log.Warn("commit positions to the bus", "err", err)
	}
	return nil
}

// Halt marks err as one no retry can fix — a mistake in a stage's
// definition, a test's simulated crash: the stage stops with it, and its
// supervisor restarts it from its positions.
func Halt(err error) error { return &haltError{err} }

type haltError struct{ err error }

func (e *haltError) Error() string { return e.err.Error() }
func (e *haltError) Unwrap() error { return e.err }

// IsHalt reports whether err was wrapped by Halt.
func IsHalt(err error) bool {
	var h *haltError
	return errors.As(err, &h)
}

// prepareAndEmit runs the stage's Prepare, then publishes the messages its
// Emit gives for recs, before anything of the batch commits.
func (r *run[T]) prepareAndEmit(ctx context.Context, recs []Record[T]) error {
	if len(recs) == 0 {
		return nil
	}
	if r.st.prepare != nil {
		if err := r.st.prepare(ctx, recs); err != nil {
			return err
		}
	}
	if r.st.emit == nil {
		return nil
	}
	var out []*bus.Message
	for _, rec := range recs {
		for _, m := range r.st.emit(rec) {
			if !slices.Contains(r.st.spec.Outputs, m.Topic) {
				return Halt(fmt.Errorf("stage %s emits to %q, which is not among its Outputs %v", r.st.spec.Name, m.Topic, r.st.spec.Outputs))
			}
			out = append(out, m)
		}
	}
	if len(out) == 0 {
		return nil
	}
	if err := r.env.Bus.Publish(ctx, out...); err != nil {
		return fmt.Errorf("publish %d output messages: %w", len(out), err)
	}
	return nil
}

// commit applies recs and records the positions after msgs.
func (r *run[T]) commit(ctx context.Context, msgs []*bus.Message, recs []Record[T]) error {
	prev, err := r.pos.known(ctx, msgs)
	if err != nil {
		return err
	}
	next := after(prev, msgs)
	if err := r.a.apply(ctx, msgs, recs, prev, next); err != nil {
		return err
	}
	r.pos.advance(next)
	r.a.committed(ctx, next)
	return nil
}

// after returns the positions after msgs, from prev.
func after(prev map[int32]int64, msgs []*bus.Message) map[int32]int64 {
	next := make(map[int32]int64, len(prev))
	for _, m := range msgs {
		if m.Offset+1 > next[m.Partition] {
			next[m.Partition] = m.Offset + 1
		}
	}
	for part, n := range next {
		next[part] = max(n, prev[part])
	}
	return next
}

// oneByOne handles a batch in which a message was rejected: each message in
// its own commit, the rejected ones to the dead-letter topic.
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
			err := r.prepareAndEmit(ctx, one)
			if err == nil {
				err = r.commit(ctx, []*bus.Message{m}, one)
			}
			if err == nil || errors.Is(err, ErrFenced) {
				break
			}
			if IsRejected(err) {
				if err := r.deadLetter(ctx, []*bus.Message{bus.DeadLetter(m, r.st.spec.Name, "handle: "+rejectReason(err))}, "handle"); err != nil {
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

func (r *run[T]) deadLetter(ctx context.Context, dead []*bus.Message, step string) error {
	if len(dead) == 0 {
		return nil
	}
	for _, d := range dead {
		r.log.Warn("dead letter", "step", step, "position", d.Headers[bus.HeaderDLQOffset], "reason", d.Headers[bus.HeaderDLQReason])
		part, _ := strconv.Atoi(d.Headers[bus.HeaderDLQPartition])
		off, _ := strconv.ParseInt(d.Headers[bus.HeaderDLQOffset], 10, 64)
		r.m.m.addDeadLetter(DeadLetter{Processor: r.st.spec.Name, Topic: r.st.spec.Topic, Partition: int32(part), Offset: off,
			Key: d.Key, Reason: d.Headers[bus.HeaderDLQReason], At: time.Now()})
	}
	if err := r.env.Bus.Publish(ctx, dead...); err != nil {
		return fmt.Errorf("stage %s: publish %d dead letters: %w", r.st.spec.Name, len(dead), err)
	}
	r.m.failed(step).Add(float64(len(dead)))
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
