package bus

import (
	"strconv"
	"strings"
	"time"
)

// DLQSuffix ends the name of every dead-letter topic.
const DLQSuffix = ".dlq"

// Headers set on a dead letter.
const (
	HeaderDLQReason    = "podium-dlq-reason"
	HeaderDLQTopic     = "podium-dlq-topic"
	HeaderDLQPartition = "podium-dlq-partition"
	HeaderDLQOffset    = "podium-dlq-offset"
	HeaderDLQProcessor = "podium-dlq-processor"
	HeaderDLQTime      = "podium-dlq-time"
)

// DLQTopic returns the dead-letter topic of topic.
func DLQTopic(topic string) string { return topic + DLQSuffix }

// IsDLQ reports whether topic is a dead-letter topic.
func IsDLQ(topic string) bool { return strings.HasSuffix(topic, DLQSuffix) }

// DeadLetter returns the dead letter for m, which processor could not
// handle for reason. It keeps m's key, value and headers, adds the reason and
// m's position, and gets an ID derived from that position, so that sending
// the same dead letter twice (after a crash) stores it once on engines that
// de-duplicate.
func DeadLetter(m *Message, processor, reason string) *Message {
	h := make(map[string]string, len(m.Headers)+6)
	for k, v := range m.Headers {
		h[k] = v
	}
	h[HeaderDLQReason] = reason
	h[HeaderDLQTopic] = m.Topic
	h[HeaderDLQPartition] = strconv.Itoa(int(m.Partition))
	h[HeaderDLQOffset] = strconv.FormatInt(m.Offset, 10)
	h[HeaderDLQProcessor] = processor
	h[HeaderDLQTime] = time.Now().UTC().Format(time.RFC3339Nano)
	return &Message{
		Topic:   DLQTopic(m.Topic),
		Key:     m.Key,
		Value:   m.Value,
		Headers: h,
		ID:      "dlq:" + processor + ":" + m.Position().String(),
	}
}

// Redrive returns the message to publish back on the source topic for dead
// letter d: the original key, value and headers, without the dead-letter
// headers. ok is false when d carries no source topic.
func Redrive(d *Message) (m *Message, ok bool) {
	src := d.Headers[HeaderDLQTopic]
	if src == "" {
		return nil, false
	}
	h := make(map[string]string, len(d.Headers))
	for k, v := range d.Headers {
		if !strings.HasPrefix(k, "podium-dlq-") {
			h[k] = v
		}
	}
	return &Message{Topic: src, Key: d.Key, Value: d.Value, Headers: h,
		ID: "redrive:" + d.Position().String()}, true
}
