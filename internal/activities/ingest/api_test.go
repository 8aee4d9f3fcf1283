package ingest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/web"
)

const testToken = "test-token-0123456789abcdef"

var testNow = time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)

// newTestAPI serves the API on a fresh store of dialect d.
func newTestAPI(t *testing.T, d store.Dialect, token string) (*httptest.Server, *store.Store) {
	t.Helper()
	s := storetest.Open(t, d)
	addEmployees(t, s, "E001", "E002", "E003", "E1")
	mux := http.NewServeMux()
	NewAPI(s, APIConfig{Token: token, Now: func() time.Time { return testNow }, MaxBody: 4096, MaxBatch: 10}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, s
}

// addEmployees puts employees with ids in the HR register of s.
func addEmployees(t *testing.T, s *store.Store, ids ...string) {
	t.Helper()
	ctx := context.Background()
	if err := hr.Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO hr_employees (employee_id, last_name, first_name, birth_date,
			business_unit, hire_date, gross_salary, contract_type, paid_leave_days, home_address, commute_mode, imported_at, updated_at)
			VALUES ($1, 'Test', 'Test', '1990-01-01', 'Ventes', '2020-01-01', 40000, 'CDI', 25, '1 rue de Test', 'car', $2, $2)`, id, testNow); err != nil {
			t.Fatal(err)
		}
	}
}

// call sends a request and decodes the JSON answer into out (if not nil).
func call(t *testing.T, method, url, token, contentType, body string, out any) int {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil && resp.StatusCode != http.StatusNoContent {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: decode the answer: %v", method, url, err)
		}
	}
	return resp.StatusCode
}

const goodActivity = `{"employee_id":"E001","start_time":"2025-06-01T07:30:00+02:00","sport_type":"Run","distance_m":10000,"elapsed_s":3000,"comment":"Footing"}`

func TestAPIAuth(t *testing.T) {
	tests := []struct {
		name       string
		configured string // the token podium has
		header     string // the Authorization header sent
		want       int
	}{
		{"no token configured", "", "Bearer " + testToken, http.StatusServiceUnavailable},
		{"missing header", testToken, "", http.StatusUnauthorized},
		{"wrong token", testToken, "Bearer not-the-token-at-all-xx", http.StatusUnauthorized},
		{"token prefix", testToken, "Bearer " + testToken[:10], http.StatusUnauthorized},
		{"basic scheme", testToken, "Basic " + testToken, http.StatusUnauthorized},
		{"right token", testToken, "Bearer " + testToken, http.StatusCreated},
		{"right token, lower-case scheme", testToken, "bearer " + testToken, http.StatusCreated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, s := newTestAPI(t, store.SQLite, tt.configured)
			req, _ := http.NewRequest(http.MethodPost, srv.URL+"/api/activities", strings.NewReader(goodActivity))
			req.Header.Set("Content-Type", "application/json")
			if tt.header != "" {
				req.Header.Set("Authorization", tt.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body web.Problem
			_ = json.NewDecoder(resp.Body).Decode(&body)
			if resp.StatusCode != tt.want {
				t.Fatalf("status %d, want %d (%+v)", resp.StatusCode, tt.want, body)
			}
			switch tt.want {
			case http.StatusServiceUnavailable:
				if !strings.Contains(body.Detail, "PODIUM_ACTIVITIES_API_TOKEN") {
					t.Errorf("503 says %q, want how to set the token", body.Detail)
				}
			case http.StatusUnauthorized:
				if resp.Header.Get("WWW-Authenticate") == "" {
					t.Error("401 without WWW-Authenticate")
				}
				if n := countRows(t, s); n != 0 {
					t.Errorf("%d rows written by an unauthorized request", n)
				}
			}
		})
	}
}

func countRows(t *testing.T, s *store.Store) int {
	t.Helper()
	if err := activities.Migrate(context.Background(), s); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.DB().QueryRow(`SELECT COUNT(*) FROM ` + activities.Table).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestAPIValidation(t *testing.T) {
	srv, s := newTestAPI(t, store.SQLite, testToken)
	tests := []struct {
		name        string
		contentType string
		body        string
		want        int
		field       string
	}{
		{"form content type", "application/x-www-form-urlencoded", goodActivity, http.StatusUnsupportedMediaType, ""},
		{"no content type", "", goodActivity, http.StatusUnsupportedMediaType, ""},
		{"too large", "application/json", `{"employee_id":"` + strings.Repeat("x", 5000) + `"}`, http.StatusRequestEntityTooLarge, ""},
		{"empty body", "application/json", "  ", http.StatusBadRequest, ""},
		{"not JSON", "application/json", "{employee", http.StatusBadRequest, ""},
		{"empty employee", "application/json", `{"employee_id":" ","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","elapsed_s":60}`, http.StatusUnprocessableEntity, "employee_id"},
		{"missing start", "application/json", `{"employee_id":"E1","sport_type":"Run","elapsed_s":60}`, http.StatusUnprocessableEntity, "start_time"},
		{"start not RFC 3339", "application/json", `{"employee_id":"E1","start_time":"01/06/2025 07:30","sport_type":"Run","elapsed_s":60}`, http.StatusUnprocessableEntity, "start_time"},
		{"start without zone", "application/json", `{"employee_id":"E1","start_time":"2025-06-01T07:30:00","sport_type":"Run","elapsed_s":60}`, http.StatusUnprocessableEntity, "start_time"},
		{"start in the future", "application/json", `{"employee_id":"E1","start_time":"2025-06-11T07:30:00Z","sport_type":"Run","elapsed_s":60}`, http.StatusUnprocessableEntity, "start_time"},
		{"unknown sport", "application/json", `{"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"Quidditch","elapsed_s":60}`, http.StatusUnprocessableEntity, "sport_type"},
		{"misspelt sport", "application/json", `{"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"Runing","elapsed_s":60}`, http.StatusUnprocessableEntity, "sport_type"},
		{"negative distance", "application/json", `{"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","distance_m":-1,"elapsed_s":60}`, http.StatusUnprocessableEntity, "distance_m"},
		{"huge distance", "application/json", `{"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"Ride","distance_m":2000000,"elapsed_s":600000}`, http.StatusUnprocessableEntity, "distance_m"},
		{"too fast", "application/json", `{"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","distance_m":42000,"elapsed_s":600}`, http.StatusUnprocessableEntity, "distance_m"},
		{"distance as text", "application/json", `{"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","distance_m":"10km","elapsed_s":60}`, http.StatusUnprocessableEntity, "distance_m"},
		{"zero elapsed", "application/json", `{"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","elapsed_s":0}`, http.StatusUnprocessableEntity, "elapsed_s"},
		{"missing elapsed", "application/json", `{"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"Run"}`, http.StatusUnprocessableEntity, "elapsed_s"},
		{"fractional elapsed", "application/json", `{"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","elapsed_s":60.5}`, http.StatusUnprocessableEntity, "elapsed_s"},
		{"unknown field", "application/json", `{"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","elapsed_s":60,"distance":5}`, http.StatusUnprocessableEntity, "distance"},
		{"other source", "application/json", `{"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","elapsed_s":60,"source":"strava"}`, http.StatusUnprocessableEntity, "source"},
		{"generator id", "application/json", `{"id":2025000000001,"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","elapsed_s":60}`, http.StatusUnprocessableEntity, "id"},
		{"strava id", "application/json", `{"id":2305843009213693953,"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","elapsed_s":60}`, http.StatusUnprocessableEntity, "id"},
		{"bad one in an array", "application/json", `[` + goodActivity + `,{"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","elapsed_s":-5}]`, http.StatusUnprocessableEntity, "elapsed_s"},
		{"too many", "application/json", `[` + strings.TrimSuffix(strings.Repeat(`{},`, 11), ",") + `]`, http.StatusBadRequest, ""},
		{"employee not in the HR register", "application/json", `{"employee_id":"E999","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","elapsed_s":60}`, http.StatusUnprocessableEntity, "employee_id"},
		{"unknown employee in an array", "application/json", `[` + goodActivity + `,{"employee_id":"E999","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","elapsed_s":60}]`, http.StatusUnprocessableEntity, "employee_id"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var body web.Problem
			got := call(t, http.MethodPost, srv.URL+"/api/activities", testToken, tt.contentType, tt.body, &body)
			if got != tt.want || body.Field != tt.field || body.Detail == "" {
				t.Errorf("status %d field %q error %q, want status %d field %q and a message", got, body.Field, body.Detail, tt.want, tt.field)
			}
		})
	}
	if n := countRows(t, s); n != 0 {
		t.Errorf("%d rows written by refused requests", n)
	}
	// The index of the faulty activity of an array.
	var body web.Problem
	call(t, http.MethodPost, srv.URL+"/api/activities", testToken, "application/json", `[`+goodActivity+`,{"employee_id":""}]`, &body)
	if body.Index == nil || *body.Index != 1 {
		t.Errorf("index %v, want 1", body.Index)
	}
}

func TestAPIStoresActivities(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		srv, s := newTestAPI(t, d, testToken)
		url := srv.URL + "/api/activities"

		var got activities.Activity
		if code := call(t, http.MethodPost, url, testToken, "application/json; charset=utf-8", goodActivity, &got); code != http.StatusCreated {
			t.Fatalf("POST: status %d", code)
		}
		wantStart := time.Date(2025, 6, 1, 5, 30, 0, 0, time.UTC)
		want := activities.Activity{ID: APIID("E001", wantStart, "Run"), EmployeeID: "E001", StartTime: wantStart, SportType: "Run",
			DistanceM: 10000, ElapsedS: 3000, Comment: "Footing", Source: activities.SourceAPI}
		got.UpdatedAt = time.Time{}
		if got != want {
			t.Fatalf("POST answered\n%+v, want\n%+v", got, want)
		}
		if !IsAPIID(got.ID) {
			t.Errorf("id %d outside the API's range", got.ID)
		}
		row, err := read(context.Background(), s.DB(), got.ID)
		if err != nil {
			t.Fatalf("the activity is not in %s: %v", activities.Table, err)
		}
		row.UpdatedAt = time.Time{}
		if row != want {
			t.Errorf("stored\n%+v, want\n%+v", row, want)
		}

		// Posting it again (a client's retry) updates the same row.
		if code := call(t, http.MethodPost, url, testToken, "application/json", strings.Replace(goodActivity, "10000", "10500", 1), &got); code != http.StatusCreated || got.ID != want.ID || got.DistanceM != 10500 {
			t.Errorf("POST again: status %d, %+v", code, got)
		}
		if n := countRows(t, s); n != 1 {
			t.Errorf("%d rows after posting the same activity twice, want 1", n)
		}

		// A batch as NDJSON, with a sport named as the HR register does.
		ndjson := `{"employee_id":"E002","start_time":"2025-06-02T18:00:00Z","sport_type":"vélo","distance_m":25000,"elapsed_s":3600}
{"employee_id":"E003","start_time":"2025-06-02T12:00:00Z","sport_type":"yoga","elapsed_s":3600}
`
		var many []activities.Activity
		if code := call(t, http.MethodPost, url, testToken, "application/x-ndjson", ndjson, &many); code != http.StatusCreated || len(many) != 2 {
			t.Fatalf("POST NDJSON: status %d, %+v", code, many)
		}
		if many[0].SportType != "Ride" || many[1].SportType != "Yoga" {
			t.Errorf("sports %q and %q, want Ride and Yoga", many[0].SportType, many[1].SportType)
		}
		// The same id twice in an array: one row, the last one wins.
		arr := `[` + goodActivity + `,` + strings.Replace(goodActivity, "Footing", "Footing 2", 1) + `]`
		if code := call(t, http.MethodPost, url, testToken, "application/json", arr, &many); code != http.StatusCreated || many[1].Comment != "Footing 2" {
			t.Fatalf("POST array: status %d, %+v", code, many)
		}
		if n := countRows(t, s); n != 3 {
			t.Errorf("%d rows, want 3", n)
		}

		// PUT replaces the API's activity: 200; a new id: 201.
		one := url + "/" + itoa(want.ID)
		if code := call(t, http.MethodPut, one, testToken, "application/json", strings.Replace(goodActivity, `"Run"`, `"TrailRun"`, 1), &got); code != http.StatusOK || got.SportType != "Run" || got.ID != want.ID {
			t.Errorf("PUT: status %d, %+v", code, got)
		}
		newID := APIIDBase + 42
		if code := call(t, http.MethodPut, url+"/"+itoa(newID), testToken, "application/json", goodActivity, &got); code != http.StatusCreated || got.ID != newID {
			t.Errorf("PUT new: status %d, %+v", code, got)
		}
		var e web.Problem
		if code := call(t, http.MethodPut, url+"/"+itoa(newID), testToken, "application/json", `{"id":1,`+goodActivity[1:], &e); code != http.StatusUnprocessableEntity || e.Field != "id" {
			t.Errorf("PUT with another id in the body: status %d, %+v", code, e)
		}
		if code := call(t, http.MethodGet, one, testToken, "", "", &got); code != http.StatusOK || got.ID != want.ID {
			t.Errorf("GET: status %d, %+v", code, got)
		}

		// DELETE: only the API's own activities.
		gen := activities.Activity{ID: 2025_000_000_001, EmployeeID: "E009", StartTime: wantStart, SportType: "Run", ElapsedS: 60, Source: activities.SourceGenerator}
		if err := activities.Upsert(context.Background(), s.DB(), gen); err != nil {
			t.Fatal(err)
		}
		if code := call(t, http.MethodDelete, url+"/"+itoa(gen.ID), testToken, "", "", &e); code != http.StatusConflict {
			t.Errorf("DELETE of a generator activity: status %d, want 409", code)
		}
		if code := call(t, http.MethodDelete, one, testToken, "", "", nil); code != http.StatusNoContent {
			t.Errorf("DELETE: status %d, want 204", code)
		}
		if _, err := read(context.Background(), s.DB(), want.ID); err == nil {
			t.Error("the deleted activity is still there")
		}
		if code := call(t, http.MethodDelete, one, testToken, "", "", &e); code != http.StatusNotFound {
			t.Errorf("DELETE again: status %d, want 404", code)
		}
		if code := call(t, http.MethodDelete, url+"/abc", testToken, "", "", &e); code != http.StatusBadRequest {
			t.Errorf("DELETE abc: status %d, want 400", code)
		}
	})
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestAPIProblems: every error of the API is an RFC 9457 problem, and an
// employee the HR register does not have is a 422 naming the field.
func TestAPIProblems(t *testing.T) {
	srv, _ := newTestAPI(t, store.SQLite, testToken)
	for _, tc := range []struct {
		name, method, path, token, body string
		status                          int
		field, detail                   string
	}{
		{"unknown employee", http.MethodPost, "/api/activities", testToken,
			`{"employee_id":"E999","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","elapsed_s":60}`,
			http.StatusUnprocessableEntity, "employee_id", `employee "E999" is not in the HR register`},
		{"invalid field", http.MethodPost, "/api/activities", testToken,
			`{"employee_id":"E1","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","elapsed_s":0}`,
			http.StatusUnprocessableEntity, "elapsed_s", ""},
		{"unknown employee on PUT", http.MethodPut, "/api/activities/" + itoa(APIIDBase+7), testToken,
			`{"employee_id":"E999","start_time":"2025-06-01T07:30:00Z","sport_type":"Run","elapsed_s":60}`,
			http.StatusUnprocessableEntity, "employee_id", "HR register"},
		{"no token", http.MethodPost, "/api/activities", "", goodActivity, http.StatusUnauthorized, "", "missing token"},
		{"malformed JSON", http.MethodPost, "/api/activities", testToken, "{", http.StatusBadRequest, "", "JSON"},
		{"no such activity", http.MethodGet, "/api/activities/42", testToken, "", http.StatusNotFound, "id", "no activity 42"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, strings.NewReader(tc.body))
			req.Header.Set("Content-Type", "application/json")
			if tc.token != "" {
				req.Header.Set("Authorization", "Bearer "+tc.token)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var p map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&p); err != nil {
				t.Fatal(err)
			}
			if ct := resp.Header.Get("Content-Type"); ct != web.ProblemContentType {
				t.Errorf("Content-Type %q, want %s", ct, web.ProblemContentType)
			}
			if resp.StatusCode != tc.status || p["status"] != float64(tc.status) || p["type"] != "about:blank" ||
				p["title"] != http.StatusText(tc.status) {
				t.Errorf("status %d, problem %v; want %d", resp.StatusCode, p, tc.status)
			}
			if f, _ := p["field"].(string); f != tc.field {
				t.Errorf("field %q, want %q", f, tc.field)
			}
			if d, _ := p["detail"].(string); d == "" || !strings.Contains(d, tc.detail) {
				t.Errorf("detail %q, want it to say %q", d, tc.detail)
			}
		})
	}
}
