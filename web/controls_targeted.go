package web

import (
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/control"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/logcontrol"
)

// Targeted controls (riktad kontroll): started from a flag (the button on each row of the flags
// page) or from the form on a patient, a staff member or both. The personnummer travels only
// in the POST body; control.Service logs the read and stores the control, and its page is the
// same as a sample's (assess, close, report).

// targetedForm is the targeted-control form as typed, to show it again.
type targetedForm struct {
	Unit      string
	From, To  string // dates, YYYY-MM-DD, To inclusive
	Patient   string
	Staff     string
	Flag      string // from the flags page: the kind and the flagged access
	FlagLogID string
}

// parseTargetedForm reads the targeted-control form into a request and the message keys of its
// problems. now is the date 10-digit personnummer take their century from. The request's own
// rules (one of flag, patient, staff; period bounds) are checked by control.TargetedRequest.
func parseTargetedForm(f url.Values, now time.Time) (targetedForm, control.TargetedRequest, []string) {
	tf := targetedForm{Unit: strings.TrimSpace(f.Get("careUnit")), From: strings.TrimSpace(f.Get("from")), To: strings.TrimSpace(f.Get("to")),
		Patient: strings.TrimSpace(f.Get("patient")), Staff: strings.TrimSpace(f.Get("staff")),
		Flag: strings.TrimSpace(f.Get("flag")), FlagLogID: strings.TrimSpace(f.Get("flagLogId"))}
	var req control.TargetedRequest
	var probs []string
	if tf.Unit != "" {
		h, err := ident.ParseHSAID(tf.Unit)
		if err != nil {
			probs = append(probs, "control.bad.careUnitId")
		}
		req.CareUnit = h
	} else if tf.FlagLogID == "" {
		probs = append(probs, "control.bad.careUnitId")
	}
	from, err1 := time.ParseInLocation(time.DateOnly, tf.From, stockholm)
	to, err2 := time.ParseInLocation(time.DateOnly, tf.To, stockholm)
	if err1 != nil || err2 != nil || to.Before(from) || from.Year() < 1900 || to.Year() > 9998 {
		probs = append(probs, "control.bad.period")
	} else {
		req.From, req.To = from, to.AddDate(0, 0, 1)
	}
	if tf.Patient != "" {
		p, err := ident.ParsePersonID(tf.Patient, now)
		if err != nil {
			probs = append(probs, "control.bad.patient")
		}
		req.Patient = p
	}
	if tf.Staff != "" {
		h, err := ident.ParseHSAID(tf.Staff)
		if err != nil {
			probs = append(probs, "control.bad.staff")
		}
		req.Staff = h
	}
	req.FlagKind, req.FlagLogID = logcontrol.Kind(tf.Flag), tf.FlagLogID
	if len(probs) == 0 {
		if err := req.Validate(); err != nil {
			probs = controlProblems(err)
		}
	}
	return tf, req, probs
}

type targetedView struct {
	Form     targetedForm
	Units    []string // the person's care units when limited
	Max      int
	Problems []string
}

func (ui *UI) handleTargetedPage(w http.ResponseWriter, r *http.Request, c *call) {
	now := time.Now().In(stockholm)
	v := targetedView{Form: targetedForm{From: now.AddDate(0, -1, 0).Format(time.DateOnly), To: now.Format(time.DateOnly)},
		Units: c.p.CareUnits, Max: control.MaxTargetedItems}
	ui.render(w, r, c, http.StatusOK, "control_targeted", "controls", v)
}

func (ui *UI) handleCreateTargeted(w http.ResponseWriter, r *http.Request, c *call) {
	tf, req, probs := parseTargetedForm(r.PostForm, time.Now())
	v := targetedView{Form: tf, Units: c.p.CareUnits, Max: control.MaxTargetedItems, Problems: probs}
	if len(probs) > 0 {
		ui.render(w, r, c, http.StatusBadRequest, "control_targeted", "controls", v)
		return
	}
	ct, err := ui.Controls.CreateTargeted(r.Context(), req)
	switch vakt.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/kontroller/"+ct.ID, http.StatusSeeOther)
	case vakt.CodeInvalid:
		v.Problems = controlProblems(err)
		ui.render(w, r, c, http.StatusBadRequest, "control_targeted", "controls", v)
	default:
		ui.fail(w, r, c, err)
	}
}
