package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/platform"
)

func init() { addCommand(newDLQCmd) }

func newDLQCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "Inspect dead letters and send them back after a fix",
		Long: `A message a processor cannot decode, or that its handler rejects, goes to the
dead-letter topic <topic>.dlq with the reason, the processor and its source
position in headers; processing goes on. list shows them; replay publishes
them back on their source topic, once the cause is fixed.`,
		Example: `  podium dlq list f1.results
  podium dlq replay f1.results`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newDLQListCmd(a), newDLQReplayCmd(a))
	return cmd
}

func newDLQListCmd(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list TOPIC",
		Short: "List the dead letters of a topic with their reasons",
		Long: `List the dead letters of TOPIC (or of the dead-letter topic named): when,
which processor, the source position, the key, the reason and the value.`,
		Example: `  podium dlq list f1.results
  podium dlq list f1.results --format csv > dead-letters.csv`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			f, err := ops.ParseFormat(format)
			if err != nil {
				return usageError{err}
			}
			p, err := platform.Open(cmd.Context(), a.cfg, a.logger, platform.Client, "dlq list")
			if err != nil {
				return err
			}
			defer p.Close()
			msgs, err := ops.DeadLetters(cmd.Context(), p.Bus, args[0])
			if err != nil {
				return err
			}
			return ops.WriteDeadLetters(a.stdout, msgs, f)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, json or csv")
	return cmd
}

func newDLQReplayCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "replay TOPIC",
		Short: "Publish dead letters back on their source topic",
		Long: `Publish the dead letters of TOPIC back on the topic they came from, without
the dead-letter headers, so the processor reads them again. Fix the cause
first (a bug, reference data): a message that still fails goes back to the
dead-letter topic. Each dead letter is replayed once: a second replay sends
only those that arrived since.`,
		Example: `  podium dlq replay f1.results`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := platform.Open(cmd.Context(), a.cfg, a.logger, platform.Client, "dlq replay")
			if err != nil {
				return err
			}
			defer p.Close()
			n, err := ops.ReplayDeadLetters(cmd.Context(), p.Bus, args[0])
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "replayed %d dead letters\n", n)
			return nil
		},
	}
}
