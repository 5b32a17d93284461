package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/account"
	"github.com/vakt/vakt/control"
)

// The monthly overview of controls (Kontroller › Månadsöversikt): which care units have done,
// started or not done the month's sample. control.Service.Overview decides what the person may
// see; it reads the control register only, so the page is no read of log data.

type overviewView struct {
	Month    string // YYYY-MM shown
	Prev     string
	Next     string
	Overview control.Overview
	Problems []string
	Controls bool // may open the controls (granskare, loggadministrator)
}

func (ui *UI) handleOverview(w http.ResponseWriter, r *http.Request, c *call) {
	month := strings.TrimSpace(r.URL.Query().Get("manad"))
	if month == "" {
		// the month whose sample is due: samples are drawn after the month ends
		month = time.Now().In(stockholm).AddDate(0, -1, 0).Format("2006-01")
	}
	v := overviewView{Month: month, Controls: account.Allowed(c.p, account.Controls)}
	ov, err := ui.Controls.Overview(r.Context(), month)
	switch vakt.ErrorCode(err) {
	case "":
	case vakt.CodeInvalid:
		v.Problems = controlProblems(err)
		ui.render(w, r, c, http.StatusBadRequest, "overview", "overview", v)
		return
	default:
		ui.fail(w, r, c, err)
		return
	}
	v.Overview = ov
	m, _ := time.Parse("2006-01", month)
	v.Prev, v.Next = m.AddDate(0, -1, 0).Format("2006-01"), m.AddDate(0, 1, 0).Format("2006-01")
	ui.render(w, r, c, http.StatusOK, "overview", "overview", v)
}
