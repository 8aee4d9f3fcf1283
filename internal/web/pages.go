package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// NavItem is one link of the navigation bar.
type NavItem struct {
	Label   string
	Path    string
	Current bool
}

// Page is what a page template receives: the layout's fields and the page's
// own data in Data.
type Page struct {
	Title string
	// Live lists the server-sent event names that change the page; the
	// browser re-renders the page's content when one arrives.
	Live string
	// Filter, as JSON, keeps only the events whose fields match (e.g.
	// {"season":2023}); empty takes every event named in Live.
	Filter string
	Nav    []NavItem
	Data   any
}

// Nav adds a link to the navigation bar; pages show links in the order added.
func (s *Server) Nav(label, path string) {
	s.nav = append(s.nav, NavItem{Label: label, Path: path})
}

// Template parses the page template name from fsys together with the
// layout and the shared helpers. A page template defines "title" and
// "content". More names (or patterns) add templates the page uses, such as
// partials shared by several pages.
func (s *Server) Template(fsys fs.FS, name string, more ...string) *template.Template {
	t := template.Must(template.New("").Funcs(Funcs).ParseFS(templateFiles, "templates/layout.html"))
	return template.Must(t.ParseFS(fsys, append([]string{name}, more...)...))
}

// Render writes page p with template t. A request with the header
// X-Podium-Fragment (the live-update script) gets the content alone.
func (s *Server) Render(w http.ResponseWriter, r *http.Request, t *template.Template, p Page) {
	p.Nav = make([]NavItem, len(s.nav))
	for i, n := range s.nav {
		n.Current = n.Path == r.URL.Path || n.Path != "/" && strings.HasPrefix(r.URL.Path, n.Path+"/")
		p.Nav[i] = n
	}
	name := "layout"
	if r.Header.Get("X-Podium-Fragment") != "" {
		name = "content"
	}
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, name, p); err != nil {
		s.log.Error("render page", "path", r.URL.Path, "err", err)
		http.Error(w, "could not render this page: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = buf.WriteTo(w)
}

// Error renders a page with an error message and status code.
func (s *Server) Error(w http.ResponseWriter, r *http.Request, code int, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	s.Render(w, r, s.errorTmpl, Page{Title: http.StatusText(code), Data: msg})
}

// Funcs are the helpers every page template can use.
var Funcs = template.FuncMap{
	"add": func(a, b int) int { return a + b },
	"pct": func(v float64) string { return fmt.Sprintf("%.0f%%", 100*v) },
	"num": func(v float64) string {
		if v == float64(int64(v)) {
			return fmt.Sprintf("%d", int64(v))
		}
		return fmt.Sprintf("%.1f", v)
	},
	"colour": func(hex string) template.CSS {
		hex = strings.TrimPrefix(hex, "#")
		if len(hex) != 6 || strings.Trim(hex, "0123456789abcdefABCDEF") != "" {
			return template.CSS("var(--muted)")
		}
		return template.CSS("#" + hex)
	},
	// euros prints an amount rounded to the euro with thousands
	// separators: "139,400".
	"euros": func(v float64) string {
		n := int64(math.Round(v))
		neg := n < 0
		if neg {
			n = -n
		}
		digits := strconv.FormatInt(n, 10)
		var b strings.Builder
		if neg {
			b.WriteByte('-')
		}
		for i, c := range digits {
			if i > 0 && (len(digits)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	},
	"lower": strings.ToLower,
	// duration prints a duration rounded for people: "6.5ms", "1.2s".
	"duration": func(d time.Duration) string {
		switch {
		case d >= time.Second:
			return d.Round(10 * time.Millisecond).String()
		case d >= time.Millisecond:
			return d.Round(100 * time.Microsecond).String()
		}
		return d.Round(time.Microsecond).String()
	},
}
