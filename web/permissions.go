package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/permlist"
)

// The permission list (behörighetslista) of a care unit: who holds access, their last activity
// at the unit, and marks for removal. permlist.Service decides who may see and mark, and logs
// the read of last activity and every mark; these handlers translate forms to its calls.

type permissionsView struct {
	Units    []ident.HSAID // the units the person may pick
	Unit     string        // the unit shown ("" before one is picked)
	List     *permlist.List
	Problems []string // message keys
	Form     struct{ HSAID, Reason string }
	Done     string // a notice key after a change
}

func (ui *UI) handlePermissions(w http.ResponseWriter, r *http.Request, c *call) {
	v := permissionsView{Unit: strings.TrimSpace(r.URL.Query().Get("enhet"))}
	switch r.URL.Query().Get("klart") {
	case "markerad":
		v.Done = "perm.done.marked"
	case "avmarkerad":
		v.Done = "perm.done.unmarked"
	}
	ui.renderPermissions(w, r, c, http.StatusOK, v)
}

// renderPermissions draws the page; with a unit it builds the unit's list, which is a logged
// read of the log.
func (ui *UI) renderPermissions(w http.ResponseWriter, r *http.Request, c *call, status int, v permissionsView) {
	units, err := ui.Permissions.Units(r.Context())
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	v.Units = units
	if v.Unit != "" {
		l, err := ui.Permissions.List(r.Context(), ident.HSAID(v.Unit))
		switch vakt.ErrorCode(err) {
		case "":
			v.List = &l
		case vakt.CodeInvalid:
			v.Problems = append(v.Problems, permProblems(err)...)
			status = http.StatusBadRequest
		default:
			ui.fail(w, r, c, err)
			return
		}
	}
	ui.render(w, r, c, status, "permissions", "permissions", v)
}

// permProblems turns the problems of a refused request into message keys naming the field.
func permProblems(err error) []string {
	var keys []string
	var ve *vakt.Error
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			key := "perm.bad." + p.Field
			if p.Field == "hsaId" && strings.Contains(p.Reason, "not on") {
				key = "perm.bad.notholder"
			}
			keys = append(keys, key)
		}
	}
	if len(keys) == 0 {
		keys = []string{"error.invalid"}
	}
	return keys
}

func (ui *UI) handleMark(w http.ResponseWriter, r *http.Request, c *call) {
	f := r.PostForm
	unit, hsaID := strings.TrimSpace(f.Get("careUnit")), strings.TrimSpace(f.Get("hsaId"))
	_, err := ui.Permissions.Mark(r.Context(), ident.HSAID(unit), ident.HSAID(hsaID), f.Get("reason"))
	ui.afterPermissionChange(w, r, c, unit, "markerad", err, func(v *permissionsView) {
		v.Form.HSAID, v.Form.Reason = hsaID, f.Get("reason")
	})
}

func (ui *UI) handleUnmark(w http.ResponseWriter, r *http.Request, c *call) {
	f := r.PostForm
	unit, hsaID := strings.TrimSpace(f.Get("careUnit")), strings.TrimSpace(f.Get("hsaId"))
	err := ui.Permissions.Unmark(r.Context(), ident.HSAID(unit), ident.HSAID(hsaID))
	ui.afterPermissionChange(w, r, c, unit, "avmarkerad", err, nil)
}

func (ui *UI) afterPermissionChange(w http.ResponseWriter, r *http.Request, c *call, unit, done string, err error, keep func(*permissionsView)) {
	switch vakt.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/kontroller/behorigheter?"+url.Values{"enhet": {unit}, "klart": {done}}.Encode(), http.StatusSeeOther)
	case vakt.CodeInvalid:
		v := permissionsView{Problems: permProblems(err)}
		if keep != nil {
			keep(&v)
		}
		if _, perr := ident.ParseHSAID(unit); perr == nil {
			v.Unit = unit
		}
		ui.renderPermissions(w, r, c, http.StatusBadRequest, v)
	default:
		ui.fail(w, r, c, err)
	}
}
