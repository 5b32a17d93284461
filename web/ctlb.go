package web

import (
	"net/http"

	"github.com/vakt/vakt/account"
)

// Routes and pages of the control follow-up beside the control register: the monthly overview,
// the permission list (behörighetslista) and the watch list (bevakningslista). They are kept
// in files of their own, registered from Register in one call.

func init() {
	pageNames = append(pageNames, "overview")
}

// registerControlFollowUp adds the routes of this file's pages; each is left out when the
// service behind it is not configured.
func (ui *UI) registerControlFollowUp(mux *http.ServeMux) {
	if ui.Controls != nil {
		mux.Handle("GET /kontroller/oversikt", ui.person(account.ControlOverview, ui.handleOverview))
	}
}
