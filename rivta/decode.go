package rivta

import (
	"strconv"
	"strings"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/accesslog"
)

// decoder walks the elements of a SOAP body against the contract's schema. Structure that the
// schema forbids (an element out of order, repeated, unknown, or in no namespace) becomes a
// Problem, as validation failures do, so that one answer lists everything; input that is not
// well-formed XML ends decoding with an error.
type decoder struct {
	x        *xmlReader
	dialect  *dialect // of the log entries being read
	problems []vakt.Problem
	index    int               // the entry being decoded, for problems
	values   map[string]string // interned short values: most repeat from entry to entry
	// path is where the decoder is, in field names of the log:2 form ("user", "careUnit") and
	// indexes ("[0]"); it becomes a string only when a problem is recorded.
	path []string
}

func newDecoder(x *xmlReader) *decoder {
	return &decoder{x: x, index: -1, values: map[string]string{}, path: make([]string, 0, 8)}
}

// maxProblems bounds the problems one request collects; a broken producer sends the same
// mistake in every entry.
const maxProblems = 1000

// problem records a problem at the current path, extended by extra if it is not empty.
func (d *decoder) problem(extra, reason string) {
	if len(d.problems) >= maxProblems {
		return
	}
	var b strings.Builder
	for _, seg := range d.path {
		if b.Len() > 0 && seg[0] != '[' {
			b.WriteByte('.')
		}
		b.WriteString(seg)
	}
	if extra != "" {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(extra)
	}
	d.problems = append(d.problems, vakt.Problem{Index: d.index, Field: b.String(), Reason: reason})
}

func (d *decoder) push(seg string) { d.path = append(d.path, seg) }
func (d *decoder) pop()            { d.path = d.path[:len(d.path)-1] }

// indexSegs are the path segments of the first resources.
var indexSegs = func() []string {
	s := make([]string, 64)
	for i := range s {
		s[i] = "[" + strconv.Itoa(i) + "]"
	}
	return s
}()

func indexSeg(i int) string {
	if i < len(indexSegs) {
		return indexSegs[i]
	}
	return "[" + strconv.Itoa(i) + "]"
}

// child returns the next child element of the current element, or ok=false once the current
// element has ended. Text between child elements must be whitespace.
func (d *decoder) child() (name xname, ok bool, err error) {
	complained := false
	for {
		tok, err := d.x.next()
		if err != nil {
			return xname{}, false, err
		}
		switch tok.kind {
		case tokStart:
			return tok.name, true, nil
		case tokEnd:
			return xname{}, false, nil
		case tokText:
			if !complained && !isSpace(tok.text) {
				d.problem("", "holds text where only elements are allowed")
				complained = true
			}
		default:
			return xname{}, false, malformed("unexpected end of input")
		}
	}
}

// text reads the character data of the element just started, up to its end tag.
func (d *decoder) text() (string, error) {
	var s string
	for {
		tok, err := d.x.next()
		if err != nil {
			return "", err
		}
		switch tok.kind {
		case tokText:
			s = d.value(tok.text)
		case tokStart:
			d.problem("", "must hold text, not elements")
			if err := d.skip(); err != nil {
				return "", err
			}
		case tokEnd:
			return s, nil
		default:
			return "", malformed("unexpected end of input")
		}
	}
}

func (d *decoder) value(b []byte) string {
	if len(b) > 48 {
		return string(b)
	}
	if s, ok := d.values[string(b)]; ok {
		return s
	}
	s := string(b)
	if len(d.values) < 4096 {
		d.values[s] = s
	}
	return s
}

// skip reads past the end of the element just started.
func (d *decoder) skip() error {
	for depth := 1; depth > 0; {
		tok, err := d.x.next()
		if err != nil {
			return err
		}
		switch tok.kind {
		case tokStart:
			depth++
		case tokEnd:
			depth--
		case tokEOF:
			return malformed("unexpected end of input")
		}
	}
	return nil
}

// seq tracks a schema sequence: the position reached and the elements seen.
type seq struct {
	pos  int
	seen uint32
}

// member is called for each child element of a sequence in namespace ns with the element's
// position in the sequence (-1: not a member). It reports whether the element should be read;
// when not, the element has been skipped, or recorded as a problem and skipped.
func (d *decoder) member(s *seq, ns string, name xname, i int, repeatable bool) (bool, error) {
	switch {
	case name.space != ns && name.space != "" && (d.dialect == nil || !d.dialect.strict):
		// xs:any namespace="##other" processContents="lax": extensions are allowed and ignored.
		return false, d.skip()
	case name.space != ns && name.space != "":
		d.problem(clip([]byte(name.local)), "is not allowed: this contract's schema has no extension points")
	case name.space == "":
		d.problem(clip([]byte(name.local)), "must be in namespace "+ns)
	case i < 0:
		d.problem(clip([]byte(name.local)), "is not an element of this type")
	case i < s.pos:
		d.problem(name.local, "is out of the schema's order")
	case s.seen&(1<<i) != 0 && !repeatable:
		d.problem(name.local, "appears more than once")
	default:
		s.pos = i
		s.seen |= 1 << i
		return true, nil
	}
	return false, d.skip()
}

// position returns the index of local in names, or -1.
func position(names []string, local string) int {
	for i, n := range names {
		if n == local {
			return i
		}
	}
	return -1
}

// elements reads the children of a complex type in namespace ns whose sequence is names,
// calling read for each member in order with fields[i] (its log:2 name) on the path; with
// fields nil the path is left to read.
func (d *decoder) elements(ns string, names, fields []string, repeatable bool, read func(i int) error) error {
	var s seq
	for {
		name, ok, err := d.child()
		if err != nil || !ok {
			return err
		}
		i := position(names, name.local)
		readIt, err := d.member(&s, ns, name, i, repeatable)
		if err != nil {
			return err
		}
		if !readIt {
			continue
		}
		if fields != nil {
			d.push(fields[i])
		}
		err = read(i)
		if fields != nil {
			d.pop()
		}
		if err != nil {
			return err
		}
	}
}

// dialect is one contract version's form of a log entry. informationsecurity:auditing:log:2
// names elements in lower camel case, has extension points (xs:any ##other) in every type and
// identifies persons with an IIType (root, extension); ehr:log:1 capitalises the same names,
// has no extension points, and carries a person as a plain 12-digit string.
type dialect struct {
	core                                                                                  string // namespace of the entry's content
	strict                                                                                bool   // no extension points
	plainIDs                                                                              bool   // personId and patientId are plain strings
	log, system, activity, user, ii, careProvider, careUnit, resources, resource, patient []string
}

// Sequences of the log:2 core schema (informationsecurity_auditing_log_2.0.xsd), in the
// schema's order.
var dialectV2 = &dialect{
	core:         nsLog2,
	log:          []string{"logId", "system", "activity", "user", "resources"},
	system:       []string{"systemId", "systemName"},
	activity:     []string{"activityType", "activityLevel", "activityArgs", "startDate", "purpose"},
	user:         []string{"userId", "name", "personId", "assignment", "title", "careProvider", "careUnit"},
	ii:           []string{"root", "extension"},
	careProvider: []string{"careProviderId", "careProviderName"},
	careUnit:     []string{"careUnitId", "careUnitName"},
	resources:    []string{"resource"},
	resource:     []string{"resourceType", "patient", "careProvider", "careUnit"},
	patient:      []string{"patientId", "patientName"},
}

// dialectV1 is ehr_log_1.0.xsd: the same sequences, capitalised.
var dialectV1 = func() *dialect {
	up := func(names []string) []string {
		out := make([]string, len(names))
		for i, n := range names {
			out[i] = strings.ToUpper(n[:1]) + n[1:]
		}
		return out
	}
	v := *dialectV2
	v.core, v.strict, v.plainIDs = nsLog1, true, true
	v.log, v.system, v.activity, v.user = up(v.log), up(v.system), up(v.activity), up(v.user)
	v.careProvider, v.careUnit, v.resources, v.resource, v.patient = up(v.careProvider), up(v.careUnit), up(v.resources), up(v.resource), up(v.patient)
	v.ii = nil
	return &v
}()

// logEntry reads a LogType element (its start tag already read) into dr. Problem paths use
// the field names of the log:2 form whatever the dialect, as validation does.
func (d *decoder) logEntry(dr *accesslog.Draft) error {
	dl, v2 := d.dialect, dialectV2
	ns := dl.core
	return d.elements(ns, dl.log, v2.log, false, func(i int) (err error) {
		switch i {
		case 0:
			dr.LogID, err = d.text()
		case 1:
			err = d.strings(dl.system, v2.system, &dr.System.SystemID, &dr.System.SystemName)
		case 2:
			a := &dr.Activity
			err = d.strings(dl.activity, v2.activity, &a.ActivityType, &a.ActivityLevel, &a.ActivityArgs, &a.StartDate, &a.Purpose)
			// xs:dateTime collapses whitespace.
			a.StartDate = strings.TrimSpace(a.StartDate)
		case 3:
			err = d.user(&dr.User)
		case 4:
			err = d.elements(ns, dl.resources, nil, true, func(int) error {
				dr.Resources = append(dr.Resources, accesslog.DraftResource{})
				d.push(indexSeg(len(dr.Resources) - 1))
				err := d.resource(&dr.Resources[len(dr.Resources)-1])
				d.pop()
				return err
			})
		}
		return err
	})
}

// strings reads a sequence of simple elements into dst, in the sequence's order.
func (d *decoder) strings(names, fields []string, dst ...*string) error {
	return d.elements(d.dialect.core, names, fields, false, func(i int) (err error) {
		*dst[i], err = d.text()
		return err
	})
}

// ii reads a person identifier: an IIType, or in the plain dialect the number alone.
func (d *decoder) ii() (accesslog.DraftII, error) {
	if d.dialect.plainIDs {
		s, err := d.text()
		return accesslog.DraftII{Extension: strings.TrimSpace(s), Plain: true}, err
	}
	var id accesslog.DraftII
	err := d.strings(d.dialect.ii, dialectV2.ii, &id.Root, &id.Extension)
	return id, err
}

func (d *decoder) user(u *accesslog.DraftUser) error {
	dl, v2 := d.dialect, dialectV2
	return d.elements(dl.core, dl.user, v2.user, false, func(i int) (err error) {
		switch i {
		case 0:
			u.UserID, err = d.text()
		case 1:
			u.Name, err = d.text()
		case 2:
			var id accesslog.DraftII
			id, err = d.ii()
			u.PersonID = &id
		case 3:
			u.Assignment, err = d.text()
		case 4:
			u.Title, err = d.text()
		case 5:
			err = d.strings(dl.careProvider, v2.careProvider, &u.CareProvider.CareProviderID, &u.CareProvider.CareProviderName)
		case 6:
			err = d.strings(dl.careUnit, v2.careUnit, &u.CareUnit.CareUnitID, &u.CareUnit.CareUnitName)
		}
		return err
	})
}

func (d *decoder) resource(r *accesslog.DraftResource) error {
	dl, v2 := d.dialect, dialectV2
	return d.elements(dl.core, dl.resource, v2.resource, false, func(i int) (err error) {
		switch i {
		case 0:
			r.ResourceType, err = d.text()
		case 1:
			r.Patient = &accesslog.DraftPatient{}
			err = d.elements(dl.core, dl.patient, v2.patient, false, func(i int) error {
				var err error
				if i == 0 {
					r.Patient.PatientID, err = d.ii()
				} else {
					r.Patient.PatientName, err = d.text()
				}
				return err
			})
		case 2:
			err = d.strings(dl.careProvider, v2.careProvider, &r.CareProvider.CareProviderID, &r.CareProvider.CareProviderName)
		case 3:
			r.CareUnit = &accesslog.DraftCareUnit{}
			err = d.strings(dl.careUnit, v2.careUnit, &r.CareUnit.CareUnitID, &r.CareUnit.CareUnitName)
		}
		return err
	})
}
