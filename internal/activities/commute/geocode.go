package commute

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/podiumhq/podium/internal/activities/hr"
)

// Geocoder places an address.
type Geocoder interface {
	// Geocode returns the coordinates of address. An address with no match
	// is an error wrapping ErrUnplaceable. doubt, when not empty, says why
	// the match may be wrong (matched only to a town).
	Geocode(ctx context.Context, address string) (lat, lon float64, doubt string, err error)
	// Name names the geocoder in Result.Source.
	Name() string
}

// DefaultNominatimURL is the public Nominatim server of OpenStreetMap. Its
// usage policy asks for an identifying User-Agent and at most one request
// per second; for many addresses, run a server of your own.
const DefaultNominatimURL = "https://nominatim.openstreetmap.org"

// Nominatim geocodes addresses with a Nominatim server (GET
// /search?q=…&format=jsonv2&limit=1), one request per MinInterval.
type Nominatim struct {
	// BaseURL is the server; empty means DefaultNominatimURL.
	BaseURL string
	// UserAgent identifies the application, as the usage policy requires;
	// empty means "podium-commute-check".
	UserAgent string
	// Email, when set, is sent as the email parameter (the policy's
	// contact for large numbers of requests).
	Email string
	// CountryCodes limits matches to these ISO 3166-1 codes ("fr").
	CountryCodes string
	// MinInterval spaces requests; 0 means one second.
	MinInterval time.Duration
	// Client is the HTTP client; nil means one with a 20 s timeout.
	Client *http.Client

	limiter limiter
}

// Name implements Geocoder.
func (n *Nominatim) Name() string { return "nominatim" }

// Geocode implements Geocoder.
func (n *Nominatim) Geocode(ctx context.Context, address string) (float64, float64, string, error) {
	base, err := baseURL("nominatim", cmpOr(n.BaseURL, DefaultNominatimURL))
	if err != nil {
		return 0, 0, "", err
	}
	u := base.JoinPath("search")
	q := url.Values{"q": {address}, "format": {"jsonv2"}, "limit": {"1"}, "addressdetails": {"0"}}
	if n.Email != "" {
		q.Set("email", n.Email)
	}
	if n.CountryCodes != "" {
		q.Set("countrycodes", n.CountryCodes)
	}
	u.RawQuery = q.Encode()
	every := n.MinInterval
	if every == 0 {
		every = time.Second
	}
	if err := n.limiter.wait(ctx, every); err != nil {
		return 0, 0, "", err
	}
	status, body, err := get(ctx, n.Client, "nominatim", u, cmpOr(n.UserAgent, "podium-commute-check"))
	if err != nil {
		return 0, 0, "", err
	}
	if status != http.StatusOK {
		return 0, 0, "", statusError("nominatim", status)
	}
	var places []struct {
		Lat       string `json:"lat"`
		Lon       string `json:"lon"`
		PlaceRank int    `json:"place_rank"`
		// AddressType says what was matched: "house", "road", "town", …
		AddressType string `json:"addresstype"`
	}
	if err := json.Unmarshal(body, &places); err != nil {
		return 0, 0, "", fmt.Errorf("nominatim: unexpected response: %w", err)
	}
	if len(places) == 0 {
		return 0, 0, "", unplaceable("nominatim found no match for the address")
	}
	p := places[0]
	lat, err1 := strconv.ParseFloat(p.Lat, 64)
	lon, err2 := strconv.ParseFloat(p.Lon, 64)
	if err := errors.Join(err1, err2); err != nil || checkCoordinates(lat, lon) != nil {
		return 0, 0, "", fmt.Errorf("nominatim: bad coordinates in the response")
	}
	doubt := ""
	if p.PlaceRank > 0 && p.PlaceRank < 26 {
		// Below a street: the match is a town or a district.
		doubt = fmt.Sprintf("nominatim matched the address only to a %s", strings.ReplaceAll(cmpOr(p.AddressType, "locality"), "_", " "))
	}
	return lat, lon, doubt, nil
}

// DefaultGoogleURL is the base of Google Maps Platform's web services.
const DefaultGoogleURL = "https://maps.googleapis.com"

// GoogleGeocoder geocodes addresses with the Google Geocoding API (GET
// /maps/api/geocode/json?address=…&key=…).
type GoogleGeocoder struct {
	// APIKey is the Google Maps Platform key; never logged.
	APIKey string
	// BaseURL is the service; empty means DefaultGoogleURL.
	BaseURL string
	// Region biases matches to a country code ("fr").
	Region string
	// Client is the HTTP client; nil means one with a 20 s timeout.
	Client *http.Client
}

// Name implements Geocoder.
func (g *GoogleGeocoder) Name() string { return "google-geocoding" }

// String describes g without its key.
func (g *GoogleGeocoder) String() string { return "Google Geocoding (key " + maskKey(g.APIKey) + ")" }

// Geocode implements Geocoder.
func (g *GoogleGeocoder) Geocode(ctx context.Context, address string) (float64, float64, string, error) {
	const service = "google geocoding"
	if g.APIKey == "" {
		return 0, 0, "", fmt.Errorf("%s: no API key", service)
	}
	base, err := baseURL(service, cmpOr(g.BaseURL, DefaultGoogleURL))
	if err != nil {
		return 0, 0, "", err
	}
	u := base.JoinPath("maps", "api", "geocode", "json")
	q := url.Values{"address": {address}, "key": {g.APIKey}}
	if g.Region != "" {
		q.Set("region", g.Region)
	}
	u.RawQuery = q.Encode()
	status, body, err := get(ctx, g.Client, service, u, "")
	if err != nil {
		return 0, 0, "", err
	}
	var resp struct {
		Status       string `json:"status"`
		ErrorMessage string `json:"error_message"`
		Results      []struct {
			PartialMatch bool `json:"partial_match"`
			Geometry     struct {
				Location struct {
					Lat float64 `json:"lat"`
					Lng float64 `json:"lng"`
				} `json:"location"`
				LocationType string `json:"location_type"`
			} `json:"geometry"`
		} `json:"results"`
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		if status != http.StatusOK {
			return 0, 0, "", statusError(service, status)
		}
		return 0, 0, "", fmt.Errorf("%s: unexpected response: %w", service, err)
	}
	switch resp.Status {
	case "OK":
	case "ZERO_RESULTS":
		return 0, 0, "", unplaceable("google geocoding found no match for the address")
	default:
		return 0, 0, "", googleStatusError(service, resp.Status, resp.ErrorMessage)
	}
	if len(resp.Results) == 0 {
		return 0, 0, "", unplaceable("google geocoding found no match for the address")
	}
	r := resp.Results[0]
	lat, lon := r.Geometry.Location.Lat, r.Geometry.Location.Lng
	if checkCoordinates(lat, lon) != nil {
		return 0, 0, "", fmt.Errorf("%s: bad coordinates in the response", service)
	}
	var doubts []string
	if r.PartialMatch {
		doubts = append(doubts, "google geocoding matched only part of the address")
	}
	if r.Geometry.LocationType == "APPROXIMATE" {
		doubts = append(doubts, "google geocoding placed the address only approximately")
	}
	return lat, lon, strings.Join(doubts, "; "), nil
}

// googleStatusError describes a status other than OK and ZERO_RESULTS.
func googleStatusError(service, status, message string) error {
	hint := ""
	switch status {
	case "REQUEST_DENIED":
		hint = ": check the API key and that the API is enabled for it"
	case "OVER_QUERY_LIMIT", "OVER_DAILY_LIMIT":
		hint = ": quota exceeded or billing not enabled"
	case "INVALID_REQUEST":
		hint = ": the request was malformed"
	}
	if message != "" {
		message = " (" + message + ")"
	}
	return fmt.Errorf("%s: status %s%s%s", service, status, hint, message)
}

// maskKey shows the last characters of an API key at most.
func maskKey(k string) string {
	if k == "" {
		return "none"
	}
	if len(k) <= 8 {
		return "****"
	}
	return "****" + k[len(k)-4:]
}

func cmpOr(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// Routed composes a Geocoder and a Router: places without coordinates are
// geocoded by their address, then Router computes the distance. Geocoding
// results are remembered for the life of the Routed value.
type Routed struct {
	// Geocoder places addresses; nil means that places without coordinates
	// cannot be placed.
	Geocoder Geocoder
	// Router computes distances between coordinates.
	Router Provider

	cache *geoCache
}

type geoCache struct {
	mu sync.Mutex
	m  map[string]geoResult
}

type geoResult struct {
	lat, lon float64
	doubt    string
	err      error
}

// NewRouted returns a Routed geocoding with g and routing with r.
func NewRouted(g Geocoder, r Provider) *Routed {
	return &Routed{Geocoder: g, Router: r, cache: &geoCache{m: map[string]geoResult{}}}
}

// ForMode implements ModeAware: the router for m, with the same geocoding
// cache.
func (r *Routed) ForMode(m hr.CommuteMode) Provider {
	return &Routed{Geocoder: r.Geocoder, Router: forMode(r.Router, m), cache: r.cache}
}

// Locate returns p with coordinates, geocoding its address if it has none.
func (r *Routed) Locate(ctx context.Context, p Place) (Place, string, error) {
	if p.HasCoordinates() {
		return p, "", nil
	}
	if p.Address == "" {
		return p, "", unplaceable("neither an address nor coordinates")
	}
	if r.Geocoder == nil {
		return p, "", unplaceable("no coordinates, and no geocoder is configured")
	}
	key := strings.Join(strings.Fields(strings.ToLower(p.Address)), " ")
	if r.cache != nil {
		r.cache.mu.Lock()
		res, ok := r.cache.m[key]
		r.cache.mu.Unlock()
		if ok {
			if res.err != nil {
				return p, "", res.err
			}
			return Place{Address: p.Address, Lat: &res.lat, Lon: &res.lon}, res.doubt, nil
		}
	}
	lat, lon, doubt, err := r.Geocoder.Geocode(ctx, p.Address)
	if err != nil && !errors.Is(err, ErrUnplaceable) {
		return p, "", err // not cached: a later call may go through
	}
	if r.cache != nil {
		r.cache.mu.Lock()
		r.cache.m[key] = geoResult{lat: lat, lon: lon, doubt: doubt, err: err}
		r.cache.mu.Unlock()
	}
	if err != nil {
		return p, "", err
	}
	return Place{Address: p.Address, Lat: &lat, Lon: &lon}, doubt, nil
}

// Distance implements Provider.
func (r *Routed) Distance(ctx context.Context, from, to Place) (Result, error) {
	if r.Router == nil {
		return Result{}, errors.New("commute: Routed has no router")
	}
	office, officeDoubt, err := r.Locate(ctx, to)
	if err != nil {
		// The office is configuration, not an employee's home.
		return Result{}, fmt.Errorf("the office cannot be placed: %s", strings.TrimPrefix(err.Error(), ErrUnplaceable.Error()+": "))
	}
	home, doubt, err := r.Locate(ctx, from)
	if err != nil {
		return Result{}, err
	}
	res, err := r.Router.Distance(ctx, home, office)
	if err != nil {
		return Result{}, err
	}
	if !from.HasCoordinates() {
		res.Source = r.Geocoder.Name() + "+" + res.Source
	}
	res.Doubt = joinDoubts(doubt, res.Doubt)
	if officeDoubt != "" {
		res.Doubt = joinDoubts(res.Doubt, "office: "+officeDoubt)
	}
	return res, nil
}

func joinDoubts(a, b string) string {
	switch {
	case a == "":
		return b
	case b == "":
		return a
	}
	return a + "; " + b
}
