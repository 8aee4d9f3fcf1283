// Package notify congratulates employees in Slack: one message per new
// activity to the team channel, through an incoming webhook (Block Kit), in
// the company's language (French by default, English available), with the
// sport, the distance and the duration.
//
// The processor "activities-slack" reads the change events of
// activities.TopicValidated (the change events that passed the data-quality
// expectations, package quality). Only inserts (op "c") of live activities post:
// snapshot reads ("r"), updates, deletes, and activities that ended longer
// ago than Config.LiveWindow (a backfill) are passed over silently.
//
// # One message per activity, and Slack never holds podium up
//
// "activities-slack" is an effect stage (stream.Effect): in the
// transaction that records its positions it plans one call per new live
// activity, keyed "activity/<id>", in the runtime's ledger
// (podium_effects); the message is posted afterwards, outside any
// transaction and any store lock. An activity whose key the ledger has is
// never planned again (an event read again, or published twice by the
// capture), and a call marked sent is never made again. Slack's incoming
// webhooks take no idempotency key, so one window remains: a crash between
// Slack's reply and the ledger's update posts the message again after the
// restart.
//
// Slack's answers decide what happens to a message: 2xx posts it; a
// network error, a 5xx or a 429 (after its Retry-After) is retried with
// backoff for as long as it takes — the stage keeps consuming meanwhile, so
// its lag stays true and nothing else waits; Slack's refusals (400
// invalid_payload, 403 invalid_token or action_prohibited, 404 no_service or
// channel_not_found, 410 channel_is_archived, and a 200 whose JSON says
// "ok": false) are tried a few times, then the message is parked with
// Slack's answer as the reason: `podium dlq list` shows it, and `podium dlq
// replay` tries it again once the webhook is fixed.
//
// The webhook URL is a secret (it is the only credential): it comes from
// the configuration file or the environment (see Settings), never from a
// flag, and is never logged — logs name the host only. With no webhook the
// processor prints what it would send to Config.Out.
//
// The employee's name comes from the HR register (hr_employees): the first
// name and the initial of the last name. Nothing else of the register is
// read.
package notify

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/retry"
	"github.com/podiumhq/podium/internal/stream"
)

// Name is the processor's name: its consumer group, positions and
// migration component.
const Name = "activities-slack"

// Defaults of Config.
const (
	DefaultLanguage   = "fr"
	DefaultLiveWindow = 6 * time.Hour
	DefaultMaxBackoff = 5 * time.Minute
	// DefaultTimeout bounds one request to Slack.
	DefaultTimeout = 10 * time.Second
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Config configures the notifier. The zero value prints French messages to
// standard output.
type Config struct {
	// WebhookURL is the Slack incoming webhook. It is a secret: never logged,
	// never printed. Empty means print what would be sent to Out.
	WebhookURL string
	// Language of the messages: "fr" (default) or "en".
	Language string
	// LiveWindow: an activity that ended longer ago than this is a backfill
	// and is not posted; default 6h.
	LiveWindow time.Duration
	// Location is the time zone of the dates in messages; default
	// Europe/Paris.
	Location *time.Location
	// HTTPClient posts to Slack; default http.DefaultClient (each request
	// is bounded by DefaultTimeout).
	HTTPClient *http.Client
	// Out receives the messages that would be sent when WebhookURL is
	// empty; default os.Stdout.
	Out io.Writer
	// Logger; nil discards logs.
	Logger *slog.Logger
	// MaxBackoff caps the wait between retries of a failing Slack (a 429's
	// Retry-After is honoured up to 15 minutes); default 5 min.
	MaxBackoff time.Duration
	// MaxAttempts is how many times a message Slack refuses is tried
	// before it is parked; default stream.DefaultMaxAttempts.
	MaxAttempts int
	// Now returns the current time; default time.Now (tests set it).
	Now func() time.Time
}

// String describes c without the webhook URL.
func (c Config) String() string {
	hook := "none (printing)"
	if c.WebhookURL != "" {
		hook = "https://" + webhookHost(c.WebhookURL) + "/…"
	}
	return fmt.Sprintf("notify.Config{webhook: %s, language: %s, live window: %s}", hook, c.Language, c.LiveWindow)
}

// GoString is String, so that %#v does not print the webhook URL either.
func (c Config) GoString() string { return c.String() }

// LogValue logs c without the webhook URL.
func (c Config) LogValue() slog.Value { return slog.StringValue(c.String()) }

// The configuration keys of Settings.
const (
	KeyWebhookURL = "notify.slack_webhook_url"
	KeyLanguage   = "notify.language"
	KeyLiveWindow = "notify.live_window"
)

// Settings returns the notifier's settings, to register with
// config.Register. The webhook URL is a secret without a flag: set it in
// the environment (PODIUM_NOTIFY_SLACK_WEBHOOK_URL) or the configuration
// file.
func Settings() []config.Setting {
	return []config.Setting{
		{Key: KeyWebhookURL, Env: "PODIUM_NOTIFY_SLACK_WEBHOOK_URL", Secret: true,
			Usage: "Slack incoming webhook for the activity congratulations; empty prints them instead",
			Check: func(v string) error {
				if u, err := url.Parse(v); err != nil || u.Scheme != "https" && u.Scheme != "http" || u.Host == "" {
					return errors.New("use the https://hooks.slack.com/services/... URL Slack gave for the webhook")
				}
				return nil
			}},
		{Key: KeyLanguage, Default: DefaultLanguage, Allowed: []string{"fr", "en"},
			Usage: "language of the Slack congratulations: fr or en"},
		{Key: KeyLiveWindow, Default: "6h", Kind: config.KindDuration,
			Usage: "activities that ended longer ago than this are a backfill and are not posted to Slack"},
	}
}

// FromConfig returns the notifier's Config from the loaded configuration
// (the settings of Settings must be registered).
func FromConfig(cfg config.Config, log *slog.Logger) Config {
	return Config{
		WebhookURL: cfg.Get(KeyWebhookURL).String(),
		Language:   cfg.Get(KeyLanguage).String(),
		LiveWindow: cfg.Get(KeyLiveWindow).Duration(),
		Logger:     log,
	}
}

// withDefaults fills the zero fields of c.
func (c Config) withDefaults() Config {
	if c.Language != "en" {
		c.Language = DefaultLanguage
	}
	if c.LiveWindow <= 0 {
		c.LiveWindow = DefaultLiveWindow
	}
	if c.Location == nil {
		loc, err := time.LoadLocation("Europe/Paris")
		if err != nil {
			loc = time.UTC
		}
		c.Location = loc
	}
	if c.HTTPClient == nil {
		c.HTTPClient = http.DefaultClient
	}
	if c.Out == nil {
		c.Out = os.Stdout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.MaxBackoff <= 0 {
		c.MaxBackoff = DefaultMaxBackoff
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	return c
}

// Stage returns the effect stage "activities-slack" on
// activities.TopicValidated (see the package documentation).
func Stage(cfg Config) stream.Runnable {
	cfg = cfg.withDefaults()
	h := &handler{cfg: cfg, host: webhookHost(cfg.WebhookURL), log: cfg.Logger.With("stage", Name)}
	return runnable{stream.Effect[cdc.Change]{
		Name:        Name,
		Topic:       activities.TopicValidated,
		Decode:      cdc.DecodeMessage,
		Migrations:  Migrations(),
		Plan:        h.plan,
		Do:          h.do,
		MaxAttempts: cfg.MaxAttempts,
		Backoff:     retry.Backoff{Initial: min(time.Second, cfg.MaxBackoff), Max: cfg.MaxBackoff, Jitter: 0.2},
		Timeout:     DefaultTimeout,
	}}
}

// Migrations returns the stage's schema changes.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory exists
	}
	return sub
}

// runnable migrates the HR register's schema, which plan reads, before the
// stage runs.
type runnable struct{ stream.Effect[cdc.Change] }

func (r runnable) Run(ctx context.Context, env stream.Env) error {
	if err := hr.Migrate(ctx, env.Store); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("stage %s: %w", Name, err)
	}
	return r.Effect.Run(ctx, env)
}

// handler holds the stage's state.
type handler struct {
	cfg  Config
	host string // the webhook's host, the only part of it logged
	log  *slog.Logger
}

// plan returns a call per live new activity of batch: its message, keyed by
// the activity.
func (h *handler) plan(ctx context.Context, tx *sql.Tx, batch []stream.Record[cdc.Change]) ([]stream.Call, error) {
	var calls []stream.Call
	for _, rec := range batch {
		c := rec.Value
		if !h.postable(&c) {
			continue
		}
		a := *c.After
		name, err := employeeName(ctx, tx, a.EmployeeID)
		if err != nil {
			return nil, err
		}
		body, err := json.Marshal(render(a, name, h.cfg.Language, h.cfg.Location))
		if err != nil {
			return nil, stream.Reject(fmt.Errorf("encode the message of activity %d: %w", a.ID, err))
		}
		calls = append(calls, stream.Call{Key: callKey(a.ID), Body: body, Msg: rec.Msg})
	}
	return calls, nil
}

// callKey is the ledger key of an activity's message.
func callKey(id int64) string { return "activity/" + strconv.FormatInt(id, 10) }

// do posts one message, or prints it when no webhook is configured.
func (h *handler) do(ctx context.Context, c stream.Call) error {
	if h.cfg.WebhookURL == "" {
		var m message
		if err := json.Unmarshal(c.Body, &m); err != nil {
			return retry.Permanent(fmt.Errorf("read the planned message: %w", err))
		}
		if _, err := fmt.Fprintf(h.cfg.Out, "slack (no webhook configured) would send: %s\n", m.Text); err != nil {
			return fmt.Errorf("print the message: %w", err)
		}
		h.log.Info("activity congratulated", "call", c.Key, "dry_run", true)
		return nil
	}
	if err := h.post(ctx, c.Body); err != nil {
		return fmt.Errorf("slack webhook at %s: %w", h.host, err)
	}
	h.log.Info("activity congratulated", "call", c.Key, "attempts", c.Attempts+1)
	return nil
}

// postable reports whether c is a new live activity: an insert streamed
// (not a snapshot read) of an activity that ended less than LiveWindow ago.
func (h *handler) postable(c *cdc.Change) bool {
	if c.Op != cdc.OpCreate || c.IsSnapshot() || c.After == nil {
		return false
	}
	end := c.After.StartTime.Add(time.Duration(c.After.ElapsedS) * time.Second)
	return h.cfg.Now().Sub(end) <= h.cfg.LiveWindow
}

// employeeName returns "Camille D." for the employee, empty when the HR
// register does not know them. Only the names are read.
func employeeName(ctx context.Context, tx *sql.Tx, id string) (string, error) {
	var first, last string
	err := tx.QueryRowContext(ctx, `SELECT first_name, last_name FROM hr_employees WHERE employee_id = $1`, id).Scan(&first, &last)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the name of employee %s: %w", id, err)
	}
	return displayName(first, last), nil
}

// webhookHost returns the host of the webhook URL, the only part of it
// that may be logged.
func webhookHost(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return ""
	}
	return strings.ToLower(u.Host)
}
