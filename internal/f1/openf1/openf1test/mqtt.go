package openf1test

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"io"
	"net"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"
)

// MQTTURL returns the broker of the MQTT tests (PODIUM_TEST_MQTT_URL), or
// skips the test.
func MQTTURL(t testing.TB) *url.URL {
	t.Helper()
	raw := os.Getenv("PODIUM_TEST_MQTT_URL")
	if raw == "" {
		t.Skip("PODIUM_TEST_MQTT_URL is not set (e.g. tcp://127.0.0.1:1883): skipping the test against an MQTT broker")
	}
	u, err := url.Parse(raw)
	if err != nil {
		t.Fatalf("PODIUM_TEST_MQTT_URL: %v", err)
	}
	return u
}

// TopicPrefix returns a topic prefix of its own for a test ("podiumtest/…/v1/"),
// so that tests sharing a broker do not see each other's messages.
func TopicPrefix() string { return "podiumtest/" + RandomHex(6) + "/v1/" }

// RandomHex returns n random bytes in hex.
func RandomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// Message is one message of the feed: a topic after the prefix
// ("position") and its payload, an OpenF1 row with "_id" and "_key".
type Message struct {
	Topic   string
	Payload json.RawMessage
}

// FeedFixture reads a fixture of feed messages: NDJSON lines
// {"topic":"v1/position","payload":{…}}; topics lose their "v1/".
func FeedFixture(t testing.TB, dir, name string) []Message {
	t.Helper()
	var out []Message
	sc := bufio.NewScanner(bytes.NewReader(Fixture(t, dir, name)))
	for sc.Scan() {
		var m struct {
			Topic   string          `json:"topic"`
			Payload json.RawMessage `json:"payload"`
		}
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("feed fixture %s: %v", name, err)
		}
		if len(m.Topic) < 3 || m.Topic[:3] != "v1/" {
			t.Fatalf("feed fixture %s: topic %q is not v1/…", name, m.Topic)
		}
		out = append(out, Message{Topic: m.Topic[3:], Payload: m.Payload})
	}
	return out
}

// Publisher plays OpenF1 on a broker.
type Publisher struct {
	t      testing.TB
	cli    *paho.Client
	prefix string
}

// NewPublisher connects a publisher to the broker at u; it publishes
// under prefix (see TopicPrefix).
func NewPublisher(t testing.TB, u *url.URL, prefix string) *Publisher {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		t.Fatalf("dial %s: %v", u.Host, err)
	}
	cli := paho.NewClient(paho.ClientConfig{Conn: conn})
	if _, err := cli.Connect(ctx, &paho.Connect{KeepAlive: 30, ClientID: "podium-test-pub-" + RandomHex(4), CleanStart: true}); err != nil {
		t.Fatalf("connect to %s: %v", u.Redacted(), err)
	}
	t.Cleanup(func() { _ = cli.Disconnect(&paho.Disconnect{ReasonCode: 0}) })
	return &Publisher{t: t, cli: cli, prefix: prefix}
}

// Publish publishes a payload on prefix+topic (QoS 1) and waits for the
// broker's acknowledgement.
func (p *Publisher) Publish(topic string, payload []byte) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := p.cli.Publish(ctx, &paho.Publish{Topic: p.prefix + topic, QoS: 1, Payload: payload}); err != nil {
		p.t.Fatalf("publish to %s: %v", topic, err)
	}
}

// Send publishes messages in order.
func (p *Publisher) Send(msgs ...Message) {
	p.t.Helper()
	for _, m := range msgs {
		p.Publish(m.Topic, m.Payload)
	}
}

// Proxy forwards TCP connections to a broker until Cut, which closes them
// and refuses new ones (accepted, then closed at once), or Freeze, which
// keeps them open but lets no byte through either way and holds new ones
// unanswered (a broker that hangs, a network that drops everything), until
// Restore: an MQTT feed a test can stop without touching the shared
// broker.
type Proxy struct {
	ln     net.Listener
	target string

	mu     sync.Mutex
	cut    bool
	frozen bool
	conns  map[net.Conn]struct{}
	held   map[net.Conn]struct{} // accepted while frozen, never forwarded
	wg     sync.WaitGroup
}

// NewProxy starts a proxy to the broker at u, closed when the test ends.
func NewProxy(t testing.TB, u *url.URL) *Proxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{ln: ln, target: u.Host, conns: map[net.Conn]struct{}{}, held: map[net.Conn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(func() {
		_ = ln.Close()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// URL is the proxy's broker URL.
func (p *Proxy) URL() string { return "tcp://" + p.ln.Addr().String() }

// Cut closes every connection and refuses new ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	for c := range p.conns {
		_ = c.Close()
	}
	for c := range p.held {
		_ = c.Close()
	}
}

// Freeze stops every byte from going through, either way, without closing
// anything; new connections are accepted and never answered.
func (p *Proxy) Freeze() {
	p.mu.Lock()
	p.frozen = true
	p.mu.Unlock()
}

// Restore accepts and forwards connections again; those held unanswered
// while frozen are closed (their client connects again).
func (p *Proxy) Restore() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut, p.frozen = false, false
	for c := range p.held {
		_ = c.Close()
	}
}

func (p *Proxy) isFrozen() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.frozen
}

func (p *Proxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		if p.frozen {
			p.held[c] = struct{}{}
			p.mu.Unlock()
			p.wg.Go(func() {
				_, _ = io.Copy(io.Discard, c)
				_ = c.Close()
				p.mu.Lock()
				delete(p.held, c)
				p.mu.Unlock()
			})
			continue
		}
		up, err := net.DialTimeout("tcp", p.target, 5*time.Second)
		if err != nil {
			p.mu.Unlock()
			_ = c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			buf := make([]byte, 32<<10)
			for {
				n, err := src.Read(buf)
				if n > 0 && !p.isFrozen() {
					if _, werr := dst.Write(buf[:n]); werr != nil {
						break
					}
				}
				if err != nil {
					break
				}
			}
			_ = dst.Close()
			_ = src.Close()
			p.mu.Lock()
			delete(p.conns, dst)
			delete(p.conns, src)
			p.mu.Unlock()
		}
		p.wg.Go(func() { pipe(up, c) })
		p.wg.Go(func() { pipe(c, up) })
	}
}
