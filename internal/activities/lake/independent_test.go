package lake_test

// The tests of this file read the Iceberg tables without podium's scan:
// the files the current snapshot lists (its manifest list and manifests,
// lakehouse.Table.Files, which iceberg-go decodes inside the lakehouse
// package) are read with arrow-go's Parquet reader, position deletes
// applied, and compared with the SQL tables of the rewards processor.

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podiumhq/podium/internal/activities"
	"github.com/podiumhq/podium/internal/activities/lake"
	"github.com/podiumhq/podium/internal/bus"
	"github.com/podiumhq/podium/internal/enginetest"
	"github.com/podiumhq/podium/internal/lakehouse"
	"github.com/podiumhq/podium/internal/lakehouse/lakehousetest"
	"github.com/podiumhq/podium/internal/store"
)

// localPath turns a file:// location into a path.
func localPath(t *testing.T, loc string) string {
	t.Helper()
	u, err := url.Parse(loc)
	if err != nil || (u.Scheme != "file" && u.Scheme != "") {
		t.Fatalf("location %q: want a local file", loc)
	}
	return u.Path
}

// independentRows reads the current snapshot of the table name from its
// files: the data files the manifests list, minus the rows their position
// delete files delete. podium writes copy-on-write and no equality
// deletes; one fails the test rather than being ignored.
func independentRows(t *testing.T, l *lakehouse.Lake, name string) []map[string]any {
	t.Helper()
	tb, err := l.Table(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	files, err := tb.Files(context.Background(), 0)
	if err != nil {
		t.Fatal(err)
	}
	deleted := map[string]map[int64]bool{} // data file path → deleted positions
	for _, f := range files {
		switch f.Content {
		case lakehouse.EqualityDeletesContent:
			t.Fatalf("%s: equality delete file %s: the independent reader does not apply them", name, f.Path)
		case lakehouse.PositionDeletesContent:
			for _, d := range lakehousetest.ReadParquet(t, localPath(t, f.Path)) {
				p := d["file_path"].(string)
				if deleted[p] == nil {
					deleted[p] = map[int64]bool{}
				}
				deleted[p][d["pos"].(int64)] = true
			}
		}
	}
	var out []map[string]any
	for _, f := range files {
		if f.Content != lakehouse.DataContent {
			continue
		}
		rows := lakehousetest.ReadParquet(t, localPath(t, f.Path))
		if int64(len(rows)) != f.Records {
			t.Errorf("%s: data file %s has %d rows, its manifest entry says %d", name, f.Path, len(rows), f.Records)
		}
		for i, r := range rows {
			if !deleted[f.Path][int64(i)] {
				out = append(out, r)
			}
		}
	}
	return out
}

// canon writes values so that equal figures give equal text and any
// difference shows: floats with all their digits.
func canon(vals ...any) string {
	var b strings.Builder
	for i, v := range vals {
		if i > 0 {
			b.WriteByte('|')
		}
		switch x := v.(type) {
		case nil:
			b.WriteString("NULL")
		case float64:
			b.WriteString(strconv.FormatFloat(x, 'g', -1, 64))
		case int32:
			b.WriteString(strconv.FormatInt(int64(x), 10))
		case time.Time:
			b.WriteString(x.UTC().Format(time.RFC3339Nano))
		case string:
			b.WriteString(strconv.Quote(x))
		default:
			fmt.Fprint(&b, x)
		}
	}
	return b.String()
}

// lakeRows returns the rows of the table name, read independently, as
// canonical text of cols (in order), sorted.
func lakeRows(t *testing.T, l *lakehouse.Lake, name string, cols []lakehouse.Column) []string {
	t.Helper()
	var out []string
	for _, r := range independentRows(t, l, name) {
		vals := make([]any, len(cols))
		for i, c := range cols {
			vals[i] = r[c.Name]
		}
		out = append(out, canon(vals...))
	}
	slices.Sort(out)
	return out
}

// lakeGold returns the lake's gold rows read independently (lakeRows); the
// decimal bonus_eur is in cents, as SQL's bonus_cents.
func lakeGold(t *testing.T, l *lakehouse.Lake) []string {
	return lakeRows(t, l, lake.TableGold, lake.GoldColumns)
}

// sqlGold returns activities_gold in the canonical text of lakeGold (every
// column but updated_at, the time of the computation), sorted.
func sqlGold(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT employee_id, year, business_unit, activities, distance_m, distance_km, sports,
		commute_mode, commute_km, bonus_eligible, bonus_cents, declaration_flag, wellness_days FROM activities_gold`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var emp, bu, sports, mode, flag string
		var year, acts, wellness int32
		var meters, cents int64
		var km float64
		var commute sql.NullFloat64
		var eligible bool
		if err := rows.Scan(&emp, &year, &bu, &acts, &meters, &km, &sports, &mode, &commute, &eligible, &cents, &flag, &wellness); err != nil {
			t.Fatal(err)
		}
		var ck any
		if commute.Valid {
			ck = commute.Float64
		}
		out = append(out, canon(emp, year, bu, acts, meters, km, sports, mode, ck, eligible, cents, flag, wellness))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// sqlSportYears returns activities_sport_years, canonical and sorted.
func sqlSportYears(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.Query(`SELECT employee_id, year, sport_type, activities, distance_m FROM activities_sport_years`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var emp, sport string
		var year, n, m int64
		if err := rows.Scan(&emp, &year, &sport, &n, &m); err != nil {
			t.Fatal(err)
		}
		out = append(out, canon(emp, year, sport, n, m))
	}
	slices.Sort(out)
	return out
}

// diff reports the first differences between two canonical tables.
func diff(t *testing.T, what string, want, got []string) {
	t.Helper()
	if slices.Equal(want, got) {
		return
	}
	t.Errorf("%s: %d rows, want %d", what, len(got), len(want))
	seen := map[string]int{}
	for _, r := range want {
		seen[r]++
	}
	shown := 0
	for _, r := range got {
		if seen[r] > 0 {
			seen[r]--
			continue
		}
		if shown < 5 {
			t.Errorf("%s: extra or different row %s", what, r)
			shown++
		}
	}
	for r, n := range seen {
		if n > 0 && shown < 10 {
			t.Errorf("%s: missing row %s (×%d)", what, r, n)
			shown++
		}
	}
}

// debezium returns the value of a Debezium event from the cdc package's
// copies of the Debezium documentation's examples, with the row id 1001
// replaced by id.
func debezium(t *testing.T, name string, id int64) []byte {
	t.Helper()
	b, err := os.ReadFile("../cdc/testdata/debezium/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.ReplaceAll(string(b), `"id":1001`, `"id":`+strconv.FormatInt(id, 10)))
}

// TestGoldEveryBatch sends, one batch at a time, the change events that
// change no silver row or remove rows — a delete of an activity silver
// never had (a quarantined one) with its tombstone, a lone tombstone, a
// logical decoding message (op "m"), a delete with a key-only before image
// and the converter's wrapped tombstone, a truncate, then a snapshot that
// reads activities again — in the shapes of the Debezium documentation, to
// the rewards processor and the lakehouse sink, and after each checks with
// the independent reader that lake gold equals SQL gold: no row twice, none
// missing, the same figures.
func TestGoldEveryBatch(t *testing.T) {
	f := setup(t, store.SQLite, enginetest.JetStream, 400)
	topic := activities.TopicValidated
	f.publish(t, topic)
	l := f.openLake(t)
	sync := func(step string) {
		t.Helper()
		runRewards(t, f, 1000)
		end := f.end(t, topic)
		if err := runSink(t, f, f.config(nil), func() bool { return f.caughtUp(t, l, end) }); err != nil {
			t.Fatalf("%s: %v", step, err)
		}
		want, got := sqlGold(t, f.store.DB()), lakeGold(t, l)
		diff(t, step+": lake gold", want, got)
		keys := map[string]bool{}
		for _, r := range got {
			k := strings.Join(strings.SplitN(r, "|", 3)[:2], "|")
			if keys[k] {
				t.Errorf("%s: lake gold holds %s twice", step, k)
			}
			keys[k] = true
		}
		gold, silver := f.sqlTables(t)
		compare(t, step+": silver (podium's scan)", silver, scanSorted(t, l, lake.TableSilver, func(a, b lakehouse.Row) bool { return a[0].(int64) < b[0].(int64) }))
		if len(gold) == 0 && step != "truncate" {
			t.Fatalf("%s: no gold row: the step checks nothing", step)
		}
	}
	sync("the first events")
	_, silver := f.sqlTables(t)
	existing := silver[0][0].(int64)
	other := silver[len(silver)-1][0].(int64)

	n := 0
	send := func(key string, values ...[]byte) {
		t.Helper()
		var msgs []*bus.Message
		for _, v := range values {
			n++
			msgs = append(msgs, &bus.Message{Topic: topic, Key: key, Value: v, ID: fmt.Sprintf("step/%d", n)})
		}
		if err := f.bus.Publish(context.Background(), msgs...); err != nil {
			t.Fatal(err)
		}
	}
	const quarantined = 987654321 // never reached silver
	send(`{"id":987654321}`, debezium(t, "delete_full.json", quarantined), nil)
	sync("delete of a quarantined activity and its tombstone")
	send(fmt.Sprintf(`{"id":%d}`, existing), nil)
	sync("lone tombstone")
	send("", debezium(t, "message.json", 0))
	sync(`op "m"`)
	send(fmt.Sprintf(`{"id":%d}`, other), debezium(t, "delete_key_only.json", other), debezium(t, "tombstone_wrapped.json", 0))
	sync("delete with a key-only before image, wrapped tombstone")
	if _, after := f.sqlTables(t); len(after) != len(silver)-1 {
		t.Fatalf("the delete left %d activities, want %d", len(after), len(silver)-1)
	}
	send("", debezium(t, "truncate.json", 0))
	sync("truncate")
	if got := lakeGold(t, l); len(got) != 0 {
		t.Errorf("lake gold after a truncate: %d rows", len(got))
	}
	// A snapshot reads the first activities again.
	for i, e := range f.events[:50] {
		m := e(topic)
		m.ID = fmt.Sprintf("resnapshot/%d", i)
		if err := f.bus.Publish(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	sync("snapshot after the truncate")
}

// TestReproducibleSums runs the same events twice, in other batchings
// (the rewards processor in batches of 1,000 and of 13 events, the sink in
// batches of 5,000 and of 97), and checks that SQL gold, the per-sport
// sums and lake gold and silver (read independently) are byte-identical:
// sums in whole metres and cents do not depend on the batches.
func TestReproducibleSums(t *testing.T) {
	type run struct{ rewardsBatch, lakeBatch int }
	tables := map[run][4][]string{}
	runs := []run{{1000, 5000}, {13, 97}}
	for _, r := range runs {
		f := setup(t, store.SQLite, enginetest.JetStream, 1200)
		topic := activities.TopicValidated
		f.publish(t, topic)
		runRewards(t, f, r.rewardsBatch)
		end := f.end(t, topic)
		l := f.openLake(t)
		cfg := f.config(nil)
		cfg.MaxEvents = r.lakeBatch
		if err := runSink(t, f, cfg, func() bool { return f.caughtUp(t, l, end) }); err != nil {
			t.Fatal(err)
		}
		tables[r] = [4][]string{sqlGold(t, f.store.DB()), sqlSportYears(t, f.store.DB()), lakeGold(t, l), lakeRows(t, l, lake.TableSilver, lake.SilverColumns)}
	}
	a, b := tables[runs[0]], tables[runs[1]]
	for i, what := range []string{"SQL gold", "activities_sport_years", "lake gold", "lake silver"} {
		if len(a[i]) == 0 {
			t.Fatalf("%s is empty", what)
		}
		diff(t, what+" of the second run", a[i], b[i])
	}
	diff(t, "lake gold against SQL gold", a[0], a[2])
}

// TestOldGoldSchemaRecomputed replaces the gold table by one of the schema
// before exact units (distance_km and bonus_eur as doubles, no distance_m)
// holding a stale row: the sink drops it, computes gold again from silver
// with silver's positions, and reads nothing from the topic again.
func TestOldGoldSchemaRecomputed(t *testing.T) {
	ctx := context.Background()
	f := setup(t, store.SQLite, enginetest.JetStream, 300)
	topic := activities.TopicValidated
	f.publish(t, topic)
	runRewards(t, f, 1000)
	end := f.end(t, topic)
	l := f.openLake(t)
	if err := runSink(t, f, f.config(nil), func() bool { return f.caughtUp(t, l, end) }); err != nil {
		t.Fatal(err)
	}
	if err := l.DropTable(ctx, lake.TableGold); err != nil {
		t.Fatal(err)
	}
	var old []lakehouse.Column
	for _, c := range lake.GoldColumns {
		switch c.Name {
		case "distance_m":
			continue
		case "bonus_eur":
			c.Type = lakehouse.Float64
		}
		old = append(old, c)
	}
	tb, err := l.EnsureTable(ctx, lake.TableGold, old, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := tb.Append(ctx, []lakehouse.Row{{"stale", int32(2025), "", int32(1), 1.5, "Run", "", nil, false, 12.5, "", int32(0)}},
		map[string]string{lake.PropPositions: `{"0":1}`, lake.PropTopic: topic}); err != nil {
		t.Fatal(err)
	}
	counted := func() int {
		n := 0
		for _, b := range f.metrics.Recent() {
			if b.Processor == lake.Name {
				n += b.Size
			}
		}
		return n
	}
	before := counted()
	// One more event, so that the run has something to catch up with.
	m := message(t, topic, "m", 0, nil, nil)
	m.ID = "one-more"
	if err := f.bus.Publish(ctx, m); err != nil {
		t.Fatal(err)
	}
	end = f.end(t, topic)
	if err := runSink(t, f, f.config(nil), func() bool { return f.caughtUp(t, l, end) }); err != nil {
		t.Fatal(err)
	}
	diff(t, "recomputed lake gold", sqlGold(t, f.store.DB()), lakeGold(t, l))
	if n := counted() - before; n != 1 {
		t.Errorf("the run after the recomputation read %d events, want the 1 new one", n)
	}
	bronze, err := l.Table(ctx, lake.TableBronze)
	if err != nil {
		t.Fatal(err)
	}
	rows, err := bronze.Scan(ctx, lakehouse.ScanOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != len(f.events)+1 {
		t.Errorf("bronze holds %d events, want %d: the topic was read again", len(rows), len(f.events)+1)
	}
}
