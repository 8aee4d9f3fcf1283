// Package payroll exports the rewards of a year for payroll, reproducibly:
// one row per employee (bonus, wellness days, the activities counted, the
// commute check) read from the lakehouse's gold table as of one Iceberg
// snapshot, with the snapshot id, the version of the rules the figures
// were computed with and a checksum in the file's metadata. Exporting
// again with the same snapshot (or the same past date) gives the same
// bytes, whatever arrived since: nothing in the file depends on the time
// of the export.
//
// The snapshot an export reads is tagged in the gold table
// (payroll-<snapshot id>), so that expiry keeps it: the figures paid stay
// readable for as long as the tag stays. An erasure removes the tags of
// the snapshots that hold the erased employee (package erase).
package payroll

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/activities/lake"
	"github.com/podiumhq/podium/internal/activities/quality"
	"github.com/podiumhq/podium/internal/activities/rewards"
	"github.com/podiumhq/podium/internal/lakehouse"
)

// RulesVersion is the version of the rules the figures come from: the
// SHA-256 of the effective rewards policy and of the data-quality rule
// pack (every expectation's name, table, kind, severity and expression),
// in a canonical form. Two configurations that compute the same figures
// from the same activities have the same version.
func RulesVersion(p rewards.Policy, s *quality.Suite) string {
	type rule struct {
		Name, Table, Kind, Severity, Expr string
	}
	loc := ""
	if p.Location != nil {
		loc = p.Location.String()
	}
	canon := struct {
		BonusRate             string `json:"bonus_rate"`
		WalkMaxKm             string `json:"walk_max_km"`
		BikeMaxKm             string `json:"bike_max_km"`
		WellnessMinActivities int    `json:"wellness_min_activities"`
		WellnessDays          int    `json:"wellness_days"`
		RollingYear           bool   `json:"rolling_year"`
		TimeZone              string `json:"timezone"`
		Rules                 []rule `json:"rules"`
	}{
		BonusRate: strconv.FormatFloat(p.BonusRate, 'g', -1, 64), WalkMaxKm: strconv.FormatFloat(p.WalkMaxKm, 'g', -1, 64),
		BikeMaxKm: strconv.FormatFloat(p.BikeMaxKm, 'g', -1, 64), WellnessMinActivities: p.WellnessMinActivities,
		WellnessDays: p.WellnessDays, RollingYear: p.RollingYear, TimeZone: loc, Rules: []rule{},
	}
	if s != nil {
		for _, e := range s.Expectations {
			canon.Rules = append(canon.Rules, rule{e.Name, e.Table, string(e.Kind), string(e.Severity), e.Expr})
		}
	}
	b, _ := json.Marshal(canon) // fields in declaration order
	sum := sha256.Sum256(b)
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Row is an employee's line of the export.
type Row struct {
	EmployeeID   string
	BusinessUnit string
	// Activities is the number of activities counted for the year.
	Activities int32
	// Meters is the year's distance in whole metres.
	Meters int64
	// Sports are the sports practised, sorted, comma-separated.
	Sports      string
	CommuteMode string
	// CommuteKm is the measured home-to-office distance; nil when unknown.
	CommuteKm *float64
	// CommuteCheck is why HR must check the commute declaration; "ok" when
	// nothing is wrong.
	CommuteCheck  string
	BonusEligible bool
	Bonus         rewards.Cents
	WellnessDays  int32
}

// Export is a year's rows as of one snapshot of the gold table.
type Export struct {
	Year     int
	Snapshot lakehouse.Snapshot
	// RulesVersion is the rules version the gold snapshot's summary
	// records (lake.PropRulesVersion); RulesRecorded is false for a
	// snapshot written before versions were recorded, whose RulesVersion
	// is then the current configuration's.
	RulesVersion  string
	RulesRecorded bool
	Rows          []Row
}

// TagPrefix starts the tags exports put on the gold snapshots they read.
const TagPrefix = "payroll-"

// Tag is the tag an export of snapshot id puts on it.
func Tag(id int64) string { return TagPrefix + strconv.FormatInt(id, 10) }

var (
	snapshotID = regexp.MustCompile(`^[0-9]{9,}$`)
	dateOnly   = regexp.MustCompile(`^[0-9]{4}-[0-9]{2}-[0-9]{2}$`)
)

// Resolve returns the snapshot of the gold table asOf names: "" the
// current one; a snapshot id (as `lake history` and earlier exports show
// them); a date YYYY-MM-DD, the snapshot current at the end of that day
// in loc; or an RFC 3339 instant, the snapshot current then.
func Resolve(gold *lakehouse.Table, asOf string, loc *time.Location) (lakehouse.Snapshot, error) {
	asOf = strings.TrimSpace(asOf)
	switch {
	case asOf == "":
		s, ok := gold.Current()
		if !ok {
			return lakehouse.Snapshot{}, fmt.Errorf("the gold table %s has no snapshot yet: run podium serve (or a worker) until the activities pipeline has committed", gold.Name())
		}
		return s, nil
	case snapshotID.MatchString(asOf):
		id, err := strconv.ParseInt(asOf, 10, 64)
		if err != nil {
			return lakehouse.Snapshot{}, fmt.Errorf("--as-of %s: %w", asOf, err)
		}
		return gold.Snapshot(id)
	case dateOnly.MatchString(asOf):
		d, err := time.ParseInLocation(time.DateOnly, asOf, loc)
		if err != nil {
			return lakehouse.Snapshot{}, fmt.Errorf("--as-of %s: want a date YYYY-MM-DD: %w", asOf, err)
		}
		return at(gold, d.AddDate(0, 0, 1).Add(-time.Millisecond), asOf)
	}
	t, err := time.Parse(time.RFC3339, asOf)
	if err != nil {
		return lakehouse.Snapshot{}, fmt.Errorf("--as-of %q: want a snapshot id, a date YYYY-MM-DD or an RFC 3339 time such as 2026-03-31T18:00:00+02:00", asOf)
	}
	return at(gold, t, asOf)
}

func at(gold *lakehouse.Table, t time.Time, asOf string) (lakehouse.Snapshot, error) {
	if t.After(time.Now()) {
		return lakehouse.Snapshot{}, fmt.Errorf("--as-of %s is not over yet: what the lake holds then is not known; give a past date, or no --as-of for the current snapshot", asOf)
	}
	s, err := gold.SnapshotAt(t)
	if errors.Is(err, lakehouse.ErrExpired) {
		return s, fmt.Errorf("--as-of %s: %w; an export's snapshot id (in its metadata) stays readable: pass it as --as-of", asOf, err)
	}
	return s, err
}

// Load reads the export of year from the gold table as of asOf (see
// Resolve) and tags the snapshot read so that expiry keeps it. current is
// the rules version of the running configuration, used for a snapshot
// that records none.
func Load(ctx context.Context, l *lakehouse.Lake, year int, asOf string, loc *time.Location, current string) (Export, error) {
	gold, err := l.Table(ctx, lake.TableGold)
	if err != nil {
		return Export{}, fmt.Errorf("payroll export: %w (run podium serve or a worker with the lakehouse enabled)", err)
	}
	snap, err := Resolve(gold, asOf, loc)
	if err != nil {
		return Export{}, fmt.Errorf("payroll export: %w", err)
	}
	rows, err := gold.Scan(ctx, lakehouse.ScanOptions{SnapshotID: snap.ID, Filter: lakehouse.EqInt32("year", int32(year))})
	if err != nil {
		return Export{}, fmt.Errorf("payroll export: %w", err)
	}
	ex := Export{Year: year, Snapshot: snap}
	ex.RulesVersion, ex.RulesRecorded = snap.Summary[lake.PropRulesVersion]
	if !ex.RulesRecorded {
		ex.RulesVersion = current
	}
	if ex.Rows, err = decode(gold.Columns(), rows); err != nil {
		return Export{}, fmt.Errorf("payroll export: %s: %w", lake.TableGold, err)
	}
	// Keep the snapshot read from expiry; a concurrent commit of the sink
	// may win the catalog race: try again on the reloaded table.
	for attempt := 0; ; attempt++ {
		err = gold.Tag(ctx, Tag(snap.ID), snap.ID)
		if err == nil || attempt == 3 {
			break
		}
		if rerr := gold.Refresh(ctx); rerr != nil {
			return Export{}, rerr
		}
	}
	if err != nil {
		return Export{}, fmt.Errorf("payroll export: keep snapshot %d: %w", snap.ID, err)
	}
	return ex, nil
}

// decode turns gold rows into Rows, sorted by employee, reading the
// columns by name.
func decode(cols []lakehouse.Column, rows []lakehouse.Row) ([]Row, error) {
	idx := map[string]int{}
	for i, c := range cols {
		idx[c.Name] = i
	}
	for _, want := range []string{"employee_id", "business_unit", "activities", "distance_m", "sports", "commute_mode",
		"commute_km", "bonus_eligible", "bonus_eur", "declaration_flag", "wellness_days"} {
		if _, ok := idx[want]; !ok {
			return nil, fmt.Errorf("no column %s", want)
		}
	}
	out := make([]Row, 0, len(rows))
	for _, r := range rows {
		x := Row{
			EmployeeID: r[idx["employee_id"]].(string), BusinessUnit: r[idx["business_unit"]].(string),
			Activities: r[idx["activities"]].(int32), Meters: r[idx["distance_m"]].(int64), Sports: r[idx["sports"]].(string),
			CommuteMode: r[idx["commute_mode"]].(string), CommuteCheck: r[idx["declaration_flag"]].(string),
			BonusEligible: r[idx["bonus_eligible"]].(bool), Bonus: rewards.Cents(r[idx["bonus_eur"]].(int64)),
			WellnessDays: r[idx["wellness_days"]].(int32),
		}
		if v, ok := r[idx["commute_km"]].(float64); ok {
			x.CommuteKm = &v
		}
		if x.CommuteCheck == "" {
			x.CommuteCheck = "ok"
		}
		out = append(out, x)
	}
	slices.SortFunc(out, func(a, b Row) int { return strings.Compare(a.EmployeeID, b.EmployeeID) })
	return out, nil
}

// Header is the export's columns.
var Header = []string{"employee_id", "year", "business_unit", "activities", "distance_km", "sports", "commute_mode",
	"commute_km", "commute_check", "bonus_eligible", "bonus_eur", "wellness_days"}

// km formats whole metres as kilometres, exactly (three decimals).
func km(m int64) string {
	sign := ""
	if m < 0 {
		sign, m = "-", -m
	}
	return fmt.Sprintf("%s%d.%03d", sign, m/1000, m%1000)
}

// records are the rows as text, header first.
func (e Export) records() [][]string {
	out := [][]string{Header}
	for _, r := range e.Rows {
		ck := ""
		if r.CommuteKm != nil {
			ck = strconv.FormatFloat(*r.CommuteKm, 'f', -1, 64)
		}
		out = append(out, []string{r.EmployeeID, strconv.Itoa(e.Year), r.BusinessUnit, strconv.Itoa(int(r.Activities)),
			km(r.Meters), r.Sports, r.CommuteMode, ck, r.CommuteCheck, strconv.FormatBool(r.BonusEligible),
			r.Bonus.String(), strconv.Itoa(int(r.WellnessDays))})
	}
	return out
}

// CSV returns the rows as CSV: UTF-8 without byte order mark, comma
// separated, one header line, "\n" line ends, decimals with a point.
func (e Export) CSV() []byte {
	var b bytes.Buffer
	w := csv.NewWriter(&b)
	_ = w.WriteAll(e.records()) // a bytes.Buffer does not fail
	return b.Bytes()
}

// Checksum is the SHA-256 of the CSV rendering of the rows (CSV): the
// CSV file's own checksum, and the checksum of the data of an xlsx
// export, whose bytes are the workbook's.
func (e Export) Checksum() string {
	sum := sha256.Sum256(e.CSV())
	return "sha256:" + hex.EncodeToString(sum[:])
}

// Meta is the export's metadata: the .meta.json sidecar of a CSV export,
// the document properties of an xlsx one. It names the snapshot read, not
// how it was asked for: an export of the current snapshot and one --as-of
// its id are the same bytes.
type Meta struct {
	Format        string `json:"format"`
	Version       int    `json:"version"`
	Year          int    `json:"year"`
	Table         string `json:"table"`
	SnapshotID    int64  `json:"snapshot_id"`
	SnapshotTime  string `json:"snapshot_time"`
	Tag           string `json:"tag"`
	RulesVersion  string `json:"rules_version"`
	RulesRecorded bool   `json:"rules_recorded"`
	Employees     int    `json:"employees"`
	BonusTotalEUR string `json:"bonus_total_eur"`
	WellnessDays  int    `json:"wellness_days_total"`
	Checksum      string `json:"checksum"`
	ChecksumOf    string `json:"checksum_of"`
}

// MetaFormat is Meta.Format.
const MetaFormat = "podium.payroll.export"

// Meta returns the export's metadata.
func (e Export) Meta() Meta {
	var bonus rewards.Cents
	days := 0
	for _, r := range e.Rows {
		bonus += r.Bonus
		days += int(r.WellnessDays)
	}
	return Meta{Format: MetaFormat, Version: 1, Year: e.Year, Table: lake.TableGold,
		SnapshotID: e.Snapshot.ID, SnapshotTime: e.Snapshot.Time.UTC().Format(time.RFC3339Nano), Tag: Tag(e.Snapshot.ID),
		RulesVersion: e.RulesVersion, RulesRecorded: e.RulesRecorded, Employees: len(e.Rows),
		BonusTotalEUR: bonus.String(), WellnessDays: days, Checksum: e.Checksum(),
		ChecksumOf: "the CSV rendering of the rows (header included): the .csv file itself"}
}

// WriteMeta writes the metadata as indented JSON.
func (e Export) WriteMeta(w io.Writer) error {
	b, err := json.MarshalIndent(e.Meta(), "", "  ")
	if err != nil {
		return err
	}
	_, err = w.Write(append(b, '\n'))
	return err
}
