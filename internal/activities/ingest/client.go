package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/retry"
	"github.com/podiumhq/podium/internal/store"
)

// Athlete is a Strava athlete linked to an employee. Its tokens are
// secrets: String and LogValue leave them out.
type Athlete struct {
	AthleteID    int64
	EmployeeID   string
	AccessToken  string
	RefreshToken string
	// ExpiresAt is when AccessToken expires; zero when there is none yet.
	ExpiresAt  time.Time
	Authorized bool
	// DisconnectedAt and DisconnectReason say when and why Strava refused
	// the athlete's authorization; zero while authorized.
	DisconnectedAt   time.Time
	DisconnectReason string
}

// String describes a without its tokens.
func (a Athlete) String() string {
	return fmt.Sprintf("strava athlete %d (employee %s, authorized %t)", a.AthleteID, a.EmployeeID, a.Authorized)
}

// GoString is String, so that %#v does not print the tokens either.
func (a Athlete) GoString() string { return a.String() }

// LogValue logs a without its tokens.
func (a Athlete) LogValue() slog.Value { return slog.StringValue(a.String()) }

// errNotFound is Strava's 404 for an activity.
var errNotFound = errors.New("not found on Strava")

// permanentError is a Strava answer that trying again will not change.
type permanentError struct{ reason string }

func (e *permanentError) Error() string { return e.reason }

// stravaError is a Strava answer worth trying again later.
type stravaError struct {
	status     int
	msg        string
	retryAfter time.Duration
}

func (e *stravaError) Error() string { return e.msg }

// athlete returns the linked athlete, nil when there is none.
func (v *Strava) athlete(ctx context.Context, id int64) (*Athlete, error) {
	a := Athlete{AthleteID: id}
	var expires int64
	err := v.store.DB().QueryRowContext(ctx, `SELECT employee_id, access_token, refresh_token, expires_at, authorized
		FROM strava_athletes WHERE athlete_id = $1`, id).Scan(&a.EmployeeID, &a.AccessToken, &a.RefreshToken, &expires, &a.Authorized)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read Strava athlete %d: %w", id, err)
	}
	if expires > 0 {
		a.ExpiresAt = time.Unix(expires, 0)
	}
	return &a, nil
}

// tokenMargin refreshes access tokens that expire within it.
const tokenMargin = time.Minute

// accessToken returns a's access token, refreshed when it expires soon or
// force is set; a new token is stored before it is used. A refresh token
// Strava refuses is a *revokedError.
func (v *Strava) accessToken(ctx context.Context, a *Athlete, force bool) (string, error) {
	if !force && a.AccessToken != "" && v.cfg.Now().Add(tokenMargin).Before(a.ExpiresAt) {
		return a.AccessToken, nil
	}
	if v.cfg.ClientID == "" || v.cfg.ClientSecret == "" {
		return "", &stravaError{msg: "cannot refresh Strava tokens: set strava.client_id (PODIUM_STRAVA_CLIENT_ID) and PODIUM_STRAVA_CLIENT_SECRET"}
	}
	if a.RefreshToken == "" {
		return "", &revokedError{reason: "no refresh token (the athlete deauthorized podium)"}
	}
	form := url.Values{
		"client_id":     {v.cfg.ClientID},
		"client_secret": {v.cfg.ClientSecret},
		"grant_type":    {"refresh_token"},
		"refresh_token": {a.RefreshToken},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.cfg.APIURL+"/oauth/token", strings.NewReader(form.Encode()))
	if err != nil {
		return "", fmt.Errorf("refresh the Strava token of athlete %d: %w", a.AthleteID, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, body, err := v.call(req)
	if err != nil {
		// url.Error holds the URL only: the form (and its secrets) is in
		// the body.
		return "", fmt.Errorf("refresh the Strava token of athlete %d: %w", a.AthleteID, err)
	}
	if resp.StatusCode != http.StatusOK {
		// Only Strava's fault summary is kept: a token endpoint's answer is
		// no place to copy into logs.
		fault, isFault := parseFault(body)
		if (resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) &&
			isFault && fault.refreshRefused() {
			return "", &revokedError{reason: fmt.Sprintf("refresh token refused: %s %s", resp.Status, fault)}
		}
		e := &stravaError{status: resp.StatusCode, retryAfter: retryAfter(resp),
			msg: fmt.Sprintf("refresh the Strava token of athlete %d: Strava answered %s", a.AthleteID, resp.Status)}
		if isFault {
			e.msg += ": " + fault.String()
		}
		if resp.StatusCode == http.StatusBadRequest || resp.StatusCode == http.StatusUnauthorized {
			e.msg += " (refresh token or client credentials refused: check strava.client_id and the secret, or link the athlete again)"
		}
		return "", e
	}
	var tok struct {
		AccessToken  string `json:"access_token"`
		RefreshToken string `json:"refresh_token"`
		ExpiresAt    int64  `json:"expires_at"`
	}
	if err := json.Unmarshal(body, &tok); err != nil || tok.AccessToken == "" {
		return "", &stravaError{msg: fmt.Sprintf("refresh the Strava token of athlete %d: unreadable answer", a.AthleteID)}
	}
	a.AccessToken = tok.AccessToken
	if tok.RefreshToken != "" {
		a.RefreshToken = tok.RefreshToken
	}
	a.ExpiresAt = time.Unix(tok.ExpiresAt, 0)
	if _, err := v.store.DB().ExecContext(ctx, `UPDATE strava_athletes SET access_token = $1, refresh_token = $2, expires_at = $3,
		updated_at = $4 WHERE athlete_id = $5`, a.AccessToken, a.RefreshToken, tok.ExpiresAt, v.cfg.Now().UTC(), a.AthleteID); err != nil {
		return "", fmt.Errorf("store the new Strava tokens of athlete %d: %w", a.AthleteID, err)
	}
	v.log.Info("strava: access token refreshed", "athlete", a.AthleteID, "expires", a.ExpiresAt.UTC())
	return a.AccessToken, nil
}

// maxAnswer caps the Strava answers podium reads.
const maxAnswer = 4 << 20

// call sends req to Strava within its rate limits: it is not sent while a
// window is full (the error then carries the wait, retry.After), and every
// answer's X-RateLimit headers are recorded. The body is read and closed.
func (v *Strava) call(req *http.Request) (*http.Response, []byte, error) {
	now := v.cfg.Now()
	if d := v.limits.wait(now); d > 0 {
		return nil, nil, rateLimited(d, now)
	}
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		return nil, nil, &stravaError{msg: err.Error()}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer))
	if err != nil {
		return nil, nil, &stravaError{msg: fmt.Sprintf("read Strava's answer: %v", err)}
	}
	now = v.cfg.Now()
	v.limits.observe(resp.Header, resp.StatusCode, now)
	if resp.StatusCode == http.StatusTooManyRequests {
		d := v.limits.wait(now)
		if ra := retryAfter(resp); ra > d {
			d = ra
		}
		if d <= 0 {
			d = nextQuarter(now).Sub(now)
		}
		v.log.Warn("strava: rate limit reached, waiting for the next window", "wait", d,
			"limit", resp.Header.Get("X-RateLimit-Limit"), "usage", resp.Header.Get("X-RateLimit-Usage"))
		return nil, nil, rateLimited(d, now)
	}
	return resp, body, nil
}

// get sends an authenticated GET of path to Strava's API for a, refreshing
// the access token once when Strava refuses it (401, 403).
func (v *Strava) get(ctx context.Context, a *Athlete, path string) (*http.Response, []byte, error) {
	for attempt := 0; ; attempt++ {
		tok, err := v.accessToken(ctx, a, attempt > 0)
		if err != nil {
			return nil, nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.APIURL+"/api/v3"+path, nil)
		if err != nil {
			return nil, nil, err
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		resp, body, err := v.call(req)
		if err != nil {
			return nil, nil, err
		}
		if (resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden) && attempt == 0 {
			continue // the token was revoked or expired early: refresh it once
		}
		return resp, body, nil
	}
}

// fetch returns Strava's activity id, read with a's token: errNotFound on a
// 404, a *revokedError when Strava refuses the athlete's authorization
// (confirmed on the athlete's own profile), a *permanentError on another
// refusal, a *stravaError (or another error) to try again later.
func (v *Strava) fetch(ctx context.Context, a *Athlete, id int64) (*stravaActivity, error) {
	resp, body, err := v.get(ctx, a, "/activities/"+strconv.FormatInt(id, 10))
	if err != nil {
		return nil, err
	}
	if resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden {
		// Refused with a fresh token: is it the athlete's authorization,
		// or only this activity?
		if err := v.confirmAuthorized(ctx, a); err != nil {
			return nil, err
		}
	}
	return activityAnswer(resp, body, id)
}

// confirmAuthorized asks Strava for a's own profile: a *revokedError when
// Strava refuses it (401, 403), nil when it answers.
func (v *Strava) confirmAuthorized(ctx context.Context, a *Athlete) error {
	resp, body, err := v.get(ctx, a, "/athlete")
	if err != nil {
		return err
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		return nil
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		reason := resp.Status
		if f, ok := parseFault(body); ok {
			reason += " " + f.String()
		}
		return &revokedError{reason: reason}
	}
	return &stravaError{status: resp.StatusCode, retryAfter: retryAfter(resp),
		msg: fmt.Sprintf("read Strava athlete %d: Strava answered %s", a.AthleteID, resp.Status)}
}

// activityAnswer reads Strava's answer to GET /api/v3/activities/{id}.
func activityAnswer(resp *http.Response, body []byte, id int64) (*stravaActivity, error) {
	snippet := func() string {
		if f, ok := parseFault(body); ok {
			return f.String()
		}
		return strings.TrimSpace(string(body[:min(len(body), 200)]))
	}
	switch {
	case resp.StatusCode == http.StatusOK:
		var sa stravaActivity
		if err := json.Unmarshal(body, &sa); err != nil {
			return nil, &stravaError{msg: fmt.Sprintf("fetch Strava activity %d: unreadable answer: %v", id, err)}
		}
		return &sa, nil
	case resp.StatusCode == http.StatusNotFound:
		return nil, errNotFound
	case retry.Transient(resp.StatusCode):
		return nil, &stravaError{status: resp.StatusCode, retryAfter: retryAfter(resp),
			msg: fmt.Sprintf("fetch Strava activity %d: Strava answered %s: %s", id, resp.Status, snippet())}
	default:
		return nil, &permanentError{reason: fmt.Sprintf("fetch Strava activity %d: Strava answered %s: %s", id, resp.Status, snippet())}
	}
}

// disconnect marks athlete id disconnected with Strava's reason; its events
// wait until it is linked again.
func (v *Strava) disconnect(ctx context.Context, id int64, reason string) error {
	res, err := v.store.DB().ExecContext(ctx, `UPDATE strava_athletes SET authorized = $1, access_token = '', expires_at = 0,
		disconnected_at = $2, disconnect_reason = $3, updated_at = $2 WHERE athlete_id = $4 AND authorized = $5`,
		false, v.cfg.Now().UTC(), reason, id, true)
	if err != nil {
		return fmt.Errorf("mark Strava athlete %d disconnected: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n > 0 {
		v.log.Warn("strava: athlete disconnected, their events wait for re-authorization (podium activities strava link)",
			"athlete", id, "reason", reason)
	}
	return nil
}

// retryAfter returns the wait a Retry-After header asks for, 0 without one.
func retryAfter(resp *http.Response) time.Duration {
	d, _ := retry.ParseRetryAfter(resp.Header.Get("Retry-After"), time.Now())
	return d
}

// Link links Strava athlete athleteID to employeeID with the athlete's
// refresh token (from Strava's OAuth authorization), replacing a previous
// link and its tokens. The access token is fetched on first use.
func Link(ctx context.Context, s *store.Store, athleteID int64, employeeID, refreshToken string, now time.Time) error {
	switch {
	case athleteID <= 0:
		return fmt.Errorf("athlete id %d: want Strava's positive athlete id", athleteID)
	case strings.TrimSpace(employeeID) == "":
		return errors.New("employee id is empty")
	case refreshToken == "" || strings.ContainsAny(refreshToken, " \t\r\n") || len(refreshToken) > 512:
		return errors.New("the refresh token is empty or malformed: give the refresh_token of Strava's OAuth answer")
	}
	if err := Migrate(ctx, s); err != nil {
		return err
	}
	_, err := s.DB().ExecContext(ctx, `INSERT INTO strava_athletes (athlete_id, employee_id, access_token, refresh_token, expires_at,
		authorized, linked_at, updated_at, disconnected_at, disconnect_reason) VALUES ($1, $2, '', $3, 0, $4, $5, $5, NULL, '')
		ON CONFLICT (athlete_id) DO UPDATE SET employee_id = excluded.employee_id, access_token = '',
		refresh_token = excluded.refresh_token, expires_at = 0, authorized = excluded.authorized,
		linked_at = excluded.linked_at, updated_at = excluded.updated_at, disconnected_at = NULL, disconnect_reason = ''`,
		athleteID, strings.TrimSpace(employeeID), refreshToken, true, now.UTC())
	if err != nil {
		return fmt.Errorf("link Strava athlete %d: %w", athleteID, err)
	}
	return nil
}

// Status is the state of the Strava receiver.
type Status struct {
	Athletes []Athlete // tokens left out
	// Pending counts the events not processed yet; Failing those of them
	// that failed at least once.
	Pending, Failing, Processed, Skipped int
	// Waiting counts the pending events of disconnected athletes, which
	// wait for their re-authorization.
	Waiting int
	// Errors are the last errors of failing events, newest first.
	Errors []string
}

// ReadStatus returns the state of the Strava receiver in s.
func ReadStatus(ctx context.Context, s *store.Store) (Status, error) {
	var st Status
	if err := Migrate(ctx, s); err != nil {
		return st, err
	}
	rows, err := s.DB().QueryContext(ctx, `SELECT athlete_id, employee_id, expires_at, authorized, disconnected_at, disconnect_reason
		FROM strava_athletes ORDER BY athlete_id`)
	if err != nil {
		return st, fmt.Errorf("read Strava athletes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a Athlete
		var expires int64
		var disconnected sql.NullTime
		if err := rows.Scan(&a.AthleteID, &a.EmployeeID, &expires, &a.Authorized, &disconnected, &a.DisconnectReason); err != nil {
			return st, fmt.Errorf("read Strava athletes: %w", err)
		}
		a.DisconnectedAt = disconnected.Time
		if expires > 0 {
			a.ExpiresAt = time.Unix(expires, 0)
		}
		st.Athletes = append(st.Athletes, a)
	}
	if err := rows.Err(); err != nil {
		return st, fmt.Errorf("read Strava athletes: %w", err)
	}
	err = s.DB().QueryRowContext(ctx, `SELECT
		COUNT(CASE WHEN processed_at IS NULL THEN 1 END),
		COUNT(CASE WHEN processed_at IS NULL AND attempts > 0 THEN 1 END),
		COUNT(CASE WHEN processed_at IS NOT NULL AND outcome NOT LIKE 'skipped%' THEN 1 END),
		COUNT(CASE WHEN outcome LIKE 'skipped%' THEN 1 END),
		COUNT(CASE WHEN processed_at IS NULL AND last_error = $1 THEN 1 END)
		FROM strava_events`, errWaiting.Error()).Scan(&st.Pending, &st.Failing, &st.Processed, &st.Skipped, &st.Waiting)
	if err != nil {
		return st, fmt.Errorf("count Strava events: %w", err)
	}
	erows, err := s.DB().QueryContext(ctx, `SELECT last_error FROM strava_events WHERE processed_at IS NULL AND last_error <> ''
		AND last_error <> $1 ORDER BY seq DESC LIMIT 5`, errWaiting.Error())
	if err != nil {
		return st, fmt.Errorf("read Strava errors: %w", err)
	}
	defer erows.Close()
	for erows.Next() {
		var e string
		if err := erows.Scan(&e); err != nil {
			return st, fmt.Errorf("read Strava errors: %w", err)
		}
		st.Errors = append(st.Errors, e)
	}
	return st, erows.Err()
}
