package jetstream

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// One member per group: a JetStream topic is one stream with one
// partition, read by a group through one durable consumer whose commits
// acknowledge everything up to a position (AckAll). Two members on it
// would each rewind it to their own positions when they open it and
// acknowledge each other's messages when they commit: the work cannot be
// shared. So Consume claims the group before it opens its consumer:
//
//   - the claim is a key of the KV bucket membersBucket, created
//     atomically (two members starting at once: one creates it, the other
//     finds it taken);
//   - its holder answers on a subject of its own (memberSubject with its
//     token) while it reads, subscribed before it claims, so that a claim
//     is always answered while it is held;
//   - a claim whose holder does not answer (a process killed without
//     leaving) is taken over by compare-and-set on the key's revision.
//
// A refused member learns which process holds the group; the holder's
// consumer is not touched.

// memberAnswerTimeout bounds the wait for a live member's answer (the
// server answers at once that no one listens when there is none).
const memberAnswerTimeout = 2 * time.Second

// ErrGroupTaken is wrapped by Consume's error when another member, in this
// process or another, reads the group already.
var ErrGroupTaken = errors.New("the group already has a member")

// membersBucket is the KV bucket of the groups' claims.
const membersBucket = "PODIUM_MEMBERS"

// claimAttempts bounds the rounds of a claim racing other members.
const claimAttempts = 5

// member describes the member reading a group: the value of its claim.
type member struct {
	Token   string    `json:"token"`
	PID     int       `json:"pid"`
	Host    string    `json:"host"`
	Process string    `json:"process"`
	Since   time.Time `json:"since"`
}

// memberSubject is the subject the member with token answers on.
func memberSubject(token string) string { return "_PODIUM.member." + token }

// claimMember makes this process the member of group on stream, or fails
// with ErrGroupTaken naming the member that is. leave gives the claim up.
func (b *Bus) claimMember(ctx context.Context, stream, topic, group string) (leave func(), err error) {
	kv, err := b.js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: membersBucket,
		Description: "podium: the member of each consumer group", Storage: jetstream.FileStorage})
	if err != nil {
		return nil, b.wrap(err, "open the members bucket for group %q on topic %q", group, topic)
	}
	host, _ := os.Hostname()
	me := member{Token: nats.NewInbox()[len(nats.InboxPrefix):], PID: os.Getpid(), Host: host, Process: processName(),
		Since: time.Now().UTC().Truncate(time.Second)}
	value, _ := json.Marshal(me)
	sub, err := b.nc.Subscribe(memberSubject(me.Token), func(m *nats.Msg) { _ = m.Respond(value) })
	if err == nil {
		// The server knows the subject before the claim exists; FlushWithContext
		// needs a deadline.
		fctx, cancel := context.WithTimeout(ctx, memberAnswerTimeout)
		err = b.nc.FlushWithContext(fctx)
		cancel()
	}
	if err != nil {
		return nil, b.wrap(err, "answer as the member of group %q on topic %q", group, topic)
	}
	key := stream + "." + consumerName(group)
	var rev uint64
	for range claimAttempts {
		entry, gerr := kv.Get(ctx, key)
		switch {
		case errors.Is(gerr, jetstream.ErrKeyNotFound):
			rev, err = kv.Create(ctx, key, value)
		case gerr != nil:
			err = gerr
		default:
			var holder member
			if json.Unmarshal(entry.Value(), &holder) == nil && b.answers(ctx, holder.Token) {
				_ = sub.Unsubscribe()
				return nil, fmt.Errorf("jetstream: group %q on topic %q: %w: %s (pid %d on %s, since %s). On NATS JetStream a topic is one partition "+
					"that one member of a group reads: run each stage in one podium only, or use Kafka (--bus kafka://…) to share the work among several workers",
					group, topic, ErrGroupTaken, holder.Process, holder.PID, holder.Host, holder.Since.Format(time.RFC3339))
			}
			// A claim nobody answers for: its process is gone.
			rev, err = kv.Update(ctx, key, value, entry.Revision())
		}
		if err == nil {
			return func() {
				_ = sub.Unsubscribe()
				dctx, cancel := context.WithTimeout(context.Background(), memberAnswerTimeout)
				defer cancel()
				_ = kv.Delete(dctx, key, jetstream.LastRevision(rev))
			}, nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) && !errors.Is(err, jetstream.ErrKeyRevisionMismatch) {
			break
		}
		// Another member claimed it meanwhile: look again.
	}
	_ = sub.Unsubscribe()
	return nil, b.wrap(err, "claim group %q on topic %q", group, topic)
}

// answers reports whether the member with token answers: a live member
// answers at once, and the server says at once that no one listens when
// its process is gone.
func (b *Bus) answers(ctx context.Context, token string) bool {
	ctx, cancel := context.WithTimeout(ctx, memberAnswerTimeout)
	defer cancel()
	_, err := b.nc.RequestWithContext(ctx, memberSubject(token), nil)
	return err == nil
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
