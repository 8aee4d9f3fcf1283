// Package kafka is the Kafka (and Redpanda) engine of podium's message bus,
// built on franz-go: one shared idempotent producer, one admin client, and a
// client per consumer.
//
// Topics are created on first publish or consume with Config's default
// partitions and retention. Consumers with a group use Kafka's consumer
// group protocol (cooperative-sticky balancing) with manual, synchronous
// commits; rebalances are held back between a Fetch and the next one, so a
// batch is committed by the member that owns it.
package kafka

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/twmb/franz-go/pkg/kadm"
	"github.com/twmb/franz-go/pkg/kerr"
	"github.com/twmb/franz-go/pkg/kgo"
	"github.com/twmb/franz-go/pkg/kmsg"
	"github.com/twmb/franz-go/pkg/sasl"
	"github.com/twmb/franz-go/pkg/sasl/plain"
	"github.com/twmb/franz-go/pkg/sasl/scram"

	"github.com/podiumhq/podium/internal/bus"
)

// HeaderMsgID is the record header that carries Message.ID. Kafka does not
// de-duplicate by it; consumers get it back in Message.ID.
const HeaderMsgID = "podium-msg-id"

// Defaults applied by Open to zero Config fields.
const (
	DefaultPartitions        = 3
	DefaultClientID          = "podium"
	DefaultSessionTimeout    = 45 * time.Second
	DefaultRebalanceTimeout  = 60 * time.Second
	DefaultHeartbeatInterval = 3 * time.Second
)

// Config configures the Kafka engine.
type Config struct {
	// Brokers are the seed brokers, host:port (see ParseURL).
	Brokers []string
	// Auth holds SASL credentials (PLAIN, SCRAM-SHA-256, SCRAM-SHA-512) and
	// TLS settings.
	Auth bus.Auth
	// DefaultPartitions is the partition count of topics created on first
	// use or by EnsureTopic without partitions; 0 means 3.
	DefaultPartitions int
	// ReplicationFactor of created topics; 0 means the broker default.
	ReplicationFactor int
	// DefaultMaxAge is the retention of topics created on first use; zero
	// keeps messages forever (retention.ms=-1).
	DefaultMaxAge time.Duration
	// DefaultMaxBytes is the per-partition size limit of topics created on
	// first use; zero means no limit (retention.bytes=-1).
	DefaultMaxBytes int64
	// ClientID identifies podium to the brokers; empty means "podium".
	ClientID string
	// Logger receives the engine's and franz-go's logs; nil discards them.
	// franz-go's info messages are logged at debug level.
	Logger *slog.Logger

	// SessionTimeout is how long the group coordinator waits for a
	// consumer's heartbeat before evicting it; 0 means 45s. It must lie
	// within the brokers' group.min/max.session.timeout.ms.
	SessionTimeout time.Duration
	// RebalanceTimeout bounds how long members may take to rejoin during a
	// rebalance; 0 means 60s. A consumer that keeps a fetched batch longer
	// than this without calling Fetch again is evicted from its group.
	RebalanceTimeout time.Duration
	// HeartbeatInterval is the period of group heartbeats, which is also
	// how fast a member notices a rebalance; 0 means 3s.
	HeartbeatInterval time.Duration
	// Linger is how long the producer waits for more messages to fill a
	// batch before sending it; 0 sends at once. Publish waits for the
	// acknowledgement, so lingering mostly adds latency: messages that
	// arrive while a request is in flight are batched anyway.
	Linger time.Duration
}

func (c *Config) setDefaults() {
	if c.DefaultPartitions <= 0 {
		c.DefaultPartitions = DefaultPartitions
	}
	if c.ReplicationFactor <= 0 {
		c.ReplicationFactor = -1
	}
	if c.ClientID == "" {
		c.ClientID = DefaultClientID
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.SessionTimeout <= 0 {
		c.SessionTimeout = DefaultSessionTimeout
	}
	if c.RebalanceTimeout <= 0 {
		c.RebalanceTimeout = DefaultRebalanceTimeout
	}
	if c.HeartbeatInterval <= 0 {
		// A member must heartbeat several times per session timeout.
		c.HeartbeatInterval = min(DefaultHeartbeatInterval, c.SessionTimeout/3)
	}
	if c.Linger < 0 {
		c.Linger = 0
	}
}

// Bus is the Kafka engine of bus.Bus. It is safe for concurrent use.
type Bus struct {
	cfg    Config
	log    *slog.Logger
	common []kgo.Opt // connection options shared by every client

	prod  *kgo.Client  // producer
	admCl *kgo.Client  // admin requests, with its own metadata cache
	adm   *kadm.Client // wraps admCl

	closed atomic.Bool

	mu        sync.Mutex
	known     map[string]bool           // topics known to exist
	creating  map[string]*topicCreation // topics being checked or created
	consumers map[*consumer]struct{}    // open consumers
}

type topicCreation struct {
	done chan struct{}
	err  error
}

var _ bus.Bus = (*Bus)(nil)

// Open connects to the cluster: it checks that a broker answers a metadata
// request with the given credentials before returning.
func Open(ctx context.Context, cfg Config) (*Bus, error) {
	if len(cfg.Brokers) == 0 {
		return nil, errors.New("kafka: no brokers configured")
	}
	if cfg.DefaultMaxAge < 0 || cfg.DefaultMaxBytes < 0 {
		return nil, errors.New("kafka: negative default retention")
	}
	cfg.setDefaults()
	quiet := new(atomic.Bool)
	common, err := commonOpts(cfg, quiet)
	if err != nil {
		return nil, err
	}
	b := &Bus{
		cfg:       cfg,
		log:       cfg.Logger.With("bus", "kafka"),
		common:    common,
		known:     make(map[string]bool),
		creating:  make(map[string]*topicCreation),
		consumers: make(map[*consumer]struct{}),
	}
	// Admin listings use cached metadata; keep it short-lived.
	b.admCl, err = kgo.NewClient(append(append([]kgo.Opt(nil), common...), kgo.MetadataMinAge(time.Second))...)
	if err != nil {
		return nil, fmt.Errorf("kafka: admin client: %w", err)
	}
	b.adm = kadm.NewClient(b.admCl)
	prodOpts := append(append([]kgo.Opt(nil), common...),
		kgo.RequiredAcks(kgo.AllISRAcks()),
		kgo.ProducerLinger(cfg.Linger),
		// Refresh metadata at most every second (default 5s) when
		// producing hits a moved leader or an unknown topic, so that
		// failovers and recreated topics are noticed quickly.
		kgo.MetadataMinAge(time.Second),
	)
	b.prod, err = kgo.NewClient(prodOpts...)
	if err != nil {
		b.admCl.Close()
		return nil, fmt.Errorf("kafka: producer client: %w", err)
	}
	// The error says why no broker answered; franz-go's warnings about
	// each failed dial would only repeat it.
	quiet.Store(true)
	defer quiet.Store(false)
	if err := b.Ping(ctx); err != nil {
		b.prod.Close()
		b.admCl.Close()
		return nil, err
	}
	return b, nil
}

// Ping reports whether a broker answers.
func (b *Bus) Ping(ctx context.Context) error {
	if b.closed.Load() {
		return bus.ErrClosed
	}
	if err := b.admCl.Ping(ctx); err != nil {
		return fmt.Errorf("kafka: no broker answers: %w", mapClosed(err))
	}
	return nil
}

// commonOpts returns the client options for brokers, identity, logging,
// SASL and TLS. While quiet is set, franz-go's warnings are logged at debug
// level.
func commonOpts(cfg Config, quiet *atomic.Bool) ([]kgo.Opt, error) {
	opts := []kgo.Opt{
		kgo.SeedBrokers(cfg.Brokers...),
		kgo.ClientID(cfg.ClientID),
		kgo.WithLogger(kgoLogger{l: cfg.Logger.With("bus", "kafka", "lib", "franz-go"), quiet: quiet}),
	}
	mech, err := saslMechanism(cfg.Auth)
	if err != nil {
		return nil, err
	}
	if mech != nil {
		opts = append(opts, kgo.SASL(mech))
	}
	tlsCfg, err := cfg.Auth.TLSConfig()
	if err != nil {
		return nil, fmt.Errorf("kafka: %w", err)
	}
	if tlsCfg != nil {
		opts = append(opts, kgo.DialTLSConfig(tlsCfg))
	}
	return opts, nil
}

// saslMechanism returns the SASL mechanism a describes, or nil without a
// username.
func saslMechanism(a bus.Auth) (sasl.Mechanism, error) {
	mech := strings.ToUpper(strings.TrimSpace(a.SASLMechanism))
	if a.Username == "" {
		if mech != "" {
			return nil, fmt.Errorf("kafka: SASL mechanism %s set without a username", mech)
		}
		return nil, nil
	}
	switch mech {
	case "", "PLAIN":
		return plain.Auth{User: a.Username, Pass: a.Password}.AsMechanism(), nil
	case "SCRAM-SHA-256":
		return scram.Auth{User: a.Username, Pass: a.Password}.AsSha256Mechanism(), nil
	case "SCRAM-SHA-512":
		return scram.Auth{User: a.Username, Pass: a.Password}.AsSha512Mechanism(), nil
	default:
		return nil, fmt.Errorf("kafka: unsupported SASL mechanism %q (want PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512)", a.SASLMechanism)
	}
}

// metadata issues an uncached metadata request for topics, or for all
// topics when none are given.
func (b *Bus) metadata(ctx context.Context, topics ...string) (*kmsg.MetadataResponse, error) {
	req := kmsg.NewPtrMetadataRequest()
	if len(topics) > 0 {
		for _, t := range topics {
			rt := kmsg.NewMetadataRequestTopic()
			rt.Topic = kmsg.StringPtr(t)
			req.Topics = append(req.Topics, rt)
		}
	}
	resp, err := req.RequestWith(ctx, b.admCl)
	if err != nil {
		return nil, mapClosed(err)
	}
	return resp, nil
}

// mapClosed turns franz-go's closed-client error into bus.ErrClosed.
func mapClosed(err error) error {
	if errors.Is(err, kgo.ErrClientClosed) {
		return bus.ErrClosed
	}
	return err
}

// retentionConfigs returns the topic configs for a retention.
func retentionConfigs(maxAge time.Duration, maxBytes int64) map[string]*string {
	return map[string]*string{
		"retention.ms":    kmsg.StringPtr(strconv.FormatInt(retentionMs(maxAge), 10)),
		"retention.bytes": kmsg.StringPtr(strconv.FormatInt(retentionBytes(maxBytes), 10)),
	}
}

func retentionMs(maxAge time.Duration) int64 {
	if maxAge <= 0 {
		return -1
	}
	return max(maxAge.Milliseconds(), 1)
}

func retentionBytes(maxBytes int64) int64 {
	if maxBytes <= 0 {
		return -1
	}
	return maxBytes
}

// ensureTopic makes sure topic exists, creating it with the default
// partitions and retention if not. Existence is remembered, and concurrent
// callers for one topic share one check.
func (b *Bus) ensureTopic(ctx context.Context, topic string) error {
	for {
		b.mu.Lock()
		if b.known[topic] {
			b.mu.Unlock()
			return nil
		}
		if c, ok := b.creating[topic]; ok {
			b.mu.Unlock()
			select {
			case <-c.done:
			case <-ctx.Done():
				return ctx.Err()
			}
			if c.err != nil && isContextErr(c.err) && ctx.Err() == nil {
				continue // the other caller gave up; try ourselves
			}
			return c.err
		}
		c := &topicCreation{done: make(chan struct{})}
		b.creating[topic] = c
		b.mu.Unlock()

		c.err = b.createIfMissing(ctx, topic)
		b.mu.Lock()
		delete(b.creating, topic)
		if c.err == nil {
			b.known[topic] = true
		}
		b.mu.Unlock()
		close(c.done)
		return c.err
	}
}

func isContextErr(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

// forget drops topics from the set known to exist.
func (b *Bus) forget(topics ...string) {
	b.mu.Lock()
	for _, t := range topics {
		delete(b.known, t)
	}
	b.mu.Unlock()
}

// topicPartitions returns the number of partitions of topic, or 0 when the
// topic does not exist.
func (b *Bus) topicPartitions(ctx context.Context, topic string) (int, error) {
	md, err := b.metadata(ctx, topic)
	if err != nil {
		return 0, fmt.Errorf("kafka: describe topic %q: %w", topic, err)
	}
	for _, t := range md.Topics {
		if t.Topic == nil || *t.Topic != topic {
			continue
		}
		err := kerr.ErrorForCode(t.ErrorCode)
		switch {
		case err == nil:
			return len(t.Partitions), nil
		case errors.Is(err, kerr.UnknownTopicOrPartition):
			return 0, nil
		default:
			return 0, fmt.Errorf("kafka: describe topic %q: %w", topic, err)
		}
	}
	return 0, nil
}

func (b *Bus) createIfMissing(ctx context.Context, topic string) error {
	n, err := b.topicPartitions(ctx, topic)
	if err != nil || n > 0 {
		return err
	}
	_, err = b.createTopic(ctx, topic, b.cfg.DefaultPartitions, retentionConfigs(b.cfg.DefaultMaxAge, b.cfg.DefaultMaxBytes))
	return err
}

// createTopic creates topic; created is false when it already existed.
func (b *Bus) createTopic(ctx context.Context, topic string, partitions int, configs map[string]*string) (created bool, err error) {
	_, err = b.adm.CreateTopic(ctx, int32(partitions), int16(b.cfg.ReplicationFactor), configs, topic)
	if err == nil || errors.Is(err, kerr.TopicAlreadyExists) {
		// The admin client may have cached the topic as missing.
		b.admCl.PurgeTopicsFromClient(topic)
	}
	switch {
	case err == nil:
		b.log.Info("created topic", "topic", topic, "partitions", partitions)
		return true, nil
	case errors.Is(err, kerr.TopicAlreadyExists):
		return false, nil
	default:
		return false, fmt.Errorf("kafka: create topic %q: %w", topic, mapClosed(err))
	}
}

// EnsureTopic creates the topic with cfg's partitions and retention, or
// applies cfg's retention to the existing topic and adds partitions up to
// cfg.Partitions (partitions are never removed).
func (b *Bus) EnsureTopic(ctx context.Context, cfg bus.TopicConfig) error {
	if b.closed.Load() {
		return bus.ErrClosed
	}
	if cfg.Name == "" {
		return errors.New("kafka: ensure topic: empty topic name")
	}
	if cfg.MaxAge < 0 || cfg.MaxBytes < 0 || cfg.Partitions < 0 {
		return fmt.Errorf("kafka: ensure topic %q: negative partitions or retention", cfg.Name)
	}
	parts := cfg.Partitions
	if parts == 0 {
		parts = b.cfg.DefaultPartitions
	}
	n, err := b.topicPartitions(ctx, cfg.Name)
	if err != nil {
		return err
	}
	if n == 0 {
		created, err := b.createTopic(ctx, cfg.Name, parts, retentionConfigs(cfg.MaxAge, cfg.MaxBytes))
		if err != nil {
			return err
		}
		if created {
			b.mu.Lock()
			b.known[cfg.Name] = true
			b.mu.Unlock()
			return nil
		}
		// Created concurrently by someone else: update it below.
		if n, err = b.topicPartitions(ctx, cfg.Name); err != nil {
			return err
		}
	}
	if err := b.alterRetention(ctx, cfg); err != nil {
		return err
	}
	if cfg.Partitions > n {
		resp, err := b.adm.UpdatePartitions(ctx, cfg.Partitions, cfg.Name)
		if err == nil {
			err = resp.Error()
		}
		if err != nil {
			return fmt.Errorf("kafka: topic %q: grow from %d to %d partitions: %w", cfg.Name, n, cfg.Partitions, mapClosed(err))
		}
		// kadm caches topic metadata; make it see the new partitions.
		b.admCl.PurgeTopicsFromClient(cfg.Name)
		b.log.Info("added partitions", "topic", cfg.Name, "from", n, "to", cfg.Partitions)
	}
	b.mu.Lock()
	b.known[cfg.Name] = true
	b.mu.Unlock()
	return nil
}

// alterRetention sets the retention of an existing topic where it differs.
func (b *Bus) alterRetention(ctx context.Context, cfg bus.TopicConfig) error {
	rcs, err := b.adm.DescribeTopicConfigs(ctx, cfg.Name)
	if err != nil {
		return fmt.Errorf("kafka: describe topic %q configs: %w", cfg.Name, mapClosed(err))
	}
	rc, err := rcs.On(cfg.Name, nil)
	if err == nil {
		err = rc.Err
	}
	if err != nil {
		return fmt.Errorf("kafka: describe topic %q configs: %w", cfg.Name, err)
	}
	want := map[string]int64{
		"retention.ms":    retentionMs(cfg.MaxAge),
		"retention.bytes": retentionBytes(cfg.MaxBytes),
	}
	have := map[string]int64{}
	for _, c := range rc.Configs {
		if _, ok := want[c.Key]; ok && c.Value != nil {
			if v, err := strconv.ParseInt(*c.Value, 10, 64); err == nil {
				have[c.Key] = v
			}
		}
	}
	var alter []kadm.AlterConfig
	for _, k := range []string{"retention.ms", "retention.bytes"} {
		if v, ok := have[k]; !ok || v != want[k] {
			alter = append(alter, kadm.AlterConfig{Op: kadm.SetConfig, Name: k, Value: kmsg.StringPtr(strconv.FormatInt(want[k], 10))})
		}
	}
	if len(alter) == 0 {
		return nil
	}
	resps, err := b.adm.AlterTopicConfigs(ctx, alter, cfg.Name)
	if err == nil {
		var r kadm.AlterConfigsResponse
		r, err = resps.On(cfg.Name, nil)
		if err == nil {
			err = r.Err
		}
	}
	if err != nil {
		return fmt.Errorf("kafka: alter topic %q retention: %w", cfg.Name, mapClosed(err))
	}
	b.log.Info("updated topic retention", "topic", cfg.Name, "max_age", cfg.MaxAge, "max_bytes", cfg.MaxBytes)
	return nil
}

// Publish produces msgs and waits until the brokers acknowledged all of
// them (acks=all). Messages are routed to partitions by key; Message.ID
// travels in the HeaderMsgID header.
func (b *Bus) Publish(ctx context.Context, msgs ...*bus.Message) error {
	if b.closed.Load() {
		return bus.ErrClosed
	}
	if len(msgs) == 0 {
		return nil
	}
	recs := make([]*kgo.Record, len(msgs))
	last := ""
	for i, m := range msgs {
		if m == nil {
			return fmt.Errorf("kafka: publish: message %d is nil", i)
		}
		if m.Topic == "" {
			return fmt.Errorf("kafka: publish: message %d has no topic", i)
		}
		if m.Topic != last {
			if err := b.ensureTopic(ctx, m.Topic); err != nil {
				return err
			}
			last = m.Topic
		}
		recs[i] = toRecord(m)
	}
	failed, err := b.produce(ctx, recs)
	if len(failed) > 0 {
		// The topic vanished since we last saw it (deleted by someone
		// else): create it again and resend what failed, in order.
		var topics []string
		for _, r := range failed {
			if len(topics) == 0 || topics[len(topics)-1] != r.Topic {
				topics = append(topics, r.Topic)
			}
		}
		b.log.Warn("topic unknown to the brokers; creating it again", "topics", topics, "err", err)
		b.forget(topics...)
		for _, t := range topics {
			if err := b.ensureTopic(ctx, t); err != nil {
				return err
			}
		}
		// The producer still knows the old topic (its ID, partitions).
		b.prod.PurgeTopicsFromProducing(topics...)
		_, err = b.produce(ctx, failed)
	}
	return err
}

func toRecord(m *bus.Message) *kgo.Record {
	r := &kgo.Record{Topic: m.Topic, Value: m.Value}
	if m.Key != "" {
		r.Key = []byte(m.Key)
	}
	n := len(m.Headers)
	if m.ID != "" {
		n++
	}
	if n > 0 {
		r.Headers = make([]kgo.RecordHeader, 0, n)
		for k, v := range m.Headers {
			if k == HeaderMsgID && m.ID != "" {
				continue
			}
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: k, Value: []byte(v)})
		}
		if m.ID != "" {
			r.Headers = append(r.Headers, kgo.RecordHeader{Key: HeaderMsgID, Value: []byte(m.ID)})
		}
	}
	return r
}

// produce sends recs and waits for all of them. It returns the records that
// failed because their topic is unknown (if nothing else failed), in their
// order, and the first error.
func (b *Bus) produce(ctx context.Context, recs []*kgo.Record) (unknown []*kgo.Record, err error) {
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		failed   map[*kgo.Record]bool
		other    bool
	)
	promise := func(r *kgo.Record, err error) {
		defer wg.Done()
		if err == nil {
			return
		}
		mu.Lock()
		defer mu.Unlock()
		if firstErr == nil {
			firstErr = fmt.Errorf("kafka: publish to %q: %w", r.Topic, mapClosed(err))
		}
		if errors.Is(err, kerr.UnknownTopicOrPartition) || errors.Is(err, kerr.UnknownTopicID) {
			if failed == nil {
				failed = make(map[*kgo.Record]bool)
			}
			failed[r] = true
		} else {
			other = true
		}
	}
	wg.Add(len(recs))
	for _, r := range recs {
		b.prod.Produce(ctx, r, promise)
	}
	wg.Wait()
	if firstErr == nil || other || failed == nil {
		return nil, firstErr
	}
	for _, r := range recs {
		if failed[r] {
			unknown = append(unknown, r)
		}
	}
	return unknown, firstErr
}

// DeleteTopic deletes topic; a missing topic gives an error wrapping
// bus.ErrUnknownTopic.
func (b *Bus) DeleteTopic(ctx context.Context, topic string) error {
	if b.closed.Load() {
		return bus.ErrClosed
	}
	_, err := b.adm.DeleteTopic(ctx, topic)
	switch {
	case errors.Is(err, kerr.UnknownTopicOrPartition):
		return fmt.Errorf("kafka: delete topic %q: %w", topic, bus.ErrUnknownTopic)
	case err != nil:
		return fmt.Errorf("kafka: delete topic %q: %w", topic, mapClosed(err))
	}
	b.forget(topic)
	b.admCl.PurgeTopicsFromClient(topic)
	b.prod.PurgeTopicsFromProducing(topic)
	b.log.Info("deleted topic", "topic", topic)
	return nil
}

// Close closes the producer and admin clients, after closing any consumer
// still open. Later calls return bus.ErrClosed.
func (b *Bus) Close() error {
	if b.closed.Swap(true) {
		return bus.ErrClosed
	}
	b.mu.Lock()
	open := make([]*consumer, 0, len(b.consumers))
	for c := range b.consumers {
		open = append(open, c)
	}
	b.mu.Unlock()
	for _, c := range open {
		b.log.Warn("closing a consumer left open", "topic", c.topic, "group", c.group)
		_ = c.Close()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	if err := b.prod.Flush(ctx); err != nil {
		b.log.Warn("flush producer on close", "err", err)
	}
	cancel()
	b.prod.Close()
	b.admCl.Close()
	return nil
}
