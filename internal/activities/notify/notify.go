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
// # One message per activity
//
// The ids of the activities whose message Slack accepted are recorded in
// the table notify_posted, in the transaction that records the processor's
// positions; an activity found there is never posted again, whether the
// event is read again after a restart or published twice by the capture.
// Slack's incoming webhooks take no idempotency key, so one window remains:
// a crash (or a lost connection to the database) between Slack's reply and
// the commit of that transaction posts the message again after the restart.
// Runnable keeps that window as small as it can be: it handles one event per
// transaction, so the commit follows Slack's reply at once (one insert and
// the positions: milliseconds), and a message accepted by Slack is never
// held back behind the posting of another. A request in flight is never
// cancelled, even by a shutdown, so that a reply is not thrown away; a
// request that times out (Config.HTTPClient's timeout) may have been posted
// and is sent again — the only other source of a duplicate.
//
// A Slack outage delays messages but loses none: network errors and 5xx are
// retried with exponential backoff up to Config.MaxBackoff, 429 after the
// Retry-After Slack asks for, without ever dead-lettering the event. Only a
// 400 (Slack refusing the payload itself) sends the event to the dead-letter
// topic.
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
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/stream"
)

// Name is the processor's name: its consumer group, positions and
// migration component.
const Name = "activities-slack"

// Tables lists the tables the processor owns.
var Tables = []string{"notify_posted"}

// Defaults of Config.
const (
	DefaultLanguage   = "fr"
	DefaultLiveWindow = 6 * time.Hour
	DefaultMaxBackoff = time.Minute
	// DefaultTimeout bounds one request to Slack when Config.HTTPClient is
	// nil.
	DefaultTimeout = 30 * time.Second
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
	// HTTPClient posts to Slack; default a client with DefaultTimeout.
	HTTPClient *http.Client
	// Out receives the messages that would be sent when WebhookURL is
	// empty; default os.Stdout.
	Out io.Writer
	// Logger; nil discards logs.
	Logger *slog.Logger
	// MaxBackoff caps the wait between retries of a failing Slack (a 429's
	// Retry-After is honoured whatever its length); default 1 min.
	MaxBackoff time.Duration
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
		c.HTTPClient = &http.Client{Timeout: DefaultTimeout}
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

// Processor returns the processor "activities-slack" on
// activities.TopicValidated. It posts every new live activity of a batch
// in turn, each recorded in the batch's transaction: run it with
// stream.Env.MaxBatch 1, or use Runnable, which does, so that each message
// is committed as soon as Slack accepted it (see the package
// documentation). Handle waits for Slack as long as it takes: its context
// is the runtime's, which a shutdown does not cancel; Runnable also stops
// the waiting between retries on shutdown.
func Processor(cfg Config) stream.Processor[cdc.Change] {
	return newProcessor(cfg, context.Background())
}

func newProcessor(cfg Config, stop context.Context) stream.Processor[cdc.Change] {
	cfg = cfg.withDefaults()
	h := &handler{cfg: cfg, host: webhookHost(cfg.WebhookURL), log: cfg.Logger.With("processor", Name)}
	return stream.Processor[cdc.Change]{
		Name:       Name,
		Topic:      activities.TopicValidated,
		Decode:     cdc.DecodeMessage,
		Migrations: Migrations(),
		Tables:     Tables,
		Handle: func(ctx context.Context, tx *sql.Tx, batch []stream.Record[cdc.Change]) error {
			return h.handle(ctx, stop, tx, batch)
		},
	}
}

// Migrations returns the processor's schema.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the embedded directory exists
	}
	return sub
}

// Runnable returns the processor to run under stream.Supervise: Processor
// run one event per transaction (whatever the Env's MaxBatch), with the
// HR register's schema migrated first, and retries interrupted when the
// processor stops.
func Runnable(cfg Config) stream.Runnable { return runnable{cfg: cfg} }

type runnable struct{ cfg Config }

func (r runnable) Spec() stream.Spec { return Processor(r.cfg).Spec() }

func (r runnable) Run(ctx context.Context, env stream.Env) error {
	if err := hr.Migrate(ctx, env.Store); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("processor %s: %w", Name, err)
	}
	env.MaxBatch = 1
	return newProcessor(r.cfg, ctx).Run(ctx, env)
}

// handler holds the processor's state.
type handler struct {
	cfg  Config
	host string // the webhook's host, the only part of it logged
	log  *slog.Logger
}

// handle posts the live new activities of batch not posted yet and records
// them in notify_posted.
func (h *handler) handle(ctx, stop context.Context, tx *sql.Tx, batch []stream.Record[cdc.Change]) error {
	for _, rec := range batch {
		c := rec.Value
		if !h.postable(&c) {
			continue
		}
		a := *c.After
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM notify_posted WHERE activity_id = $1`, a.ID).Scan(&one)
		if err == nil {
			continue // posted already
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("read notify_posted for activity %d: %w", a.ID, err)
		}
		name, err := employeeName(ctx, tx, a.EmployeeID)
		if err != nil {
			return err
		}
		msg := render(a, name, h.cfg.Language, h.cfg.Location)
		dry := h.cfg.WebhookURL == ""
		if dry {
			if _, err := fmt.Fprintf(h.cfg.Out, "slack (no webhook configured) would send: %s\n", msg.Text); err != nil {
				return fmt.Errorf("print the message of activity %d: %w", a.ID, err)
			}
		} else if err := h.send(ctx, stop, a.ID, msg); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO notify_posted (activity_id, posted_at, dry_run) VALUES ($1, $2, $3)`,
			a.ID, h.cfg.Now().UTC(), dry); err != nil {
			return fmt.Errorf("record the message of activity %d: %w", a.ID, err)
		}
		h.log.Info("activity congratulated", "activity", a.ID, "sport", a.SportType, "dry_run", dry)
	}
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
