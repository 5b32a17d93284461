package web

import (
	"net/http"

	"github.com/vakt/vakt/account"
)

// Routes and pages of the control follow-up beside the control register: the monthly overview,
// the permission list (behörighetslista) and the watch list (bevakningslista). They are kept
// in files of their own, registered from Register in one call.

func init() {
	pageNames = append(pageNames, "overview", "permissions", "watchlist")
}

// registerControlFollowUp adds the routes of this file's pages; each is left out when the
// service behind it is not configured.
func (ui *UI) registerControlFollowUp(mux *http.ServeMux) {
	if ui.Controls != nil {
		mux.Handle("GET /kontroller/oversikt", ui.person(account.ControlOverview, ui.handleOverview))
	}
	if ui.Permissions != nil {
		mux.Handle("GET /kontroller/behorigheter", ui.person(account.ReviewPermissions, ui.handlePermissions))
		mux.Handle("POST /kontroller/behorigheter/markera", ui.person(account.ReviewPermissions, ui.handleMark))
		mux.Handle("POST /kontroller/behorigheter/avmarkera", ui.person(account.ReviewPermissions, ui.handleUnmark))
	}
	if ui.Watchlist != nil {
		mux.Handle("GET /kontroller/bevakningslista", ui.person(account.EditWatchlist, ui.handleWatchlist))
		mux.Handle("POST /kontroller/bevakningslista", ui.person(account.EditWatchlist, ui.handleWatchAdd))
		mux.Handle("POST /kontroller/bevakningslista/ta-bort", ui.person(account.EditWatchlist, ui.handleWatchRemove))
	}
}
