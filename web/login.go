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
	c, ok := ui.session(r)
	if ok && c.sess.username != "" {
		if u, _, err := ui.Accounts.UserByName(r.Context(), c.sess.username); err == nil {
			http.Redirect(w, r, home(&u), http.StatusSeeOther)
			return
		}
	}
	if !ok {
		c.id, c.sess = ui.Sessions.create(c.L.Lang)
		setCookie(w, r, c.id)
	}
	ui.render(w, r, c, http.StatusOK, "login", "", loginView{Expired: r.URL.Query().Get("utloggad") == "1"})
}

// handleLogin checks the credentials and moves the person to a new session.
func (ui *UI) handleLogin(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	c, ok := ui.session(r)
	if !ok || r.ParseForm() != nil || !c.sess.validCSRF(r.PostForm.Get("csrf")) {
		ui.failKey(w, r, c, http.StatusForbidden, "error.csrf")
		return
	}
	username := r.PostForm.Get("username")
	u, err := ui.Auth.Login(r.Context(), username, r.PostForm.Get("password"))
	if vakt.ErrorCode(err) == vakt.CodeUnauthorized {
		if account.ValidateUsername(username) != nil {
			username = ""
		}
		ui.render(w, r, c, http.StatusUnauthorized, "login", "", loginView{Username: username, Failed: true})
		return
	}
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	id, _ := ui.Sessions.rotate(c.id, u.Username)
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
	ui.Sessions.remove(c.id)
	clearCookie(w, r)
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

type passwordView struct {
	Must    bool
	Problem string // a message key
	Done    bool
}

func (ui *UI) handlePasswordPage(w http.ResponseWriter, r *http.Request, c *call) {
	ui.render(w, r, c, http.StatusOK, "password", "password", passwordView{Must: c.user.MustChange})
}

// handlePassword changes the person's own password. The current password is asked for even
// right after login, so that someone at an unlocked screen cannot take the account over.
func (ui *UI) handlePassword(w http.ResponseWriter, r *http.Request, c *call) {
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
