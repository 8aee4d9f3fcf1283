package ingest

import (
	"embed"
	"errors"
	"io/fs"
	"log/slog"
	"net/url"
	"strconv"

	"github.com/podiumhq/podium/internal/config"
)

// Component is the migration component of the Strava tables.
const Component = "activities-ingest"

// Tables lists the tables the package owns.
var Tables = []string{"strava_athletes", "strava_events"}

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the schema of the Strava tables.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory exists
	}
	return sub
}

// The configuration keys of Settings.
const (
	KeyAPIToken           = "activities.api_token"
	KeyStravaAPIURL       = "strava.api_url"
	KeyStravaClientID     = "strava.client_id"
	KeyStravaClientSecret = "strava.client_secret"
	KeyStravaVerifyToken  = "strava.verify_token"
	KeyStravaSubscription = "strava.subscription_id"
)

// DefaultStravaAPIURL is Strava's address.
const DefaultStravaAPIURL = "https://www.strava.com"

// minTokenLen is the shortest API or verify token accepted.
const minTokenLen = 16

// Settings returns the API's and the Strava receiver's settings, to
// register with config.Register. The secrets have no flag: set them in the
// environment or the configuration file.
func Settings() []config.Setting {
	checkToken := func(v string) error {
		if len(v) < minTokenLen {
			return errors.New("use a random token of at least 16 characters, e.g. the output of openssl rand -hex 32")
		}
		return nil
	}
	return []config.Setting{
		{Key: KeyAPIToken, Env: "PODIUM_ACTIVITIES_API_TOKEN", Secret: true, Check: checkToken,
			Usage: "bearer token of the activities API (POST /api/activities); empty disables the API"},
		{Key: KeyStravaAPIURL, Env: "PODIUM_STRAVA_API_URL", Default: DefaultStravaAPIURL,
			Usage: "Strava's address (the API under /api/v3, OAuth under /oauth/token)",
			Check: func(v string) error {
				if u, err := url.Parse(v); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
					return errors.New("use an http(s) URL such as https://www.strava.com")
				}
				return nil
			}},
		{Key: KeyStravaClientID, Env: "PODIUM_STRAVA_CLIENT_ID",
			Usage: "client id of podium's Strava API application",
			Check: func(v string) error {
				if _, err := strconv.ParseUint(v, 10, 63); err != nil {
					return errors.New("use the numeric Client ID shown at https://www.strava.com/settings/api")
				}
				return nil
			}},
		{Key: KeyStravaClientSecret, Env: "PODIUM_STRAVA_CLIENT_SECRET", Secret: true,
			Usage: "client secret of podium's Strava API application"},
		{Key: KeyStravaVerifyToken, Env: "PODIUM_STRAVA_VERIFY_TOKEN", Secret: true, Check: checkToken,
			Usage: "verify token of the Strava push subscription; empty disables /strava/webhook"},
		{Key: KeyStravaSubscription, Env: "PODIUM_STRAVA_SUBSCRIPTION_ID", Kind: config.KindInt,
			Usage: "id of podium's Strava push subscription (GET /api/v3/push_subscriptions shows it): events of other subscriptions are ignored, and with none set every event is"},
	}
}

// APIConfigFrom returns the API's configuration from the loaded
// configuration (the settings of Settings must be registered).
func APIConfigFrom(cfg config.Config, log *slog.Logger) APIConfig {
	return APIConfig{Token: cfg.Get(KeyAPIToken).String(), Logger: log}
}

// StravaConfigFrom returns the Strava receiver's configuration from the
// loaded configuration (the settings of Settings must be registered).
func StravaConfigFrom(cfg config.Config, log *slog.Logger) StravaConfig {
	return StravaConfig{
		APIURL:         cfg.Get(KeyStravaAPIURL).String(),
		ClientID:       cfg.Get(KeyStravaClientID).String(),
		ClientSecret:   cfg.Get(KeyStravaClientSecret).String(),
		VerifyToken:    cfg.Get(KeyStravaVerifyToken).String(),
		SubscriptionID: cfg.Get(KeyStravaSubscription).Int(),
		Logger:         log,
	}
}
