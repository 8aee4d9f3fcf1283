package dashboard_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/f1/dashboard"
	"github.com/podiumhq/podium/internal/f1/openf1"
	"github.com/podiumhq/podium/internal/f1/openf1/openf1test"
	"github.com/podiumhq/podium/internal/web"
)

// BenchmarkMQTTToBrowser measures the latency of a live update from the
// MQTT feed to the browser: a position row published on the broker (the
// real Mosquitto at PODIUM_TEST_MQTT_URL) → the follower → f1.live on
// embedded JetStream → the dashboard's live state → the "f1live" event
// read by an SSE client of /events. One update at a time, each waiting for
// its event. Run:
//
//	PODIUM_TEST_MQTT_URL=tcp://127.0.0.1:1883 go test -run '^$' -bench MQTTToBrowser -benchtime 2000x ./internal/f1/dashboard/
func BenchmarkMQTTToBrowser(b *testing.B) {
	u := openf1test.MQTTURL(b)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	bs := enginetest.Open(b, enginetest.JetStream)
	live := dashboard.NewLive()
	srv := web.New(web.Config{})
	ts := httptest.NewServer(srv.Mux)
	defer ts.Close()
	followed := make(chan struct{})
	go func() { defer close(followed); live.Follow(ctx, bs, nil, dashboard.NotifyLive(srv.Hub)) }()

	fake := openf1test.NewFake(b, openf1test.Bahrain)
	fake.Drop(openf1.EndpointPosition, openf1.EndpointIntervals, openf1.EndpointLaps, openf1.EndpointPit,
		openf1.EndpointRaceControl, openf1.EndpointSessionResult)
	prefix := openf1test.TopicPrefix()
	c := openf1.New(openf1.Config{BaseURL: fake.BaseURL(), Username: openf1test.User, Password: openf1test.Password, RateLimit: -1})
	fl := &openf1.Follower{Client: c, Session: "7953", MQTTURL: u.String(), MQTTTopicPrefix: prefix,
		Now: func() time.Time { return bahrainDuringRace }, StaleAfter: time.Hour}
	ran := make(chan error, 1)
	go func() { ran <- fl.Run(ctx, bs) }()
	defer func() { cancel(); <-ran; <-followed }()

	events := make(chan struct{}, 1024)
	sseClient(b, ctx, ts.URL+"/events", func(name string, data []byte) {
		var id dashboard.SessionID
		if name == dashboard.EventLive && json.Unmarshal(data, &id) == nil && id.Round == 1 {
			events <- struct{}{}
		}
	})
	pub := openf1test.NewPublisher(b, u, prefix)
	base := time.Date(2023, 3, 5, 16, 0, 0, 0, time.UTC)
	send := func(i int) {
		row := fmt.Sprintf(`{"date":"%s","driver_number":%d,"meeting_key":1141,"position":%d,"session_key":7953,"_key":"k%d","_id":%d}`,
			base.Add(time.Duration(i)*time.Millisecond).Format("2006-01-02T15:04:05.000000+00:00"), 1+i%20, 1+i%20, i, i)
		pub.Publish(openf1.EndpointPosition, []byte(row))
	}
	wait := func() {
		select {
		case <-events:
		case <-time.After(30 * time.Second):
			b.Fatal("no f1live event in 30 s")
		}
	}
	// Warm up until the feed is subscribed and the dashboard follows.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		send(-1 - i)
		select {
		case <-events:
		case <-time.After(200 * time.Millisecond):
			if time.Now().After(deadline) {
				b.Fatal("the update never reached the browser")
			}
			continue
		}
		break
	}
	time.Sleep(300 * time.Millisecond)
	for len(events) > 0 {
		<-events
	}
	lat := make([]time.Duration, 0, b.N)
	b.ResetTimer()
	for i := range b.N {
		start := time.Now()
		send(i)
		wait()
		lat = append(lat, time.Since(start))
	}
	b.StopTimer()
	reportLatency(b, lat, "updates MQTT → browser")
}
