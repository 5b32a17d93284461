package accesslog

import (
	"bytes"
	"errors"
	"io"
	"strconv"
	"sync"

	"github.com/go-json-experiment/json/jsontext"

	"github.com/vakt/vakt"
)

// Framing says how a request body holds its entries.
type Framing int

// Framings of a batch of entries.
const (
	FramingArray  Framing = iota // one JSON array of entry objects (application/json)
	FramingNDJSON                // one entry object per line (application/x-ndjson)
)

// DecodeDrafts reads a batch of entries from r. JSON field names are the RIV-TA element names;
// an identifier of type IIType (patientId, personId) may be an object {"root","extension"} or a
// bare string whose kind is inferred. JSON null counts as absent.
//
// Every structural problem (unknown field, wrong JSON type) is collected with its entry index
// and path, and decoding goes on; DecodeDrafts then returns the drafts together with a
// CodeInvalid error listing those problems, so that Service.Append can add the validation
// problems of the same batch. Malformed JSON ends decoding with a problem naming the entry and
// byte offset, and no drafts. More than maxEntries entries is a CodeTooLarge error. The
// returned error is a *vakt.Error whenever it is the caller's fault.
func DecodeDrafts(r io.Reader, framing Framing, maxEntries int) ([]Draft, error) {
	return decodeDrafts(r, framing, maxEntries, false)
}

// DecodeStored parses one entry as served by search and export, including the fields the
// service added (seq, receivedAt), which are returned alongside.
// It takes a decoder from the pool as ingest does: a log control decodes every entry of a
// month, and a fresh tokenizer and intern table per entry doubled the cost of reading one
// (BenchmarkStoredEntry: 43 allocations and 3.4 kB per entry before, 12 and 650 B after).
func DecodeStored(data []byte) (Draft, int64, string, error) {
	pd := decoders.Get().(*pooledDecoder)
	pd.dec.Reset(bytes.NewReader(data), jsontext.AllowDuplicateNames(true))
	defer func() {
		pd.dec.Reset(bytes.NewReader(nil))
		decoders.Put(pd)
	}()
	dec := pd.dec
	j := jdec{d: dec, stored: true, pd: pd}
	var d Draft
	if err := j.entry(&d); err != nil {
		return Draft{}, 0, "", err
	}
	if _, err := dec.ReadToken(); err != io.EOF {
		j.problem("", "unexpected data after the entry")
	}
	if len(j.problems) > 0 {
		return Draft{}, 0, "", vakt.Invalid("stored entry does not parse", j.problems...)
	}
	return d, j.seq, j.receivedAt, nil
}

// pooledDecoder is reused across requests: the tokenizer keeps its read buffer (which grows to
// a batch), and the intern table keeps the strings that repeat from entry to entry — member
// names, HSA-ids, unit and user names, activity types — so that decoding them allocates nothing.
type pooledDecoder struct {
	dec     *jsontext.Decoder
	strs    map[string]string
	scratch []byte
}

// maxInterned bounds an intern table; beyond it strings are simply allocated.
const maxInterned = 1 << 14

var decoders = sync.Pool{New: func() any {
	return &pooledDecoder{dec: jsontext.NewDecoder(bytes.NewReader(nil)), strs: make(map[string]string)}
}}

func decodeDrafts(r io.Reader, framing Framing, maxEntries int, stored bool) ([]Draft, error) {
	pd := decoders.Get().(*pooledDecoder)
	// Duplicate member names are detected by the walker itself (jdec.object), more cheaply.
	pd.dec.Reset(r, jsontext.AllowDuplicateNames(true))
	defer func() {
		pd.dec.Reset(bytes.NewReader(nil)) // drop the reference to r
		decoders.Put(pd)
	}()
	dec := pd.dec
	j := jdec{d: dec, stored: stored, pd: pd}
	var drafts []Draft
	if framing == FramingArray {
		tok, err := dec.ReadToken()
		if err != nil {
			return nil, j.syntax(err, "")
		}
		if tok.Kind() != '[' {
			return nil, vakt.Invalid("request body must be a JSON array of log entries",
				vakt.Problem{Index: -1, Field: "", Reason: "must be a JSON array"})
		}
	}
	for {
		j.index = len(drafts) // the entry about to be read, also for errors before its first token
		if framing == FramingArray {
			if dec.PeekKind() == ']' {
				if _, err := dec.ReadToken(); err != nil {
					return nil, j.syntax(err, "")
				}
				if _, err := dec.ReadToken(); err != io.EOF {
					return nil, vakt.Invalid("request body has data after the array",
						vakt.Problem{Index: -1, Field: "", Reason: "unexpected data after the JSON array"})
				}
				break
			}
		} else if dec.PeekKind() == 0 {
			// Either the clean end of the stream or a syntax error; ReadToken tells which.
			_, err := dec.ReadToken()
			if err == io.EOF {
				break
			}
			return nil, j.syntax(err, "")
		}
		if len(drafts) == maxEntries {
			return nil, vakt.Errorf(vakt.CodeTooLarge, "a request may hold at most %d entries", maxEntries)
		}
		drafts = append(drafts, Draft{})
		if err := j.entry(&drafts[len(drafts)-1]); err != nil {
			return nil, err
		}
	}
	if len(drafts) == 0 {
		return nil, vakt.Invalid("request holds no log entries",
			vakt.Problem{Index: -1, Field: "", Reason: "must hold at least one entry"})
	}
	if len(j.problems) > 0 {
		// The drafts come back too (fields with a structural problem left empty), so that
		// validation can add its own problems and one answer lists them all.
		return drafts, vakt.Invalid("request has invalid entries; nothing was stored", j.problems...)
	}
	return drafts, nil
}

// jdec walks the tokens of one entry. Paths are only built when a problem is recorded, so the
// common case allocates nothing but the strings it keeps.
type jdec struct {
	d          *jsontext.Decoder
	pd         *pooledDecoder
	index      int
	stored     bool // accept the service fields seq and receivedAt
	problems   []vakt.Problem
	seq        int64
	receivedAt string
}

func (j *jdec) problem(path, reason string) {
	j.problems = append(j.problems, vakt.Problem{Index: j.index, Field: path, Reason: reason})
}

// syntax turns a tokenizer error into a caller's error. The tokenizer's own text may quote
// input, so only the entry index and byte offset are kept.
func (j *jdec) syntax(err error, path string) error {
	// Truncation first: the tokenizer wraps io.ErrUnexpectedEOF in a SyntacticError, and "ends
	// too early" tells a producer more than an offset does.
	if errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
		return vakt.Invalid("request body ends in the middle of a JSON value; nothing was stored",
			append(j.problems, vakt.Problem{Index: j.index, Field: path, Reason: "ends too early"})...)
	}
	var se *jsontext.SyntacticError
	if errors.As(err, &se) {
		reason := "is not valid JSON (at byte offset " + strconv.FormatInt(se.ByteOffset, 10) + ")"
		return vakt.Invalid("request body is not valid JSON; nothing was stored",
			append(j.problems, vakt.Problem{Index: j.index, Field: path, Reason: reason})...)
	}
	return err // an I/O error from the body reader (client gone, size limit)
}

func join(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "." + name
}

// safeName keeps an unknown field's name in a problem only when it cannot be personal data.
func safeName(name string) string {
	if len(name) == 0 || len(name) > 40 {
		return "?"
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_') {
			return "?"
		}
	}
	return name
}

// object reads a JSON object, calling field for each member. A JSON null is an absent object.
// It returns present=false for null or a wrong type (the latter recorded as a problem).
func (j *jdec) object(path string, field func(name string) error) (present bool, err error) {
	switch j.d.PeekKind() {
	case '{':
	case 'n':
		_, err := j.d.ReadToken()
		return false, j.wrap(err, path)
	case 0:
		_, err := j.d.ReadToken()
		return false, j.syntax(err, path)
	default:
		j.problem(path, "must be a JSON object")
		return false, j.wrap(j.d.SkipValue(), path)
	}
	if _, err := j.d.ReadToken(); err != nil {
		return false, j.syntax(err, path)
	}
	var seenArr [8]string
	seen := seenArr[:0]
	for {
		switch j.d.PeekKind() {
		case '}':
			_, err := j.d.ReadToken()
			return true, j.wrap(err, path)
		case 0:
			_, err := j.d.ReadToken()
			return true, j.syntax(err, path)
		}
		raw, err := j.d.ReadValue()
		if err != nil {
			return true, j.syntax(err, path)
		}
		name, ok := memberName(raw)
		if !ok {
			if name, err = j.text(raw, false); err != nil {
				return true, j.syntax(err, path)
			}
		}
		// Objects of a log entry have at most seven members, so a linear check is cheapest.
		dup := false
		for _, n := range seen {
			if n == name {
				dup = true
				break
			}
		}
		if dup {
			j.problem(join(path, safeName(name)), "is given twice")
			if err := j.d.SkipValue(); err != nil {
				return true, j.syntax(err, path)
			}
			continue
		}
		seen = append(seen, name)
		if err := field(name); err != nil {
			return true, err
		}
	}
}

// text returns the string a raw JSON string denotes, interned if asked: from the intern table
// when it is there, so that repeated values allocate nothing.
func (j *jdec) text(raw jsontext.Value, intern bool) (string, error) {
	b := []byte(raw)
	if len(b) < 2 || b[0] != '"' {
		return "", errNotString
	}
	if bytes.IndexByte(b, '\\') < 0 {
		b = b[1 : len(b)-1]
	} else {
		var err error
		if j.pd.scratch, err = jsontext.AppendUnquote(j.pd.scratch[:0], raw); err != nil {
			return "", err
		}
		b = j.pd.scratch
	}
	if !intern {
		return string(b), nil
	}
	if s, ok := j.pd.strs[string(b)]; ok {
		return s, nil
	}
	s := string(b)
	if len(j.pd.strs) < maxInterned {
		j.pd.strs[s] = s
	}
	return s, nil
}

var errNotString = errors.New("not a JSON string")

// memberName returns the member name a raw JSON string denotes if it is one of the entry's, as
// a constant: names are most of an entry's strings, and a switch finds them faster than the
// intern table and without allocating. Names with escapes are left to text.
func memberName(raw jsontext.Value) (string, bool) {
	switch string(raw) {
	case `"activity"`:
		return "activity", true
	case `"activityArgs"`:
		return "activityArgs", true
	case `"activityLevel"`:
		return "activityLevel", true
	case `"activityType"`:
		return "activityType", true
	case `"assignment"`:
		return "assignment", true
	case `"careProvider"`:
		return "careProvider", true
	case `"careProviderId"`:
		return "careProviderId", true
	case `"careProviderName"`:
		return "careProviderName", true
	case `"careUnit"`:
		return "careUnit", true
	case `"careUnitId"`:
		return "careUnitId", true
	case `"careUnitName"`:
		return "careUnitName", true
	case `"extension"`:
		return "extension", true
	case `"logId"`:
		return "logId", true
	case `"name"`:
		return "name", true
	case `"patient"`:
		return "patient", true
	case `"patientId"`:
		return "patientId", true
	case `"patientName"`:
		return "patientName", true
	case `"personId"`:
		return "personId", true
	case `"purpose"`:
		return "purpose", true
	case `"receivedAt"`:
		return "receivedAt", true
	case `"resourceType"`:
		return "resourceType", true
	case `"resources"`:
		return "resources", true
	case `"root"`:
		return "root", true
	case `"seq"`:
		return "seq", true
	case `"startDate"`:
		return "startDate", true
	case `"system"`:
		return "system", true
	case `"systemId"`:
		return "systemId", true
	case `"systemName"`:
		return "systemName", true
	case `"title"`:
		return "title", true
	case `"user"`:
		return "user", true
	case `"userId"`:
		return "userId", true
	}
	return "", false
}

func (j *jdec) wrap(err error, path string) error {
	if err == nil {
		return nil
	}
	return j.syntax(err, path)
}

// unknown records an unknown member and skips its value.
func (j *jdec) unknown(parent, name string) error {
	j.problem(join(parent, safeName(name)), "is not a field of the RIV-TA log entry")
	return j.wrap(j.d.SkipValue(), parent)
}

// str reads a string member into *dst. JSON null leaves it empty. The member's path is
// parent.leaf; it is only put together when a problem needs it.
func (j *jdec) str(parent, leaf string, dst *string) error {
	switch j.d.PeekKind() {
	case '"':
		raw, err := j.d.ReadValue()
		if err != nil {
			return j.syntax(err, join(parent, leaf))
		}
		// Values unique to an entry would only crowd the intern table.
		intern := !uniqueValued(leaf)
		if *dst, err = j.text(raw, intern); err != nil {
			return j.syntax(err, join(parent, leaf))
		}
		return nil
	case 'n':
		_, err := j.d.ReadToken()
		return j.wrap(err, parent)
	case 0:
		_, err := j.d.ReadToken()
		return j.syntax(err, join(parent, leaf))
	}
	j.problem(join(parent, leaf), "must be a JSON string")
	return j.wrap(j.d.SkipValue(), parent)
}

// uniqueValued reports whether a member's values differ from entry to entry.
func uniqueValued(member string) bool {
	switch member {
	case "logId", "startDate", "extension", "patientName", "activityArgs", "receivedAt":
		return true
	}
	return false
}

func (j *jdec) entry(d *Draft) error {
	n := len(j.problems)
	present, err := j.object("", func(name string) error {
		switch name {
		case "logId":
			return j.str("", "logId", &d.LogID)
		case "system":
			_, err := j.object("system", func(name string) error {
				switch name {
				case "systemId":
					return j.str("system", "systemId", &d.System.SystemID)
				case "systemName":
					return j.str("system", "systemName", &d.System.SystemName)
				}
				return j.unknown("system", name)
			})
			return err
		case "activity":
			_, err := j.object("activity", func(name string) error {
				a := &d.Activity
				switch name {
				case "activityType":
					return j.str("activity", "activityType", &a.ActivityType)
				case "activityLevel":
					return j.str("activity", "activityLevel", &a.ActivityLevel)
				case "activityArgs":
					return j.str("activity", "activityArgs", &a.ActivityArgs)
				case "startDate":
					return j.str("activity", "startDate", &a.StartDate)
				case "purpose":
					return j.str("activity", "purpose", &a.Purpose)
				}
				return j.unknown("activity", name)
			})
			return err
		case "user":
			return j.user(&d.User)
		case "resources":
			return j.resources(&d.Resources)
		case "seq":
			if j.stored {
				return j.number("", "seq", &j.seq)
			}
		case "receivedAt":
			if j.stored {
				return j.str("", "receivedAt", &j.receivedAt)
			}
		}
		return j.unknown("", name)
	})
	if err == nil && !present && len(j.problems) == n { // null; object reported other types
		j.problem("", "must be a JSON object")
	}
	return err
}

func (j *jdec) number(parent, leaf string, dst *int64) error {
	path := join(parent, leaf)
	if j.d.PeekKind() != '0' {
		j.problem(path, "must be a number")
		return j.wrap(j.d.SkipValue(), path)
	}
	tok, err := j.d.ReadToken()
	if err != nil {
		return j.syntax(err, path)
	}
	n, perr := strconv.ParseInt(tok.String(), 10, 64)
	if perr != nil {
		j.problem(path, "must be an integer")
	}
	*dst = n
	return nil
}

func (j *jdec) user(u *DraftUser) error {
	_, err := j.object("user", func(name string) error {
		switch name {
		case "userId":
			return j.str("user", "userId", &u.UserID)
		case "name":
			return j.str("user", "name", &u.Name)
		case "personId":
			var ii DraftII
			present, err := j.ii("user.personId", &ii)
			if present {
				u.PersonID = &ii
			}
			return err
		case "assignment":
			return j.str("user", "assignment", &u.Assignment)
		case "title":
			return j.str("user", "title", &u.Title)
		case "careProvider":
			return j.careProvider("user.careProvider", &u.CareProvider)
		case "careUnit":
			_, err := j.careUnit("user.careUnit", &u.CareUnit)
			return err
		}
		return j.unknown("user", name)
	})
	return err
}

func (j *jdec) careProvider(path string, cp *DraftCareProvider) error {
	_, err := j.object(path, func(name string) error {
		switch name {
		case "careProviderId":
			return j.str(path, "careProviderId", &cp.CareProviderID)
		case "careProviderName":
			return j.str(path, "careProviderName", &cp.CareProviderName)
		}
		return j.unknown(path, name)
	})
	return err
}

func (j *jdec) careUnit(path string, cu *DraftCareUnit) (bool, error) {
	return j.object(path, func(name string) error {
		switch name {
		case "careUnitId":
			return j.str(path, "careUnitId", &cu.CareUnitID)
		case "careUnitName":
			return j.str(path, "careUnitName", &cu.CareUnitName)
		}
		return j.unknown(path, name)
	})
}

// resourcePaths are the problem paths of one resource, made once for the common indexes so that
// decoding a resource builds no strings.
type resourcePaths struct{ base, patient, careProvider, careUnit string }

var commonResourcePaths = func() []resourcePaths {
	out := make([]resourcePaths, 16)
	for i := range out {
		out[i] = makeResourcePaths(i)
	}
	return out
}()

func makeResourcePaths(i int) resourcePaths {
	base := "resources[" + strconv.Itoa(i) + "]"
	return resourcePaths{base: base, patient: base + ".patient", careProvider: base + ".careProvider", careUnit: base + ".careUnit"}
}

func resourcePathsOf(i int) resourcePaths {
	if i < len(commonResourcePaths) {
		return commonResourcePaths[i]
	}
	return makeResourcePaths(i)
}

// ii reads an IIType: an object {"root","extension"} or a bare string.
func (j *jdec) ii(path string, dst *DraftII) (bool, error) {
	if j.d.PeekKind() == '"' {
		raw, err := j.d.ReadValue()
		if err != nil {
			return false, j.syntax(err, path)
		}
		ext, err := j.text(raw, false)
		if err != nil {
			return false, j.syntax(err, path)
		}
		*dst = DraftII{Extension: ext, Plain: true}
		return true, nil
	}
	return j.object(path, func(name string) error {
		switch name {
		case "root":
			return j.str(path, "root", &dst.Root)
		case "extension":
			return j.str(path, "extension", &dst.Extension)
		}
		return j.unknown(path, name)
	})
}

func (j *jdec) resources(dst *[]DraftResource) error {
	switch j.d.PeekKind() {
	case '[':
	case 'n':
		_, err := j.d.ReadToken()
		return j.wrap(err, "resources")
	case 0:
		_, err := j.d.ReadToken()
		return j.syntax(err, "resources")
	default:
		j.problem("resources", "must be a JSON array")
		return j.wrap(j.d.SkipValue(), "resources")
	}
	if _, err := j.d.ReadToken(); err != nil {
		return j.syntax(err, "resources")
	}
	for i := 0; ; i++ {
		switch j.d.PeekKind() {
		case ']':
			_, err := j.d.ReadToken()
			return j.wrap(err, "resources")
		case 0:
			_, err := j.d.ReadToken()
			return j.syntax(err, "resources")
		}
		if i == MaxResources {
			j.problem("resources", "has more than 1000 resources")
			for j.d.PeekKind() != ']' && j.d.PeekKind() != 0 {
				if err := j.d.SkipValue(); err != nil {
					return j.syntax(err, "resources")
				}
			}
			continue
		}
		rp := resourcePathsOf(i)
		path := rp.base
		*dst = append(*dst, DraftResource{})
		r := &(*dst)[len(*dst)-1]
		n := len(j.problems)
		present, err := j.object(path, func(name string) error {
			switch name {
			case "resourceType":
				return j.str(path, "resourceType", &r.ResourceType)
			case "patient":
				var p DraftPatient
				pp := rp.patient
				present, err := j.object(pp, func(name string) error {
					switch name {
					case "patientId":
						present, err := j.ii(pp+".patientId", &p.PatientID)
						if err == nil && !present {
							p.PatientID = DraftII{Plain: true} // reported as required by Validate
						}
						return err
					case "patientName":
						return j.str(pp, "patientName", &p.PatientName)
					}
					return j.unknown(pp, name)
				})
				if present {
					if p.PatientID == (DraftII{}) {
						p.PatientID.Plain = true // missing patientId: Validate reports "is required"
					}
					r.Patient = &p
				}
				return err
			case "careProvider":
				return j.careProvider(rp.careProvider, &r.CareProvider)
			case "careUnit":
				var cu DraftCareUnit
				present, err := j.careUnit(rp.careUnit, &cu)
				if present {
					r.CareUnit = &cu
				}
				return err
			}
			return j.unknown(path, name)
		})
		if err != nil {
			return err
		}
		if !present && len(j.problems) == n { // null; object reported other types
			j.problem(path, "must be a JSON object")
		}
	}
}
