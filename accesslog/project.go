package accesslog

import (
	"errors"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/vakt/vakt/ident"
)

// Projector reads Accesses straight out of stored entries' canonical JSON (see Prepare): one
// pass over the bytes, no tokenizer, no Draft, and no second validation. Stored entries were
// validated when they were stored and their JSON is canonical, written by this package, so the
// projector reads exactly that form (no whitespace, members in JCS order, strings escaped as JCS
// does) and reports anything else as an error rather than guessing. Identifiers that repeat from
// entry to entry (HSA-ids, activity types) are interned, so a month of entries allocates little
// more than the logIds.
//
// A Projector is not safe for concurrent use; take one per goroutine.
type Projector struct {
	strs    map[string]string
	scratch []byte
	ext     []byte
}

// maxProjectorStrings bounds a Projector's intern table; beyond it strings are allocated.
const maxProjectorStrings = 1 << 16

// NewProjector returns a Projector with an empty intern table.
func NewProjector() *Projector { return &Projector{strs: make(map[string]string)} }

var errProjection = errors.New("accesslog: stored entry is not in canonical form")

// Project fills a from the JSON of a stored entry as Store.Search serves it (Stored.JSON).
func (p *Projector) Project(doc []byte, a *Access) error {
	if len(doc) < 2 || doc[0] != '{' {
		return errProjection
	}
	*a = Access{Resources: a.Resources[:0]}
	_, err := p.members(doc, 1, a, p.topMember)
	return err
}

// ProjectHead fills the activity, logId and resources of a from an entry's head
// (Pending.Head, which stores may keep apart from the actor), leaving the rest of a alone.
func (p *Projector) ProjectHead(head []byte, a *Access) error {
	if len(head) < 2 || head[0] != '{' {
		return errProjection
	}
	a.Resources = a.Resources[:0]
	_, err := p.members(head, 1, a, p.topMember)
	return err
}

// ProjectActor fills the system and user of a from an entry's actor (Pending.Actor), leaving
// the rest of a alone.
func (p *Projector) ProjectActor(actor []byte, a *Access) error {
	if len(actor) < 2 || actor[0] != ',' {
		return errProjection
	}
	_, err := p.members(actor, 0, a, p.topMember)
	return err
}

// members walks the members of an object from b[i] (the first member, a ',' before one, or the
// closing '}') and calls fn with each member's name and the offset of its value; fn returns the
// offset after the value. It returns the offset after the closing '}', or len(b) when b ends
// first (a head ends without its object's '}').
func (p *Projector) members(b []byte, i int, a *Access, fn func(name []byte, b []byte, i int, a *Access) (int, error)) (int, error) {
	for i < len(b) {
		switch b[i] {
		case '}':
			return i + 1, nil
		case ',':
			i++
			continue
		case '"':
		default:
			return 0, errProjection
		}
		j := i + 1
		for j < len(b) && b[j] != '"' { // member names are plain ASCII without escapes
			j++
		}
		if j+1 >= len(b) || b[j+1] != ':' {
			return 0, errProjection
		}
		var err error
		if i, err = fn(b[i+1:j], b, j+2, a); err != nil {
			return 0, err
		}
	}
	return i, nil
}

func (p *Projector) topMember(name []byte, b []byte, i int, a *Access) (int, error) {
	var err error
	switch string(name) {
	case "activity":
		return p.members(b, i+1, a, p.activityMember)
	case "logId":
		var s []byte
		if s, i, err = p.str(b, i); err == nil {
			a.LogID = string(s)
		}
		return i, err
	case "resources":
		if i >= len(b) || b[i] != '[' {
			return 0, errProjection
		}
		i++
		for i < len(b) && b[i] != ']' {
			if b[i] == ',' {
				i++
				continue
			}
			if b[i] != '{' {
				return 0, errProjection
			}
			var r AccessResource
			if i, err = p.resource(b, i+1, &r); err != nil {
				return 0, err
			}
			if !r.Patient.IsZero() {
				a.Resources = append(a.Resources, r)
			}
		}
		return i + 1, nil
	case "seq":
		j := i
		for j < len(b) && b[j] >= '0' && b[j] <= '9' {
			j++
		}
		a.Seq, err = strconv.ParseInt(string(b[i:j]), 10, 64)
		return j, err
	case "system":
		return p.members(b, i+1, a, func(name []byte, b []byte, i int, a *Access) (int, error) {
			if string(name) != "systemId" {
				return p.skip(b, i)
			}
			s, i, err := p.str(b, i)
			a.SystemID = ident.HSAID(p.intern(s))
			return i, err
		})
	case "user":
		return p.members(b, i+1, a, p.userMember)
	}
	return p.skip(b, i)
}

func (p *Projector) activityMember(name []byte, b []byte, i int, a *Access) (int, error) {
	switch string(name) {
	case "activityType", "activityLevel", "startDate":
	default:
		return p.skip(b, i)
	}
	s, i, err := p.str(b, i)
	if err != nil {
		return 0, err
	}
	switch string(name) {
	case "activityType":
		a.ActivityType = ActivityType(p.intern(s))
	case "activityLevel":
		a.ActivityLevel = p.intern(s)
	default:
		a.StartDate, err = parseStartDate(s)
	}
	return i, err
}

func (p *Projector) userMember(name []byte, b []byte, i int, a *Access) (int, error) {
	switch string(name) {
	case "careProvider":
		return p.members(b, i+1, a, func(name []byte, b []byte, i int, a *Access) (int, error) {
			if string(name) != "careProviderId" {
				return p.skip(b, i)
			}
			s, i, err := p.str(b, i)
			a.CareProvider = ident.HSAID(p.intern(s))
			return i, err
		})
	case "careUnit":
		return p.members(b, i+1, a, func(name []byte, b []byte, i int, a *Access) (int, error) {
			if string(name) != "careUnitId" {
				return p.skip(b, i)
			}
			s, i, err := p.str(b, i)
			a.CareUnit = ident.HSAID(p.intern(s))
			return i, err
		})
	case "personId":
		var err error
		a.UserPersonID, i, err = p.ii(b, i)
		return i, err
	case "userId":
		s, i, err := p.str(b, i)
		a.UserID = ident.HSAID(p.intern(s))
		return i, err
	}
	return p.skip(b, i)
}

// resource reads one resource object from b[i] (after its '{').
func (p *Projector) resource(b []byte, i int, r *AccessResource) (int, error) {
	return p.members(b, i, nil, func(name []byte, b []byte, i int, _ *Access) (int, error) {
		switch string(name) {
		case "careUnit":
			return p.members(b, i+1, nil, func(name []byte, b []byte, i int, _ *Access) (int, error) {
				if string(name) != "careUnitId" {
					return p.skip(b, i)
				}
				s, i, err := p.str(b, i)
				r.CareUnit = ident.HSAID(p.intern(s))
				return i, err
			})
		case "patient":
			return p.members(b, i+1, nil, func(name []byte, b []byte, i int, _ *Access) (int, error) {
				if string(name) != "patientId" {
					return p.skip(b, i)
				}
				var err error
				r.Patient, i, err = p.ii(b, i)
				return i, err
			})
		}
		return p.skip(b, i)
	})
}

// ii reads an IIType object {"extension":…,"root":…} as stored (appendII).
func (p *Projector) ii(b []byte, i int) (ident.PersonID, int, error) {
	var ext, root []byte
	i, err := p.members(b, i+1, nil, func(name []byte, b []byte, i int, _ *Access) (int, error) {
		s, i, err := p.str(b, i)
		switch string(name) {
		case "extension":
			// s may live in the scratch buffer, which the root's unescaping would reuse.
			p.ext = append(p.ext[:0], s...)
			ext = p.ext
		case "root":
			root = s
		}
		return i, err
	})
	if err != nil {
		return ident.PersonID{}, 0, err
	}
	var id ident.PersonID
	switch r := p.intern(root); r {
	case ident.OIDPersonalIdentityNumber, ident.OIDCoordinationNumber:
		id, err = ident.ParsePersonID(string(ext), time.Time{})
		if err == nil && id.Root() != r {
			err = errProjection
		}
	default:
		// Reserve numbers: stored entries keep them readable (as Stored.Entry does).
		id, err = ident.NewPersonID(r, string(ext), time.Time{}, true)
	}
	if err != nil {
		return ident.PersonID{}, 0, errProjection
	}
	return id, i, nil
}

// str reads the string at b[i] and returns its unescaped bytes, which stay valid until the
// next call that unescapes.
func (p *Projector) str(b []byte, i int) ([]byte, int, error) {
	if i >= len(b) || b[i] != '"' {
		return nil, 0, errProjection
	}
	i++
	start := i
	for i < len(b) {
		switch b[i] {
		case '"':
			return b[start:i], i + 1, nil
		case '\\':
			return p.unescape(b, start)
		}
		i++
	}
	return nil, 0, errProjection
}

// unescape reads the string from b[start] (after its opening quote) that holds escapes.
func (p *Projector) unescape(b []byte, start int) ([]byte, int, error) {
	out := p.scratch[:0]
	i := start
	for i < len(b) {
		c := b[i]
		switch {
		case c == '"':
			p.scratch = out
			return out, i + 1, nil
		case c != '\\':
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(b) {
			return nil, 0, errProjection
		}
		switch b[i+1] {
		case '"', '\\', '/':
			out = append(out, b[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(b, i+2)
			if !ok {
				return nil, 0, errProjection
			}
			i += 6
			if utf16.IsSurrogate(r) {
				r2, ok := rune(0), false
				if i+1 < len(b) && b[i] == '\\' && b[i+1] == 'u' {
					r2, ok = hex4(b, i+2)
				}
				if d := utf16.DecodeRune(r, r2); ok && d != utf8.RuneError {
					r = d
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return nil, 0, errProjection
		}
		i += 2
	}
	return nil, 0, errProjection
}

func hex4(b []byte, i int) (rune, bool) {
	if i+4 > len(b) {
		return 0, false
	}
	var r rune
	for _, c := range b[i : i+4] {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		default:
			return 0, false
		}
	}
	return r, true
}

// skip returns the offset after the JSON value at b[i].
func (p *Projector) skip(b []byte, i int) (int, error) {
	if i >= len(b) {
		return 0, errProjection
	}
	switch b[i] {
	case '"':
		i++
		for i < len(b) {
			switch b[i] {
			case '\\':
				i += 2
				continue
			case '"':
				return i + 1, nil
			}
			i++
		}
		return 0, errProjection
	case '{', '[':
		depth := 0
		for i < len(b) {
			switch b[i] {
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					return i + 1, nil
				}
			case '"':
				j, err := p.skip(b, i)
				if err != nil {
					return 0, err
				}
				i = j
				continue
			}
			i++
		}
		return 0, errProjection
	}
	// A number, true, false or null.
	j := i
	for j < len(b) && b[j] != ',' && b[j] != '}' && b[j] != ']' {
		j++
	}
	if j == i {
		return 0, errProjection
	}
	return j, nil
}

// intern returns s as a string, shared with earlier calls for the same bytes.
func (p *Projector) intern(s []byte) string {
	if v, ok := p.strs[string(s)]; ok {
		return v
	}
	v := string(s)
	if len(p.strs) < maxProjectorStrings {
		p.strs[v] = v
	}
	return v
}

// parseStartDate reads a startDate as Prepare writes it (RFC 3339 in UTC, up to nanoseconds,
// trailing zeros of the fraction left out), quickly for that form.
func parseStartDate(s []byte) (time.Time, error) {
	// 2006-01-02T15:04:05[.fraction]Z
	if len(s) >= 20 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' && s[16] == ':' && s[len(s)-1] == 'Z' {
		y, ok1 := digits(s[0:4])
		mo, ok2 := digits(s[5:7])
		d, ok3 := digits(s[8:10])
		h, ok4 := digits(s[11:13])
		mi, ok5 := digits(s[14:16])
		se, ok6 := digits(s[17:19])
		ns, ok7 := 0, true
		if frac := s[19 : len(s)-1]; len(frac) > 0 {
			if frac[0] != '.' || len(frac) < 2 || len(frac) > 10 {
				ok7 = false
			} else {
				ns, ok7 = digits(frac[1:])
				for k := len(frac) - 1; k < 9; k++ {
					ns *= 10
				}
			}
		} else if len(s) != 20 {
			ok7 = false
		}
		if ok1 && ok2 && ok3 && ok4 && ok5 && ok6 && ok7 && mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h < 24 && mi < 60 && se < 60 {
			t := time.Date(y, time.Month(mo), d, h, mi, se, ns, time.UTC)
			if t.Day() == d { // no 31 February
				return t, nil
			}
		}
	}
	t, err := time.Parse(time.RFC3339Nano, string(s))
	if err != nil {
		return time.Time{}, errProjection
	}
	return t.UTC(), nil
}

func digits(s []byte) (int, bool) {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, len(s) > 0
}
