package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/control"
	"github.com/vakt/vakt/ident"
)

// The log control pages (Kontroller): the control register, drawing a unit's monthly sample,
// assessing each sampled access and closing the control. control.Service decides who may do
// what and logs every read of log data; these handlers translate forms to its calls.

type controlsView struct {
	Controls []control.Control
	Units    []string // the person's care units when limited
	Unit     string
	Month    string
	Size     int
	Seed     string
	Strata   control.Strata
	Problems []string // message keys
	Flags    bool     // the flags page is offered
}

// StrataChoices are the ways to stratify the form offers.
func (controlsView) StrataChoices() []control.Strata { return control.AllStrata() }

func (ui *UI) controlsView(c *call) controlsView {
	return controlsView{Flags: ui.Flags != nil, Units: c.p.CareUnits, Month: time.Now().In(stockholm).AddDate(0, -1, 0).Format("2006-01"), Size: control.DefaultSampleSize}
}

func (ui *UI) handleControls(w http.ResponseWriter, r *http.Request, c *call) {
	v := ui.controlsView(c)
	ui.renderControls(w, r, c, http.StatusOK, v)
}

func (ui *UI) renderControls(w http.ResponseWriter, r *http.Request, c *call, status int, v controlsView) {
	list, err := ui.Controls.List(r.Context())
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	v.Controls = list
	ui.render(w, r, c, status, "controls", "controls", v)
}

// controlProblems turns the problems of an invalid request into message keys naming the field, so
// the page says which field is wrong and why without echoing the input.
func controlProblems(err error) []string {
	var ve *vakt.Error
	if !errors.As(err, &ve) {
		return []string{"error.invalid"}
	}
	var keys []string
	for _, p := range ve.Problems {
		keys = append(keys, "control.bad."+p.Field)
	}
	if len(keys) == 0 {
		keys = []string{"error.invalid"}
	}
	return keys
}

// parseSampleForm reads the sample form into v (to show it again) and a request, with the
// message keys of the problems found before the request's own Validate: a size that is no whole
// number of at least 1, a seed that is no unsigned 64-bit number.
func parseSampleForm(f url.Values, v *controlsView) control.SampleRequest {
	v.Unit, v.Month, v.Seed = strings.TrimSpace(f.Get("careUnit")), strings.TrimSpace(f.Get("month")), strings.TrimSpace(f.Get("seed"))
	req := control.SampleRequest{CareUnit: ident.HSAID(v.Unit), Month: v.Month}
	size, err := strconv.Atoi(strings.TrimSpace(f.Get("size")))
	if err != nil || size < 1 {
		v.Problems = append(v.Problems, "control.bad.size")
	} else {
		v.Size, req.Size = size, size
	}
	v.Strata = control.Strata(strings.TrimSpace(f.Get("strata")))
	if !v.Strata.Valid() {
		v.Problems = append(v.Problems, "control.bad.strata")
		v.Strata = control.StrataNone
	}
	req.Strata = v.Strata
	if v.Seed != "" {
		s, err := strconv.ParseUint(v.Seed, 10, 64)
		if err != nil {
			v.Problems = append(v.Problems, "control.bad.seed")
		}
		req.Seed = &s
	}
	return req
}

func (ui *UI) handleCreateSample(w http.ResponseWriter, r *http.Request, c *call) {
	v := ui.controlsView(c)
	req := parseSampleForm(r.PostForm, &v)
	if len(v.Problems) > 0 {
		ui.renderControls(w, r, c, http.StatusBadRequest, v)
		return
	}
	ct, err := ui.Controls.CreateSample(r.Context(), req)
	switch vakt.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/kontroller/"+ct.ID, http.StatusSeeOther)
	case vakt.CodeInvalid:
		v.Problems = controlProblems(err)
		ui.renderControls(w, r, c, http.StatusBadRequest, v)
	default:
		ui.fail(w, r, c, err)
	}
}

// controlItem is one sampled access as the control page shows it.
type controlItem struct {
	control.Item
	Row row
}

type controlView struct {
	Control  control.Control
	Patient  string // the targeted control's patient, formatted
	Items    []controlItem
	History  []control.Event
	Problems []string
	Problem  int64 // the item whose form the problems belong to; 0 for the close form
	Findings string
	Conclude string
	Choices  []control.Assessment
}

func (ui *UI) renderControl(w http.ResponseWriter, r *http.Request, c *call, status int, id string, v controlView) {
	cv, err := ui.Controls.Get(r.Context(), id)
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	v.Control, v.History, v.Choices = cv.Control, cv.History, control.Assessments()
	v.Patient = scopePatient(&cv.Control)
	for _, it := range cv.Items {
		ci := controlItem{Item: it.Item}
		if it.Entry != nil {
			ci.Row = rowOf(it.Entry)
		}
		v.Items = append(v.Items, ci)
	}
	ui.render(w, r, c, status, "control", "controls", v)
}

func (ui *UI) handleControl(w http.ResponseWriter, r *http.Request, c *call) {
	ui.renderControl(w, r, c, http.StatusOK, r.PathValue("id"), controlView{})
}

func (ui *UI) handleAssess(w http.ResponseWriter, r *http.Request, c *call) {
	id := r.PathValue("id")
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	if err != nil {
		ui.failKey(w, r, c, http.StatusNotFound, "error.notfound")
		return
	}
	_, err = ui.Controls.Assess(r.Context(), id, seq, control.Assessment(r.PostForm.Get("assessment")), r.PostForm.Get("comment"))
	ui.afterControlChange(w, r, c, id, err, controlView{Problem: seq})
}

func (ui *UI) handleCloseControl(w http.ResponseWriter, r *http.Request, c *call) {
	id := r.PathValue("id")
	f, k := r.PostForm.Get("findings"), r.PostForm.Get("conclusion")
	_, err := ui.Controls.Close(r.Context(), id, f, k)
	ui.afterControlChange(w, r, c, id, err, controlView{Findings: f, Conclude: k})
}

func (ui *UI) afterControlChange(w http.ResponseWriter, r *http.Request, c *call, id string, err error, v controlView) {
	switch vakt.ErrorCode(err) {
	case "":
		http.Redirect(w, r, "/kontroller/"+id, http.StatusSeeOther)
	case vakt.CodeInvalid:
		v.Problems = controlProblems(err)
		ui.renderControl(w, r, c, http.StatusBadRequest, id, v)
	case vakt.CodeConflict:
		v.Problems = []string{"control.bad.closed"}
		ui.renderControl(w, r, c, http.StatusConflict, id, v)
	default:
		ui.fail(w, r, c, err)
	}
}

// scopePatient returns a targeted control's patient, formatted, or "".
func scopePatient(ct *control.Control) string {
	if ct.Scope.Patient == "" {
		return ""
	}
	p, err := ident.ParsePersonID(ct.Scope.Patient, ct.Created)
	if err != nil {
		return ""
	}
	return p.Formatted()
}
