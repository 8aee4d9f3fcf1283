// Package erase removes one employee's data from everywhere podium keeps
// it, for a data-protection erasure request: the store's tables
// (operational, reporting, HR register, Strava links and tokens, the
// effect ledger), the bus's topics (by key), and the lakehouse's Iceberg
// tables (data files rewritten without the rows, then every snapshot that
// still holds them expired and the orphaned files deleted). Erase returns
// a report of where it removed how much.
//
// It works while serve runs: the store is shared (SQLite's WAL, or
// PostgreSQL), the bus is reached through the running process, and lake
// commits that race the sink's are retried on the reloaded table. Its
// deletes of sport_activities are not captured with the employee's data:
// on SQLite the change rows the triggers wrote are deleted in the same
// transaction; on PostgreSQL the delete runs under REPLICA IDENTITY
// DEFAULT, so that its change events carry the activity id only. An
// activity of the employee written while the erasure runs may escape it:
// run it again (it is idempotent) once writers are quiet.
package erase

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/lake"
	"github.com/podiumhq/podium/internal/activities/payroll"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/lakehouse"
	"github.com/podiumhq/podium/internal/store"
)

// Report says what Erase removed.
type Report struct {
	Employee string
	// Activities are the ids of the employee's activities found anywhere.
	Activities []int64
	Tables     []TableRows
	Topics     []TopicPurge
	Lake       []LakeTable
	Notes      []string
}

// TableRows is a store table and the rows deleted from it.
type TableRows struct {
	Table string
	Rows  int64
}

// TopicPurge is what was done to a topic.
type TopicPurge struct {
	Topic string
	bus.Purged
}

// Fate says in a few words what becomes of the topic's erased records:
// deleted (JetStream), removed at compaction (a compacted Kafka topic), or
// how long they stay (any other Kafka topic; Note says what to do).
func (t TopicPurge) Fate() string {
	switch {
	case t.CleanupPolicy == "":
		return "deleted"
	case t.Compacted:
		return "removed at compaction (cleanup.policy=" + t.CleanupPolicy + ")"
	case t.Retention == 0:
		return "stay forever (cleanup.policy=" + t.CleanupPolicy + ", retention.ms=-1)"
	}
	return "stay until retention, " + bus.FormatAge(t.Retention) + " (cleanup.policy=" + t.CleanupPolicy + ")"
}

// LakeTable is what was done to an Iceberg table.
type LakeTable struct {
	Table string
	// Rows is the number of rows deleted from the current snapshot.
	Rows int64
	// Expired are the snapshots expired.
	Expired []int64
	// TagsRemoved are the tags removed: each kept a snapshot that holds the
	// employee (a payroll export's).
	TagsRemoved []string
	// Orphans is the number of orphaned files deleted.
	Orphans int
}

// Options are the engines to erase from; a nil Bus or Lake is skipped
// (and the report says so).
type Options struct {
	Store *store.Store
	Bus   bus.Bus
	Lake  *lakehouse.Lake
	// OrphanAge is how old a file no snapshot refers to must be to be
	// deleted (younger ones may be a running writer's): default 10 minutes.
	OrphanAge time.Duration
	// Topics are the topics to purge; default Topics.
	Topics []string
}

// Topics are the topics that carry activities, keyed by {"id":N}: the
// change events, the validated stream and their dead letters.
var Topics = []string{activities.TopicActivities, activities.TopicValidated,
	activities.TopicActivities + ".dlq", activities.TopicValidated + ".dlq"}

// Key is the message key of the change events of activity id.
func Key(id int64) string { return `{"id":` + strconv.FormatInt(id, 10) + `}` }

// Erase removes employee's data (see the package comment).
func Erase(ctx context.Context, employee string, o Options) (Report, error) {
	r := Report{Employee: employee}
	employee = strings.TrimSpace(employee)
	if employee == "" {
		return r, errors.New("erase: no employee id")
	}
	if o.OrphanAge <= 0 {
		o.OrphanAge = 10 * time.Minute
	}
	if o.Topics == nil {
		o.Topics = Topics
	}
	ids, err := activityIDs(ctx, o, employee)
	if err != nil {
		return r, err
	}
	r.Activities = ids
	if err := eraseStore(ctx, o.Store, employee, ids, &r); err != nil {
		return r, err
	}
	if o.Bus == nil {
		r.Notes = append(r.Notes, "topics not purged: no bus")
	} else {
		keys := make([]string, len(ids))
		for i, id := range ids {
			keys[i] = Key(id)
		}
		for _, topic := range o.Topics {
			p, err := o.Bus.PurgeKeys(ctx, topic, keys...)
			if errors.Is(err, bus.ErrUnknownTopic) {
				continue
			}
			if err != nil {
				return r, fmt.Errorf("erase: %w", err)
			}
			r.Topics = append(r.Topics, TopicPurge{Topic: topic, Purged: p})
		}
	}
	if o.Lake == nil {
		r.Notes = append(r.Notes, "lakehouse not erased: no lake")
		return r, nil
	}
	for _, name := range lake.Tables {
		lt, err := eraseLake(ctx, o.Lake, name, lakeFilter(name, employee, ids), o.OrphanAge)
		if errors.Is(err, lakehouse.ErrNoSuchTable) {
			continue
		}
		if err != nil {
			return r, err
		}
		r.Lake = append(r.Lake, lt)
	}
	return r, nil
}

// lakeFilter selects the employee's rows of a lake table: by employee in
// silver and gold, by activity in bronze (whose before and after images
// hold the employee).
func lakeFilter(table, employee string, ids []int64) lakehouse.Filter {
	if table == lake.TableBronze {
		return lakehouse.InInt64("activity_id", ids...)
	}
	return lakehouse.EqString("employee_id", employee)
}

// activityIDs returns the ids of the employee's activities: in the store's
// tables, in the quarantine's raw events and in the lake (silver, and
// bronze's images of activities since deleted).
func activityIDs(ctx context.Context, o Options, employee string) ([]int64, error) {
	set := map[int64]bool{}
	db := o.Store.DB()
	for _, q := range []string{
		`SELECT id FROM sport_activities WHERE employee_id = $1`,
		`SELECT id FROM activities_current WHERE employee_id = $1`,
		`SELECT activity_id FROM activities_quarantine WHERE event LIKE '%"employee_id":' || $1 || '%' OR event LIKE '%"employee_id": ' || $1 || '%'`,
	} {
		arg := employee
		if strings.Contains(q, "LIKE") {
			arg = jsonString(employee)
		}
		if err := collect(ctx, db, q, arg, set); err != nil {
			return nil, err
		}
	}
	if o.Lake != nil {
		if t, err := o.Lake.Table(ctx, lake.TableSilver); err == nil {
			rows, err := t.Scan(ctx, lakehouse.ScanOptions{Filter: lakehouse.EqString("employee_id", employee)})
			if err != nil {
				return nil, fmt.Errorf("erase: %w", err)
			}
			for _, row := range rows {
				set[row[0].(int64)] = true
			}
		}
		if t, err := o.Lake.Table(ctx, lake.TableBronze); err == nil {
			ids, err := bronzeIDs(ctx, t, employee)
			if err != nil {
				return nil, err
			}
			for _, id := range ids {
				set[id] = true
			}
		}
	}
	return slices.Sorted(maps.Keys(set)), nil
}

// jsonString is s as a JSON string.
func jsonString(s string) string {
	return strconv.Quote(s) // employee ids are plain text: Go's quoting is JSON's for them
}

// collect adds the ids query q returns to set; a table that does not
// exist (its component never ran) adds none.
func collect(ctx context.Context, db *sql.DB, q, arg string, set map[int64]bool) error {
	rows, err := db.QueryContext(ctx, q, arg)
	if err != nil {
		if missingTable(err) {
			return nil
		}
		return fmt.Errorf("erase: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return fmt.Errorf("erase: %w", err)
		}
		set[id] = true
	}
	return rows.Err()
}

func missingTable(err error) bool {
	s := err.Error()
	return strings.Contains(s, "no such table") || strings.Contains(s, "does not exist")
}

// bronzeIDs returns the activities whose before or after image in bronze
// names the employee.
func bronzeIDs(ctx context.Context, t *lakehouse.Table, employee string) ([]int64, error) {
	cols := t.Columns()
	idx := map[string]int{}
	for i, c := range cols {
		idx[c.Name] = i
	}
	rows, err := t.Scan(ctx, lakehouse.ScanOptions{})
	if err != nil {
		return nil, fmt.Errorf("erase: %w", err)
	}
	needle := `"employee_id":` + jsonString(employee)
	var out []int64
	for _, row := range rows {
		id, ok := row[idx["activity_id"]].(int64)
		if !ok {
			continue
		}
		for _, c := range []string{"before", "after"} {
			if s, ok := row[idx[c]].(string); ok && strings.Contains(strings.ReplaceAll(s, `": `, `":`), needle) {
				out = append(out, id)
				break
			}
		}
	}
	return out, nil
}

// storeDeletes are the deletes of the store, in order: table and WHERE
// clause ($1 the employee). The activity-keyed ones are built per id.
var storeDeletes = []struct{ table, where string }{
	{"activities_current", "employee_id = $1"},
	{"activities_sport_years", "employee_id = $1"},
	{"activities_gold", "employee_id = $1"},
	{"commute_distances", "employee_id = $1"},
	{"strava_events", "owner_id IN (SELECT athlete_id FROM strava_athletes WHERE employee_id = $1)"},
	{"strava_athletes", "employee_id = $1"},
	{"hr_employee_sports", "employee_id = $1"},
	{"hr_employees", "employee_id = $1"},
	{"bi_employee_keys", "employee_id = $1"},
	{"activities_flags", "employee_id = $1"},
	{"activities_reviews", "employee_id = $1"},
}

// eraseStore deletes the employee's rows from the store's tables in one
// transaction.
func eraseStore(ctx context.Context, s *store.Store, employee string, ids []int64, r *Report) error {
	exists := map[string]bool{}
	tables := []string{activities.Table, "sport_activities_changes", "activities_quarantine", "podium_effects"}
	for _, d := range storeDeletes {
		tables = append(tables, d.table)
	}
	for _, t := range tables {
		rows, err := s.DB().QueryContext(ctx, "SELECT 1 FROM "+t+" WHERE 1 = 0")
		if err == nil {
			_ = rows.Close()
			exists[t] = true
		} else if !missingTable(err) {
			return fmt.Errorf("erase: %w", err)
		}
	}
	counts := map[string]int64{}
	err := s.InTx(ctx, func(tx *sql.Tx) error {
		exec := func(table, q string, args ...any) error {
			res, err := tx.ExecContext(ctx, q, args...)
			if err != nil {
				return fmt.Errorf("erase: %s: %w", table, err)
			}
			n, _ := res.RowsAffected()
			counts[table] += n
			return nil
		}
		if exists[activities.Table] {
			pg := s.Dialect() == store.Postgres
			if pg {
				// The delete's change events carry the key only.
				if _, err := tx.ExecContext(ctx, `ALTER TABLE sport_activities REPLICA IDENTITY DEFAULT`); err != nil {
					return fmt.Errorf("erase: %w", err)
				}
			}
			if err := exec(activities.Table, `DELETE FROM sport_activities WHERE employee_id = $1`, employee); err != nil {
				return err
			}
			if pg {
				if _, err := tx.ExecContext(ctx, `ALTER TABLE sport_activities REPLICA IDENTITY FULL`); err != nil {
					return fmt.Errorf("erase: %w", err)
				}
			}
		}
		if exists["sport_activities_changes"] {
			// The triggers' rows of these deletes, and any not relayed yet.
			if err := exec("sport_activities_changes", `DELETE FROM sport_activities_changes
				WHERE json_extract(before, '$.employee_id') = $1 OR json_extract(after, '$.employee_id') = $1`, employee); err != nil {
				return err
			}
		}
		for part := range slices.Chunk(ids, 500) {
			args := make([]any, len(part))
			keys := make([]any, len(part))
			marks := make([]string, len(part))
			for i, id := range part {
				args[i], keys[i], marks[i] = id, "activity/"+strconv.FormatInt(id, 10), "$"+strconv.Itoa(i+1)
			}
			in := strings.Join(marks, ", ")
			if exists["activities_quarantine"] {
				if err := exec("activities_quarantine", `DELETE FROM activities_quarantine WHERE activity_id IN (`+in+`)`, args...); err != nil {
					return err
				}
			}
			if exists["podium_effects"] {
				if err := exec("podium_effects", `DELETE FROM podium_effects WHERE call_key IN (`+in+`)`, keys...); err != nil {
					return err
				}
			}
		}
		for _, d := range storeDeletes {
			if exists[d.table] {
				if err := exec(d.table, `DELETE FROM `+d.table+` WHERE `+d.where, employee); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, t := range slices.Sorted(maps.Keys(exists)) {
		r.Tables = append(r.Tables, TableRows{Table: t, Rows: counts[t]})
	}
	return nil
}

// maxConflicts bounds the retries of a lake commit another writer beat.
const maxConflicts = 10

// eraseLake deletes the rows filter selects from the lake table name,
// removes the tags that keep snapshots holding them, rewrites the
// manifests (the delete's manifests list the removed files with their
// column bounds), expires every other snapshot and deletes the orphaned
// files.
func eraseLake(ctx context.Context, l *lakehouse.Lake, name string, filter lakehouse.Filter, orphanAge time.Duration) (LakeTable, error) {
	out := LakeTable{Table: name}
	t, err := l.Table(ctx, name)
	if err != nil {
		return out, err
	}
	retry := func(what string, op func() error) error {
		for attempt := 0; ; attempt++ {
			err := op()
			if err == nil || !errors.Is(err, lakehouse.ErrConflict) || attempt >= maxConflicts {
				if err != nil {
					return fmt.Errorf("erase: %s %s: %w", what, name, err)
				}
				return nil
			}
			if err := t.Refresh(ctx); err != nil {
				return err
			}
		}
	}
	for tag, id := range t.Tags() {
		rows, err := t.Scan(ctx, lakehouse.ScanOptions{SnapshotID: id, Filter: filter, Limit: 1})
		if err != nil {
			return out, fmt.Errorf("erase: %w", err)
		}
		if len(rows) > 0 {
			if err := t.RemoveTag(ctx, tag); err != nil {
				return out, err
			}
			out.TagsRemoved = append(out.TagsRemoved, tag)
		}
	}
	slices.Sort(out.TagsRemoved)
	err = retry("delete from", func() error {
		rows, err := t.Scan(ctx, lakehouse.ScanOptions{Filter: filter})
		if err != nil {
			return err
		}
		out.Rows = int64(len(rows))
		if len(rows) == 0 {
			return nil
		}
		return t.Delete(ctx, filter, carried(t))
	})
	if err != nil {
		return out, err
	}
	if err := retry("rewrite the manifests of", func() error { return t.RewriteManifests(ctx) }); err != nil {
		return out, err
	}
	// The current snapshot must hold the positions the sink resumes from:
	// the replace snapshot has none and its parents are about to expire.
	if err := retry("carry the positions of", func() error { return t.Append(ctx, nil, carried(t)) }); err != nil {
		return out, err
	}
	if err := retry("expire the snapshots of", func() error {
		ids, err := t.ExpireAllButCurrent(ctx)
		out.Expired = append(out.Expired, ids...)
		return err
	}); err != nil {
		return out, err
	}
	gone, err := t.RemoveOrphanFiles(ctx, orphanAge)
	out.Orphans = len(gone)
	if err != nil {
		return out, fmt.Errorf("erase: %w", err)
	}
	return out, nil
}

// carried returns the podium properties of the table's last snapshot that
// has them: the positions, topic, silver snapshot and rules version the
// sink reads back.
func carried(t *lakehouse.Table) map[string]string {
	props := map[string]string{lake.PropEvents: "0"}
	for _, k := range []string{lake.PropPositions, lake.PropTopic, lake.PropSilverSnapshot, lake.PropRulesVersion} {
		if v, ok := t.LastProperty(k); ok {
			props[k] = v
		}
	}
	return props
}

// Write prints the report as text.
func (r Report) Write(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "erasure of employee %s: %d activities\n\n", r.Employee, len(r.Activities))
	fmt.Fprintln(tw, "STORE TABLE\tROWS DELETED")
	for _, t := range r.Tables {
		fmt.Fprintf(tw, "%s\t%d\n", t.Table, t.Rows)
	}
	fmt.Fprintln(tw, "\nTOPIC\tREMOVED\tTOMBSTONES\tTHE ERASED RECORDS")
	for _, t := range r.Topics {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\n", t.Topic, t.Removed, t.Tombstones, t.Fate())
	}
	fmt.Fprintln(tw, "\nLAKE TABLE\tROWS DELETED\tSNAPSHOTS EXPIRED\tORPHAN FILES\tTAGS REMOVED")
	for _, t := range r.Lake {
		exp := make([]string, len(t.Expired))
		for i, id := range t.Expired {
			exp[i] = strconv.FormatInt(id, 10)
		}
		expired := strconv.Itoa(len(exp))
		if len(exp) > 0 {
			expired += " (" + strings.Join(exp, " ") + ")"
		}
		tags := strings.Join(t.TagsRemoved, " ")
		if tags == "" {
			tags = "-"
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%s\n", t.Table, t.Rows, expired, t.Orphans, tags)
	}
	for _, n := range r.Notes {
		fmt.Fprintf(tw, "\nnote: %s\n", n)
	}
	for _, t := range r.Topics {
		if t.Note != "" {
			fmt.Fprintf(tw, "\nnote: topic %s: %s\n", t.Topic, t.Note)
		}
	}
	for _, t := range r.Lake {
		if len(t.TagsRemoved) > 0 {
			fmt.Fprintf(tw, "\nnote: %s: the payroll exports of the removed tags (%s…) can no longer be reproduced from the lake; their files keep the figures paid\n",
				t.Table, payroll.TagPrefix)
			break
		}
	}
	return tw.Flush()
}
