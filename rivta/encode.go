package rivta

import (
	"bytes"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// AppendLog appends the content of a LogType element for e (its children, without the log
// element itself) with the core schema's elements under prefix (e.g. "core:"; "" when the
// core namespace is the default one), in the schema's order.
func AppendLog(b *bytes.Buffer, prefix string, e *accesslog.Entry) {
	el := func(name, value string) {
		b.WriteString("<" + prefix + name + ">")
		escapeText(b, value)
		b.WriteString("</" + prefix + name + ">")
	}
	opt := func(name, value string) {
		if value != "" {
			el(name, value)
		}
	}
	open := func(name string) { b.WriteString("<" + prefix + name + ">") }
	end := func(name string) { b.WriteString("</" + prefix + name + ">") }
	ii := func(name string, p ident.PersonID) {
		open(name)
		el("root", p.Root())
		el("extension", p.Extension())
		end(name)
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

// StoreLogPath is the endpoint path of StoreLog 2.
const StoreLogPath = "/rivta/informationsecurity/auditing/log/StoreLog/2/rivtabp21"

// StoreLogAction is the SOAPAction of StoreLog 2.
const StoreLogAction = "urn:riv:informationsecurity:auditing:log:StoreLogResponder:2:StoreLog"
