package openf1

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"sync/atomic"
	"time"

	"github.com/eclipse/paho.golang/autopaho"
	"github.com/eclipse/paho.golang/paho"

	"github.com/podiumhq/podium/internal/bus"
)

// mqttMessage is one message of the feed: one OpenF1 row as JSON, with the
// feed's extra "_id" and "_key" fields (ignored).
type mqttMessage struct {
	topic   string
	payload []byte
}

// runMQTT follows the session on OpenF1's MQTT feed: after one REST poll
// that catches up with what happened before the subscription, every row of
// the followed session that arrives is published. While the feed is down
// the session is polled over REST.
func (st *follow) runMQTT(ctx context.Context, b bus.Bus) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	inbox := make(chan mqttMessage, 4096)
	stopped := make(chan struct{})
	var up atomic.Bool
	cm, err := st.connectMQTT(ctx, inbox, stopped, &up)
	if err != nil {
		return err
	}
	defer func() {
		close(stopped) // unblocks a delivery waiting for the inbox
		dctx, dcancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer dcancel()
		if err := cm.Disconnect(dctx); err != nil {
			st.log.Debug("openf1 mqtt disconnect", "err", err)
		}
	}()

	// Catch up over REST; rows that also arrive on the feed are deduplicated.
	changed, err := st.poll(ctx, b, true)
	if err != nil {
		return err
	}
	lastTick := st.cfg.Now()
	ticker := time.NewTicker(st.cfg.PollInterval)
	defer ticker.Stop()
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
			if err := st.handleMQTT(ctx, b, batch); err != nil {
				return err
			}
		case <-ticker.C:
			if !up.Load() {
				// The feed is down: poll meanwhile.
				c, err := st.poll(ctx, b, true)
				if err != nil {
					return err
				}
				changed = changed || c
			} else if st.refreshDue() {
				// Re-read the session, drivers and grid, and the results
				// as a safety net for rows the feed missed.
				if _, err := st.poll(ctx, b, false); err != nil {
					return err
				}
			}
			changed = changed || st.lastChange.After(lastTick)
			if done, err := st.finished(changed); done || err != nil {
				return err
			}
			changed, lastTick = false, st.cfg.Now()
		}
	}
}

// mqttEndpoints are the feed topics (after the prefix) the follower reads.
func (st *follow) mqttEndpoints() []string {
	eps := []string{EndpointPosition, EndpointIntervals, EndpointLaps, EndpointPit, EndpointRaceControl}
	if st.results {
		eps = append(eps, EndpointSessionResult)
	}
	return eps
}

func (st *follow) connectMQTT(ctx context.Context, inbox chan<- mqttMessage, stopped <-chan struct{}, up *atomic.Bool) (*autopaho.ConnectionManager, error) {
	u, err := url.Parse(st.cfg.MQTTURL)
	if err != nil {
		return nil, fmt.Errorf("openf1: MQTT broker URL: %w", err)
	}
	broker := u.Redacted()
	username := st.c.Username()
	if username == "" {
		username = "podium" // OpenF1 accepts any username with the token
	}
	subs := make([]paho.SubscribeOptions, 0, 6)
	for _, ep := range st.mqttEndpoints() {
		subs = append(subs, paho.SubscribeOptions{Topic: st.cfg.MQTTTopicPrefix + ep, QoS: 1})
	}
	cfg := autopaho.ClientConfig{
		ServerUrls:                    []*url.URL{u},
		KeepAlive:                     30,
		CleanStartOnInitialConnection: true,
		ConnectTimeout:                20 * time.Second,
		ReconnectBackoff:              autopaho.NewExponentialBackoff(time.Second, time.Minute, 5*time.Second, 2),
		ConnectUsername:               username,
		// The password is a fresh access token at each (re)connection.
		ConnectPacketBuilder: func(cp *paho.Connect, _ *url.URL) (*paho.Connect, error) {
			tctx, cancel := context.WithTimeout(ctx, 30*time.Second)
			defer cancel()
			tok, err := st.c.accessToken(tctx)
			if err != nil {
				return nil, err
			}
			cp.UsernameFlag, cp.Username = true, username
			cp.PasswordFlag, cp.Password = true, []byte(tok)
			return cp, nil
		},
		OnConnectionUp: func(cm *autopaho.ConnectionManager, _ *paho.Connack) {
			go st.subscribe(ctx, cm, subs, broker, up)
		},
		OnConnectionDown: func() bool {
			up.Store(false)
			st.log.Warn("openf1 MQTT connection lost; polling until it is back", "broker", broker)
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
	return cm, nil
}

// subscribe subscribes after each (re)connection; the feed counts as up
// once the broker has acknowledged.
func (st *follow) subscribe(ctx context.Context, cm *autopaho.ConnectionManager, subs []paho.SubscribeOptions, broker string, up *atomic.Bool) {
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	ack, err := cm.Subscribe(sctx, &paho.Subscribe{Subscriptions: subs})
	if err != nil {
		st.log.Warn("openf1 MQTT subscribe failed; polling meanwhile", "broker", broker, "err", err)
		return
	}
	for i, code := range ack.Reasons {
		if code >= 0x80 && i < len(subs) {
			st.log.Warn("openf1 MQTT subscription refused", "topic", subs[i].Topic, "code", code)
			return
		}
	}
	up.Store(true)
	st.log.Info("openf1 MQTT feed subscribed", "broker", broker, "topics", len(subs))
	if st.cfg.onSubscribed != nil {
		st.cfg.onSubscribed()
	}
}

// handleMQTT publishes what a batch of feed messages brings.
func (st *follow) handleMQTT(ctx context.Context, b bus.Bus, batch []mqttMessage) error {
	byTracker := map[*tracker][]liveItem{}
	resultsChanged := false
	for _, m := range batch {
		ep, ok := strings.CutPrefix(m.topic, st.cfg.MQTTTopicPrefix)
		if !ok {
			continue
		}
		var head struct {
			SessionKey int `json:"session_key"`
		}
		if err := json.Unmarshal(m.payload, &head); err != nil {
			st.log.Warn("openf1 MQTT message is not a JSON object", "topic", m.topic, "err", err)
			continue
		}
		if head.SessionKey != st.id.SessionKey {
			continue // another session's data
		}
		var it liveItem
		var err error
		switch ep {
		case EndpointPosition:
			var r Position
			if err = json.Unmarshal(m.payload, &r); err == nil {
				it = positionItem(st.id, r)
			}
		case EndpointIntervals:
			var r Interval
			if err = json.Unmarshal(m.payload, &r); err == nil {
				it = intervalItem(st.id, r)
			}
		case EndpointLaps:
			var r Lap
			if err = json.Unmarshal(m.payload, &r); err == nil {
				st.noteLap(r)
				it = lapItem(st.id, r)
			}
		case EndpointPit:
			var r Pit
			if err = json.Unmarshal(m.payload, &r); err == nil {
				it = pitItem(st.id, r)
			}
		case EndpointRaceControl:
			var r RaceControl
			if err = json.Unmarshal(m.payload, &r); err == nil {
				it = raceControlItem(st.id, r)
			}
		case EndpointSessionResult:
			var r SessionResult
			if err = json.Unmarshal(m.payload, &r); err == nil && st.results {
				st.rows[r.DriverNumber] = r
				resultsChanged = true
			}
			if err == nil {
				continue
			}
		default:
			continue
		}
		if err != nil {
			st.log.Warn("openf1 MQTT message not decodable", "topic", m.topic, "err", err)
			continue
		}
		t := st.tracker(ep)
		byTracker[t] = append(byTracker[t], it)
	}
	var msgs []*bus.Message
	var hashes map[string]string
	if resultsChanged {
		msgs, hashes = st.resultMessages()
	}
	for _, t := range st.trackers {
		if items := byTracker[t]; len(items) > 0 {
			msgs = append(msgs, st.accept(t, items)...)
		}
	}
	return st.publish(ctx, b, msgs, hashes)
}

func (st *follow) tracker(endpoint string) *tracker {
	for _, t := range st.trackers {
		if t.endpoint == endpoint {
			return t
		}
	}
	return nil
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
