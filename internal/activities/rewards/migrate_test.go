package rewards_test

import (
	"context"
	"io/fs"
	"math"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

// TestMigrationExactUnits fills the tables as the migrations before 0003
// left them (float distances and euros), applies 0003 and checks that the
// per-sport sums and the gold rows hold what a clean run computes: whole
// metres rounded halves to even (rewards.Meters), cents.
func TestMigrationExactUnits(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		s := storetest.Open(t, d)
		all := rewards.Migrations()
		before := fstest.MapFS{}
		entries, err := fs.ReadDir(all, ".")
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if strings.HasPrefix(e.Name(), "0001") || strings.HasPrefix(e.Name(), "0002") {
				b, err := fs.ReadFile(all, e.Name())
				if err != nil {
					t.Fatal(err)
				}
				before[e.Name()] = &fstest.MapFile{Data: b}
			}
		}
		if err := s.Migrate(ctx, rewards.Name, before); err != nil {
			t.Fatal(err)
		}
		// Halves round to even (1001.5 → 1002, 2.5 → 2), and the rounded
		// activities sum to less than the rounded sum.
		dists := []float64{1000.4, 1001.4, 2.4, 2.5, 1001.5, 12345.7}
		at := time.Date(2025, 5, 1, 8, 0, 0, 0, time.UTC)
		var float, want int64
		var floatSum float64
		for i, m := range dists {
			if _, err := s.DB().ExecContext(ctx, `INSERT INTO activities_current (id, employee_id, start_time, local_year,
				local_month, sport_type, distance_m, elapsed_s, source, updated_at) VALUES ($1, 'E1', $2, 2025, 5, 'Run', $3, 60, 'api', $2)`,
				i+1, at, m); err != nil {
				t.Fatal(err)
			}
			want += rewards.Meters(m)
			floatSum += m
		}
		float = int64(math.Round(floatSum))
		if float == want {
			t.Fatalf("the distances do not tell rounding each activity from rounding the sum (%d)", want)
		}
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO activities_sport_years VALUES ('E1', 2025, 'Run', $1, $2)`,
			len(dists), floatSum); err != nil {
			t.Fatal(err)
		}
		if _, err := s.DB().ExecContext(ctx, `INSERT INTO activities_gold (employee_id, year, business_unit, activities,
			distance_km, sports, commute_mode, commute_km, bonus_eligible, bonus_eur, declaration_flag, wellness_days, updated_at)
			VALUES ('E1', 2025, 'Finance', $1, $2, 'Run', 'walking', 3.2, true, 1756.17, '', 0, $3)`,
			len(dists), floatSum/1000, at); err != nil {
			t.Fatal(err)
		}
		if err := s.Migrate(ctx, rewards.Name, all); err != nil {
			t.Fatal(err)
		}
		var sy int64
		if err := s.DB().QueryRowContext(ctx, `SELECT distance_m FROM activities_sport_years`).Scan(&sy); err != nil {
			t.Fatal(err)
		}
		if sy != want {
			t.Errorf("activities_sport_years.distance_m = %d, want %d", sy, want)
		}
		var m, cents int64
		var km float64
		var eur string
		if err := s.DB().QueryRowContext(ctx, `SELECT distance_m, distance_km, bonus_cents, CAST(bonus_eur AS TEXT)
			FROM activities_gold`).Scan(&m, &km, &cents, &eur); err != nil {
			t.Fatal(err)
		}
		if m != want || km != rewards.Km(want) || cents != 175617 {
			t.Errorf("gold distance_m %d, distance_km %v, bonus_cents %d; want %d, %v, 175617", m, km, cents, want, rewards.Km(want))
		}
		wantEUR := map[store.Dialect]string{store.Postgres: "1756.17", store.SQLite: "1756.17"}[d]
		if eur != wantEUR {
			t.Errorf("gold bonus_eur = %s, want %s", eur, wantEUR)
		}
	})
}

func TestUnits(t *testing.T) {
	for _, tt := range []struct {
		in   float64
		want int64
	}{{0.5, 0}, {1.5, 2}, {2.5, 2}, {2.51, 3}, {-2.5, -2}, {1234.4, 1234}, {math.NaN(), 0}, {math.Inf(1), 0}, {1e300, 0}} {
		if got := rewards.Meters(tt.in); got != tt.want {
			t.Errorf("Meters(%v) = %d, want %d", tt.in, got, tt.want)
		}
	}
	for _, tt := range []struct {
		c    rewards.Cents
		want string
	}{{175617, "1756.17"}, {5, "0.05"}, {-5, "-0.05"}, {200000, "2000.00"}, {0, "0.00"}} {
		if got := tt.c.String(); got != tt.want {
			t.Errorf("Cents(%d) = %q, want %q", tt.c, got, tt.want)
		}
	}
	if got := rewards.CentsOf(35123.45 * 0.05); got != 175617 {
		t.Errorf("CentsOf(1756.1725) = %d", got)
	}
}
