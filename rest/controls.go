package rest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/logcontrol"
	"github.com/vakt/vakt/register"
)

// DefaultMaxRegisterBytes bounds a register import: two million persons of ~200 bytes, with
// room. The body is streamed into one transaction, never held in memory.
const DefaultMaxRegisterBytes = 1 << 30

// handleRegisterImport answers PUT /api/v1/registers/{kind}?mode=replace|upsert.
func (a *API) handleRegisterImport(w http.ResponseWriter, r *http.Request) {
	if !a.requireRole(w, r, vakt.RoleWriter) {
		return
	}
	kind, err := register.ParseKind(r.PathValue("kind"))
	if err != nil {
		a.writeError(w, r, vakt.Errorf(vakt.CodeNotFound, "no such register (staff, persons, watchlist, cases, units)"))
		return
	}
	mode, err := register.ParseMode(r.URL.Query().Get("mode"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if _, err := framingOf(r.Header.Get("Content-Type")); err != nil {
		a.writeError(w, r, err)
		return
	}
	max := a.MaxRegisterBytes
	if max <= 0 {
		max = DefaultMaxRegisterBytes
	}
	rep, err := a.Registers.Import(r.Context(), kind, mode, http.MaxBytesReader(w, r.Body, max))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, rep)
}

// flagSearchRequest is the body of POST /api/v1/controls/flags/search.
type flagSearchRequest struct {
	From       string   `json:"from"`
	To         string   `json:"to"`
	CareUnitID string   `json:"careUnitId,omitempty"`
	Kinds      []string `json:"kinds,omitempty"`
}

// handleFlagSearch answers the flags and explained shares of a period.
func (a *API) handleFlagSearch(w http.ResponseWriter, r *http.Request) {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxQueryBodyBytes))
	dec.DisallowUnknownFields()
	var req flagSearchRequest
	if err := dec.Decode(&req); err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			a.writeError(w, r, err)
			return
		}
		a.writeError(w, r, vakt.Invalid("request body is not a flag search",
			vakt.Problem{Index: -1, Field: "", Reason: "must be a JSON object with from, to and optionally careUnitId and kinds"}))
		return
	}
	var q logcontrol.Query
	var probs []vakt.Problem
	when := func(field, v string, dst *time.Time) {
		if v == "" {
			return
		}
		t, err := accesslog.ParseDateTime(v)
		if err != nil {
			probs = append(probs, vakt.Problem{Index: -1, Field: field, Reason: err.Error()})
			return
		}
		*dst = t
	}
	when("from", req.From, &q.From)
	when("to", req.To, &q.To)
	if req.CareUnitID != "" {
		h, err := ident.ParseHSAID(req.CareUnitID)
		if err != nil {
			probs = append(probs, vakt.Problem{Index: -1, Field: "careUnitId", Reason: "is not a valid HSA-id"})
		}
		q.CareUnit = h
	}
	for i, k := range req.Kinds {
		if len(k) > 64 {
			probs = append(probs, vakt.Problem{Index: -1, Field: fmt.Sprintf("kinds[%d]", i), Reason: "is not a flag kind"})
			continue
		}
		q.Kinds = append(q.Kinds, logcontrol.Kind(k))
	}
	if len(probs) > 0 {
		a.writeError(w, r, vakt.Invalid("flag search is invalid", probs...))
		return
	}
	res, err := a.Controls.Flags(r.Context(), q)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	type unit struct {
		logcontrol.UnitMonth
		ExplainedShare float64 `json:"explainedShare"`
	}
	units := make([]unit, len(res.Units))
	for i := range res.Units {
		units[i] = unit{res.Units[i], res.Units[i].Share()}
	}
	writeJSON(w, http.StatusOK, struct {
		Flags     []logcontrol.Flag `json:"flags"`
		Truncated bool              `json:"truncated"`
		Units     []unit            `json:"units"`
	}{res.Flags, res.Truncated, units})
}
