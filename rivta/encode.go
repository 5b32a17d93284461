package rivta

import (
	"bytes"
	"strings"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// AppendLog appends the content of a log:2 LogType element for e (its children, without the
// log element itself) with the core schema's elements under prefix (e.g. "core:"; "" when the
// core namespace is the default one), in the schema's order.
func AppendLog(b *bytes.Buffer, prefix string, e *accesslog.Entry) {
	appendLog(b, prefix, e, dialectV2)
}

// appendLog writes e in a dialect's form.
func appendLog(b *bytes.Buffer, prefix string, e *accesslog.Entry, dl *dialect) {
	name := func(n string) string {
		if dl == dialectV1 {
			return strings.ToUpper(n[:1]) + n[1:]
		}
		return n
	}
	el := func(n, value string) { writeElement(b, prefix+name(n), value) }
	opt := func(name, value string) {
		if value != "" {
			el(name, value)
		}
	}
	open := func(n string) { b.WriteString("<" + prefix + name(n) + ">") }
	end := func(n string) { b.WriteString("</" + prefix + name(n) + ">") }
	ii := func(n string, p ident.PersonID) {
		if dl.plainIDs {
			el(n, p.Extension())
			return
		}
		open(n)
		el("root", p.Root())
		el("extension", p.Extension())
		end(n)
	}
	careProvider := func(cp accesslog.CareProvider) {
		open("careProvider")
		el("careProviderId", string(cp.ID))
		opt("careProviderName", cp.Name)
		end("careProvider")
	}
	careUnit := func(cu accesslog.CareUnit) {
		open("careUnit")
		el("careUnitId", string(cu.ID))
		opt("careUnitName", cu.Name)
		end("careUnit")
	}
	el("logId", e.LogID)
	open("system")
	el("systemId", string(e.System.ID))
	opt("systemName", e.System.Name)
	end("system")
	open("activity")
	el("activityType", string(e.Activity.Type))
	opt("activityLevel", e.Activity.Level)
	opt("activityArgs", e.Activity.Args)
	el("startDate", e.Activity.StartDate.UTC().Format(time.RFC3339Nano))
	el("purpose", string(e.Activity.Purpose))
	end("activity")
	u := &e.User
	open("user")
	el("userId", string(u.ID))
	opt("name", u.Name)
	if !u.PersonID.IsZero() {
		ii("personId", u.PersonID)
	}
	opt("assignment", u.Assignment)
	opt("title", u.Title)
	careProvider(u.CareProvider)
	careUnit(u.CareUnit)
	end("user")
	open("resources")
	for i := range e.Resources {
		r := &e.Resources[i]
		open("resource")
		el("resourceType", r.Type)
		if !r.Patient.ID.IsZero() {
			open("patient")
			ii("patientId", r.Patient.ID)
			opt("patientName", r.Patient.Name)
			end("patient")
		}
		careProvider(r.CareProvider)
		if r.CareUnit.ID != "" {
			careUnit(r.CareUnit)
		}
		end("resource")
	}
	end("resources")
}

// StoreLogRequest returns a StoreLog 2 SOAP request for entries, as a producer would send it.
func StoreLogRequest(logicalAddress string, entries []accesslog.Entry) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<soapenv:Envelope xmlns:soapenv="` + nsEnvelope + `" xmlns:itr="` + nsRegistry +
		`" xmlns:sl="` + nsStoreLog2 + `" xmlns:core="` + nsLog2 + `"><soapenv:Header><itr:LogicalAddress>`)
	escapeText(&b, logicalAddress)
	b.WriteString(`</itr:LogicalAddress></soapenv:Header><soapenv:Body><sl:StoreLog>`)
	for i := range entries {
		b.WriteString("<sl:log>")
		AppendLog(&b, "core:", &entries[i])
		b.WriteString("</sl:log>")
	}
	b.WriteString(`</sl:StoreLog></soapenv:Body></soapenv:Envelope>`)
	return b.Bytes()
}

// StoreLog1Request returns a StoreLog 1 (ehr:log:store:1) SOAP request for entries.
func StoreLog1Request(logicalAddress string, entries []accesslog.Entry) []byte {
	var b bytes.Buffer
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>` + "\n")
	b.WriteString(`<soapenv:Envelope xmlns:soapenv="` + nsEnvelope + `" xmlns:itr="` + nsRegistry +
		`" xmlns:sl="` + nsStoreLog1 + `" xmlns:log="` + nsLog1 + `"><soapenv:Header><itr:LogicalAddress>`)
	escapeText(&b, logicalAddress)
	b.WriteString(`</itr:LogicalAddress></soapenv:Header><soapenv:Body><sl:StoreLogRequest>`)
	for i := range entries {
		b.WriteString("<sl:Log>")
		appendLog(&b, "log:", &entries[i], dialectV1)
		b.WriteString("</sl:Log>")
	}
	b.WriteString(`</sl:StoreLogRequest></soapenv:Body></soapenv:Envelope>`)
	return b.Bytes()
}

// StoreLog1Path is the endpoint path of StoreLog 1.
const StoreLog1Path = "/rivta/ehr/log/store/StoreLog/1/rivtabp21"

// StoreLog1Action is the SOAPAction of StoreLog 1.
const StoreLog1Action = "urn:riv:ehr:log:store:StoreLogResponder:1:StoreLog"

// StoreLogPath is the endpoint path of StoreLog 2.
const StoreLogPath = "/rivta/informationsecurity/auditing/log/StoreLog/2/rivtabp21"

// StoreLogAction is the SOAPAction of StoreLog 2.
const StoreLogAction = "urn:riv:informationsecurity:auditing:log:StoreLogResponder:2:StoreLog"
