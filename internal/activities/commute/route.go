package commute

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/podiumhq/podium/internal/activities/hr"
)

// OSRM routes with an OSRM server's route service (GET
// /route/v1/{profile}/{lon},{lat};{lon},{lat}?overview=false): the
// distance of the fastest route.
type OSRM struct {
	// BaseURL is the server, e.g. "http://localhost:5000".
	BaseURL string
	// Profile is the routing profile; empty means "driving".
	Profile string
	// Profiles, when set, gives the profile for some commute modes (e.g.
	// Walking: "foot", Bike: "bike" on a server that has them); other modes
	// use Profile.
	Profiles map[hr.CommuteMode]string
	// UserAgent is sent with each request.
	UserAgent string
	// Client is the HTTP client; nil means one with a 20 s timeout.
	Client *http.Client
}

// ForMode implements ModeAware.
func (o OSRM) ForMode(m hr.CommuteMode) Provider {
	if p, ok := o.Profiles[m]; ok && p != "" {
		o.Profile = p
	}
	return o
}

// maxSnapMeters is how far from the nearest road a place may be before its
// route is doubtful.
const maxSnapMeters = 2000

// Distance implements Provider. Both places need coordinates (compose with
// a Geocoder through Routed for addresses).
func (o OSRM) Distance(ctx context.Context, from, to Place) (Result, error) {
	profile := cmpOr(o.Profile, "driving")
	service := "osrm"
	if !to.HasCoordinates() {
		return Result{}, fmt.Errorf("%s: the office has no coordinates", service)
	}
	if !from.HasCoordinates() {
		return Result{}, unplaceable("no coordinates, and no geocoder is configured")
	}
	base, err := baseURL(service, o.BaseURL)
	if err != nil {
		return Result{}, err
	}
	u := base.JoinPath("route", "v1", profile,
		formatCoord(*from.Lon)+","+formatCoord(*from.Lat)+";"+formatCoord(*to.Lon)+","+formatCoord(*to.Lat))
	u.RawQuery = url.Values{"overview": {"false"}, "alternatives": {"false"}, "steps": {"false"}}.Encode()
	status, body, err := get(ctx, o.Client, service, u, o.UserAgent)
	if err != nil {
		return Result{}, err
	}
	var resp struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Routes  []struct {
			Distance float64 `json:"distance"`
			Duration float64 `json:"duration"`
		} `json:"routes"`
		Waypoints []struct {
			Distance float64 `json:"distance"` // from the input point to the road
		} `json:"waypoints"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.Code == "" {
		if status != http.StatusOK {
			return Result{}, statusError(service, status)
		}
		return Result{}, fmt.Errorf("%s: unexpected response (%v)", service, err)
	}
	switch resp.Code {
	case "Ok":
	case "NoRoute":
		return Result{}, unplaceable("osrm found no %s route from the home", profile)
	case "NoSegment":
		return Result{}, unplaceable("osrm found no road near the home or the office")
	default:
		// InvalidUrl, InvalidService, InvalidVersion, InvalidOptions,
		// InvalidQuery, InvalidValue, TooBig, …: the request or the server
		// is wrong, not the home. The message does not echo coordinates.
		return Result{}, fmt.Errorf("%s: %s (HTTP %d): %s", service, resp.Code, status, resp.Message)
	}
	if len(resp.Routes) == 0 {
		return Result{}, unplaceable("osrm found no %s route from the home", profile)
	}
	res := Result{Meters: resp.Routes[0].Distance, Source: service + ":" + profile}
	if len(resp.Waypoints) > 0 && resp.Waypoints[0].Distance > maxSnapMeters {
		res.Doubt = fmt.Sprintf("the home is %.1f km from the nearest road osrm knows", resp.Waypoints[0].Distance/1000)
	}
	return res, nil
}

// GoogleDistanceMatrix routes with the Google Distance Matrix API (GET
// /maps/api/distancematrix/json?origins=…&destinations=…&mode=…&key=…).
// It takes addresses as well as coordinates: no geocoder is needed.
type GoogleDistanceMatrix struct {
	// APIKey is the Google Maps Platform key; never logged.
	APIKey string
	// BaseURL is the service; empty means DefaultGoogleURL.
	BaseURL string
	// Mode is the travel mode: "driving" (when empty), "walking",
	// "bicycling" or "transit".
	Mode string
	// Modes, when set, gives the travel mode for some commute modes (e.g.
	// Walking: "walking", Bike: "bicycling").
	Modes map[hr.CommuteMode]string
	// Region biases address matches to a country code ("fr").
	Region string
	// Client is the HTTP client; nil means one with a 20 s timeout.
	Client *http.Client
}

// String describes g without its key.
func (g GoogleDistanceMatrix) String() string {
	return "Google Distance Matrix (key " + maskKey(g.APIKey) + ")"
}

// ForMode implements ModeAware.
func (g GoogleDistanceMatrix) ForMode(m hr.CommuteMode) Provider {
	if mode, ok := g.Modes[m]; ok && mode != "" {
		g.Mode = mode
	}
	return g
}

func googlePlace(p Place) string {
	if p.HasCoordinates() {
		return formatCoord(*p.Lat) + "," + formatCoord(*p.Lon)
	}
	return p.Address
}

// Distance implements Provider.
func (g GoogleDistanceMatrix) Distance(ctx context.Context, from, to Place) (Result, error) {
	const service = "google distance matrix"
	if g.APIKey == "" {
		return Result{}, fmt.Errorf("%s: no API key", service)
	}
	if !to.HasCoordinates() && to.Address == "" {
		return Result{}, fmt.Errorf("%s: the office has neither an address nor coordinates", service)
	}
	if !from.HasCoordinates() && from.Address == "" {
		return Result{}, unplaceable("neither an address nor coordinates")
	}
	base, err := baseURL(service, cmpOr(g.BaseURL, DefaultGoogleURL))
	if err != nil {
		return Result{}, err
	}
	mode := cmpOr(g.Mode, "driving")
	u := base.JoinPath("maps", "api", "distancematrix", "json")
	q := url.Values{"origins": {googlePlace(from)}, "destinations": {googlePlace(to)}, "mode": {mode},
		"units": {"metric"}, "key": {g.APIKey}}
	if g.Region != "" {
		q.Set("region", g.Region)
	}
	u.RawQuery = q.Encode()
	status, body, err := get(ctx, g.Client, service, u, "")
	if err != nil {
		return Result{}, err
	}
	var resp struct {
		Status               string   `json:"status"`
		ErrorMessage         string   `json:"error_message"`
		OriginAddresses      []string `json:"origin_addresses"`
		DestinationAddresses []string `json:"destination_addresses"`
		Rows                 []struct {
			Elements []struct {
				Status   string `json:"status"`
				Distance struct {
					Value float64 `json:"value"`
				} `json:"distance"`
			} `json:"elements"`
		} `json:"rows"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.Status == "" {
		if status != http.StatusOK {
			return Result{}, statusError(service, status)
		}
		return Result{}, fmt.Errorf("%s: unexpected response (%v)", service, err)
	}
	if resp.Status != "OK" {
		return Result{}, googleStatusError(service, resp.Status, resp.ErrorMessage)
	}
	if len(resp.Rows) == 0 || len(resp.Rows[0].Elements) == 0 {
		return Result{}, fmt.Errorf("%s: no element in the response", service)
	}
	el := resp.Rows[0].Elements[0]
	switch el.Status {
	case "OK":
		return Result{Meters: el.Distance.Value, Source: "google-distance-matrix:" + mode}, nil
	case "NOT_FOUND":
		if len(resp.DestinationAddresses) > 0 && resp.DestinationAddresses[0] == "" &&
			len(resp.OriginAddresses) > 0 && resp.OriginAddresses[0] != "" {
			return Result{}, fmt.Errorf("%s: the office cannot be placed", service)
		}
		return Result{}, unplaceable("google distance matrix found no match for the address")
	case "ZERO_RESULTS":
		return Result{}, unplaceable("google distance matrix found no %s route from the home", mode)
	case "MAX_ROUTE_LENGTH_EXCEEDED":
		return Result{}, unplaceable("the %s route from the home is too long for google distance matrix", mode)
	default:
		return Result{}, fmt.Errorf("%s: element status %s", service, el.Status)
	}
}
