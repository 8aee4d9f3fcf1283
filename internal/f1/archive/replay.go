package archive

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/progress"
)

// ReplayOptions selects what Replay publishes and how fast.
type ReplayOptions struct {
	// Season to replay; required.
	Season int
	// FromRound and ToRound bound the rounds replayed (inclusive); 0 means
	// the first and the last round of the season.
	FromRound, ToRound int
	// Interval is the pause between two messages; 0 publishes in batches
	// as fast as the bus takes them.
	Interval time.Duration
}

// replayBatch is the number of messages per Publish when Interval is 0.
const replayBatch = 200

// Validate checks opts against the archive a and fills in the default
// rounds.
func (o *ReplayOptions) Validate(a *Archive) error {
	seasons := a.Seasons()
	s, ok := a.Season(o.Season)
	if !ok {
		if len(seasons) == 0 {
			return errors.New("the archive holds no season")
		}
		return fmt.Errorf("season %d is not in the archive: the seasons available are %d to %d", o.Season, seasons[0], seasons[len(seasons)-1])
	}
	last := len(s.Rounds)
	switch {
	case o.FromRound < 0 || o.FromRound > last:
		return fmt.Errorf("from round %d: season %d has rounds 1 to %d", o.FromRound, o.Season, last)
	case o.ToRound < 0 || o.ToRound > last:
		return fmt.Errorf("to round %d: season %d has rounds 1 to %d", o.ToRound, o.Season, last)
	case o.Interval < 0:
		return fmt.Errorf("interval %s: must not be negative", o.Interval)
	}
	if o.FromRound == 0 {
		o.FromRound = 1
	}
	if o.ToRound == 0 {
		o.ToRound = last
	}
	if o.FromRound > o.ToRound {
		return fmt.Errorf("from round %d is after to round %d", o.FromRound, o.ToRound)
	}
	return nil
}

// ReplayMessages returns the messages Replay publishes for opts, in order:
// rounds in calendar order, the sprint before the race, cars from P1 down
// and the unclassified cars last, one car per message on f1.results; each
// penalty of the season on f1.penalties just before the results of the
// round it counts from (or first, if that round comes before FromRound).
// Penalties from after ToRound are left out.
func ReplayMessages(a *Archive, opts ReplayOptions) ([]*bus.Message, error) {
	if err := opts.Validate(a); err != nil {
		return nil, err
	}
	s, _ := a.Season(opts.Season)
	var msgs []*bus.Message
	pending := s.Penalties
	for _, rd := range s.Rounds {
		if rd.Round < opts.FromRound || rd.Round > opts.ToRound {
			continue
		}
		keep := pending[:0:0]
		for _, p := range pending {
			if p.FromRound > rd.Round {
				keep = append(keep, p)
				continue
			}
			m, err := message(f1.TopicPenalties, p.ID, p)
			if err != nil {
				return nil, err
			}
			msgs = append(msgs, m)
		}
		pending = keep
		for _, ss := range rd.Sessions {
			for _, r := range ss.Results {
				m, err := message(f1.TopicResults, r.Key(), r)
				if err != nil {
					return nil, err
				}
				msgs = append(msgs, m)
			}
		}
	}
	return msgs, nil
}

// message encodes v as the JSON message of topic with key. Its ID is the
// key and a short hash of the content: publishing the same content twice
// is de-duplicated by engines that do (JetStream), an amended content is
// not.
func message(topic, key string, v any) (*bus.Message, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %s: %w", key, err)
	}
	sum := sha256.Sum256(b)
	return &bus.Message{
		Topic:   topic,
		Key:     key,
		Value:   b,
		ID:      key + "#" + hex.EncodeToString(sum[:6]),
		Headers: map[string]string{"content-type": "application/json"},
	}, nil
}

// Replay publishes a season of the archive, or some of its rounds, to b
// (see ReplayMessages for the order) and returns the number of messages
// published. With opts.Interval 0 it publishes in batches as fast as the
// bus takes them; otherwise one message per interval, the first at once.
// bar, if not nil, shows the messages published. It stops when ctx ends,
// returning what it published so far and ctx's error.
func Replay(ctx context.Context, b bus.Bus, a *Archive, opts ReplayOptions, bar *progress.Bar) (int, error) {
	msgs, err := ReplayMessages(a, opts)
	if err != nil {
		return 0, err
	}
	bar.SetTotal(int64(len(msgs)))
	sent := 0
	if opts.Interval == 0 {
		for sent < len(msgs) {
			n := min(replayBatch, len(msgs)-sent)
			if err := b.Publish(ctx, msgs[sent:sent+n]...); err != nil {
				return sent, fmt.Errorf("replay %d: publish messages %d to %d of %d: %w", opts.Season, sent+1, sent+n, len(msgs), err)
			}
			sent += n
			bar.Add(int64(n))
		}
		bar.Finish()
		return sent, nil
	}
	tick := time.NewTicker(opts.Interval)
	defer tick.Stop()
	for i, m := range msgs {
		if i > 0 {
			select {
			case <-ctx.Done():
				return sent, ctx.Err()
			case <-tick.C:
			}
		}
		if err := b.Publish(ctx, m); err != nil {
			return sent, fmt.Errorf("replay %d: publish %s (%s): %w", opts.Season, m.Key, strings.TrimPrefix(m.Topic, "f1."), err)
		}
		sent++
		bar.Add(1)
	}
	bar.Finish()
	return sent, nil
}
