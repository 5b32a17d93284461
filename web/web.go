// Package web is the log follow-up tool for people (logguppföljning): server-rendered pages for
// reviewers, managers and administrators, with local accounts, server-side sessions, CSRF tokens
// on every form, Swedish and English texts and exports of search results.
//
// The package translates HTTP to calls of accesslog.Service and account.Store and back; what a
// person may see is decided there and in account.Allowed, and checked again here before a page
// is drawn. Personnummer never travel in URLs: searches are POSTed and kept in the server-side
// session, and result pages are addressed by a random search id.
package web

import (
	"embed"
	"errors"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/control"
	"github.com/vakt/vakt/logcontrol"
	"github.com/vakt/vakt/oidc"
	"github.com/vakt/vakt/permlist"
	"github.com/vakt/vakt/rest"
	"github.com/vakt/vakt/watchlist"
)

//go:embed templates/*.html
var templateFS embed.FS

//go:embed static
var staticFS embed.FS

// cookieName is the session cookie. On TLS it gets the __Host- prefix, which browsers accept only
// with Secure, Path=/ and no Domain, so that no other host or path can set or shadow it.
const cookieName = "vakt_session"

// maxFormBytes bounds a form body; the largest form is a search with a few fields.
const maxFormBytes = 64 << 10

// UI serves the web tool.
type UI struct {
	Service  *accesslog.Service
	Accounts account.Store
	Auth     *account.Authenticator
	Sessions *Sessions
	Logger   *slog.Logger
	// Params of password hashes the UI writes (a changed password); account.DefaultParams when zero.
	Params account.Params
	// OIDC, when set, offers login through the region's OpenID provider (oidc_login.go), with
	// OIDCLabel on its button. PostLogoutURL is where the provider returns after logout there.
	OIDC          *oidc.Client
	OIDCLabel     string
	PostLogoutURL string
	// NoPasswordLogin turns local password login off (production with an IdP).
	NoPasswordLogin bool
	// Throttle slows down password guessing; a Throttle with the defaults when nil.
	Throttle *Throttle
	// Admin administers accounts; when nil, New makes one on Accounts that records changes in
	// the tenants' logs through Service.
	Admin *account.Admin
	// Controls runs log controls (the Kontroller pages); the pages are left out when nil.
	Controls *control.Service
	// Permissions builds the care units' permission lists (behörighetslista); the pages are left
	// out when nil.
	Permissions *permlist.Service
	// Watchlist edits the tenant's watch list (bevakningslista); the pages are left out when nil.
	Watchlist *watchlist.Service
	// Flags computes automatic flags for the flags page (Kontroller → Flaggor); the page is
	// left out when nil or when Controls is.
	Flags *logcontrol.Service

	pages map[string]*template.Template
}

// pageNames lists every page; New fails when one has no template, not the first request.
var pageNames = []string{"login", "password", "search", "result", "entry", "accounts", "account", "account_new", "account_remove", "error", "tenant_choice", "login_continue", "controls", "control", "flags", "flags_result", "control_targeted"}

// New checks and parses the templates and returns the UI.
func New(ui UI) (*UI, error) {
	if ui.Sessions == nil {
		ui.Sessions = &Sessions{}
	}
	ui.Sessions.init()
	if ui.Logger == nil {
		ui.Logger = slog.New(slog.DiscardHandler)
	}
	if ui.Params == (account.Params{}) {
		ui.Params = account.DefaultParams
	}
	if ui.Throttle == nil {
		ui.Throttle = &Throttle{}
	}
	if ui.OIDCLabel == "" {
		ui.OIDCLabel = DefaultOIDCLabel
	}
	if ui.Admin == nil {
		if ui.Service == nil {
			return nil, errors.New("web: an Admin or a Service to record account changes is required")
		}
		ui.Admin = &account.Admin{Store: ui.Accounts, Tenants: ui.Service.Tenants, Recorder: ui.Service, Params: ui.Params}
	}
	funcs := template.FuncMap{
		"roleKey": func(r vakt.Role) string { return "role." + string(r) },
		"add":     func(a, b int) int { return a + b },
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFS, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	ui.pages = map[string]*template.Template{}
	for _, name := range pageNames {
		t, err := template.Must(base.Clone()).ParseFS(templateFS, "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		if t.Lookup("content") == nil {
			return nil, errors.New("web: template " + name + " defines no content")
		}
		ui.pages[name] = t
	}
	return &ui, nil
}

// Register adds the UI's routes to mux. Each route names the permission it needs; the table in
// docs/UI.md is this list.
func (ui *UI) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(staticFS, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", staticFiles(http.FileServerFS(static))))
	mux.HandleFunc("GET /login", ui.handleLoginPage)
	mux.HandleFunc("POST /login", ui.handleLogin)
	mux.HandleFunc("POST /sprak", ui.handleLanguage)
	mux.HandleFunc("GET /login/oidc", ui.handleOIDCStart)
	mux.HandleFunc("GET /login/oidc/callback", ui.handleOIDCCallback)
	mux.HandleFunc("POST /login/oidc/verksamhet", ui.handleOIDCTenant)
	mux.Handle("POST /logout", ui.person("", ui.handleLogout))
	mux.Handle("GET /losenord", ui.person("", ui.handlePasswordPage))
	mux.Handle("POST /losenord", ui.person("", ui.handlePassword))
	mux.Handle("GET /logguppfoljning", ui.person(account.FollowUp, func(w http.ResponseWriter, r *http.Request, c *call) {
		http.Redirect(w, r, "/logguppfoljning/invanare", http.StatusSeeOther)
	}))
	mux.Handle("GET /logguppfoljning/invanare", ui.person(account.FollowUp, ui.handleSearchPage(tabCitizen)))
	mux.Handle("GET /logguppfoljning/vardpersonal", ui.person(account.FollowUp, ui.handleSearchPage(tabStaff)))
	mux.Handle("POST /logguppfoljning/sok", ui.person(account.FollowUp, ui.handleSearch))
	mux.Handle("GET /logguppfoljning/resultat/{search}", ui.person(account.FollowUp, ui.handleResult))
	mux.Handle("GET /logguppfoljning/resultat/{search}/post/{seq}", ui.person(account.FollowUp, ui.handleEntry))
	mux.Handle("POST /logguppfoljning/resultat/{search}/export", ui.person(account.Export, ui.handleExport))
	if ui.Controls != nil {
		mux.Handle("GET /kontroller", ui.person(account.Controls, ui.handleControls))
		mux.Handle("POST /kontroller/stickprov", ui.person(account.Controls, ui.handleCreateSample))
		mux.Handle("GET /kontroller/{id}", ui.person(account.Controls, ui.handleControl))
		mux.Handle("POST /kontroller/{id}/post/{seq}", ui.person(account.Controls, ui.handleAssess))
		mux.Handle("POST /kontroller/{id}/avsluta", ui.person(account.Controls, ui.handleCloseControl))
		mux.Handle("GET /kontroller/riktad", ui.person(account.Controls, ui.handleTargetedPage))
		mux.Handle("POST /kontroller/riktad", ui.person(account.Controls, ui.handleCreateTargeted))
		mux.Handle("GET /kontroller/{id}/rapport.pdf", ui.person(account.Controls, ui.handleControlReport))
		if ui.Flags != nil {
			mux.Handle("GET /kontroller/flaggor", ui.person(account.Controls, ui.handleFlagsPage))
			mux.Handle("POST /kontroller/flaggor", ui.person(account.Controls, ui.handleFlagSearch))
			mux.Handle("GET /kontroller/flaggor/resultat/{search}", ui.person(account.Controls, ui.handleFlagResult))
		}
	}
	ui.registerControlFollowUp(mux)
	mux.Handle("GET /konton", ui.person(account.ViewAccounts, ui.handleAccounts))
	mux.Handle("GET /konton/nytt", ui.person(account.ManageAccounts, ui.handleNewAccountPage))
	mux.Handle("POST /konton/nytt", ui.person(account.ManageAccounts, ui.handleNewAccount))
	mux.Handle("GET /konto/{username}", ui.person(account.ViewAccounts, ui.handleAccount))
	mux.Handle("POST /konto/{username}/uppgifter", ui.person(account.ManageAccounts, ui.handleAccountDetails))
	mux.Handle("POST /konto/{username}/roller", ui.person(account.GrantRoles, ui.handleAccountRoles))
	mux.Handle("POST /konto/{username}/inaktivera", ui.person(account.ManageAccounts, ui.handleAccountDisabled(true)))
	mux.Handle("POST /konto/{username}/aktivera", ui.person(account.ManageAccounts, ui.handleAccountDisabled(false)))
	mux.Handle("POST /konto/{username}/losenord", ui.person(account.ManageAccounts, ui.handleAccountPassword))
	mux.Handle("GET /konto/{username}/ta-bort", ui.person(account.ManageAccounts, ui.handleRemovePage))
	mux.Handle("POST /konto/{username}/ta-bort", ui.person(account.ManageAccounts, ui.handleRemove))
}

// staticFiles lets browsers cache the embedded assets for a day (the server's default is
// no-store, right for pages with patient data but wasteful for a style sheet).
func staticFiles(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=86400")
		h.ServeHTTP(w, r)
	})
}

// call is what a person's request carries through the handlers.
type call struct {
	id   string // session id (the cookie)
	sess *session
	user account.User
	p    *vakt.Principal
	L    locale
}

// person wraps a handler for logged-in people: it finds the session (else the login page),
// re-reads the account so that a removed or disabled account or changed roles take effect at once, sends a
// person with a one-time password to change it, checks the CSRF token of every POST and then
// the route's permission ("" for pages every person may use).
func (ui *UI) person(perm account.Permission, h func(http.ResponseWriter, *http.Request, *call)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, ok, err := ui.session(r)
		if err != nil {
			ui.fail(w, r, c, err)
			return
		}
		if !ok || c.sess.username == "" {
			target := "/login"
			if ok || cookieValue(r) != "" {
				target = "/login?utloggad=1"
			}
			if r.Method == http.MethodPost && ok {
				// A form posted with a live anonymous session is no login; treat it like an expired one.
				target = "/login"
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
			if err := r.ParseForm(); err != nil || !c.sess.validCSRF(r.PostForm.Get("csrf")) {
				ui.failKey(w, r, c, http.StatusForbidden, "error.csrf")
				return
			}
		}
		u, err := ui.sessionUser(r.Context(), c.sess)
		if err == nil && u.Disabled {
			// A disabled account's sessions end at their next request, like a removed one's.
			err = vakt.Errorf(vakt.CodeNotFound, "no such account")
		}
		if vakt.ErrorCode(err) == vakt.CodeNotFound {
			if err := ui.Sessions.remove(r.Context(), c.id); err != nil {
				ui.fail(w, r, c, err)
				return
			}
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		if err != nil {
			ui.fail(w, r, c, err)
			return
		}
		c.user, c.p = u, u.Principal()
		rest.NotePrincipal(r.Context(), u.Username, u.TenantID)
		r = r.WithContext(vakt.WithPrincipal(r.Context(), c.p))
		if u.MustChange && r.URL.Path != "/losenord" && r.URL.Path != "/logout" {
			http.Redirect(w, r, "/losenord", http.StatusSeeOther)
			return
		}
		if perm != "" && !account.Allowed(c.p, perm) {
			ui.failKey(w, r, c, http.StatusForbidden, "error.forbidden")
			return
		}
		h(w, r, c)
	})
}

func cookieValue(r *http.Request) string {
	for _, name := range []string{"__Host-" + cookieName, cookieName} {
		if ck, err := r.Cookie(name); err == nil {
			return ck.Value
		}
	}
	return ""
}

// session returns the request's live session, if any; an error when the session store could not
// be read (the caller answers with an error page rather than a login page).
func (ui *UI) session(r *http.Request) (*call, bool, error) {
	id := cookieValue(r)
	sess, err := ui.Sessions.get(r.Context(), id)
	if err != nil || sess == nil {
		return &call{L: localeOf("sv")}, false, err
	}
	return &call{id: id, sess: sess, L: localeOf(sess.lang)}, true, nil
}

// setCookie hands the browser its session id: HttpOnly (no script can read it), SameSite=Strict
// (no other site's page can make the browser send it), Secure and __Host- on TLS.
func setCookie(w http.ResponseWriter, r *http.Request, id string) {
	name := cookieName
	if r.TLS != nil {
		name = "__Host-" + cookieName
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: id, Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: int(MaxSessionAge / time.Second)})
}

func clearCookie(w http.ResponseWriter, r *http.Request) {
	name := cookieName
	if r.TLS != nil {
		name = "__Host-" + cookieName
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", HttpOnly: true, Secure: r.TLS != nil,
		SameSite: http.SameSiteStrictMode, MaxAge: -1})
}

// view is the data of every page.
type view struct {
	L        locale
	CSRF     string
	User     *account.User
	Nav      string // the current tab, for aria-current
	Path     string // where the language switch returns to
	FollowUp bool   // may see the follow-up tabs
	Accounts bool   // may see the accounts page
	Controls bool   // may see the log control pages
	Overview bool   // may see the monthly overview of controls
	PermList bool   // may see the permission lists
	Watch    bool   // may see the watch list
	External bool   // logged in through the IdP: no password of vakt's to change
	Data     any
}

// render draws page with data for the caller.
func (ui *UI) render(w http.ResponseWriter, r *http.Request, c *call, status int, name, nav string, data any) {
	v := view{L: c.L, Nav: nav, Path: r.URL.Path, Data: data}
	if c.sess != nil {
		v.CSRF = c.sess.csrf
		v.External = c.sess.ext != nil && c.sess.ext.user != nil
	}
	if c.p != nil {
		v.User = &c.user
		v.FollowUp = account.Allowed(c.p, account.FollowUp)
		v.Accounts = account.Allowed(c.p, account.ViewAccounts)
		v.Controls = ui.Controls != nil && account.Allowed(c.p, account.Controls)
		v.Overview = ui.Controls != nil && account.Allowed(c.p, account.ControlOverview)
		v.PermList = ui.Permissions != nil && account.Allowed(c.p, account.ReviewPermissions)
		v.Watch = ui.Watchlist != nil && account.Allowed(c.p, account.EditWatchlist)
	}
	var b strings.Builder
	if err := ui.pages[name].ExecuteTemplate(&b, "layout", v); err != nil {
		ui.Logger.ErrorContext(r.Context(), "render page", "page", name, "err", err, "request_id", vakt.RequestIDFrom(r.Context()))
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write([]byte(b.String()))
}

// fail answers with the page for err: a translated text by error code, never the error's own
// text. Internal errors are logged with the request id, which the page shows as a reference.
func (ui *UI) fail(w http.ResponseWriter, r *http.Request, c *call, err error) {
	switch vakt.ErrorCode(err) {
	case vakt.CodeForbidden:
		ui.failKey(w, r, c, http.StatusForbidden, "error.forbidden")
	case vakt.CodeNotFound:
		ui.failKey(w, r, c, http.StatusNotFound, "error.notfound")
	case vakt.CodeInvalid:
		ui.failKey(w, r, c, http.StatusBadRequest, "error.invalid")
	case vakt.CodeUnauthorized:
		http.Redirect(w, r, "/login", http.StatusSeeOther)
	case vakt.CodeUnavailable:
		w.Header().Set("Retry-After", "5")
		ui.failKey(w, r, c, http.StatusServiceUnavailable, "error.unavailable")
	case vakt.CodeCanceled:
		// The person went away; there is nobody to answer.
	default:
		ui.Logger.ErrorContext(r.Context(), "web request failed", "route", r.Pattern, "err", err,
			"request_id", vakt.RequestIDFrom(r.Context()))
		ui.render(w, r, c, http.StatusInternalServerError, "error", "", errorView{Key: "error.internal", Ref: vakt.RequestIDFrom(r.Context())})
	}
}

type errorView struct {
	Key string
	Ref string
}

func (ui *UI) failKey(w http.ResponseWriter, r *http.Request, c *call, status int, key string) {
	ui.render(w, r, c, status, "error", "", errorView{Key: key})
}

// localPath returns p if it is a path on this site, else "/": the language switch returns there,
// and must not become an open redirect.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") || strings.ContainsAny(p, "\r\n") {
		return "/"
	}
	return p
}

// handleLanguage switches the session's language. Anonymous sessions may switch too (the login
// page), so it checks the CSRF token itself.
func (ui *UI) handleLanguage(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	c, ok, err := ui.session(r)
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	if !ok || r.ParseForm() != nil || !c.sess.validCSRF(r.PostForm.Get("csrf")) {
		ui.failKey(w, r, c, http.StatusForbidden, "error.csrf")
		return
	}
	if lang := r.PostForm.Get("lang"); lang == "sv" || lang == "en" {
		if err := ui.Sessions.update(r.Context(), c.id, c.sess, func(s *session) { s.lang = lang }); err != nil && err != errGone {
			ui.fail(w, r, c, err)
			return
		}
	}
	http.Redirect(w, r, localPath(r.PostForm.Get("back")), http.StatusSeeOther)
}
