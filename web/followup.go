package web

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/internal/swetime"
)

// stockholm is the zone of the dates people type: a search "to 2026-11-30" ends at midnight
// Swedish time, as the reviewer means it.
var stockholm = swetime.Stockholm

// tab is one of the two ways to search: by citizen (Invånare) or by staff member (Vårdpersonal).
type tab string

const (
	tabCitizen tab = "invanare"
	tabStaff   tab = "vardpersonal"
)

// pageSize is the number of rows on a result page.
const pageSize = 50

// search is a search a person ran, kept in their session so that paging, sorting, details and
// exports need no personnummer in any URL.
type search struct {
	id       string
	tab      tab
	q        accesslog.FollowUpQuery
	subject  string // what was searched for, as shown: formatted personnummer or HSA-id
	period   string
	filters  string
	at       time.Time
	rows     []row
	truncate bool
}

// row is one entry as the result table and the exports show it.
type row struct {
	Seq        int64
	LogID      string
	Time       time.Time
	When       string // Swedish local time, minutes
	UserName   string
	UserID     string
	Title      string
	Assignment string
	Unit       string // name and HSA-id of the unit the access was made from
	Activity   string
	Purpose    string
	Resource   string // distinct resource types
	System     string
	Patients   string // distinct patients named by the entry
}

func rowOf(f *accesslog.Found) row {
	e := &f.Entry
	r := row{
		Seq: f.Seq, LogID: e.LogID, Time: e.Activity.StartDate, When: e.Activity.StartDate.In(stockholm).Format("2006-01-02 15:04"),
		UserName: e.User.Name, UserID: string(e.User.ID), Title: e.User.Title, Assignment: e.User.Assignment,
		Unit: nameAndID(e.User.CareUnit.Name, string(e.User.CareUnit.ID)), Activity: string(e.Activity.Type),
		Purpose: string(e.Activity.Purpose), System: nameAndID(e.System.Name, string(e.System.ID)),
	}
	var types []string
	for i := range e.Resources {
		if t := e.Resources[i].Type; !slices.Contains(types, t) {
			types = append(types, t)
		}
	}
	r.Resource = strings.Join(types, ", ")
	var pats []string
	for _, p := range e.Patients() {
		pats = append(pats, p.Formatted())
	}
	r.Patients = strings.Join(pats, ", ")
	return r
}

func nameAndID(name, id string) string {
	if name == "" {
		return id
	}
	return name + " (" + id + ")"
}

type searchView struct {
	Tab        tab
	Subject    string
	From, To   string
	Unit       string
	Activity   string
	Purpose    string
	Problem    string // a message key
	Activities []accesslog.ActivityType
	Purposes   []accesslog.Purpose
	Units      []string // the person's care units when limited
}

func (ui *UI) newSearchView(c *call, t tab) searchView {
	now := time.Now().In(stockholm)
	return searchView{
		Tab: t, From: now.AddDate(0, -1, 0).Format(time.DateOnly), To: now.Format(time.DateOnly),
		Activities: accesslog.KnownActivityTypes(), Purposes: accesslog.KnownPurposes(), Units: c.p.CareUnits,
	}
}

func (ui *UI) handleSearchPage(t tab) func(http.ResponseWriter, *http.Request, *call) {
	return func(w http.ResponseWriter, r *http.Request, c *call) {
		ui.render(w, r, c, http.StatusOK, "search", string(t), ui.newSearchView(c, t))
	}
}

// handleSearch runs a search (the service logs it first), keeps it in the session and sends the
// browser to its result page, addressed by a random id.
func (ui *UI) handleSearch(w http.ResponseWriter, r *http.Request, c *call) {
	f := r.PostForm
	t := tab(f.Get("tab"))
	if t != tabCitizen && t != tabStaff {
		ui.failKey(w, r, c, http.StatusBadRequest, "error.invalid")
		return
	}
	v := ui.newSearchView(c, t)
	v.Subject, v.From, v.To = strings.TrimSpace(f.Get("subject")), f.Get("from"), f.Get("to")
	v.Unit, v.Activity, v.Purpose = strings.TrimSpace(f.Get("unit")), f.Get("activity"), f.Get("purpose")
	sr := &search{tab: t, at: time.Now()}
	q := &sr.q
	problem := func(key string) {
		v.Problem = key
		ui.render(w, r, c, http.StatusBadRequest, "search", string(t), v)
	}
	if t == tabCitizen {
		p, err := ui.Service.ParsePatientID(r.Context(), "patient", accesslog.DraftII{Extension: v.Subject, Plain: true})
		if err != nil {
			problem("bad.patient")
			return
		}
		q.Patient, sr.subject = p, p.Formatted()
	} else {
		h, err := ident.ParseHSAID(v.Subject)
		if err != nil {
			problem("bad.hsaid")
			return
		}
		q.Staff, sr.subject = h, string(h)
	}
	from, err1 := time.ParseInLocation(time.DateOnly, v.From, stockholm)
	to, err2 := time.ParseInLocation(time.DateOnly, v.To, stockholm)
	if err1 != nil || err2 != nil || to.Before(from) || from.Year() < 1900 || to.Year() > 9998 {
		problem("bad.dates")
		return
	}
	q.From, q.To = from, to.AddDate(0, 0, 1)
	sr.period = v.From + " – " + v.To
	var filters []string
	if v.Unit != "" {
		h, err := ident.ParseHSAID(v.Unit)
		if err != nil {
			problem("bad.unit")
			return
		}
		q.CareUnit = h
		filters = append(filters, c.L.T("search.unit")+": "+string(h))
	}
	if v.Activity != "" {
		q.ActivityType = accesslog.ActivityType(v.Activity)
		filters = append(filters, c.L.T("search.activity")+": "+v.Activity)
	}
	if v.Purpose != "" {
		q.Purpose = accesslog.Purpose(v.Purpose)
		filters = append(filters, c.L.T("search.purpose")+": "+v.Purpose)
	}
	sr.filters = strings.Join(filters, "; ")
	res, err := ui.Service.FollowUp(r.Context(), *q)
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	sr.truncate = res.Truncated
	sr.rows = make([]row, len(res.Entries))
	for i := range res.Entries {
		sr.rows[i] = rowOf(&res.Entries[i])
	}
	id, err := ui.Sessions.addSearch(r.Context(), c.id, sr)
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	http.Redirect(w, r, "/logguppfoljning/resultat/"+id, http.StatusSeeOther)
}

// sortKeys are the columns a result can be sorted by, with how to compare two rows.
var sortKeys = map[string]func(a, b *row) int{
	"tid": func(a, b *row) int { return cmp.Or(a.Time.Compare(b.Time), cmp.Compare(a.Seq, b.Seq)) },
	"vem": func(a, b *row) int {
		return cmp.Or(strings.Compare(a.UserName, b.UserName), strings.Compare(a.UserID, b.UserID))
	},
	"enhet":     func(a, b *row) int { return strings.Compare(a.Unit, b.Unit) },
	"aktivitet": func(a, b *row) int { return strings.Compare(a.Activity, b.Activity) },
	"syfte":     func(a, b *row) int { return strings.Compare(a.Purpose, b.Purpose) },
	"typ":       func(a, b *row) int { return strings.Compare(a.Resource, b.Resource) },
	"system":    func(a, b *row) int { return strings.Compare(a.System, b.System) },
	"invanare":  func(a, b *row) int { return strings.Compare(a.Patients, b.Patients) },
}

// sorted returns the rows ordered by key and direction; ties keep the newest first.
func sorted(rows []row, key string, asc bool) []row {
	less, ok := sortKeys[key]
	if !ok {
		less = sortKeys["tid"]
	}
	out := slices.Clone(rows)
	slices.SortStableFunc(out, func(a, b row) int {
		c := less(&a, &b)
		if !asc {
			c = -c
		}
		if c == 0 {
			return -sortKeys["tid"](&a, &b)
		}
		return c
	})
	return out
}

type header struct {
	Key, Label, URL string
	Sort            string // aria-sort: "ascending", "descending" or ""
}

type resultView struct {
	ID        string
	Tab       tab
	Subject   string
	Period    string
	Filters   string
	Count     int
	Truncated bool
	Rows      []row
	Headers   []header
	Page      int
	Pages     int
	PrevURL   string
	NextURL   string
}

// handleResult shows one page of a kept search, sorted as asked.
func (ui *UI) handleResult(w http.ResponseWriter, r *http.Request, c *call) {
	sr, err := ui.Sessions.findSearch(r.Context(), c.id, r.PathValue("search"))
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	if sr == nil {
		ui.failKey(w, r, c, http.StatusNotFound, "error.search.gone")
		return
	}
	qs := r.URL.Query()
	key := qs.Get("sort")
	if _, ok := sortKeys[key]; !ok {
		key = "tid"
	}
	asc := qs.Get("ordning") == "stigande"
	rows := sorted(sr.rows, key, asc)
	pages := max(1, (len(rows)+pageSize-1)/pageSize)
	page, err := strconv.Atoi(qs.Get("sida"))
	if err != nil || page < 1 {
		page = 1
	}
	page = min(page, pages)
	base := "/logguppfoljning/resultat/" + sr.id
	link := func(k string, a bool, p int) string {
		o := "fallande"
		if a {
			o = "stigande"
		}
		return base + "?sort=" + k + "&ordning=" + o + "&sida=" + strconv.Itoa(p)
	}
	v := resultView{ID: sr.id, Tab: sr.tab, Subject: sr.subject, Period: sr.period, Filters: sr.filters,
		Count: len(rows), Truncated: sr.truncate, Page: page, Pages: pages,
		Rows: rows[(page-1)*pageSize : min(len(rows), page*pageSize)]}
	if page > 1 {
		v.PrevURL = link(key, asc, page-1)
	}
	if page < pages {
		v.NextURL = link(key, asc, page+1)
	}
	cols := []struct{ key, label string }{{"tid", "col.time"}, {"vem", "col.user"}, {"enhet", "col.unit"}, {"aktivitet", "col.activity"},
		{"syfte", "col.purpose"}, {"typ", "col.resource"}, {"system", "col.system"}}
	if sr.tab == tabStaff {
		cols = append(cols, struct{ key, label string }{"invanare", "col.patient"})
	}
	for _, col := range cols {
		h := header{Key: col.key, Label: col.label, URL: link(col.key, col.key != "tid", 1)}
		if col.key == key {
			h.Sort = "descending"
			if asc {
				h.Sort = "ascending"
			}
			h.URL = link(col.key, !asc, 1)
		}
		v.Headers = append(v.Headers, h)
	}
	ui.render(w, r, c, http.StatusOK, "result", string(sr.tab), v)
}

type entryView struct {
	SearchID  string
	Entry     *accesslog.Entry
	Seq       int64
	Received  string
	Start     string
	Patients  []string // formatted, per resource
	Integrity accesslog.Integrity
}

// handleEntry shows one entry of a kept search with every field and its integrity. The entry is
// read again through the service, which checks the person's units and the tenant's checkpoint.
func (ui *UI) handleEntry(w http.ResponseWriter, r *http.Request, c *call) {
	sr, err := ui.Sessions.findSearch(r.Context(), c.id, r.PathValue("search"))
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	if sr == nil {
		ui.failKey(w, r, c, http.StatusNotFound, "error.search.gone")
		return
	}
	seq, err := strconv.ParseInt(r.PathValue("seq"), 10, 64)
	i := slices.IndexFunc(sr.rows, func(x row) bool { return x.Seq == seq })
	if err != nil || i < 0 {
		ui.failKey(w, r, c, http.StatusNotFound, "error.notfound")
		return
	}
	f, in, err := ui.Service.FollowUpEntry(r.Context(), sr.rows[i].LogID)
	if err != nil {
		ui.fail(w, r, c, err)
		return
	}
	v := entryView{SearchID: sr.id, Entry: &f.Entry, Seq: f.Seq, Integrity: in,
		Received: f.ReceivedAt.In(stockholm).Format("2006-01-02 15:04:05"),
		Start:    f.Entry.Activity.StartDate.In(stockholm).Format("2006-01-02 15:04:05")}
	for _, res := range f.Entry.Resources {
		v.Patients = append(v.Patients, res.Patient.ID.Formatted())
	}
	ui.render(w, r, c, http.StatusOK, "entry", string(sr.tab), v)
}
