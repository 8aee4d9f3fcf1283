package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"
	"gopkg.in/yaml.v3"

	"github.com/podiumhq/podium/internal/bus"
)

// env returns a lookupEnv reading m.
func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) {
		v, ok := m[k]
		return v, ok
	}
}

// writeFile writes a config file in a temporary directory.
func writeFile(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "podium.yaml")
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// load runs Load with the flags args, the environment e and, unless file is
// empty, a config file holding file (named by --config).
func load(t *testing.T, args []string, e map[string]string, file string) (Config, error) {
	t.Helper()
	fs := pflag.NewFlagSet("podium", pflag.ContinueOnError)
	AddFlags(fs)
	if file != "" {
		args = append([]string{"--config", writeFile(t, file)}, args...)
	}
	if err := fs.Parse(args); err != nil {
		t.Fatalf("parse %q: %v", args, err)
	}
	return Load(fs, env(e))
}

func TestDefaults(t *testing.T) {
	c, err := load(t, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{
		DataDir: "./podium-data", HTTPAddr: "localhost:8080", LogFormat: "text", LogLevel: "info",
		Retention: Retention{MaxAge: 7 * 24 * time.Hour, MaxBytes: 1 << 30},
	}
	c.values = nil
	if c != want {
		t.Errorf("defaults = %+v\nwant %+v", c, want)
	}
	if got := c.ResolvedStore(); got != "sqlite://podium-data/podium.db" {
		t.Errorf("ResolvedStore() = %q", got)
	}
}

// TestPrecedence checks flag > env > file > default for every kind of core
// setting: a string, an enumeration, a secret (no flag), a bool (no flag), a
// duration and a size.
func TestPrecedence(t *testing.T) {
	type field struct {
		key  string
		flag string // "" when the setting has no flag
		env  string
		file string // YAML holding the file value
		// the values given by flag, env, file, and the default, as the
		// field reads them
		vals [4]string
		get  func(Config) string
	}
	fields := []field{
		{key: "data_dir", flag: "data-dir", env: "PODIUM_DATA_DIR", file: "data_dir: /file",
			vals: [4]string{"/flag", "/env", "/file", "./podium-data"}, get: func(c Config) string { return c.DataDir }},
		{key: "log_level", flag: "log-level", env: "PODIUM_LOG_LEVEL", file: "log_level: warn",
			vals: [4]string{"debug", "error", "warn", "info"}, get: func(c Config) string { return c.LogLevel }},
		{key: "bus", flag: "bus", env: "PODIUM_BUS", file: "bus: nats://file:4222",
			vals: [4]string{"kafka://flag:9092", "nats://env:4222", "nats://file:4222", ""}, get: func(c Config) string { return c.Bus }},
		{key: "bus_auth.password", env: "PODIUM_BUS_PASSWORD", file: "bus_auth: {username: u, password: filepw}",
			vals: [4]string{"", "envpw", "filepw", ""}, get: func(c Config) string { return c.BusAuth.Password }},
		{key: "bus_auth.tls", env: "PODIUM_BUS_TLS", file: "bus_auth:\n  tls: false",
			vals: [4]string{"", "true", "false", "false"}, get: func(c Config) string { return strconvBool(c.BusAuth.TLS) }},
		{key: "retention.max_age", flag: "retention-max-age", env: "PODIUM_RETENTION_MAX_AGE", file: "retention:\n  max_age: 48h",
			vals: [4]string{"1h0m0s", "72h0m0s", "48h0m0s", "168h0m0s"}, get: func(c Config) string { return c.Retention.MaxAge.String() }},
		{key: "retention.max_bytes", flag: "retention-max-bytes", env: "PODIUM_RETENTION_MAX_BYTES", file: "retention: {max_bytes: 1GB}",
			vals: [4]string{"1024", "536870912", "1000000000", "1073741824"}, get: func(c Config) string { return int64String(c.Retention.MaxBytes) }},
	}
	// The raw inputs for flag and env, matching vals above.
	inputs := map[string][2]string{
		"data_dir":            {"/flag", "/env"},
		"log_level":           {"DEBUG", "error"},
		"bus":                 {"kafka://flag:9092", "nats://env:4222"},
		"bus_auth.password":   {"", "envpw"},
		"bus_auth.tls":        {"", "yes"},
		"retention.max_age":   {"1h", "3d"},
		"retention.max_bytes": {"1KiB", "512MiB"},
	}
	for _, f := range fields {
		cases := []struct {
			name                     string
			useFlag, useEnv, useFile bool
			want                     int // index in vals
			source                   Source
		}{
			{"flag beats env and file", true, true, true, 0, SourceFlag},
			{"env beats file", false, true, true, 1, SourceEnv},
			{"file beats default", false, false, true, 2, SourceFile},
			{"default", false, false, false, 3, SourceDefault},
		}
		for _, tc := range cases {
			if tc.useFlag && f.flag == "" {
				continue
			}
			t.Run(f.key+"/"+tc.name, func(t *testing.T) {
				var args []string
				e := map[string]string{}
				file := ""
				if tc.useFlag {
					args = append(args, "--"+f.flag+"="+inputs[f.key][0])
				}
				if tc.useEnv {
					e[f.env] = inputs[f.key][1]
					if f.key == "bus_auth.password" {
						e["PODIUM_BUS_USERNAME"] = "u"
					}
				}
				if tc.useFile {
					file = f.file
				}
				c, err := load(t, args, e, file)
				if err != nil {
					t.Fatal(err)
				}
				if got := f.get(c); got != f.vals[tc.want] {
					t.Errorf("value = %q, want %q", got, f.vals[tc.want])
				}
				if got := c.Get(f.key).Source; got != tc.source {
					t.Errorf("source = %q, want %q", got, tc.source)
				}
			})
		}
	}
}

func strconvBool(b bool) string {
	if b {
		return "true"
	}
	return "false"
}

func int64String(n int64) string { return strconv.FormatInt(n, 10) }

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func TestConfigFileFromEnv(t *testing.T) {
	p := writeFile(t, "log_format: json\n")
	fs := pflag.NewFlagSet("podium", pflag.ContinueOnError)
	AddFlags(fs)
	c, err := Load(fs, env(map[string]string{EnvConfigFile: p}))
	if err != nil {
		t.Fatal(err)
	}
	if c.LogFormat != "json" || c.File != p {
		t.Errorf("LogFormat = %q, File = %q; want json from %s", c.LogFormat, c.File, p)
	}
	if got := c.Get("log_format").Origin; got != p+":1" {
		t.Errorf("origin = %q, want %s:1", got, p)
	}
	// --config beats PODIUM_CONFIG.
	q := writeFile(t, "log_format: text\n")
	if err := fs.Parse([]string{"--config", q}); err != nil {
		t.Fatal(err)
	}
	c, err = Load(fs, env(map[string]string{EnvConfigFile: p}))
	if err != nil {
		t.Fatal(err)
	}
	if c.File != q || c.LogFormat != "text" {
		t.Errorf("File = %q, LogFormat = %q; want %s, text", c.File, c.LogFormat, q)
	}
}

func TestEmptyEnvIsUnset(t *testing.T) {
	c, err := load(t, nil, map[string]string{"PODIUM_LOG_LEVEL": "", "PODIUM_DATA_DIR": ""}, "log_level: debug")
	if err != nil {
		t.Fatal(err)
	}
	if c.LogLevel != "debug" || c.DataDir != "./podium-data" {
		t.Errorf("LogLevel = %q, DataDir = %q; want debug from the file and the default", c.LogLevel, c.DataDir)
	}
}

func TestValidationErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		env  map[string]string
		file string
		want []string // substrings of the error
		not  []string // must not appear in the error
	}{
		{name: "log format flag", args: []string{"--log-format", "xml"},
			want: []string{`invalid --log-format "xml": use text or json (flag --log-format, env PODIUM_LOG_FORMAT, or log_format in the config file)`}},
		{name: "log format env", env: map[string]string{"PODIUM_LOG_FORMAT": "xml"},
			want: []string{`invalid PODIUM_LOG_FORMAT "xml": use text or json`}},
		{name: "log format file", file: "\nlog_format: xml\n",
			want: []string{`invalid log_format "xml" in `, `podium.yaml line 2: use text or json`}},
		{name: "log level", args: []string{"--log-level=verbose"},
			want: []string{`invalid --log-level "verbose": use debug, info, warn or error`}},
		{name: "empty log level in file", file: "log_level: ''",
			want: []string{`must not be empty; use debug, info, warn or error`}},
		{name: "empty data dir", args: []string{"--data-dir="},
			want: []string{`invalid --data-dir "": must not be empty (flag --data-dir`}},
		{name: "bus scheme", args: []string{"--bus", "amqp://rabbit:5672"},
			want: []string{`invalid --bus "amqp://rabbit:5672": unknown bus scheme "amqp": use nats://host:4222`}},
		{name: "bus without scheme", args: []string{"--bus", "localhost:4222"},
			want: []string{`missing scheme`}},
		{name: "bus bad port", env: map[string]string{"PODIUM_BUS": "kafka://a:9092,b:ninety"},
			want: []string{`invalid port "ninety"`}},
		{name: "bus password masked in error", args: []string{"--bus", "amqp://u:hunter2@rabbit"},
			want: []string{`amqp://u:****@rabbit`}, not: []string{"hunter2"}},
		{name: "store scheme", args: []string{"--store", "mysql://db/podium"},
			want: []string{`unknown store scheme "mysql": use postgres://`}},
		{name: "store bad postgres URL masked", args: []string{"--store", "postgres://u:s3cret@db:port/x"},
			want: []string{`not a valid URL`, `postgres://u:****@db:port/x`}, not: []string{"s3cret"}},
		{name: "store keyword DSN", args: []string{"--store", "host=db password=s3cret"},
			want: []string{`keyword/value`}, not: []string{"s3cret"}},
		{name: "http addr", args: []string{"--http", "8080"},
			want: []string{`invalid --http "8080": use host:port`}},
		{name: "duration", env: map[string]string{"PODIUM_RETENTION_MAX_AGE": "a week"},
			want: []string{`invalid PODIUM_RETENTION_MAX_AGE "a week": use a duration such as 90m, 168h or 7d (flag --retention-max-age, env PODIUM_RETENTION_MAX_AGE, or retention.max_age in the config file)`}},
		{name: "negative duration", args: []string{"--retention-max-age=-1h"},
			want: []string{`invalid --retention-max-age "-1h"`}},
		{name: "size", args: []string{"--retention-max-bytes", "1 potato"},
			want: []string{`use a size such as 1073741824, 512MiB or 1GB`}},
		{name: "bool", env: map[string]string{"PODIUM_BUS_TLS": "maybe"},
			want: []string{`invalid PODIUM_BUS_TLS "maybe": use true or false (env PODIUM_BUS_TLS, or bus_auth.tls in the config file)`}},
		{name: "sasl", file: "bus_auth:\n  sasl_mechanism: GSSAPI\n",
			want: []string{`use PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512`}},
		{name: "several errors at once", args: []string{"--log-format=xml", "--log-level=loud"},
			want: []string{"--log-format", "--log-level"}},
		{name: "tls cert without key", env: map[string]string{"PODIUM_BUS_TLS_CERT": "c.pem"},
			want: []string{"bus_auth.tls_cert and bus_auth.tls_key go together"}},
		{name: "password without user", env: map[string]string{"PODIUM_BUS_PASSWORD": "hunter2"},
			want: []string{"bus_auth.password is set without bus_auth.username"}, not: []string{"hunter2"}},
		{name: "missing config file", args: []string{"--config", "/nonexistent/podium.yaml"},
			want: []string{"read config file (set by flag --config)", "/nonexistent/podium.yaml"}},
		{name: "yaml syntax", file: "log_level: [unclosed",
			want: []string{"podium.yaml", "yaml:"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, tt.args, tt.env, tt.file)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(err.Error(), n) {
					t.Errorf("error %q\nshows %q", err, n)
				}
			}
		})
	}
}

func TestSettingErrorType(t *testing.T) {
	_, err := load(t, []string{"--log-format", "xml"}, nil, "")
	var se *SettingError
	if !errors.As(err, &se) || se.Key != "log_format" || se.Source != SourceFlag {
		t.Fatalf("error %v is not a *SettingError for log_format from a flag", err)
	}
}

func TestNormalization(t *testing.T) {
	c, err := load(t, []string{"--log-format", "JSON", "--log-level", " Warn "},
		map[string]string{"PODIUM_BUS_SASL_MECHANISM": "scram-sha-512"}, "")
	if err != nil {
		t.Fatal(err)
	}
	if c.LogFormat != "json" || c.LogLevel != "warn" || c.BusAuth.SASLMechanism != "SCRAM-SHA-512" {
		t.Errorf("got %q %q %q, want json warn SCRAM-SHA-512", c.LogFormat, c.LogLevel, c.BusAuth.SASLMechanism)
	}
}

func TestValidValues(t *testing.T) {
	for _, args := range [][]string{
		{"--bus", "nats://localhost:4222"},
		{"--bus", "nats://a:4222,nats://b:4222"},
		{"--bus", "nats://user:pa@ss@a:4222"},
		{"--bus", "kafka://h1:9092,h2:9092"},
		{"--bus", "redpanda://h1"},
		{"--bus", ""},
		{"--store", "postgres://u:p@db:5432/podium?sslmode=disable"},
		{"--store", "postgresql:///podium"},
		{"--store", "sqlite:///var/lib/podium/podium.db"},
		{"--store", "./other.db"},
		{"--http", ":0"},
		{"--http", "[::1]:8080"},
		{"--retention-max-age", "0"},
		{"--retention-max-bytes", "0"},
	} {
		if _, err := load(t, args, nil, ""); err != nil {
			t.Errorf("%q: %v", args, err)
		}
	}
}

func TestStore(t *testing.T) {
	tests := []struct {
		store, dataDir string
		resolved       string
		path           string
		sqlite         bool
	}{
		{"", "./podium-data", "sqlite://podium-data/podium.db", "podium-data/podium.db", true},
		{"", "/var/lib/podium", "sqlite:///var/lib/podium/podium.db", "/var/lib/podium/podium.db", true},
		{"sqlite:///tmp/x.db", "d", "sqlite:///tmp/x.db", "/tmp/x.db", true},
		{"rel/x.db", "d", "sqlite://rel/x.db", "rel/x.db", true},
		{"postgres://u:p@h/db", "d", "postgres://u:p@h/db", "", false},
	}
	for _, tt := range tests {
		c := Config{Store: tt.store, DataDir: tt.dataDir}
		if got := c.ResolvedStore(); got != tt.resolved {
			t.Errorf("Store %q: ResolvedStore() = %q, want %q", tt.store, got, tt.resolved)
		}
		p, ok := c.SQLitePath()
		if p != tt.path || ok != tt.sqlite {
			t.Errorf("Store %q: SQLitePath() = %q, %v; want %q, %v", tt.store, p, ok, tt.path, tt.sqlite)
		}
		if c.IsPostgres() == tt.sqlite {
			t.Errorf("Store %q: IsPostgres() = %v", tt.store, c.IsPostgres())
		}
	}
}

func TestUnknownYAMLKeys(t *testing.T) {
	tests := []struct {
		name, file string
		want       []string
	}{
		{"top level typo", "data_dir: x\nlog_levle: debug\n",
			[]string{`line 2: unknown key "log_levle" (did you mean "log_level"?)`, "known keys at the top level: bus, bus_auth, data_dir"}},
		{"section typo", "bus_auth:\n  username: u\n  pasword: x\n",
			[]string{`line 3: unknown key "bus_auth.pasword" (did you mean "bus_auth.password"?)`, "known keys in bus_auth:"}},
		{"nothing close", "frobnicate: 1\n", []string{`unknown key "frobnicate";`}},
		{"scalar for a section", "retention: 7d\n", []string{`"retention" must be a mapping of max_age, max_bytes`}},
		{"mapping for a value", "bus:\n  url: x\n", []string{`"bus" must be a single value`}},
		{"list for a value", "log_level: [debug]\n", []string{`"log_level" must be a single value`}},
		{"duplicate key", "bus: a\nbus: b\n", []string{`key "bus" appears twice`}},
		{"not a mapping", "- a\n- b\n", []string{"the config file must be a mapping"}},
		{"two documents", "bus: ''\n---\nbus: ''\n", []string{"more than one YAML document"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := load(t, nil, nil, tt.file)
			if err == nil {
				t.Fatal("Load succeeded, want an error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q\nlacks %q", err, w)
				}
			}
		})
	}
}

func TestFileForms(t *testing.T) {
	tests := []struct {
		name, file string
		check      func(Config) bool
	}{
		{"empty file", "", func(c Config) bool { return c.LogLevel == "info" }},
		{"comments only", "# nothing\n", func(c Config) bool { return c.LogLevel == "info" }},
		{"null value is unset", "log_level:\nbus_auth:\n", func(c Config) bool { return c.LogLevel == "info" }},
		{"flow mapping", "retention: {max_age: 1d, max_bytes: 10MB}", func(c Config) bool {
			return c.Retention.MaxAge == 24*time.Hour && c.Retention.MaxBytes == 10_000_000
		}},
		{"yaml bool", "bus_auth: {tls: yes, tls_insecure: true}", func(c Config) bool { return c.BusAuth.TLS && c.BusAuth.TLSInsecureSkipVerify }},
		{"number", "retention:\n  max_bytes: 2048\n", func(c Config) bool { return c.Retention.MaxBytes == 2048 }},
		{"anchors", "x: &d debug\n", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := writeFile(t, tt.file)
			fs := pflag.NewFlagSet("podium", pflag.ContinueOnError)
			AddFlags(fs)
			_ = fs.Parse([]string{"--config", p})
			c, err := Load(fs, nil)
			if tt.check == nil {
				if err == nil {
					t.Fatal("want an error for the unknown key x")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Errorf("unexpected config %+v", c)
			}
		})
	}
}

func TestMasked(t *testing.T) {
	const (
		busPW   = "bus-pa@ss/w,rd:1"
		token   = "tok-SECRET-42"
		storePW = "st0re-secret"
		urlPW   = "url-secret"
	)
	c, err := load(t,
		[]string{"--store", "postgres://podium:" + storePW + "@db:5432/podium?sslmode=require", "--bus", "nats://admin:" + urlPW + "@n1:4222,nats://admin:" + urlPW + "@n2:4222"},
		map[string]string{"PODIUM_BUS_PASSWORD": busPW, "PODIUM_BUS_USERNAME": "admin", "PODIUM_BUS_TOKEN": token},
		"log_level: debug\n")
	if err != nil {
		t.Fatal(err)
	}
	m := c.Masked()
	js, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	ym, err := yaml.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	outputs := map[string]string{"YAML()": string(m.YAML()), "String()": m.String(), "json": string(js), "yaml.Marshal": string(ym)}
	for name, out := range outputs {
		for _, secret := range []string{busPW, token, storePW, urlPW, "pa@ss"} {
			if strings.Contains(out, secret) {
				t.Errorf("%s shows the secret %q:\n%s", name, secret, out)
			}
		}
	}
	y := string(m.YAML())
	for _, want := range []string{
		"store: postgres://podium:****@db:5432/podium?sslmode=require # flag --store",
		"bus: nats://admin:****@n1:4222,nats://admin:****@n2:4222 # flag --bus",
		"password: '****' # env PODIUM_BUS_PASSWORD",
		"token: '****' # env PODIUM_BUS_TOKEN",
		"username: admin # env PODIUM_BUS_USERNAME",
		"creds: \"\" # default",
		"log_level: debug # file ",
		"max_age: 7d # default",
		"# config file: ",
	} {
		if !strings.Contains(y, want) {
			t.Errorf("YAML lacks %q:\n%s", want, y)
		}
	}
	// The YAML is valid and laid out like the config file.
	var back map[string]any
	if err := yaml.Unmarshal(m.YAML(), &back); err != nil {
		t.Fatalf("YAML does not parse: %v", err)
	}
	if ba, ok := back["bus_auth"].(map[string]any); !ok || ba["password"] != Mask {
		t.Errorf("bus_auth.password = %v, want %q", back["bus_auth"], Mask)
	}
	// The JSON lists sources.
	var parsed Effective
	if err := json.Unmarshal(js, &parsed); err != nil {
		t.Fatal(err)
	}
	sources := map[string]Source{}
	for _, s := range parsed.Settings {
		sources[s.Key] = s.Source
	}
	want := map[string]Source{"store": SourceFlag, "bus_auth.password": SourceEnv, "log_level": SourceFile, "data_dir": SourceDefault}
	for k, w := range want {
		if sources[k] != w {
			t.Errorf("source of %s = %q, want %q", k, sources[k], w)
		}
	}
	// Unset secrets show empty, not a mask that suggests a value.
	d, _ := load(t, nil, nil, "")
	for _, s := range d.Masked().Settings {
		if s.Key == "bus_auth.password" && s.Value != "" {
			t.Errorf("unset password shows %q", s.Value)
		}
	}
}

func TestMaskedReportsCodeChanges(t *testing.T) {
	c, err := load(t, nil, nil, "")
	if err != nil {
		t.Fatal(err)
	}
	c.DataDir = "/tmp/x"
	c.Retention.MaxBytes = 2 << 20
	got := map[string]EffectiveSetting{}
	for _, s := range c.Masked().Settings {
		got[s.Key] = s
	}
	if s := got["data_dir"]; s.Value != "/tmp/x" || s.Source != SourceCode {
		t.Errorf("data_dir = %+v, want /tmp/x from code", s)
	}
	if s := got["retention.max_bytes"]; s.Value != "2MiB" || s.Source != SourceCode {
		t.Errorf("retention.max_bytes = %+v, want 2MiB from code", s)
	}
	if s := got["log_level"]; s.Source != SourceDefault {
		t.Errorf("log_level source = %q, want default", s.Source)
	}
	// A Config built in code works too.
	z := Config{DataDir: "d", BusAuth: BusAuth{Password: "zz-secret"}}
	if out := z.Masked().String(); strings.Contains(out, "zz-secret") || !strings.Contains(out, "data_dir: d # code") {
		t.Errorf("Masked of a literal Config:\n%s", out)
	}
}

func TestMaskURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"postgres://user:secret@host/db", "postgres://user:****@host/db"},
		{"postgres://user@host/db", "postgres://user@host/db"},
		{"postgres://host/db?user=u&password=secret&sslmode=disable", "postgres://host/db?user=u&password=****&sslmode=disable"},
		{"postgres://u:p@ss@host/db", "postgres://u:****@host/db"},
		{"postgres://u:pa/ss@host/db", "postgres://u:****@host/db"},
		{"postgres://u:p?ss@host/db", "postgres://u:****@host/db"},
		{"kafka://u:pw@h1:9092,h2:9092", "kafka://u:****@h1:9092,h2:9092"},
		{"kafka://u:p,w@h1:9092,h2:9092", "kafka://u:****@h1:9092,h2:9092"},
		{"nats://a:x@n1:4222,nats://b:y@n2:4222", "nats://a:****@n1:4222,nats://b:****@n2:4222"},
		{"nats://s3cr3t-token@n1:4222", "nats://****@n1:4222"},
		{"host=db user=u password=secret dbname=x", "host=db user=u password=**** dbname=x"},
		{"host=db password='se cret'", "host=db password=****"},
		{"./podium-data", "./podium-data"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := MaskURL(tt.in); got != tt.want {
			t.Errorf("MaskURL(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBusAuthNeverPrintsSecrets(t *testing.T) {
	a := BusAuth{Username: "u", Password: "pw-secret", Token: "tok-secret"}
	for _, s := range []string{a.String(), a.GoString(), a.LogValue().String(), sprintf("%v", a), sprintf("%+v", Config{BusAuth: a})} {
		if strings.Contains(s, "secret") {
			t.Errorf("printed secret: %s", s)
		}
	}
}

func TestBusAuthConfig(t *testing.T) {
	c, err := load(t, nil, map[string]string{
		"PODIUM_BUS_USERNAME": "u", "PODIUM_BUS_PASSWORD": "p", "PODIUM_BUS_TOKEN": "t", "PODIUM_BUS_CREDS": "c.creds",
		"PODIUM_BUS_SASL_MECHANISM": "plain", "PODIUM_BUS_TLS": "1", "PODIUM_BUS_TLS_CA": "ca.pem",
		"PODIUM_BUS_TLS_CERT": "c.pem", "PODIUM_BUS_TLS_KEY": "k.pem", "PODIUM_BUS_TLS_INSECURE": "on",
	}, "")
	if err != nil {
		t.Fatal(err)
	}
	want := bus.Auth{Username: "u", Password: "p", Token: "t", CredsFile: "c.creds", SASLMechanism: "PLAIN", TLS: true,
		TLSCAFile: "ca.pem", TLSCertFile: "c.pem", TLSKeyFile: "k.pem", TLSInsecureSkipVerify: true}
	if got := c.BusAuthConfig(); got != want {
		t.Errorf("BusAuthConfig() = %+v\nwant %+v", got, want)
	}
}
