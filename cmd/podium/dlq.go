package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/stream"
)

func newDLQCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "dlq",
		Short: "Inspect dead letters and send them back after a fix",
		Long: `A message a stage cannot decode, or that its handler rejects, goes to the
dead-letter topic <topic>.dlq with the reason, the stage and its source
position in headers; processing goes on. A call an effect stage makes to an
outside service (a Slack message) that the service refuses — a revoked
webhook, an archived channel — is parked in the stage's ledger with the
service's answer. list shows both; replay sends the dead letters back on their
source topic and tries the parked calls again, once the cause is fixed.`,
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
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeTopics,
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
			if err := a.checkDLQTopic(cmd.Context(), p, args[0]); err != nil {
				return err
			}
			msgs, err := ops.DeadLetters(cmd.Context(), p.Bus, args[0])
			if err != nil {
				return err
			}
			parked, err := stream.Parked(cmd.Context(), p.Store.DB(), strings.TrimSuffix(args[0], ".dlq"))
			if err != nil {
				return err
			}
			return ops.WriteDeadLetters(a.stdout, msgs, parked, f)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, json or csv")
	return cmd
}

func newDLQReplayCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "replay TOPIC",
		Short: "Publish dead letters back on their source topic; try parked calls again",
		Long: `Publish the dead letters of TOPIC back on the topic they came from, without
the dead-letter headers, so the stage reads them again; and set the calls the
effect stages reading TOPIC parked back to pending, so that they are tried
again (within a second, by the running stage). Fix the cause first (a bug,
reference data, a new webhook): a message that still fails goes back to the
dead-letter topic, a call still refused is parked again. Each dead letter is
replayed once: a second replay sends only those that arrived since.`,
		Example:           `  podium dlq replay f1.results`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeTopics,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := platform.Open(cmd.Context(), a.cfg, a.logger, platform.Client, "dlq replay")
			if err != nil {
				return err
			}
			defer p.Close()
			if err := a.checkDLQTopic(cmd.Context(), p, args[0]); err != nil {
				return err
			}
			n, err := ops.ReplayDeadLetters(cmd.Context(), p.Bus, args[0])
			if err != nil {
				return err
			}
			calls, err := stream.Rearm(cmd.Context(), p.Store, strings.TrimSuffix(args[0], ".dlq"))
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stderr, "replayed %d dead letters; %d parked calls to try again\n", n, calls)
			return nil
		},
	}
}

// checkDLQTopic is a usage error when podium knows no topic (or dead-letter
// topic) named topic.
func (a *app) checkDLQTopic(ctx context.Context, p *platform.App, topic string) error {
	if _, err := ops.CheckTopic(ctx, p.Bus, platform.Specs(platform.Stages(a.pipelines(p))), topic); err != nil {
		return usageError{err}
	}
	return nil
}
