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

// errFenced means another worker recorded positions this one did not expect.
var errFenced = errors.New("positions were moved by another worker")

// positions caches a processor's committed positions (next offset per
// partition). The store is the authority: a partition missing from the cache
// is read from it.
type positions struct {
	s         *store.Store
	processor string
	topic     string

	mu   sync.Mutex
	next map[int32]int64 // cached next offset; -1 = no row in the store
}

func newPositions(s *store.Store, processor, topic string) *positions {
	return &positions{s: s, processor: processor, topic: topic, next: map[int32]int64{}}
}

// resume answers bus.ConsumerConfig.Resume from the store. A partition the
// processor has never handled starts at offset 0, the oldest message kept,
// whatever the bus group recorded: after a rebuild the store has no
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
	n, err := Position(ctx, p.s.DB(), p.processor, p.topic, partition)
	if err != nil {
		return 0, err
	}
	p.next[partition] = n
	return n, nil
}

// Position returns the next offset processor will handle on a topic
// partition, or -1 when it has handled nothing there.
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

// forget drops the cache, so that positions are read from the store again.
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
			// Keep the message: the commit will read positions again and
			// fence if they moved.
			out = append(out, m)
			continue
		}
		if m.Offset >= n {
			out = append(out, m)
		}
	}
	return out
}

// save records, in tx, the positions after msgs. It fails with errFenced
// when the stored positions are not those this worker last saw.
func (p *positions) save(ctx context.Context, tx *sql.Tx, msgs []*bus.Message) (map[int32]int64, error) {
	next := map[int32]int64{}
	for _, m := range msgs {
		if m.Offset+1 > next[m.Partition] {
			next[m.Partition] = m.Offset + 1
		}
	}
	now := time.Now().UTC()
	for part, n := range next {
		p.mu.Lock()
		prev, known := p.next[part]
		p.mu.Unlock()
		if !known {
			return nil, fmt.Errorf("partition %d: %w", part, errFenced)
		}
		var res sql.Result
		var err error
		if prev < 0 {
			res, err = tx.ExecContext(ctx, `INSERT INTO podium_positions (processor, topic, part, next_offset, updated_at)
				VALUES ($1, $2, $3, $4, $5) ON CONFLICT (processor, topic, part) DO NOTHING`,
				p.processor, p.topic, part, n, now)
		} else {
			res, err = tx.ExecContext(ctx, `UPDATE podium_positions SET next_offset = $1, updated_at = $2
				WHERE processor = $3 AND topic = $4 AND part = $5 AND next_offset = $6`,
				n, now, p.processor, p.topic, part, prev)
		}
		if err != nil {
			return nil, fmt.Errorf("save position %s/%d: %w", p.topic, part, err)
		}
		if rows, err := res.RowsAffected(); err != nil || rows != 1 {
			return nil, fmt.Errorf("partition %d: %w", part, errFenced)
		}
	}
	return next, nil
}

// advance caches positions after their commit.
func (p *positions) advance(next map[int32]int64) {
	p.mu.Lock()
	for part, n := range next {
		p.next[part] = n
	}
	p.mu.Unlock()
}
