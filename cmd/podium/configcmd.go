package main

import (
	"encoding/json"

	"github.com/spf13/cobra"
)

func newConfigCmd(a *app) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "config",
		Short: "Print the effective configuration, secrets masked, and where each value comes from",
		Long: `Print the configuration podium runs with: every setting, its value and where
the value comes from (flag, env, file with line, or default), in the layout of
the YAML configuration file, so the output can serve as a starting point for
one.

Precedence, strongest first: command-line flags, PODIUM_* environment
variables, the YAML file (--config FILE or PODIUM_CONFIG), defaults.

Secrets are masked: the bus password and token show as "****", and passwords
in URLs too (postgres://user:****@host/db). An invalid configuration is an
error that says what is wrong and how to fix it.`,
		Example: `  podium config
  podium --config podium.yaml --bus nats://localhost:4222 config
  PODIUM_LOG_LEVEL=debug podium config --json | jq '.settings[] | select(.source != "default")'`,
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			m := a.cfg.Masked()
			if asJSON {
				enc := json.NewEncoder(a.stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(m)
			}
			_, err := a.stdout.Write(m.YAML())
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON: the config file and each setting with its value, source and origin")
	return cmd
}
