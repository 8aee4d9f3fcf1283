package kafka

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twmb/franz-go/pkg/kfake"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/bus/bustest"
)

// testGroupTimeouts keep group handovers quick in tests; kfake accepts
// session timeouts from GroupMinSessionTimeout.
func testGroupTimeouts(cfg Config) Config {
	cfg.SessionTimeout = 3 * time.Second
	cfg.RebalanceTimeout = 5 * time.Second
	cfg.HeartbeatInterval = 300 * time.Millisecond
	return cfg
}

// newCluster starts an in-process Kafka cluster of three brokers.
func newCluster(tb testing.TB, opts ...kfake.Opt) *kfake.Cluster {
	tb.Helper()
	opts = append([]kfake.Opt{kfake.NumBrokers(3), kfake.GroupMinSessionTimeout(time.Second)}, opts...)
	c, err := kfake.NewCluster(opts...)
	if err != nil {
		tb.Fatalf("start kfake cluster: %v", err)
	}
	tb.Cleanup(c.Close)
	return c
}

func openBus(tb testing.TB, cfg Config) *Bus {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	b, err := Open(ctx, cfg)
	if err != nil {
		tb.Fatalf("open: %v", err)
	}
	return b
}

func TestConformance(t *testing.T) {
	c := newCluster(t)
	bustest.Run(t, func(t *testing.T) bus.Bus {
		return openBus(t, testGroupTimeouts(Config{Brokers: c.ListenAddrs()}))
	}, bustest.Options{DedupByID: false, Partitions: 3})
}

// TestConformanceExternal runs the suite against a real Kafka or Redpanda
// cluster given by PODIUM_TEST_KAFKA_URL (kafka://host:9092).
func TestConformanceExternal(t *testing.T) {
	u := os.Getenv("PODIUM_TEST_KAFKA_URL")
	if u == "" {
		t.Skip("PODIUM_TEST_KAFKA_URL not set (e.g. kafka://localhost:9092): skipping the suite against an external cluster")
	}
	brokers, err := ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Brokers: brokers,
		Auth: bus.Auth{
			Username:      os.Getenv("PODIUM_TEST_KAFKA_USERNAME"),
			Password:      os.Getenv("PODIUM_TEST_KAFKA_PASSWORD"),
			SASLMechanism: os.Getenv("PODIUM_TEST_KAFKA_SASL_MECHANISM"),
		},
		// Real brokers default to group.min.session.timeout.ms=6s.
		SessionTimeout:    6 * time.Second,
		RebalanceTimeout:  10 * time.Second,
		HeartbeatInterval: 500 * time.Millisecond,
	}
	bustest.Run(t, func(t *testing.T) bus.Bus { return openBus(t, cfg) },
		bustest.Options{DedupByID: false, Partitions: 3})
}

func TestParseURL(t *testing.T) {
	tests := []struct {
		in      string
		want    []string
		wantErr string
	}{
		{in: "kafka://localhost:9092", want: []string{"localhost:9092"}},
		{in: "kafka://a:9092,b:9093", want: []string{"a:9092", "b:9093"}},
		{in: "redpanda://rp-0:19092, rp-1:19092 ,rp-2", want: []string{"rp-0:19092", "rp-1:19092", "rp-2:9092"}},
		{in: "KAFKA://Broker:1/", want: []string{"Broker:1"}},
		{in: "kafka://host", want: []string{"host:9092"}},
		{in: "kafka://10.0.0.1:9092", want: []string{"10.0.0.1:9092"}},
		{in: "kafka://[::1]:9092,[fe80::1]", want: []string{"[::1]:9092", "[fe80::1]:9092"}},
		{in: "", wantErr: "want kafka://"},
		{in: "localhost:9092", wantErr: "want kafka://"},
		{in: "nats://localhost:4222", wantErr: `scheme "nats"`},
		{in: "kafka://", wantErr: "no broker"},
		{in: "kafka://a:9092,,b:9092", wantErr: "empty broker"},
		{in: "kafka://a:notaport", wantErr: "invalid port"},
		{in: "kafka://a:0", wantErr: "invalid port"},
		{in: "kafka://a:70000", wantErr: "invalid port"},
		{in: "kafka://:9092", wantErr: "missing host"},
		{in: "kafka://user:secret@a:9092", wantErr: "credentials do not belong"},
		{in: "kafka://a:9092/topic", wantErr: "path"},
		{in: "kafka://a:9092?tls=true", wantErr: "query"},
	}
	for _, tc := range tests {
		got, err := ParseURL(tc.in)
		if tc.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Errorf("ParseURL(%q) = %v, %v; want error containing %q", tc.in, got, err, tc.wantErr)
			}
			if err != nil && strings.Contains(err.Error(), "secret") {
				t.Errorf("ParseURL(%q) error leaks the password: %v", tc.in, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("ParseURL(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
}

func uniqueTopic(name string) string {
	var r [4]byte
	_, _ = rand.Read(r[:])
	return "test." + hex.EncodeToString(r[:]) + "." + name
}

// roundTrip publishes one message and reads it back without a group.
func roundTrip(t *testing.T, b *Bus) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topic := uniqueTopic("auth")
	if err := b.Publish(ctx, &bus.Message{Topic: topic, Key: "k", Value: []byte("hello"), ID: "id-1"}); err != nil {
		t.Fatalf("publish: %v", err)
	}
	c, err := b.Consume(ctx, bus.ConsumerConfig{Topic: topic})
	if err != nil {
		t.Fatalf("consume: %v", err)
	}
	defer c.Close()
	msgs, err := c.Fetch(ctx, 10)
	if err != nil {
		t.Fatalf("fetch: %v", err)
	}
	if len(msgs) != 1 || string(msgs[0].Value) != "hello" || msgs[0].ID != "id-1" || msgs[0].Key != "k" {
		t.Fatalf("got %+v, want the published message", msgs[0])
	}
	if _, ok := msgs[0].Headers[HeaderMsgID]; ok {
		t.Errorf("ID header left among headers: %v", msgs[0].Headers)
	}
}

func TestSASL(t *testing.T) {
	c := newCluster(t, kfake.EnableSASL(),
		kfake.Superuser("PLAIN", "plainuser", "plainpass"),
		kfake.Superuser("SCRAM-SHA-256", "scram256", "pass256"),
		kfake.Superuser("SCRAM-SHA-512", "scram512", "pass512"),
	)
	for _, tc := range []struct{ mech, user, pass string }{
		{"", "plainuser", "plainpass"}, // PLAIN by default
		{"PLAIN", "plainuser", "plainpass"},
		{"SCRAM-SHA-256", "scram256", "pass256"},
		{"scram-sha-512", "scram512", "pass512"},
	} {
		name := tc.mech
		if name == "" {
			name = "default"
		}
		t.Run(name, func(t *testing.T) {
			b := openBus(t, Config{Brokers: c.ListenAddrs(), Auth: bus.Auth{Username: tc.user, Password: tc.pass, SASLMechanism: tc.mech}})
			defer b.Close()
			roundTrip(t, b)
		})
	}
	t.Run("WrongPassword", func(t *testing.T) {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		b, err := Open(ctx, Config{Brokers: c.ListenAddrs(), Auth: bus.Auth{Username: "scram256", Password: "nope", SASLMechanism: "SCRAM-SHA-256"}})
		if err == nil {
			b.Close()
			t.Fatal("open with a wrong password succeeded")
		}
		t.Logf("open with a wrong password: %v", err)
		if strings.Contains(err.Error(), "nope") {
			t.Errorf("error leaks the password: %v", err)
		}
	})
	t.Run("UnknownMechanism", func(t *testing.T) {
		_, err := Open(context.Background(), Config{Brokers: c.ListenAddrs(), Auth: bus.Auth{Username: "u", SASLMechanism: "GSSAPI"}})
		if err == nil || !strings.Contains(err.Error(), "unsupported SASL mechanism") {
			t.Fatalf("open with GSSAPI: %v, want unsupported mechanism", err)
		}
	})
}

func TestTLS(t *testing.T) {
	serverCfg, caFile := selfSignedTLS(t)
	c := newCluster(t, kfake.TLS(serverCfg))
	b := openBus(t, Config{Brokers: c.ListenAddrs(), Auth: bus.Auth{TLS: true, TLSCAFile: caFile}})
	defer b.Close()
	roundTrip(t, b)
}

// selfSignedTLS returns a server TLS config for 127.0.0.1 and the path of
// its certificate in PEM, to trust as a CA.
func selfSignedTLS(t *testing.T) (*tls.Config, string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "kfake"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IPAddresses:           []net.IP{net.ParseIP("127.0.0.1"), net.IPv6loopback},
		DNSNames:              []string{"localhost"},
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IsCA:                  true,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	caFile := filepath.Join(t.TempDir(), "ca.pem")
	if err := os.WriteFile(caFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return &tls.Config{
		MinVersion:   tls.VersionTLS12,
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}},
	}, caFile
}

// TestEnsureTopicGrows checks that EnsureTopic adds partitions, never
// removes them, and that Groups reports lag of a group that did not commit.
func TestEnsureTopicGrows(t *testing.T) {
	c := newCluster(t)
	b := openBus(t, testGroupTimeouts(Config{Brokers: c.ListenAddrs(), DefaultMaxAge: 24 * time.Hour}))
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topic := uniqueTopic("grow")
	partitions := func() int {
		infos, err := b.Topics(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ti := range infos {
			if ti.Name == topic {
				return len(ti.Partitions)
			}
		}
		t.Fatalf("topic %s not listed", topic)
		return 0
	}
	if err := b.Publish(ctx, &bus.Message{Topic: topic, Key: "k", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	if got := partitions(); got != DefaultPartitions {
		t.Fatalf("auto-created topic has %d partitions, want %d", got, DefaultPartitions)
	}
	infos, _ := b.Topics(ctx)
	for _, ti := range infos {
		if ti.Name != topic {
			continue
		}
		if ti.MaxAge != 24*time.Hour || ti.MaxBytes != 0 {
			t.Errorf("auto-created topic retention = %v/%d bytes, want the default 24h/no limit", ti.MaxAge, ti.MaxBytes)
		}
		// kfake reports log sizes (DescribeLogDirs) as Kafka does.
		if ti.Bytes <= 0 || ti.Messages != 1 {
			t.Errorf("auto-created topic holds %d messages in %d bytes, want 1 message in > 0 bytes", ti.Messages, ti.Bytes)
		}
	}
	if err := b.EnsureTopic(ctx, bus.TopicConfig{Name: topic, Partitions: 5}); err != nil {
		t.Fatalf("grow to 5 partitions: %v", err)
	}
	if got := partitions(); got != 5 {
		t.Fatalf("after EnsureTopic(5): %d partitions", got)
	}
	if err := b.EnsureTopic(ctx, bus.TopicConfig{Name: topic, Partitions: 2}); err != nil {
		t.Fatalf("EnsureTopic with fewer partitions: %v", err)
	}
	if got := partitions(); got != 5 {
		t.Fatalf("after EnsureTopic(2): %d partitions, want 5 kept", got)
	}

	// A group member that has not committed counts the whole topic as lag.
	cons, err := b.Consume(ctx, bus.ConsumerConfig{Topic: topic, Group: "nocommit"})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	if _, err := cons.Fetch(ctx, 10); err != nil {
		t.Fatal(err)
	}
	groups, err := b.Groups(ctx, topic)
	if err != nil {
		t.Fatal(err)
	}
	if len(groups) != 1 || groups[0].Group != "nocommit" || groups[0].Lag != 1 || len(groups[0].Next) != 0 {
		t.Fatalf("groups = %+v, want nocommit with lag 1 and no positions", groups)
	}
	if _, err := b.Groups(ctx, uniqueTopic("missing")); !errors.Is(err, bus.ErrUnknownTopic) {
		t.Fatalf("groups of a missing topic: %v, want ErrUnknownTopic", err)
	}
}

// TestClosed checks that a closed bus and consumer say so.
func TestClosed(t *testing.T) {
	c := newCluster(t)
	b := openBus(t, testGroupTimeouts(Config{Brokers: c.ListenAddrs()}))
	ctx := context.Background()
	topic := uniqueTopic("closed")
	cons, err := b.Consume(ctx, bus.ConsumerConfig{Topic: topic, Group: "g"})
	if err != nil {
		t.Fatal(err)
	}
	// A Fetch blocked when the consumer closes returns ErrClosed.
	errc := make(chan error, 1)
	go func() {
		_, err := cons.Fetch(ctx, 10)
		errc <- err
	}()
	time.Sleep(200 * time.Millisecond)
	if err := cons.Close(); err != nil {
		t.Fatalf("close consumer: %v", err)
	}
	select {
	case err := <-errc:
		if !errors.Is(err, bus.ErrClosed) {
			t.Errorf("blocked fetch after close: %v, want ErrClosed", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("blocked fetch did not return after close")
	}
	if err := cons.Close(); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("second consumer close: %v, want ErrClosed", err)
	}
	if err := cons.Commit(ctx, bus.Position{Topic: topic}); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("commit after close: %v, want ErrClosed", err)
	}
	// A consumer left open is closed with the bus.
	left, err := b.Consume(ctx, bus.ConsumerConfig{Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Close(); err != nil {
		t.Fatalf("close bus: %v", err)
	}
	if _, err := left.Fetch(ctx, 1); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("fetch on a consumer of a closed bus: %v, want ErrClosed", err)
	}
	if err := b.Close(); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("second bus close: %v, want ErrClosed", err)
	}
	if err := b.Publish(ctx, &bus.Message{Topic: topic, Value: []byte("x")}); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("publish after close: %v, want ErrClosed", err)
	}
	if _, err := b.Topics(ctx); !errors.Is(err, bus.ErrClosed) {
		t.Errorf("topics after close: %v, want ErrClosed", err)
	}
}

// TestGroupRebalance runs two members of one group: they share the
// partitions, every message is read, and when one member closes the other
// takes over its partitions.
func TestGroupRebalance(t *testing.T) {
	c := newCluster(t)
	b := openBus(t, testGroupTimeouts(Config{Brokers: c.ListenAddrs()}))
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	topic := uniqueTopic("rebalance")

	type got struct {
		member    int
		partition int32
		value     string
	}
	recv := make(chan got, 10000)
	run := func(member int) (bus.Consumer, chan error) {
		cons, err := b.Consume(ctx, bus.ConsumerConfig{Topic: topic, Group: "shared"})
		if err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() {
			for {
				batch, err := cons.Fetch(ctx, 50)
				if err != nil {
					done <- err
					return
				}
				for _, m := range batch {
					recv <- got{member, m.Partition, string(m.Value)}
				}
				// Commit the batch, as the processor runtime does.
				last := map[int32]bus.Position{}
				for _, m := range batch {
					last[m.Partition] = m.Position()
				}
				var ps []bus.Position
				for _, p := range last {
					ps = append(ps, p)
				}
				if err := cons.Commit(ctx, ps...); err != nil && !errors.Is(err, bus.ErrClosed) && ctx.Err() == nil {
					t.Logf("member %d commit: %v", member, err)
				}
			}
		}()
		return cons, done
	}
	sent := map[string]bool{}
	n := 0
	publish := func(count int) {
		var msgs []*bus.Message
		for i := 0; i < count; i++ {
			v := fmt.Sprintf("m%d", n)
			n++
			sent[v] = true
			msgs = append(msgs, &bus.Message{Topic: topic, Key: fmt.Sprintf("k%d", n%17), Value: []byte(v)})
		}
		if err := b.Publish(ctx, msgs...); err != nil {
			t.Fatal(err)
		}
	}
	seen := map[string]bool{}
	byMember := map[int]map[int32]bool{1: {}, 2: {}}
	// waitFor reads until cond holds, publishing more every 100ms when
	// keepPublishing is set.
	waitFor := func(what string, keepPublishing bool, cond func() bool) {
		t.Helper()
		deadline := time.After(20 * time.Second)
		tick := time.NewTicker(100 * time.Millisecond)
		defer tick.Stop()
		for !cond() {
			select {
			case g := <-recv:
				seen[g.value] = true
				byMember[g.member][g.partition] = true
			case <-tick.C:
				if keepPublishing {
					publish(30)
				}
			case <-deadline:
				t.Fatalf("timed out waiting for %s (seen %d of %d, partitions by member %v)", what, len(seen), len(sent), byMember)
			}
		}
	}
	allSeen := func() bool {
		for v := range sent {
			if !seen[v] {
				return false
			}
		}
		return true
	}

	c1, done1 := run(1)
	publish(60)
	waitFor("member 1 to read", false, allSeen)
	_, done2 := run(2)
	// Keep publishing until both members got messages.
	waitFor("both members to get partitions", true, func() bool { return len(byMember[2]) > 0 })
	if err := c1.Close(); err != nil {
		t.Fatalf("close member 1: %v", err)
	}
	if err := <-done1; !errors.Is(err, bus.ErrClosed) {
		t.Fatalf("member 1 fetch after close: %v", err)
	}
	clear(byMember[2])
	waitFor("member 2 to take over every partition", true, func() bool { return len(byMember[2]) == 3 })
	waitFor("every message", false, allSeen)
	cancel()
	if err := <-done2; !errors.Is(err, context.Canceled) {
		t.Fatalf("member 2 fetch after cancel: %v", err)
	}
}

// TestGroupStartLatest checks that a new group with Start=Latest reads the
// messages published after Consume returns, even before it joined.
func TestGroupStartLatest(t *testing.T) {
	c := newCluster(t)
	b := openBus(t, testGroupTimeouts(Config{Brokers: c.ListenAddrs()}))
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topic := uniqueTopic("glatest")
	for i := 0; i < 5; i++ {
		if err := b.Publish(ctx, &bus.Message{Topic: topic, Key: fmt.Sprint(i), Value: []byte("old")}); err != nil {
			t.Fatal(err)
		}
	}
	cons, err := b.Consume(ctx, bus.ConsumerConfig{Topic: topic, Group: "late", Start: bus.Latest})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	if err := b.Publish(ctx, &bus.Message{Topic: topic, Key: "1", Value: []byte("new")}); err != nil {
		t.Fatal(err)
	}
	msgs, err := cons.Fetch(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || string(msgs[0].Value) != "new" {
		t.Fatalf("got %d messages (first %q), want only the new one", len(msgs), msgs[0].Value)
	}
}

var errStore = errors.New("store unavailable")

// TestResumeError checks that a failing Resume surfaces from Fetch.
func TestResumeError(t *testing.T) {
	c := newCluster(t)
	b := openBus(t, testGroupTimeouts(Config{Brokers: c.ListenAddrs()}))
	defer b.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topic := uniqueTopic("resumeerr")
	if err := b.Publish(ctx, &bus.Message{Topic: topic, Key: "k", Value: []byte("v")}); err != nil {
		t.Fatal(err)
	}
	resume := func(context.Context, int32) (int64, bool, error) { return 0, false, errStore }
	if _, err := b.Consume(ctx, bus.ConsumerConfig{Topic: topic, Resume: resume}); !errors.Is(err, errStore) {
		t.Fatalf("consume without group, failing Resume: %v, want the Resume error", err)
	}
	cons, err := b.Consume(ctx, bus.ConsumerConfig{Topic: topic, Group: "g", Resume: resume})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	if _, err := cons.Fetch(ctx, 10); !errors.Is(err, errStore) {
		t.Fatalf("fetch with a failing Resume: %v, want the Resume error", err)
	}
}

// TestPublishAfterExternalDelete checks that publishing to a topic another
// client deleted creates it again.
func TestPublishAfterExternalDelete(t *testing.T) {
	c := newCluster(t)
	a := openBus(t, Config{Brokers: c.ListenAddrs()})
	defer a.Close()
	other := openBus(t, Config{Brokers: c.ListenAddrs()})
	defer other.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	topic := uniqueTopic("recreate")
	msg := func(v string) *bus.Message { return &bus.Message{Topic: topic, Key: "k", Value: []byte(v)} }
	if err := a.Publish(ctx, msg("before")); err != nil {
		t.Fatal(err)
	}
	if err := other.DeleteTopic(ctx, topic); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if err := a.Publish(ctx, msg("after1"), msg("after2")); err != nil {
		t.Fatalf("publish after the topic was deleted elsewhere: %v", err)
	}
	t.Logf("publish after external delete took %v", time.Since(start))
	cons, err := a.Consume(ctx, bus.ConsumerConfig{Topic: topic})
	if err != nil {
		t.Fatal(err)
	}
	defer cons.Close()
	var got []string
	for len(got) < 2 {
		msgs, err := cons.Fetch(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range msgs {
			got = append(got, string(m.Value))
		}
	}
	if strings.Join(got, ",") != "after1,after2" {
		t.Fatalf("recreated topic holds %v, want after1, after2", got)
	}
}

const benchValueSize = 200

func benchMessages(topic string, n int) []*bus.Message {
	value := make([]byte, benchValueSize)
	for i := range value {
		value[i] = 'a' + byte(i%26)
	}
	msgs := make([]*bus.Message, n)
	for i := range msgs {
		msgs[i] = &bus.Message{Topic: topic, Key: fmt.Sprintf("key-%d", i%64), Value: value,
			Headers: map[string]string{"content-type": "application/json"}}
	}
	return msgs
}

// BenchmarkPublish publishes b.N messages of 200 bytes in calls of 1000.
func BenchmarkPublish(b *testing.B) {
	c := newCluster(b)
	bs := openBus(b, Config{Brokers: c.ListenAddrs()})
	defer bs.Close()
	ctx := context.Background()
	topic := uniqueTopic("bench-publish")
	if err := bs.EnsureTopic(ctx, bus.TopicConfig{Name: topic}); err != nil {
		b.Fatal(err)
	}
	const batch = 1000
	msgs := benchMessages(topic, batch)
	b.SetBytes(benchValueSize)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for sent := 0; sent < b.N; sent += batch {
		n := min(batch, b.N-sent)
		if err := bs.Publish(ctx, msgs[:n]...); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msg/s")
}

// BenchmarkConsume reads b.N pre-published messages in a group with
// Fetch(1000) and a Commit after each batch.
func BenchmarkConsume(b *testing.B) {
	c := newCluster(b)
	bs := openBus(b, testGroupTimeouts(Config{Brokers: c.ListenAddrs()}))
	defer bs.Close()
	ctx := context.Background()
	topic := uniqueTopic("bench-consume")
	msgs := benchMessages(topic, 1000)
	for sent := 0; sent < b.N; sent += len(msgs) {
		if err := bs.Publish(ctx, msgs[:min(len(msgs), b.N-sent)]...); err != nil {
			b.Fatal(err)
		}
	}
	cons, err := bs.Consume(ctx, bus.ConsumerConfig{Topic: topic, Group: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	defer cons.Close()
	last := map[int32]bus.Position{}
	ps := make([]bus.Position, 0, 3)
	fetchCommit := func() int {
		batch, err := cons.Fetch(ctx, 1000)
		if err != nil {
			b.Fatal(err)
		}
		clear(last)
		for _, m := range batch {
			last[m.Partition] = m.Position()
		}
		ps = ps[:0]
		for _, p := range last {
			ps = append(ps, p)
		}
		if err := cons.Commit(ctx, ps...); err != nil {
			b.Fatal(err)
		}
		return len(batch)
	}
	// The first fetch waits for the group join: keep it out of the timing.
	first := fetchCommit()
	b.SetBytes(benchValueSize)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for read := first; read < b.N; {
		read += fetchCommit()
	}
	b.ReportMetric(float64(b.N-first)/time.Since(start).Seconds(), "msg/s")
}
