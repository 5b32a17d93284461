package rest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/merkle"
)

// appendResponse answers POST /api/v1/logs.
type appendResponse struct {
	Accepted         int     `json:"accepted"`   // entries newly stored
	Duplicates       int     `json:"duplicates"` // entries that were already stored, identical
	Seqs             []int64 `json:"seqs"`       // sequence number of each entry, in request order
	DuplicateIndexes []int   `json:"duplicateIndexes,omitempty"`
}

// handleAppend stores a batch: a JSON array (application/json) or NDJSON
// (application/x-ndjson). The answer comes only after the batch is durable.
func (a *API) handleAppend(w http.ResponseWriter, r *http.Request) {
	if !a.requireRole(w, r, vakt.RoleWriter) {
		return
	}
	framing, err := framingOf(r.Header.Get("Content-Type"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	max := a.MaxBodyBytes
	if max == 0 {
		max = DefaultMaxBodyBytes
	}
	body := http.MaxBytesReader(w, r.Body, max)
	maxEntries := a.Service.MaxBatch
	if maxEntries == 0 {
		maxEntries = accesslog.DefaultMaxBatch
	}
	drafts, err := accesslog.DecodeDrafts(bufio.NewReaderSize(body, 64<<10), framing, maxEntries)
	var decoded []vakt.Problem
	if err != nil {
		if drafts == nil {
			a.writeError(w, r, err)
			return
		}
		decoded = vakt.ErrorProblems(err) // structural problems; validation adds the rest
	}
	rep, err := a.Service.Append(r.Context(), drafts, decoded...)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if a.OnAppend != nil {
		if p := vakt.PrincipalFrom(r.Context()); p != nil {
			a.OnAppend(p.TenantID, rep.Accepted, rep.Duplicates)
		}
	}
	resp := appendResponse{Accepted: rep.Accepted, Duplicates: rep.Duplicates, Seqs: make([]int64, len(rep.Results))}
	for i, res := range rep.Results {
		resp.Seqs[i] = res.Seq
		if res.Duplicate {
			resp.DuplicateIndexes = append(resp.DuplicateIndexes, i)
		}
	}
	status := http.StatusCreated
	if rep.Accepted == 0 {
		status = http.StatusOK // nothing new: a pure re-send
	}
	writeJSON(w, status, resp)
}

func framingOf(contentType string) (accesslog.Framing, error) {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil && contentType != "" {
		return 0, vakt.Errorf(vakt.CodeUnsupported, "Content-Type must be application/json or application/x-ndjson")
	}
	switch mt {
	case "application/json", "":
		return accesslog.FramingArray, nil
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/jsonlines":
		return accesslog.FramingNDJSON, nil
	}
	return 0, vakt.Errorf(vakt.CodeUnsupported, "Content-Type must be application/json or application/x-ndjson")
}

// queryRequest is the body of search and export.
type queryRequest struct {
	PatientID      json.RawMessage `json:"patientId,omitempty"`
	UserID         string          `json:"userId,omitempty"`
	CareUnitID     string          `json:"careUnitId,omitempty"`
	CareProviderID string          `json:"careProviderId,omitempty"`
	ActivityType   string          `json:"activityType,omitempty"`
	From           string          `json:"from,omitempty"`
	To             string          `json:"to,omitempty"`
	Limit          int             `json:"limit,omitempty"`
	Cursor         string          `json:"cursor,omitempty"`
	Order          string          `json:"order,omitempty"` // export only: "newest" (default) or "seq"
}

// query is a decoded search or export request.
type query struct {
	accesslog.Query
	bySeq bool // export the whole log in sequence order
}

// decodeQuery reads and validates a search or export body. Problems name fields, never values.
func (a *API) decodeQuery(r *http.Request, w http.ResponseWriter) (query, error) {
	q, req, err := a.decodeQueryBody(r, w)
	if err != nil {
		return query{}, err
	}
	switch req.Order {
	case "", "newest":
		return query{Query: q}, nil
	case "seq":
		if r.Pattern != "POST /api/v1/logs/export" {
			return query{}, vakt.Invalid("query is invalid", vakt.Problem{Index: -1, Field: "order", Reason: "seq is only for export"})
		}
		filtered := len(req.PatientID) > 0 || req.UserID != "" || req.CareUnitID != "" || req.CareProviderID != "" ||
			req.ActivityType != "" || req.From != "" || req.To != "" || req.Limit != 0 || req.Cursor != ""
		if filtered {
			return query{}, vakt.Invalid("query is invalid", vakt.Problem{Index: -1, Field: "order",
				Reason: "seq exports the whole log for verification and takes no filters, limit or cursor"})
		}
		return query{bySeq: true}, nil
	}
	return query{}, vakt.Invalid("query is invalid", vakt.Problem{Index: -1, Field: "order", Reason: "must be newest or seq"})
}

func (a *API) decodeQueryBody(r *http.Request, w http.ResponseWriter) (accesslog.Query, queryRequest, error) {
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); r.Header.Get("Content-Type") != "" && (err != nil || mt != "application/json") {
		return accesslog.Query{}, queryRequest{}, vakt.Errorf(vakt.CodeUnsupported, "Content-Type must be application/json")
	}
	var req queryRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxQueryBodyBytes))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&req); err != nil && !errors.Is(err, io.EOF) {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return accesslog.Query{}, queryRequest{}, err
		}
		reason := "is not a valid query object"
		var ute *json.UnmarshalTypeError
		if errors.As(err, &ute) && ute.Field != "" {
			return accesslog.Query{}, queryRequest{}, vakt.Invalid("query is invalid", vakt.Problem{Index: -1, Field: ute.Field, Reason: "has the wrong JSON type"})
		}
		if bytes.Contains([]byte(err.Error()), []byte("unknown field")) {
			reason = "has an unknown field (allowed: patientId, userId, careUnitId, careProviderId, activityType, from, to, limit, cursor)"
		}
		return accesslog.Query{}, queryRequest{}, vakt.Invalid("query is invalid", vakt.Problem{Index: -1, Field: "", Reason: reason})
	}
	if _, err := dec.Token(); err != io.EOF {
		return accesslog.Query{}, queryRequest{}, vakt.Invalid("query is invalid", vakt.Problem{Index: -1, Field: "", Reason: "has data after the query object"})
	}
	var q accesslog.Query
	var probs []vakt.Problem
	bad := func(field, reason string) {
		probs = append(probs, vakt.Problem{Index: -1, Field: field, Reason: reason})
	}
	if len(req.PatientID) > 0 && string(req.PatientID) != "null" {
		var ii accesslog.DraftII
		var s string
		var obj struct {
			Root      string `json:"root"`
			Extension string `json:"extension"`
		}
		strict := json.NewDecoder(bytes.NewReader(req.PatientID))
		strict.DisallowUnknownFields()
		switch {
		case json.Unmarshal(req.PatientID, &s) == nil:
			ii = accesslog.DraftII{Extension: s, Plain: true}
		case strict.Decode(&obj) == nil:
			ii = accesslog.DraftII{Root: obj.Root, Extension: obj.Extension}
		default:
			bad("patientId", "must be a string or an object with root and extension only")
		}
		if len(probs) == 0 {
			p, err := a.Service.ParsePatientID(r.Context(), "patientId", ii)
			if err != nil {
				probs = append(probs, vakt.ErrorProblems(err)...)
			}
			q.PatientID = p
		}
	}
	hsa := func(field, v string, dst *ident.HSAID) {
		if v == "" {
			return
		}
		id, err := ident.ParseHSAID(v)
		if err != nil {
			bad(field, err.Error())
			return
		}
		*dst = id
	}
	hsa("userId", req.UserID, &q.UserID)
	hsa("careUnitId", req.CareUnitID, &q.CareUnitID)
	hsa("careProviderId", req.CareProviderID, &q.CareProviderID)
	if len([]rune(req.ActivityType)) > accesslog.MaxTextLen {
		bad("activityType", "is longer than 256 characters")
	}
	q.ActivityType = accesslog.ActivityType(req.ActivityType)
	when := func(field, v string, dst *time.Time) {
		if v == "" {
			return
		}
		t, err := accesslog.ParseDateTime(v)
		if err != nil {
			bad(field, err.Error())
			return
		}
		*dst = t
	}
	when("from", req.From, &q.From)
	when("to", req.To, &q.To)
	q.Limit = req.Limit
	c, err := accesslog.ParseCursor(req.Cursor)
	if err != nil {
		probs = append(probs, vakt.ErrorProblems(err)...)
	}
	q.After = c
	if len(probs) > 0 {
		return accesslog.Query{}, queryRequest{}, vakt.Invalid("query is invalid", probs...)
	}
	return q, req, q.Validate()
}

// handleSearch answers one page: {"entries":[...],"nextCursor":"..."}. Entries are written as
// stored, byte for byte, so a client can hash what it receives.
func (a *API) handleSearch(w http.ResponseWriter, r *http.Request) {
	if !a.requireRole(w, r, vakt.RoleReader) {
		return
	}
	q, err := a.decodeQuery(r, w)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	page, err := a.Service.Search(r.Context(), q.Query)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	size := 64
	for i := range page.Entries {
		size += len(page.Entries[i].JSON) + 1
	}
	b := make([]byte, 0, size)
	b = append(b, `{"entries":[`...)
	for i := range page.Entries {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, page.Entries[i].JSON...)
	}
	b = append(b, ']')
	if !page.Next.IsZero() {
		b = append(b, `,"nextCursor":`...)
		b = strconv.AppendQuote(b, page.Next.String())
	}
	b = append(b, "}\n"...)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// handleExport streams every matching entry as NDJSON, newest first. An error after the first
// entry was sent cannot change the status any more; it ends the stream with a line
// {"error":{"code":...,"message":...}} so that a client never mistakes a cut stream for a
// complete one.
func (a *API) handleExport(w http.ResponseWriter, r *http.Request) {
	if !a.requireRole(w, r, vakt.RoleReader) {
		return
	}
	q, err := a.decodeQuery(r, w)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	started := false
	n := 0
	export := func(fn func(s *accesslog.Stored) error) error { return a.Service.Export(r.Context(), q.Query, fn) }
	if q.bySeq {
		export = func(fn func(s *accesslog.Stored) error) error {
			return a.Service.ExportBySeq(r.Context(), 1, func(s *accesslog.Stored, _ merkle.Hash) error { return fn(s) })
		}
	}
	err = export(func(s *accesslog.Stored) error {
		if !started {
			started = true
			w.Header().Set("Content-Type", "application/x-ndjson")
			w.WriteHeader(http.StatusOK)
		}
		bw.Write(s.JSON)
		if err := bw.WriteByte('\n'); err != nil {
			return err
		}
		if n++; n%1000 == 0 {
			if err := bw.Flush(); err != nil {
				return err
			}
			http.NewResponseController(w).Flush()
		}
		return nil
	})
	if err != nil && !started {
		a.writeError(w, r, err)
		return
	}
	if !started {
		w.Header().Set("Content-Type", "application/x-ndjson")
		w.WriteHeader(http.StatusOK)
	}
	if err != nil {
		if vakt.ErrorCode(err) == vakt.CodeInternal {
			a.logger().ErrorContext(r.Context(), "export failed mid-stream", "request_id", vakt.RequestIDFrom(r.Context()), "err", err)
		}
		line, _ := json.Marshal(map[string]errorBody{"error": {Code: vakt.ErrorCode(err), Message: vakt.ErrorMessage(err)}})
		bw.Write(line)
		bw.WriteByte('\n')
	}
	bw.Flush()
}

// handleGet returns one entry by logId. A logId is a producer's UUID, not personal data, so it
// may appear in the path.
func (a *API) handleGet(w http.ResponseWriter, r *http.Request) {
	st, err := a.Service.Get(r.Context(), r.PathValue("logId"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(append(st.JSON, '\n'))
}
