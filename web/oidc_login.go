package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/oidc"
)

// DefaultOIDCLabel is the text of the IdP's button on the login page.
const DefaultOIDCLabel = "Logga in med SITHS/e-tjänstekort"

// attemptCookie carries the pre-login session's id to the callback. The session cookie is
// SameSite=Strict, so browsers leave it out of the redirect from the IdP (a navigation another
// site started); this one is Lax, which browsers send on such top-level GETs, and is limited to
// the callback's path and ten minutes. It grants nothing: the session it names is anonymous.
const attemptCookie = "vakt_oidc"

// maxAttemptAge bounds the time between leaving for the IdP and coming back.
const maxAttemptAge = 10 * time.Minute

// external is a session's state of a login through the IdP.
type external struct {
	// Before login: the attempt's secrets, and after the callback the tenants to choose from
	// when the claims grant roles in more than one.
	start   *oidc.Start
	started time.Time
	choices []account.User
	// After login: the account built from the claims. It is not stored anywhere else; the
	// IdP is the authority on who holds which role, read anew at every login.
	user *account.User
}

// sessionUser returns the account a logged-in session acts as: from the IdP's claims, or the
// local account read anew. CodeNotFound when it is gone (the account, or the claims' tenant).
func (ui *UI) sessionUser(ctx context.Context, sess *session) (account.User, error) {
	ext := sess.ext
	if ext == nil || ext.user == nil {
		u, _, err := ui.Accounts.UserByName(ctx, sess.username)
		return u, err
	}
	if _, err := ui.Service.Tenants.Tenant(ctx, ext.user.TenantID); err != nil {
		return account.User{}, err
	}
	return ext.user.Clone(), nil
}

func setAttemptCookie(w http.ResponseWriter, r *http.Request, id string, maxAge int) {
	name := attemptCookie
	if r.TLS != nil {
		name = "__Secure-" + attemptCookie
	}
	http.SetCookie(w, &http.Cookie{Name: name, Value: id, Path: "/login/oidc/callback", HttpOnly: true,
		Secure: r.TLS != nil, SameSite: http.SameSiteLaxMode, MaxAge: maxAge})
}

// handleOIDCStart sends the browser to the IdP with a fresh state, nonce and PKCE challenge,
// kept in its pre-login session. It is a link, not a form: the CSP's form-action lets forms
// lead only to this site. Starting a login for someone else's browser gains nothing, since the
// callback is bound to the session that started it.
func (ui *UI) handleOIDCStart(w http.ResponseWriter, r *http.Request) {
	c, ok, err := ui.session(r)
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	if ui.OIDC == nil {
		ui.failKey(w, r, c, http.StatusNotFound, "error.notfound")
		return
	}
	if !ok || c.sess.username != "" {
		// No session, or a logged-in one: log in from a new anonymous session.
		if ok {
			if err := ui.Sessions.remove(r.Context(), c.id); err != nil {
				ui.fail(w, r, c, err)
				return
			}
		}
		if c.id, c.sess, err = ui.Sessions.create(r.Context(), c.L.Lang); err != nil {
			c.sess = nil
			ui.fail(w, r, c, err)
			return
		}
		setCookie(w, r, c.id)
	}
	start := oidc.NewStart()
	target, err := ui.OIDC.AuthCodeURL(r.Context(), start)
	if err != nil {
		ui.Logger.WarnContext(r.Context(), "oidc login could not start", "err", err, "request_id", vakt.RequestIDFrom(r.Context()))
		ui.fail(w, r, c, err)
		return
	}
	started := ui.Sessions.now()
	if err := ui.Sessions.update(r.Context(), c.id, c.sess, func(s *session) { s.ext = &external{start: &start, started: started} }); err != nil {
		ui.fail(w, r, c, err)
		return
	}
	setAttemptCookie(w, r, c.id, int(maxAttemptAge/time.Second))
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// handleOIDCCallback finishes a login: the attempt of the session that started it (used once),
// the state, the code exchanged with the PKCE verifier, the ID token verified with the nonce,
// and the claims mapped to an account in a tenant that exists. Anything else refuses the login
// with a page that says why, and changes nothing.
func (ui *UI) handleOIDCCallback(w http.ResponseWriter, r *http.Request) {
	id := ""
	for _, name := range []string{"__Secure-" + attemptCookie, attemptCookie} {
		if ck, err := r.Cookie(name); err == nil {
			id = ck.Value
			break
		}
	}
	setAttemptCookie(w, r, "", -1)
	c := &call{L: localeOf("sv")}
	var start *oidc.Start
	sess, err := ui.Sessions.get(r.Context(), id)
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	if sess != nil && ui.OIDC != nil {
		c = &call{id: id, sess: sess, L: localeOf(sess.lang)}
		now := ui.Sessions.now()
		// An attempt is used once, whatever comes of it: taking it is a compare-and-swap, so
		// that of two callbacks with the same attempt (on two nodes) only one gets it.
		err := ui.Sessions.update(r.Context(), id, sess, func(s *session) {
			start = nil
			if s.ext != nil && s.ext.start != nil && now.Sub(s.ext.started) <= maxAttemptAge {
				start = s.ext.start
			}
			s.ext = nil
		})
		if err != nil && err != errGone {
			ui.fail(w, r, c, err)
			return
		}
		if err == errGone {
			start = nil
		}
	}
	ctx := r.Context()
	q := r.URL.Query()
	refuse := func(status int, key string, attrs ...any) {
		ui.Logger.WarnContext(ctx, "oidc login refused", append(attrs, "reason", key, "request_id", vakt.RequestIDFrom(ctx))...)
		ui.failKey(w, r, c, status, key)
	}
	switch {
	case start == nil:
		refuse(http.StatusBadRequest, "oidc.error.nostart")
		return
	case subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(start.State)) != 1:
		refuse(http.StatusBadRequest, "oidc.error.state")
		return
	case q.Get("error") != "":
		code := q.Get("error")
		if len(code) > 64 {
			code = code[:64]
		}
		refuse(http.StatusUnauthorized, "oidc.error.idp", "idp_error", code)
		return
	}
	login, err := ui.OIDC.Exchange(ctx, *start, q.Get("code"))
	var rej *oidc.Rejection
	switch {
	case errors.As(err, &rej):
		refuse(http.StatusForbidden, "oidc.refused."+string(rej.Reason), "claim", rej.Claim)
		return
	case vakt.ErrorCode(err) == vakt.CodeUnauthorized:
		refuse(http.StatusUnauthorized, "oidc.error.token", "err", err)
		return
	case err != nil:
		ui.Logger.WarnContext(ctx, "oidc login failed", "err", err, "request_id", vakt.RequestIDFrom(ctx))
		ui.fail(w, r, c, err)
		return
	}
	for _, u := range login.Users {
		_, err := ui.Service.Tenants.Tenant(ctx, u.TenantID)
		if vakt.ErrorCode(err) == vakt.CodeNotFound {
			// A role in a tenant that does not exist is a mistake in the IdP's configuration;
			// the login is refused rather than granted with the rest.
			refuse(http.StatusForbidden, "oidc.refused."+string(oidc.ReasonUnknownTenant), "claim", ui.OIDC.Claims().Roles)
			return
		}
		if err != nil {
			ui.fail(w, r, c, err)
			return
		}
	}
	if len(login.Users) == 1 {
		ui.finishOIDC(w, r, c, login.Users[0], true)
		return
	}
	started := ui.Sessions.now()
	if err := ui.Sessions.update(ctx, c.id, c.sess, func(s *session) { s.ext = &external{choices: login.Users, started: started} }); err != nil {
		ui.fail(w, r, c, err)
		return
	}
	ui.render(w, r, c, http.StatusOK, "tenant_choice", "", login.Users)
}

// handleOIDCTenant finishes a login whose claims grant roles in several tenants with the one the
// person chose; a session acts in one tenant at a time.
func (ui *UI) handleOIDCTenant(w http.ResponseWriter, r *http.Request) {
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
	ext := c.sess.ext
	if ext == nil || ext.choices == nil || ui.Sessions.now().Sub(ext.started) > maxAttemptAge {
		ui.failKey(w, r, c, http.StatusBadRequest, "oidc.error.nostart")
		return
	}
	for _, u := range ext.choices {
		if u.TenantID == r.PostForm.Get("tenant") {
			ui.finishOIDC(w, r, c, u, false)
			return
		}
	}
	ui.failKey(w, r, c, http.StatusBadRequest, "oidc.error.tenant")
}

// finishOIDC moves the person to a new session (no fixation) acting as u, and on to their first
// page.
//
// crossSite tells that this request is the IdP's redirect back to the callback, a navigation
// that another site's page started (the IdP's login page). A redirect from there would carry
// that start along: browsers would leave the new SameSite=Strict session cookie out of the next
// request and the person would land on the login page again. So the callback answers with a
// page of vakt's own that moves on at once (a Refresh header, and a link where that is off):
// the navigation then starts on this site and the cookie goes with it.
func (ui *UI) finishOIDC(w http.ResponseWriter, r *http.Request, c *call, u account.User, crossSite bool) {
	id, sess, err := ui.Sessions.rotate(r.Context(), c.id, c.sess, u.Username, &external{user: &u})
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	setCookie(w, r, id)
	ui.Logger.InfoContext(r.Context(), "login", "user", u.Username, "tenant", u.TenantID, "method", "oidc",
		"request_id", vakt.RequestIDFrom(r.Context()))
	if !crossSite {
		http.Redirect(w, r, home(&u), http.StatusSeeOther)
		return
	}
	w.Header().Set("Refresh", "0; url="+home(&u))
	ui.render(w, r, &call{id: id, sess: sess, L: c.L}, http.StatusOK, "login_continue", "", home(&u))
}

// refuseThrottled answers a password login refused by the throttle.
func (ui *UI) refuseThrottled(w http.ResponseWriter, r *http.Request, c *call, username string, d time.Duration) {
	minutes := int((d + time.Minute - 1) / time.Minute)
	w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
	ui.Logger.WarnContext(r.Context(), "login throttled", "request_id", vakt.RequestIDFrom(r.Context()))
	ui.render(w, r, c, http.StatusTooManyRequests, "login", "", ui.loginPage(loginView{Username: username, RetryMinutes: minutes}))
}
