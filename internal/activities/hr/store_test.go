package hr

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/podiumhq/podium/internal/activities/hr/sample"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

func byID(reg Register) Register {
	out := Register{Employees: slices.Clone(reg.Employees)}
	slices.SortFunc(out.Employees, func(a, b Employee) int { return strings.Compare(a.ID, b.ID) })
	return out
}

func count(t *testing.T, s *store.Store, query string) int {
	t.Helper()
	var n int
	if err := s.DB().QueryRowContext(context.Background(), query).Scan(&n); err != nil {
		t.Fatalf("%s: %v", query, err)
	}
	return n
}

// TestStoreReimport stores the sample, then a changed register, on each
// database: a re-import updates the employees in place and replaces their
// sports.
func TestStoreReimport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, d store.Dialect) {
		ctx := context.Background()
		s := storetest.Open(t, d)
		for i := 0; i < 2; i++ {
			if err := Migrate(ctx, s); err != nil {
				t.Fatalf("migrate: %v", err)
			}
		}
		reg, _ := parseSample(t, Sample)
		ins, upd, err := Store(ctx, s.DB(), reg)
		if err != nil {
			t.Fatalf("store: %v", err)
		}
		if ins != sample.Employees || upd != 0 {
			t.Fatalf("first import: %d inserted, %d updated; want %d, 0", ins, upd, sample.Employees)
		}
		got, err := Load(ctx, s.DB())
		if err != nil {
			t.Fatal(err)
		}
		if want := byID(reg); !reflect.DeepEqual(got, want) {
			for i := range want.Employees {
				if !reflect.DeepEqual(got.Employees[i], want.Employees[i]) {
					t.Fatalf("stored employee differs:\n got %s\nwant %s", dump(got.Employees[i]), dump(want.Employees[i]))
				}
			}
			t.Fatal("the stored register differs")
		}
		sports := count(t, s, `SELECT COUNT(*) FROM hr_employee_sports`)

		// The next month's register: a raise, a move (no coordinates yet),
		// a sport dropped, a sport taken up, one new hire.
		next := Register{Employees: slices.Clone(reg.Employees)}
		for i := range next.Employees {
			e := &next.Employees[i]
			switch e.ID {
			case "1001":
				e.GrossSalary += 1500
				e.HomeAddress = "8 rue Neuve, 34000 Montpellier"
				e.Latitude, e.Longitude = nil, nil
				e.CommuteMode = PublicTransport
			case "1002":
				e.Sports = e.Sports[:1]
			case "1004":
				e.Sports = []string{"Yoga", "Running"}
			}
		}
		newHire := next.Employees[0]
		newHire.ID, newHire.LastName, newHire.Sports = "2001", "Nouveau", nil
		next.Employees = append(next.Employees, newHire)
		ins, upd, err = Store(ctx, s.DB(), next)
		if err != nil {
			t.Fatalf("re-import: %v", err)
		}
		if ins != 1 || upd != sample.Employees {
			t.Fatalf("re-import: %d inserted, %d updated; want 1, %d", ins, upd, sample.Employees)
		}
		got, err = Load(ctx, s.DB())
		if err != nil {
			t.Fatal(err)
		}
		if want := byID(next); !reflect.DeepEqual(got, want) {
			for i := range want.Employees {
				if !reflect.DeepEqual(got.Employees[i], want.Employees[i]) {
					t.Fatalf("re-imported employee differs:\n got %s\nwant %s", dump(got.Employees[i]), dump(want.Employees[i]))
				}
			}
			t.Fatal("the re-imported register differs")
		}
		if n := count(t, s, `SELECT COUNT(*) FROM hr_employees`); n != sample.Employees+1 {
			t.Errorf("%d employees stored, want %d", n, sample.Employees+1)
		}
		if n := count(t, s, `SELECT COUNT(*) FROM hr_employee_sports`); n != sports-1+2 {
			t.Errorf("%d sports rows, want %d", n, sports+1)
		}
	})
}

// TestStoreNeedsMigrations checks the error when the tables are missing.
func TestStoreNeedsMigrations(t *testing.T) {
	s := storetest.Open(t, store.SQLite)
	_, _, err := Store(context.Background(), s.DB(), Register{Employees: []Employee{{ID: "1"}}})
	if err == nil || !strings.Contains(err.Error(), "migrations") {
		t.Fatalf("store without tables: %v, want an error pointing at the migrations", err)
	}
}

// TestImportFile imports the sample's CSV files from disk, twice.
func TestImportFile(t *testing.T) {
	dir := t.TempDir()
	reg, sports := filepath.Join(dir, "registre.csv"), filepath.Join(dir, "sports.csv")
	if err := os.WriteFile(reg, sample.CSV, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(sports, sample.SportsCSV, 0o600); err != nil {
		t.Fatal(err)
	}
	s := storetest.Open(t, store.SQLite)
	ctx := context.Background()
	got, err := ImportFile(ctx, s, reg, sports, Options{})
	if err != nil || got.Inserted != sample.Employees || got.Kept != sample.Employees || len(got.Errors) != 0 {
		t.Fatalf("import: %s, %v", got.Summary(), err)
	}
	got, err = ImportSample(ctx, s)
	if err != nil || got.Inserted != 0 || got.Updated != sample.Employees {
		t.Fatalf("re-import from the workbook: %s, %v", got.Summary(), err)
	}
	if _, err := ImportFile(ctx, s, filepath.Join(dir, "missing.xlsx"), "", Options{}); err == nil || !strings.Contains(err.Error(), "open HR register") {
		t.Errorf("missing file: %v", err)
	}
}
