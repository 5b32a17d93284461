package rivta

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
)

// Result codes of ResultCodeType.
const (
	resultOK              = "OK"
	resultValidationError = "VALIDATION_ERROR"
	resultAccessDenied    = "ACCESSDENIED"
	resultError           = "ERROR"
)

// storeLog2 serves StoreLog 2: every entry is stored, or none.
func (a *API) storeLog2(w http.ResponseWriter, r *http.Request, d *decoder, env *envelope) {
	a.storeLog(w, r, d, storeLogV2)
}

// storeLog1 serves the older StoreLog 1 (ehr:log:store:1) the same way.
func (a *API) storeLog1(w http.ResponseWriter, r *http.Request, d *decoder, env *envelope) {
	a.storeLog(w, r, d, storeLogV1)
}

// storeLogVersion is what differs between the StoreLog contracts.
type storeLogVersion struct {
	dialect     *dialect
	responderNS string
	logElement  string // the request's entry element
	// respond writes the response with a result code and text.
	respond func(w http.ResponseWriter, code, text string)
	// check adds the version's own limits beyond the common validation.
	check func(d *decoder, drafts []accesslog.Draft)
}

var storeLogV2 = &storeLogVersion{
	dialect: dialectV2, responderNS: nsStoreLog2, logElement: "log",
	respond: func(w http.ResponseWriter, code, text string) {
		var b bytes.Buffer
		b.WriteString(`<StoreLogResponse xmlns="` + nsStoreLog2 + `" xmlns:core="` + nsLog2 + `"><result>`)
		writeResult2(&b, code, text)
		b.WriteString(`</result></StoreLogResponse>`)
		writeResponse(w, b.Bytes())
	},
}

var storeLogV1 = &storeLogVersion{
	dialect: dialectV1, responderNS: nsStoreLog1, logElement: "Log",
	respond: func(w http.ResponseWriter, code, text string) {
		// ResultType is the responder's element; its children are ehr:log:store:1's, and
		// ResultText is required.
		var b bytes.Buffer
		b.WriteString(`<StoreLogResponse xmlns="` + nsStoreLog1 + `" xmlns:ls="` + nsLogStore1 + `"><ResultType><ls:ResultCode>`)
		b.WriteString(code)
		b.WriteString(`</ls:ResultCode><ls:ResultText>`)
		escapeText(&b, text)
		b.WriteString(`</ls:ResultText></ResultType></StoreLogResponse>`)
		writeResponse(w, b.Bytes())
	},
	check: func(d *decoder, drafts []accesslog.Draft) {
		// ehr_log_1.0.xsd allows 50 characters where log:2 allows 256.
		for i := range drafts {
			d.index = i
			if utf8.RuneCountInString(drafts[i].Activity.ActivityLevel) > 50 {
				d.problem("activity.activityLevel", "is longer than 50 characters")
			}
			for j, res := range drafts[i].Resources {
				if utf8.RuneCountInString(res.ResourceType) > 50 {
					d.problem(fmt.Sprintf("resources[%d].resourceType", j), "is longer than 50 characters")
				}
			}
		}
		d.index = -1
	},
}

func (a *API) storeLog(w http.ResponseWriter, r *http.Request, d *decoder, v *storeLogVersion) {
	max := a.Service.MaxBatch
	if max == 0 {
		max = accesslog.DefaultMaxBatch
	}
	d.dialect = v.dialect
	drafts, err := d.storeLog(v.responderNS, v.logElement, max)
	if err == nil {
		err = finish(d)
	}
	if err != nil {
		if vakt.ErrorCode(err) == vakt.CodeTooLarge {
			v.respond(w, resultValidationError, err.Error())
			return
		}
		a.requestFault(w, r, err)
		return
	}
	if v.check != nil {
		v.check(d, drafts)
	}
	rep, err := a.Service.Append(r.Context(), drafts, d.problems...)
	if err != nil {
		code, text, ok := resultOf(err, v.dialect == dialectV1)
		if !ok {
			a.serverFault(w, r, err)
			return
		}
		v.respond(w, code, text)
		return
	}
	if a.OnAppend != nil {
		if p := vakt.PrincipalFrom(r.Context()); p != nil {
			a.OnAppend(p.TenantID, rep.Accepted, rep.Duplicates)
		}
	}
	text := fmt.Sprintf("%d entries stored", rep.Accepted)
	if rep.Duplicates > 0 {
		text += fmt.Sprintf(", %d already stored (identical)", rep.Duplicates)
	}
	v.respond(w, resultOK, text)
}

// storeLog reads the request element's children: entry elements (logElement) in the responder
// namespace, whose content is in the dialect's core namespace.
func (d *decoder) storeLog(responderNS, logElement string, maxEntries int) ([]accesslog.Draft, error) {
	var drafts []accesslog.Draft
	var s seq
	for {
		name, ok, err := d.child()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		i := -1
		if name.local == logElement {
			i = 0
		}
		d.index = len(drafts)
		readIt, err := d.member(&s, responderNS, name, i, true)
		if err != nil {
			return nil, err
		}
		if !readIt {
			continue
		}
		if len(drafts) >= maxEntries {
			return nil, vakt.Errorf(vakt.CodeTooLarge, "a request may carry at most %d entries", maxEntries)
		}
		drafts = append(drafts, accesslog.Draft{})
		if err := d.logEntry(&drafts[len(drafts)-1]); err != nil {
			return nil, err
		}
	}
	d.index = -1
	if len(drafts) == 0 {
		d.problem(logElement, "at least one "+logElement+" element is required")
	}
	return drafts, nil
}

// resultOf maps a service error to a result code and text; ok is false for errors that are
// not the caller's doing (they become a Server fault).
func resultOf(err error, capitalised bool) (code, text string, ok bool) {
	var ve *vakt.Error
	if !errors.As(err, &ve) {
		return "", "", false
	}
	switch ve.Code {
	case vakt.CodeInvalid:
		return resultValidationError, problemsText(ve, capitalised), true
	case vakt.CodeConflict, vakt.CodeTooLarge:
		return resultValidationError, ve.Message, true
	case vakt.CodeForbidden, vakt.CodeUnauthorized:
		return resultAccessDenied, ve.Message, true
	case vakt.CodeNotFound:
		return resultError, ve.Message, true
	}
	return "", "", false
}

// problemsText renders problems as XPath-like locations in the request, so that a producer
// finds the element: log[3]/activity/startDate: is required. Values are never repeated.
func problemsText(ve *vakt.Error, capitalised bool) string {
	const shown = 20
	var b strings.Builder
	b.WriteString(ve.Message)
	for i, p := range ve.Problems {
		if i == shown {
			fmt.Fprintf(&b, "; and %d more", len(ve.Problems)-shown)
			break
		}
		b.WriteString("; ")
		path := ""
		if p.Index >= 0 {
			path = "log[" + strconv.Itoa(p.Index+1) + "]"
			if p.Field != "" {
				path += "/"
			}
		}
		path += xmlPath(p.Field)
		if capitalised {
			path = capitalise(path)
		}
		b.WriteString(path)
		b.WriteString(": ")
		b.WriteString(p.Reason)
	}
	return b.String()
}

// xmlPath turns a field path (user.careUnit.careUnitId, resources[0].patient) into the
// element path of the XML (user/careUnit/careUnitId, resources/resource[1]/patient).
func xmlPath(field string) string {
	parts := strings.Split(field, ".")
	for i, p := range parts {
		if name, idx, ok := strings.Cut(p, "["); ok && name == "resources" {
			n, err := strconv.Atoi(strings.TrimSuffix(idx, "]"))
			if err == nil {
				parts[i] = "resources/resource[" + strconv.Itoa(n+1) + "]"
			}
		}
	}
	return strings.Join(parts, "/")
}

// capitalise turns an element path of the log:2 form into the ehr:log:1 form. Names the
// schema does not know (an unexpected element) are left as the producer wrote them.
func capitalise(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		base, _, _ := strings.Cut(p, "[")
		if capitalisable[base] {
			parts[i] = strings.ToUpper(p[:1]) + p[1:]
		}
	}
	return strings.Join(parts, "/")
}

// capitalisable are the names that have an ehr:log 1 twin: the element names of a log:2 entry,
// log itself, and the query parameters.
var capitalisable = func() map[string]bool {
	m := map[string]bool{"log": true, "fromDate": true, "toDate": true, "queuedReportId": true}
	d := dialectV2
	for _, names := range [][]string{d.log, d.system, d.activity, d.user, d.careProvider, d.careUnit, d.resources, d.resource, d.patient} {
		for _, n := range names {
			m[n] = true
		}
	}
	return m
}()
