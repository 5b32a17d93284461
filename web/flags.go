package web

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/logcontrol"
	sessionstore "github.com/vakt/vakt/session"
)

// The flags page (Kontroller → Flaggor): automatic flags of a month or period, each with its
// Swedish reason and explanations, and the share of accesses explained per unit and month.
// logcontrol.Service checks the person's roles, logs the read in the tenant's log before
// computing and limits a unit-limited person to their units; the result is kept in the session
// as one of its items, beside the follow-up searches, so that paging neither recomputes nor
// logs again, on any node.

// maxFlagRows bounds the flags a kept result holds (the rest are counted in the per-unit table
// and the result is marked truncated): a page shows 50, nobody pages through more, and the
// result is sealed into the session store at every search.
const maxFlagRows = 10_000

// flagItemPrefix starts the session item key of a flag search, so that its 17 characters never
// meet a follow-up search's 16.
const flagItemPrefix = "f"

// flagSearch is a flag search a person ran, kept in their session.
type flagSearch struct {
	id     string
	form   flagForm
	q      logcontrol.Query
	at     time.Time
	result logcontrol.Result
}

// flagForm is the flags form as typed, to show it again.
type flagForm struct {
	Month    string
	From, To string // dates, YYYY-MM-DD, To inclusive; used instead of Month when given
	Unit     string
	Kinds    []string
}

// parseFlagForm reads the flags form: a month (YYYY-MM) or a period of dates (from and to, both
// inclusive, Swedish time), an optional care unit and the kinds wanted (none means all). It
// returns the query and the message keys of every problem; the bounds of the API
// (logcontrol.MaxPeriod, the known kinds) are checked here too so that the page names the field.
func parseFlagForm(f url.Values) (flagForm, logcontrol.Query, []string) {
	ff := flagForm{Month: strings.TrimSpace(f.Get("month")), From: strings.TrimSpace(f.Get("from")), To: strings.TrimSpace(f.Get("to")),
		Unit: strings.TrimSpace(f.Get("careUnit"))}
	var q logcontrol.Query
	var probs []string
	if ff.From != "" || ff.To != "" {
		from, err1 := time.ParseInLocation(time.DateOnly, ff.From, stockholm)
		to, err2 := time.ParseInLocation(time.DateOnly, ff.To, stockholm)
		switch {
		case err1 != nil || err2 != nil || to.Before(from) || from.Year() < 1900 || to.Year() > 9998:
			probs = append(probs, "flags.bad.dates")
		case to.AddDate(0, 0, 1).Sub(from) > logcontrol.MaxPeriod:
			probs = append(probs, "flags.bad.period")
		default:
			q.From, q.To = from, to.AddDate(0, 0, 1)
		}
	} else {
		m, err := time.ParseInLocation("2006-01", ff.Month, stockholm)
		if err != nil || m.Year() < 1900 || m.Year() > 9998 {
			probs = append(probs, "flags.bad.month")
		} else {
			q.From, q.To = m, m.AddDate(0, 1, 0)
		}
	}
	if ff.Unit != "" {
		h, err := ident.ParseHSAID(ff.Unit)
		if err != nil {
			probs = append(probs, "flags.bad.unit")
		}
		q.CareUnit = h
	}
	for _, k := range f["kind"] {
		if !slices.Contains(logcontrol.Kinds(), logcontrol.Kind(k)) {
			probs = append(probs, "flags.bad.kind")
			break
		}
		if !slices.Contains(ff.Kinds, k) {
			ff.Kinds = append(ff.Kinds, k)
			q.Kinds = append(q.Kinds, logcontrol.Kind(k))
		}
	}
	return ff, q, probs
}

type flagsView struct {
	Form     flagForm
	Kinds    []kindChoice
	Units    []string // the person's care units when limited
	Problems []string
}

// kindChoice is one checkbox of the kinds.
type kindChoice struct {
	Kind    logcontrol.Kind
	Checked bool
}

func (ui *UI) flagsView(c *call) flagsView {
	return flagsView{Form: flagForm{Month: time.Now().In(stockholm).AddDate(0, -1, 0).Format("2006-01")}, Units: c.p.CareUnits}
}

// choices returns the kind checkboxes, checked as the form was.
func (ff flagForm) choices() []kindChoice {
	var out []kindChoice
	for _, k := range logcontrol.Kinds() {
		out = append(out, kindChoice{Kind: k, Checked: slices.Contains(ff.Kinds, string(k))})
	}
	return out
}

func (ui *UI) handleFlagsPage(w http.ResponseWriter, r *http.Request, c *call) {
	v := ui.flagsView(c)
	v.Kinds = v.Form.choices()
	ui.render(w, r, c, http.StatusOK, "flags", "controls", v)
}

// handleFlagSearch computes the flags (the service logs the read first), keeps the result in
// the session and sends the browser to its first page.
func (ui *UI) handleFlagSearch(w http.ResponseWriter, r *http.Request, c *call) {
	v := ui.flagsView(c)
	ff, q, probs := parseFlagForm(r.PostForm)
	v.Form, v.Kinds = ff, ff.choices()
	if len(probs) > 0 {
		v.Problems = probs
		ui.render(w, r, c, http.StatusBadRequest, "flags", "controls", v)
		return
	}
	res, err := ui.Flags.Flags(r.Context(), q)
	switch vakt.ErrorCode(err) {
	case "":
	case vakt.CodeInvalid:
		v.Problems = []string{"flags.bad.dates"}
		ui.render(w, r, c, http.StatusBadRequest, "flags", "controls", v)
		return
	default:
		ui.fail(w, r, c, err)
		return
	}
	if len(res.Flags) > maxFlagRows {
		res.Flags, res.Truncated = res.Flags[:maxFlagRows], true
	}
	fs := &flagSearch{id: randomToken()[:16], form: ff, q: q, at: time.Now(), result: res}
	if err := ui.Sessions.addFlagSearch(r.Context(), c.id, fs); err != nil {
		ui.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/kontroller/flaggor/resultat/"+fs.id, http.StatusSeeOther)
}

// flagSearchData is a flag search as it is encoded for the session store.
type flagSearchData struct {
	ID     string            `json:"id"`
	Form   flagForm          `json:"form"`
	From   time.Time         `json:"from"`
	To     time.Time         `json:"to"`
	Unit   ident.HSAID       `json:"unit,omitempty"`
	Kinds  []logcontrol.Kind `json:"kinds,omitempty"`
	At     time.Time         `json:"at"`
	Result logcontrol.Result `json:"result"`
}

// addFlagSearch keeps fs in the session with id (the store keeps the newest items of either
// kind).
func (s *Sessions) addFlagSearch(ctx context.Context, id string, fs *flagSearch) error {
	s.init()
	b, err := json.Marshal(flagSearchData{ID: fs.id, Form: fs.form, From: fs.q.From, To: fs.q.To, Unit: fs.q.CareUnit,
		Kinds: fs.q.Kinds, At: fs.at, Result: fs.result})
	if err != nil {
		return err
	}
	if err := s.Store.PutItem(ctx, id, flagItemPrefix+fs.id, b); err != nil {
		if errors.Is(err, sessionstore.ErrNotFound) {
			return errGone
		}
		return err
	}
	s.cache.put(sessionstore.Key(id), flagItemPrefix+fs.id, fs, len(fs.result.Flags))
	return nil
}

// findFlagSearch returns the session's flag search with searchID, or nil.
func (s *Sessions) findFlagSearch(ctx context.Context, id, searchID string) (*flagSearch, error) {
	s.init()
	if len(searchID) != 16 {
		return nil, nil
	}
	key, item := sessionstore.Key(id), flagItemPrefix+searchID
	if fs, ok := s.cache.get(key, item).(*flagSearch); ok {
		return fs, nil
	}
	b, err := s.Store.Item(ctx, id, item)
	if errors.Is(err, sessionstore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var d flagSearchData
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare([]byte(d.ID), []byte(searchID)) != 1 {
		return nil, nil
	}
	fs := &flagSearch{id: d.ID, form: d.Form, at: d.At, result: d.Result,
		q: logcontrol.Query{From: d.From, To: d.To, CareUnit: d.Unit, Kinds: d.Kinds}}
	s.cache.put(key, item, fs, len(fs.result.Flags))
	return fs, nil
}

// flagRow is one flag as the page shows it.
type flagRow struct {
	logcontrol.Flag
	When string
}

// unitRow is one unit and month of the explained share.
type unitRow struct {
	logcontrol.UnitMonth
	Share string // explained share in percent, one decimal
}

type flagResultView struct {
	ID        string
	Period    string
	Unit      string
	Kinds     []string
	From, To  string // the period as dates (To inclusive), for the targeted-control buttons
	Count     int
	Truncated bool
	Rows      []flagRow
	Units     []unitRow
	Page      int
	Pages     int
	PrevURL   string
	NextURL   string
}

// handleFlagResult shows one page of a kept flag search.
func (ui *UI) handleFlagResult(w http.ResponseWriter, r *http.Request, c *call) {
	fs, err := ui.Sessions.findFlagSearch(r.Context(), c.id, r.PathValue("search"))
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	if fs == nil {
		ui.failKey(w, r, c, http.StatusNotFound, "error.search.gone")
		return
	}
	flags := fs.result.Flags
	pages := max(1, (len(flags)+pageSize-1)/pageSize)
	page, err := strconv.Atoi(r.URL.Query().Get("sida"))
	if err != nil || page < 1 {
		page = 1
	}
	page = min(page, pages)
	last := fs.q.To.In(stockholm).Add(-time.Nanosecond)
	v := flagResultView{ID: fs.id, Unit: fs.form.Unit, Kinds: fs.form.Kinds, Count: len(flags), Truncated: fs.result.Truncated,
		From: fs.q.From.In(stockholm).Format(time.DateOnly), To: last.Format(time.DateOnly), Page: page, Pages: pages}
	v.Period = v.From + " – " + v.To
	base := "/kontroller/flaggor/resultat/" + fs.id + "?sida="
	if page > 1 {
		v.PrevURL = base + strconv.Itoa(page-1)
	}
	if page < pages {
		v.NextURL = base + strconv.Itoa(page+1)
	}
	for _, f := range flags[(page-1)*pageSize : min(len(flags), page*pageSize)] {
		v.Rows = append(v.Rows, flagRow{Flag: f, When: f.StartDate.In(stockholm).Format("2006-01-02 15:04")})
	}
	for _, u := range fs.result.Units {
		share := fmt.Sprintf("%.1f", 100*u.Share())
		if c.L.Lang == "sv" {
			share = strings.Replace(share, ".", ",", 1)
		}
		v.Units = append(v.Units, unitRow{UnitMonth: u, Share: share})
	}
	ui.render(w, r, c, http.StatusOK, "flags_result", "controls", v)
}
