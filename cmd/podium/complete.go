package main

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/lake"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/f1/archive"
	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/platform"
	"github.com/podiumhq/podium/internal/stream"
)

// Completion of values. cobra writes the scripts (podium completion bash,
// zsh, fish or powershell) and completes commands and flags; the functions
// here give it the values: seasons and rounds of the archive, topics,
// stages, lake tables and employees. Values that live in the data (topics on
// the bus, employees) are read only when the data dir exists or an external
// engine is configured: completing never creates a data dir.

// completeTimeout bounds the work of one completion.
const completeTimeout = 3 * time.Second

type completeFunc = func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective)

// noFiles ends every completion: values, never file names.
const noFiles = cobra.ShellCompDirectiveNoFileComp

// completeSeasons completes --season with the archive's seasons.
func completeSeasons(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
	arc, err := archive.Load()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	var out []cobra.Completion
	for _, s := range arc.Seasons() {
		out = append(out, strconv.Itoa(s))
	}
	return out, noFiles
}

// completeRounds completes a round flag with the rounds of --season (the
// archive's latest season without it), each with its Grand Prix.
func completeRounds(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	arc, err := archive.Load()
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	seasons := arc.Seasons()
	year := seasons[len(seasons)-1]
	if f := cmd.Flags().Lookup("season"); f != nil && f.Changed {
		if y, err := strconv.Atoi(f.Value.String()); err == nil {
			year = y
		}
	}
	s, ok := arc.Season(year)
	if !ok {
		return nil, noFiles
	}
	var out []cobra.Completion
	for _, r := range s.Rounds {
		out = append(out, cobra.CompletionWithDesc(strconv.Itoa(r.Round), r.GrandPrix))
	}
	return out, cobra.ShellCompDirectiveNoFileComp | cobra.ShellCompDirectiveKeepOrder
}

// completeLakeTables completes a lake table name.
func completeLakeTables(_ *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, noFiles
	}
	return lake.Tables, noFiles
}

// hasData loads the configuration of the command line being completed
// (cobra parsed its flags) and reports whether completion may open the
// engines: the data dir exists, or an external engine is configured.
func (a *app) hasData(cmd *cobra.Command) bool {
	cfg, err := config.Load(cmd.Flags(), a.lookupEnv)
	if err != nil {
		return false
	}
	a.cfg = cfg
	if a.cfg.Bus != "" || a.cfg.Store != "" {
		return true
	}
	_, err = os.Stat(a.cfg.DataDir)
	return err == nil
}

// completeTopics completes a topic: those the stages declare and, with
// data, those on the bus.
func (a *app) completeTopics(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 || !a.hasData(cmd) {
		return nil, noFiles
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), completeTimeout)
	defer cancel()
	p, err := platform.Open(ctx, a.cfg, a.logger, platform.Client, "completion")
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	defer p.Close()
	known, _, err := ops.KnownTopics(ctx, p.Bus, platform.Specs(platform.Stages(a.pipelines(p))))
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	return known, noFiles
}

// completeStages completes a stage name.
func (a *app) completeStages(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 {
		return nil, noFiles
	}
	var out []cobra.Completion
	for _, s := range a.stageSpecs() {
		out = append(out, cobra.CompletionWithDesc(s.Name, fmt.Sprintf("%s stage reading %s", s.Kind, s.Topic)))
	}
	return out, noFiles
}

// completeEmployees completes an employee id of the HR register, with the
// business unit (never a name: personal data stays in the hr_ tables).
func (a *app) completeEmployees(cmd *cobra.Command, _ []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if !a.hasData(cmd) {
		return nil, noFiles
	}
	ctx, cancel := context.WithTimeout(cmd.Context(), completeTimeout)
	defer cancel()
	s, err := a.openStore(ctx)
	if err != nil {
		return nil, cobra.ShellCompDirectiveError
	}
	defer s.Close()
	reg, err := hr.Load(ctx, s.DB())
	if err != nil {
		return nil, noFiles
	}
	var out []cobra.Completion
	for _, e := range reg.Employees {
		out = append(out, cobra.CompletionWithDesc(e.ID, e.BusinessUnit))
	}
	return out, noFiles
}

// stageSpecs returns the specs of every stage, without opening the engines.
func (a *app) stageSpecs() []stream.Spec {
	return platform.Specs(platform.Stages(a.pipelines(&platform.App{Config: a.cfg, Log: a.logger})))
}

// registerFlagCompletions gives the value completions to every flag of the
// tree under c named like a value podium knows.
func (a *app) registerFlagCompletions(c *cobra.Command) {
	funcs := map[string]completeFunc{
		"season":      completeSeasons,
		"round":       completeRounds,
		"after-round": completeRounds,
		"from-round":  completeRounds,
		"to-round":    completeRounds,
		"employee":    a.completeEmployees,
	}
	for name, f := range funcs {
		if c.LocalFlags().Lookup(name) != nil {
			_ = c.RegisterFlagCompletionFunc(name, f)
		}
	}
	for _, sub := range c.Commands() {
		a.registerFlagCompletions(sub)
	}
}
