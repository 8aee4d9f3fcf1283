package openf1

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test credentials of the fake's /token.
const (
	testUser     = "fan@example.com"
	testPassword = "s3cret-pa55word"
)

// fakeOpenF1 serves fixtures the way api.openf1.org does: JSON arrays,
// filters parsed from the query string as OpenF1 parses them, 404
// {"detail":"No results found."} for no rows, POST /token.
type fakeOpenF1 struct {
	t   testing.TB
	srv *httptest.Server

	mu   sync.Mutex
	data map[string][]map[string]any // endpoint → rows
	reqs []fakeRequest
	// hook, when set, may answer a request itself (to inject errors).
	hook func(w http.ResponseWriter, r *http.Request, n int) bool
	// requireAuth makes /v1 answer 401 without a valid bearer token.
	requireAuth bool
	tokens      map[string]bool // valid tokens
	issued      int
	expiresIn   any // expires_in sent by /token
}

type fakeRequest struct {
	Method   string
	Path     string
	RawQuery string
	Auth     string
	Form     map[string]string
	CType    string
}

func newFake(t testing.TB, dir string) *fakeOpenF1 {
	t.Helper()
	f := &fakeOpenF1{t: t, data: map[string][]map[string]any{}, tokens: map[string]bool{}, expiresIn: "3600"}
	if dir != "" {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*.json"))
		if err != nil || len(files) == 0 {
			t.Fatalf("fixtures %s: %v (%d files)", dir, err, len(files))
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			f.data[strings.TrimSuffix(filepath.Base(file), ".json")] = decodeRows(t, b)
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

// baseURL is the fake's /v1.
func (f *fakeOpenF1) baseURL() string { return f.srv.URL + "/v1" }

// set replaces an endpoint's rows with JSON.
func (f *fakeOpenF1) set(endpoint, rowsJSON string) {
	rows := decodeRows(f.t, []byte(rowsJSON))
	f.mu.Lock()
	f.data[endpoint] = rows
	f.mu.Unlock()
}

// add appends rows (JSON array) to an endpoint.
func (f *fakeOpenF1) add(endpoint, rowsJSON string) {
	rows := decodeRows(f.t, []byte(rowsJSON))
	f.mu.Lock()
	f.data[endpoint] = append(f.data[endpoint], rows...)
	f.mu.Unlock()
}

// edit changes the rows of endpoint for which match is true.
func (f *fakeOpenF1) edit(endpoint string, match func(map[string]any) bool, change func(map[string]any)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, r := range f.data[endpoint] {
		if match(r) {
			change(r)
		}
	}
}

func (f *fakeOpenF1) requests() []fakeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]fakeRequest(nil), f.reqs...)
}

// count returns how many requests were sent to path.
func (f *fakeOpenF1) count(path string) int {
	n := 0
	for _, r := range f.requests() {
		if r.Path == path {
			n++
		}
	}
	return n
}

func (f *fakeOpenF1) serve(w http.ResponseWriter, r *http.Request) {
	rec := fakeRequest{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
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
	hook := f.hook
	f.mu.Unlock()
	if hook != nil && hook(w, r, n) {
		return
	}

	if r.URL.Path == "/token" {
		f.serveToken(w, rec)
		return
	}
	endpoint, ok := strings.CutPrefix(r.URL.Path, "/v1/")
	if !ok || r.Method != http.MethodGet {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.requireAuth && !f.tokens[strings.TrimPrefix(rec.Auth, "Bearer ")] {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Not authenticated"})
		return
	}
	rows, known := f.data[endpoint]
	if !known {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "No results found."})
		return
	}
	conds, err := parseOpenF1Query(r)
	if err != nil {
		writeJSON(w, http.StatusUnprocessableEntity, map[string]string{"detail": err.Error()})
		return
	}
	var out []map[string]any
	for _, row := range rows {
		if f.matches(row, conds) {
			out = append(out, row)
		}
	}
	if len(out) == 0 {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "No results found."})
		return
	}
	writeJSON(w, http.StatusOK, out)
}

func (f *fakeOpenF1) serveToken(w http.ResponseWriter, rec fakeRequest) {
	if rec.CType != "application/x-www-form-urlencoded" || rec.Form["username"] != testUser || rec.Form["password"] != testPassword {
		writeJSON(w, http.StatusUnauthorized, map[string]string{"detail": "Incorrect username or password"})
		return
	}
	f.mu.Lock()
	f.issued++
	tok := "tok-" + strconv.Itoa(f.issued)
	f.tokens[tok] = true
	exp := f.expiresIn
	f.mu.Unlock()
	writeJSON(w, http.StatusOK, map[string]any{"access_token": tok, "expires_in": exp, "token_type": "bearer"})
}

// revoke invalidates every token issued so far.
func (f *fakeOpenF1) revoke() {
	f.mu.Lock()
	f.tokens = map[string]bool{}
	f.mu.Unlock()
}

func writeJSON(w http.ResponseWriter, status int, v any) {
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
				return nil, fmt.Errorf("No valid operator found in `%s`.", s)
			}
		}
	}
	return out, nil
}

func (f *fakeOpenF1) matches(row map[string]any, conds []cond) bool {
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
func (f *fakeOpenF1) latest(field string) string {
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

// fakeClock is a settable clock; its sleep advances it.
type fakeClock struct {
	mu     sync.Mutex
	t      time.Time
	sleeps []time.Duration
}

func newFakeClock(t time.Time) *fakeClock { return &fakeClock{t: t} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Set(t time.Time) {
	c.mu.Lock()
	c.t = t
	c.mu.Unlock()
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

func (c *fakeClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	c.sleeps = append(c.sleeps, d)
	c.t = c.t.Add(d)
	c.mu.Unlock()
	return ctx.Err()
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]time.Duration(nil), c.sleeps...)
}

// testClient returns a client of f whose clock is clk.
func testClient(f *fakeOpenF1, clk *fakeClock, cfg Config) *Client {
	cfg.BaseURL = f.baseURL()
	c := New(cfg)
	if clk != nil {
		c.now, c.sleep = clk.Now, clk.Sleep
	}
	return c
}
