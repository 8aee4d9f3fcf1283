package bi_test

import (
	"context"
	"database/sql"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/podiumhq/podium/internal/activities/bi"
	"github.com/podiumhq/podium/internal/activities/hr"
	"github.com/podiumhq/podium/internal/activities/ingest"
	"github.com/podiumhq/podium/internal/activities/quality"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/store/storetest"
)

// TestReportingRole builds the reporting schema on real PostgreSQL, creates
// a BI role and connects as it: the views read, with pseudonymous keys and
// exact money; the HR register, the gold table and the keys are denied.
func TestReportingRole(t *testing.T) {
	base := os.Getenv(storetest.PostgresEnv)
	s := storetest.Open(t, store.Postgres) // skips without PostgreSQL
	ctx := context.Background()
	if err := hr.Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := ingest.Migrate(ctx, s); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx, rewards.Name, rewards.Migrations()); err != nil {
		t.Fatal(err)
	}
	if err := s.Migrate(ctx, quality.Name, quality.Migrations()); err != nil {
		t.Fatal(err)
	}
	db := s.DB()
	now := time.Now().UTC()
	if _, err := db.Exec(`INSERT INTO hr_employees (employee_id, last_name, first_name, birth_date, business_unit, hire_date,
		gross_salary, contract_type, paid_leave_days, home_address, commute_mode, imported_at, updated_at)
		VALUES ('1001', 'Mercier', 'Adrien', '2000-09-03', 'Ventes', '2023-12-11', 39600, 'CDI', 25, '24 rue de l''Étang', 'bike_scooter_other', $1, $1)`, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO strava_athletes (athlete_id, employee_id, access_token, refresh_token, expires_at, authorized, linked_at, updated_at)
		VALUES (777, '1001', 'secret-token', 'r', 0, true, $1, $1)`, now); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO activities_gold (employee_id, year, business_unit, activities, distance_m, distance_km, sports,
		commute_mode, commute_km, bonus_eligible, bonus_cents, bonus_eur, declaration_flag, wellness_days, updated_at)
		VALUES ('1001', 2025, 'Ventes', 54, 123456, 123.456, 'Ride,Run', 'bike_scooter_other', 9.5, true, 198001, 1980.01, '', 5, $1)`, now); err != nil {
		t.Fatal(err)
	}
	cfg := bi.Config{Secret: "test-secret-of-the-keys"}
	// Several workers (serve runs Ensure every few minutes) set the
	// schema up at once: all succeed, and agree on its name.
	schemas := make([]string, 4)
	errs := make([]error, len(schemas))
	var wg sync.WaitGroup
	for i := range schemas {
		wg.Go(func() { schemas[i], errs[i] = bi.Ensure(ctx, s, cfg) })
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
		if schemas[i] != schemas[0] {
			t.Fatalf("worker %d set up %q, worker 0 %q", i, schemas[i], schemas[0])
		}
	}
	schema := schemas[0]
	role := "podium_bi_" + strings.TrimPrefix(schema[:len(schema)-len("_reporting")], "podium_test_")
	t.Cleanup(func() {
		_, _ = db.Exec(`DROP SCHEMA "` + schema + `" CASCADE`)
		_, _ = db.Exec(`DROP SCHEMA "` + store.PrivateSchema(strings.TrimSuffix(schema, "_reporting")) + `" CASCADE`)
		_, _ = db.Exec(`DROP OWNED BY "` + role + `"`)
		_, _ = db.Exec(`DROP ROLE IF EXISTS "` + role + `"`)
	})
	const password = "correct horse battery staple"
	if _, err := bi.CreateRole(ctx, s, cfg, role, password); err != nil {
		t.Fatal(err)
	}
	// Every view and column is documented.
	var undocumented int
	if err := db.QueryRow(`SELECT COUNT(*) FROM information_schema.columns c
		JOIN pg_class v ON v.relname = c.table_name JOIN pg_namespace n ON n.oid = v.relnamespace AND n.nspname = c.table_schema
		WHERE c.table_schema = $1 AND (col_description(v.oid, c.ordinal_position) IS NULL OR obj_description(v.oid, 'pg_class') IS NULL)`,
		schema).Scan(&undocumented); err != nil || undocumented != 0 {
		t.Errorf("%d undocumented columns (%v)", undocumented, err)
	}

	u, _ := url.Parse(base)
	u.User = url.UserPassword(role, password)
	conn, err := pgx.Connect(ctx, u.String())
	if err != nil {
		t.Fatalf("connect as the BI role: %v", err)
	}
	defer conn.Close(ctx)
	var key, bonus, km string
	var name sql.NullString
	if err := conn.QueryRow(ctx, `SELECT employee_key, bonus_eur::text, distance_km::text, employee_name FROM rewards_employee_year WHERE year = 2025`).
		Scan(&key, &bonus, &km, &name); err != nil {
		t.Fatalf("the BI role reads reporting.rewards_employee_year: %v", err)
	}
	if key != bi.Key(cfg.Secret, "1001") || strings.Contains(key, "1001") || bonus != "1980.01" || km != "123.456" || name.Valid {
		t.Errorf("row: key %s, bonus %s, km %s, name %v", key, bonus, km, name)
	}
	var typ string
	if err := conn.QueryRow(ctx, `SELECT data_type || '(' || numeric_precision || ',' || numeric_scale || ')' FROM information_schema.columns
		WHERE table_schema = $1 AND table_name = 'rewards_employee_year' AND column_name = 'bonus_eur'`, schema).Scan(&typ); err != nil || typ != "numeric(12,2)" {
		t.Errorf("bonus_eur is %s (%v), want numeric(12,2)", typ, err)
	}
	for _, v := range []string{"dim_date", "activity_month", "sport_mix", "quality_results"} {
		if _, err := conn.Exec(ctx, `SELECT * FROM `+v+` LIMIT 1`); err != nil {
			t.Errorf("the BI role reads %s: %v", v, err)
		}
	}
	main := strings.TrimSuffix(schema, "_reporting")
	private := store.PrivateSchema(main)
	for _, tbl := range []string{private + ".hr_employees", private + ".strava_athletes", private + ".bi_employee_keys", main + ".activities_gold"} {
		_, err := conn.Exec(ctx, `SELECT * FROM `+tbl+` LIMIT 1`)
		if err == nil || !strings.Contains(err.Error(), "permission denied") {
			t.Errorf("the BI role reads %s: %v, want permission denied", tbl, err)
		}
	}
	// The HR register and the tokens live in the private schema; podium
	// reads and writes them by name as before.
	for _, tbl := range []string{"hr_employees", "hr_employee_sports", "strava_athletes", "strava_events"} {
		var where string
		if err := db.QueryRow(`SELECT table_schema FROM information_schema.tables WHERE table_name = $1 AND table_schema IN ($2, $3)`,
			tbl, main, private).Scan(&where); err != nil || where != private {
			t.Errorf("%s is in schema %q (%v), want %s", tbl, where, err, private)
		}
	}
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM hr_employees JOIN activities_gold USING (employee_id)`).Scan(&n); err != nil || n != 1 {
		t.Errorf("podium's own query across the schemas: %d, %v", n, err)
	}
	if _, err := db.Exec(`UPDATE strava_athletes SET access_token = 'x' WHERE employee_id = '1001'`); err != nil {
		t.Errorf("podium writes the tokens by name: %v", err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE x (a int)`); err == nil {
		t.Error("the BI role created a table")
	}
	// Names where the policy allows them.
	cfg.ShowNames = true
	if _, err := bi.Ensure(ctx, s, cfg); err != nil {
		t.Fatal(err)
	}
	if err := conn.QueryRow(ctx, `SELECT employee_name FROM rewards_employee_year`).Scan(&name); err != nil || name.String != "Adrien Mercier" {
		t.Errorf("employee_name with bi.show_names: %v %v", name, err)
	}
}
