package quality

import (
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteJSON writes r as indented JSON.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	if err := enc.Encode(r); err != nil {
		return fmt.Errorf("write the JSON report: %w", err)
	}
	return nil
}

// WriteSummary writes a short table of the results: one line per
// expectation.
func (r *Report) WriteSummary(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tEXPECTATION\tTABLE\tKIND\tSEVERITY\tFAILED\tEVALUATED")
	for _, res := range r.Results {
		status := "ok"
		if !res.Success {
			status = "FAIL"
			if res.Severity == Warning {
				status = "warn"
			}
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\n", status, res.Name, res.Table, res.Kind, res.Severity, res.Failed, res.Evaluated)
	}
	st := r.Statistics
	fmt.Fprintf(tw, "\n%d of %d expectations met (%.0f%%); %d errors, %d warnings; %d events quarantined\n",
		st.Successful, st.Expectations, st.SuccessPercent, st.FailedErrors, st.FailedWarnings, st.QuarantinedEvents)
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write the summary: %w", err)
	}
	return nil
}

// WriteHTML writes r as one self-contained HTML page (no external assets):
// the data docs of the validation.
func (r *Report) WriteHTML(w io.Writer) error {
	if err := htmlReport.Execute(w, r); err != nil {
		return fmt.Errorf("write the HTML report: %w", err)
	}
	return nil
}

var htmlReport = template.Must(template.New("report").Funcs(template.FuncMap{
	"status": func(res Result) string {
		switch {
		case res.Success:
			return "ok"
		case res.Severity == Warning:
			return "warn"
		}
		return "fail"
	},
	"label": func(res Result) string {
		switch {
		case res.Success:
			return "passed"
		case res.Severity == Warning:
			return "warning"
		}
		return "failed"
	},
	"pct":  func(f float64) string { return fmt.Sprintf("%.1f%%", f) },
	"json": func(v any) string { b, _ := json.Marshal(v); return string(b) },
	"kv": func(m map[string]any) string {
		keys := make([]string, 0, len(m))
		for k := range m {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			b, _ := json.Marshal(m[k])
			parts[i] = k + " = " + string(b)
		}
		return strings.Join(parts, ", ")
	},
}).Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Data quality: {{if .Success}}passed{{else}}failed{{end}} — podium</title>
<style>
:root { color-scheme: light dark; --ok: #1a7f37; --fail: #cf222e; --warn: #9a6700; --line: #d0d7de; --muted: #57606a; --bg2: #f6f8fa; }
@media (prefers-color-scheme: dark) { :root { --ok: #3fb950; --fail: #f85149; --warn: #d29922; --line: #30363d; --muted: #8b949e; --bg2: #161b22; } }
body { font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 auto; max-width: 1100px; padding: 1.5rem; }
h1 { margin: 0 0 .25rem; } h2 { margin-top: 2rem; }
.muted { color: var(--muted); }
.banner { border-radius: 6px; padding: .75rem 1rem; margin: 1rem 0; color: #fff; font-weight: 600; }
.banner.ok { background: var(--ok); } .banner.fail { background: var(--fail); }
.stats { display: flex; flex-wrap: wrap; gap: 1rem; margin: 1rem 0; }
.stat { border: 1px solid var(--line); border-radius: 6px; padding: .5rem 1rem; min-width: 8rem; }
.stat b { display: block; font-size: 1.4rem; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0; }
th, td { border-bottom: 1px solid var(--line); padding: .4rem .5rem; text-align: left; vertical-align: top; }
th { background: var(--bg2); }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
code { font: 13px ui-monospace, SFMono-Regular, Menlo, monospace; white-space: pre-wrap; word-break: break-word; }
.badge { display: inline-block; border-radius: 1em; padding: 0 .6em; color: #fff; font-size: .85em; font-weight: 600; }
.badge.ok { background: var(--ok); } .badge.fail { background: var(--fail); } .badge.warn { background: var(--warn); }
tr.fail td:first-child { border-left: 4px solid var(--fail); } tr.ok td:first-child { border-left: 4px solid var(--ok); } tr.warn td:first-child { border-left: 4px solid var(--warn); }
details { margin: .25rem 0; } summary { cursor: pointer; }
</style>
</head>
<body>
<h1>Data quality report</h1>
<p class="muted">Suite <code>{{.Suite}}</code> evaluated at {{.EvaluatedAt.Format "2006-01-02 15:04:05 MST"}}{{if .Scope}}; row rules restricted to {{.Scope}}{{end}}.</p>
{{if .Success}}<div class="banner ok">All error expectations are met.</div>{{else}}<div class="banner fail">{{.Statistics.FailedErrors}} error expectation(s) failed.</div>{{end}}
<div class="stats">
<div class="stat"><b>{{.Statistics.Expectations}}</b>expectations</div>
<div class="stat"><b>{{.Statistics.Successful}}</b>met</div>
<div class="stat"><b>{{.Statistics.FailedErrors}}</b>failed errors</div>
<div class="stat"><b>{{.Statistics.FailedWarnings}}</b>failed warnings</div>
<div class="stat"><b>{{pct .Statistics.SuccessPercent}}</b>success</div>
<div class="stat"><b>{{.Statistics.RowsEvaluated}}</b>row checks</div>
<div class="stat"><b>{{.Statistics.QuarantinedEvents}}</b>events quarantined</div>
</div>
<h2>Expectations</h2>
<table>
<thead><tr><th>Expectation</th><th>Table</th><th>Rule</th><th>Result</th><th>Failed</th><th>Evaluated</th></tr></thead>
<tbody>
{{range .Results}}<tr class="{{status .}}" id="{{.Name}}">
<td><b>{{.Name}}</b>{{if .Description}}<br><span class="muted">{{.Description}}</span>{{end}}</td>
<td>{{.Table}}</td>
<td><span class="muted">{{.Kind}}, {{.Severity}}</span><br><code>{{.Expression}}</code></td>
<td><span class="badge {{status .}}">{{label .}}</span>{{if .Message}}<br><span class="muted">{{.Message}}</span>{{end}}</td>
<td class="num">{{.Failed}}{{if .Failed}}<br><span class="muted">{{pct .FailedPercent}}</span>{{end}}</td>
<td class="num">{{.Evaluated}}</td>
</tr>
{{if or .Samples .Observed}}<tr class="{{status .}}"><td></td><td colspan="5">
{{if .Observed}}<div class="muted">Observed: <code>{{kv .Observed}}</code></div>{{end}}
{{if .Samples}}<details><summary>{{len .Samples}} sample failing row(s)</summary>
<table><thead><tr><th>Key</th><th>Values read by the rule</th><th>Outcome</th></tr></thead><tbody>
{{range .Samples}}<tr><td><code>{{kv .Key}}</code></td><td><code>{{kv .Values}}</code></td><td><code>{{.Message}}</code></td></tr>
{{end}}</tbody></table></details>{{end}}
</td></tr>{{end}}
{{end}}</tbody>
</table>
<h2>Quarantined change events</h2>
{{if .Quarantine}}<table>
<thead><tr><th>Rule</th><th>Events</th><th>Last quarantined</th></tr></thead>
<tbody>{{range .Quarantine}}<tr><td>{{.Rule}}</td><td class="num">{{.Events}}</td><td>{{.Last.Format "2006-01-02 15:04:05 MST"}}</td></tr>
{{end}}</tbody></table>{{else}}<p class="muted">No event has been quarantined.</p>{{end}}
<p class="muted">Samples show each failing row's key and the values of the columns its rule reads, never the personal columns of the HR register.</p>
</body>
</html>
`))
