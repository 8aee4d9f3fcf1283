package openf1

import (
	"bufio"
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/podiumhq/podium/internal/f1/openf1/openf1test"
)

// Fuzz targets of every decoder of OpenF1 input: each endpoint's rows (as
// REST, MQTT and recordings give them), the gap, duration, time and colour
// fields, the token response, and recordings. Seeds are the fixtures, in
// the shapes of OpenF1's documentation. A decoder may reject input; it must
// not panic, and what it accepts must be consistent.

// fuzzEndpoint fuzzes DecodeRow for one endpoint, seeded with its
// fixture rows and the feed's messages of it.
func fuzzEndpoint(f *testing.F, endpoint string) {
	var rows []json.RawMessage
	if err := json.Unmarshal(openf1test.Fixture(f, openf1test.Bahrain, endpoint+".json"), &rows); err != nil {
		f.Fatal(err)
	}
	for _, r := range rows {
		f.Add([]byte(r))
	}
	for _, m := range openf1test.FeedFixture(f, openf1test.Bahrain, "mqtt.ndjson") {
		if m.Topic == endpoint {
			f.Add([]byte(m.Payload))
		}
	}
	f.Add([]byte(`{}`))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"session_key":1,"driver_number":1,"date":"x"}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		v, err := DecodeRow(endpoint, raw)
		if err != nil {
			return
		}
		if rowSessionKey(v) < 1 {
			if _, ok := v.(Meeting); !ok {
				t.Fatalf("accepted a row without session_key: %s", raw)
			}
		}
		ident, _ := rowIdentity(v)
		if ident == "" || rowHash(v) == "" {
			t.Fatalf("accepted row without identity or hash: %s", raw)
		}
		// What is accepted re-encodes and decodes to the same row.
		b, err := json.Marshal(v)
		if err != nil {
			t.Fatalf("re-encode %s: %v", raw, err)
		}
		w, err := DecodeRow(endpoint, b)
		if err != nil {
			t.Fatalf("re-decode %s: %v", b, err)
		}
		if rowHash(w) != rowHash(v) {
			t.Fatalf("round trip changed the row: %s → %s", raw, b)
		}
		if u, ok := liveUpdateOf(Identity{Season: 2023, Round: 1, Session: "RACE", SessionKey: 1}, v); ok {
			if _, err := json.Marshal(u); err != nil {
				t.Fatalf("live update of %s: %v", raw, err)
			}
		}
	})
}

func FuzzDecodeSessions(f *testing.F)      { fuzzEndpoint(f, EndpointSessions) }
func FuzzDecodeMeetings(f *testing.F)      { fuzzEndpoint(f, EndpointMeetings) }
func FuzzDecodeDrivers(f *testing.F)       { fuzzEndpoint(f, EndpointDrivers) }
func FuzzDecodeStartingGrid(f *testing.F)  { fuzzEndpoint(f, EndpointStartingGrid) }
func FuzzDecodePosition(f *testing.F)      { fuzzEndpoint(f, EndpointPosition) }
func FuzzDecodeIntervals(f *testing.F)     { fuzzEndpoint(f, EndpointIntervals) }
func FuzzDecodeLaps(f *testing.F)          { fuzzEndpoint(f, EndpointLaps) }
func FuzzDecodePit(f *testing.F)           { fuzzEndpoint(f, EndpointPit) }
func FuzzDecodeRaceControl(f *testing.F)   { fuzzEndpoint(f, EndpointRaceControl) }
func FuzzDecodeSessionResult(f *testing.F) { fuzzEndpoint(f, EndpointSessionResult) }

// FuzzGap: gap_to_leader and interval, as JSON and as printed text.
func FuzzGap(f *testing.F) {
	for _, s := range []string{`0`, `11.987`, `"+1 LAP"`, `"+2 LAPS"`, `null`, `[0.201,0,0]`, `[0.723,null,null]`, `"+1:09.473"`, `"DNF"`, `"1L"`, `-3`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var g Gap
		if err := json.Unmarshal(raw, &g); err != nil {
			return
		}
		b, err := json.Marshal(g)
		if err != nil {
			t.Fatalf("marshal %s: %v", raw, err)
		}
		var h Gap
		if err := json.Unmarshal(b, &h); err != nil {
			t.Fatalf("unmarshal %s (from %s): %v", b, raw, err)
		}
		if h.String() != g.String() {
			t.Fatalf("round trip %s → %s: %q ≠ %q", raw, b, h.String(), g.String())
		}
		_ = ParseGap(string(raw))
	})
}

// FuzzDuration: session_result's duration.
func FuzzDuration(f *testing.F) {
	for _, s := range []string{`5636.736`, `null`, `[91.295,90.503,89.708]`, `[92.018,null,null]`, `"x"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var d Duration
		if err := json.Unmarshal(raw, &d); err != nil {
			return
		}
		if _, err := json.Marshal(d); err != nil {
			t.Fatalf("marshal %s: %v", raw, err)
		}
	})
}

// FuzzTime: OpenF1's timestamps.
func FuzzTime(f *testing.F) {
	for _, s := range []string{`"2023-03-05T16:30:01.336000+00:00"`, `"2023-03-05T16:30:01"`, `"2023-03-05 16:30:01"`, `"2023-03-05"`, `null`, `""`, `1`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var tm Time
		if err := json.Unmarshal(raw, &tm); err != nil {
			return
		}
		b, err := json.Marshal(tm)
		if err != nil {
			return // a year beyond RFC 3339's range
		}
		var back Time
		if err := json.Unmarshal(b, &back); err != nil || !back.Equal(tm.Time) {
			t.Fatalf("round trip %s → %s: %v %v", raw, b, back, err)
		}
	})
}

// FuzzColour: team_colour.
func FuzzColour(f *testing.F) {
	for _, s := range []string{`"3671C6"`, `"#f58020"`, `null`, `"F00"`, `"not a colour"`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		var c Colour
		if err := json.Unmarshal(raw, &c); err != nil {
			return
		}
		if NormalizeColour(string(c)) != string(c) {
			t.Fatalf("%s: %q is not normalised", raw, c)
		}
	})
}

// FuzzTokenResponse: the body of POST /token.
func FuzzTokenResponse(f *testing.F) {
	for _, s := range []string{`{"expires_in":"3600","access_token":"YOUR_ACCESS_TOKEN","token_type":"bearer"}`,
		`{"access_token":"t","expires_in":3600}`, `{"access_token":""}`, `{"detail":"Incorrect username or password"}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, raw []byte) {
		tr, err := decodeTokenResponse(raw)
		if err != nil {
			return
		}
		if tr.AccessToken == "" {
			t.Fatalf("accepted a response without a token: %s", raw)
		}
		if d := parseExpiresIn(tr.ExpiresIn); d <= 0 {
			t.Fatalf("lifetime %s from %s", d, raw)
		}
	})
}

// FuzzReadRecording: recordings, seeded with the fixture's lines.
func FuzzReadRecording(f *testing.F) {
	file := openf1test.Fixture(f, openf1test.Bahrain, "recording.ndjson")
	f.Add(file)
	sc := bufio.NewScanner(bytes.NewReader(file))
	sc.Scan()
	header := sc.Text() + "\n"
	for i := 0; sc.Scan() && i < 10; i++ {
		f.Add([]byte(header + sc.Text() + "\n"))
	}
	f.Add([]byte(strings.Replace(header, `"version":1`, `"version":2`, 1)))
	f.Fuzz(func(t *testing.T, raw []byte) {
		rec, err := ReadRecording(bytes.NewReader(raw))
		if err != nil {
			return
		}
		if rec.Header.Version != RecordingVersion || rec.Header.SessionKey < 1 {
			t.Fatalf("accepted header %+v", rec.Header)
		}
		for _, r := range rec.Rows {
			_, _ = DecodeRow(r.Endpoint, r.Payload)
		}
	})
}
