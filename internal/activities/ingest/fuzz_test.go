package ingest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/podiumhq/podium/internal/activities"
)

// storable fails the test when an activity that passed Check holds text
// no store column keeps (NUL, invalid UTF-8): it would be a 500 on
// PostgreSQL.
func storable(t *testing.T, a activities.Activity) {
	t.Helper()
	for name, s := range map[string]string{"employee_id": a.EmployeeID, "sport_type": a.SportType, "comment": a.Comment, "source": a.Source} {
		if !utf8.ValidString(s) || strings.ContainsRune(s, 0) {
			t.Fatalf("accepted activity with %s %q: not storable", name, s)
		}
	}
}

// FuzzAPIBody feeds the body of POST /api/activities through the API's
// checks (UTF-8, decoding, each activity's fields): no panic, and what is
// accepted can be stored.
func FuzzAPIBody(f *testing.F) {
	for _, seed := range []string{
		goodActivity,
		`[` + goodActivity + `,` + goodActivity + `]`,
		goodActivity + "\n" + strings.Replace(goodActivity, "E001", "E002", 1) + "\n",
		strings.Replace(goodActivity, "Footing", `Foot\u0000ing`, 1),
		strings.Replace(goodActivity, "Footing", "V\xe9lo", 1),
		`{"id":9007199254740993,"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"vélo","distance_m":1e3,"elapsed_s":60}`,
		`{"employee_id":"E1","start_time":"2025-06-01T07:30:00.123456789-02:00","sport_type":"Walk","elapsed_s":1e9}`,
		`[]`, `{}`, `null`, `[{"distance_m":"NaN"}]`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		if invalidUTF8(body) >= 0 {
			return // 400
		}
		ins, _, fe := decode(body, DefaultMaxBatch)
		if fe != nil {
			if fe.Msg == "" {
				t.Fatalf("refused without a message: %+v", fe)
			}
			return
		}
		for _, in := range ins {
			a, fe := in.activity(0, testNow)
			if fe != nil {
				if fe.Msg == "" {
					t.Fatalf("refused without a message: %+v", fe)
				}
				continue
			}
			storable(t, a)
			if !IsAPIID(a.ID) || a.Source != activities.SourceAPI {
				t.Fatalf("accepted activity with id %d, source %q", a.ID, a.Source)
			}
		}
	})
}

// FuzzStravaEvent feeds a webhook event through the receiver's decoding
// and checks, as POST /strava/webhook does.
func FuzzStravaEvent(f *testing.F) {
	for _, seed := range []string{
		// Strava's documentation (Webhook Events API): an activity's
		// title changed, an athlete deauthorised the application.
		`{"aspect_type":"update","event_time":1516126040,"object_id":1360128428,"object_type":"activity","owner_id":134815,"subscription_id":120475,"updates":{"title":"Messy"}}`,
		`{"aspect_type":"update","event_time":1516126040,"object_id":134815,"object_type":"athlete","owner_id":134815,"subscription_id":120475,"updates":{"authorized":"false"}}`,
		`{"aspect_type":"create","event_time":1549560669,"object_id":2120517859,"object_type":"activity","owner_id":5479,"subscription_id":1}`,
		`{"aspect_type":"delete","event_time":1,"object_id":1,"object_type":"activity","owner_id":1,"subscription_id":1,"updates":null}`,
		`{"object_type":"activity","object_id":1,"aspect_type":"create","owner_id":1,"updates":{"title":"a\u0000b"}}`,
		`{"object_type":"activity","object_id":-1,"aspect_type":"create","owner_id":1,"updates":[]}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		var e Event
		if err := json.NewDecoder(bytes.NewReader(data)).Decode(&e); err != nil {
			return
		}
		if fe := e.validate(); fe != nil {
			if fe.Msg == "" {
				t.Fatalf("refused without a message: %+v", fe)
			}
			return
		}
		if e.ObjectID <= 0 || e.OwnerID <= 0 || e.key() == "" {
			t.Fatalf("accepted %+v", e)
		}
		if len(e.Updates) > 0 && string(e.Updates) != "null" && !json.Valid(e.Updates) {
			t.Fatalf("accepted updates %q, not JSON", e.Updates)
		}
	})
}

// FuzzStravaActivity feeds Strava's answer to GET /api/v3/activities/{id}
// through the worker's decoding, mapping and checks: no panic, and what
// is accepted can be stored.
func FuzzStravaActivity(f *testing.F) {
	for _, seed := range []string{
		// Strava's documentation (getActivityById, DetailedActivity),
		// shortened.
		`{"id":12345678987654321,"resource_state":3,"external_id":"garmin_push_12345678987654321","upload_id":98765432123456789,` +
			`"athlete":{"id":134815,"resource_state":1},"name":"Happy Friday","distance":28099,"moving_time":4207,"elapsed_time":4410,` +
			`"total_elevation_gain":516,"type":"Ride","sport_type":"MountainBikeRide","start_date":"2018-02-16T14:52:54Z",` +
			`"start_date_local":"2018-02-16T06:52:54Z","timezone":"(GMT-08:00) America/Los_Angeles","utc_offset":-28800}`,
		`{"id":1,"name":"Morning Run \u0000","distance":10000,"elapsed_time":3000,"type":"Run","start_date":"2025-06-01T05:30:00Z","athlete":{"id":1}}`,
		`{"id":1,"name":"V\u00e9lo \ud83d\udeb2","distance":1e308,"elapsed_time":-1,"sport_type":"Quidditch","start_date":"0001-01-01T00:00:00Z"}`,
		`{"id":1,"name":"` + strings.Repeat("é", 600) + `","distance":5000,"elapsed_time":1800,"sport_type":"Walk","start_date":"2025-06-01T05:30:00Z"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		resp := &http.Response{StatusCode: http.StatusOK, Body: io.NopCloser(bytes.NewReader(data))}
		sa, err := activityAnswer(resp, data, 1)
		if err != nil {
			return
		}
		a, _ := sa.activity(StravaIDBase+1, "E001")
		if Check(a, testNow) != nil {
			return
		}
		storable(t, a)
		if utf8.RuneCountInString(a.Comment) > MaxComment {
			t.Fatalf("accepted a %d-character comment", utf8.RuneCountInString(a.Comment))
		}
	})
}
