package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/platform"
)

func newTopicsCmd(a *app) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "topics",
		Short: "List and tail the topics of the bus",
		Long: `Inspect the bus: list its topics with their size, retention and the lag of
each processor reading them, or print a topic's messages as they arrive.`,
		Example: `  podium topics list
  podium topics tail f1.results`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newTopicsListCmd(a), newTopicsTailCmd(a))
	return cmd
}

func newTopicsListCmd(a *app) *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List topics with messages, size, retention and processor lag",
		Long: `List every topic on the bus: partitions, messages kept, size, retention and,
for each processor reading it, its lag (messages not yet committed to the
store).`,
		Example: `  podium topics list
  podium topics list --format json | jq '.[] | select(.messages > 0)'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			f, err := ops.ParseFormat(format)
			if err != nil {
				return usageError{err}
			}
			p, err := platform.Open(cmd.Context(), a.cfg, a.logger, platform.Client, "topics list")
			if err != nil {
				return err
			}
			defer p.Close()
			rows, err := ops.Topics(cmd.Context(), p.Bus, p.Store, platform.Specs(platform.Stages(a.pipelines(p))))
			if err != nil {
				return err
			}
			return ops.WriteTopics(a.stdout, rows, f)
		},
	}
	cmd.Flags().StringVar(&format, "format", "table", "output format: table, json or csv")
	return cmd
}

func newTopicsTailCmd(a *app) *cobra.Command {
	var fromStart, asJSON bool
	var limit int
	cmd := &cobra.Command{
		Use:   "tail TOPIC",
		Short: "Print a topic's messages as they arrive, with key, headers and position",
		Long: `Print the messages of a topic as they arrive: topic, partition, offset, time,
key, headers and the value (pretty-printed JSON). tail reads without a
consumer group, so it never moves a processor's position, and never creates a
topic: a topic podium does not know is an error (with the known ones); one a
stage declares but nothing wrote yet is waited for. Stop it with Ctrl-C.`,
		Example: `  podium topics tail f1.results
  podium topics tail f1.results --from-start --limit 20
  podium topics tail f1.results.dlq --json | jq .headers`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeTopics,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := platform.Open(cmd.Context(), a.cfg, a.logger, platform.Client, "topics tail")
			if err != nil {
				return err
			}
			defer p.Close()
			ctx := cmd.Context()
			exists, err := ops.CheckTopic(ctx, p.Bus, platform.Specs(platform.Stages(a.pipelines(p))), args[0])
			if err != nil {
				return usageError{err}
			}
			if !exists {
				fmt.Fprintf(a.stderr, "topic %s has no message yet: waiting for the first one (Ctrl-C to stop)\n", args[0])
				if err := ops.WaitTopic(ctx, p.Bus, args[0], 500*time.Millisecond); err != nil {
					if ctx.Err() != nil {
						return nil
					}
					return err
				}
			}
			opts := ops.TailOptions{From: bus.Latest, Limit: limit, JSON: asJSON}
			if fromStart {
				opts.From = bus.Earliest
			}
			if !asJSON {
				fmt.Fprintf(a.stderr, "tailing %s (Ctrl-C to stop)\n", args[0])
			}
			return ops.Tail(ctx, p.Bus, args[0], opts, a.stdout)
		},
	}
	cmd.Flags().BoolVar(&fromStart, "from-start", false, "start with the oldest message kept instead of new ones")
	cmd.Flags().IntVar(&limit, "limit", 0, "stop after this many messages (0: until Ctrl-C)")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print one JSON object per message")
	return cmd
}
