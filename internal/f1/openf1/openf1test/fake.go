// Package openf1test serves OpenF1 to tests: a fake of the REST API that
// answers as api.openf1.org does (JSON arrays, OpenF1's filter syntax, 404
// "No results found.", POST /token), fixtures in the shapes of OpenF1's
// documentation, and for the MQTT feed a publisher playing OpenF1 and a
// proxy a test can cut.
package openf1test

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Credentials the fake's /token accepts.
const (
	User     = "fan@example.com"
	Password = "s3cret-pa55word"
)

// The Bahrain 2023 fixtures (see testdata/README.md).
const (
	// Bahrain is the fixture directory.
	Bahrain = "bahrain2023"
	// BahrainRace is the race's session_key.
	BahrainRace = 7953
)

//go:embed testdata
var fixtures embed.FS

// Fixture returns a fixture file, e.g. Fixture(t, Bahrain, "mqtt.ndjson").
func Fixture(t testing.TB, dir, name string) []byte {
	t.Helper()
	b, err := fs.ReadFile(fixtures, path.Join("testdata", dir, name))
	if err != nil {
		t.Fatalf("fixture %s/%s: %v", dir, name, err)
	}
	return b
}

// Fake serves fixtures the way api.openf1.org does.
type Fake struct {
	t   testing.TB
	srv *httptest.Server

	mu   sync.Mutex
	data map[string][]map[string]any // endpoint → rows
	reqs []Request
	// Hook, when set, may answer a request itself (to inject errors); n
	// counts the requests so far. Set it before the fake is used.
	Hook func(w http.ResponseWriter, r *http.Request, n int) bool
	// RequireAuth makes /v1 answer 401 without a valid bearer token.
	RequireAuth bool
	// ExpiresIn is the expires_in /token sends, default "3600" (a string,
	// as OpenF1 sends it).
	ExpiresIn any
	tokens    map[string]bool
	issued    int
	down      bool
}

// Request is a request the fake received.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Auth     string
	Form     map[string]string
	CType    string
}

// NewFake serves the JSON fixtures of dir (one file per endpoint), or
// nothing when dir is "".
func NewFake(t testing.TB, dir string) *Fake {
	t.Helper()
	f := &Fake{t: t, data: map[string][]map[string]any{}, tokens: map[string]bool{}, ExpiresIn: "3600"}
	if dir != "" {
		files, err := fs.Glob(fixtures, path.Join("testdata", dir, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("fixtures %s: %v (%d files)", dir, err, len(files))
		}
		for _, file := range files {
			b, err := fs.ReadFile(fixtures, file)
			if err != nil {
				t.Fatal(err)
			}
			f.data[strings.TrimSuffix(path.Base(file), ".json")] = decodeRows(t, b)
		}
	}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func decodeRows(t testing.TB, b []byte) []map[string]any {
	t.Helper()
	var rows []map[string]any
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&rows); err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return rows
}

// BaseURL is the fake's /v1.
func (f *Fake) BaseURL() string { return f.srv.URL + "/v1" }

// Set replaces an endpoint's rows with JSON (an array).
func (f *Fake) Set(endpoint, rowsJSON string) {
	rows := decodeRows(f.t, []byte(rowsJSON))
	f.mu.Lock()
	f.data[endpoint] = rows
	f.mu.Unlock()
}

// Add appends rows (a JSON array) to an endpoint.
func (f *Fake) Add(endpoint, rowsJSON string) {
	rows := decodeRows(f.t, []byte(rowsJSON))
	f.mu.Lock()
	f.data[endpoint] = append(f.data[endpoint], rows...)
	f.mu.Unlock()
}

// Edit changes the rows of endpoint for which match is true.
func (f *Fake) Edit(endpoint string, match func(map[string]any) bool, change func(map[string]any)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.data[endpoint] {
		if match(r) {
			change(r)
		}
	}
}

// Remove deletes the rows of endpoint for which match is true and returns
// them as a JSON array.
func (f *Fake) Remove(endpoint string, match func(map[string]any) bool) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var keep, gone []map[string]any
	for _, r := range f.data[endpoint] {
		if match(r) {
			gone = append(gone, r)
		} else {
			keep = append(keep, r)
		}
	}
	f.data[endpoint] = keep
	b, _ := json.Marshal(gone)
	return string(b)
}

// Drop forgets endpoints: they answer "No results found." (a session
// before its data exists).
func (f *Fake) Drop(endpoints ...string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, e := range endpoints {
		delete(f.data, e)
	}
}

// Row matches the row of a car (and of a lap, when lap is not 0).
func Row(car, lap int) func(map[string]any) bool {
	return func(r map[string]any) bool {
		return r["driver_number"] == json.Number(strconv.Itoa(car)) &&
			(lap == 0 || r["lap_number"] == json.Number(strconv.Itoa(lap)))
	}
}

// SetDown makes every request fail with 503, as OpenF1 does when it is
// overloaded.
func (f *Fake) SetDown(down bool) {
	f.mu.Lock()
	f.down = down
	f.mu.Unlock()
}

// Requests returns the requests received so far.
func (f *Fake) Requests() []Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Request(nil), f.reqs...)
}

// Count returns how many requests were sent to path.
func (f *Fake) Count(path string) int {
	n := 0
	for _, r := range f.Requests() {
		if r.Path == path {
			n++
		}
	}
	return n
}

// Issued returns how many access tokens /token issued.
func (f *Fake) Issued() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.issued
}

// Revoke invalidates every token issued so far.
func (f *Fake) Revoke() {
	f.mu.Lock()
	f.tokens = map[string]bool{}
	f.mu.Unlock()
}

func (f *Fake) serve(w http.ResponseWriter, r *http.Request) {
	rec := Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Auth: r.Header.Get("Authorization"), CType: r.Header.Get("Content-Type")}
	if r.Method == http.MethodPost {
		if err := r.ParseForm(); err == nil {
			rec.Form = map[string]string{}
			for k := range r.PostForm {
				rec.Form[k] = r.PostForm.Get(k)
			}
		}
	}
	f.mu.Lock()
	f.reqs = append(f.reqs, rec)
	n := len(f.reqs)
	hook, down := f.Hook, f.down
	f.mu.Unlock()
	if hook != nil && hook(w, r, n) {
		return
	}
	if down {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(http.StatusServiceUnavailable)
		fmt.Fprint(w, "<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>")
		return
	}
	if r.URL.Path == "/token" {
		f.serveToken(w, rec)
		return
	}
	endpoint, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok || r.Method != http.MethodGet {
		WriteJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.RequireAuth && !f.tokens[strings.TrimPrefix(rec.Auth, "Bearer ")] {
		WriteJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Not authenticated"})
		return
	}
	rows, known := f.data[endpoint]
	if !known {
		WriteJSON(w, http.StatusNotFound, map[string]string{"detail": "No results found."})
		return
	}
	conds, err := parseOpenF1Query(r)
	if err != nil {
		WriteJSON(w, http.StatusUnprocessableEntity, map[string]string{"detail": err.Error()})
		return
	}
	var out []map[string]any
	for _, row := range rows {
		if f.matches(row, conds) {
			out = append(out, row)
		}
	}
	if len(out) == 0 {
		WriteJSON(w, http.StatusNotFound, map[string]string{"detail": "No results found."})
		return
	}
	WriteJSON(w, http.StatusOK, out)
}

func (f *Fake) serveToken(w http.ResponseWriter, rec Request) {
	if rec.CType != "application/x-www-form-urlencoded" || rec.Form["username"] != User || rec.Form["password"] != Password {
		WriteJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Incorrect username or password"})
		return
	}
	f.mu.Lock()
	f.issued++
	tok := "tok-" + strconv.Itoa(f.issued)
	f.tokens[tok] = true
	exp := f.ExpiresIn
	f.mu.Unlock()
	WriteJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": exp, "token_type": "bearer"})
}

// WriteJSON writes v as a JSON response with status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// cond is one parsed filter.
type cond struct{ field, op, value string }

// parseOpenF1Query reads filters as OpenF1 does (query_params.py): each
// parameter becomes "name=value", or the bare name when the value is empty,
// and is split at the first operator among >=, <=, =, >, <.
func parseOpenF1Query(r *http.Request) ([]cond, error) {
	var out []cond
	for k, vs := range r.URL.Query() {
		for _, v := range vs {
			s := k
			if v != "" {
				s = k + "=" + v
			}
			found := false
			for _, op := range []string{">=", "<=", "=", ">", "<"} {
				if field, value, ok := strings.Cut(s, op); ok {
					out = append(out, cond{strings.ToLower(field), op, value})
					found = true
					break
				}
			}
			if !found {
				//lint:ignore ST1005 OpenF1's own message, as it answers it
				return nil, fmt.Errorf("No valid operator found in `%s`.", s)
			}
		}
	}
	return out, nil
}

func (f *Fake) matches(row map[string]any, conds []cond) bool {
	for _, c := range conds {
		value := c.value
		if value == "latest" && (c.field == "session_key" || c.field == "meeting_key") {
			value = f.latest(c.field)
		}
		if !compare(row[c.field], c.op, value) {
			return false
		}
	}
	return true
}

// latest is the key of the session (or meeting) that starts last.
func (f *Fake) latest(field string) string {
	best, key := time.Time{}, ""
	for _, s := range f.data["sessions"] {
		t, _ := parseFakeTime(fmt.Sprint(s["date_start"]))
		if t.After(best) {
			best, key = t, fmt.Sprint(s[field])
		}
	}
	return key
}

func compare(v any, op, want string) bool {
	var c int
	switch v := v.(type) {
	case nil:
		return false
	case json.Number:
		a, err1 := v.Float64()
		b, err2 := strconv.ParseFloat(want, 64)
		if err1 != nil || err2 != nil {
			return op == "=" && v.String() == want
		}
		c = cmpFloat(a, b)
	case bool:
		return op == "=" && strconv.FormatBool(v) == strings.ToLower(want)
	case string:
		ta, err1 := parseFakeTime(v)
		tb, err2 := parseFakeTime(want)
		if err1 == nil && err2 == nil {
			c = ta.Compare(tb)
		} else {
			c = strings.Compare(v, want)
		}
	default:
		return false
	}
	switch op {
	case "=":
		return c == 0
	case ">":
		return c > 0
	case ">=":
		return c >= 0
	case "<":
		return c < 0
	case "<=":
		return c <= 0
	}
	return false
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func parseFakeTime(s string) (time.Time, error) {
	for _, l := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999"} {
		if t, err := time.Parse(l, s); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("not a time: %q", s)
}

// Clock is a settable clock; its Sleep advances it.
type Clock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

// NewClock returns a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Set sets the clock.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// Sleep records d and advances the clock by it.
func (c *Clock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

// Sleeps returns the durations Sleep was called with.
func (c *Clock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// Logs collects a test's logs; they are printed if the test fails.
type Logs struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// NewLogger returns a debug logger writing to Logs, printed when t fails.
func NewLogger(t testing.TB) (*slog.Logger, *Logs) {
	l := &Logs{}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", l.String())
		}
	})
	return slog.New(slog.NewTextHandler(l, &slog.HandlerOptions{Level: slog.LevelDebug})), l
}

// Write implements io.Writer.
func (l *Logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// String returns what was logged.
func (l *Logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
