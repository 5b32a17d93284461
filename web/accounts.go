package web

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/ident"
)

// Account administration: the list (behörighetslista), a new account, one account's page with
// a form per kind of change, and the confirmation of a removal. The rules (who may change whom,
// which roles and units they may give, self and last-administrator guards) and the record of
// every change in the tenant's log are account.Admin's; these handlers turn forms into its
// calls and its errors into texts on the page.

type accountsView struct {
	Users     []account.User
	CanCreate bool
	Removed   bool // an account was just removed
}

// handleAccounts lists the accounts the person may see, with roles, care units and state, for
// the review of who may see what (behörighetslista). Password hashes never leave the store's
// caller.
func (ui *UI) handleAccounts(w http.ResponseWriter, r *http.Request, c *call) {
	users, err := ui.Admin.List(r.Context())
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	ui.render(w, r, c, http.StatusOK, "accounts", "accounts", accountsView{Users: users, CanCreate: account.Allowed(c.p, account.ManageAccounts),
		Removed: r.URL.Query().Get("borttaget") == "1"})
}

// roleChoice is one role's checkbox.
type roleChoice struct {
	Role    vakt.Role
	Checked bool
}

// accountForm is what an account form shows: the values given and the problems found.
type accountForm struct {
	Username, Name, HSAID, Title, Units string
	Roles                               []roleChoice
	Problems                            []string // message keys
	Invalid                             map[string]bool
}

func formOf(u *account.User, grantable []vakt.Role) accountForm {
	f := accountForm{Username: u.Username, Name: u.Name, HSAID: string(u.HSAID), Title: u.Title}
	var units []string
	for _, cu := range u.CareUnits {
		units = append(units, string(cu))
	}
	f.Units = strings.Join(units, " ")
	for _, r := range grantable {
		f.Roles = append(f.Roles, roleChoice{Role: r, Checked: slices.Contains(u.Roles, r)})
	}
	return f
}

// problemKeys turns err into message keys: one per field for CodeInvalid, the rule for a
// guardrail; ok is false for errors the page cannot explain (ui.fail answers those).
func problemKeys(err error) (keys []string, invalid map[string]bool, status int, ok bool) {
	switch err {
	case account.ErrSelf:
		return []string{"account.err.self"}, nil, http.StatusForbidden, true
	case account.ErrLastAdmin:
		return []string{"account.err.lastadmin"}, nil, http.StatusConflict, true
	case account.ErrOutsideUnits:
		return []string{"account.err.units"}, map[string]bool{"careUnits": true}, http.StatusForbidden, true
	case account.ErrNotGrantable:
		return []string{"account.err.grant"}, map[string]bool{"roles": true}, http.StatusForbidden, true
	case account.ErrTaken:
		return []string{"account.err.taken"}, map[string]bool{"username": true}, http.StatusConflict, true
	}
	if vakt.ErrorCode(err) != vakt.CodeInvalid {
		return nil, nil, 0, false
	}
	invalid = map[string]bool{}
	for _, p := range vakt.ErrorProblems(err) {
		if invalid[p.Field] {
			continue
		}
		invalid[p.Field] = true
		switch p.Field {
		case "username", "name", "hsaId", "title", "roles", "careUnits":
			keys = append(keys, "account.bad."+p.Field)
		default:
			keys = append(keys, "error.invalid")
		}
	}
	return keys, invalid, http.StatusBadRequest, true
}

// parseUnits reads care units typed as HSA-ids separated by spaces, commas or new lines.
func parseUnits(s string) ([]ident.HSAID, error) {
	var out []ident.HSAID
	for _, f := range strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ';' || r == ' ' || r == '\n' || r == '\r' || r == '\t' }) {
		h, err := ident.ParseHSAID(f)
		if err != nil {
			return nil, vakt.Invalid("care units are invalid", vakt.Problem{Index: -1, Field: "careUnits", Reason: "names an invalid HSA-id"})
		}
		out = append(out, h)
	}
	return out, nil
}

// parseRoles reads the checked roles; an unknown one is CodeInvalid.
func parseRoles(vals []string) ([]vakt.Role, error) {
	var out []vakt.Role
	for _, v := range vals {
		r, err := vakt.ParsePersonRole(v)
		if err != nil {
			return nil, vakt.Invalid("roles are invalid", vakt.Problem{Index: -1, Field: "roles", Reason: "names an unknown role"})
		}
		if !slices.Contains(out, r) {
			out = append(out, r)
		}
	}
	return out, nil
}

type newAccountView struct {
	Form  accountForm
	Can   account.Capabilities
	Done  bool   // the account was made: show its one-time password
	Pass  string // the one-time password, shown once
	Saved account.User
}

func (ui *UI) handleNewAccountPage(w http.ResponseWriter, r *http.Request, c *call) {
	can := account.CapabilitiesFor(r.Context(), &account.User{})
	ui.render(w, r, c, http.StatusOK, "account_new", "accounts", newAccountView{Form: formOf(&account.User{}, can.Grant), Can: can})
}

// handleNewAccount creates the account and shows its one-time password on this response only:
// not in a redirect's URL, not in a log line, not in the session.
func (ui *UI) handleNewAccount(w http.ResponseWriter, r *http.Request, c *call) {
	f := r.PostForm
	can := account.CapabilitiesFor(r.Context(), &account.User{})
	n := account.NewAccount{Username: strings.TrimSpace(f.Get("username")), Name: strings.TrimSpace(f.Get("name")),
		HSAID: ident.HSAID(strings.TrimSpace(f.Get("hsaId"))), Title: strings.TrimSpace(f.Get("title"))}
	form := accountForm{Username: n.Username, Name: n.Name, HSAID: string(n.HSAID), Title: n.Title, Units: f.Get("careUnits")}
	roles, err := parseRoles(f["role"])
	for _, rl := range can.Grant {
		form.Roles = append(form.Roles, roleChoice{Role: rl, Checked: slices.Contains(roles, rl)})
	}
	if err == nil {
		n.Roles = roles
		n.CareUnits, err = parseUnits(f.Get("careUnits"))
	}
	var u account.User
	var pw string
	if err == nil {
		u, pw, err = ui.Admin.Create(r.Context(), n)
	}
	if err != nil {
		keys, invalid, status, ok := problemKeys(err)
		if !ok {
			ui.fail(w, r, c, err)
			return
		}
		form.Problems, form.Invalid = keys, invalid
		ui.render(w, r, c, status, "account_new", "accounts", newAccountView{Form: form, Can: can})
		return
	}
	ui.logChange(r, c, account.ActionCreate, u.Username)
	ui.render(w, r, c, http.StatusOK, "account_new", "accounts", newAccountView{Can: can, Done: true, Pass: pw, Saved: u})
}

func (ui *UI) logChange(r *http.Request, c *call, action account.Action, username string) {
	ui.Logger.InfoContext(r.Context(), "account administration", "user", c.user.Username, "tenant", c.user.TenantID,
		"action", string(action), "account", username, "request_id", vakt.RequestIDFrom(r.Context()))
}

type accountView struct {
	User    account.User
	Can     account.Capabilities
	Form    accountForm
	Notice  string // a message key: what was just changed
	Pass    string // a new one-time password, shown once
	Problem []string
}

// notices are the ?klart= values a change redirects with, and their texts.
var notices = map[string]string{"uppgifter": "account.done.details", "roller": "account.done.roles",
	"inaktiverat": "account.done.disabled", "aktiverat": "account.done.enabled"}

func (ui *UI) accountPage(w http.ResponseWriter, r *http.Request, c *call, status int, u account.User, v accountView) {
	v.User = u
	v.Can = account.CapabilitiesFor(r.Context(), &u)
	if v.Form.Username == "" {
		problems, invalid := v.Form.Problems, v.Form.Invalid
		v.Form = formOf(&u, v.Can.Grant)
		v.Form.Problems, v.Form.Invalid = problems, invalid
	}
	ui.render(w, r, c, status, "account", "accounts", v)
}

func (ui *UI) handleAccount(w http.ResponseWriter, r *http.Request, c *call) {
	u, err := ui.Admin.Get(r.Context(), r.PathValue("username"))
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	ui.accountPage(w, r, c, http.StatusOK, u, accountView{Notice: notices[r.URL.Query().Get("klart")]})
}

// changed finishes a change: back to the account's page with a notice (Post/Redirect/Get), or
// the page again with the rule that stopped it.
func (ui *UI) changed(w http.ResponseWriter, r *http.Request, c *call, action account.Action, username string, err error, notice string, form *accountForm) {
	if err == nil {
		ui.logChange(r, c, action, username)
		http.Redirect(w, r, "/konto/"+url.PathEscape(username)+"?klart="+notice, http.StatusSeeOther)
		return
	}
	keys, invalid, status, ok := problemKeys(err)
	if !ok {
		ui.fail(w, r, c, err)
		return
	}
	u, gerr := ui.Admin.Get(r.Context(), username)
	if gerr != nil {
		ui.fail(w, r, c, gerr)
		return
	}
	v := accountView{}
	if form != nil {
		v.Form = *form
	}
	v.Form.Problems, v.Form.Invalid = keys, invalid
	ui.accountPage(w, r, c, status, u, v)
}

func (ui *UI) handleAccountDetails(w http.ResponseWriter, r *http.Request, c *call) {
	username := r.PathValue("username")
	f := r.PostForm
	d := account.Details{Name: strings.TrimSpace(f.Get("name")), HSAID: ident.HSAID(strings.TrimSpace(f.Get("hsaId"))), Title: strings.TrimSpace(f.Get("title"))}
	form := accountForm{Username: username, Name: d.Name, HSAID: string(d.HSAID), Title: d.Title, Units: f.Get("careUnits")}
	var err error
	if d.CareUnits, err = parseUnits(f.Get("careUnits")); err == nil {
		_, err = ui.Admin.UpdateDetails(r.Context(), username, d)
	}
	if err == nil || vakt.ErrorCode(err) == vakt.CodeNotFound {
		ui.changed(w, r, c, account.ActionUpdate, username, err, "uppgifter", nil)
		return
	}
	// Keep what was typed, with the roles as they are.
	if u, gerr := ui.Admin.Get(r.Context(), username); gerr == nil {
		form.Roles = formOf(&u, account.CapabilitiesFor(r.Context(), &u).Grant).Roles
	}
	ui.changed(w, r, c, account.ActionUpdate, username, err, "uppgifter", &form)
}

// handleAccountRoles sets the checked roles. Roles the person may not grant are not offered as
// checkboxes, so the account keeps those it holds.
func (ui *UI) handleAccountRoles(w http.ResponseWriter, r *http.Request, c *call) {
	username := r.PathValue("username")
	roles, err := parseRoles(r.PostForm["role"])
	if err == nil {
		var u account.User
		if u, err = ui.Admin.Get(r.Context(), username); err == nil {
			may := account.Grantable(c.p)
			for _, held := range u.Roles {
				if !slices.Contains(may, held) && !slices.Contains(roles, held) {
					roles = append(roles, held)
				}
			}
			_, err = ui.Admin.SetRoles(r.Context(), username, roles)
		}
	}
	ui.changed(w, r, c, account.ActionRoles, username, err, "roller", nil)
}

func (ui *UI) handleAccountDisabled(disabled bool) func(http.ResponseWriter, *http.Request, *call) {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		username := r.PathValue("username")
		_, err := ui.Admin.SetDisabled(r.Context(), username, disabled)
		if disabled {
			ui.changed(w, r, c, account.ActionDisable, username, err, "inaktiverat", nil)
		} else {
			ui.changed(w, r, c, account.ActionEnable, username, err, "aktiverat", nil)
		}
	}
}

// handleAccountPassword gives the account a new one-time password and shows it on this response
// only.
func (ui *UI) handleAccountPassword(w http.ResponseWriter, r *http.Request, c *call) {
	username := r.PathValue("username")
	pw, err := ui.Admin.ResetPassword(r.Context(), username)
	if err != nil {
		ui.changed(w, r, c, account.ActionResetPassword, username, err, "", nil)
		return
	}
	ui.logChange(r, c, account.ActionResetPassword, username)
	u, err := ui.Admin.Get(r.Context(), username)
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	ui.accountPage(w, r, c, http.StatusOK, u, accountView{Pass: pw})
}

type removeView struct {
	User    *account.User
	Problem []string
}

// handleRemovePage asks for confirmation before an account is removed.
func (ui *UI) handleRemovePage(w http.ResponseWriter, r *http.Request, c *call) {
	u, err := ui.Admin.Get(r.Context(), r.PathValue("username"))
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	ui.render(w, r, c, http.StatusOK, "account_remove", "accounts", removeView{User: &u})
}

// handleRemove removes the account when the confirmation form was sent (confirm=ja).
func (ui *UI) handleRemove(w http.ResponseWriter, r *http.Request, c *call) {
	username := r.PathValue("username")
	if r.PostForm.Get("confirm") != "ja" {
		http.Redirect(w, r, "/konto/"+url.PathEscape(username)+"/ta-bort", http.StatusSeeOther)
		return
	}
	err := ui.Admin.Remove(r.Context(), username)
	if err == nil {
		ui.logChange(r, c, account.ActionRemove, username)
		http.Redirect(w, r, "/konton?borttaget=1", http.StatusSeeOther)
		return
	}
	keys, _, status, ok := problemKeys(err)
	if !ok {
		ui.fail(w, r, c, err)
		return
	}
	u, gerr := ui.Admin.Get(r.Context(), username)
	if gerr != nil {
		ui.fail(w, r, c, gerr)
		return
	}
	ui.render(w, r, c, status, "account_remove", "accounts", removeView{User: &u, Problem: keys})
}
