package commute

import (
	"context"
	"errors"
	"reflect"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/hr/sample"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

// counting counts the distances a provider is asked for.
type counting struct {
	Provider
	calls atomic.Int32
}

func (c *counting) Distance(ctx context.Context, from, to Place) (Result, error) {
	c.calls.Add(1)
	return c.Provider.Distance(ctx, from, to)
}

// importSample stores the shipped register in a fresh store.
func importSample(t *testing.T, d store.Dialect) (*store.Store, hr.Register) {
	t.Helper()
	ctx := context.Background()
	s := storetest.Open(t, d)
	if err := Migrate(ctx, s); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	reg, rep, err := hr.Sample(hr.Options{})
	if err != nil || len(rep.Errors) > 0 {
		t.Fatalf("parse the sample: %v %v", err, rep.Errors)
	}
	if _, _, err := hr.Store(ctx, s.DB(), reg); err != nil {
		t.Fatalf("store the sample: %v", err)
	}
	return s, reg
}

// The sample's two recent hires without coordinates.
var unplaced = []string{"1041", "1121"}

// TestCheckSample computes the sample's distances offline, caches them,
// flags the homes that cannot be placed, and recomputes a changed address
// only.
func TestCheckSample(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		s, reg := importSample(t, d)
		p := &counting{Provider: Offline{}}

		sum, err := Check(ctx, s.DB(), p, SampleOffice())
		if err != nil {
			t.Fatalf("check: %v", err)
		}
		want := Summary{Employees: sample.Employees, Computed: sample.Employees, Unplaceable: 2, Review: []Flag{
			{"1041", "distance unknown: home cannot be placed: no coordinates, and no geocoder is configured"},
			{"1121", "distance unknown: home cannot be placed: no coordinates, and no geocoder is configured"},
		}}
		if !reflect.DeepEqual(sum, want) {
			t.Fatalf("first check: %+v\nwant %+v", sum, want)
		}

		dists, err := Distances(ctx, s.DB())
		if err != nil {
			t.Fatal(err)
		}
		if len(dists) != sample.Employees {
			t.Fatalf("%d distances stored, want %d", len(dists), sample.Employees)
		}
		// The sample has declarations within the bonus limits and a few
		// beyond them: walking over 15 km, bike over 25 km.
		modes := map[string]hr.CommuteMode{}
		for _, e := range reg.Employees {
			modes[e.ID] = e.CommuteMode
		}
		within, beyond := 0, 0
		for _, dist := range dists {
			if dist.Meters == nil {
				if !dist.NeedsReview || !slices.Contains(unplaced, dist.EmployeeID) {
					t.Errorf("employee %s has no distance: %+v", dist.EmployeeID, dist)
				}
				continue
			}
			if dist.Source != "offline" || dist.NeedsReview || dist.ComputedAt.IsZero() {
				t.Errorf("employee %s: %+v", dist.EmployeeID, dist)
			}
			km := *dist.Meters / 1000
			switch m := modes[dist.EmployeeID]; {
			case m == hr.Walking && km <= 15, m == hr.Bike && km <= 25:
				within++
			case m == hr.Walking, m == hr.Bike:
				beyond++
			}
		}
		if within < 40 || beyond != 8 {
			t.Errorf("%d active commutes within the limits, %d beyond; want many and 8", within, beyond)
		}

		// Nothing changed: only the unknown distances are tried again.
		p.calls.Store(0)
		sum, err = Check(ctx, s.DB(), p, SampleOffice())
		if err != nil {
			t.Fatal(err)
		}
		if sum.Cached != sample.Employees-2 || sum.Computed != 2 || p.calls.Load() != 2 || len(sum.Review) != 2 {
			t.Errorf("second check: %+v with %d calls, want everything cached but the 2 unknown", sum, p.calls.Load())
		}

		// HR places one of them and another employee moves: those two are
		// computed again.
		next := hr.Register{Employees: slices.Clone(reg.Employees)}
		for i := range next.Employees {
			e := &next.Employees[i]
			switch e.ID {
			case "1041":
				e.Latitude, e.Longitude = ptr(43.5701), ptr(3.8952)
			case "1002":
				e.HomeAddress = "3 place de la Comédie, 34000 Montpellier"
				e.Latitude, e.Longitude = ptr(43.6085), ptr(3.8800)
			}
		}
		if _, _, err := hr.Store(ctx, s.DB(), next); err != nil {
			t.Fatal(err)
		}
		p.calls.Store(0)
		sum, err = Check(ctx, s.DB(), p, SampleOffice())
		if err != nil {
			t.Fatal(err)
		}
		if sum.Cached != sample.Employees-3 || sum.Computed != 3 || sum.Unplaceable != 1 || len(sum.Review) != 1 || sum.Review[0].EmployeeID != "1121" {
			t.Errorf("after changes: %+v, want 3 computed and only 1121 to review", sum)
		}
		dists, _ = Distances(ctx, s.DB())
		for _, dist := range dists {
			if dist.EmployeeID == "1002" {
				if km := *dist.Meters / 1000; km < 6.5 || km > 9 {
					t.Errorf("1002 moved to the Comédie: %.1f km by road, want 6.5 to 9", km)
				}
			}
		}
		var rows int
		if err := s.DB().QueryRowContext(ctx, `SELECT COUNT(*) FROM commute_distances`).Scan(&rows); err != nil {
			t.Fatal(err)
		}
		if rows != sample.Employees {
			t.Errorf("%d cached rows, want one per employee (%d)", rows, sample.Employees)
		}

		// A new office invalidates every distance; Recompute too.
		p.calls.Store(0)
		if _, err := Check(ctx, s.DB(), p, At(43.6108, 3.8767)); err != nil {
			t.Fatal(err)
		}
		if p.calls.Load() != sample.Employees {
			t.Errorf("new office: %d distances computed, want all %d", p.calls.Load(), sample.Employees)
		}
		p.calls.Store(0)
		if _, err := CheckWith(ctx, s.DB(), p, At(43.6108, 3.8767), CheckOptions{Recompute: true}); err != nil {
			t.Fatal(err)
		}
		if p.calls.Load() != sample.Employees {
			t.Errorf("recompute: %d distances computed, want %d", p.calls.Load(), sample.Employees)
		}
	})
}

// flaky answers a distance for the first n calls, then fails as a service
// that is down.
type flaky struct {
	n     int32
	calls atomic.Int32
}

var errDown = errors.New("routing service: HTTP 503 Service Unavailable")

func (f *flaky) Distance(_ context.Context, from, to Place) (Result, error) {
	if f.calls.Add(1) > f.n {
		return Result{}, errDown
	}
	return Result{Meters: 250_000, Source: "flaky"}, nil
}

// TestCheckStopsOnServiceError checks that an error other than an
// unplaceable home stops the check, keeps what was computed and resumes
// from there, and that doubtful distances are flagged.
func TestCheckStopsOnServiceError(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		s, _ := importSample(t, d)
		f := &flaky{n: 10}
		var progress int
		sum, err := CheckWith(ctx, s.DB(), f, SampleOffice(), CheckOptions{Progress: func(done, total int) { progress = done }})
		if !errors.Is(err, errDown) || !strings.Contains(err.Error(), "employee 1011") {
			t.Fatalf("check: %v, want the service error on the 11th employee", err)
		}
		if sum.Computed != 10 || progress != 10 || len(sum.Review) != 10 {
			t.Fatalf("summary %+v, progress %d: want 10 computed and flagged", sum, progress)
		}
		if !strings.Contains(sum.Review[0].Reason, "over 150 km") {
			t.Errorf("reason %q", sum.Review[0].Reason)
		}
		sum, err = Check(ctx, s.DB(), Offline{}, SampleOffice())
		if err != nil {
			t.Fatal(err)
		}
		if sum.Cached != 10 || sum.Computed != sample.Employees-10 {
			t.Errorf("resumed: %+v, want 10 cached", sum)
		}
	})
}

// TestCheckNeedsOffice checks the errors before any distance.
func TestCheckNeedsOffice(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	if _, err := Check(context.Background(), s.DB(), Offline{}, Place{}); err == nil || !strings.Contains(err.Error(), "office") {
		t.Errorf("no office: %v", err)
	}
	if _, err := Check(context.Background(), s.DB(), Offline{}, SampleOffice()); err == nil || !strings.Contains(err.Error(), "migrations") {
		t.Errorf("no tables: %v", err)
	}
}

// TestRun is the command's path: an empty store, the sample imported, the
// default configuration.
func TestRun(t *testing.T) {
	ctx := context.Background()
	s := storetest.Open(t, store.SQLite)
	if sum, err := Run(ctx, s, Config{}, SampleOffice()); err != nil || sum.Employees != 0 {
		t.Fatalf("empty register: %+v, %v", sum, err)
	}
	if _, err := hr.ImportSample(ctx, s); err != nil {
		t.Fatal(err)
	}
	sum, err := Run(ctx, s, Config{}, SampleOffice())
	if err != nil || sum.Computed != sample.Employees || sum.Unplaceable != 2 {
		t.Fatalf("sample: %v, %v", sum, err)
	}
	if _, err := Run(ctx, s, Config{Router: "osrm"}, SampleOffice()); err == nil {
		t.Error("osrm without a URL ran")
	}
}
