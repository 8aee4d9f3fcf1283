package openf1

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/f1"

	"github.com/podiumhq/podium/internal/f1/openf1/openf1test"
)

func TestFollowerMQTT(t *testing.T) {
	u := openf1test.MQTTURL(t)
	f := openf1test.NewFake(t, openf1test.Bahrain)
	f.RequireAuth = true
	c := testClient(f, nil, Config{Username: openf1test.User, Password: openf1test.Password, RateLimit: -1})
	b := enginetest.Open(t, enginetest.JetStream)
	rb := &recordingBus{Bus: b}
	logger, logs := testLogger(t)
	prefix := openf1test.TopicPrefix()
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
	pub := openf1test.NewPublisher(t, u, prefix)
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
	for _, m := range messages {
		pub.Publish(m.topic, []byte(m.payload))
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
	if amended.CarNumber != 14 || amended.Time != "+43.637" || amended.Source != f1.SourceOpenF1MQTT {
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

// startMQTT runs a follower of the Bahrain race on the test broker and
// waits for its first subscription.
func startMQTT(t *testing.T, fl *Follower) (*recordingBus, *openf1test.Publisher, *openf1test.Logs, chan error) {
	t.Helper()
	u := openf1test.MQTTURL(t)
	prefix := openf1test.TopicPrefix()
	rb := &recordingBus{Bus: enginetest.Open(t, enginetest.JetStream)}
	logger, logs := testLogger(t)
	subscribed := make(chan struct{}, 16)
	fl.Session, fl.Now, fl.Logger = "7953", openf1test.NewClock(duringRace).Now, logger
	fl.MQTTURL, fl.MQTTTopicPrefix = u.String(), prefix
	fl.onSubscribed = func() { subscribed <- struct{}{} }
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	done := make(chan error, 1)
	go func() { done <- fl.Run(ctx, rb) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil && !errors.Is(err, context.Canceled) {
			t.Errorf("Run = %v", err)
		}
	})
	select {
	case <-subscribed:
	case <-time.After(20 * time.Second):
		t.Fatal("no MQTT subscription")
	}
	return rb, openf1test.NewPublisher(t, u, prefix), logs, done
}

// announced lists the sources the follower announced, with "+fallback".
func announced(t *testing.T, rb *recordingBus) []string {
	var out []string
	for _, u := range rb.ofKind(t, KindSource) {
		s := u.Source
		if u.Fallback {
			s += "+fallback"
		}
		out = append(out, s)
	}
	return out
}

// TestFollowerMQTTTokenRenewal: OpenF1's token expires; the follower opens
// a new connection with a fresh token before it does, closes the old one
// once the new one is subscribed, and neither loses nor doubles a row.
func TestFollowerMQTTTokenRenewal(t *testing.T) {
	f := openf1test.NewFake(t, openf1test.Bahrain)
	f.RequireAuth = true
	f.ExpiresIn = "4" // renewed 2 s after it was issued
	c := testClient(f, nil, Config{Username: openf1test.User, Password: openf1test.Password, RateLimit: -1})
	fl := &Follower{Client: c, PollInterval: 100 * time.Millisecond}
	rb, pub, logs, _ := startMQTT(t, fl)
	waitFor(t, "a renewed connection", func() bool {
		return strings.Count(logs.String(), "openf1 MQTT feed subscribed") >= 2
	})
	pub.Publish("position", []byte(`{"date":"2023-03-05T16:49:58.200000+00:00","driver_number":44,"meeting_key":1141,"position":4,"session_key":7953,"_key":"k44","_id":1}`))
	waitFor(t, "the row", func() bool { return len(rb.ofKind(t, KindPosition)) >= 9 })
	time.Sleep(200 * time.Millisecond)
	if n := len(rb.ofKind(t, KindPosition)); n != 9 {
		t.Errorf("%d positions published, want 9 (8 from the catch-up, 1 from the feed)", n)
	}
	if f.Issued() < 2 {
		t.Errorf("%d tokens issued, want a renewal", f.Issued())
	}
	if !strings.Contains(logs.String(), "due for renewal") {
		t.Error("no renewal logged")
	}
	if got := announced(t, rb); slices.Contains(got, f1.SourceOpenF1REST+"+fallback") {
		t.Errorf("sources %v: the renewal caused a fallback", got)
	}
}

// TestFollowerMQTTSilence: a feed that stays connected but silent during
// the session is replaced by REST polling, until it speaks again.
func TestFollowerMQTTSilence(t *testing.T) {
	f := openf1test.NewFake(t, openf1test.Bahrain)
	c := testClient(f, nil, Config{Username: openf1test.User, Password: openf1test.Password, RateLimit: -1})
	fl := &Follower{Client: c, PollInterval: 50 * time.Millisecond, StaleAfter: 300 * time.Millisecond}
	rb, pub, _, _ := startMQTT(t, fl)
	waitFor(t, "the fallback", func() bool { return slices.Contains(announced(t, rb), f1.SourceOpenF1REST+"+fallback") })
	polls := f.Count("/v1/position")
	waitFor(t, "REST polls", func() bool { return f.Count("/v1/position") > polls+2 })
	pub.Publish("position", []byte(`{"date":"2023-03-05T16:49:58.200000+00:00","driver_number":44,"meeting_key":1141,"position":4,"session_key":7953,"_key":"k44","_id":1}`))
	want := []string{f1.SourceOpenF1REST, f1.SourceOpenF1MQTT, f1.SourceOpenF1REST + "+fallback", f1.SourceOpenF1MQTT}
	waitFor(t, "MQTT again", func() bool { return len(announced(t, rb)) >= len(want) })
	if got := announced(t, rb); fmt.Sprint(got[:len(want)]) != fmt.Sprint(want) {
		t.Errorf("sources %v, want %v", got, want)
	}
}

// TestFollowerMQTTFallbackPollsAtOnce: REST polling paced by a long
// PollInterval still polls at once when it takes over from a silent feed
// (the catch-up poll at the start does not count), then waits for the
// interval.
func TestFollowerMQTTFallbackPollsAtOnce(t *testing.T) {
	f := openf1test.NewFake(t, openf1test.Bahrain)
	c := testClient(f, nil, Config{Username: openf1test.User, Password: openf1test.Password, RateLimit: -1})
	fl := &Follower{Client: c, PollInterval: time.Hour, StaleAfter: 300 * time.Millisecond}
	rb, _, _, _ := startMQTT(t, fl)
	polls := f.Count("/v1/position") // the catch-up poll
	waitFor(t, "the fallback", func() bool { return slices.Contains(announced(t, rb), f1.SourceOpenF1REST+"+fallback") })
	waitFor(t, "a REST poll at the fallback", func() bool { return f.Count("/v1/position") > polls })
}
