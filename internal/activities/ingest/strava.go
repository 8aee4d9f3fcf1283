package ingest

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/logging"
	"github.com/podiumhq/podium/internal/retry"
	"github.com/podiumhq/podium/internal/store"
)

// Defaults of StravaConfig.
const (
	DefaultPollInterval  = 5 * time.Second
	DefaultBackoff       = 10 * time.Second
	DefaultMaxBackoff    = time.Hour
	DefaultStravaTimeout = 30 * time.Second
	// maxEventBody caps the body of a webhook event.
	maxEventBody = 64 << 10
	// roundSize caps the pending events one round of the worker reads.
	roundSize = 1000
)

// StravaConfig configures the Strava receiver.
type StravaConfig struct {
	// APIURL is Strava's address; default DefaultStravaAPIURL.
	APIURL string
	// ClientID and ClientSecret identify podium's Strava application to
	// refresh access tokens. ClientSecret is a secret, never logged.
	ClientID     string
	ClientSecret string
	// VerifyToken answers the subscription handshake. It is a secret.
	// Empty disables the webhook: it answers 503.
	VerifyToken string
	// SubscriptionID is the id of podium's push subscription (Strava's
	// answer when it was created, or GET /api/v3/push_subscriptions).
	// Events of other subscriptions are ignored; with none set every event
	// is, as Strava signs nothing that would tell a forged one.
	SubscriptionID int64
	// HTTPClient calls Strava; default a client with DefaultStravaTimeout.
	HTTPClient *http.Client
	// Logger; nil discards logs.
	Logger *slog.Logger
	// PollInterval is how often the worker looks for events due for a
	// retry; default DefaultPollInterval. A new event wakes it at once.
	PollInterval time.Duration
	// Backoff is the wait after an event's first failure, doubled after
	// each further one up to MaxBackoff; defaults DefaultBackoff and
	// DefaultMaxBackoff. A 429's Retry-After is honoured when longer.
	Backoff, MaxBackoff time.Duration
	// Now returns the current time; default time.Now (tests set it).
	Now func() time.Time
}

// String describes c without its secrets.
func (c StravaConfig) String() string {
	return fmt.Sprintf("ingest.StravaConfig{api: %s, client id: %q, client secret set: %t, verify token set: %t, subscription: %d}",
		c.APIURL, c.ClientID, c.ClientSecret != "", c.VerifyToken != "", c.SubscriptionID)
}

// GoString is String, so that %#v does not print the secrets either.
func (c StravaConfig) GoString() string { return c.String() }

// LogValue logs c without its secrets.
func (c StravaConfig) LogValue() slog.Value { return slog.StringValue(c.String()) }

func (c StravaConfig) withDefaults() StravaConfig {
	if c.APIURL == "" {
		c.APIURL = DefaultStravaAPIURL
	}
	c.APIURL = strings.TrimRight(c.APIURL, "/")
	if c.HTTPClient == nil {
		c.HTTPClient = &http.Client{Timeout: DefaultStravaTimeout}
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.PollInterval <= 0 {
		c.PollInterval = DefaultPollInterval
	}
	if c.Backoff <= 0 {
		c.Backoff = DefaultBackoff
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Strava is the receiver of Strava's push subscription: the webhook and the
// worker that processes its events (see the package documentation).
type Strava struct {
	store    *store.Store
	cfg      StravaConfig
	log      *slog.Logger
	verifyID [sha256.Size]byte
	nudge    chan struct{}
	schema   migrated
	// badToken limits the lines logged for wrong verify tokens.
	badToken *logging.Limited
	// limits are Strava's rate limits as its last answers told them.
	limits rateLimits
}

// NewStrava returns the receiver writing to s.
func NewStrava(s *store.Store, cfg StravaConfig) *Strava {
	cfg = cfg.withDefaults()
	v := &Strava{store: s, cfg: cfg, log: cfg.Logger.With("component", "strava"), nudge: make(chan struct{}, 1),
		badToken: &logging.Limited{Interval: DefaultAuthLogEvery, Now: cfg.Now}}
	v.verifyID = sha256.Sum256([]byte(cfg.VerifyToken))
	v.schema.migrate = func(ctx context.Context) error { return Migrate(ctx, s) }
	return v
}

// Migrate creates or updates sport_activities and the Strava tables in s.
func Migrate(ctx context.Context, s *store.Store) error {
	if err := activities.Migrate(ctx, s); err != nil {
		return err
	}
	return s.Migrate(ctx, Component, Migrations())
}

// Register adds the webhook's routes to mux.
func (v *Strava) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /strava/webhook", v.handshake)
	mux.HandleFunc("POST /strava/webhook", v.receive)
}

// disabled answers 503 when no verify token is configured.
func (v *Strava) disabled(w http.ResponseWriter) bool {
	if v.cfg.VerifyToken != "" {
		return false
	}
	writeError(w, http.StatusServiceUnavailable, "",
		"the Strava webhook is disabled: set its verify token in PODIUM_STRAVA_VERIFY_TOKEN or strava.verify_token in the configuration file, then restart podium")
	return true
}

// handshake answers Strava's subscription validation:
// GET ?hub.mode=subscribe&hub.challenge=X&hub.verify_token=T.
func (v *Strava) handshake(w http.ResponseWriter, r *http.Request) {
	if v.disabled(w) {
		return
	}
	q := r.URL.Query()
	got := sha256.Sum256([]byte(q.Get("hub.verify_token")))
	if subtle.ConstantTimeCompare(got[:], v.verifyID[:]) != 1 {
		v.badToken.Log(r.Context(), v.log, slog.LevelWarn, "strava webhook: handshake with a wrong verify token", "remote", r.RemoteAddr)
		writeError(w, http.StatusForbidden, "hub.verify_token", "wrong verify token")
		return
	}
	if q.Get("hub.mode") != "subscribe" {
		writeError(w, http.StatusBadRequest, "hub.mode", "want subscribe")
		return
	}
	challenge := q.Get("hub.challenge")
	if challenge == "" {
		writeError(w, http.StatusBadRequest, "hub.challenge", "missing")
		return
	}
	v.log.Info("strava webhook: subscription validated")
	writeJSON(w, http.StatusOK, map[string]string{"hub.challenge": challenge})
}

// Event is one event of Strava's push subscription.
type Event struct {
	ObjectType     string          `json:"object_type"` // "activity" or "athlete"
	ObjectID       int64           `json:"object_id"`
	AspectType     string          `json:"aspect_type"` // "create", "update" or "delete"
	OwnerID        int64           `json:"owner_id"`
	SubscriptionID int64           `json:"subscription_id"`
	EventTime      int64           `json:"event_time"`
	Updates        json.RawMessage `json:"updates,omitempty"`
}

// key identifies the event among Strava's redeliveries.
func (e Event) key() string {
	return fmt.Sprintf("%d/%s/%d/%s/%d/%d", e.SubscriptionID, e.ObjectType, e.ObjectID, e.AspectType, e.OwnerID, e.EventTime)
}

// validate reports an event Strava would not send.
func (e Event) validate() *FieldError {
	switch {
	case e.ObjectType != "activity" && e.ObjectType != "athlete":
		return fieldErr("object_type", "%q: want activity or athlete", e.ObjectType)
	case e.AspectType != "create" && e.AspectType != "update" && e.AspectType != "delete":
		return fieldErr("aspect_type", "%q: want create, update or delete", e.AspectType)
	case e.ObjectID <= 0 || e.ObjectID >= idSpan:
		return fieldErr("object_id", "%d out of range", e.ObjectID)
	case e.OwnerID <= 0:
		return fieldErr("owner_id", "%d out of range", e.OwnerID)
	}
	if len(e.Updates) > 0 && string(e.Updates) != "null" {
		var m map[string]any
		if err := json.Unmarshal(e.Updates, &m); err != nil {
			return fieldErr("updates", "want a JSON object")
		}
	}
	return nil
}

// receive records an event and answers 200 at once; the worker processes
// it. The same event delivered again is recorded once.
func (v *Strava) receive(w http.ResponseWriter, r *http.Request) {
	if v.disabled(w) {
		return
	}
	var e Event
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxEventBody))
	if err := dec.Decode(&e); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			writeError(w, http.StatusRequestEntityTooLarge, "", "an event is at most %d bytes", maxEventBody)
			return
		}
		writeFieldError(w, jsonError(err, -1))
		return
	}
	if fe := e.validate(); fe != nil {
		writeFieldError(w, fe)
		return
	}
	if err := v.schema.ensure(r.Context()); err != nil {
		v.log.Error("strava webhook: store not ready", "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "the store is not ready")
		return
	}
	// Strava signs nothing: an event is only taken from podium's
	// subscription and about a linked athlete, and the worker confirms it
	// with Strava's API before acting. Ignored events are answered 200 —
	// Strava would send them again otherwise — and logged once.
	if why, err := v.foreign(r.Context(), e); err != nil {
		v.log.Error("strava webhook: read the linked athletes", "err", err)
		writeError(w, http.StatusServiceUnavailable, "", "the store is not ready")
		return
	} else if why != "" {
		v.log.Warn("strava webhook: event ignored: "+why, "object", e.ObjectType, "id", e.ObjectID, "aspect", e.AspectType,
			"owner", e.OwnerID, "subscription", e.SubscriptionID, "remote", r.RemoteAddr)
		writeJSON(w, http.StatusOK, map[string]string{"status": "ignored"})
		return
	}
	updates := "{}"
	if len(e.Updates) > 0 && string(e.Updates) != "null" {
		updates = string(e.Updates)
	}
	res, err := v.store.DB().ExecContext(r.Context(), `INSERT INTO strava_events (event_key, object_type, object_id, aspect_type,
		owner_id, subscription_id, event_time, updates, received_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (event_key) DO NOTHING`,
		e.key(), e.ObjectType, e.ObjectID, e.AspectType, e.OwnerID, e.SubscriptionID, e.EventTime, updates, v.cfg.Now().UTC())
	if err != nil {
		// Strava redelivers an event that was not answered 200.
		v.log.Error("strava webhook: record event", "err", err)
		writeError(w, http.StatusInternalServerError, "", "the event could not be recorded")
		return
	}
	if n, err := res.RowsAffected(); err == nil && n == 0 {
		v.log.Debug("strava webhook: event delivered again", "object", e.ObjectType, "id", e.ObjectID, "aspect", e.AspectType)
	} else {
		v.log.Info("strava webhook: event received", "object", e.ObjectType, "id", e.ObjectID, "aspect", e.AspectType, "owner", e.OwnerID)
	}
	select {
	case v.nudge <- struct{}{}:
	default:
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "received"})
}

// foreign returns why e is not podium's to take, "" when it is: another
// subscription's, or an owner that is not a linked athlete.
func (v *Strava) foreign(ctx context.Context, e Event) (string, error) {
	switch {
	case v.cfg.SubscriptionID == 0:
		return "no subscription id configured: set strava.subscription_id (PODIUM_STRAVA_SUBSCRIPTION_ID) to the id of podium's subscription", nil
	case e.SubscriptionID != v.cfg.SubscriptionID:
		return fmt.Sprintf("subscription %d is not podium's (%d)", e.SubscriptionID, v.cfg.SubscriptionID), nil
	case e.ObjectType == "athlete" && e.ObjectID != e.OwnerID:
		return "an athlete event about another athlete", nil
	}
	var one int
	err := v.store.DB().QueryRowContext(ctx, `SELECT 1 FROM strava_athletes WHERE athlete_id = $1`, e.OwnerID).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return "the owner is not a linked athlete", nil
	case err != nil:
		return "", err
	}
	return "", nil
}

// Run processes the recorded events until ctx ends: at once, whenever the
// webhook records one, and every PollInterval for the retries due.
func (v *Strava) Run(ctx context.Context) {
	t := time.NewTicker(v.cfg.PollInterval)
	defer t.Stop()
	for {
		if _, err := v.ProcessPending(ctx); err != nil && ctx.Err() == nil {
			v.log.Error("strava worker", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-v.nudge:
		}
	}
}

// pending is a recorded event not processed yet.
type pending struct {
	Event
	seq         int64
	attempts    int
	nextAttempt int64 // Unix ms
}

// ProcessPending processes the recorded events that are due, oldest first,
// and returns how many it settled. The events of one object are processed
// in order: while one waits for a retry, the later ones wait behind it.
func (v *Strava) ProcessPending(ctx context.Context) (int, error) {
	if err := v.schema.ensure(ctx); err != nil {
		return 0, err
	}
	evs, err := v.pendingEvents(ctx)
	if err != nil {
		return 0, err
	}
	blocked := map[string]bool{}
	done := 0
	for _, ev := range evs {
		if ctx.Err() != nil {
			return done, nil
		}
		obj := fmt.Sprintf("%s/%d", ev.ObjectType, ev.ObjectID)
		if blocked[obj] {
			continue
		}
		now := v.cfg.Now()
		if ev.nextAttempt > now.UnixMilli() {
			blocked[obj] = true
			continue
		}
		if v.limits.wait(now) > 0 {
			return done, nil // Strava's window is full: the next round after it
		}
		outcome, err := v.process(ctx, ev.Event)
		if errors.Is(err, errRateLimited) {
			return done, nil // not the event's failure: try it after the window
		}
		if errors.Is(err, errWaiting) {
			blocked[obj] = true
			if _, err := v.store.DB().ExecContext(ctx, `UPDATE strava_events SET last_error = $1 WHERE seq = $2 AND last_error <> $1`,
				errWaiting.Error(), ev.seq); err != nil {
				return done, fmt.Errorf("record Strava event %d as waiting: %w", ev.seq, err)
			}
			continue
		}
		if err != nil {
			if ctx.Err() != nil {
				return done, nil
			}
			blocked[obj] = true
			wait := v.backoff(ev.attempts+1, err)
			v.log.Warn("strava worker: event failed, will retry", "object", ev.ObjectType, "id", ev.ObjectID,
				"aspect", ev.AspectType, "attempt", ev.attempts+1, "retry_in", wait, "err", err)
			if _, err := v.store.DB().ExecContext(ctx, `UPDATE strava_events SET attempts = attempts + 1, next_attempt_at = $1,
				last_error = $2 WHERE seq = $3`, now.Add(wait).UnixMilli(), err.Error(), ev.seq); err != nil {
				return done, fmt.Errorf("record the failure of Strava event %d: %w", ev.seq, err)
			}
			continue
		}
		if _, err := v.store.DB().ExecContext(ctx, `UPDATE strava_events SET processed_at = $1, outcome = $2, attempts = attempts + 1,
			last_error = '' WHERE seq = $3`, now.UTC(), outcome, ev.seq); err != nil {
			return done, fmt.Errorf("record Strava event %d as processed: %w", ev.seq, err)
		}
		v.log.Info("strava worker: event processed", "object", ev.ObjectType, "id", ev.ObjectID, "aspect", ev.AspectType, "outcome", outcome)
		done++
	}
	return done, nil
}

func (v *Strava) pendingEvents(ctx context.Context) ([]pending, error) {
	rows, err := v.store.DB().QueryContext(ctx, `SELECT seq, object_type, object_id, aspect_type, owner_id, subscription_id,
		event_time, updates, attempts, next_attempt_at FROM strava_events WHERE processed_at IS NULL ORDER BY seq LIMIT $1`, roundSize)
	if err != nil {
		return nil, fmt.Errorf("read pending Strava events: %w", err)
	}
	defer rows.Close()
	var out []pending
	for rows.Next() {
		var p pending
		var updates string
		if err := rows.Scan(&p.seq, &p.ObjectType, &p.ObjectID, &p.AspectType, &p.OwnerID, &p.SubscriptionID,
			&p.EventTime, &updates, &p.attempts, &p.nextAttempt); err != nil {
			return nil, fmt.Errorf("read pending Strava events: %w", err)
		}
		p.Updates = json.RawMessage(updates)
		out = append(out, p)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read pending Strava events: %w", err)
	}
	return out, nil
}

// backoff returns the wait before attempt+1 after err.
func (v *Strava) backoff(attempt int, err error) time.Duration {
	d := retry.Backoff{Initial: v.cfg.Backoff, Max: v.cfg.MaxBackoff}.Wait(attempt, err, 0)
	var se *stravaError
	if errors.As(err, &se) && se.retryAfter > d {
		d = se.retryAfter
	}
	return d
}

// skip is an outcome: an event that can never be processed, logged and
// settled rather than retried.
func skip(format string, args ...any) (string, error) {
	return "skipped: " + fmt.Sprintf(format, args...), nil
}

// errWaiting is the outcome of an event that waits for its athlete's
// re-authorization: left pending, not counted as a failure.
var errWaiting = errors.New("waiting for the athlete's re-authorization")

// process handles one event. An error means "try again later"; an event
// that can never succeed returns its reason as the outcome. Nothing is
// changed unless Strava's API confirms the event: the activity is fetched
// with the owner's token and must be theirs; a delete is applied only when
// Strava answers 404 for an activity the store holds for that athlete; a
// deauthorization only when Strava refuses the athlete's token.
func (v *Strava) process(ctx context.Context, e Event) (string, error) {
	ath, err := v.athlete(ctx, e.OwnerID)
	if err != nil {
		return "", err
	}
	if ath == nil {
		return skip("athlete %d is not linked to an employee (podium activities strava link)", e.OwnerID)
	}
	if e.ObjectType == "athlete" {
		var updates map[string]any
		_ = json.Unmarshal(e.Updates, &updates)
		if fmt.Sprint(updates["authorized"]) != "false" {
			return "ignored: athlete update", nil
		}
		if !ath.Authorized {
			return "ignored: athlete already disconnected", nil
		}
		err := v.confirmAuthorized(ctx, ath)
		var rev *revokedError
		switch {
		case err == nil:
			return skip("Strava still authorizes athlete %d: deauthorization ignored", e.OwnerID)
		case errors.As(err, &rev):
			if err := v.disconnect(ctx, e.OwnerID, "deauthorized on Strava: "+rev.reason); err != nil {
				return "", err
			}
			if _, err := v.store.DB().ExecContext(ctx, `UPDATE strava_athletes SET refresh_token = '' WHERE athlete_id = $1`, e.OwnerID); err != nil {
				return "", fmt.Errorf("forget the tokens of athlete %d: %w", e.OwnerID, err)
			}
			return "deauthorized: tokens forgotten", nil
		}
		return "", err
	}
	id, err := StravaID(e.ObjectID)
	if err != nil {
		return skip("%v", err)
	}
	if !ath.Authorized {
		return "", errWaiting
	}
	sa, err := v.fetch(ctx, ath, e.ObjectID)
	var rev *revokedError
	if errors.As(err, &rev) {
		if err := v.disconnect(ctx, e.OwnerID, rev.reason); err != nil {
			return "", err
		}
		return "", errWaiting
	}
	if e.AspectType == "delete" {
		var perm *permanentError
		switch {
		case err == nil:
			return skip("Strava still has activity %d: delete event ignored", e.ObjectID)
		case errors.As(err, &perm):
			return skip("Strava does not confirm the delete of activity %d: %s", e.ObjectID, perm.reason)
		case !errors.Is(err, errNotFound):
			return "", err
		}
		// Gone on Strava: delete the row only if it is this athlete's.
		var emp, src string
		err := v.store.DB().QueryRowContext(ctx, `SELECT employee_id, source FROM `+activities.Table+` WHERE id = $1`, id).Scan(&emp, &src)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return "ignored: no such activity", nil
		case err != nil:
			return "", fmt.Errorf("read activity %d: %w", id, err)
		case src != activities.SourceStrava || emp != ath.EmployeeID:
			return skip("activity %d is not athlete %d's: delete event ignored", e.ObjectID, e.OwnerID)
		}
		if err := activities.Delete(ctx, v.store.DB(), id); err != nil {
			return "", err
		}
		return "deleted", nil
	}
	if errors.Is(err, errNotFound) {
		return skip("Strava does not show activity %d (deleted, or private without activity:read_all)", e.ObjectID)
	}
	var perm *permanentError
	if errors.As(err, &perm) {
		return skip("%s", perm.reason)
	}
	if err != nil {
		return "", err
	}
	if sa.Athlete.ID != e.OwnerID {
		return skip("activity %d belongs to athlete %d, not %d", e.ObjectID, sa.Athlete.ID, e.OwnerID)
	}
	act, known := sa.activity(id, ath.EmployeeID)
	if !known {
		v.log.Info("strava worker: unknown sport, recorded as "+OtherSport, "id", e.ObjectID, "sport_type", sa.SportType, "type", sa.Type)
	}
	if fe := Check(act, v.cfg.Now()); fe != nil {
		return skip("activity %d refused: %s", e.ObjectID, fe.Error())
	}
	if err := activities.Upsert(ctx, v.store.DB(), act); err != nil {
		return "", err
	}
	return "upserted", nil
}

// FromStrava maps Strava's DetailedActivity (the JSON of GET
// /api/v3/activities/{id}) to employee's row, as the webhook's worker
// stores it; for tests and imports.
func FromStrava(data []byte, employee string) (activities.Activity, error) {
	var sa stravaActivity
	if err := json.Unmarshal(data, &sa); err != nil {
		return activities.Activity{}, fmt.Errorf("a Strava activity: %w", err)
	}
	id, err := StravaID(sa.ID)
	if err != nil {
		return activities.Activity{}, err
	}
	a, _ := sa.activity(id, employee)
	return a, nil
}

// stravaActivity is what podium reads of Strava's DetailedActivity.
type stravaActivity struct {
	ID          int64     `json:"id"`
	Name        string    `json:"name"`
	Distance    float64   `json:"distance"`     // meters
	ElapsedTime int       `json:"elapsed_time"` // seconds
	MovingTime  int       `json:"moving_time"`  // seconds
	Manual      bool      `json:"manual"`
	Trainer     bool      `json:"trainer"`
	Commute     bool      `json:"commute"`
	Type        string    `json:"type"` // deprecated by Strava, the fallback of SportType
	SportType   string    `json:"sport_type"`
	StartDate   time.Time `json:"start_date"`
	Athlete     struct {
		ID int64 `json:"id"`
	} `json:"athlete"`
}

// activity maps a to the row id of employee; known is false when its sport
// was unknown (then OtherSport).
func (a stravaActivity) activity(id int64, employee string) (activities.Activity, bool) {
	sport, known := StravaSport(a.SportType, a.Type)
	// A name is the athlete's free text: bytes no text column keeps (NUL,
	// invalid UTF-8) are dropped rather than the activity.
	comment := strings.TrimSpace(strings.ReplaceAll(strings.ToValidUTF8(a.Name, ""), "\x00", ""))
	if r := []rune(comment); len(r) > MaxComment {
		comment = string(r[:MaxComment])
	}
	return activities.Activity{
		ID:         id,
		EmployeeID: employee,
		StartTime:  a.StartDate.UTC().Truncate(time.Microsecond),
		SportType:  sport,
		DistanceM:  a.Distance,
		ElapsedS:   a.ElapsedTime,
		Comment:    comment,
		Source:     activities.SourceStrava,
		MovingS:    a.MovingTime,
		Manual:     a.Manual,
		// A virtual ride, run or row is on a training machine, whatever
		// the trainer flag says: the sport maps to the outdoor one.
		Trainer: a.Trainer || strings.HasPrefix(a.SportType, "Virtual"),
		Commute: a.Commute,
	}, known
}
