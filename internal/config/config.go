// Package config loads podium's configuration from, strongest first,
// command-line flags, PODIUM_* environment variables, an optional YAML file
// (--config FILE or PODIUM_CONFIG) and defaults.
//
// Every value is declared once as a Setting (key, flag, variable, default,
// kind, secret); a Schema resolves, parses and validates them all the same
// way and records where each value came from. The core settings fill the
// fields of Config; other packages Register their own settings, in YAML
// sections of their own, and read them with Config.Get.
//
// A configuration file looks like:
//
//	data_dir: /var/lib/podium
//	bus: kafka://redpanda-0:9092,redpanda-1:9092
//	store: postgres://podium@db:5432/podium
//	http: 0.0.0.0:8080
//	log_format: json
//	log_level: info
//	bus_auth:
//	  username: podium
//	  password: secret        # better: PODIUM_BUS_PASSWORD
//	  sasl_mechanism: SCRAM-SHA-512
//	  tls: true
//	retention:
//	  max_age: 7d
//	  max_bytes: 1GiB
package config

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/podiumhq/podium/internal/bus"
)

// Config is podium's configuration. Load fills it; the zero Config is not
// valid, but a Config changed after Load is (Masked reports such changes as
// SourceCode).
type Config struct {
	// DataDir holds the embedded bus, the SQLite store and the lock of the
	// running podium process.
	DataDir string
	// Bus is the message bus: "" for the embedded NATS JetStream in DataDir,
	// "nats://host:4222" for a NATS server, "kafka://h1:9092,h2:9092" (or
	// redpanda://) for Kafka or Redpanda.
	Bus string
	// Store is the database: "" for the SQLite file podium.db in DataDir,
	// "postgres://..." for PostgreSQL, "sqlite:///path/file.db" or a path for
	// another SQLite file. See ResolvedStore and SQLitePath.
	Store string
	// HTTPAddr is the address of the HTTP server (web UI, API, metrics).
	HTTPAddr string
	// LogFormat is "text" or "json"; LogLevel "debug", "info", "warn" or
	// "error".
	LogFormat string
	LogLevel  string
	// BusAuth holds the credentials and TLS settings of an external bus.
	BusAuth BusAuth
	// Retention is the default retention of the topics podium creates.
	Retention Retention
	// File is the configuration file read, empty if none.
	File string

	values *Values
}

// BusAuth holds the credentials and TLS settings of an external bus, from
// the bus_auth: section of the file or PODIUM_BUS_* variables (never flags).
// BusAuthConfig turns it into a bus.Auth. Its String and LogValue mask the
// password and token.
type BusAuth struct {
	Username              string // bus_auth.username, PODIUM_BUS_USERNAME
	Password              string // bus_auth.password, PODIUM_BUS_PASSWORD
	Token                 string // bus_auth.token, PODIUM_BUS_TOKEN (NATS)
	CredsFile             string // bus_auth.creds, PODIUM_BUS_CREDS (NATS .creds file)
	SASLMechanism         string // bus_auth.sasl_mechanism, PODIUM_BUS_SASL_MECHANISM (Kafka)
	TLS                   bool   // bus_auth.tls, PODIUM_BUS_TLS
	TLSCAFile             string // bus_auth.tls_ca, PODIUM_BUS_TLS_CA
	TLSCertFile           string // bus_auth.tls_cert, PODIUM_BUS_TLS_CERT
	TLSKeyFile            string // bus_auth.tls_key, PODIUM_BUS_TLS_KEY
	TLSInsecureSkipVerify bool   // bus_auth.tls_insecure, PODIUM_BUS_TLS_INSECURE
}

// Retention is how long topics keep messages.
type Retention struct {
	// MaxAge drops messages older than this; zero keeps them forever.
	MaxAge time.Duration
	// MaxBytes drops the oldest messages beyond this size; zero means no
	// limit.
	MaxBytes int64
}

// The core settings. Their order is the order of `podium config`.
var coreSettings = []Setting{
	{Key: "data_dir", Flag: "data-dir", Env: "PODIUM_DATA_DIR", Default: "./podium-data",
		Usage: "data directory: embedded bus, SQLite store, lock of the running podium"},
	{Key: "bus", Flag: "bus", Env: "PODIUM_BUS", Check: checkBus,
		Usage: `message bus: "" embedded NATS JetStream in the data dir, nats://host:4222, or kafka://host1:9092,host2:9092 (Kafka/Redpanda)`},
	{Key: "store", Flag: "store", Env: "PODIUM_STORE", Check: checkStore,
		Usage: `database: "" SQLite podium.db in the data dir, postgres://user@host:5432/db, or sqlite:///path/file.db`},
	{Key: "http", Flag: "http", Env: "PODIUM_HTTP_ADDR", Default: "localhost:8080", Check: checkAddr,
		Usage: "HTTP listen address, host:port"},
	{Key: "log_format", Flag: "log-format", Env: "PODIUM_LOG_FORMAT", Default: "text", Allowed: []string{"text", "json"},
		Usage: "log format"},
	{Key: "log_level", Flag: "log-level", Env: "PODIUM_LOG_LEVEL", Default: "info", Allowed: []string{"debug", "info", "warn", "error"},
		Usage: "log level"},
	{Key: "retention.max_age", Flag: "retention-max-age", Env: "PODIUM_RETENTION_MAX_AGE", Default: "7d", Kind: KindDuration,
		Usage: "default retention of new topics: maximum message age, e.g. 168h or 7d (0 keeps forever)"},
	{Key: "retention.max_bytes", Flag: "retention-max-bytes", Env: "PODIUM_RETENTION_MAX_BYTES", Default: "1GiB", Kind: KindBytes,
		Usage: "default retention of new topics: maximum size, e.g. 512MiB or 1GB (0 means no limit)"},
	{Key: KeyMemoryLimit, Env: "PODIUM_MEMORY_LIMIT", Default: "0", Kind: KindBytes,
		Usage: "soft limit of the Go runtime's memory in serve, worker and demo, e.g. 256MiB (0: none, GOMEMLIMIT applies; demo takes 128MiB unless this or GOMEMLIMIT is set)"},
	{Key: "bus_auth.username", Env: "PODIUM_BUS_USERNAME", Usage: "bus user (NATS user, Kafka SASL user)"},
	{Key: "bus_auth.password", Env: "PODIUM_BUS_PASSWORD", Secret: true, Usage: "bus password"},
	{Key: "bus_auth.token", Env: "PODIUM_BUS_TOKEN", Secret: true, Usage: "NATS token"},
	{Key: "bus_auth.creds", Env: "PODIUM_BUS_CREDS", Usage: "NATS .creds file"},
	{Key: "bus_auth.sasl_mechanism", Env: "PODIUM_BUS_SASL_MECHANISM",
		Allowed: []string{"PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"}, Usage: "Kafka SASL mechanism"},
	{Key: "bus_auth.tls", Env: "PODIUM_BUS_TLS", Kind: KindBool, Usage: "use TLS to reach the bus"},
	{Key: "bus_auth.tls_ca", Env: "PODIUM_BUS_TLS_CA", Usage: "CA certificate file (PEM) for the bus"},
	{Key: "bus_auth.tls_cert", Env: "PODIUM_BUS_TLS_CERT", Usage: "client certificate file (PEM) for the bus"},
	{Key: "bus_auth.tls_key", Env: "PODIUM_BUS_TLS_KEY", Usage: "client key file (PEM) for the bus"},
	{Key: "bus_auth.tls_insecure", Env: "PODIUM_BUS_TLS_INSECURE", Kind: KindBool, Usage: "skip bus certificate checks (testing only)"},
	{Key: KeyKafkaSessionTimeout, Env: "PODIUM_KAFKA_SESSION_TIMEOUT", Default: "45s", Kind: KindDuration,
		Usage: "Kafka consumer groups: how long a worker that stopped answering keeps its partitions before another takes them over"},
	{Key: KeyKafkaRebalanceTimeout, Env: "PODIUM_KAFKA_REBALANCE_TIMEOUT", Default: "60s", Kind: KindDuration,
		Usage: "Kafka consumer groups: how long a rebalance waits for the workers to rejoin (a dead one is dropped after it)"},
}

// KeyMemoryLimit is the soft limit of the Go runtime's memory
// (debug.SetMemoryLimit) of the processes that run stages.
const KeyMemoryLimit = "memory_limit"

// The settings of the Kafka consumer groups' timeouts.
const (
	KeyKafkaSessionTimeout   = "kafka.session_timeout"
	KeyKafkaRebalanceTimeout = "kafka.rebalance_timeout"
)

// bindings tie settings to the fields of Config: field returns a pointer to
// a *string, *bool, *int64 or *time.Duration field.
var bindings = []struct {
	key   string
	field func(*Config) any
}{
	{"data_dir", func(c *Config) any { return &c.DataDir }},
	{"bus", func(c *Config) any { return &c.Bus }},
	{"store", func(c *Config) any { return &c.Store }},
	{"http", func(c *Config) any { return &c.HTTPAddr }},
	{"log_format", func(c *Config) any { return &c.LogFormat }},
	{"log_level", func(c *Config) any { return &c.LogLevel }},
	{"retention.max_age", func(c *Config) any { return &c.Retention.MaxAge }},
	{"retention.max_bytes", func(c *Config) any { return &c.Retention.MaxBytes }},
	{"bus_auth.username", func(c *Config) any { return &c.BusAuth.Username }},
	{"bus_auth.password", func(c *Config) any { return &c.BusAuth.Password }},
	{"bus_auth.token", func(c *Config) any { return &c.BusAuth.Token }},
	{"bus_auth.creds", func(c *Config) any { return &c.BusAuth.CredsFile }},
	{"bus_auth.sasl_mechanism", func(c *Config) any { return &c.BusAuth.SASLMechanism }},
	{"bus_auth.tls", func(c *Config) any { return &c.BusAuth.TLS }},
	{"bus_auth.tls_ca", func(c *Config) any { return &c.BusAuth.TLSCAFile }},
	{"bus_auth.tls_cert", func(c *Config) any { return &c.BusAuth.TLSCertFile }},
	{"bus_auth.tls_key", func(c *Config) any { return &c.BusAuth.TLSKeyFile }},
	{"bus_auth.tls_insecure", func(c *Config) any { return &c.BusAuth.TLSInsecureSkipVerify }},
}

// std is the schema of Load, AddFlags and Register.
var std = NewSchema(coreSettings...)

// Register adds settings to the schema Load uses. Call it before AddFlags
// and Load, from an init function of the package that owns the settings.
// It panics on a programming error; see Schema.Register.
func Register(settings ...Setting) { std.Register(settings...) }

// Settings returns every registered setting, the core ones first.
func Settings() []Setting { return std.Settings() }

// AddFlags registers on fs the global flags: --config and the flags of the
// registered settings (except local flags). Call it on the root command's
// persistent flags.
func AddFlags(fs *pflag.FlagSet) { std.AddFlags(fs) }

// AddSettingFlags registers on fs the flags of the settings with the given
// keys; for settings with LocalFlag, on the commands that use them.
func AddSettingFlags(fs *pflag.FlagSet, keys ...string) { std.AddSettingFlags(fs, keys...) }

// Load resolves the configuration: flags set in fs (nil for none) beat
// environment variables read through lookupEnv (os.LookupEnv in
// production) which beat the YAML file named by --config or PODIUM_CONFIG,
// which beats the defaults. It validates every value; the error lists every
// invalid one, saying what is wrong and how to fix it.
func Load(fs *pflag.FlagSet, lookupEnv func(string) (string, bool)) (Config, error) {
	vs, err := std.Resolve(fs, lookupEnv)
	if err != nil {
		return Config{}, err
	}
	c := Config{File: vs.File, values: vs}
	for _, b := range bindings {
		v := vs.Get(b.key)
		switch p := b.field(&c).(type) {
		case *string:
			*p = v.String()
		case *bool:
			*p = v.Bool()
		case *int64:
			*p = v.Int()
		case *time.Duration:
			*p = v.Duration()
		}
	}
	if err := c.check(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// check validates what involves several settings.
func (c Config) check() error {
	var errs []error
	if (c.BusAuth.TLSCertFile == "") != (c.BusAuth.TLSKeyFile == "") {
		errs = append(errs, errors.New("bus_auth.tls_cert and bus_auth.tls_key go together: set both or neither "+
			"(env PODIUM_BUS_TLS_CERT and PODIUM_BUS_TLS_KEY, or bus_auth.tls_cert and bus_auth.tls_key in the config file)"))
	}
	if c.BusAuth.Password != "" && c.BusAuth.Username == "" {
		errs = append(errs, errors.New("bus_auth.password is set without bus_auth.username: set the user too "+
			"(env PODIUM_BUS_USERNAME, or bus_auth.username in the config file)"))
	}
	return errors.Join(errs...)
}

// Get returns the value of a registered setting, for the settings other
// packages Register: cfg.Get("f1.poll_interval").Duration(). It panics if
// key is not registered. Core settings are better read from the fields.
func (c Config) Get(key string) Value {
	return c.effective().Get(key)
}

// effective returns the values behind c, with the fields of c applied: a
// Config built or changed in code reports those values as SourceCode.
func (c Config) effective() *Values {
	base := c.values
	if base == nil {
		base, _ = std.Resolve(nil, nil)
	}
	vs := &Values{File: base.File, FileOrigin: base.FileOrigin, order: base.order, vals: make(map[string]Value, len(base.vals))}
	for k, v := range base.vals {
		vs.vals[k] = v
	}
	for _, b := range bindings {
		v, ok := vs.vals[b.key]
		if !ok {
			continue
		}
		var cur any
		switch p := b.field(&c).(type) {
		case *string:
			cur = *p
		case *bool:
			cur = *p
		case *int64:
			cur = *p
		case *time.Duration:
			cur = *p
		}
		if cur == v.parsed {
			continue
		}
		switch x := cur.(type) {
		case string:
			v.Raw = x
		case bool:
			v.Raw = strconv.FormatBool(x)
		case int64:
			v.Raw = strconv.FormatInt(x, 10)
			if v.kind == KindBytes {
				v.Raw = formatBytes(x)
			}
		case time.Duration:
			v.Raw = formatDuration(x)
		}
		v.parsed, v.Source, v.Origin = cur, SourceCode, ""
		vs.vals[b.key] = v
	}
	return vs
}

// Masked returns c for printing, secrets masked ("****", and passwords in
// URLs: postgres://user:****@host/db), with the source of every value.
func (c Config) Masked() Effective { return c.effective().Masked() }

// LogValue logs c as its masked settings.
func (c Config) LogValue() slog.Value {
	m := c.Masked()
	attrs := make([]slog.Attr, 0, len(m.Settings))
	for _, s := range m.Settings {
		attrs = append(attrs, slog.String(s.Key, s.Value))
	}
	return slog.GroupValue(attrs...)
}

// BusAuthConfig returns the bus credentials and TLS settings for the bus
// engines.
func (c Config) BusAuthConfig() bus.Auth {
	a := c.BusAuth
	return bus.Auth{
		Username:              a.Username,
		Password:              a.Password,
		Token:                 a.Token,
		CredsFile:             a.CredsFile,
		SASLMechanism:         a.SASLMechanism,
		TLS:                   a.TLS,
		TLSCAFile:             a.TLSCAFile,
		TLSCertFile:           a.TLSCertFile,
		TLSKeyFile:            a.TLSKeyFile,
		TLSInsecureSkipVerify: a.TLSInsecureSkipVerify,
	}
}

// String returns a with the password and token masked.
func (a BusAuth) String() string {
	return fmt.Sprintf("{Username:%s Password:%s Token:%s CredsFile:%s SASLMechanism:%s TLS:%t TLSCAFile:%s TLSCertFile:%s TLSKeyFile:%s TLSInsecureSkipVerify:%t}",
		a.Username, maskSecret(a.Password), maskSecret(a.Token), a.CredsFile, a.SASLMechanism, a.TLS, a.TLSCAFile, a.TLSCertFile, a.TLSKeyFile, a.TLSInsecureSkipVerify)
}

// GoString is String, so that %#v masks too.
func (a BusAuth) GoString() string { return "config.BusAuth" + a.String() }

// LogValue logs a with the password and token masked.
func (a BusAuth) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("username", a.Username),
		slog.String("password", maskSecret(a.Password)),
		slog.String("token", maskSecret(a.Token)),
		slog.String("creds", a.CredsFile),
		slog.String("sasl_mechanism", a.SASLMechanism),
		slog.Bool("tls", a.TLS),
	)
}

func maskSecret(s string) string {
	if s == "" {
		return ""
	}
	return Mask
}

// DefaultStoreFile is the SQLite file in the data dir used when Store is
// empty.
const DefaultStoreFile = "podium.db"

// ResolvedStore returns the store URL with the default applied:
// "postgres://..." as configured, or "sqlite://" followed by the SQLite file
// path (sqlite:///abs/podium.db, sqlite://podium-data/podium.db for a
// relative one). Use SQLitePath for the file path itself.
func (c Config) ResolvedStore() string {
	if p, ok := c.SQLitePath(); ok {
		return "sqlite://" + p
	}
	return c.Store
}

// SQLitePath returns the SQLite file of the store and true, or "" and false
// when the store is PostgreSQL. The default is podium.db in DataDir.
func (c Config) SQLitePath() (string, bool) {
	scheme, rest, ok := strings.Cut(c.Store, "://")
	switch {
	case c.Store == "":
		return filepath.Join(c.DataDir, DefaultStoreFile), true
	case !ok:
		return c.Store, true
	case strings.EqualFold(scheme, "sqlite"):
		return rest, true
	}
	return "", false
}

// IsPostgres reports whether the store is PostgreSQL.
func (c Config) IsPostgres() bool {
	_, ok := c.SQLitePath()
	return !ok
}

const (
	busHint   = `use nats://host:4222 for NATS, kafka://host1:9092,host2:9092 for Kafka or Redpanda, or "" for the embedded JetStream in the data dir`
	storeHint = `use postgres://user:password@host:5432/db for PostgreSQL, sqlite:///path/file.db or a file path for SQLite, or "" for podium.db in the data dir`
)

// checkBus validates a bus URL: nats://, kafka:// or redpanda:// followed by
// comma-separated host[:port] (NATS also accepts a list of full URLs).
func checkBus(s string) error {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return errors.New("missing scheme: " + busHint)
	}
	scheme = strings.ToLower(scheme)
	switch scheme {
	case "nats", "kafka", "redpanda":
	default:
		return fmt.Errorf("unknown bus scheme %q: %s", scheme, busHint)
	}
	for _, h := range strings.Split(rest, ",") {
		if sch, r, ok := strings.Cut(h, "://"); ok { // nats://a:4222,nats://b:4222
			if !strings.EqualFold(sch, scheme) {
				return fmt.Errorf("mixed schemes %s and %s: %s", scheme, strings.ToLower(sch), busHint)
			}
			h = r
		}
		if i := strings.LastIndexByte(h, '@'); i >= 0 {
			h = h[i+1:]
		}
		h = strings.TrimSuffix(h, "/")
		if h == "" {
			return errors.New("empty host: " + busHint)
		}
		if strings.ContainsAny(h, "/?#") {
			return fmt.Errorf("%q is not host:port: %s", h, busHint)
		}
		if _, port, err := net.SplitHostPort(h); err == nil {
			if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
				return fmt.Errorf("invalid port %q: %s", port, busHint)
			}
		}
	}
	return nil
}

// checkStore validates a store: postgres:// or postgresql:// URL,
// sqlite:// URL or a file path.
func checkStore(s string) error {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		if strings.Contains(s, "=") && strings.Contains(s, " ") {
			return errors.New("looks like a PostgreSQL keyword/value string; use a postgres://user:password@host:5432/db URL")
		}
		return nil // a SQLite file path
	}
	switch strings.ToLower(scheme) {
	case "postgres", "postgresql":
		if _, err := url.Parse(s); err != nil {
			var ue *url.Error
			if errors.As(err, &ue) {
				err = ue.Err // url.Error repeats the URL, password included
			}
			return fmt.Errorf("not a valid URL (%v): %s", err, storeHint)
		}
	case "sqlite":
		if rest == "" {
			return errors.New("missing file path: " + storeHint)
		}
	default:
		return fmt.Errorf("unknown store scheme %q: %s", strings.ToLower(scheme), storeHint)
	}
	return nil
}

// checkAddr validates a host:port listen address.
func checkAddr(s string) error {
	_, port, err := net.SplitHostPort(s)
	if err != nil {
		return errors.New("use host:port, e.g. localhost:8080, :8080 or 0.0.0.0:8080")
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return fmt.Errorf("invalid port %q: use host:port, e.g. localhost:8080", port)
	}
	return nil
}
