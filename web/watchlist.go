package web

import (
	"errors"
	"net/http"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/register"
)

// The watch list (Kontroller › Bevakningslista): patients of media interest and other VIPs,
// whose every access is flagged. watchlist.Service decides who may change it and records every
// change in the tenant's log. Personnummer travel only in POST bodies: removing an entry posts
// the personnummer in a hidden field, never in the URL.

type watchlistView struct {
	Entries  []register.WatchEntry
	CanEdit  bool // not limited to care units
	Problems []string
	Invalid  map[string]bool
	Form     struct{ PersonID, Reason, Until string }
	Done     string
}

func (ui *UI) handleWatchlist(w http.ResponseWriter, r *http.Request, c *call) {
	v := watchlistView{}
	switch r.URL.Query().Get("klart") {
	case "tillagd":
		v.Done = "watch.done.added"
	case "borttagen":
		v.Done = "watch.done.removed"
	}
	ui.renderWatchlist(w, r, c, http.StatusOK, v)
}

func (ui *UI) renderWatchlist(w http.ResponseWriter, r *http.Request, c *call, status int, v watchlistView) {
	list, err := ui.Watchlist.List(r.Context())
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	v.Entries, v.CanEdit = list, !c.p.Limited()
	ui.render(w, r, c, status, "watchlist", "watchlist", v)
}

// watchProblems turns refused input into message keys naming the field, and marks the fields.
func watchProblems(err error, v *watchlistView) {
	v.Invalid = map[string]bool{}
	var ve *vakt.Error
	if errors.As(err, &ve) {
		for _, p := range ve.Problems {
			key := "watch.bad." + p.Field
			if p.Field == "until" && p.Reason == "is in the past" {
				key = "watch.bad.past"
			}
			v.Problems = append(v.Problems, key)
			v.Invalid[p.Field] = true
		}
	}
	if len(v.Problems) == 0 {
		v.Problems = []string{"error.invalid"}
	}
}

func (ui *UI) handleWatchAdd(w http.ResponseWriter, r *http.Request, c *call) {
	f := r.PostForm
	_, err := ui.Watchlist.Add(r.Context(), f.Get("personId"), f.Get("reason"), f.Get("until"))
	switch vakt.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/kontroller/bevakningslista?klart=tillagd", http.StatusSeeOther)
	case vakt.CodeInvalid:
		v := watchlistView{}
		v.Form.PersonID, v.Form.Reason, v.Form.Until = f.Get("personId"), f.Get("reason"), f.Get("until")
		watchProblems(err, &v)
		ui.renderWatchlist(w, r, c, http.StatusBadRequest, v)
	default:
		ui.fail(w, r, c, err)
	}
}

func (ui *UI) handleWatchRemove(w http.ResponseWriter, r *http.Request, c *call) {
	err := ui.Watchlist.Remove(r.Context(), r.PostForm.Get("personId"))
	switch vakt.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/kontroller/bevakningslista?klart=borttagen", http.StatusSeeOther)
	case vakt.CodeInvalid:
		v := watchlistView{}
		watchProblems(err, &v)
		ui.renderWatchlist(w, r, c, http.StatusBadRequest, v)
	default:
		ui.fail(w, r, c, err)
	}
}
