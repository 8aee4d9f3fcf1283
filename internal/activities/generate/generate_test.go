package generate

import (
	"context"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

func sample(t testing.TB) []Employee {
	t.Helper()
	reg, _, err := hr.Sample(hr.Options{})
	if err != nil {
		t.Fatal(err)
	}
	out := make([]Employee, len(reg.Employees))
	for i, e := range reg.Employees {
		out[i] = Employee{ID: e.ID, Sports: e.Sports}
	}
	return out
}

func TestYearIsDeterministicAndPlausible(t *testing.T) {
	emps := sample(t)
	paris, _ := time.LoadLocation("Europe/Paris")
	cfg := Config{Year: 2025, Seed: 42, Location: paris}
	acts, err := Year(emps, cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Year(emps, cfg)
	if !reflect.DeepEqual(acts, again) {
		t.Fatal("the same seed gave different activities")
	}
	other, _ := Year(emps, Config{Year: 2025, Seed: 43, Location: paris})
	if reflect.DeepEqual(acts, other) {
		t.Fatal("another seed gave the same activities")
	}

	sports := map[string][]string{}
	for _, e := range emps {
		sports[e.ID] = e.Sports
	}
	perEmployee := map[string]int{}
	ids := map[int64]bool{}
	for _, a := range acts {
		if ids[a.ID] {
			t.Fatalf("duplicate id %d", a.ID)
		}
		ids[a.ID] = true
		if len(sports[a.EmployeeID]) == 0 {
			t.Fatalf("activity for %s, who practises no sport", a.EmployeeID)
		}
		if y := a.StartTime.In(paris).Year(); y != 2025 {
			t.Fatalf("activity in %d", y)
		}
		if a.Source != activities.SourceGenerator || a.ElapsedS <= 0 || a.SportType == "" {
			t.Fatalf("implausible activity %+v", a)
		}
		if a.DistanceM > 0 {
			kmh := a.DistanceM / 1000 / (float64(a.ElapsedS) / 3600)
			limits := map[string][2]float64{"Run": {6, 18}, "Ride": {14, 40}, "Walk": {3, 8}, "Swim": {1.5, 4}, "Hike": {2.5, 6.5}}
			if l, ok := limits[a.SportType]; ok && (kmh < l[0] || kmh > l[1]) {
				t.Errorf("%s at %.1f km/h", a.SportType, kmh)
			}
		}
		perEmployee[a.EmployeeID]++
	}
	practising, wellness := 0, 0
	for _, e := range emps {
		if len(e.Sports) > 0 {
			practising++
			if perEmployee[e.ID] >= 15 {
				wellness++
			}
		}
	}
	// Some earn the 15-activity wellness days, some do not.
	if wellness == 0 || wellness == practising {
		t.Errorf("%d of %d practising employees reach 15 activities: want some, not all", wellness, practising)
	}
	if len(acts) < 20*practising || len(acts) > 200*practising {
		t.Errorf("%d activities for %d practising employees", len(acts), practising)
	}
	for i := 1; i < len(acts); i++ {
		if acts[i].StartTime.Before(acts[i-1].StartTime) {
			t.Fatal("activities not sorted by start time")
		}
	}
}

func TestLive(t *testing.T) {
	emps := sample(t)
	now := time.Date(2026, 5, 12, 18, 30, 0, 0, time.UTC)
	a, ok := Live(emps, now, rand.New(rand.NewPCG(1, 2)))
	if !ok || a.ID <= LiveIDBase || !a.UpdatedAt.Equal(now) || !a.StartTime.Before(now) || a.ElapsedS <= 0 {
		t.Fatalf("live activity %+v", a)
	}
	if _, ok := Live([]Employee{{ID: "x"}}, now, rand.New(rand.NewPCG(1, 2))); ok {
		t.Fatal("live activity for nobody who practises")
	}
}

func TestBackfill(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		s := storetest.Open(t, d)
		ctx := context.Background()
		if err := activities.Migrate(ctx, s); err != nil {
			t.Fatal(err)
		}
		acts, err := Year(sample(t), Config{Year: 2025, Seed: 1})
		if err != nil {
			t.Fatal(err)
		}
		var last int
		if err := Backfill(ctx, s, acts, func(done int) { last = done }); err != nil {
			t.Fatal(err)
		}
		// A second backfill updates in place.
		if err := Backfill(ctx, s, acts, nil); err != nil {
			t.Fatal(err)
		}
		var n int
		if err := s.DB().QueryRow(`SELECT COUNT(*) FROM sport_activities`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != len(acts) || last != len(acts) {
			t.Fatalf("%d rows (progress %d), want %d", n, last, len(acts))
		}
	})
}

func BenchmarkYear(b *testing.B) {
	emps := make([]Employee, 10_000)
	for i := range emps {
		emps[i] = Employee{ID: fmt.Sprint(i), Sports: []string{"Running", "Cycling"}[:1+i%2]}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		acts, err := Year(emps, Config{Year: 2025, Seed: uint64(i)})
		if err != nil {
			b.Fatal(err)
		}
		b.ReportMetric(float64(len(acts)), "activities")
	}
}
