package web

import (
	"net/http"

	"github.com/vakt/vakt/account"
)

// handleAccounts lists the accounts of the person's tenant with roles and care units, for the
// review of who may see what (behörighetslista). Password hashes never leave the store's caller.
func (ui *UI) handleAccounts(w http.ResponseWriter, r *http.Request, c *call) {
	users, err := ui.Accounts.Users(r.Context(), c.user.TenantID)
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	if c.p.Limited() {
		// A local administrator of some units sees the accounts that share one of them.
		var mine []account.User
		for _, u := range users {
			for _, cu := range u.CareUnits {
				if c.p.InUnits(string(cu)) {
					mine = append(mine, u)
					break
				}
			}
		}
		users = mine
	}
	ui.render(w, r, c, http.StatusOK, "accounts", "accounts", users)
}
