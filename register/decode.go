package register

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
)

// Limits of imported records.
const (
	MaxTextLen     = 256 // names, street, city, reason, role
	MaxCaseIDLen   = 64
	MaxAssignments = 1000
	MaxRoles       = 100
	// MaxProblems is the most problems one import reports; decoding stops after it, since a
	// file that broken is better fixed at its source than read to the end.
	MaxProblems = 100
)

// Record is a validated register record in the form drivers store: its Key (unique within its
// register), the personnummer it is about (12 digits; "" for units) so that drivers can index
// it, and the record itself as a JSON document. Drivers treat Doc as opaque.
type Record struct {
	Key    string
	Person string
	Doc    []byte
}

// Decoder reads an import of one register from a JSON array of records or NDJSON (one record per
// line), validating each record as it goes, so that an import of millions of records is never
// held in memory. See Next.
type Decoder struct {
	kind     Kind
	r        *bufio.Reader
	dec      *json.Decoder
	now      time.Time
	array    bool
	started  bool
	index    int
	problems []vakt.Problem
	seen     map[string]int
	err      error
}

// NewDecoder returns a Decoder of records of kind from r. now is the date 10-digit personnummer
// take their century from.
func NewDecoder(r io.Reader, kind Kind, now time.Time) *Decoder {
	return &Decoder{kind: kind, r: bufio.NewReader(r), now: now, seen: map[string]int{}}
}

// Next returns the next valid record. At the end it returns io.EOF if every record was valid,
// and otherwise a CodeInvalid *vakt.Error whose problems name each broken record by its index
// (from 0, in file order) and field path (e.g. index 3, "units[0].from", "is not a date
// (YYYY-MM-DD)"); no problem ever quotes a value. Malformed JSON ends decoding at once with a
// problem naming the record and byte offset. A caller that stores records as they come must
// discard them all when Next returns anything but io.EOF: an import is all or nothing.
func (d *Decoder) Next() (Record, error) {
	if d.err != nil {
		return Record{}, d.err
	}
	if !d.started {
		d.started = true
		if err := d.start(); err != nil {
			return Record{}, d.fail(*err)
		}
	}
	for {
		if len(d.problems) >= MaxProblems {
			return Record{}, d.finish()
		}
		more, err := d.more()
		if err != nil {
			return Record{}, d.fail(*err)
		}
		if !more {
			return Record{}, d.finish()
		}
		i := d.index
		d.index++
		var raw draft
		if err := d.dec.Decode(&raw); err != nil {
			var se *json.SyntaxError
			if errors.As(err, &se) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF) {
				return Record{}, d.fail(syntaxProblem(i, d.dec.InputOffset()))
			}
			d.problems = append(d.problems, jsonProblem(i, err))
			continue
		}
		rec, _, probs := validate(d.kind, i, &raw, d.now)
		if len(probs) > 0 {
			d.problems = append(d.problems, probs...)
			continue
		}
		if first, dup := d.seen[rec.Key]; dup {
			d.problems = append(d.problems, vakt.Problem{Index: i, Field: keyField[d.kind],
				Reason: fmt.Sprintf("repeats the key of record %d", first)})
			continue
		}
		d.seen[rec.Key] = i
		if len(d.problems) > 0 {
			continue // the import fails anyway; only look for more problems
		}
		return rec, nil
	}
}

// Count returns how many records Next has read so far, valid or not.
func (d *Decoder) Count() int { return d.index }

func (d *Decoder) fail(p vakt.Problem) error {
	d.problems = append(d.problems, p)
	return d.finish()
}

func (d *Decoder) finish() error {
	if len(d.problems) == 0 {
		d.err = io.EOF
	} else {
		msg := fmt.Sprintf("the %s import has invalid records; nothing was imported", d.kind)
		if len(d.problems) >= MaxProblems {
			msg += fmt.Sprintf(" (stopped after %d problems)", MaxProblems)
		}
		d.err = vakt.Invalid(msg, d.problems...)
	}
	return d.err
}

// start detects the framing from the first non-space byte: '[' is an array, anything else
// NDJSON (a single object is NDJSON of one line).
func (d *Decoder) start() *vakt.Problem {
	b, err := peekNonSpace(d.r)
	if err != nil && err != io.EOF {
		return &vakt.Problem{Index: -1, Field: "", Reason: "could not be read"}
	}
	d.dec = json.NewDecoder(d.r)
	d.dec.DisallowUnknownFields()
	if b == '[' {
		d.array = true
		if _, err := d.dec.Token(); err != nil {
			return &vakt.Problem{Index: -1, Field: "", Reason: "is not valid JSON"}
		}
	}
	return nil
}

// more reports whether another record follows, consuming the array's end.
func (d *Decoder) more() (bool, *vakt.Problem) {
	if d.array {
		if d.dec.More() {
			return true, nil
		}
		tok, err := d.dec.Token()
		if err != nil || tok != json.Delim(']') {
			p := syntaxProblem(d.index, d.dec.InputOffset())
			return false, &p
		}
		if _, err := d.dec.Token(); err != io.EOF {
			return false, &vakt.Problem{Index: -1, Field: "", Reason: "has data after the array"}
		}
		return false, nil
	}
	if _, err := peekNonSpace(bufio.NewReader(d.dec.Buffered())); err == nil {
		return true, nil
	}
	_, err := peekNonSpace(d.r)
	return err == nil, nil
}

func peekNonSpace(r *bufio.Reader) (byte, error) {
	for {
		b, err := r.ReadByte()
		if err != nil {
			return 0, err
		}
		if b != ' ' && b != '\t' && b != '\n' && b != '\r' {
			return b, r.UnreadByte()
		}
	}
}

func syntaxProblem(i int, offset int64) vakt.Problem {
	return vakt.Problem{Index: i, Field: "", Reason: fmt.Sprintf("is not valid JSON (near byte %d); nothing after it was read", offset)}
}

// jsonProblem describes a record that is valid JSON but not of the register's shape, without
// quoting any of its values.
func jsonProblem(i int, err error) vakt.Problem {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return vakt.Problem{Index: i, Field: jsonPath(te.Field), Reason: "has the wrong JSON type (want " + jsonType(te.Type.Kind().String()) + ")"}
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		name = strings.Trim(name, `"`)
		if !safeName(name) {
			name = ""
		}
		return vakt.Problem{Index: i, Field: name, Reason: "is not a field of this register"}
	}
	return vakt.Problem{Index: i, Field: "", Reason: "is not a record of this register (want a JSON object)"}
}

func jsonType(goKind string) string {
	switch goKind {
	case "string":
		return "a string"
	case "bool":
		return "true or false"
	case "slice":
		return "an array"
	case "struct", "ptr", "map":
		return "an object"
	}
	return goKind
}

// jsonPath turns encoding/json's dotted path ("units.0.from") into ours ("units[0].from").
func jsonPath(p string) string {
	if !safeName(strings.ReplaceAll(p, ".", "")) {
		return ""
	}
	parts := strings.Split(p, ".")
	var b strings.Builder
	for _, s := range parts {
		if s != "" && s[0] >= '0' && s[0] <= '9' {
			b.WriteString("[" + s + "]")
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s)
	}
	return b.String()
}

// safeName reports whether s may be echoed as a field name: short letters and digits only,
// which no personnummer (all digits) or free text can pass for.
func safeName(s string) bool {
	if s == "" || len(s) > 40 {
		return false
	}
	letters := false
	for _, c := range s {
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z':
			letters = true
		case '0' <= c && c <= '9':
		default:
			return false
		}
	}
	return letters
}

// keyField names the field that is a register's key.
var keyField = map[Kind]string{KindStaff: "hsaId", KindPersons: "personId", KindWatchlist: "personId", KindCases: "caseId", KindUnits: "careUnitId"}

// draft is any register's record as it arrives: every field a string so that validation can
// name what is wrong; which fields a register allows is checked in validate.
type draft struct {
	HSAID             string            `json:"hsaId,omitempty"`
	PersonID          string            `json:"personId,omitempty"`
	GivenName         string            `json:"givenName,omitempty"`
	FamilyName        string            `json:"familyName,omitempty"`
	Address           *Address          `json:"address,omitempty"`
	CareProviderID    string            `json:"careProviderId,omitempty"`
	Units             []json.RawMessage `json:"units,omitempty"`
	Roles             []string          `json:"roles,omitempty"`
	ProtectedIdentity bool              `json:"protectedIdentity,omitempty"`
	DeceasedDate      string            `json:"deceasedDate,omitempty"`
	Reason            string            `json:"reason,omitempty"`
	Until             string            `json:"until,omitempty"`
	CaseID            string            `json:"caseId,omitempty"`
	PatientID         string            `json:"patientId,omitempty"`
	HandlerHSAID      string            `json:"handlerHsaId,omitempty"`
	Status            string            `json:"status,omitempty"`
	ClosedAt          string            `json:"closedAt,omitempty"`
	CareUnitID        string            `json:"careUnitId,omitempty"`
	WorkingHours      *draftWorkHour    `json:"workingHours,omitempty"`

	// units are Units already decoded, when a stored document is read (parseStored): Units
	// then has as many elements, all nil. Never encoded.
	units []draftUnit
}

type draftUnit struct {
	CareUnitID string `json:"careUnitId"`
	From       string `json:"from"`
	To         string `json:"to,omitempty"`
}

type draftWorkHour struct {
	Mon     string `json:"mon,omitempty"`
	Tue     string `json:"tue,omitempty"`
	Wed     string `json:"wed,omitempty"`
	Thu     string `json:"thu,omitempty"`
	Fri     string `json:"fri,omitempty"`
	Sat     string `json:"sat,omitempty"`
	Sun     string `json:"sun,omitempty"`
	Holiday string `json:"holiday,omitempty"`
}

// fieldNames are the draft's fields by JSON name, in the order of fieldSet's bits.
var fieldNames = [...]string{"hsaId", "personId", "givenName", "familyName", "address", "careProviderId", "units", "roles",
	"protectedIdentity", "deceasedDate", "reason", "until", "caseId", "patientId", "handlerHsaId", "status", "closedAt",
	"careUnitId", "workingHours"}

// fieldSet is a set of the draft's fields, bit i standing for fieldNames[i]: a set rather than
// a list of names, since every stored document read back is checked against it.
type fieldSet uint32

// allowed lists the fields each register's records may carry.
var allowed = map[Kind]fieldSet{
	KindStaff:     set("hsaId", "personId", "givenName", "familyName", "address", "careProviderId", "units", "roles"),
	KindPersons:   set("personId", "givenName", "familyName", "address", "protectedIdentity", "deceasedDate"),
	KindWatchlist: set("personId", "reason", "until"),
	KindCases:     set("caseId", "patientId", "handlerHsaId", "status", "closedAt"),
	KindUnits:     set("careUnitId", "workingHours"),
}

func set(names ...string) fieldSet {
	var s fieldSet
	for _, n := range names {
		i := slices.Index(fieldNames[:], n)
		if i < 0 {
			panic("register: no field " + n)
		}
		s |= 1 << i
	}
	return s
}

// present returns the fields of r that are set.
func (r *draft) present() fieldSet {
	var s fieldSet
	for i, set := range [len(fieldNames)]bool{
		r.HSAID != "", r.PersonID != "", r.GivenName != "", r.FamilyName != "", r.Address != nil,
		r.CareProviderID != "", r.Units != nil, r.Roles != nil, r.ProtectedIdentity, r.DeceasedDate != "",
		r.Reason != "", r.Until != "", r.CaseID != "", r.PatientID != "", r.HandlerHSAID != "",
		r.Status != "", r.ClosedAt != "", r.CareUnitID != "", r.WorkingHours != nil,
	} {
		if set {
			s |= 1 << i
		}
	}
	return s
}

// checker collects the problems of one record.
type checker struct {
	index int
	probs []vakt.Problem
	now   time.Time
}

func (c *checker) add(field, reason string) {
	c.probs = append(c.probs, vakt.Problem{Index: c.index, Field: field, Reason: reason})
}

func (c *checker) person(field, s string, required bool) ident.PersonID {
	if s == "" {
		if required {
			c.add(field, "is required")
		}
		return ident.PersonID{}
	}
	p, err := ident.ParsePersonID(s, c.now)
	if err != nil {
		c.add(field, "is not a valid personnummer or samordningsnummer")
		return ident.PersonID{}
	}
	return p
}

func (c *checker) hsa(field, s string, required bool) ident.HSAID {
	if s == "" {
		if required {
			c.add(field, "is required")
		}
		return ""
	}
	h, err := ident.ParseHSAID(s)
	if err != nil || string(h) != s {
		c.add(field, "is not a valid HSA-id")
		return ""
	}
	return h
}

func (c *checker) text(field, s string, required bool, max int) string {
	switch {
	case s == "":
		if required {
			c.add(field, "is required")
		}
	case !utf8.ValidString(s):
		c.add(field, "is not valid UTF-8")
	case utf8.RuneCountInString(s) > max:
		c.add(field, fmt.Sprintf("is longer than %d characters", max))
	case strings.ContainsFunc(s, unicode.IsControl):
		c.add(field, "contains control characters")
	case strings.TrimSpace(s) != s:
		c.add(field, "has leading or trailing space")
	}
	return s
}

func (c *checker) date(field, s string, required bool) Date {
	if s == "" {
		if required {
			c.add(field, "is required")
		}
		return Date{}
	}
	d, err := ParseDate(s)
	if err != nil {
		c.add(field, "is not a date (YYYY-MM-DD)")
	}
	return d
}

func (c *checker) address(a *Address) *Address {
	if a == nil {
		return nil
	}
	c.text("address.street", a.Street, true, MaxTextLen)
	c.text("address.postalCode", a.PostalCode, false, 16)
	c.text("address.city", a.City, false, MaxTextLen)
	return a
}

// validate checks a record of kind and returns it in storage form and as its typed value
// (*Staff, *Person, *WatchEntry, *Case or *Unit).
func validate(kind Kind, index int, r *draft, now time.Time) (Record, any, []vakt.Problem) {
	rec, val, probs := check(kind, index, r, now)
	if len(probs) > 0 {
		return Record{}, nil, probs
	}
	b, err := json.Marshal(r)
	if err != nil {
		return Record{}, nil, []vakt.Problem{{Index: index, Field: "", Reason: "cannot be encoded"}}
	}
	rec.Doc = b
	return rec, val, nil
}

// check is validate without the storage form's document: what reading a stored document needs.
// It normalises r (personnummer in their 12-digit form, units re-encoded) for validate to encode.
func check(kind Kind, index int, r *draft, now time.Time) (Record, any, []vakt.Problem) {
	c := &checker{index: index, now: now}
	if extra := r.present() &^ allowed[kind]; extra != 0 {
		for i, name := range fieldNames {
			if extra&(1<<i) != 0 {
				c.add(name, "is not a field of this register")
			}
		}
	}
	var rec Record
	var val any
	switch kind {
	case KindStaff:
		s := Staff{
			HSAID:        c.hsa("hsaId", r.HSAID, true),
			PersonID:     c.person("personId", r.PersonID, true),
			GivenName:    c.text("givenName", r.GivenName, false, MaxTextLen),
			FamilyName:   c.text("familyName", r.FamilyName, true, MaxTextLen),
			Address:      c.address(r.Address),
			CareProvider: c.hsa("careProviderId", r.CareProviderID, true),
		}
		if len(r.Units) > MaxAssignments {
			c.add("units", fmt.Sprintf("has more than %d entries", MaxAssignments))
		}
		for i, raw := range r.Units {
			p := fmt.Sprintf("units[%d].", i)
			var u draftUnit
			if r.units != nil {
				u = r.units[i]
			} else {
				dec := json.NewDecoder(bytes.NewReader(raw))
				dec.DisallowUnknownFields()
				if err := dec.Decode(&u); err != nil {
					jp := jsonProblem(index, err)
					c.add(strings.TrimSuffix(p+jp.Field, "."), jp.Reason)
					continue
				}
			}
			a := Assignment{CareUnit: c.hsa(p+"careUnitId", u.CareUnitID, true), From: c.date(p+"from", u.From, true), To: c.date(p+"to", u.To, false)}
			if !a.From.IsZero() && !a.To.IsZero() && a.To.Before(a.From) {
				c.add(p+"to", "is before from")
			}
			s.Units = append(s.Units, a)
			if r.units == nil {
				r.Units[i], _ = json.Marshal(u)
			}
		}
		if len(r.Roles) > MaxRoles {
			c.add("roles", fmt.Sprintf("has more than %d entries", MaxRoles))
		}
		for i, role := range r.Roles {
			s.Roles = append(s.Roles, c.text(fmt.Sprintf("roles[%d]", i), role, true, MaxTextLen))
		}
		r.PersonID = s.PersonID.Extension()
		rec.Key, rec.Person, val = string(s.HSAID), s.PersonID.Extension(), &s
	case KindPersons:
		p := Person{
			PersonID:          c.person("personId", r.PersonID, true),
			GivenName:         c.text("givenName", r.GivenName, false, MaxTextLen),
			FamilyName:        c.text("familyName", r.FamilyName, false, MaxTextLen),
			Address:           c.address(r.Address),
			DeceasedDate:      c.date("deceasedDate", r.DeceasedDate, false),
			ProtectedIdentity: r.ProtectedIdentity,
		}
		ext := p.PersonID.Extension()
		r.PersonID = ext
		rec.Key, rec.Person, val = ext, ext, &p
	case KindWatchlist:
		w := WatchEntry{PersonID: c.person("personId", r.PersonID, true), Reason: c.text("reason", r.Reason, true, MaxTextLen), Until: c.date("until", r.Until, false)}
		r.PersonID = w.PersonID.Extension()
		rec.Key, rec.Person, val = w.PersonID.Extension(), w.PersonID.Extension(), &w
	case KindCases:
		k := Case{ID: c.text("caseId", r.CaseID, true, MaxCaseIDLen), Patient: c.person("patientId", r.PatientID, true),
			Handler: c.hsa("handlerHsaId", r.HandlerHSAID, false), Status: CaseStatus(r.Status)}
		switch k.Status {
		case CaseOpen:
			if r.ClosedAt != "" {
				c.add("closedAt", "must be absent while the case is open")
			}
		case CaseClosed:
			if r.ClosedAt == "" {
				c.add("closedAt", "is required when the case is closed")
			} else if t, err := time.Parse(time.RFC3339, r.ClosedAt); err != nil {
				c.add("closedAt", "is not a date-time with zone (RFC 3339)")
			} else {
				k.ClosedAt = t.UTC()
			}
		case "":
			c.add("status", "is required")
		default:
			c.add("status", "must be open or closed")
		}
		r.PatientID = k.Patient.Extension()
		rec.Key, rec.Person, val = k.ID, k.Patient.Extension(), &k
	case KindUnits:
		u := Unit{CareUnit: c.hsa("careUnitId", r.CareUnitID, true)}
		if r.WorkingHours == nil {
			c.add("workingHours", "is required")
		} else {
			w := r.WorkingHours
			days := [8]string{w.Sun, w.Mon, w.Tue, w.Wed, w.Thu, w.Fri, w.Sat, w.Holiday}
			for i, s := range days {
				sp, err := ParseSpan(s)
				if err != nil {
					name := "holiday"
					if i < 7 {
						name = dayKeys[i]
					}
					c.add("workingHours."+name, "is not HH:MM-HH:MM within one day")
				}
				if i < 7 {
					u.Hours.Days[i] = sp
				} else {
					u.Hours.Holiday = sp
				}
			}
		}
		rec.Key, val = string(u.CareUnit), &u
	default:
		c.add("", "unknown register")
	}
	if len(c.probs) > 0 {
		sortProblems(c.probs)
		return Record{}, nil, c.probs
	}
	return rec, val, nil
}

// sortProblems orders one record's problems by field, so that answers do not depend on map order.
func sortProblems(ps []vakt.Problem) {
	for i := 1; i < len(ps); i++ {
		for j := i; j > 0 && ps[j].Field < ps[j-1].Field; j-- {
			ps[j], ps[j-1] = ps[j-1], ps[j]
		}
	}
}

// parseDoc reads a stored document back; stored documents were validated on import, so a
// failure means the storage was altered behind vakt's back. The document is checked by the same
// rules as an import (see parseStored).
func parseDoc(kind Kind, doc []byte) (any, error) {
	return parseStored(kind, doc, time.Now())
}
