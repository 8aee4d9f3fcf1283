package ingest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/logging"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/web"
)

// Defaults of APIConfig.
const (
	DefaultMaxBody  = 1 << 20 // 1 MiB
	DefaultMaxBatch = 1000
)

// APIConfig configures the API.
type APIConfig struct {
	// Token is the bearer token clients must send. It is a secret, never
	// logged. Empty disables the API: every request is answered 503.
	Token string
	// MaxBody caps a request body, in bytes; default DefaultMaxBody.
	MaxBody int64
	// MaxBatch caps the activities of one request; default DefaultMaxBatch.
	MaxBatch int
	// Logger; nil discards logs.
	Logger *slog.Logger
	// Now returns the current time; default time.Now (tests set it).
	Now func() time.Time
	// AuthLogEvery is the least time between two log lines about wrong
	// tokens (each counts those since the last); default
	// DefaultAuthLogEvery.
	AuthLogEvery time.Duration
}

// DefaultAuthLogEvery is APIConfig.AuthLogEvery's default.
const DefaultAuthLogEvery = time.Minute

// String describes c without the token.
func (c APIConfig) String() string {
	return fmt.Sprintf("ingest.APIConfig{token set: %t, max body: %d, max batch: %d}", c.Token != "", c.MaxBody, c.MaxBatch)
}

// GoString is String, so that %#v does not print the token either.
func (c APIConfig) GoString() string { return c.String() }

// LogValue logs c without the token.
func (c APIConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

// API is the HTTP API of sport_activities (see the package documentation).
type API struct {
	store   *store.Store
	cfg     APIConfig
	log     *slog.Logger
	tokenID [sha256.Size]byte // the token's hash, compared in constant time
	schema  migrated
	// badToken limits the lines logged for wrong tokens.
	badToken *logging.Limited
}

// NewAPI returns the API writing to s.
func NewAPI(s *store.Store, cfg APIConfig) *API {
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = DefaultMaxBody
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.AuthLogEvery <= 0 {
		cfg.AuthLogEvery = DefaultAuthLogEvery
	}
	a := &API{store: s, cfg: cfg, log: cfg.Logger.With("component", "activities-api"),
		badToken: &logging.Limited{Interval: cfg.AuthLogEvery, Now: cfg.Now}}
	a.tokenID = sha256.Sum256([]byte(cfg.Token))
	a.schema.migrate = func(ctx context.Context) error {
		if err := activities.Migrate(ctx, s); err != nil {
			return err
		}
		// Activities name employees of the register.
		return hr.Migrate(ctx, s)
	}
	return a
}

// Register adds the API's routes to mux.
func (a *API) Register(mux *http.ServeMux) {
	mux.Handle("POST /api/activities", a.authorized(a.post))
	mux.Handle("PUT /api/activities/{id}", a.authorized(a.put))
	mux.Handle("GET /api/activities/{id}", a.authorized(a.get))
	mux.Handle("DELETE /api/activities/{id}", a.authorized(a.delete))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeError answers with a problem (RFC 9457, web.WriteProblem: the one
// shape of podium's API errors) naming the field at fault, if one is.
func writeError(w http.ResponseWriter, status int, field, format string, args ...any) {
	web.WriteProblem(w, nil, web.Problemf(status, field, format, args...))
}

// writeFieldError answers a request whose activities are wrong: 400 when
// the body cannot be read as activities or holds bytes no text column
// keeps, 422 when a field's value is invalid (or names an employee the HR
// register does not have).
func writeFieldError(w http.ResponseWriter, e *FieldError) {
	status := http.StatusBadRequest
	if e.Field != "" && !e.BadBytes {
		status = http.StatusUnprocessableEntity
	}
	p := web.Problemf(status, e.Field, "%s", e.Msg)
	if e.Index >= 0 {
		p.Index = &e.Index
	}
	web.WriteProblem(w, nil, p)
}

// checkEmployees returns a FieldError for the first activity of acts whose
// employee is not in the HR register (index -1 unless many).
func (a *API) checkEmployees(ctx context.Context, acts []activities.Activity, many bool) (*FieldError, error) {
	ids := make([]string, len(acts))
	for i, act := range acts {
		ids[i] = act.EmployeeID
	}
	unknown, err := hr.Unknown(ctx, a.store.DB(), ids)
	if err != nil || len(unknown) == 0 {
		return nil, err
	}
	for i, act := range acts {
		if act.EmployeeID == unknown[0] {
			fe := fieldErr("employee_id", "employee %q is not in the HR register: use the id of an employee of the register (podium activities import-hr imports it)", act.EmployeeID)
			if many {
				fe.Index = i
			}
			return fe, nil
		}
	}
	return nil, nil
}

// authorized serves h to requests bearing the configured token.
func (a *API) authorized(h func(w http.ResponseWriter, r *http.Request)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if a.cfg.Token == "" {
			writeError(w, http.StatusServiceUnavailable, "",
				"the activities API is disabled: set its token in PODIUM_ACTIVITIES_API_TOKEN or activities.api_token in the configuration file, then restart podium")
			return
		}
		scheme, token, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || token == "" {
			w.Header().Set("WWW-Authenticate", `Bearer realm="podium"`)
			writeError(w, http.StatusUnauthorized, "", "missing token: send the header Authorization: Bearer <token>")
			return
		}
		got := sha256.Sum256([]byte(strings.TrimSpace(token)))
		if subtle.ConstantTimeCompare(got[:], a.tokenID[:]) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer realm="podium", error="invalid_token"`)
			a.badToken.Log(r.Context(), a.log, slog.LevelWarn, "activities api: wrong token", "remote", r.RemoteAddr)
			writeError(w, http.StatusUnauthorized, "", "wrong token")
			return
		}
		if err := a.schema.ensure(r.Context()); err != nil {
			a.log.Error("activities api: store not ready", "err", err)
			writeError(w, http.StatusServiceUnavailable, "", "the store is not ready, try again later")
			return
		}
		h(w, r)
	})
}

// input is an activity as clients send it.
type input struct {
	ID         *int64   `json:"id"`
	EmployeeID string   `json:"employee_id"`
	StartTime  *string  `json:"start_time"`
	SportType  string   `json:"sport_type"`
	DistanceM  *float64 `json:"distance_m"`
	ElapsedS   *float64 `json:"elapsed_s"`
	Comment    string   `json:"comment"`
	// Source may be sent back as read: it must then be "api".
	Source string `json:"source"`
	// UpdatedAt may be sent back as read; the store sets it.
	UpdatedAt json.RawMessage `json:"updated_at"`
}

// activity validates in and returns the activity to store; pathID is the
// id of a PUT's path (0 for a POST).
func (in input) activity(pathID int64, now time.Time) (activities.Activity, *FieldError) {
	var a activities.Activity
	a.EmployeeID = strings.TrimSpace(in.EmployeeID)
	if in.StartTime == nil || *in.StartTime == "" {
		return a, fieldErr("start_time", "is missing: give an RFC 3339 time such as 2025-06-01T07:30:00+02:00")
	}
	t, err := time.Parse(time.RFC3339Nano, *in.StartTime)
	if err != nil {
		return a, fieldErr("start_time", "%q is not an RFC 3339 time such as 2025-06-01T07:30:00+02:00", *in.StartTime)
	}
	a.StartTime = t.UTC().Truncate(time.Microsecond)
	if in.SportType == "" {
		return a, fieldErr("sport_type", "is missing: use one of %s", strings.Join(sportTypes, ", "))
	}
	sport, ok := NormalizeSport(in.SportType)
	if !ok {
		return a, fieldErr("sport_type", "unknown sport type %q: use one of %s", in.SportType, strings.Join(sportTypes, ", "))
	}
	a.SportType = sport
	if in.DistanceM != nil {
		a.DistanceM = *in.DistanceM
	}
	if in.ElapsedS == nil {
		return a, fieldErr("elapsed_s", "is missing: give the duration in seconds")
	}
	if e := *in.ElapsedS; e != math.Trunc(e) || e > math.MaxInt32 || e < math.MinInt32 {
		return a, fieldErr("elapsed_s", "%g is not a whole number of seconds", e)
	}
	a.ElapsedS = int(*in.ElapsedS)
	a.Comment = in.Comment
	if in.Source != "" && in.Source != activities.SourceAPI {
		return a, fieldErr("source", "is %q: the API writes only source %q", in.Source, activities.SourceAPI)
	}
	a.Source = activities.SourceAPI
	if e := Check(a, now); e != nil {
		return a, e
	}
	switch {
	case in.ID != nil && pathID != 0 && *in.ID != pathID:
		return a, fieldErr("id", "%d differs from the id %d of the path", *in.ID, pathID)
	case pathID != 0:
		a.ID = pathID
	case in.ID != nil:
		a.ID = *in.ID
	default:
		a.ID = APIID(a.EmployeeID, a.StartTime, a.SportType)
	}
	if !IsAPIID(a.ID) {
		return a, fieldErr("id", "%d is not an id of the API (from %d to %d): the others belong to the generator and Strava; leave id out and one is assigned",
			a.ID, APIIDBase, APIIDBase+idSpan-1)
	}
	return a, nil
}

// readBody reads the request's body, answering the error itself (415, 413,
// 400) when it returns false.
func (a *API) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/json" && mt != "application/x-ndjson" && mt != "application/ndjson" {
		writeError(w, http.StatusUnsupportedMediaType, "", "send JSON with Content-Type: application/json (or application/x-ndjson, one activity a line)")
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, a.cfg.MaxBody))
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &tooBig):
		writeError(w, http.StatusRequestEntityTooLarge, "", "the body is larger than %d bytes: send fewer activities a request", a.cfg.MaxBody)
		return nil, false
	case err != nil:
		writeError(w, http.StatusBadRequest, "", "read the body: %v", err)
		return nil, false
	}
	if i := invalidUTF8(body); i >= 0 {
		// encoding/json would turn the bad bytes into U+FFFD silently.
		writeError(w, http.StatusBadRequest, "", "the body is not valid UTF-8 (bad byte at offset %d): send JSON encoded in UTF-8", i)
		return nil, false
	}
	return body, true
}

// invalidUTF8 returns the offset of the first byte of b that is not valid
// UTF-8, or -1.
func invalidUTF8(b []byte) int {
	for i := 0; i < len(b); {
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && size <= 1 {
			return i
		}
		i += size
	}
	return -1
}

// decode parses body: one JSON object, a JSON array of objects, or objects
// one after the other (NDJSON). many is false for a single object.
func decode(body []byte, maxBatch int) (ins []input, many bool, fe *FieldError) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 {
		return nil, false, fieldErr("", "the body is empty: send an activity as JSON")
	}
	if trimmed[0] == '[' {
		var raws []json.RawMessage
		if err := json.Unmarshal(trimmed, &raws); err != nil {
			return nil, true, jsonError(err, -1)
		}
		if len(raws) == 0 {
			return nil, true, fieldErr("", "the array is empty")
		}
		if len(raws) > maxBatch {
			return nil, true, fieldErr("", "%d activities: at most %d a request", len(raws), maxBatch)
		}
		for i, raw := range raws {
			in, fe := decodeOne(json.NewDecoder(bytes.NewReader(raw)), i)
			if fe != nil {
				return nil, true, fe
			}
			ins = append(ins, in)
		}
		return ins, true, nil
	}
	dec := json.NewDecoder(bytes.NewReader(trimmed))
	for i := 0; dec.More(); i++ {
		if i == maxBatch {
			return nil, true, fieldErr("", "more than %d activities: at most %d a request", maxBatch, maxBatch)
		}
		in, fe := decodeOne(dec, i)
		if fe != nil {
			if i == 0 && !bytes.Contains(trimmed, []byte("\n")) {
				fe.Index = -1 // a lone object
			}
			return nil, true, fe
		}
		ins = append(ins, in)
	}
	return ins, len(ins) > 1, nil
}

// decodeOne decodes the next object of dec strictly (unknown fields are
// refused: a misspelt field would otherwise be lost silently).
func decodeOne(dec *json.Decoder, i int) (input, *FieldError) {
	dec.DisallowUnknownFields()
	var in input
	if err := dec.Decode(&in); err != nil {
		return in, jsonError(err, i)
	}
	return in, nil
}

// jsonError turns a decoding error into a FieldError naming the field when
// it can.
func jsonError(err error, i int) *FieldError {
	var typeErr *json.UnmarshalTypeError
	var syntaxErr *json.SyntaxError
	fe := &FieldError{Index: i}
	switch {
	case errors.As(err, &typeErr):
		fe.Field = typeErr.Field
		fe.Msg = fmt.Sprintf("want a %s, got a JSON %s", typeErr.Type, typeErr.Value)
		if typeErr.Field == "" {
			fe.Msg = fmt.Sprintf("want a JSON object, got a JSON %s", typeErr.Value)
		}
	case errors.As(err, &syntaxErr):
		fe.Msg = fmt.Sprintf("invalid JSON at byte %d: %v", syntaxErr.Offset, syntaxErr)
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		fe.Field = strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
		fe.Msg = "unknown field: the fields are id, employee_id, start_time, sport_type, distance_m, elapsed_s, comment"
	case errors.Is(err, io.ErrUnexpectedEOF):
		fe.Msg = "the JSON ends early"
	default:
		fe.Msg = "invalid JSON: " + err.Error()
	}
	return fe
}

// post stores one or several activities: 201 with the stored ones.
func (a *API) post(w http.ResponseWriter, r *http.Request) {
	body, ok := a.readBody(w, r)
	if !ok {
		return
	}
	ins, many, fe := decode(body, a.cfg.MaxBatch)
	if fe != nil {
		writeFieldError(w, fe)
		return
	}
	now := a.cfg.Now()
	acts := make([]activities.Activity, len(ins))
	for i, in := range ins {
		act, fe := in.activity(0, now)
		if fe != nil {
			if many {
				fe.Index = i
			}
			writeFieldError(w, fe)
			return
		}
		acts[i] = act
	}
	if fe, err := a.checkEmployees(r.Context(), acts, many); err != nil || fe != nil {
		if err != nil {
			a.log.Error("activities api: HR register", "err", err)
			writeError(w, http.StatusInternalServerError, "", "the HR register could not be read, try again")
			return
		}
		writeFieldError(w, fe)
		return
	}
	stored, _, err := a.store1(r.Context(), acts)
	if err != nil {
		a.log.Error("activities api: store", "err", err)
		writeError(w, http.StatusInternalServerError, "", "the activities could not be stored, try again")
		return
	}
	a.log.Info("activities api: stored", "activities", len(stored))
	if many {
		writeJSON(w, http.StatusCreated, stored)
		return
	}
	w.Header().Set("Location", "/api/activities/"+strconv.FormatInt(stored[0].ID, 10))
	writeJSON(w, http.StatusCreated, stored[0])
}

// put creates or replaces the API's activity of the path: 201 or 200.
func (a *API) put(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	body, ok := a.readBody(w, r)
	if !ok {
		return
	}
	ins, many, fe := decode(body, 1)
	if fe == nil && many {
		fe = fieldErr("", "PUT takes one activity")
	}
	if fe != nil {
		writeFieldError(w, fe)
		return
	}
	act, fe := ins[0].activity(id, a.cfg.Now())
	if fe == nil {
		var err error
		if fe, err = a.checkEmployees(r.Context(), []activities.Activity{act}, false); err != nil {
			a.log.Error("activities api: HR register", "err", err)
			writeError(w, http.StatusInternalServerError, "", "the HR register could not be read, try again")
			return
		}
	}
	if fe != nil {
		writeFieldError(w, fe)
		return
	}
	stored, existed, err := a.store1(r.Context(), []activities.Activity{act})
	if err != nil {
		a.log.Error("activities api: store", "err", err)
		writeError(w, http.StatusInternalServerError, "", "the activity could not be stored, try again")
		return
	}
	status := http.StatusCreated
	if existed {
		status = http.StatusOK
	}
	writeJSON(w, status, stored[0])
}

// get answers any activity of sport_activities.
func (a *API) get(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	act, err := read(r.Context(), a.store.DB(), id)
	if errors.Is(err, sql.ErrNoRows) {
		writeError(w, http.StatusNotFound, "id", "no activity %d", id)
		return
	}
	if err != nil {
		a.log.Error("activities api: read", "err", err)
		writeError(w, http.StatusInternalServerError, "", "the activity could not be read, try again")
		return
	}
	writeJSON(w, http.StatusOK, act)
}

// delete deletes one of the API's activities: 204, 404, or 409 for
// another writer's.
func (a *API) delete(w http.ResponseWriter, r *http.Request) {
	id, ok := pathID(w, r)
	if !ok {
		return
	}
	var source string
	err := a.store.InTx(r.Context(), func(tx *sql.Tx) error {
		source = ""
		if err := tx.QueryRowContext(r.Context(), `SELECT source FROM `+activities.Table+` WHERE id = $1`, id).Scan(&source); err != nil {
			return err
		}
		if source != activities.SourceAPI {
			return nil
		}
		return activities.Delete(r.Context(), tx, id)
	})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		writeError(w, http.StatusNotFound, "id", "no activity %d", id)
	case err != nil:
		a.log.Error("activities api: delete", "err", err)
		writeError(w, http.StatusInternalServerError, "", "the activity could not be deleted, try again")
	case source != activities.SourceAPI:
		writeError(w, http.StatusConflict, "id", "activity %d comes from the %s: the API deletes only its own activities", id, source)
	default:
		a.log.Info("activities api: deleted", "id", id)
		w.WriteHeader(http.StatusNoContent)
	}
}

// pathID parses the {id} of the path, answering 400 itself when it returns
// false.
func pathID(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		writeError(w, http.StatusBadRequest, "id", "%q is not an activity id", r.PathValue("id"))
		return 0, false
	}
	return id, true
}

// store1 upserts acts in one transaction and returns them as stored, in
// order; existed reports whether the first one's id was already there.
// An id given twice keeps its last activity.
func (a *API) store1(ctx context.Context, acts []activities.Activity) (stored []activities.Activity, existed bool, err error) {
	last := map[int64]int{}
	for i, act := range acts {
		last[act.ID] = i
	}
	unique := make([]activities.Activity, 0, len(last))
	for i, act := range acts {
		if last[act.ID] == i {
			unique = append(unique, act)
		}
	}
	err = a.store.InTx(ctx, func(tx *sql.Tx) error {
		stored = stored[:0]
		var one int
		switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM `+activities.Table+` WHERE id = $1`, acts[0].ID).Scan(&one); {
		case err == nil:
			existed = true
		case errors.Is(err, sql.ErrNoRows):
			existed = false
		default:
			return fmt.Errorf("read activity %d: %w", acts[0].ID, err)
		}
		if err := activities.Upsert(ctx, tx, unique...); err != nil {
			return err
		}
		byID := map[int64]activities.Activity{}
		for _, act := range unique {
			s, err := read(ctx, tx, act.ID)
			if err != nil {
				return fmt.Errorf("read back activity %d: %w", act.ID, err)
			}
			byID[act.ID] = s
		}
		for _, act := range acts {
			stored = append(stored, byID[act.ID])
		}
		return nil
	})
	return stored, existed, err
}

// queryer is a *sql.DB or *sql.Tx.
type queryer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// read returns the activity id of sport_activities (sql.ErrNoRows when
// there is none).
func read(ctx context.Context, db queryer, id int64) (activities.Activity, error) {
	var a activities.Activity
	err := a.Scan(db.QueryRowContext(ctx, `SELECT `+activities.Columns+` FROM `+activities.Table+` WHERE id = $1`, id))
	if err != nil {
		return a, err
	}
	a.StartTime = a.StartTime.UTC()
	a.UpdatedAt = a.UpdatedAt.UTC()
	return a, nil
}

// migrated runs a migration once it has succeeded.
type migrated struct {
	mu      sync.Mutex
	done    bool
	migrate func(ctx context.Context) error
}

// ensure runs the migration unless it succeeded before.
func (m *migrated) ensure(ctx context.Context) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.done {
		return nil
	}
	if err := m.migrate(ctx); err != nil {
		return err
	}
	m.done = true
	return nil
}
