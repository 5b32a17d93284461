// Package rivta serves the RIV-TA SOAP contracts of the national log service (RIVTABP21:
// SOAP 1.1, document/literal), so that an EHR system's existing integration can point at
// vakt and change nothing else. Each contract has its own endpoint path; GET with ?wsdl
// returns its WSDL and the official schemas (embedded, unchanged but for schema locations).
//
// The package translates SOAP to calls of accesslog.Service and back, like package rest does
// for JSON: the same credentials, tenants, validation, atomicity and idempotency.
package rivta

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/auth"
	"github.com/vakt/vakt/rest"
)

// Namespaces.
const (
	nsEnvelope   = "http://schemas.xmlsoap.org/soap/envelope/"
	nsEnvelope12 = "http://www.w3.org/2003/05/soap-envelope"
	nsRegistry   = "urn:riv:itintegration:registry:1"
	nsLog2       = "urn:riv:informationsecurity:auditing:log:2"
	nsStoreLog2  = "urn:riv:informationsecurity:auditing:log:StoreLogResponder:2"
	nsLog1       = "urn:riv:ehr:log:1"
	nsLogStore1  = "urn:riv:ehr:log:store:1"
	nsStoreLog1  = "urn:riv:ehr:log:store:StoreLogResponder:1"
)

// DefaultMaxBodyBytes bounds a SOAP request: 10,000 entries of about 2 KB of XML each, with room.
const DefaultMaxBodyBytes = 64 << 20

// API serves the RIV-TA endpoints.
type API struct {
	Service      *accesslog.Service
	Auth         *auth.Authenticator
	Logger       *slog.Logger
	MaxBodyBytes int64
	// OnAppend, if set, is told about every successful StoreLog (for metrics).
	OnAppend func(tenantID string, accepted, duplicates int)
	// MaxQueryResult is the most entries a query answers with; beyond it the answer is
	// MAX_QUERY_RESULT_EXCEEDED (0: DefaultMaxQueryResult).
	MaxQueryResult int
	// ReportWait is how long a query call waits for its result before the query goes on in
	// the background as a report (0: DefaultReportWait; negative: never wait).
	ReportWait time.Duration

	reports reportBook
}

// contract is one service contract's endpoint.
type contract struct {
	path      string // endpoint path
	operation xname  // the body's element
	action    string // SOAPAction
	wsdl      string // path of the WSDL in the embedded schemas
	serve     func(a *API, w http.ResponseWriter, r *http.Request, d *decoder, env *envelope)
}

var contracts = []*contract{
	{
		path:      "/rivta/informationsecurity/auditing/log/StoreLog/2/rivtabp21",
		operation: xname{nsStoreLog2, "StoreLog"},
		action:    "urn:riv:informationsecurity:auditing:log:StoreLogResponder:2:StoreLog",
		wsdl:      "schemas/informationsecurity-auditing-log/schemas/interactions/StoreLogInteraction/StoreLogInteraction_2.0_RIVTABP21.wsdl",
		serve:     (*API).storeLog2,
	},
	{
		path:      "/rivta/ehr/log/store/StoreLog/1/rivtabp21",
		operation: xname{nsStoreLog1, "StoreLogRequest"},
		action:    "urn:riv:ehr:log:store:StoreLogResponder:1:StoreLog",
		wsdl:      "schemas/ehr-log-store-1.0/schemas/interactions/StoreLogInteraction/StoreLogInteraction_1.0_RIVTABP21.wsdl",
		serve:     (*API).storeLog1,
	},
	{
		path:      "/rivta/ehr/log/querying/GetAccessLogsForPatient/1/rivtabp21",
		operation: xname{nsGetAccessLogs1, "GetAccessLogsForPatientRequest"},
		action:    "urn:riv:ehr:log:querying:GetAccessLogsForPatientResponder:1:GetAccessLogsForPatient",
		wsdl:      "schemas/ehr-log-querying-1.0/interactions/querying/GetAccessLogsForPatientInteraction/GetAccessLogsForPatientInteraction_1.0_RIVTABP21.wsdl",
		serve:     (*API).getAccessLogsForPatient1,
	},
	{
		path:      "/rivta/informationsecurity/auditing/log/GetLogs/2/rivtabp21",
		operation: xname{nsGetLogs2, "GetLogs"},
		action:    nsGetLogs2 + ":GetLogs",
		wsdl:      "schemas/informationsecurity-auditing-log/reconstructed/GetLogsInteraction_2.0_RIVTABP21.wsdl",
		serve:     (*API).getLogs2,
	},
	{
		path:      "/rivta/informationsecurity/auditing/log/GetAccessLogsForPatient/2/rivtabp21",
		operation: xname{nsGetAccessLogs2, "GetAccessLogsForPatient"},
		action:    nsGetAccessLogs2 + ":GetAccessLogsForPatient",
		wsdl:      "schemas/informationsecurity-auditing-log/reconstructed/GetAccessLogsForPatientInteraction_2.0_RIVTABP21.wsdl",
		serve:     (*API).getAccessLogsForPatient2,
	},
}

// Register adds every contract's endpoint to mux.
func (a *API) Register(mux *http.ServeMux) {
	for _, c := range contracts {
		mux.Handle("POST "+c.path, a.soapHandler(c))
		mux.HandleFunc("GET "+c.path, func(w http.ResponseWriter, r *http.Request) { serveWSDL(w, r, c) })
	}
}

func (a *API) logger() *slog.Logger {
	if a.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return a.Logger
}

// envelope is what the handler learns from the envelope before the operation's body.
type envelope struct {
	logicalAddress string
}

// soapHandler authenticates, reads the envelope up to the operation element, and hands the
// rest of the body to the contract.
func (a *API) soapHandler(c *contract) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "text/xml") {
			writeFault(w, http.StatusUnsupportedMediaType, "Client", "SOAP 1.1 requests must be sent as text/xml")
			return
		}
		if act := strings.Trim(r.Header.Get("SOAPAction"), `"`); act != "" && act != c.action {
			writeFault(w, http.StatusInternalServerError, "Client", "SOAPAction "+clip([]byte(act))+" is not the action of this endpoint ("+c.action+")")
			return
		}
		token, ok := rest.Bearer(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vakt"`)
			writeFault(w, http.StatusUnauthorized, "Client", "an Authorization: Bearer token is required")
			return
		}
		p, err := a.Auth.Authenticate(r.Context(), token)
		if err != nil {
			if vakt.ErrorCode(err) == vakt.CodeUnauthorized {
				w.Header().Set("WWW-Authenticate", `Bearer realm="vakt", error="invalid_token"`)
				writeFault(w, http.StatusUnauthorized, "Client", "the bearer token is not valid")
				return
			}
			a.serverFault(w, r, err)
			return
		}
		rest.NotePrincipal(r.Context(), p.ID, p.TenantID)
		r = r.WithContext(vakt.WithPrincipal(r.Context(), p))

		max := a.MaxBodyBytes
		if max == 0 {
			max = DefaultMaxBodyBytes
		}
		x := newXMLReader(bufio.NewReaderSize(http.MaxBytesReader(w, r.Body, max), 64<<10))
		d := newDecoder(x)
		env, op, err := readEnvelope(d)
		if err != nil {
			a.requestFault(w, r, err)
			return
		}
		if env.logicalAddress != "" {
			rest.NoteLogicalAddress(r.Context(), env.logicalAddress)
		}
		if op != c.operation {
			writeFault(w, http.StatusInternalServerError, "Client", "the body holds "+clip([]byte(op.String()))+", but this endpoint serves "+c.operation.String())
			return
		}
		c.serve(a, w, r, d, &env)
	})
}

// faultError is a request the envelope rules reject, with its SOAP fault code.
type faultError struct {
	code, message string
}

func (e *faultError) Error() string { return e.message }

// readEnvelope reads a SOAP 1.1 envelope up to and including the start tag of the body's
// element, and returns that element's name.
func readEnvelope(d *decoder) (envelope, xname, error) {
	var env envelope
	name, ok, err := d.child()
	if err != nil {
		return env, xname{}, err
	}
	if !ok || name.local != "Envelope" {
		return env, xname{}, &faultError{"Client", "the root element must be a SOAP Envelope"}
	}
	switch name.space {
	case nsEnvelope:
	case nsEnvelope12:
		return env, xname{}, &faultError{"VersionMismatch", "SOAP 1.2 is not served here; RIVTABP21 is SOAP 1.1"}
	default:
		return env, xname{}, &faultError{"VersionMismatch", "the Envelope is not in the SOAP 1.1 namespace"}
	}
	for {
		name, ok, err := d.child()
		if err != nil {
			return env, xname{}, err
		}
		if !ok {
			return env, xname{}, &faultError{"Client", "the Envelope has no Body"}
		}
		switch {
		case name == xname{nsEnvelope, "Header"}:
			if err := readHeader(d, &env); err != nil {
				return env, xname{}, err
			}
		case name == xname{nsEnvelope, "Body"}:
			op, ok, err := d.child()
			if err != nil {
				return env, xname{}, err
			}
			if !ok {
				return env, xname{}, &faultError{"Client", "the Body is empty"}
			}
			return env, op, nil
		default:
			return env, xname{}, &faultError{"Client", "unexpected element in the Envelope"}
		}
	}
}

// readHeader records the LogicalAddress and refuses header blocks that must be understood.
func readHeader(d *decoder, env *envelope) error {
	for {
		tok, err := d.x.next()
		if err != nil {
			return err
		}
		switch tok.kind {
		case tokEnd:
			return nil
		case tokText:
			continue
		case tokEOF:
			return malformed("unexpected end of input")
		}
		if tok.name == (xname{nsRegistry, "LogicalAddress"}) {
			if env.logicalAddress, err = d.text(); err != nil {
				return err
			}
			if len(env.logicalAddress) > 64 || !printableASCII(env.logicalAddress) {
				env.logicalAddress = ""
			}
			continue
		}
		for _, at := range tok.attrs {
			if at.name == (xname{nsEnvelope, "mustUnderstand"}) && strings.TrimSpace(at.value) == "1" {
				return &faultError{"MustUnderstand", "header " + clip([]byte(tok.name.String())) + " must be understood, and is not"}
			}
		}
		if err := d.skip(); err != nil {
			return err
		}
	}
}

func printableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// finish reads the rest of the envelope after the operation's element: nothing but the ends of
// Body and Envelope.
func finish(d *decoder) error {
	for _, what := range []string{"Body", "Envelope"} {
		if _, ok, err := d.child(); err != nil {
			return err
		} else if ok {
			return &faultError{"Client", "the " + what + " holds more than one element"}
		}
	}
	tok, err := d.x.next()
	if err != nil {
		return err
	}
	if tok.kind != tokEOF {
		return malformed("content after the Envelope")
	}
	return nil
}

// requestFault answers a request that could not be read.
func (a *API) requestFault(w http.ResponseWriter, r *http.Request, err error) {
	var fe *faultError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &fe):
		writeFault(w, http.StatusInternalServerError, fe.code, fe.message)
	case errors.Is(err, errMalformed):
		writeFault(w, http.StatusInternalServerError, "Client", err.Error())
	case errors.As(err, &mbe):
		writeFault(w, http.StatusRequestEntityTooLarge, "Client", "the request is larger than the limit of this service")
	case errors.Is(err, context.Canceled):
		// the client went away
	default:
		a.serverFault(w, r, err)
	}
}

// serverFault answers with a Server fault, logging the cause without sending it.
func (a *API) serverFault(w http.ResponseWriter, r *http.Request, err error) {
	if vakt.ErrorCode(err) == vakt.CodeUnavailable {
		writeFault(w, http.StatusServiceUnavailable, "Server", "the service is temporarily unavailable; retry later")
		return
	}
	a.logger().ErrorContext(r.Context(), "SOAP request failed", "route", r.Pattern, "err", err)
	writeFault(w, http.StatusInternalServerError, "Server", "internal error")
}

// writeFault writes a SOAP 1.1 fault. Fault codes are qualified by the envelope namespace.
func writeFault(w http.ResponseWriter, status int, code, message string) {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<soap:Envelope xmlns:soap="` + nsEnvelope + `"><soap:Body><soap:Fault><faultcode>soap:`)
	b.WriteString(code)
	b.WriteString(`</faultcode><faultstring xml:lang="en">`)
	escapeText(&b, message)
	b.WriteString(`</faultstring></soap:Fault></soap:Body></soap:Envelope>`)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// writeResponse writes a SOAP envelope around body, which holds the response element.
func writeResponse(w http.ResponseWriter, body []byte) {
	var b bytes.Buffer
	b.Grow(len(body) + 200)
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<soap:Envelope xmlns:soap="` + nsEnvelope + `"><soap:Body>`)
	b.Write(body)
	b.WriteString(`</soap:Body></soap:Envelope>`)
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	w.Write(b.Bytes())
}

// writeElement writes <name>value</name>, value escaped; name carries its prefix.
func writeElement(b *bytes.Buffer, name, value string) {
	b.WriteString("<" + name + ">")
	escapeText(b, value)
	b.WriteString("</" + name + ">")
}

// writeResult2 writes the resultCode and, if any, resultText of a log:2 ResultType, with the
// core namespace bound to prefix core.
func writeResult2(b *bytes.Buffer, code, text string) {
	writeElement(b, "core:resultCode", code)
	if text != "" {
		writeElement(b, "core:resultText", text)
	}
}

// escapeText writes s as XML character data (never inside an attribute value).
func escapeText(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch r {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\r':
			b.WriteString("&#xD;")
		default:
			if isXMLChar(r) {
				b.WriteRune(r)
			} else {
				b.WriteRune('\uFFFD')
			}
		}
	}
}
