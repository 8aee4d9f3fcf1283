package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
)

// result is the outcome of one podium run.
type result struct {
	code           int
	stdout, stderr string
}

// runPodium runs podium in-process with args and the environment env (and
// nothing of the real environment).
func runPodium(t *testing.T, env map[string]string, args ...string) result {
	t.Helper()
	var stdout, stderr lockedBuffer // commands log from goroutines (processors)
	a := newApp(&stdout, &stderr, func(k string) (string, bool) {
		v, ok := env[k]
		return v, ok
	})
	code := a.run(context.Background(), args)
	return result{code, stdout.String(), stderr.String()}
}

func TestVersion(t *testing.T) {
	t.Parallel()
	r := runPodium(t, nil, "version")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "podium ") || !strings.Contains(r.stdout, "go:       go") {
		t.Errorf("version: %+v", r)
	}

	r = runPodium(t, nil, "version", "--json")
	var v versionInfo
	if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || r.code != 0 {
		t.Fatalf("version --json: %+v: %v", r, err)
	}
	if v.Version == "" || !strings.HasPrefix(v.Go, "go") || v.Platform == "" {
		t.Errorf("version --json = %+v", v)
	}

	// A broken configuration does not stop version.
	r = runPodium(t, map[string]string{"PODIUM_LOG_LEVEL": "loud"}, "version")
	if r.code != 0 {
		t.Errorf("version with a bad config: %+v", r)
	}
}

func TestVersionLdflags(t *testing.T) {
	old := [3]string{version, commit, date}
	t.Cleanup(func() { version, commit, date = old[0], old[1], old[2] })
	version, commit, date = "v9.9.9", "abc123", "2030-01-01T00:00:00Z"
	v := buildVersion()
	if v.Version != "v9.9.9" || v.Commit != "abc123" || v.Date != "2030-01-01T00:00:00Z" {
		t.Errorf("buildVersion() = %+v", v)
	}
}

func TestConfigMasksSecrets(t *testing.T) {
	t.Parallel()
	env := map[string]string{"PODIUM_BUS_USERNAME": "podium", "PODIUM_BUS_PASSWORD": "hunter2-bus"}
	args := []string{"--store", "postgres://podium:pg-s3cret@db:5432/podium", "config"}
	for _, extra := range [][]string{nil, {"--json"}} {
		r := runPodium(t, env, append(args, extra...)...)
		if r.code != 0 {
			t.Fatalf("config %v: %+v", extra, r)
		}
		for _, secret := range []string{"hunter2-bus", "pg-s3cret"} {
			if strings.Contains(r.stdout+r.stderr, secret) {
				t.Errorf("config %v shows %q:\n%s", extra, secret, r.stdout)
			}
		}
		for _, want := range []string{"postgres://podium:****@db:5432/podium", "****", "PODIUM_BUS_PASSWORD", "--store"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("config %v lacks %q:\n%s", extra, want, r.stdout)
			}
		}
	}
}

func TestConfigFile(t *testing.T) {
	t.Parallel()
	p := filepath.Join(t.TempDir(), "podium.yaml")
	if err := os.WriteFile(p, []byte("log_level: debug\nretention:\n  max_age: 3d\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r := runPodium(t, map[string]string{"PODIUM_CONFIG": p}, "config")
	if r.code != 0 || !strings.Contains(r.stdout, "max_age: 3d # file "+p+":3") || !strings.Contains(r.stdout, "# config file: "+p) {
		t.Errorf("config with a file: %+v", r)
	}
	// Debug logging is on, on stderr.
	if !strings.Contains(r.stderr, "level=DEBUG") {
		t.Errorf("stderr lacks the debug log: %q", r.stderr)
	}

	if err := os.WriteFile(p, []byte("log_levle: debug\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	r = runPodium(t, nil, "--config", p, "config")
	if r.code != 1 || !strings.Contains(r.stderr, `unknown key "log_levle" (did you mean "log_level"?)`) {
		t.Errorf("config with an unknown key: %+v", r)
	}
}

func TestErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		env  map[string]string
		args []string
		code int
		want []string // in stderr
	}{
		{name: "bad log format", args: []string{"--log-format", "xml", "config"}, code: 1,
			want: []string{`podium: invalid --log-format "xml": use text or json (flag --log-format, env PODIUM_LOG_FORMAT, or log_format in the config file)` + "\n"}},
		{name: "bad env", env: map[string]string{"PODIUM_RETENTION_MAX_BYTES": "lots"}, args: []string{"config"}, code: 1,
			want: []string{`podium: invalid PODIUM_RETENTION_MAX_BYTES "lots"`}},
		{name: "two errors, each line prefixed", args: []string{"--log-format", "xml", "--log-level", "loud", "config"}, code: 1,
			want: []string{"podium: invalid --log-format", "\npodium: invalid --log-level"}},
		{name: "unknown flag", args: []string{"config", "--nope"}, code: 2,
			want: []string{"podium: unknown flag: --nope\n", "Run 'podium config --help' for usage.\n"}},
		{name: "unknown global flag", args: []string{"--nope"}, code: 2,
			want: []string{"unknown flag: --nope", "Run 'podium --help' for usage."}},
		{name: "flag without value", args: []string{"config", "--bus"}, code: 2,
			want: []string{"flag needs an argument: --bus", "Run 'podium config --help'"}},
		{name: "unknown command", args: []string{"confg"}, code: 2,
			want: []string{`podium: unknown command "confg" for "podium"; did you mean "config"?`, "Run 'podium --help' for usage."}},
		{name: "extra argument", args: []string{"version", "extra"}, code: 2,
			want: []string{`unknown command "extra" for "podium version"`, "Run 'podium version --help'"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runPodium(t, tt.env, tt.args...)
			if r.code != tt.code {
				t.Errorf("exit code = %d, want %d; stderr:\n%s", r.code, tt.code, r.stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(r.stderr, w) {
					t.Errorf("stderr lacks %q:\n%s", w, r.stderr)
				}
			}
			if r.stdout != "" {
				t.Errorf("stdout = %q, want nothing", r.stdout)
			}
		})
	}
}

func TestHelp(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"--help"}, {"config", "--help"}, {"help", "version"}} {
		r := runPodium(t, nil, args...)
		if r.code != 0 || !strings.Contains(r.stdout, "Usage:") {
			t.Errorf("podium %v: %+v", args, r)
		}
	}
	r := runPodium(t, nil, "--help")
	if !strings.Contains(r.stdout, "podium streams sports data") || !strings.Contains(r.stdout, "--data-dir") {
		t.Errorf("root help lacks the description or the global flags:\n%s", r.stdout)
	}
}

// TestEveryCommandIsDocumented checks that every command, including those
// added later, has Short, Long and Example text and declares its Args.
func TestEveryCommandIsDocumented(t *testing.T) {
	t.Parallel()
	var visit func(c *cobra.Command)
	visit = func(c *cobra.Command) {
		if c.Short == "" || c.Long == "" || c.Example == "" {
			t.Errorf("command %q lacks Short, Long or Example", c.CommandPath())
		}
		if c.Runnable() && c.Args == nil {
			t.Errorf("command %q has no Args validator (cobra.NoArgs, cobra.ExactArgs(1), ...)", c.CommandPath())
		}
		for _, sub := range c.Commands() {
			visit(sub)
		}
	}
	visit(newRootCmd(newApp(&bytes.Buffer{}, &bytes.Buffer{}, nil)))
}

// TestCommandPlumbing registers a command the way command files do and
// checks that it gets the loaded config and logger, that its errors exit 1,
// its usage errors 2, and that a cancelled run exits 130.
func TestCommandPlumbing(t *testing.T) {
	t.Parallel()
	newCmd := func(a *app) *cobra.Command {
		return &cobra.Command{
			Use: "probe", Short: "probe", Long: "probe", Example: "podium probe",
			Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				switch args[0] {
				case "fail":
					return errors.New("probe failed")
				case "usage":
					return usageErrorf("--x needs --y")
				case "wait":
					<-cmd.Context().Done()
					return cmd.Context().Err()
				}
				a.logger.Debug("probe ran", "data_dir", a.cfg.DataDir)
				_, err := a.stdout.Write([]byte(a.cfg.DataDir + "\n"))
				return err
			},
		}
	}
	run := func(ctx context.Context, args ...string) result {
		var stdout, stderr bytes.Buffer
		a := newApp(&stdout, &stderr, func(string) (string, bool) { return "", false })
		root := newRootCmd(a)
		root.AddCommand(newCmd(a))
		code := a.execute(ctx, root, args)
		return result{code, stdout.String(), stderr.String()}
	}
	if r := run(context.Background(), "--data-dir", "/srv/p", "--log-level", "debug", "probe", "ok"); r.code != 0 ||
		r.stdout != "/srv/p\n" || !strings.Contains(r.stderr, "probe ran") {
		t.Errorf("probe ok: %+v", r)
	}
	if r := run(context.Background(), "probe", "fail"); r.code != exitError {
		t.Errorf("probe fail: exit %d", r.code)
	}
	if r := run(context.Background(), "probe", "usage"); r.code != exitUsage {
		t.Errorf("probe usage: exit %d", r.code)
	}
	if r := run(context.Background(), "probe"); r.code != exitUsage {
		t.Errorf("probe without argument: exit %d", r.code)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := run(ctx, "probe", "wait"); r.code != exitInterrupted || r.stderr != "podium: interrupted\n" {
		t.Errorf("probe cancelled: %+v", r)
	}
}
