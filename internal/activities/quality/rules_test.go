package quality_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/cdc"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/ingest"
	"github.com/podiumhq/podium/internal/activities/quality"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

// stravaActivity reads testdata/strava/name.json with the fields of patch
// changed, and maps it as the Strava receiver stores it.
func stravaActivity(t *testing.T, name string, patch map[string]any, employee string) activities.Activity {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", "strava", name+".json"))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range patch {
		m[k] = v
	}
	data, _ = json.Marshal(m)
	a, err := ingest.FromStrava(data, employee)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// TestRulePack checks each cheat and anomaly rule of the default suite on
// real-shaped Strava activities: one it lets through, one it holds (error)
// or flags (warning).
func TestRulePack(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		s := storetest.Open(t, d)
		if err := activities.Migrate(ctx, s); err != nil {
			t.Fatal(err)
		}
		if err := quality.MigrateReviews(ctx, s); err != nil {
			t.Fatal(err)
		}
		if _, err := hr.ImportSample(ctx, s); err != nil {
			t.Fatal(err)
		}
		now := time.Date(2025, 6, 10, 12, 0, 0, 0, time.UTC)
		type activity struct {
			file  string
			patch map[string]any
		}
		tests := []struct {
			rule     string
			severity quality.Severity
			policy   string // policy.indoor; "" is the default
			pass     activity
			caught   activity
		}{
			{"moving_within_elapsed", quality.Error, "", activity{"detailed_ride", nil},
				activity{"detailed_ride", map[string]any{"moving_time": 5000}}},
			{"mostly_paused", quality.Warning, "", activity{"detailed_ride", nil},
				activity{"detailed_ride", map[string]any{"elapsed_time": 20000}}},
			{"run_speed_plausible", quality.Error, "", activity{"run", nil},
				activity{"run", map[string]any{"distance": 10000, "moving_time": 1200, "elapsed_time": 1250}}}, // 30 km/h
			{"run_speed_plausible", quality.Error, "", activity{"run", map[string]any{"distance": 5000, "moving_time": 800}}, // 22.5 km/h over 5 km
				activity{"run", map[string]any{"distance": 42195, "moving_time": 6800, "elapsed_time": 6900}}}, // 22.3 km/h over a marathon
			{"walk_speed_plausible", quality.Error, "", activity{"walk", nil},
				activity{"walk", map[string]any{"distance": 10000, "moving_time": 2400, "elapsed_time": 2500}}},
			{"ride_speed_plausible", quality.Error, "", activity{"detailed_ride", nil},
				activity{"detailed_ride", map[string]any{"moving_time": 1200, "elapsed_time": 1300}}}, // 84 km/h
			{"ride_speed_plausible", quality.Error, "", activity{"detailed_ride", map[string]any{"sport_type": "EBikeRide"}},
				activity{"detailed_ride", map[string]any{"sport_type": "EBikeRide", "moving_time": 1900, "elapsed_time": 2000}}}, // 53 km/h
			{"swim_speed_plausible", quality.Error, "", activity{"swim", nil},
				activity{"swim", map[string]any{"moving_time": 500, "elapsed_time": 520}}},
			{"manual_entry", quality.Warning, "", activity{"run", nil},
				activity{"run", map[string]any{"manual": true}}},
			{"indoor_flagged", quality.Warning, "flag", activity{"detailed_ride", nil},
				activity{"summary_trainer_ride", nil}},
			{"indoor_flagged", quality.Warning, "flag", activity{"detailed_ride", nil},
				activity{"run", map[string]any{"sport_type": "VirtualRun"}}},
			{"indoor_held", quality.Error, "hold", activity{"detailed_ride", nil},
				activity{"summary_trainer_ride", nil}},
			{"commute_not_indoor", quality.Error, "count", activity{"detailed_ride", map[string]any{"commute": true}},
				activity{"summary_trainer_ride", map[string]any{"commute": true}}},
		}
		for _, tt := range tests {
			t.Run(tt.rule, func(t *testing.T) {
				suite := quality.Default()
				if tt.policy != "" {
					suite.Policy = quality.Policy{quality.PolicyIndoor: tt.policy}
				}
				check := func(a activities.Activity) []quality.Failure {
					t.Helper()
					a.UpdatedAt = now
					fails, err := suite.CheckRow(activities.Table, quality.EventRow(&cdc.Change{After: &a}), now, quality.NewLookup(ctx, s.DB()))
					if err != nil {
						t.Fatal(err)
					}
					return fails
				}
				find := func(fails []quality.Failure) *quality.Failure {
					for i := range fails {
						if fails[i].Rule == tt.rule {
							return &fails[i]
						}
					}
					return nil
				}
				pass := stravaActivity(t, tt.pass.file, tt.pass.patch, "1001")
				if f := find(check(pass)); f != nil {
					t.Errorf("%s caught the activity it should pass (%+v): %+v", tt.rule, pass, f)
				}
				caught := stravaActivity(t, tt.caught.file, tt.caught.patch, "1001")
				f := find(check(caught))
				if f == nil {
					t.Fatalf("%s let through %+v", tt.rule, caught)
				}
				if f.Severity != tt.severity {
					t.Errorf("%s: severity %s, want %s", tt.rule, f.Severity, tt.severity)
				}
			})
		}

		// Duplicates across sources: the Strava ride is stored; the same
		// ride entered through the API later overlaps it and is held, an
		// entry of another time is not; the Strava ride itself, written
		// first, is not held either.
		t.Run("no_duplicate_across_sources", func(t *testing.T) {
			suite := quality.Default()
			ride := stravaActivity(t, "detailed_ride", nil, "1002")
			ride.UpdatedAt = now.Add(-time.Hour)
			manual := activities.Activity{ID: ingest.APIID("1002", ride.StartTime, "Ride"), EmployeeID: "1002",
				StartTime: ride.StartTime.Add(10 * time.Minute), SportType: "Ride", DistanceM: 28000, ElapsedS: 4000,
				Source: activities.SourceAPI, UpdatedAt: now}
			other := manual
			other.ID, other.StartTime = manual.ID+1, ride.StartTime.Add(3*time.Hour)
			// Alone on its source: employee 1003's two rides overlap, but
			// both come from Strava.
			alone := ride
			alone.ID, alone.EmployeeID = ride.ID+10, "1003"
			alone2 := alone
			alone2.ID, alone2.UpdatedAt = alone.ID+1, now
			if err := activities.Upsert(ctx, s.DB(), ride, manual, other, alone, alone2); err != nil {
				t.Fatal(err)
			}
			for _, primed := range []bool{false, true} {
				q := &countingQuerier{Querier: s.DB()}
				dup := func(a activities.Activity) *quality.Failure {
					l := quality.NewLookup(ctx, q)
					if primed {
						// What the processor does for a batch.
						l.PrimeSources([]quality.EmployeeSource{{Employee: a.EmployeeID, Source: a.Source}})
					}
					fails, err := suite.CheckRow(activities.Table, quality.EventRow(&cdc.Change{After: &a}), now, l)
					if err != nil {
						t.Fatal(err)
					}
					for i := range fails {
						if fails[i].Rule == "no_duplicate_across_sources" {
							return &fails[i]
						}
					}
					return nil
				}
				f := dup(manual)
				if f == nil || f.Severity != quality.Error {
					t.Fatalf("primed %v: the manual duplicate is not held: %+v", primed, f)
				}
				if ids, _ := f.Values["overlapping_ids"].([]int64); len(ids) != 1 || ids[0] != ride.ID {
					t.Errorf("primed %v: overlapping ids %v, want [%d]", primed, f.Values["overlapping_ids"], ride.ID)
				}
				if f := dup(ride); f != nil {
					t.Errorf("primed %v: the Strava ride, written first, is held: %+v", primed, f)
				}
				if f := dup(other); f != nil {
					t.Errorf("primed %v: an entry at another time is held: %+v", primed, f)
				}
				before := q.n
				if f := dup(alone2); f != nil {
					t.Errorf("primed %v: two rides of one source are held: %+v", primed, f)
				}
				if asked := q.n - before; primed && asked != 1 {
					t.Errorf("primed: an employee of one source cost %d queries of sport_activities, want 1 (the priming)", asked)
				}
			}
		})
	})
}

// countingQuerier counts the queries of sport_activities a Lookup sends.
type countingQuerier struct {
	quality.Querier
	n int
}

func (q *countingQuerier) QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error) {
	if strings.Contains(query, "FROM sport_activities") {
		q.n++
	}
	return q.Querier.QueryContext(ctx, query, args...)
}
