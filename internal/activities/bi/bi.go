// Package bi is the activities pipeline's schema for BI tools on
// PostgreSQL: a schema "reporting" (or "<store schema>_reporting" when the
// store is not in public) of documented views — rewards per employee and
// year, activity per month, sport mix, quality results, a date dimension —
// with money as numeric(12,2), employees under pseudonymous keys
// (HMAC-SHA-256 of the id with the secret of bi.key_secret, computed here:
// the secret never enters the database) and names only where bi.show_names
// allows; and read-only roles limited to that schema (CreateRole).
//
// Ensure also moves the HR register and the Strava links and tokens (the
// tables of Private) into a schema of their own, store.PrivateSchema: the
// store's connections find them there by name (store.Open puts that schema
// last in their search_path), no BI role has any right on it.
//
// The views run with their owner's rights: a BI role reads them without
// any right on the tables behind them, the HR register and the Strava
// tokens among them. SQLite has no schemas nor roles: there, BI tools read
// the tables of the store file and this package does nothing.
package bi

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/podiumhq/podium/internal/config"
	"github.com/podiumhq/podium/internal/store"
)

// The settings of the BI schema.
const (
	KeySecret    = "bi.key_secret"
	KeyShowNames = "bi.show_names"
)

// Settings declares the BI settings.
func Settings() []config.Setting {
	return []config.Setting{
		{Key: KeySecret, Secret: true,
			Usage: "secret of the pseudonymous employee keys of the reporting schema (HMAC-SHA-256 of the id); empty: no reporting schema"},
		{Key: KeyShowNames, Kind: config.KindBool, Default: "false",
			Usage: "show employees' names in the reporting schema (only where the company's policy allows it)"},
	}
}

// Config is the BI schema's configuration.
type Config struct {
	// Secret keys the pseudonymous employee keys; required.
	Secret string
	// ShowNames adds the employee's name to reporting.rewards_employee_year.
	ShowNames bool
}

// FromConfig returns the configuration the settings give.
func FromConfig(c config.Config) Config {
	return Config{Secret: c.Get(KeySecret).String(), ShowNames: c.Get(KeyShowNames).Bool()}
}

// ErrNoSecret is returned when no key secret is configured.
var ErrNoSecret = errors.New("bi: no secret for the pseudonymous employee keys: set " + KeySecret + " (PODIUM_BI_KEY_SECRET)")

// Key is the pseudonymous key of an employee id: HMAC-SHA-256 with the
// secret, hex, the first 16 bytes.
func Key(secret, employee string) string {
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(employee))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// Schema returns the reporting schema of the store: "reporting" for a
// store in public, "<schema>_reporting" otherwise (so that installations
// sharing a database keep theirs apart).
func Schema(ctx context.Context, db *sql.DB) (string, error) {
	var cur string
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&cur); err != nil {
		return "", fmt.Errorf("bi: %w", err)
	}
	if cur == "public" {
		return "reporting", nil
	}
	return cur + "_reporting", nil
}

// Ensure creates or replaces the reporting schema's views and their
// comments, and brings the employee keys up to date. It does nothing on
// SQLite. Run it again after new employees arrive (serve runs it every
// few minutes).
func Ensure(ctx context.Context, s *store.Store, cfg Config) (schema string, err error) {
	if s.Dialect() != store.Postgres {
		return "", nil
	}
	if cfg.Secret == "" {
		return "", ErrNoSecret
	}
	db := s.DB()
	if schema, err = Schema(ctx, db); err != nil {
		return "", err
	}
	name := ""
	if cfg.ShowNames {
		name = "h.first_name || ' ' || h.last_name"
	}
	private, err := privateSchema(ctx, db)
	if err != nil {
		return "", err
	}
	// Workers (serve runs Ensure every few minutes) take turns.
	err = s.InTxAlone(ctx, "podium-bi:"+schema, func(tx *sql.Tx) error {
		var main string
		if err := tx.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&main); err != nil {
			return fmt.Errorf("bi: %w", err)
		}
		if err := protect(ctx, tx, main, private); err != nil {
			return err
		}
		for _, stmt := range ddl(schema, private, name) {
			if _, err := tx.ExecContext(ctx, stmt); err != nil {
				return fmt.Errorf("bi: %s: %w", firstLine(stmt), err)
			}
		}
		return refreshKeys(ctx, tx, cfg.Secret)
	})
	return schema, err
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i > 0 {
		return s[:i]
	}
	return s
}

// Private are the tables of personal data that live in the private schema
// (store.PrivateSchema) on PostgreSQL: the HR register, the Strava links
// with their OAuth tokens and the webhook events, the employee keys.
var Private = []string{"hr_employees", "hr_employee_sports", "strava_athletes", "strava_events"}

// privateSchema returns the private schema the store's connections search:
// the last of their search_path (store.Open appends it).
func privateSchema(ctx context.Context, db *sql.DB) (string, error) {
	var sp string
	if err := db.QueryRowContext(ctx, `SHOW search_path`).Scan(&sp); err != nil {
		return "", fmt.Errorf("bi: %w", err)
	}
	parts := strings.Split(sp, ",")
	last := strings.Trim(strings.TrimSpace(parts[len(parts)-1]), `"`)
	if !strings.HasSuffix(last, "_private") {
		return "", fmt.Errorf("bi: the search_path %q has no private schema: open the store with store.Open", sp)
	}
	return last, nil
}

// protect creates the private schema and moves the tables of Private
// there from the store's schema. Every query names them without a
// schema: the search_path finds them.
func protect(ctx context.Context, tx *sql.Tx, schema, private string) error {
	if _, err := tx.ExecContext(ctx, `CREATE SCHEMA IF NOT EXISTS "`+private+`"`); err != nil {
		return fmt.Errorf("bi: create schema %s: %w", private, err)
	}
	if _, err := tx.ExecContext(ctx, `COMMENT ON SCHEMA "`+private+`" IS 'podium''s personal data: the HR register, Strava links and tokens, the pseudonymous keys. No BI role has rights here.'`); err != nil {
		return fmt.Errorf("bi: %w", err)
	}
	for _, t := range Private {
		var here bool
		if err := tx.QueryRowContext(ctx, `SELECT to_regclass($1) IS NOT NULL`, `"`+schema+`".`+t).Scan(&here); err != nil {
			return fmt.Errorf("bi: %w", err)
		}
		if here {
			if _, err := tx.ExecContext(ctx, `ALTER TABLE "`+schema+`".`+t+` SET SCHEMA "`+private+`"`); err != nil {
				return fmt.Errorf("bi: move %s to %s: %w", t, private, err)
			}
		}
	}
	return nil
}

// refreshKeys adds the keys of the employees that have none.
func refreshKeys(ctx context.Context, tx *sql.Tx, secret string) error {
	rows, err := tx.QueryContext(ctx, `SELECT e.employee_id FROM (
			SELECT employee_id FROM hr_employees UNION SELECT employee_id FROM activities_gold
			UNION SELECT employee_id FROM activities_current) e
		LEFT JOIN bi_employee_keys k ON k.employee_id = e.employee_id
		WHERE k.employee_id IS NULL OR k.secret_hash <> $1`, secretHash(secret))
	if err != nil {
		return fmt.Errorf("bi: employee keys: %w", err)
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return err
		}
		ids = append(ids, id)
	}
	rows.Close()
	for _, id := range ids {
		if _, err := tx.ExecContext(ctx, `INSERT INTO bi_employee_keys (employee_id, employee_key, secret_hash) VALUES ($1, $2, $3)
			ON CONFLICT (employee_id) DO UPDATE SET employee_key = EXCLUDED.employee_key, secret_hash = EXCLUDED.secret_hash`,
			id, Key(secret, id), secretHash(secret)); err != nil {
			return fmt.Errorf("bi: employee keys: %w", err)
		}
	}
	return nil
}

// secretHash tells which secret a key was computed with, without the
// secret: a key of another secret is computed again.
func secretHash(secret string) string { return Key(secret, "\x00podium-bi-secret")[:8] }

// ddl returns the statements of the reporting schema; name is the SQL
// expression of an employee's name over hr_employees h, "" for none.
func ddl(schema, private, name string) []string {
	q := `"` + schema + `"`
	nameCol := "CAST(NULL AS text)"
	if name != "" {
		nameCol = name
	}
	stmts := []string{
		`CREATE TABLE IF NOT EXISTS "` + private + `".bi_employee_keys (
			employee_id  TEXT NOT NULL PRIMARY KEY,
			employee_key TEXT NOT NULL,
			secret_hash  TEXT NOT NULL)`,
		`CREATE SCHEMA IF NOT EXISTS ` + q,
		`COMMENT ON SCHEMA ` + q + ` IS 'podium''s reporting schema for BI tools: documented views of the activities pipeline, employees under pseudonymous keys, money as numeric(12,2). Read-only roles: podium activities bi-role NAME.'`,
		`CREATE OR REPLACE VIEW ` + q + `.dim_date AS
			SELECT CAST(d AS date) AS date, CAST(EXTRACT(year FROM d) AS integer) AS year,
				CAST(EXTRACT(quarter FROM d) AS integer) AS quarter, CAST(EXTRACT(month FROM d) AS integer) AS month,
				to_char(d, 'YYYY-MM') AS year_month, trim(to_char(d, 'Month')) AS month_name,
				CAST(EXTRACT(isoyear FROM d) AS integer) AS iso_year, CAST(EXTRACT(week FROM d) AS integer) AS iso_week,
				CAST(EXTRACT(isodow FROM d) AS integer) AS iso_day_of_week, EXTRACT(isodow FROM d) >= 6 AS weekend
			FROM generate_series(DATE '2015-01-01', DATE '2040-12-31', INTERVAL '1 day') AS d`,
		`CREATE OR REPLACE VIEW ` + q + `.rewards_employee_year AS
			SELECT k.employee_key, g.year, MAKE_DATE(g.year, 1, 1) AS year_start, g.business_unit,
				g.activities, CAST(g.distance_m / 1000.0 AS numeric(12,3)) AS distance_km, g.sports, g.commute_mode,
				g.bonus_eligible, CAST(g.bonus_cents / 100.0 AS numeric(12,2)) AS bonus_eur, g.wellness_days,
				g.declaration_flag <> '' AS declaration_flagged, ` + nameCol + ` AS employee_name
			FROM activities_gold g
			JOIN bi_employee_keys k ON k.employee_id = g.employee_id
			LEFT JOIN hr_employees h ON h.employee_id = g.employee_id`,
		`CREATE OR REPLACE VIEW ` + q + `.activity_month AS
			SELECT c.local_year AS year, c.local_month AS month, MAKE_DATE(c.local_year, c.local_month, 1) AS month_start,
				COALESCE(h.business_unit, '') AS business_unit, c.sport_type,
				COUNT(*) AS activities, COUNT(DISTINCT c.employee_id) AS employees,
				CAST(SUM(c.distance_m) / 1000.0 AS numeric(12,3)) AS distance_km,
				CAST(SUM(c.elapsed_s) / 3600.0 AS numeric(12,2)) AS hours
			FROM activities_current c LEFT JOIN hr_employees h ON h.employee_id = c.employee_id
			GROUP BY c.local_year, c.local_month, COALESCE(h.business_unit, ''), c.sport_type`,
		`CREATE OR REPLACE VIEW ` + q + `.sport_mix AS
			SELECT local_year AS year, sport_type, COUNT(*) AS activities, COUNT(DISTINCT employee_id) AS employees,
				CAST(SUM(distance_m) / 1000.0 AS numeric(12,3)) AS distance_km,
				CAST(COUNT(*) * 1.0 / SUM(COUNT(*)) OVER (PARTITION BY local_year) AS numeric(5,4)) AS share_of_activities
			FROM activities_current GROUP BY local_year, sport_type`,
		`CREATE OR REPLACE VIEW ` + q + `.quality_results AS
			SELECT CAST(quarantined_at AS date) AS date, rule, op, COUNT(*) AS events, COUNT(DISTINCT activity_id) AS activities
			FROM activities_quarantine GROUP BY CAST(quarantined_at AS date), rule, op`,
	}
	for view, cols := range comments {
		stmts = append(stmts, `COMMENT ON VIEW `+q+`.`+view+` IS `+lit(cols[0][1]))
		for _, c := range cols[1:] {
			stmts = append(stmts, `COMMENT ON COLUMN `+q+`.`+view+`.`+c[0]+` IS `+lit(c[1]))
		}
	}
	return stmts
}

func lit(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// comments documents every view (first pair: "", the view) and column.
var comments = map[string][][2]string{
	"dim_date": {{"", "Date dimension, one row per day from 2015 to 2040: join on date, year_month or year."},
		{"date", "The day."}, {"year", "Calendar year."}, {"quarter", "Quarter, 1 to 4."}, {"month", "Month, 1 to 12."},
		{"year_month", "Year and month, YYYY-MM."}, {"month_name", "English month name."},
		{"iso_year", "ISO 8601 week-numbering year."}, {"iso_week", "ISO 8601 week, 1 to 53."},
		{"iso_day_of_week", "ISO day of week: 1 Monday to 7 Sunday."}, {"weekend", "Saturday or Sunday."}},
	"rewards_employee_year": {{"", "Rewards per employee and calendar year (company time zone): the sports bonus and wellness days, from activities_gold. One row per employee and year with at least one activity."},
		{"employee_key", "Pseudonymous employee key: HMAC-SHA-256 of the employee id with a secret BI users do not have; stable across years."},
		{"year", "Calendar year."}, {"year_start", "1 January of the year, to join dim_date."},
		{"business_unit", "Business unit in the HR register; empty when the employee is not in it."},
		{"activities", "Activities counted in the year."}, {"distance_km", "Distance of the year in km, exact to the metre."},
		{"sports", "Sports practised that year, sorted, comma-separated."},
		{"commute_mode", "Declared commute mode: walking_running, bike_scooter_other, public_transport, car; empty when unknown."},
		{"bonus_eligible", "Whether the commute earns the sports bonus."},
		{"bonus_eur", "Sports bonus in euros, exact (numeric(12,2))."},
		{"wellness_days", "Wellness days earned."},
		{"declaration_flagged", "HR must check the commute declaration (the declared mode does not fit the measured distance)."},
		{"employee_name", "First and last name, only where the company's policy allows (setting bi.show_names); NULL otherwise."}},
	"activity_month": {{"", "Activity per month, business unit and sport, from the current activities (activities_current)."},
		{"year", "Calendar year (company time zone)."}, {"month", "Month, 1 to 12."}, {"month_start", "First day of the month, to join dim_date."},
		{"business_unit", "Business unit; empty for employees not in the HR register."}, {"sport_type", "Sport (Strava's sport types)."},
		{"activities", "Number of activities."}, {"employees", "Distinct employees."},
		{"distance_km", "Total distance in km."}, {"hours", "Total elapsed time in hours."}},
	"sport_mix": {{"", "Sport mix per calendar year: activities, employees and distance per sport and its share of the year's activities."},
		{"year", "Calendar year (company time zone)."}, {"sport_type", "Sport."}, {"activities", "Number of activities."},
		{"employees", "Distinct employees."}, {"distance_km", "Total distance in km."},
		{"share_of_activities", "Share of the year's activities, 0 to 1."}},
	"quality_results": {{"", "Data-quality results: change events held by the quality rules (quarantined), per day, rule and operation."},
		{"date", "Day the events were quarantined (UTC)."}, {"rule", "The first error rule the event failed."},
		{"op", "Change operation: c (create), u (update), r (snapshot read)."},
		{"events", "Change events quarantined."}, {"activities", "Distinct activities concerned."}},
}

var roleName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)

// CreateRole creates (or updates) a login role that can read the reporting
// schema and nothing else: CONNECT on the database, USAGE on the schema,
// SELECT on its views (today's and later ones), read-only transactions,
// the schema as its search path. The password is sent as a SCRAM-SHA-256
// verifier computed here, so that neither the server's statement log nor
// pg_stat_activity ever shows it.
func CreateRole(ctx context.Context, s *store.Store, cfg Config, name, password string) (schema string, err error) {
	if s.Dialect() != store.Postgres {
		return "", errors.New("bi: roles need PostgreSQL: on SQLite, BI tools read the store file")
	}
	if !roleName.MatchString(name) {
		return "", fmt.Errorf("bi: role name %q: use lower-case letters, digits and _, starting with a letter", name)
	}
	if len(password) < 12 {
		return "", errors.New("bi: the password must have at least 12 characters")
	}
	if schema, err = Ensure(ctx, s, cfg); err != nil {
		return "", err
	}
	verifier, err := scramVerifier(password)
	if err != nil {
		return "", err
	}
	var db string
	if err := s.DB().QueryRowContext(ctx, `SELECT current_database()`).Scan(&db); err != nil {
		return "", fmt.Errorf("bi: %w", err)
	}
	var exists bool
	if err := s.DB().QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = $1)`, name).Scan(&exists); err != nil {
		return "", fmt.Errorf("bi: %w", err)
	}
	verb := "CREATE"
	if exists {
		verb = "ALTER"
	}
	q, sq := `"`+name+`"`, `"`+schema+`"`
	stmts := []string{
		verb + ` ROLE ` + q + ` LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOINHERIT PASSWORD ` + lit(verifier),
		`ALTER ROLE ` + q + ` SET default_transaction_read_only = on`,
		`ALTER ROLE ` + q + ` SET search_path = ` + sq,
		`GRANT CONNECT ON DATABASE "` + db + `" TO ` + q,
		`GRANT USAGE ON SCHEMA ` + sq + ` TO ` + q,
		`GRANT SELECT ON ALL TABLES IN SCHEMA ` + sq + ` TO ` + q,
		`ALTER DEFAULT PRIVILEGES IN SCHEMA ` + sq + ` GRANT SELECT ON TABLES TO ` + q,
	}
	err = s.InTx(ctx, func(tx *sql.Tx) error {
		for _, st := range stmts {
			if _, err := tx.ExecContext(ctx, st); err != nil {
				return fmt.Errorf("bi: %s: %w", strings.Replace(st, lit(verifier), "'…'", 1), err)
			}
		}
		return nil
	})
	return schema, err
}
