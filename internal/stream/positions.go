package stream

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"sync"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/store"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

var migrations, _ = fs.Sub(migrationFiles, "migrations")

// positions caches a stage's committed positions (next offset per
// partition). The stage's authority (the store, or a sink's outside store)
// is read for a partition missing from the cache.
type positions struct {
	loadFn func(ctx context.Context, partition int32) (int64, error)

	mu   sync.Mutex
	next map[int32]int64 // cached next offset; -1 = nothing handled there
}

func newPositions(load func(ctx context.Context, partition int32) (int64, error)) *positions {
	return &positions{loadFn: load, next: map[int32]int64{}}
}

// resume answers bus.ConsumerConfig.Resume from the authority. A partition
// the stage has never handled starts at offset 0, the oldest message kept,
// whatever the bus group recorded: after a rebuild the authority has no
// positions and the topic is read again from the start.
func (p *positions) resume(ctx context.Context, partition int32) (int64, bool, error) {
	n, err := p.load(ctx, partition, true)
	if err != nil {
		return 0, false, err
	}
	return max(n, 0), true, nil
}

func (p *positions) load(ctx context.Context, partition int32, refresh bool) (int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if n, ok := p.next[partition]; ok && !refresh {
		return n, nil
	}
	n, err := p.loadFn(ctx, partition)
	if err != nil {
		return 0, err
	}
	p.next[partition] = n
	return n, nil
}

// forget drops the cache, so that positions are read from the authority
// again.
func (p *positions) forget() {
	p.mu.Lock()
	p.next = map[int32]int64{}
	p.mu.Unlock()
}

// unseen returns the messages at or after the committed positions.
func (p *positions) unseen(msgs []*bus.Message) []*bus.Message {
	out := msgs[:0:0]
	for _, m := range msgs {
		n, err := p.load(context.Background(), m.Partition, false)
		if err != nil {
			// Keep the message: the commit reads positions again and fences
			// if they moved.
			out = append(out, m)
			continue
		}
		if m.Offset >= n {
			out = append(out, m)
		}
	}
	return out
}

// known returns the cached positions of the partitions msgs touch (-1 for
// none handled). A partition missing from the cache (a load that failed)
// fences: the batch is checked against the authority again.
func (p *positions) known(_ context.Context, msgs []*bus.Message) (map[int32]int64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	prev := map[int32]int64{}
	for _, m := range msgs {
		n, ok := p.next[m.Partition]
		if !ok {
			return nil, fmt.Errorf("partition %d: %w", m.Partition, ErrFenced)
		}
		prev[m.Partition] = n
	}
	return prev, nil
}

// advance caches positions after their commit.
func (p *positions) advance(next map[int32]int64) {
	p.mu.Lock()
	for part, n := range next {
		p.next[part] = n
	}
	p.mu.Unlock()
}

// Position returns the next offset the stage named processor will handle on
// a topic partition, or -1 when it has handled nothing there, as
// podium_positions records it.
func Position(ctx context.Context, db *sql.DB, processor, topic string, partition int32) (int64, error) {
	var n int64
	err := db.QueryRowContext(ctx, `SELECT next_offset FROM podium_positions WHERE processor = $1 AND topic = $2 AND part = $3`,
		processor, topic, partition).Scan(&n)
	if errors.Is(err, sql.ErrNoRows) {
		return -1, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read position of %s on %s/%d: %w", processor, topic, partition, err)
	}
	return n, nil
}

// savePositions records, in tx, the positions next of a stage on topic. It
// fails with ErrFenced when the stored positions are not prev (-1: no
// row), the ones this worker last saw.
func savePositions(ctx context.Context, tx *sql.Tx, stage, topic string, prev, next map[int32]int64) error {
	now := time.Now().UTC()
	for part, n := range next {
		old, ok := prev[part]
		if !ok {
			return fmt.Errorf("partition %d: %w", part, ErrFenced)
		}
		var res sql.Result
		var err error
		if old < 0 {
			res, err = tx.ExecContext(ctx, `INSERT INTO podium_positions (processor, topic, part, next_offset, updated_at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (processor, topic, part) DO NOTHING`,
				stage, topic, part, n, now)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE podium_positions SET next_offset = $1, updated_at = $2
				WHERE processor = $3 AND topic = $4 AND part = $5 AND next_offset = $6`,
				n, now, stage, topic, part, old)
		}
		if err != nil {
			return fmt.Errorf("save position %s/%d: %w", topic, part, err)
		}
		if rows, err := res.RowsAffected(); err != nil || rows != 1 {
			return fmt.Errorf("partition %d: %w", part, ErrFenced)
		}
	}
	return nil
}

// copyPositions records next in podium_positions without a guard: the copy
// of a sink stage's positions, whose authority is its outside store, for
// lag reports, the pipeline page and catch-up.
func copyPositions(ctx context.Context, s *store.Store, stage, topic string, next map[int32]int64) error {
	if len(next) == 0 {
		return nil
	}
	now := time.Now().UTC()
	rows := make([][]any, 0, len(next))
	for part, n := range next {
		rows = append(rows, []any{stage, topic, part, n, now})
	}
	return s.InTx(ctx, func(tx *sql.Tx) error {
		return store.InsertRows(ctx, tx, `INSERT INTO podium_positions (processor, topic, part, next_offset, updated_at)`, rows,
			`ON CONFLICT (processor, topic, part) DO UPDATE SET next_offset = excluded.next_offset, updated_at = excluded.updated_at`)
	})
}
