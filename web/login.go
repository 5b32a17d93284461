package web

import (
	"net/http"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
)

type loginView struct {
	Username string
	Failed   bool
	Expired  bool
	// Password shows the password form; OIDC the IdP's button with OIDCLabel on it.
	Password  bool
	OIDC      bool
	OIDCLabel string
	// RetryMinutes > 0: too many failed logins, refused for about that long.
	RetryMinutes int
	// EndSession links to logout at the IdP, after a logout here of a person who came from there.
	EndSession string
}

// loginPage returns the login view of this UI's login methods.
func (ui *UI) loginPage(v loginView) loginView {
	v.Password, v.OIDC, v.OIDCLabel = !ui.NoPasswordLogin, ui.OIDC != nil, ui.OIDCLabel
	return v
}

// home is where a person lands after login: the first page their roles allow.
func home(u *account.User) string {
	p := u.Principal()
	if account.Allowed(p, account.FollowUp) {
		return "/logguppfoljning/invanare"
	}
	if account.Allowed(p, account.ViewAccounts) {
		return "/konton"
	}
	return "/losenord"
}

// handleLoginPage shows the login form. A visitor without a session gets an anonymous one, whose
// CSRF token the form carries: a login form, too, must not be submittable from another site.
func (ui *UI) handleLoginPage(w http.ResponseWriter, r *http.Request) {
	c, ok, err := ui.session(r)
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	if ok && c.sess.username != "" {
		if u, err := ui.sessionUser(r.Context(), c.sess); err == nil {
			http.Redirect(w, r, home(&u), http.StatusSeeOther)
			return
		}
	}
	if !ok {
		if c.id, c.sess, err = ui.Sessions.create(r.Context(), c.L.Lang); err != nil {
			c.sess = nil
			ui.fail(w, r, c, err)
			return
		}
		setCookie(w, r, c.id)
	}
	v := loginView{Expired: r.URL.Query().Get("utloggad") == "1"}
	if r.URL.Query().Get("idp") == "1" && ui.OIDC != nil {
		v.EndSession = ui.OIDC.EndSessionURL(ui.PostLogoutURL)
	}
	ui.render(w, r, c, http.StatusOK, "login", "", ui.loginPage(v))
}

// handleLogin checks the credentials and moves the person to a new session.
func (ui *UI) handleLogin(w http.ResponseWriter, r *http.Request) {
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
	if ui.NoPasswordLogin {
		ui.failKey(w, r, c, http.StatusNotFound, "error.notfound")
		return
	}
	username := r.PostForm.Get("username")
	shown := username
	if account.ValidateUsername(username) != nil {
		shown = ""
	}
	addr := clientAddress(r)
	if d := ui.Throttle.wait(username, addr); d > 0 {
		ui.refuseThrottled(w, r, c, shown, d)
		return
	}
	u, err := ui.Auth.Login(r.Context(), username, r.PostForm.Get("password"))
	if vakt.ErrorCode(err) == vakt.CodeUnauthorized {
		ui.Throttle.failed(username, addr)
		ui.render(w, r, c, http.StatusUnauthorized, "login", "", ui.loginPage(loginView{Username: shown, Failed: true}))
		return
	}
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	ui.Throttle.succeeded(username)
	id, _, err := ui.Sessions.rotate(r.Context(), c.id, c.sess, u.Username, nil)
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	setCookie(w, r, id)
	ui.Logger.InfoContext(r.Context(), "login", "user", u.Username, "tenant", u.TenantID, "request_id", vakt.RequestIDFrom(r.Context()))
	target := home(&u)
	if u.MustChange {
		target = "/losenord"
	}
	http.Redirect(w, r, target, http.StatusSeeOther)
}

// handleLogout ends the session on the server, not only in the browser.
func (ui *UI) handleLogout(w http.ResponseWriter, r *http.Request, c *call) {
	if err := ui.Sessions.remove(r.Context(), c.id); err != nil {
		// The session would live on in the store: say so rather than pretend it ended.
		ui.fail(w, r, c, err)
		return
	}
	clearCookie(w, r)
	if c.sess.ext != nil && ui.OIDC != nil {
		// The login page then offers to log out at the IdP too (a form may not redirect
		// there: the CSP's form-action allows only this site).
		http.Redirect(w, r, "/login?idp=1", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

type passwordView struct {
	Must    bool
	Problem string // a message key
	Done    bool
}

func (ui *UI) handlePasswordPage(w http.ResponseWriter, r *http.Request, c *call) {
	if c.sess.ext != nil {
		ui.failKey(w, r, c, http.StatusNotFound, "oidc.password")
		return
	}
	ui.render(w, r, c, http.StatusOK, "password", "password", passwordView{Must: c.user.MustChange})
}

// handlePassword changes the person's own password. The current password is asked for even
// right after login, so that someone at an unlocked screen cannot take the account over.
func (ui *UI) handlePassword(w http.ResponseWriter, r *http.Request, c *call) {
	if c.sess.ext != nil {
		ui.failKey(w, r, c, http.StatusNotFound, "oidc.password")
		return
	}
	f := r.PostForm
	v := passwordView{Must: c.user.MustChange}
	current, next := f.Get("current"), f.Get("new")
	switch {
	case next != f.Get("repeat"):
		v.Problem = "password.mismatch"
	case account.CheckPassword(next) != nil:
		v.Problem = "password.weak"
	}
	if v.Problem == "" {
		if _, err := ui.Auth.Login(r.Context(), c.user.Username, current); vakt.ErrorCode(err) == vakt.CodeUnauthorized {
			v.Problem = "password.wrong"
		} else if err != nil {
			ui.fail(w, r, c, err)
			return
		}
	}
	if v.Problem != "" {
		ui.render(w, r, c, http.StatusBadRequest, "password", "password", v)
		return
	}
	if err := ui.Accounts.SetPassword(r.Context(), c.user.Username, account.HashPassword(next, ui.Params), false); err != nil {
		ui.fail(w, r, c, err)
		return
	}
	ui.Logger.InfoContext(r.Context(), "password changed", "user", c.user.Username, "request_id", vakt.RequestIDFrom(r.Context()))
	c.user.MustChange = false
	ui.render(w, r, c, http.StatusOK, "password", "password", passwordView{Done: true})
}
