package openf1

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// defaultTokenLifetime is assumed when /token does not say.
const defaultTokenLifetime = time.Hour

// tokenResponse is the body of POST /token. OpenF1 sends expires_in as a
// string ("3600"); a number is accepted too.
type tokenResponse struct {
	AccessToken string          `json:"access_token"`
	ExpiresIn   json.RawMessage `json:"expires_in"`
	TokenType   string          `json:"token_type"`
}

// accessToken returns a valid access token, requesting one with the
// configured credentials when there is none or it is about to expire.
func (c *Client) accessToken(ctx context.Context) (string, error) {
	tok, _, err := c.accessTokenUntil(ctx)
	return tok, err
}

// accessTokenUntil is accessToken, also returning when the token is due for
// renewal (a few minutes before it expires): a connection authenticated
// with it (the MQTT feed) must be renewed by then.
func (c *Client) accessTokenUntil(ctx context.Context) (string, time.Time, error) {
	if !c.HasCredentials() {
		return "", time.Time{}, errors.New("openf1: no credentials configured")
	}
	c.tokMu.Lock()
	defer c.tokMu.Unlock()
	if c.token != "" && c.now().Before(c.tokExpiry) {
		return c.token, c.tokExpiry, nil
	}
	form := url.Values{"username": {c.username}, "password": {c.password}}
	body, err := c.do(ctx, http.MethodPost, c.tokenURL, form, false)
	if err != nil {
		var ae *APIError
		if errors.As(err, &ae) && (ae.StatusCode == http.StatusUnauthorized || ae.StatusCode == http.StatusForbidden) {
			return "", time.Time{}, fmt.Errorf("openf1: access token refused, check the OpenF1 username and password: %w", err)
		}
		return "", time.Time{}, fmt.Errorf("openf1: request access token: %w", err)
	}
	tr, err := decodeTokenResponse(body)
	if err != nil {
		return "", time.Time{}, err
	}
	life := parseExpiresIn(tr.ExpiresIn)
	// Refresh ahead of expiry: 5 minutes early, or half-way for short tokens.
	margin := min(5*time.Minute, life/2)
	c.token = tr.AccessToken
	c.tokExpiry = c.now().Add(life - margin)
	c.log.Info("openf1 access token obtained", "expires_in", life) // the token itself is never logged
	return c.token, c.tokExpiry, nil
}

// decodeTokenResponse reads the body of POST /token.
func decodeTokenResponse(body []byte) (tokenResponse, error) {
	var tr tokenResponse
	if err := json.Unmarshal(body, &tr); err != nil {
		return tr, fmt.Errorf("openf1: decode access token response: %w", err)
	}
	if tr.AccessToken == "" {
		return tr, errors.New("openf1: access token response has no access_token")
	}
	return tr, nil
}

// dropToken forgets the current token so that the next request gets a new one.
func (c *Client) dropToken() {
	c.tokMu.Lock()
	c.token = ""
	c.tokMu.Unlock()
}

func parseExpiresIn(raw json.RawMessage) time.Duration {
	var n float64
	if err := json.Unmarshal(raw, &n); err != nil {
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return defaultTokenLifetime
		}
		if n, err = strconv.ParseFloat(s, 64); err != nil {
			return defaultTokenLifetime
		}
	}
	if n <= 0 {
		return defaultTokenLifetime
	}
	return time.Duration(n * float64(time.Second))
}
