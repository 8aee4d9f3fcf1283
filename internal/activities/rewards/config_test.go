package rewards_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/hr/hrtest"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/ops"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
	"github.com/podiumhq/podium/internal/stream"
)

var registerOnce sync.Once

func loadConfig(t *testing.T, env map[string]string) (config.Config, error) {
	t.Helper()
	registerOnce.Do(func() { config.Register(rewards.Settings()...) })
	return config.Load(nil, func(k string) (string, bool) { v, ok := env[k]; return v, ok })
}

func TestPolicyFromConfig(t *testing.T) {
	cfg, err := loadConfig(t, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, err := rewards.PolicyFromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	want := rewards.DefaultPolicy()
	if got.BonusRate != want.BonusRate || got.WalkMaxKm != want.WalkMaxKm || got.BikeMaxKm != want.BikeMaxKm ||
		got.WellnessMinActivities != want.WellnessMinActivities || got.WellnessDays != want.WellnessDays ||
		got.RollingYear || got.Location.String() != want.Location.String() {
		t.Errorf("the defaults give %+v, want the company's policy %+v", got, want)
	}

	cfg, err = loadConfig(t, map[string]string{
		"PODIUM_REWARDS_BONUS_RATE":              "0.07",
		"PODIUM_REWARDS_WALK_MAX_KM":             "10",
		"PODIUM_REWARDS_BIKE_MAX_KM":             "30.5",
		"PODIUM_REWARDS_WELLNESS_MIN_ACTIVITIES": "20",
		"PODIUM_REWARDS_WELLNESS_DAYS":           "3",
		"PODIUM_REWARDS_WELLNESS_YEAR":           "rolling",
		"PODIUM_ACTIVITIES_TIMEZONE":             "America/Montreal",
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err = rewards.PolicyFromConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if got.BonusRate != 0.07 || got.WalkMaxKm != 10 || got.BikeMaxKm != 30.5 || got.WellnessMinActivities != 20 ||
		got.WellnessDays != 3 || !got.RollingYear || got.Location.String() != "America/Montreal" {
		t.Errorf("configured policy = %+v", got)
	}

	for _, tt := range []struct{ env, value, says string }{
		{"PODIUM_REWARDS_BONUS_RATE", "5%", "between 0 and 1"},
		{"PODIUM_REWARDS_BONUS_RATE", "1.5", "between 0 and 1"},
		{"PODIUM_REWARDS_WALK_MAX_KM", "-3", "distance in km"},
		{"PODIUM_REWARDS_WELLNESS_YEAR", "fiscal", "calendar"},
		{"PODIUM_ACTIVITIES_TIMEZONE", "Paris", "IANA"},
	} {
		if _, err := loadConfig(t, map[string]string{tt.env: tt.value}); err == nil || !strings.Contains(err.Error(), tt.says) {
			t.Errorf("%s=%s: err %v, want one saying %q", tt.env, tt.value, err, tt.says)
		}
	}
	cfg, err = loadConfig(t, map[string]string{"PODIUM_REWARDS_WELLNESS_MIN_ACTIVITIES": "0"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rewards.PolicyFromConfig(cfg); err == nil {
		t.Error("a policy needing no activity for wellness days was accepted")
	}
}

// TestRollingYear checks that a rolling-year policy counts the wellness
// activities of the current year over the last twelve months, last year's
// included, and follows a change of last year's activities.
func TestRollingYear(t *testing.T) {
	now := time.Now().UTC()
	if now.Month() == time.December && now.Day() >= 29 || now.Month() == time.January && now.Day() <= 2 {
		t.Skip("the fixture needs a date of last year less than a year ago: not around New Year")
	}
	this := now.Year()
	inWindow := now.AddDate(-1, 0, 2)   // last year, within the last twelve months
	outWindow := now.AddDate(-1, 0, -5) // last year, before the twelve months
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		b := enginetest.Open(t, enginetest.JetStream)
		s := storetest.Open(t, d)
		reg := hrtest.Sample(t, s)
		emp := reg.Employees[0].ID
		at := func(tm time.Time) string { return tm.Format(time.RFC3339) }
		run := func(policy rewards.Policy, msgs ...*bus.Message) map[string]int {
			t.Helper()
			p := rewards.Processor(policy, nil)
			for _, m := range msgs {
				m.Topic = p.Spec().Topic
			}
			if err := b.Publish(ctx, msgs...); err != nil {
				t.Fatal(err)
			}
			cctx, cancel := context.WithTimeout(ctx, time.Minute)
			defer cancel()
			if err := ops.CatchUp(cctx, stream.Env{Bus: b, Store: s}, []stream.Runnable{p}, nil); err != nil {
				t.Fatal(err)
			}
			rows, err := s.DB().QueryContext(ctx, `SELECT year, wellness_days FROM activities_gold WHERE employee_id = $1`, emp)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			out := map[string]int{}
			for rows.Next() {
				var y, w int
				if err := rows.Scan(&y, &w); err != nil {
					t.Fatal(err)
				}
				out[map[bool]string{true: "this", false: "last"}[y == this]] = w
			}
			return out
		}
		policy := rewards.DefaultPolicy()
		policy.Location = time.UTC
		policy.WellnessMinActivities = 3
		policy.RollingYear = true
		got := run(policy,
			event(t, cdc.OpCreate, 1, nil, act(1, emp, at(inWindow))),
			event(t, cdc.OpCreate, 2, nil, act(2, emp, at(outWindow))),
			event(t, cdc.OpCreate, 3, nil, act(3, emp, at(now.Add(-2*time.Hour)))),
			event(t, cdc.OpCreate, 4, nil, act(4, emp, at(now.Add(-time.Hour)))),
		)
		// This year: 2 activities, 3 in the last twelve months; last year:
		// 2 in its calendar year.
		if want := map[string]int{"this": 5, "last": 0}; got["this"] != want["this"] || got["last"] != want["last"] {
			t.Errorf("rolling year: wellness days %v, want %v", got, want)
		}
		got = run(policy, event(t, cdc.OpDelete, 1, act(1, emp, at(inWindow)), nil))
		if got["this"] != 0 {
			t.Errorf("after deleting last year's activity in the window: this year's wellness days %d, want 0", got["this"])
		}
		policy.RollingYear = false
		got = run(policy, event(t, cdc.OpCreate, 5, nil, act(5, emp, at(inWindow))),
			event(t, cdc.OpCreate, 6, nil, act(6, emp, at(outWindow.Add(time.Hour)))))
		if got["this"] != 0 || got["last"] != 5 {
			t.Errorf("calendar year: wellness days %v, want this 0 (2 activities) and last 5 (3 activities: 2, 5, 6)", got)
		}
	})
}
