package f1

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/store"
	"github.com/podiumhq/podium/internal/stream"
)

// Fields of a result that the audit trail records, in the order an
// amendment lists them.
const (
	FieldStatus     = "status"
	FieldPosition   = "position"
	FieldPoints     = "points"
	FieldFastestLap = "fastest_lap"
	FieldTime       = "time"
	FieldLaps       = "laps"
	FieldReason     = "reason"
)

var auditFields = []string{FieldStatus, FieldPosition, FieldPoints, FieldFastestLap, FieldTime, FieldLaps, FieldReason}

// auditValues returns r's values of auditFields, as f1_amendments stores
// them: text, NULL for no position, the gap in its one format (a result
// stored with "+1:14.385" is not amended by the same "+74.385").
func auditValues(r ScoredResult) []sql.NullString {
	str := func(s string) sql.NullString { return sql.NullString{String: s, Valid: true} }
	pos := sql.NullString{}
	if r.Position != nil {
		pos = str(strconv.Itoa(*r.Position))
	}
	return []sql.NullString{str(r.Status), pos, str(formatPoints(r.Points)), str(strconv.FormatBool(r.FastestLap)),
		str(CanonicalGap(r.Time)), str(strconv.Itoa(r.Laps)), str(r.Reason)}
}

func formatPoints(p float64) string { return strconv.FormatFloat(p, 'f', -1, 64) }

// recordAmendments writes to f1_amendments every audited field that
// differs between a result as it was before the batch (before) and as it
// is after it (after, every result of the season). A result that was not
// stored before is no amendment; a result published again unchanged
// records nothing. A change is dated and sourced by the batch's result of
// the same car, or else by the batch's last result of the same session
// (which took the fastest lap, or moved the car).
func recordAmendments(ctx context.Context, tx *sql.Tx, season int, before, after []ScoredResult,
	batch []stream.Record[Result], now time.Time) error {
	if len(before) == 0 {
		return nil
	}
	byKey := map[string]*stream.Record[Result]{}
	bySession := map[sessionID]*stream.Record[Result]{}
	for i := range batch {
		r := &batch[i]
		if r.Value.Season == season {
			byKey[r.Value.Key()] = r
			bySession[sessionID{r.Value.Season, r.Value.Round, r.Value.Session}] = r
		}
	}
	stored := make(map[string]ScoredResult, len(after))
	for _, r := range after {
		stored[r.Key()] = r
	}
	var rows [][]any
	var version int64
	for _, b := range before {
		a, ok := stored[b.Key()]
		if !ok {
			continue
		}
		old, cur := auditValues(b), auditValues(a)
		if slices.Equal(old, cur) {
			continue
		}
		if version == 0 {
			if err := tx.QueryRowContext(ctx, `SELECT version FROM f1_seasons WHERE season = $1`, season).Scan(&version); err != nil {
				return fmt.Errorf("read the version of %d: %w", season, err)
			}
		}
		rec := byKey[a.Key()]
		if rec == nil {
			rec = bySession[sessionID{a.Season, a.Round, a.Session}]
		}
		at, source := now, ""
		if rec != nil {
			source = rec.Value.Source
			if rec.Msg != nil && !rec.Msg.Time.IsZero() {
				at = rec.Msg.Time.UTC()
			}
		}
		for i, f := range auditFields {
			if old[i] != cur[i] {
				rows = append(rows, []any{season, version, a.Round, a.Session, a.CarNumber, f, old[i], cur[i],
					a.GrandPrix, a.DriverID, a.DriverName, at, source})
			}
		}
	}
	if err := store.InsertRows(ctx, tx, `INSERT INTO f1_amendments (season, version, round, session, car_number, field,
		old_value, new_value, grand_prix, driver_id, driver_name, amended_at, source)`, rows, ""); err != nil {
		return fmt.Errorf("record the amendments of %d: %w", season, err)
	}
	return nil
}

// Amended is a result that a later result changed, and the change.
type Amended struct {
	Season    int    `json:"season"`
	Round     int    `json:"round"`
	Session   string `json:"session"`
	GrandPrix string `json:"grand_prix"`
	CarNumber int    `json:"car_number"`
	DriverID  string `json:"driver_id"`
	// DriverName is the driver's name in the amending result.
	DriverName string `json:"driver_name"`
	// At is when the bus stored the amending result; Source the amending
	// result's source ("" if it named none).
	At     time.Time `json:"at"`
	Source string    `json:"source"`
	// Version identifies the change: the rows of one change share it.
	Version int64 `json:"version"`
}

// same reports whether a and b are the same car in the same change.
func (a Amended) same(b Amended) bool {
	return a.Season == b.Season && a.Version == b.Version && a.Round == b.Round && a.Session == b.Session &&
		a.CarNumber == b.CarNumber
}

// Amendment is one field of a result that a later result changed: a row
// of the audit trail.
type Amendment struct {
	Amended
	// Field is one of the Field constants; Old and New its values as text,
	// nil for none (a car without a position).
	Field string  `json:"field"`
	Old   *string `json:"old"`
	New   *string `json:"new"`
}

// Values returns the old and new values, "" for none.
func (a Amendment) Values() (old, cur string) {
	if a.Old != nil {
		old = *a.Old
	}
	if a.New != nil {
		cur = *a.New
	}
	return old, cur
}

// Amendments returns the audit trail of season (0: every season), oldest
// first; with round (and session) not 0 (""), that round's (session's)
// only.
func Amendments(ctx context.Context, q Queryer, season, round int, session string) ([]Amendment, error) {
	rows, err := q.QueryContext(ctx, `SELECT season, round, session, grand_prix, car_number, driver_id, driver_name,
		field, old_value, new_value, amended_at, source, version FROM f1_amendments
		WHERE ($1 = 0 OR season = $1) AND ($2 = 0 OR round = $2) AND ($3 = '' OR session = $3)
		ORDER BY amended_at, season, version, round, session DESC, car_number`, season, round, session)
	if err != nil {
		return nil, fmt.Errorf("read the amendments: %w", err)
	}
	defer rows.Close()
	out := []Amendment{}
	for rows.Next() {
		var a Amendment
		var old, cur sql.NullString
		if err := rows.Scan(&a.Season, &a.Round, &a.Session, &a.GrandPrix, &a.CarNumber, &a.DriverID, &a.DriverName,
			&a.Field, &old, &cur, &a.At, &a.Source, &a.Version); err != nil {
			return nil, fmt.Errorf("read the amendments: %w", err)
		}
		if old.Valid {
			a.Old = &old.String
		}
		if cur.Valid {
			a.New = &cur.String
		}
		a.At = a.At.UTC()
		out = append(out, a)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the amendments: %w", err)
	}
	// The fields of one car's change in auditFields order.
	slices.SortStableFunc(out, func(x, y Amendment) int {
		if !x.same(y.Amended) {
			return 0
		}
		return cmp.Compare(slices.Index(auditFields, x.Field), slices.Index(auditFields, y.Field))
	})
	return out, nil
}

// AmendmentNote is one car's change in one amendment, in words, as the
// race page shows it: "Lewis Hamilton disqualified (Illegal skid block
// wear), −18 pts".
type AmendmentNote struct {
	Amended
	// Text says what changed; PointsDelta by how many points.
	Text        string  `json:"text"`
	PointsDelta float64 `json:"points_delta"`
}

// Notes groups an audit trail (as Amendments returns it) by change and
// car, and words each.
func Notes(as []Amendment) []AmendmentNote {
	var out []AmendmentNote
	for i := 0; i < len(as); {
		j := i + 1
		for j < len(as) && as[j].same(as[i].Amended) {
			j++
		}
		out = append(out, note(as[i:j]))
		i = j
	}
	return out
}

// note words the changed fields of one car.
func note(fields []Amendment) AmendmentNote {
	a := fields[0]
	n := AmendmentNote{Amended: a.Amended}
	ch := map[string][2]string{}
	for _, f := range fields {
		old, cur := f.Values()
		ch[f.Field] = [2]string{old, cur}
	}
	var parts []string
	pos := func(p string) string {
		if p == "" {
			return "unplaced"
		}
		return "P" + p
	}
	if st, ok := ch[FieldStatus]; ok {
		switch st[1] {
		case DSQ:
			parts = append(parts, "disqualified")
		case Finished:
			word := "classified"
			if st[0] == DSQ {
				word = "reinstated"
			}
			if p, ok := ch[FieldPosition]; ok {
				word += " " + pos(p[1])
			}
			parts = append(parts, word)
		default:
			parts = append(parts, statusWords[st[1]])
		}
		if r, ok := ch[FieldReason]; ok && r[1] != "" {
			parts[len(parts)-1] += " (" + r[1] + ")"
		}
	} else if p, ok := ch[FieldPosition]; ok {
		parts = append(parts, pos(p[0])+" → "+pos(p[1]))
	}
	if t, ok := ch[FieldTime]; ok && len(parts) == 0 {
		parts = append(parts, "time "+orNone(t[0])+" → "+orNone(t[1]))
	}
	if fl, ok := ch[FieldFastestLap]; ok {
		if fl[1] == "true" {
			parts = append(parts, "fastest lap awarded")
		} else {
			parts = append(parts, "fastest lap removed")
		}
	}
	if p, ok := ch[FieldPoints]; ok {
		o, _ := strconv.ParseFloat(p[0], 64)
		c, _ := strconv.ParseFloat(p[1], 64)
		n.PointsDelta = c - o
	}
	if len(parts) == 0 {
		// Nothing worded above (laps, a reason, the points alone): each
		// field, old → new.
		for _, f := range fields {
			old, cur := f.Values()
			parts = append(parts, strings.ReplaceAll(f.Field, "_", " ")+" "+orNone(old)+" → "+orNone(cur))
		}
	}
	if n.PointsDelta != 0 {
		sign := "+"
		if n.PointsDelta < 0 {
			sign = "−"
		}
		abs := max(n.PointsDelta, -n.PointsDelta)
		unit := " pts"
		if abs == 1 {
			unit = " pt"
		}
		parts = append(parts, sign+formatPoints(abs)+unit)
	}
	n.Text = a.DriverName + " " + strings.Join(parts, ", ")
	return n
}

var statusWords = map[string]string{DNF: "retired (DNF)", DNS: "did not start", NC: "not classified"}

func orNone(s string) string {
	if s == "" {
		return "none"
	}
	return s
}
