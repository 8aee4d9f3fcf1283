package openf1

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/podiumhq/podium/internal/f1"
)

// mqttMessage is one message of the feed: one OpenF1 row as JSON, with the
// feed's extra "_id" and "_key" fields (ignored).
type mqttMessage struct {
	topic   string
	payload []byte
}

// mqttConn is one connection to the feed. The follower has one, and two
// for a moment when it renews the connection before its access token
// expires (the new one subscribes before the old one closes).
type mqttConn struct {
	cm *autopaho.ConnectionManager
	// renewAt is when the token the connection authenticated with is due
	// for renewal (Unix nanoseconds; 0 before the first connection).
	renewAt atomic.Int64
	// retiring is set before the follower closes the connection itself.
	retiring atomic.Bool
	up       bool // subscribed; owned by runMQTT's goroutine
}

// mqttEvent says that a connection's subscriptions were acknowledged (up)
// or that it was lost.
type mqttEvent struct {
	conn *mqttConn
	up   bool
}

// mqttKeepAlive is the MQTT keep-alive of the feed's connections, in
// seconds. paho pings the broker when nothing went either way for that
// long and gives the connection up when the next check finds no answer: a
// broker that stops answering (hung, or a network that drops everything
// without closing the connection) is noticed within twice this, 6 s, and
// REST polling takes over at once, as it does when the connection closes.
const mqttKeepAlive = 3

// feedCheck is the longest time between two checks of the feed's health
// (connected, not silent for StaleAfter), whatever the poll interval.
const feedCheck = 5 * time.Second

// runMQTT follows the session on OpenF1's MQTT feed: after one REST poll
// that catches up with what happened before the subscription, every row of
// the followed session that arrives is published. While the feed is down,
// or silent for StaleAfter during the session, the session is polled over
// REST; when the feed is back, one more poll covers the gap and the feed
// takes over again. The connection is renewed with a fresh access token
// before the one it used expires.
func (st *follow) runMQTT(ctx context.Context) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	inbox := make(chan mqttMessage, 4096)
	events := make(chan mqttEvent, 16)
	stopped := make(chan struct{})
	var closing sync.WaitGroup
	var conns []*mqttConn
	defer func() {
		close(stopped) // unblocks a delivery waiting for the inbox
		for _, c := range conns {
			closing.Go(func() { st.disconnect(c) })
		}
		closing.Wait()
	}()
	conn, err := st.dialMQTT(ctx, inbox, events, stopped)
	if err != nil {
		return err
	}
	conns = append(conns, conn)

	// Catch up over REST; rows that also arrive on the feed are deduplicated.
	changed, err := st.poll(ctx, true)
	if err != nil {
		return err
	}
	if err := st.setSource(ctx, f1.SourceOpenF1REST, false, ""); err != nil {
		return err
	}
	lastTick := st.cfg.Now()
	lastFeed := time.Now()
	ticker := time.NewTicker(min(st.cfg.PollInterval, feedCheck))
	defer ticker.Stop()
	renew := time.NewTimer(time.Hour)
	renew.Stop()
	defer renew.Stop()

	anyUp := func() bool {
		for _, c := range conns {
			if c.up {
				return true
			}
		}
		return false
	}
	// toMQTT makes the feed the source again, after a poll that covers
	// what it missed.
	toMQTT := func() error {
		if st.source == f1.SourceOpenF1MQTT {
			return nil
		}
		if st.fallback {
			if _, err := st.poll(ctx, true); err != nil {
				return err
			}
		}
		return st.setSource(ctx, f1.SourceOpenF1MQTT, false, "")
	}
	toREST := func(reason string) error {
		if st.source == f1.SourceOpenF1REST && st.fallback {
			return nil
		}
		return st.setSource(ctx, f1.SourceOpenF1REST, true, reason)
	}

	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m := <-inbox:
			batch := []mqttMessage{m}
		drain:
			for len(batch) < publishBatch {
				select {
				case m := <-inbox:
					batch = append(batch, m)
				default:
					break drain
				}
			}
			lastFeed = time.Now()
			if err := st.handleMQTT(ctx, batch); err != nil {
				return err
			}
			if anyUp() {
				if err := toMQTT(); err != nil {
					return err
				}
			}
		case ev := <-events:
			if ev.conn.retiring.Load() {
				continue
			}
			ev.conn.up = ev.up
			if ev.up {
				lastFeed = time.Now()
				// A renewed connection is up: close the older ones.
				keep := conns[:0]
				for _, c := range conns {
					if c == ev.conn {
						keep = append(keep, c)
						continue
					}
					c.retiring.Store(true)
					closing.Go(func() { st.disconnect(c) })
				}
				conns = keep
				if at := ev.conn.renewAt.Load(); at > 0 {
					renew.Reset(max(time.Second, time.Unix(0, at).Sub(st.c.now())))
				}
				if err := toMQTT(); err != nil {
					return err
				}
				continue
			}
			if !anyUp() {
				if err := toREST("the OpenF1 MQTT connection was lost"); err != nil {
					return err
				}
				if _, err := st.poll(ctx, true); err != nil {
					return err
				}
			}
		case <-renew.C:
			st.log.Info("openf1 access token due for renewal: opening a new MQTT connection")
			c, err := st.dialMQTT(ctx, inbox, events, stopped)
			if err != nil {
				st.log.Warn("openf1 MQTT renewal failed; retrying in a minute", "err", err)
				renew.Reset(time.Minute)
				continue
			}
			conns = append(conns, c)
		case <-ticker.C:
			up := anyUp()
			stale := up && st.running() && time.Since(lastFeed) > st.cfg.StaleAfter
			switch {
			case !up || stale:
				reason := "the OpenF1 MQTT feed is not connected"
				if stale {
					reason = fmt.Sprintf("the OpenF1 MQTT feed has been silent for %s", time.Since(lastFeed).Round(time.Second))
				}
				// The first poll at once, then one per PollInterval.
				switching := st.source != f1.SourceOpenF1REST || !st.fallback
				if err := toREST(reason); err != nil {
					return err
				}
				if switching || time.Since(st.lastPoll) >= st.cfg.PollInterval {
					c, err := st.poll(ctx, true)
					if err != nil {
						return err
					}
					changed = changed || c
				}
			case st.refreshDue():
				// Re-read the session, drivers and grid, and the results
				// as a safety net for rows the feed missed.
				if _, err := st.poll(ctx, false); err != nil {
					return err
				}
			}
			if err := st.flushResults(ctx, false); err != nil {
				return err
			}
			changed = changed || st.lastChange.After(lastTick)
			if done, err := st.finished(ctx, changed); done || err != nil {
				return err
			}
			changed, lastTick = false, st.cfg.Now()
		}
	}
}

// running reports whether the session is under way (by Follower.Now).
func (st *follow) running() bool {
	now := st.cfg.Now()
	start, end := st.session.DateStart.Time, st.session.DateEnd.Time
	return !start.IsZero() && !now.Before(start) && (end.IsZero() || now.Before(end))
}

// mqttEndpoints are the feed topics (after the prefix) the follower reads.
func (st *follow) mqttEndpoints() []string {
	eps := []string{EndpointDrivers, EndpointPosition, EndpointIntervals, EndpointLaps, EndpointPit, EndpointRaceControl}
	if st.results {
		eps = append(eps, EndpointSessionResult)
	}
	return eps
}

// dialMQTT opens a connection to the feed. It reconnects by itself; each
// (re)connection authenticates with a valid access token and subscribes.
func (st *follow) dialMQTT(ctx context.Context, inbox chan<- mqttMessage, events chan<- mqttEvent, stopped <-chan struct{}) (*mqttConn, error) {
	u, err := url.Parse(st.cfg.MQTTURL)
	if err != nil {
		return nil, fmt.Errorf("openf1: MQTT broker URL: %w", err)
	}
	broker := u.Redacted()
	username := st.c.Username()
	if username == "" {
		username = "podium" // OpenF1 accepts any username with the token
	}
	subs := make([]paho.SubscribeOptions, 0, 8)
	for _, ep := range st.mqttEndpoints() {
		subs = append(subs, paho.SubscribeOptions{Topic: st.cfg.MQTTTopicPrefix + ep, QoS: 1})
	}
	conn := &mqttConn{}
	send := func(ev mqttEvent) {
		select {
		case events <- ev:
		case <-stopped:
		case <-ctx.Done():
		}
	}
	cfg := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		KeepAlive:                     mqttKeepAlive,
		CleanStartOnInitialConnection: true,
		ConnectTimeout:                20 * time.Second,
		ReconnectBackoff:              autopaho.NewExponentialBackoff(time.Second, 30*time.Second, 2*time.Second, 2),
		ConnectUsername:               username,
		// The password is a valid access token at each (re)connection.
		ConnectPacketBuilder: func(cp *paho.Connect, _ *url.URL) (*paho.Connect, error) {
			tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			tok, until, err := st.c.accessTokenUntil(tctx)
			if err != nil {
				return nil, err
			}
			conn.renewAt.Store(until.UnixNano())
			cp.UsernameFlag, cp.Username = true, username
			cp.PasswordFlag, cp.Password = true, []byte(tok)
			return cp, nil
		},
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			go func() {
				if st.subscribe(ctx, cm, subs, broker) {
					send(mqttEvent{conn: conn, up: true})
				}
			}()
		},
		OnConnectionDown: func() bool {
			if !conn.retiring.Load() {
				st.log.Warn("openf1 MQTT connection lost", "broker", broker)
				send(mqttEvent{conn: conn, up: false})
			}
			return true
		},
		OnConnectError: func(err error) {
			st.log.Warn("openf1 MQTT connection failed", "broker", broker, "err", err)
		},
		ClientConfig: paho.ClientConfig{
			ClientID: "podium-" + randomHex(6),
			OnPublishReceived: []func(paho.PublishReceived) (bool, error){
				func(pr paho.PublishReceived) (bool, error) {
					select {
					case inbox <- mqttMessage{topic: pr.Packet.Topic, payload: pr.Packet.Payload}:
					case <-stopped:
					case <-ctx.Done():
					}
					return true, nil
				},
			},
			OnClientError: func(err error) {
				st.log.Warn("openf1 MQTT client error", "broker", broker, "err", err)
			},
			OnServerDisconnect: func(d *paho.Disconnect) {
				reason := ""
				if d.Properties != nil {
					reason = d.Properties.ReasonString
				}
				st.log.Warn("openf1 MQTT broker disconnected", "broker", broker, "code", d.ReasonCode, "reason", reason)
			},
		},
	}
	cm, err := autopaho.NewConnection(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("openf1: MQTT connection to %s: %w", broker, err)
	}
	conn.cm = cm
	return conn, nil
}

// disconnect closes a connection the follower no longer needs.
func (st *follow) disconnect(c *mqttConn) {
	c.retiring.Store(true)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := c.cm.Disconnect(ctx); err != nil {
		st.log.Debug("openf1 mqtt disconnect", "err", err)
	}
}

// subscribe subscribes after a (re)connection and reports whether the
// broker acknowledged every subscription.
func (st *follow) subscribe(ctx context.Context, cm *autopaho.ConnectionManager, subs []paho.SubscribeOptions, broker string) bool {
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ack, err := cm.Subscribe(sctx, &paho.Subscribe{Subscriptions: subs})
	if err != nil {
		st.log.Warn("openf1 MQTT subscribe failed; polling meanwhile", "broker", broker, "err", err)
		return false
	}
	for i, code := range ack.Reasons {
		if code >= 0x80 && i < len(subs) {
			st.log.Warn("openf1 MQTT subscription refused", "topic", subs[i].Topic, "code", code)
			return false
		}
	}
	st.log.Info("openf1 MQTT feed subscribed", "broker", broker, "topics", len(subs))
	if st.cfg.onSubscribed != nil {
		st.cfg.onSubscribed()
	}
	return true
}

// handleMQTT publishes what a batch of feed messages brings.
func (st *follow) handleMQTT(ctx context.Context, batch []mqttMessage) error {
	rows := make([]feedRow, 0, len(batch))
	for _, m := range batch {
		ep, ok := strings.CutPrefix(m.topic, st.cfg.MQTTTopicPrefix)
		if !ok {
			continue
		}
		rows = append(rows, feedRow{ep, m.payload})
	}
	return st.ingest(ctx, f1.SourceOpenF1MQTT, rows)
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
