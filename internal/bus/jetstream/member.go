package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
)

// One member per group: a JetStream topic is one stream with one
// partition, read by a group through one durable consumer whose commits
// acknowledge everything up to a position (AckAll). Two members on it
// would each rewind it to their own positions when they open it and
// acknowledge each other's messages when they commit: the work cannot be
// shared. So a member of a group answers on a subject of its own while it
// reads, and Consume refuses to open a group that has a member already,
// saying which process holds it — without touching that member's consumer.

// memberAnswerTimeout bounds the wait for a live member's answer (the
// server answers at once that no one listens when there is none).
const memberAnswerTimeout = 2 * time.Second

// ErrGroupTaken is wrapped by Consume's error when another member, in this
// process or another, reads the group already.
var ErrGroupTaken = errors.New("the group already has a member")

// member describes the member reading a group, for the error of a second
// one.
type member struct {
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Process string    `json:"process"`
	Since   time.Time `json:"since"`
}

// memberSubject is the subject the member of group on stream answers on.
func memberSubject(stream, group string) string {
	return "_PODIUM.member." + stream + "." + consumerName(group)
}

// checkNoMember fails with ErrGroupTaken when a member of group reads
// stream.
func (b *Bus) checkNoMember(ctx context.Context, stream, topic, group string) error {
	ctx, cancel := context.WithTimeout(ctx, memberAnswerTimeout)
	defer cancel()
	msg, err := b.nc.RequestWithContext(ctx, memberSubject(stream, group), nil)
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return nil
	case errors.Is(err, context.DeadlineExceeded) && ctx.Err() != nil:
		return nil // an old member that does not answer: none
	case err != nil:
		return b.wrap(err, "look for a member of group %q on topic %q", group, topic)
	}
	var m member
	_ = json.Unmarshal(msg.Data, &m)
	return fmt.Errorf("jetstream: group %q on topic %q: %w: %s (pid %d on %s, since %s). On NATS JetStream a topic is one partition "+
		"that one member of a group reads: run each stage in one podium only, or use Kafka (--bus kafka://…) to share the work among several workers",
		group, topic, ErrGroupTaken, m.Process, m.PID, m.Host, m.Since.Format(time.RFC3339))
}

// answerAsMember makes this process the member of group on stream until
// the returned function is called.
func (b *Bus) answerAsMember(stream, group string) (stop func(), err error) {
	host, _ := os.Hostname()
	me, _ := json.Marshal(member{PID: os.Getpid(), Host: host, Process: processName(), Since: time.Now().UTC().Truncate(time.Second)})
	sub, err := b.nc.Subscribe(memberSubject(stream, group), func(m *nats.Msg) { _ = m.Respond(me) })
	if err != nil {
		return nil, fmt.Errorf("jetstream: answer as the member of group %q: %w", group, err)
	}
	return func() { _ = sub.Unsubscribe() }, nil
}

// processName is the command line's first words, e.g. "podium worker".
func processName() string {
	name := "a process"
	if len(os.Args) > 0 {
		name = os.Args[0]
		for _, a := range os.Args[1:] {
			if len(a) > 0 && a[0] != '-' {
				name += " " + a
				break
			}
		}
	}
	return name
}
