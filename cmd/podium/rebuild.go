package main

import (
	"bufio"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/progress"
	"github.com/podiumhq/podium/internal/stream"
	"github.com/podiumhq/podium/internal/suggest"
)

func newRebuildCmd(a *app) *cobra.Command {
	return &cobra.Command{
		Use:   "rebuild PROCESSOR",
		Short: "Drop one processor's tables and positions and replay its topic",
		Long: `Rebuild the tables of one processor from its topic: drop them and the
processor's positions, create them again and replay the topic from its oldest
kept message until the processor has caught up. Use it after changing a
processor's logic, or to repair its tables.

Stop the processes that run the processor first (podium serve, demo or a
worker): they would write into the tables being rebuilt. Messages older than
the topic's retention are gone and cannot be replayed.`,
		Example:           `  podium rebuild f1-results`,
		Args:              cobra.ExactArgs(1),
		ValidArgsFunction: a.completeStages,
		RunE: func(cmd *cobra.Command, args []string) error {
			p, err := platform.Open(cmd.Context(), a.cfg, a.logger, platform.Client, "rebuild")
			if err != nil {
				return err
			}
			defer p.Close()
			if p.Remote {
				return fmt.Errorf("a podium process holds data dir %s and runs the processors; stop it, then run rebuild again", a.cfg.DataDir)
			}
			var proc stream.Runnable
			var names []string
			for _, pr := range platform.Stages(a.pipelines(p)) {
				names = append(names, pr.Spec().Name)
				if pr.Spec().Name == args[0] {
					proc = pr
				}
			}
			if proc == nil {
				return usageError{&suggest.Error{Kind: "stage", Name: args[0], Known: names}}
			}
			bar := progress.New(a.stderr, "rebuild "+args[0], 0)
			return ops.Rebuild(cmd.Context(), p.Env(), proc, bar)
		},
	}
}

func newResetCmd(a *app) *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "reset",
		Short: "Drop podium's tables and topics (asks first)",
		Long: `Delete everything podium keeps: the tables of every pipeline, the positions
and migrations, and every topic on the bus with its messages. It asks for
confirmation unless --yes is given. Stop the podium processes using the data
first.`,
		Example: `  podium reset
  podium reset --yes --store postgres://podium@db/podium`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			p, err := platform.Open(cmd.Context(), a.cfg, a.logger, platform.Client, "reset")
			if err != nil {
				return err
			}
			defer p.Close()
			if p.Remote {
				return fmt.Errorf("a podium process holds data dir %s; stop it, then run reset again", a.cfg.DataDir)
			}
			if !yes {
				fmt.Fprintf(a.stderr, "This deletes every podium table in %s and every topic on the bus with its messages.\nType yes to go on: ", p.Store)
				line, _ := bufio.NewReader(cmd.InOrStdin()).ReadString('\n')
				if strings.TrimSpace(line) != "yes" {
					return fmt.Errorf("reset cancelled: nothing was deleted (type yes, or pass --yes)")
				}
			}
			var extra []string
			pipelines := a.pipelines(p)
			for _, pl := range pipelines {
				extra = append(extra, pl.Tables...)
			}
			if err := ops.Reset(cmd.Context(), p.Env(), platform.Specs(platform.Stages(pipelines)), extra...); err != nil {
				return err
			}
			fmt.Fprintln(a.stderr, "podium reset: tables and topics deleted")
			return nil
		},
	}
	cmd.Flags().BoolVar(&yes, "yes", false, "do not ask for confirmation")
	return cmd
}
