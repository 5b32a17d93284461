package rivta

import (
	"embed"
	"net/http"
	"path"
	"regexp"
	"strings"
)

// The official WSDLs and schemas, as published by Inera AB under the Apache License 2.0.
//
//go:embed schemas
var schemaFS embed.FS

// schemaLocation matches the schemaLocation attributes of imports and includes.
var schemaLocation = regexp.MustCompile(`schemaLocation=(?:'[^']*'|"[^"]*")`)

// soapAddress matches the soap:address of the WSDL's service port.
var soapAddress = regexp.MustCompile(`<soap:address location=(?:'[^']*'|"[^"]*")`)

// serveWSDL answers GET ?wsdl with the contract's WSDL and GET ?xsd=NAME with one of the
// schemas it imports, directly or indirectly. Schema locations are rewritten to ?xsd= links
// on this endpoint, and the service address to the endpoint itself, so that a client
// generator pointed at ?wsdl finds everything. Nothing else in the documents is changed.
func serveWSDL(w http.ResponseWriter, r *http.Request, c *contract) {
	q := r.URL.Query()
	var file string
	switch {
	case q.Has("wsdl"):
		file = c.wsdl
	case q.Get("xsd") != "":
		file = findSchema(c, q.Get("xsd"))
	}
	if file == "" {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte("this is a SOAP endpoint: POST requests to it, or GET ?wsdl for its description\n"))
		return
	}
	b, err := schemaFS.ReadFile(file)
	if err != nil {
		http.Error(w, "not found", http.StatusNotFound)
		return
	}
	b = schemaLocation.ReplaceAllFunc(b, func(m []byte) []byte {
		loc := strings.Trim(string(m[len("schemaLocation="):]), `'"`)
		return []byte(`schemaLocation="?xsd=` + path.Base(loc) + `"`)
	})
	if q.Has("wsdl") {
		scheme := "http"
		if r.TLS != nil {
			scheme = "https"
		}
		b = soapAddress.ReplaceAll(b, []byte(`<soap:address location="`+scheme+"://"+r.Host+c.path+`"`))
	}
	w.Header().Set("Content-Type", "text/xml; charset=utf-8")
	w.Write(b)
}

// findSchema returns the embedded path of the schema named name that the contract's WSDL
// refers to, directly or through other schemas, or "".
func findSchema(c *contract, name string) string {
	seen := map[string]bool{}
	var walk func(file string) string
	walk = func(file string) string {
		if seen[file] {
			return ""
		}
		seen[file] = true
		b, err := schemaFS.ReadFile(file)
		if err != nil {
			return ""
		}
		for _, m := range schemaLocation.FindAll(b, -1) {
			loc := strings.Trim(string(m[len("schemaLocation="):]), `'"`)
			target := path.Clean(path.Join(path.Dir(file), loc))
			if path.Base(target) == name {
				return target
			}
			if found := walk(target); found != "" {
				return found
			}
		}
		return ""
	}
	return walk(c.wsdl)
}
