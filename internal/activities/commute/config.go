package commute

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/hr/sample"
	"github.com/podiumhq/podium/internal/config"
)

// Config chooses and sets up the distance provider.
type Config struct {
	// Router computes distances: "offline" (the default: great circle
	// times RoadFactor), "osrm" or "google" (Distance Matrix).
	Router string
	// Geocoder places homes known only by their address, for the offline
	// and osrm routers: "none" (the default), "nominatim" or "google".
	Geocoder string
	// RoadFactor is the offline router's factor; 0 means 1.3.
	RoadFactor float64
	// OSRMURL is the OSRM server, required by the osrm router.
	OSRMURL string
	// OSRMProfiles maps commute modes to OSRM profiles other than driving
	// (walking_running=foot, bike_scooter_other=bike).
	OSRMProfiles map[hr.CommuteMode]string
	// GoogleModes maps commute modes to Distance Matrix travel modes other
	// than driving (walking_running=walking, bike_scooter_other=bicycling).
	GoogleModes map[hr.CommuteMode]string
	// NominatimURL is the Nominatim server; empty means the public one.
	NominatimURL string
	// UserAgent identifies podium to Nominatim and OSRM.
	UserAgent string
	// Email is the contact sent to Nominatim.
	Email string
	// GoogleAPIKey is the Google Maps Platform key of the google router and
	// geocoder. Secret: String and LogValue mask it.
	GoogleAPIKey string
	// GoogleURL overrides the Google services' base URL (tests).
	GoogleURL string
	// Region is the country code addresses are biased to ("fr").
	Region string
	// Client is the HTTP client of the services; nil means one with a 20 s
	// timeout.
	Client *http.Client
}

// String describes c with its API key masked.
func (c Config) String() string {
	return fmt.Sprintf("router=%s geocoder=%s osrm=%q nominatim=%q google_api_key=%s",
		cmpOr(c.Router, "offline"), cmpOr(c.Geocoder, "none"), c.OSRMURL, c.NominatimURL, maskKey(c.GoogleAPIKey))
}

// LogValue logs c with its API key masked.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("router", cmpOr(c.Router, "offline")),
		slog.String("geocoder", cmpOr(c.Geocoder, "none")),
		slog.String("osrm_url", c.OSRMURL),
		slog.String("nominatim_url", c.NominatimURL),
		slog.String("google_api_key", maskKey(c.GoogleAPIKey)),
	)
}

// New returns the provider c describes.
func New(c Config) (Provider, error) {
	var router Provider
	switch strings.ToLower(cmpOr(c.Router, "offline")) {
	case "offline":
		router = Offline{RoadFactor: c.RoadFactor}
	case "osrm":
		if c.OSRMURL == "" {
			return nil, errors.New("commute: the osrm router needs the URL of an OSRM server (commute.osrm_url)")
		}
		if _, err := baseURL("osrm", c.OSRMURL); err != nil {
			return nil, err
		}
		router = OSRM{BaseURL: c.OSRMURL, Profiles: c.OSRMProfiles, UserAgent: c.UserAgent, Client: c.Client}
	case "google":
		if c.GoogleAPIKey == "" {
			return nil, errors.New("commute: the google router needs an API key (commute.google_api_key, env PODIUM_COMMUTE_GOOGLE_API_KEY)")
		}
		// The Distance Matrix takes addresses itself: no geocoder.
		return GoogleDistanceMatrix{APIKey: c.GoogleAPIKey, BaseURL: c.GoogleURL, Modes: c.GoogleModes,
			Region: c.Region, Client: c.Client}, nil
	default:
		return nil, fmt.Errorf("commute: unknown router %q: use offline, osrm or google", c.Router)
	}
	var geocoder Geocoder
	switch strings.ToLower(cmpOr(c.Geocoder, "none")) {
	case "none":
		return router, nil
	case "nominatim":
		geocoder = &Nominatim{BaseURL: c.NominatimURL, UserAgent: c.UserAgent, Email: c.Email,
			CountryCodes: c.Region, Client: c.Client}
	case "google":
		if c.GoogleAPIKey == "" {
			return nil, errors.New("commute: the google geocoder needs an API key (commute.google_api_key, env PODIUM_COMMUTE_GOOGLE_API_KEY)")
		}
		geocoder = &GoogleGeocoder{APIKey: c.GoogleAPIKey, BaseURL: c.GoogleURL, Region: c.Region, Client: c.Client}
	default:
		return nil, fmt.Errorf("commute: unknown geocoder %q: use none, nominatim or google", c.Geocoder)
	}
	return NewRouted(geocoder, router), nil
}

// Settings declares the commute check's configuration for the config
// package: the command that runs the check registers them (their flags are
// local to it) and reads them back with FromConfig.
func Settings() []config.Setting {
	coord := func(limit float64) func(string) error {
		return func(v string) error {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < -limit || f > limit {
				return fmt.Errorf("not a coordinate: use decimal degrees such as %g", sample.OfficeLatitude)
			}
			return nil
		}
	}
	return []config.Setting{
		{Key: "commute.router", Flag: "commute-router", LocalFlag: true, Default: "offline",
			Allowed: []string{"offline", "osrm", "google"},
			Usage:   "how home-office distances are computed: offline (coordinates × road factor), osrm or google"},
		{Key: "commute.geocoder", Flag: "commute-geocoder", LocalFlag: true, Default: "none",
			Allowed: []string{"none", "nominatim", "google"},
			Usage:   "how homes known only by their address are placed: none, nominatim or google"},
		{Key: "commute.road_factor", Flag: "commute-road-factor", LocalFlag: true, Default: "1.3",
			Usage: "offline router: road distance over great-circle distance",
			Check: func(v string) error {
				f, err := strconv.ParseFloat(v, 64)
				if err != nil || f < 1 || f > 3 {
					return errors.New("use a number between 1 and 3, such as 1.3")
				}
				return nil
			}},
		{Key: "commute.osrm_url", Flag: "commute-osrm-url", LocalFlag: true,
			Usage: "OSRM server of the osrm router, e.g. http://localhost:5000"},
		{Key: "commute.osrm_profiles", Flag: "commute-osrm-profiles", LocalFlag: true,
			Usage: "OSRM profiles per commute mode, e.g. walking_running=foot,bike_scooter_other=bike (others: driving)",
			Check: func(v string) error { _, err := ParseModeMap(v); return err }},
		{Key: "commute.nominatim_url", Flag: "commute-nominatim-url", LocalFlag: true, Default: DefaultNominatimURL,
			Usage: "Nominatim server of the nominatim geocoder (the public one allows 1 request/s)"},
		{Key: "commute.user_agent", Flag: "commute-user-agent", LocalFlag: true, Default: "podium-commute-check",
			Usage: "User-Agent sent to Nominatim and OSRM (Nominatim's policy asks for one naming your application)"},
		{Key: "commute.google_api_key", Secret: true,
			Usage: "Google Maps Platform API key of the google router and geocoder (env PODIUM_COMMUTE_GOOGLE_API_KEY)"},
		{Key: "commute.office_address", Flag: "office-address", LocalFlag: true, Default: sample.OfficeAddress,
			Usage: "address of the office employees commute to"},
		{Key: "commute.office_latitude", Flag: "office-latitude", LocalFlag: true,
			Default: strconv.FormatFloat(sample.OfficeLatitude, 'f', -1, 64), Check: coord(90),
			Usage: "latitude of the office (empty: geocode the address)"},
		{Key: "commute.office_longitude", Flag: "office-longitude", LocalFlag: true,
			Default: strconv.FormatFloat(sample.OfficeLongitude, 'f', -1, 64), Check: coord(180),
			Usage: "longitude of the office (empty: geocode the address)"},
	}
}

// Values is a loaded configuration: config.Config, or the *config.Values
// of a Schema.
type Values interface {
	Get(key string) config.Value
}

// FromConfig reads the settings of Settings from a loaded configuration
// (config.Load after Settings were registered): the provider's
// configuration and the office.
func FromConfig(c Values) (Config, Place, error) {
	get := func(k string) string { return strings.TrimSpace(c.Get(k).String()) }
	cfg := Config{
		Router:       get("commute.router"),
		Geocoder:     get("commute.geocoder"),
		OSRMURL:      get("commute.osrm_url"),
		NominatimURL: get("commute.nominatim_url"),
		UserAgent:    get("commute.user_agent"),
		GoogleAPIKey: get("commute.google_api_key"),
		Region:       "fr",
	}
	if v := get("commute.road_factor"); v != "" {
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			return Config{}, Place{}, fmt.Errorf("commute.road_factor: %w", err)
		}
		cfg.RoadFactor = f
	}
	profiles, err := ParseModeMap(get("commute.osrm_profiles"))
	if err != nil {
		return Config{}, Place{}, fmt.Errorf("commute.osrm_profiles: %w", err)
	}
	cfg.OSRMProfiles = profiles
	cfg.GoogleModes = map[hr.CommuteMode]string{hr.Walking: "walking", hr.Bike: "bicycling"}
	office := Place{Address: get("commute.office_address")}
	lat, lon := get("commute.office_latitude"), get("commute.office_longitude")
	if lat != "" && lon != "" {
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(lon, 64)
		if err := errors.Join(err1, err2); err != nil {
			return Config{}, Place{}, fmt.Errorf("office coordinates: %w", err)
		}
		office.Lat, office.Lon = &la, &lo
	}
	return cfg, office, nil
}

// ParseModeMap reads "walking_running=foot,bike_scooter_other=bike": a
// value per commute mode (its id or any spelling ParseCommuteMode reads).
func ParseModeMap(s string) (map[hr.CommuteMode]string, error) {
	out := map[hr.CommuteMode]string{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, v, ok := strings.Cut(part, "=")
		m, known := hr.ParseCommuteMode(strings.TrimSpace(k))
		if !ok || !known || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("%q: use mode=value pairs separated by commas, modes among %s, %s, %s, %s",
				part, hr.Walking, hr.Bike, hr.PublicTransport, hr.Car)
		}
		out[m] = strings.TrimSpace(v)
	}
	return out, nil
}

// SampleOffice is the office of the shipped sample register, at Lattes.
func SampleOffice() Place {
	return Place{Address: sample.OfficeAddress, Lat: ptr(sample.OfficeLatitude), Lon: ptr(sample.OfficeLongitude)}
}

func ptr(f float64) *float64 { return &f }
