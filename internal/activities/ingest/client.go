package ingest

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
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
// force is set; a new token is stored before it is used.
func (v *Strava) accessToken(ctx context.Context, a *Athlete, force bool) (string, error) {
	if !force && a.AccessToken != "" && v.cfg.Now().Add(tokenMargin).Before(a.ExpiresAt) {
		return a.AccessToken, nil
	}
	if v.cfg.ClientID == "" || v.cfg.ClientSecret == "" {
		return "", &stravaError{msg: "cannot refresh Strava tokens: set strava.client_id (PODIUM_STRAVA_CLIENT_ID) and PODIUM_STRAVA_CLIENT_SECRET"}
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
	resp, err := v.cfg.HTTPClient.Do(req)
	if err != nil {
		// url.Error holds the URL only: the form (and its secrets) is in
		// the body.
		return "", &stravaError{msg: fmt.Sprintf("refresh the Strava token of athlete %d: %v", a.AthleteID, err)}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		// The body is not quoted: a token endpoint's answer is no place to
		// copy into logs.
		e := &stravaError{status: resp.StatusCode, retryAfter: retryAfter(resp),
			msg: fmt.Sprintf("refresh the Strava token of athlete %d: Strava answered %s", a.AthleteID, resp.Status)}
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
	if err := json.NewDecoder(resp.Body).Decode(&tok); err != nil || tok.AccessToken == "" {
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

// fetch returns Strava's activity id, read with a's token: errNotFound on a
// 404, a *permanentError on another refusal, a *stravaError (or another
// error) to try again later.
func (v *Strava) fetch(ctx context.Context, a *Athlete, id int64) (*stravaActivity, error) {
	for attempt := 0; ; attempt++ {
		tok, err := v.accessToken(ctx, a, attempt > 0)
		if err != nil {
			return nil, err
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, v.cfg.APIURL+"/api/v3/activities/"+strconv.FormatInt(id, 10), nil)
		if err != nil {
			return nil, fmt.Errorf("fetch Strava activity %d: %w", id, err)
		}
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Accept", "application/json")
		resp, err := v.cfg.HTTPClient.Do(req)
		if err != nil {
			return nil, &stravaError{msg: fmt.Sprintf("fetch Strava activity %d: %v", id, err)}
		}
		sa, err := v.activityAnswer(resp, id)
		resp.Body.Close()
		var se *stravaError
		if errors.As(err, &se) && se.status == http.StatusUnauthorized && attempt == 0 {
			continue // the token was revoked or expired early: refresh it once
		}
		return sa, err
	}
}

// activityAnswer reads Strava's answer to GET /api/v3/activities/{id}.
func (v *Strava) activityAnswer(resp *http.Response, id int64) (*stravaActivity, error) {
	switch {
	case resp.StatusCode == http.StatusOK:
		var sa stravaActivity
		if err := json.NewDecoder(resp.Body).Decode(&sa); err != nil {
			return nil, &stravaError{msg: fmt.Sprintf("fetch Strava activity %d: unreadable answer: %v", id, err)}
		}
		return &sa, nil
	case resp.StatusCode == http.StatusNotFound:
		return nil, errNotFound
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode >= 500:
		return nil, &stravaError{status: resp.StatusCode, retryAfter: retryAfter(resp),
			msg: fmt.Sprintf("fetch Strava activity %d: Strava answered %s: %s", id, resp.Status, readBodySnippet(resp.Body))}
	default:
		return nil, &permanentError{reason: fmt.Sprintf("fetch Strava activity %d: Strava answered %s: %s", id, resp.Status, readBodySnippet(resp.Body))}
	}
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
		authorized, linked_at, updated_at) VALUES ($1, $2, '', $3, 0, $4, $5, $5)
		ON CONFLICT (athlete_id) DO UPDATE SET employee_id = excluded.employee_id, access_token = '',
		refresh_token = excluded.refresh_token, expires_at = 0, authorized = excluded.authorized,
		linked_at = excluded.linked_at, updated_at = excluded.updated_at`,
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
	// Errors are the last errors of failing events, newest first.
	Errors []string
}

// ReadStatus returns the state of the Strava receiver in s.
func ReadStatus(ctx context.Context, s *store.Store) (Status, error) {
	var st Status
	if err := Migrate(ctx, s); err != nil {
		return st, err
	}
	rows, err := s.DB().QueryContext(ctx, `SELECT athlete_id, employee_id, expires_at, authorized FROM strava_athletes ORDER BY athlete_id`)
	if err != nil {
		return st, fmt.Errorf("read Strava athletes: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var a Athlete
		var expires int64
		if err := rows.Scan(&a.AthleteID, &a.EmployeeID, &expires, &a.Authorized); err != nil {
			return st, fmt.Errorf("read Strava athletes: %w", err)
		}
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
		COUNT(CASE WHEN outcome LIKE 'skipped%' THEN 1 END)
		FROM strava_events`).Scan(&st.Pending, &st.Failing, &st.Processed, &st.Skipped)
	if err != nil {
		return st, fmt.Errorf("count Strava events: %w", err)
	}
	erows, err := s.DB().QueryContext(ctx, `SELECT last_error FROM strava_events WHERE processed_at IS NULL AND last_error <> ''
		ORDER BY seq DESC LIMIT 5`)
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
