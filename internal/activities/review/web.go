package review

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/podiumhq/podium/internal/activities/ingest"
	"github.com/podiumhq/podium/internal/web"
)

//go:embed templates/*.html
var templateFiles embed.FS

// Path is the review page's address.
const Path = "/activities/review"

// cookieName holds a reviewer's session: name, expiry, HMAC.
const cookieName = "podium_review"

// sessionLife is how long a sign-in lasts.
const sessionLife = 12 * time.Hour

// PageConfig configures the review page.
type PageConfig struct {
	// Token is the activities API token (activities.api_token): a Bearer
	// header with it, or a sign-in with it, opens the page. Empty disables
	// the page (503).
	Token string
	// Queue decides; its Store is read.
	Queue *Queue
	Log   *slog.Logger
}

type pageData struct {
	Reviewer string
	CSRF     string
	Error    string
	Notice   string
	Held     []Held
	Decided  []Held
	Flags    []Flag
	Athletes []ingest.Athlete
	History  *History
	SignIn   bool
}

// Handle serves the review page on srv: GET Path lists the held activities
// (with the rule, the numbers and the failing rules' values), the recent
// decisions, the flags and the Strava athletes who are disconnected;
// ?employee=ID shows that employee's history. POST Path/{id}/approve and
// /reject decide, with a reason. The page is protected by the activities
// API token: a request with "Authorization: Bearer <token>" (decisions by
// "api"), or a browser session opened by signing in at Path/login with the
// token and one's name (a cookie signed with the token: HttpOnly,
// SameSite=Strict, 12 hours; forms carry a token bound to it).
func Handle(srv *web.Server, cfg PageConfig) {
	if cfg.Log == nil {
		cfg.Log = slog.New(slog.DiscardHandler)
	}
	h := &handler{cfg: cfg, srv: srv, t: srv.Template(templateFiles, "templates/review.html")}
	srv.Nav("Review", Path)
	srv.Mux.HandleFunc("GET "+Path, h.page)
	srv.Mux.HandleFunc("POST "+Path+"/login", h.login)
	srv.Mux.HandleFunc("POST "+Path+"/logout", h.logout)
	srv.Mux.HandleFunc("POST "+Path+"/{id}/{decision}", h.decide)
}

type handler struct {
	cfg PageConfig
	srv *web.Server
	t   *template.Template
}

// sign returns the MAC of msg under the token.
func (h *handler) sign(msg string) string {
	m := hmac.New(sha256.New, []byte("podium review session\x00"+h.cfg.Token))
	m.Write([]byte(msg))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// reviewer returns who makes the request: "api" for the bearer token, the
// signed-in name for a valid session, "" otherwise.
func (h *handler) reviewer(r *http.Request) (name, session string) {
	if auth := r.Header.Get("Authorization"); strings.HasPrefix(auth, "Bearer ") {
		got := sha256.Sum256([]byte(strings.TrimPrefix(auth, "Bearer ")))
		want := sha256.Sum256([]byte(h.cfg.Token))
		if subtle.ConstantTimeCompare(got[:], want[:]) == 1 {
			return "api", ""
		}
		return "", ""
	}
	c, err := r.Cookie(cookieName)
	if err != nil {
		return "", ""
	}
	parts := strings.Split(c.Value, "|")
	if len(parts) != 3 {
		return "", ""
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || time.Now().Unix() > exp {
		return "", ""
	}
	if !hmac.Equal([]byte(h.sign(parts[0]+"|"+parts[1])), []byte(parts[2])) {
		return "", ""
	}
	name, err = url.QueryUnescape(parts[0])
	if err != nil {
		return "", ""
	}
	return name, c.Value
}

func (h *handler) disabled(w http.ResponseWriter, r *http.Request) bool {
	if h.cfg.Token != "" {
		return false
	}
	h.srv.Error(w, r, http.StatusServiceUnavailable,
		"The review page is disabled: set the activities API token (PODIUM_ACTIVITIES_API_TOKEN or activities.api_token), then restart podium.")
	return true
}

func (h *handler) render(w http.ResponseWriter, r *http.Request, status int, d pageData) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if status != http.StatusOK {
		w.WriteHeader(status)
	}
	h.srv.Render(w, r, h.t, web.Page{Title: "Review", Data: d})
}

func (h *handler) page(w http.ResponseWriter, r *http.Request) {
	if h.disabled(w, r) {
		return
	}
	who, session := h.reviewer(r)
	if who == "" {
		h.render(w, r, http.StatusUnauthorized, pageData{SignIn: true})
		return
	}
	d := pageData{Reviewer: who, Notice: r.URL.Query().Get("done")}
	if session != "" {
		d.CSRF = h.sign("csrf|" + session)
	}
	ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
	defer cancel()
	if err := h.load(ctx, r.URL.Query().Get("employee"), &d); err != nil {
		h.cfg.Log.Error("review page", "err", err)
		d.Error = err.Error()
	}
	h.render(w, r, http.StatusOK, d)
}

func (h *handler) load(ctx context.Context, employee string, d *pageData) error {
	db := h.cfg.Queue.Store.DB()
	if err := Migrate(ctx, h.cfg.Queue.Store); err != nil {
		return err
	}
	if employee != "" {
		hist, err := EmployeeHistory(ctx, db, employee)
		d.History = &hist
		return err
	}
	var err error
	if d.Held, err = List(ctx, db, Filter{Status: "held"}); err != nil {
		return err
	}
	all, err := List(ctx, db, Filter{Status: "all", Limit: 50})
	if err != nil {
		return err
	}
	for _, x := range all {
		if x.Decision != nil {
			d.Decided = append(d.Decided, x)
		}
	}
	if d.Flags, err = Flags(ctx, db, "", 50); err != nil {
		return err
	}
	st, err := ingest.ReadStatus(ctx, h.cfg.Queue.Store)
	if err != nil {
		return err
	}
	for _, a := range st.Athletes {
		if !a.Authorized {
			d.Athletes = append(d.Athletes, a)
		}
	}
	return nil
}

func (h *handler) login(w http.ResponseWriter, r *http.Request) {
	if h.disabled(w, r) {
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 4096)
	if err := r.ParseForm(); err != nil {
		h.render(w, r, http.StatusBadRequest, pageData{SignIn: true, Error: "unreadable form"})
		return
	}
	name := strings.TrimSpace(r.PostForm.Get("name"))
	got := sha256.Sum256([]byte(r.PostForm.Get("token")))
	want := sha256.Sum256([]byte(h.cfg.Token))
	switch {
	case subtle.ConstantTimeCompare(got[:], want[:]) != 1:
		h.cfg.Log.Warn("review page: sign-in with a wrong token", "remote", r.RemoteAddr)
		h.render(w, r, http.StatusUnauthorized, pageData{SignIn: true, Error: "Wrong token."})
		return
	case name == "" || len(name) > 100:
		h.render(w, r, http.StatusBadRequest, pageData{SignIn: true, Error: "Give your name (at most 100 characters): it is recorded with your decisions."})
		return
	}
	exp := strconv.FormatInt(time.Now().Add(sessionLife).Unix(), 10)
	v := url.QueryEscape(name) + "|" + exp
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: v + "|" + h.sign(v), Path: Path, HttpOnly: true,
		SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil, MaxAge: int(sessionLife.Seconds())})
	http.Redirect(w, r, Path, http.StatusSeeOther)
}

func (h *handler) logout(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: "", Path: Path, HttpOnly: true, SameSite: http.SameSiteStrictMode, MaxAge: -1})
	http.Redirect(w, r, Path, http.StatusSeeOther)
}

func (h *handler) decide(w http.ResponseWriter, r *http.Request) {
	if h.disabled(w, r) {
		return
	}
	who, session := h.reviewer(r)
	if who == "" {
		h.render(w, r, http.StatusUnauthorized, pageData{SignIn: true})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 8192)
	if err := r.ParseForm(); err != nil {
		h.srv.Error(w, r, http.StatusBadRequest, "unreadable form")
		return
	}
	if session != "" && !hmac.Equal([]byte(r.PostForm.Get("csrf")), []byte(h.sign("csrf|"+session))) {
		h.srv.Error(w, r, http.StatusForbidden, "The form is stale: reload the page and decide again.")
		return
	}
	id, reason := r.PathValue("id"), r.PostForm.Get("reason")
	var err error
	var held Held
	switch r.PathValue("decision") {
	case "approve":
		held, err = h.cfg.Queue.Approve(r.Context(), id, who, reason)
	case "reject":
		held, err = h.cfg.Queue.Reject(r.Context(), id, who, reason)
	default:
		http.NotFound(w, r)
		return
	}
	if err != nil {
		h.cfg.Log.Warn("review: decision refused", "id", id, "by", who, "err", err)
		d := pageData{Reviewer: who, Error: err.Error()}
		if session != "" {
			d.CSRF = h.sign("csrf|" + session)
		}
		_ = h.load(r.Context(), "", &d)
		h.render(w, r, http.StatusConflict, d)
		return
	}
	h.cfg.Log.Info("review: decision", "activity", held.ActivityID, "rule", held.Rule, "decision", held.Status, "by", who)
	http.Redirect(w, r, Path+"?done="+url.QueryEscape(fmt.Sprintf("Activity %d %s.", held.ActivityID, held.Status)), http.StatusSeeOther)
}
