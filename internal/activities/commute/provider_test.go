package commute

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/hr/sample"
	"github.com/podiumhq/podium/internal/config"
)

var (
	office  = SampleOffice()
	comedie = At(43.6085, 3.8800) // Place de la Comédie, Montpellier
)

func TestGreatCircle(t *testing.T) {
	tests := []struct {
		name         string
		lat1, lon1   float64
		lat2, lon2   float64
		minKm, maxKm float64
	}{
		{"Comédie to the Lattes office", 43.6085, 3.8800, 43.5673, 3.9089, 5, 7},
		{"Pérols to the office", 43.5650, 3.9530, 43.5673, 3.9089, 3, 4.5},
		{"Nîmes to the office", 43.8370, 4.3600, 43.5673, 3.9089, 44, 50},
		{"Béziers to the office", 43.3440, 3.2160, 43.5673, 3.9089, 58, 64},
		{"Paris to Montpellier", 48.8566, 2.3522, 43.6108, 3.8767, 590, 600},
		{"same point", 43.5673, 3.9089, 43.5673, 3.9089, 0, 0},
	}
	for _, tc := range tests {
		km := GreatCircle(tc.lat1, tc.lon1, tc.lat2, tc.lon2) / 1000
		if km < tc.minKm || km > tc.maxKm {
			t.Errorf("%s: %.2f km, want %g to %g", tc.name, km, tc.minKm, tc.maxKm)
		}
	}
}

func TestOffline(t *testing.T) {
	ctx := context.Background()
	straight := GreatCircle(*comedie.Lat, *comedie.Lon, *office.Lat, *office.Lon)
	tests := []struct {
		name     string
		p        Offline
		from, to Place
		want     float64
		err      error // ErrUnplaceable, or errOther for another error
	}{
		{"default factor", Offline{}, comedie, office, straight * 1.3, nil},
		{"factor 1.5", Offline{RoadFactor: 1.5}, comedie, office, straight * 1.5, nil},
		{"home without coordinates", Offline{}, Place{Address: "1 rue X, Montpellier"}, office, 0, ErrUnplaceable},
		{"home with one coordinate", Offline{}, Place{Lat: comedie.Lat}, office, 0, ErrUnplaceable},
		{"home out of range", Offline{}, At(123, 4), office, 0, ErrUnplaceable},
		{"office without coordinates", Offline{}, comedie, Place{Address: "Lattes"}, 0, errOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := tc.p.Distance(ctx, tc.from, tc.to)
			checkErr(t, err, tc.err)
			if tc.err == nil && (res.Meters != tc.want || res.Source != "offline") {
				t.Errorf("got %+v, want %.0f m from offline", res, tc.want)
			}
		})
	}
	if km := straight * 1.3 / 1000; km < 6.5 || km > 9 {
		t.Errorf("Comédie by road ≈ %.1f km, want 6.5 to 9", km)
	}
}

var errOther = errors.New("any error but ErrUnplaceable")

func checkErr(t *testing.T, err, want error) {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Fatalf("error %v, want none", err)
	case want == ErrUnplaceable && !errors.Is(err, ErrUnplaceable):
		t.Fatalf("error %v, want ErrUnplaceable", err)
	case want == errOther && (err == nil || errors.Is(err, ErrUnplaceable)):
		t.Fatalf("error %v, want an error other than ErrUnplaceable", err)
	}
}

// server is an httptest server answering with status and body, recording
// the requests.
type server struct {
	*httptest.Server
	requests atomic.Int32
	last     atomic.Pointer[http.Request]
}

func newServer(t *testing.T, handler func(r *http.Request) (int, string)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.requests.Add(1)
		s.last.Store(r)
		status, body := handler(r)
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func respond(status int, body string) func(*http.Request) (int, string) {
	return func(*http.Request) (int, string) { return status, body }
}

// A Nominatim jsonv2 answer for an address in Montpellier.
const nominatimOK = `[{"place_id":218036431,"licence":"Data © OpenStreetMap contributors, ODbL 1.0. http://osm.org/copyright","osm_type":"way","osm_id":24708469,"lat":"43.6083287","lon":"3.8799883","category":"highway","type":"pedestrian","place_rank":26,"importance":0.3000099999999999,"addresstype":"road","name":"Place de la Comédie","display_name":"Place de la Comédie, Écusson, Centre, Montpellier, Hérault, Occitanie, France métropolitaine, 34000, France","boundingbox":["43.6077410","43.6089834","3.8792109","3.8808520"]}]`

// A match at the level of the town only.
const nominatimTown = `[{"place_id":97283,"osm_type":"relation","osm_id":28722,"lat":"43.5677","lon":"3.9003","category":"boundary","type":"administrative","place_rank":16,"importance":0.5,"addresstype":"town","name":"Lattes","display_name":"Lattes, Montpellier, Hérault, Occitanie, France métropolitaine, 34970, France"}]`

func TestNominatim(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		lat, lon float64
		doubt    string
		err      error
	}{
		{"match", 200, nominatimOK, 43.6083287, 3.8799883, "", nil},
		{"town only", 200, nominatimTown, 43.5677, 3.9003, "nominatim matched the address only to a town", nil},
		{"no match", 200, `[]`, 0, 0, "", ErrUnplaceable},
		{"rate limited", 429, `<html>Too Many Requests</html>`, 0, 0, "", errOther},
		{"server error", 503, `<html>Service Unavailable</html>`, 0, 0, "", errOther},
		{"not json", 200, `<html>maintenance</html>`, 0, 0, "", errOther},
		{"bad coordinates", 200, `[{"lat":"north","lon":"3.9"}]`, 0, 0, "", errOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, respond(tc.status, tc.body))
			n := &Nominatim{BaseURL: srv.URL, UserAgent: "podium-test/1.0", Email: "it@example.com", CountryCodes: "fr", MinInterval: time.Millisecond}
			lat, lon, doubt, err := n.Geocode(context.Background(), "Place de la Comédie, 34000 Montpellier")
			checkErr(t, err, tc.err)
			if lat != tc.lat || lon != tc.lon || doubt != tc.doubt {
				t.Errorf("got %v, %v, %q; want %v, %v, %q", lat, lon, doubt, tc.lat, tc.lon, tc.doubt)
			}
			if err != nil && strings.Contains(err.Error(), "Comédie") {
				t.Errorf("error quotes the address: %v", err)
			}
			r := srv.last.Load()
			q := r.URL.Query()
			if r.URL.Path != "/search" || q.Get("q") != "Place de la Comédie, 34000 Montpellier" || q.Get("format") != "jsonv2" ||
				q.Get("limit") != "1" || q.Get("countrycodes") != "fr" || q.Get("email") != "it@example.com" {
				t.Errorf("request %s", r.URL)
			}
			if ua := r.Header.Get("User-Agent"); ua != "podium-test/1.0" {
				t.Errorf("User-Agent %q", ua)
			}
		})
	}
}

// TestNominatimRate checks the one-request-per-interval policy.
func TestNominatimRate(t *testing.T) {
	srv := newServer(t, respond(200, nominatimOK))
	n := &Nominatim{BaseURL: srv.URL, MinInterval: 60 * time.Millisecond}
	start := time.Now()
	for i := 0; i < 4; i++ {
		if _, _, _, err := n.Geocode(context.Background(), fmt.Sprintf("%d rue X", i)); err != nil {
			t.Fatal(err)
		}
	}
	if d := time.Since(start); d < 180*time.Millisecond {
		t.Errorf("4 requests in %v, want at least 3 intervals of 60ms", d)
	}
	if ua := srv.last.Load().Header.Get("User-Agent"); ua != "podium-commute-check" {
		t.Errorf("default User-Agent %q", ua)
	}
	// A cancelled context stops the wait.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, _, _, err := n.Geocode(ctx, "x"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %v", err)
	}
}

const googleKey = "AIzaSyTEST-secret-key-1234"

func TestGoogleGeocoder(t *testing.T) {
	tests := []struct {
		name     string
		status   int
		body     string
		lat, lon float64
		doubt    string
		err      error
		errHas   string
	}{
		{"ok", 200, `{"results":[{"address_components":[{"long_name":"Montpellier","short_name":"Montpellier","types":["locality","political"]}],"formatted_address":"Pl. de la Comédie, 34000 Montpellier, France","geometry":{"location":{"lat":43.6084,"lng":3.8798},"location_type":"GEOMETRIC_CENTER","viewport":{"northeast":{"lat":43.6097,"lng":3.8811},"southwest":{"lat":43.6070,"lng":3.8784}}},"place_id":"ChIJ7x","types":["route"]}],"status":"OK"}`,
			43.6084, 3.8798, "", nil, ""},
		{"partial", 200, `{"results":[{"formatted_address":"34970 Lattes, France","geometry":{"location":{"lat":43.5677,"lng":3.9003},"location_type":"APPROXIMATE"},"partial_match":true,"types":["locality"]}],"status":"OK"}`,
			43.5677, 3.9003, "google geocoding matched only part of the address; google geocoding placed the address only approximately", nil, ""},
		{"zero results", 200, `{"results":[],"status":"ZERO_RESULTS"}`, 0, 0, "", ErrUnplaceable, ""},
		{"denied", 200, `{"error_message":"The provided API key is invalid.","results":[],"status":"REQUEST_DENIED"}`, 0, 0, "", errOther, "REQUEST_DENIED"},
		{"over limit", 200, `{"error_message":"You have exceeded your daily request quota for this API.","results":[],"status":"OVER_QUERY_LIMIT"}`, 0, 0, "", errOther, "quota"},
		{"http 500", 500, `oops`, 0, 0, "", errOther, "HTTP 500"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, respond(tc.status, tc.body))
			g := &GoogleGeocoder{APIKey: googleKey, BaseURL: srv.URL, Region: "fr"}
			lat, lon, doubt, err := g.Geocode(context.Background(), "Place de la Comédie, Montpellier")
			checkErr(t, err, tc.err)
			if err != nil && (!strings.Contains(err.Error(), tc.errHas) || strings.Contains(err.Error(), googleKey)) {
				t.Errorf("error %q: want it to say %q and not the key", err, tc.errHas)
			}
			if lat != tc.lat || lon != tc.lon || doubt != tc.doubt {
				t.Errorf("got %v, %v, %q; want %v, %v, %q", lat, lon, doubt, tc.lat, tc.lon, tc.doubt)
			}
			r := srv.last.Load()
			if q := r.URL.Query(); r.URL.Path != "/maps/api/geocode/json" || q.Get("key") != googleKey ||
				q.Get("address") != "Place de la Comédie, Montpellier" || q.Get("region") != "fr" {
				t.Errorf("request %s", r.URL.Path)
			}
		})
	}
	if s := fmt.Sprint(&GoogleGeocoder{APIKey: googleKey}); strings.Contains(s, "secret") {
		t.Errorf("String shows the key: %s", s)
	}
}

// An OSRM route answer from the Comédie to the office.
const osrmOK = `{"code":"Ok","routes":[{"geometry":"","legs":[{"steps":[],"summary":"","weight":561.3,"duration":561.3,"distance":7342.6}],"weight_name":"routability","weight":561.3,"duration":561.3,"distance":7342.6}],"waypoints":[{"hint":"abc","distance":12.4,"name":"Place de la Comédie","location":[3.880012,43.608521]},{"hint":"def","distance":48.9,"name":"Rue du Mas de Saporta","location":[3.908421,43.567011]}]}`

func TestOSRM(t *testing.T) {
	tests := []struct {
		name   string
		mode   hr.CommuteMode
		status int
		body   string
		path   string
		meters float64
		source string
		doubt  string
		err    error
	}{
		{"driving", hr.Car, 200, osrmOK, "/route/v1/driving/3.880000,43.608500;3.908900,43.567300", 7342.6, "osrm:driving", "", nil},
		{"walking profile", hr.Walking, 200, osrmOK, "/route/v1/foot/3.880000,43.608500;3.908900,43.567300", 7342.6, "osrm:foot", "", nil},
		{"bike profile", hr.Bike, 200, osrmOK, "/route/v1/bike/3.880000,43.608500;3.908900,43.567300", 7342.6, "osrm:bike", "", nil},
		{"far from roads", hr.Car, 200, strings.Replace(osrmOK, `"distance":12.4`, `"distance":3500`, 1), "", 7342.6, "osrm:driving", "the home is 3.5 km from the nearest road osrm knows", nil},
		{"no route", hr.Car, 400, `{"code":"NoRoute","message":"Impossible route between points"}`, "", 0, "", "", ErrUnplaceable},
		{"no segment", hr.Car, 400, `{"code":"NoSegment","message":"Could not find a matching segment for any coordinate."}`, "", 0, "", "", ErrUnplaceable},
		{"invalid query", hr.Car, 400, `{"code":"InvalidQuery","message":"Query string malformed close to position 28"}`, "", 0, "", "", errOther},
		{"bad gateway", hr.Car, 502, `<html>Bad Gateway</html>`, "", 0, "", "", errOther},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, respond(tc.status, tc.body))
			var p Provider = OSRM{BaseURL: srv.URL + "/", Profiles: map[hr.CommuteMode]string{hr.Walking: "foot", hr.Bike: "bike"}, UserAgent: "podium-test"}
			p = forMode(p, tc.mode)
			res, err := p.Distance(context.Background(), comedie, office)
			checkErr(t, err, tc.err)
			if res.Meters != tc.meters || res.Source != tc.source || res.Doubt != tc.doubt {
				t.Errorf("got %+v, want %v m from %s, doubt %q", res, tc.meters, tc.source, tc.doubt)
			}
			if err != nil && strings.Contains(err.Error(), "43.6085") {
				t.Errorf("error quotes the coordinates: %v", err)
			}
			r := srv.last.Load()
			if tc.path != "" && (r.URL.Path != tc.path || r.URL.Query().Get("overview") != "false") {
				t.Errorf("request %s?%s, want %s?overview=false", r.URL.Path, r.URL.RawQuery, tc.path)
			}
		})
	}
	// Without coordinates, OSRM cannot place the home by itself.
	_, err := OSRM{BaseURL: "http://127.0.0.1:1"}.Distance(context.Background(), Place{Address: "x"}, office)
	checkErr(t, err, ErrUnplaceable)
}

func dmBody(elementStatus string, meters int) string {
	el := fmt.Sprintf(`{"status":%q}`, elementStatus)
	if elementStatus == "OK" {
		el = fmt.Sprintf(`{"distance":{"text":"%.1f km","value":%d},"duration":{"text":"12 mins","value":713},"status":"OK"}`, float64(meters)/1000, meters)
	}
	return `{"destination_addresses":["Parc de la Méditerranée, 34970 Lattes, France"],"origin_addresses":["Pl. de la Comédie, 34000 Montpellier, France"],"rows":[{"elements":[` + el + `]}],"status":"OK"}`
}

func TestGoogleDistanceMatrix(t *testing.T) {
	tests := []struct {
		name    string
		mode    hr.CommuteMode
		from    Place
		body    string
		origins string
		gMode   string
		meters  float64
		err     error
		errHas  string
	}{
		{"driving from coordinates", hr.Car, comedie, dmBody("OK", 7911), "43.608500,3.880000", "driving", 7911, nil, ""},
		{"walking from an address", hr.Walking, Place{Address: "Place de la Comédie, 34000 Montpellier"}, dmBody("OK", 6420), "Place de la Comédie, 34000 Montpellier", "walking", 6420, nil, ""},
		{"bicycling", hr.Bike, comedie, dmBody("OK", 6875), "43.608500,3.880000", "bicycling", 6875, nil, ""},
		{"address not found", hr.Car, Place{Address: "nowhere"}, `{"destination_addresses":["Parc de la Méditerranée, 34970 Lattes, France"],"origin_addresses":[""],"rows":[{"elements":[{"status":"NOT_FOUND"}]}],"status":"OK"}`, "nowhere", "driving", 0, ErrUnplaceable, ""},
		{"office not found", hr.Car, comedie, `{"destination_addresses":[""],"origin_addresses":["Pl. de la Comédie, 34000 Montpellier, France"],"rows":[{"elements":[{"status":"NOT_FOUND"}]}],"status":"OK"}`, "", "", 0, errOther, "office"},
		{"no route", hr.Car, comedie, dmBody("ZERO_RESULTS", 0), "", "", 0, ErrUnplaceable, ""},
		{"denied", hr.Car, comedie, `{"destination_addresses":[],"error_message":"This API project is not authorized to use this API.","origin_addresses":[],"rows":[],"status":"REQUEST_DENIED"}`, "", "", 0, errOther, "REQUEST_DENIED"},
		{"invalid", hr.Car, comedie, `{"destination_addresses":[],"origin_addresses":[],"rows":[],"status":"INVALID_REQUEST"}`, "", "", 0, errOther, "INVALID_REQUEST"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := newServer(t, respond(200, tc.body))
			var p Provider = GoogleDistanceMatrix{APIKey: googleKey, BaseURL: srv.URL,
				Modes: map[hr.CommuteMode]string{hr.Walking: "walking", hr.Bike: "bicycling"}}
			res, err := forMode(p, tc.mode).Distance(context.Background(), tc.from, office)
			checkErr(t, err, tc.err)
			if err != nil && (!strings.Contains(err.Error(), tc.errHas) || strings.Contains(err.Error(), googleKey)) {
				t.Errorf("error %q: want it to say %q and not the key", err, tc.errHas)
			}
			if res.Meters != tc.meters {
				t.Errorf("got %+v, want %v m", res, tc.meters)
			}
			r := srv.last.Load()
			q := r.URL.Query()
			if r.URL.Path != "/maps/api/distancematrix/json" || q.Get("key") != googleKey || q.Get("units") != "metric" ||
				q.Get("destinations") != "43.567300,3.908900" {
				t.Errorf("request %s", r.URL.Path)
			}
			if tc.origins != "" && (q.Get("origins") != tc.origins || q.Get("mode") != tc.gMode) {
				t.Errorf("origins %q mode %q, want %q %q", q.Get("origins"), q.Get("mode"), tc.origins, tc.gMode)
			}
			if tc.err == nil && res.Source != "google-distance-matrix:"+tc.gMode {
				t.Errorf("source %q", res.Source)
			}
		})
	}
}

// TestRouted geocodes homes without coordinates with Nominatim, then routes
// with OSRM, remembering each address's coordinates.
func TestRouted(t *testing.T) {
	geo := newServer(t, func(r *http.Request) (int, string) {
		switch r.URL.Query().Get("q") {
		case "Place de la Comédie, 34000 Montpellier":
			return 200, nominatimOK
		case "Lattes":
			return 200, nominatimTown
		case "down":
			return 503, "busy"
		}
		return 200, `[]`
	})
	var routed atomic.Pointer[url.URL]
	route := newServer(t, func(r *http.Request) (int, string) {
		routed.Store(r.URL)
		return 200, osrmOK
	})
	p := NewRouted(&Nominatim{BaseURL: geo.URL, MinInterval: time.Millisecond},
		OSRM{BaseURL: route.URL, Profiles: map[hr.CommuteMode]string{hr.Walking: "foot"}})
	ctx := context.Background()

	home := Place{Address: "Place de la Comédie, 34000 Montpellier"}
	for i := 0; i < 3; i++ {
		res, err := forMode(p, hr.Walking).Distance(ctx, home, office)
		if err != nil {
			t.Fatal(err)
		}
		if res.Meters != 7342.6 || res.Source != "nominatim+osrm:foot" || res.Doubt != "" {
			t.Fatalf("got %+v", res)
		}
	}
	if n := geo.requests.Load(); n != 1 {
		t.Errorf("%d geocoding requests for one address, want 1 (cached)", n)
	}
	if got := routed.Load().Path; got != "/route/v1/foot/3.879988,43.608329;3.908900,43.567300" {
		t.Errorf("routed %s", got)
	}
	// Coordinates are used as they are: no geocoding.
	if res, err := p.Distance(ctx, comedie, office); err != nil || res.Source != "osrm:driving" || geo.requests.Load() != 1 {
		t.Errorf("with coordinates: %+v, %v, %d geocodings", res, err, geo.requests.Load())
	}
	// A town-level match is doubtful.
	if res, err := p.Distance(ctx, Place{Address: "Lattes"}, office); err != nil || !strings.Contains(res.Doubt, "only to a") {
		t.Errorf("town match: %+v, %v", res, err)
	}
	// No match: unplaceable, remembered.
	for i := 0; i < 2; i++ {
		_, err := p.Distance(ctx, Place{Address: "Lieu-dit Introuvable"}, office)
		checkErr(t, err, ErrUnplaceable)
	}
	if n := geo.requests.Load(); n != 3 {
		t.Errorf("%d geocoding requests, want 3", n)
	}
	// A service down is not an unplaceable home, and is not remembered.
	for i := 0; i < 2; i++ {
		_, err := p.Distance(ctx, Place{Address: "down"}, office)
		checkErr(t, err, errOther)
	}
	if n := geo.requests.Load(); n != 5 {
		t.Errorf("%d geocoding requests, want 5 (errors not cached)", n)
	}
	// The office is geocoded too; an office that cannot be placed is a
	// configuration error.
	if _, err := p.Distance(ctx, comedie, Place{Address: "Lieu-dit Introuvable"}); err == nil || errors.Is(err, ErrUnplaceable) || !strings.Contains(err.Error(), "office") {
		t.Errorf("office not placed: %v", err)
	}
	// Without a geocoder, an address alone cannot be placed.
	_, err := NewRouted(nil, Offline{}).Distance(ctx, home, office)
	checkErr(t, err, ErrUnplaceable)
}

// TestErrorsHideSecrets checks that a failed request names neither the
// address, the coordinates nor the key.
func TestErrorsHideSecrets(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close() // connections are refused from now on
	ctx := context.Background()
	home := Place{Address: "12 rue Secrète, 34970 Lattes", Lat: ptr(43.5612), Lon: ptr(3.8999)}
	providers := map[string]Provider{
		"nominatim": NewRouted(&Nominatim{BaseURL: base, MinInterval: time.Millisecond}, Offline{}),
		"google":    NewRouted(&GoogleGeocoder{APIKey: googleKey, BaseURL: base}, Offline{}),
		"osrm":      OSRM{BaseURL: base},
		"matrix":    GoogleDistanceMatrix{APIKey: googleKey, BaseURL: base},
	}
	for name, p := range providers {
		h := home
		if strings.HasPrefix(name, "nominatim") || name == "google" {
			h.Lat, h.Lon = nil, nil
		}
		_, err := p.Distance(ctx, h, office)
		if err == nil || errors.Is(err, ErrUnplaceable) {
			t.Errorf("%s: %v, want a connection error", name, err)
			continue
		}
		for _, secret := range []string{"Secrète", "Secr%C3%A8te", "43.5612", "3.8999", googleKey, "/route/", "key="} {
			if strings.Contains(err.Error(), secret) {
				t.Errorf("%s: error %q shows %q", name, err, secret)
			}
		}
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name string
		cfg  Config
		want string // the provider's type, or the error's text
	}{
		{"default", Config{}, "commute.Offline"},
		{"offline with nominatim", Config{Geocoder: "nominatim"}, "*commute.Routed"},
		{"osrm", Config{Router: "osrm", OSRMURL: "http://localhost:5000"}, "commute.OSRM"},
		{"osrm with google geocoding", Config{Router: "osrm", OSRMURL: "http://localhost:5000", Geocoder: "google", GoogleAPIKey: googleKey}, "*commute.Routed"},
		{"google", Config{Router: "google", GoogleAPIKey: googleKey}, "commute.GoogleDistanceMatrix"},
		{"osrm without url", Config{Router: "osrm"}, "needs the URL"},
		{"google without key", Config{Router: "google"}, "needs an API key"},
		{"google geocoder without key", Config{Geocoder: "google"}, "needs an API key"},
		{"unknown router", Config{Router: "here"}, "unknown router"},
		{"unknown geocoder", Config{Geocoder: "here"}, "unknown geocoder"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p, err := New(tc.cfg)
			got := fmt.Sprintf("%T", p)
			if err != nil {
				got = err.Error()
			}
			if !strings.Contains(got, tc.want) {
				t.Errorf("got %s, want %s", got, tc.want)
			}
		})
	}
	cfg := Config{Router: "google", GoogleAPIKey: googleKey}
	if s := cfg.String(); strings.Contains(s, "secret") || !strings.Contains(s, "****1234") {
		t.Errorf("String %q", s)
	}
}

func TestParseModeMap(t *testing.T) {
	m, err := ParseModeMap("walking_running=foot, Vélo=bike")
	if err != nil || m[hr.Walking] != "foot" || m[hr.Bike] != "bike" || len(m) != 2 {
		t.Errorf("got %v, %v", m, err)
	}
	for _, bad := range []string{"foot", "plane=foot", "walking="} {
		if _, err := ParseModeMap(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if m, err := ParseModeMap(""); err != nil || len(m) != 0 {
		t.Errorf("empty: %v, %v", m, err)
	}
}

// TestSettings registers the settings in a schema and reads them back from
// defaults and environment variables.
func TestSettings(t *testing.T) {
	schema := config.NewSchema(Settings()...)
	env := map[string]string{
		"PODIUM_COMMUTE_ROUTER":         "osrm",
		"PODIUM_COMMUTE_OSRM_URL":       "http://localhost:5000",
		"PODIUM_COMMUTE_OSRM_PROFILES":  "walking_running=foot,bike_scooter_other=bike",
		"PODIUM_COMMUTE_GEOCODER":       "google",
		"PODIUM_COMMUTE_GOOGLE_API_KEY": googleKey,
	}
	fs := pflag.NewFlagSet("commute", pflag.ContinueOnError)
	schema.AddSettingFlags(fs, "commute.router", "commute.office_latitude")
	if err := fs.Parse([]string{"--office-latitude=43.6"}); err != nil {
		t.Fatal(err)
	}
	vs, err := schema.Resolve(fs, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
	if err != nil {
		t.Fatal(err)
	}
	cfg, officePlace, err := FromConfig(vs)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Router != "osrm" || cfg.OSRMURL != "http://localhost:5000" || cfg.OSRMProfiles[hr.Walking] != "foot" ||
		cfg.Geocoder != "google" || cfg.GoogleAPIKey != googleKey || cfg.RoadFactor != 1.3 || cfg.NominatimURL != DefaultNominatimURL {
		t.Errorf("config %+v", cfg)
	}
	if officePlace.Address != sample.OfficeAddress || *officePlace.Lat != 43.6 || *officePlace.Lon != sample.OfficeLongitude {
		t.Errorf("office %+v", officePlace)
	}
	if p, err := New(cfg); err != nil || fmt.Sprintf("%T", p) != "*commute.Routed" {
		t.Errorf("provider %T, %v", p, err)
	}
	if strings.Contains(vs.Masked().String(), googleKey) {
		t.Errorf("the masked configuration shows the key")
	}
}
