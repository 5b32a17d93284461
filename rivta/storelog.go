package rivta

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

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
	max := a.Service.MaxBatch
	if max == 0 {
		max = accesslog.DefaultMaxBatch
	}
	drafts, err := d.storeLog(nsStoreLog2, nsLog2, max)
	if err == nil {
		err = finish(d)
	}
	if err != nil {
		if vakt.ErrorCode(err) == vakt.CodeTooLarge {
			writeStoreLogResult(w, nsStoreLog2, nsLog2, resultValidationError, err.Error())
			return
		}
		a.requestFault(w, r, err)
		return
	}
	rep, err := a.Service.Append(r.Context(), drafts, d.problems...)
	if err != nil {
		code, text, ok := resultOf(err)
		if !ok {
			a.serverFault(w, r, err)
			return
		}
		writeStoreLogResult(w, nsStoreLog2, nsLog2, code, text)
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
	writeStoreLogResult(w, nsStoreLog2, nsLog2, resultOK, text)
}

// storeLog reads the StoreLog element's children: log elements in the responder namespace,
// whose content is in the core namespace.
func (d *decoder) storeLog(responderNS, coreNS string, maxEntries int) ([]accesslog.Draft, error) {
	var drafts []accesslog.Draft
	var s seq
	for {
		name, ok, err := d.child("")
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		i := -1
		if name.local == "log" {
			i = 0
		}
		d.index = len(drafts)
		readIt, err := d.member(&s, responderNS, name, i, true, "")
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
		if err := d.logEntry(coreNS, &drafts[len(drafts)-1]); err != nil {
			return nil, err
		}
	}
	d.index = -1
	if len(drafts) == 0 {
		d.problem("log", "at least one log element is required")
	}
	return drafts, nil
}

// resultOf maps a service error to a result code and text; ok is false for errors that are
// not the caller's doing (they become a Server fault).
func resultOf(err error) (code, text string, ok bool) {
	var ve *vakt.Error
	if !errors.As(err, &ve) {
		return "", "", false
	}
	switch ve.Code {
	case vakt.CodeInvalid:
		return resultValidationError, problemsText(ve), true
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
func problemsText(ve *vakt.Error) string {
	const shown = 20
	var b strings.Builder
	b.WriteString(ve.Message)
	for i, p := range ve.Problems {
		if i == shown {
			fmt.Fprintf(&b, "; and %d more", len(ve.Problems)-shown)
			break
		}
		b.WriteString("; ")
		if p.Index >= 0 {
			b.WriteString("log[" + strconv.Itoa(p.Index+1) + "]")
			if p.Field != "" {
				b.WriteString("/")
			}
		}
		b.WriteString(xmlPath(p.Field))
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

// writeStoreLogResult writes a StoreLogResponse: the result element is the responder's, its
// children are the core schema's.
func writeStoreLogResult(w http.ResponseWriter, responderNS, coreNS, code, text string) {
	var b bytes.Buffer
	b.WriteString(`<StoreLogResponse xmlns="` + responderNS + `" xmlns:core="` + coreNS + `"><result><core:resultCode>`)
	b.WriteString(code)
	b.WriteString(`</core:resultCode>`)
	if text != "" {
		b.WriteString(`<core:resultText>`)
		escapeText(&b, text)
		b.WriteString(`</core:resultText>`)
	}
	b.WriteString(`</result></StoreLogResponse>`)
	writeResponse(w, b.Bytes())
}
