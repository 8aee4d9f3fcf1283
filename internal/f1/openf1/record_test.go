package openf1

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/f1"
	"github.com/podiumhq/podium/internal/f1/openf1/openf1test"
)

// ids returns the IDs of msgs of a topic, sorted.
func ids(rb *recordingBus, topic string) []string {
	var out []string
	for _, m := range rb.topic(topic) {
		if !strings.Contains(m.ID, "/source/") {
			out = append(out, m.ID)
		}
	}
	slices.Sort(out)
	return out
}

// TestRecordAndPlay records a follow of the race over REST, reads the
// recording back and plays it: the same results and live updates, now
// from the file.
func TestRecordAndPlay(t *testing.T) {
	f := openf1test.NewFake(t, openf1test.Bahrain)
	f.Drop(EndpointMeetings) // the archive-less resolver counts rounds from the season's races: recorded too
	f.Set(EndpointMeetings, string(openf1test.Fixture(t, openf1test.Bahrain, "meetings.json")))
	c := testClient(f, nil, Config{RateLimit: -1})
	var file bytes.Buffer
	rec := NewRecorder(&file)
	rows := 0
	rec.OnRows = func(n int) { rows = n }
	live := &recordingBus{Bus: enginetest.Open(t, enginetest.JetStream)}
	logger, _ := testLogger(t)
	clk := openf1test.NewClock(time.Date(2023, 3, 6, 12, 0, 0, 0, time.UTC)) // over: one poll, then Run returns
	fl := &Follower{Client: c, Session: "7953", Now: clk.Now, Logger: logger, Record: rec}
	if err := fl.Run(context.Background(), live); err != nil {
		t.Fatal(err)
	}
	if rows == 0 || rows != rec.Rows() {
		t.Fatalf("progress says %d rows, the recorder %d", rows, rec.Rows())
	}

	got, err := ReadRecording(bytes.NewReader(file.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if got.Header.Format != RecordingFormat || got.Header.Version != RecordingVersion || got.Header.SessionKey != 7953 {
		t.Errorf("header %+v", got.Header)
	}
	if len(got.Rows) != rec.Rows() {
		t.Errorf("%d rows read, %d recorded", len(got.Rows), rec.Rows())
	}
	if first := got.Rows[0]; first.Endpoint != EndpointSessions && first.Endpoint != EndpointMeetings {
		t.Errorf("first row %+v: the session comes first", first)
	}
	for _, r := range got.Rows {
		if r.Source != f1.SourceOpenF1REST || r.T.IsZero() {
			t.Errorf("row %+v", r)
		}
	}

	// Played back without OpenF1 nor the archive (the season's races were
	// recorded), through the same path.
	played := &recordingBus{Bus: enginetest.Open(t, enginetest.JetStream)}
	pl := &Follower{Logger: logger}
	if err := pl.RunRecording(context.Background(), played, got, 0, nil); err != nil {
		t.Fatal(err)
	}
	for _, topic := range []string{f1.TopicResults, f1.TopicLive} {
		a, b := ids(live, topic), ids(played, topic)
		if !slices.Equal(a, b) {
			t.Errorf("%s: played %d messages, followed %d; they differ", topic, len(b), len(a))
		}
	}
	for _, m := range played.topic(f1.TopicResults) {
		if r := decodeResult(t, m); r.Source != f1.SourceFile {
			t.Errorf("played result source %q", r.Source)
		}
	}
	if got := played.ofKind(t, KindSource); len(got) != 1 || got[0].Source != f1.SourceFile {
		t.Errorf("played sources %+v", got)
	}
}

// TestRunRecordingPace: rows are played at the pace they were recorded,
// divided by the speed.
func TestRunRecordingPace(t *testing.T) {
	rec, err := ReadRecording(bytes.NewReader(openf1test.Fixture(t, openf1test.Bahrain, "recording.ndjson")))
	if err != nil {
		t.Fatal(err)
	}
	span := rec.Rows[len(rec.Rows)-1].T.Sub(rec.Rows[0].T)
	const speed = 50
	b := &recordingBus{Bus: enginetest.Open(t, enginetest.JetStream)}
	start := time.Now()
	if err := (&Follower{}).RunRecording(context.Background(), b, rec, speed, nil); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < span/speed {
		t.Errorf("played %s of recording in %s at speed %d: faster than recorded", span, took, speed)
	}
	if n := len(b.topic(f1.TopicResults)); n != fixtureResults {
		t.Errorf("%d results", n)
	}
	// A cancelled play returns the context's error.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (&Follower{}).RunRecording(ctx, b, rec, 1, nil); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

func TestReadRecordingErrors(t *testing.T) {
	header := `{"format":"podium.openf1.recording","version":1,"session_key":7953,"started":"2023-03-05T15:00:00Z"}` + "\n"
	row := `{"t":"2023-03-05T15:00:00Z","endpoint":"position","payload":{"session_key":7953}}` + "\n"
	for _, tc := range []struct{ name, file, want string }{
		{"empty", "", "the file is empty"},
		{"not a header", "hello\n", "line 1: not a recording header"},
		{"another format", `{"format":"x","version":1,"session_key":1}` + "\n", `format "x": not a podium recording`},
		{"newer version", `{"format":"podium.openf1.recording","version":2,"session_key":1}` + "\n", "upgrade podium"},
		{"no session", `{"format":"podium.openf1.recording","version":1}` + "\n", "session_key 0"},
		{"bad row", header + row + "{\n", "recording line 3"},
		{"unknown endpoint", header + `{"t":"2023-03-05T15:00:00Z","endpoint":"car_data","payload":{}}` + "\n", `endpoint "car_data"`},
		{"payload not an object", header + `{"t":"2023-03-05T15:00:00Z","endpoint":"laps","payload":[1]}` + "\n", "not a JSON object"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadRecording(strings.NewReader(tc.file))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want %q", err, tc.want)
			}
		})
	}
	rec, err := ReadRecording(strings.NewReader(header + "\n" + row + `{"t":"2023-03-05T15:00:01Z","endpoint":"laps","payload":{},"future":1}` + "\n"))
	if err != nil || len(rec.Rows) != 2 {
		t.Errorf("blank lines and unknown fields: %v, %+v", err, rec)
	}
}

// TestFollowerDelay: with a broadcast delay every message is held back
// that long, in order, and what is held when the follow ends is still
// published.
func TestFollowerDelay(t *testing.T) {
	f := openf1test.NewFake(t, openf1test.Bahrain)
	c := testClient(f, nil, Config{RateLimit: -1})
	b := &timedBus{recordingBus: recordingBus{Bus: enginetest.Open(t, enginetest.JetStream)}}
	const delay = 400 * time.Millisecond
	clk := openf1test.NewClock(time.Date(2023, 3, 6, 12, 0, 0, 0, time.UTC))
	logger, _ := testLogger(t)
	fl := &Follower{Client: c, Session: "7953", Now: clk.Now, Logger: logger, Delay: delay}
	start := time.Now()
	if err := fl.Run(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if n := len(b.topic(f1.TopicResults)); n != fixtureResults {
		t.Fatalf("%d results published, want %d (the delay's queue is flushed at the end)", n, fixtureResults)
	}
	if first := b.first(); first.Sub(start) < delay {
		t.Errorf("first message published %s after the start, before the delay of %s", first.Sub(start), delay)
	}
	// Undelayed, the same messages in the same order.
	plain := &recordingBus{Bus: enginetest.Open(t, enginetest.JetStream)}
	fl.Delay = 0
	if err := fl.Run(context.Background(), plain); err != nil {
		t.Fatal(err)
	}
	var a, d []string
	for _, m := range plain.msgs {
		a = append(a, m.ID)
	}
	for _, m := range b.msgs {
		d = append(d, m.ID)
	}
	if len(a) != len(d) {
		t.Fatalf("%d messages delayed, %d not", len(d), len(a))
	}
	for i := range a {
		if a[i] != d[i] && !strings.Contains(a[i], "/source/") {
			t.Errorf("message %d: %s delayed, %s not", i, d[i], a[i])
			break
		}
	}
}

// TestFollowerArchiveFallback: a past race OpenF1 has no results for gets
// the archive's, and says so.
func TestFollowerArchiveFallback(t *testing.T) {
	f := openf1test.NewFake(t, openf1test.Bahrain)
	f.Drop(EndpointSessionResult)
	c := testClient(f, nil, Config{RateLimit: -1})
	rb := &recordingBus{Bus: enginetest.Open(t, enginetest.JetStream)}
	pos := 1
	archived := []f1.Result{{Season: 2023, Round: 1, Session: f1.Race, CarNumber: 1, DriverID: "max-verstappen", TeamID: "red-bull",
		Status: f1.Finished, Position: &pos, PointsScale: f1.ScaleFull, Source: f1.SourceArchive}}
	var asked []string
	fl := &Follower{Client: c, Session: "7953", Now: openf1test.NewClock(time.Date(2023, 3, 6, 12, 0, 0, 0, time.UTC)).Now,
		PollInterval: 10 * time.Millisecond,
		Archive: func(season, round int, session string) ([]f1.Result, bool) {
			asked = append(asked, fmt.Sprintf("%d %d %s", season, round, session))
			return archived, true
		}}
	if err := fl.Run(context.Background(), rb); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(asked) != "[2023 1 RACE]" {
		t.Errorf("archive asked %v", asked)
	}
	rs := rb.topic(f1.TopicResults)
	if len(rs) != 1 {
		t.Fatalf("%d results", len(rs))
	}
	if r := decodeResult(t, rs[0]); r.Source != f1.SourceArchive || r.SessionKey != 7953 {
		t.Errorf("result %+v", r)
	}
	if s := rb.ofKind(t, KindSource); len(s) != 2 || s[1].Source != f1.SourceArchive || !s[1].Fallback {
		t.Errorf("sources %+v", s)
	}
}

// timedBus records when each message was published.
type timedBus struct {
	recordingBus
	at []time.Time
}

func (b *timedBus) Publish(ctx context.Context, msgs ...*bus.Message) error {
	b.mu.Lock()
	for range msgs {
		b.at = append(b.at, time.Now())
	}
	b.mu.Unlock()
	return b.recordingBus.Publish(ctx, msgs...)
}

func (b *timedBus) first() time.Time {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.at[0]
}
