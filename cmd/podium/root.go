package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/logging"
	"github.com/podiumhq/podium/internal/platform"
)

// app is what every podium command shares. One app is made per run; each
// command's constructor receives it and keeps the pointer; the root
// command's PersistentPreRunE fills cfg and logger before any command's
// RunE runs, so RunE reads them from there:
//
//	func newTopicsCmd(a *app) *cobra.Command {
//		var asJSON bool
//		cmd := &cobra.Command{
//			Use: "topics", Short: "...", Long: "...", Example: "...",
//			Args: cobra.NoArgs,
//			RunE: func(cmd *cobra.Command, args []string) error {
//				a.logger.Debug("listing topics", "bus", a.cfg.Bus)
//				... cmd.Context() is cancelled on SIGINT/SIGTERM ...
//				fmt.Fprintln(a.stdout, ...)   // results only
//				return err                     // printed as "podium: <err>", exit 1
//			},
//		}
//		cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
//		return cmd
//	}
//
// stdout carries machine-readable output alone (what a script would pipe);
// logs, progress and banners go to stderr, through logger or directly.
type app struct {
	// cfg is the loaded configuration (valid from PersistentPreRunE on).
	cfg config.Config
	// logger logs to stderr in the configured format and level.
	logger *slog.Logger
	// stdout is for results; stderr for everything meant for people.
	stdout io.Writer
	stderr io.Writer
	// stdin answers prompts (reset's confirmation); nil is os.Stdin.
	stdin io.Reader
	// lookupEnv reads the environment: os.LookupEnv, or a map in tests.
	lookupEnv func(string) (string, bool)
	// setDefaultLogger makes logger slog's default too (main sets it; tests
	// do not, to run in parallel).
	setDefaultLogger bool
	// extraPipelines are added to the pipelines (tests add their own).
	extraPipelines []func(a *app, p *platform.App) platform.Pipeline
}

// newApp returns an app writing to stdout and stderr and reading the
// environment through lookupEnv.
func newApp(stdout, stderr io.Writer, lookupEnv func(string) (string, bool)) *app {
	return &app{
		stdout:    stdout,
		stderr:    stderr,
		lookupEnv: lookupEnv,
		logger:    slog.New(slog.NewTextHandler(stderr, nil)),
	}
}

// commands are the constructors of podium's subcommands (cobra lists
// them sorted by name).
var commands = []func(*app) *cobra.Command{
	newServeCmd, newWorkerCmd, newDemoCmd,
	newF1Cmd, newActivitiesCmd,
	newTopicsCmd, newDLQCmd, newRebuildCmd, newResetCmd,
	newConfigCmd, newVersionCmd, newHealthCmd,
	newBenchCmd,
}

// skipConfigAnnotation on a command makes a broken configuration no error
// for it (version, bare podium): it runs with the defaults if Load fails.
const skipConfigAnnotation = "podium/skip-config"

func init() {
	// Run the root command's PersistentPreRunE even for commands that have
	// their own.
	cobra.EnableTraverseRunHooks = true
	// Every setting podium knows, declared once.
	config.Register(slices.Concat(f1Settings(), openF1Settings(), activitiesSettings())...)
}

const rootLong = `podium streams sports data: the F1 live championship and employee sport
activities, on one streaming platform (embedded NATS JetStream + SQLite by
default; Kafka/Redpanda and PostgreSQL at scale).

With no configuration, podium keeps everything in one data dir
(./podium-data): the embedded NATS JetStream bus and the SQLite database.
A long-running podium (serve, demo, worker) holds the data dir; other
commands on the same dir reach the bus through it.

Configuration comes from, strongest first: command-line flags, PODIUM_*
environment variables, a YAML file (--config FILE or PODIUM_CONFIG), and
defaults. Secrets (bus password and token) come from the environment or the
file only. "podium config" shows the effective configuration and where each
value comes from.`

const rootExample = `  # Show the effective configuration
  podium config

  # Use an external NATS server and a PostgreSQL database
  PODIUM_BUS=nats://nats:4222 PODIUM_STORE=postgres://podium@db/podium podium config

  # Use Redpanda, with credentials from the environment
  PODIUM_BUS_USERNAME=podium PODIUM_BUS_PASSWORD=... podium --bus kafka://redpanda:9092 config

  # Read settings from a file, log JSON
  podium --config podium.yaml --log-format json version`

// newRootCmd builds the podium command tree for a.
func newRootCmd(a *app) *cobra.Command {
	root := &cobra.Command{
		Use:               "podium",
		Short:             "Stream sports data: the F1 live championship and employee sport activities",
		Long:              rootLong,
		Example:           rootExample,
		SilenceErrors:     true, // run prints errors
		SilenceUsage:      true, // and a usage hint instead of the whole usage
		Args:              unknownCommand,
		Annotations:       map[string]string{skipConfigAnnotation: "true"},
		PersistentPreRunE: a.setup,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return cmd.Help()
		},
	}
	root.SuggestionsMinimumDistance = 2
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	if a.stdin != nil {
		root.SetIn(a.stdin)
	}
	config.AddFlags(root.PersistentFlags())
	for _, newCmd := range commands {
		root.AddCommand(newCmd(a))
	}
	return root
}

// setup loads the configuration and builds the logger.
func (a *app) setup(cmd *cobra.Command, _ []string) error {
	cfg, err := config.Load(cmd.Flags(), a.lookupEnv)
	if err != nil {
		if !skipsConfig(cmd) {
			return err
		}
		cfg, _ = config.Load(nil, nil) // the defaults
	}
	logger, err := logging.New(a.stderr, cfg.LogFormat, cfg.LogLevel)
	if err != nil {
		return err
	}
	a.cfg, a.logger = cfg, logger
	if a.setDefaultLogger {
		slog.SetDefault(logger)
	}
	if cfg.File != "" {
		logger.Debug("configuration file read", "file", cfg.File)
	}
	return nil
}

// skipsConfig reports whether cmd runs even with a broken configuration.
func skipsConfig(cmd *cobra.Command) bool {
	if cmd.Annotations[skipConfigAnnotation] == "true" {
		return true
	}
	for c := cmd; c != nil; c = c.Parent() {
		if c.Name() == "completion" || c.Name() == cobra.ShellCompRequestCmd || c.Name() == cobra.ShellCompNoDescRequestCmd {
			return true
		}
	}
	return false
}

// unknownCommand is the Args of the root command: podium takes no
// arguments, only subcommands.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf("; did you mean %q?", strings.Join(s, `" or "`))
	}
	return usageError{errors.New(msg)}
}

// usageError is a mistake on the command line: podium exits with status 2
// and a hint to run --help. Commands return one with usageErrorf when the
// flags or arguments they got do not make sense together.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// usageErrorf formats a usageError.
func usageErrorf(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

// runError marks an error returned by a command's own code (RunE and the
// hooks), as opposed to cobra's flag and argument errors, which are usage
// errors.
type runError struct{ err error }

func (e runError) Error() string { return e.err.Error() }
func (e runError) Unwrap() error { return e.err }

// markRunErrors wraps the RunE and hooks of c and its subcommands so that
// their errors are runErrors.
func markRunErrors(c *cobra.Command) {
	wrap := func(f func(*cobra.Command, []string) error) func(*cobra.Command, []string) error {
		if f == nil {
			return nil
		}
		return func(cmd *cobra.Command, args []string) error {
			if err := f(cmd, args); err != nil {
				return runError{err}
			}
			return nil
		}
	}
	c.PersistentPreRunE = wrap(c.PersistentPreRunE)
	c.PreRunE = wrap(c.PreRunE)
	c.RunE = wrap(c.RunE)
	c.PostRunE = wrap(c.PostRunE)
	c.PersistentPostRunE = wrap(c.PersistentPostRunE)
	for _, sub := range c.Commands() {
		markRunErrors(sub)
	}
}

// Exit statuses.
const (
	exitOK          = 0
	exitError       = 1
	exitUsage       = 2
	exitInterrupted = 130
)

// run executes the podium command line args (without the program name) and
// returns the exit status: 0, 1 for an error, 2 for a usage error, 130 when
// a signal cancelled ctx and the command gave up with context.Canceled.
// Errors are printed on stderr as "podium: <error>".
func (a *app) run(ctx context.Context, args []string) int {
	return a.execute(ctx, newRootCmd(a), args)
}

// execute runs root, a command tree built for a, like run.
func (a *app) execute(ctx context.Context, root *cobra.Command, args []string) int {
	markRunErrors(root)
	root.SetArgs(args)
	cmd, err := root.ExecuteContextC(ctx)
	if err == nil {
		return exitOK
	}
	var ue usageError
	var re runError
	switch {
	case errors.As(err, &ue) || !errors.As(err, &re):
		a.printError(err)
		if cmd == nil {
			cmd = root
		}
		fmt.Fprintf(a.stderr, "Run '%s --help' for usage.\n", cmd.CommandPath())
		return exitUsage
	case ctx.Err() != nil && errors.Is(err, context.Canceled):
		fmt.Fprintln(a.stderr, "podium: interrupted")
		return exitInterrupted
	}
	a.printError(err)
	return exitError
}

// printError prints err on stderr, each line prefixed with "podium: ".
func (a *app) printError(err error) {
	msg := strings.TrimRight(err.Error(), "\n")
	fmt.Fprintf(a.stderr, "podium: %s\n", strings.ReplaceAll(msg, "\n", "\npodium: "))
}
