package openf1

import (
	"context"
	"fmt"
	"errors"
	"net"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/eclipse/paho.golang/paho"

	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/f1"

	"github.com/podiumhq/podium/internal/f1/openf1/openf1test"
)

// mqttURL returns the broker of the MQTT tests, or skips.
func mqttURL(t *testing.T) *url.URL {
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

// testPublisher connects a plain paho client to the broker, playing OpenF1.
func testPublisher(t *testing.T, u *url.URL) *paho.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		t.Fatalf("dial %s: %v", u.Host, err)
	}
	cli := paho.NewClient(paho.ClientConfig{Conn: conn})
	if _, err := cli.Connect(ctx, &paho.Connect{KeepAlive: 30, ClientID: "podium-test-pub-" + randomHex(4), CleanStart: true}); err != nil {
		t.Fatalf("connect to %s: %v", u.Redacted(), err)
	}
	t.Cleanup(func() { _ = cli.Disconnect(&paho.Disconnect{ReasonCode: 0}) })
	return cli
}

func TestFollowerMQTT(t *testing.T) {
	u := mqttURL(t)
	f := openf1test.NewFake(t, openf1test.Bahrain)
	f.RequireAuth = true
	c := testClient(f, nil, Config{Username: openf1test.User, Password: openf1test.Password, RateLimit: -1})
	b := enginetest.Open(t, enginetest.JetStream)
	rb := &recordingBus{Bus: b}
	logger, logs := testLogger(t)
	prefix := "podiumtest/" + randomHex(6) + "/v1/"
	subscribed := make(chan struct{})
	var once sync.Once
	fl := &Follower{
		Client: c, Session: "7953", Now: openf1test.NewClock(duringRace).Now, Logger: logger,
		PollInterval: 50 * time.Millisecond, MQTTURL: u.String(), MQTTTopicPrefix: prefix,
		onSubscribed: func() { once.Do(func() { close(subscribed) }) },
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- fl.Run(ctx, rb) }()

	select {
	case <-subscribed:
	case err := <-done:
		t.Fatalf("Run = %v before subscribing", err)
	case <-time.After(20 * time.Second):
		t.Fatal("no MQTT subscription")
	}
	// The REST catch-up publishes what OpenF1 had before the subscription.
	waitFor(t, "the catch-up", func() bool {
		return len(rb.topic(f1.TopicResults)) >= fixtureResults && len(rb.live(t)) >= fixtureLive
	})
	if f.Count("/token") == 0 {
		t.Error("no access token was requested for the feed")
	}
	time.Sleep(200 * time.Millisecond) // a poll begun before the subscription ends
	restPolls := f.Count("/v1/position")

	// OpenF1 publishes rows on the feed, with its _id and _key fields.
	pub := testPublisher(t, u)
	messages := []struct{ topic, payload string }{
		{"position", `{"date":"2023-03-05T16:49:58.200000+00:00","driver_number":44,"meeting_key":1141,"position":4,"session_key":7953,"_key":"1678035000000_44","_id":1678035000001}`},
		{"position", `{"date":"2023-03-05T16:49:58.200000+00:00","driver_number":44,"meeting_key":1141,"position":4,"session_key":7953,"_key":"1678035000000_44","_id":1678035000002}`}, // sent twice
		{"position", `{"date":"2023-03-19T17:49:58.200000+00:00","driver_number":44,"meeting_key":1142,"position":2,"session_key":7779,"_key":"x","_id":1}`},                            // another session
		{"intervals", `{"date":"2023-03-05T16:49:59.004000+00:00","driver_number":21,"gap_to_leader":"+1 LAP","interval":1.203,"meeting_key":1141,"session_key":7953,"_key":"k","_id":1678035000003}`},
		{"laps", `{"date_start":"2023-03-05T16:21:19.237000+00:00","driver_number":1,"duration_sector_1":30.871,"duration_sector_2":40.5,"duration_sector_3":25.56,"i1_speed":233,"i2_speed":262,"is_pit_out_lap":false,"lap_duration":96.931,"lap_number":45,"meeting_key":1141,"segments_sector_1":[2049,2051,2049,2049,2049,2049],"segments_sector_2":[2048,2049,2049,2049,2049],"segments_sector_3":[2049,2049,2049,2049],"session_key":7953,"st_speed":289,"_key":"1_45","_id":1678035000004}`},
		{"race_control", `{"category":"SafetyCar","date":"2023-03-05T16:50:01+00:00","driver_number":null,"flag":null,"lap_number":48,"meeting_key":1141,"message":"VIRTUAL SAFETY CAR DEPLOYED","scope":"Track","sector":null,"session_key":7953,"_key":"rc","_id":1678035000005}`},
		{"session_result", `{"dnf":false,"dns":false,"dsq":false,"driver_number":14,"duration":5680.373,"gap_to_leader":43.637,"meeting_key":1141,"number_of_laps":57,"points":15,"position":3,"session_key":7953,"_key":"sr14","_id":1678035000006}`},
		{"position", `not json`},
	}
	pctx, pcancel := context.WithTimeout(ctx, 10*time.Second)
	defer pcancel()
	for _, m := range messages {
		if _, err := pub.Publish(pctx, &paho.Publish{Topic: prefix + m.topic, QoS: 1, Payload: []byte(m.payload)}); err != nil {
			t.Fatalf("publish to %s: %v", m.topic, err)
		}
	}

	waitFor(t, "the feed's rows on the bus", func() bool {
		return len(rb.topic(f1.TopicResults)) >= fixtureResults+1 && len(rb.live(t)) >= fixtureLive+4
	})
	time.Sleep(300 * time.Millisecond) // several ticks: nothing more may come
	if n := len(rb.live(t)); n != fixtureLive+4 {
		t.Errorf("%d live updates, want %d", n, fixtureLive+4)
	}
	if n := len(rb.topic(f1.TopicResults)); n != fixtureResults+1 {
		t.Errorf("%d results, want %d", n, fixtureResults+1)
	}
	got := map[string]LiveUpdate{}
	for _, m := range rb.live(t)[fixtureLive:] {
		u := decodeLive(t, m)
		got[u.Kind+"/"+itoa(u.DriverNumber)] = u
	}
	if u, ok := got["position/44"]; !ok || *u.Position != 4 || u.SessionKey != 7953 {
		t.Errorf("position from the feed: %+v", u)
	}
	if u := got["interval/21"]; u.GapToLeader.String() != "+1 LAP" || u.Interval.Seconds != 1.203 {
		t.Errorf("interval from the feed: %+v", u)
	}
	if u := got["lap/1"]; u.LapDuration == nil || *u.LapDuration != 96.931 {
		t.Errorf("lap from the feed: %+v", u)
	}
	if u := got["race_control/0"]; u.Message != "VIRTUAL SAFETY CAR DEPLOYED" || u.Key() != "2023/1/RACE" {
		t.Errorf("race control from the feed: %+v", u)
	}
	amended := decodeResult(t, rb.topic(f1.TopicResults)[fixtureResults])
	if amended.CarNumber != 14 || amended.Time != "+43.637" {
		t.Errorf("amended result from the feed: %+v", amended)
	}
	readTopic(t, b, f1.TopicLive, fixtureLive+4+fixtureDrivers+2)
	var srcs []string
	for _, u := range rb.ofKind(t, KindSource) {
		srcs = append(srcs, u.Source)
	}
	if fmt.Sprint(srcs) != fmt.Sprint([]string{f1.SourceOpenF1REST, f1.SourceOpenF1MQTT}) {
		t.Errorf("sources %v: want the REST catch-up, then MQTT", srcs)
	}

	// With the feed up, the live endpoints are not polled.
	if n := f.Count("/v1/position"); n != restPolls {
		t.Errorf("%d REST position polls while the feed was up, want %d", n-restPolls, 0)
	}

	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v, want context.Canceled", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancel")
	}
	if l := logs.String(); strings.Contains(l, openf1test.Password) || strings.Contains(l, "tok-1") {
		t.Error("logs contain a secret")
	}
}
