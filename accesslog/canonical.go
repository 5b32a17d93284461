package accesslog

import (
	"bytes"
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/vakt/vakt/ident"
)

// An entry's JSON form is canonical: RFC 8785 (JSON Canonicalization Scheme) applied to the
// object that search and export return, service-added fields included. So the bytes a client
// receives are exactly the bytes a verifier hashes, and anyone can recompute an entry's hash
// with any JCS implementation. Members are written in JCS order (sorted by UTF-16 code units;
// all names are ASCII), absent optional elements are left out, and strings are escaped as JCS
// prescribes (only '"', '\\' and control characters).
//
// The top-level members, in order: activity, logId, receivedAt, resources, seq, system, user.
// receivedAt and seq are assigned by the store at commit, so a Pending entry holds the content
// without them and Seal splices them in.

// ReceivedAtLayout is the layout of receivedAt: UTC with microseconds, fixed width so that the
// text sorts like the time.
const ReceivedAtLayout = "2006-01-02T15:04:05.000000Z"

// Pending is a validated entry prepared for a store: its canonical JSON content (without seq and
// receivedAt) and where those service fields go. Preparing happens on the request's goroutine so
// that a store's single writer only splices bytes.
type Pending struct {
	Entry   Entry
	Content []byte // canonical JSON without seq and receivedAt; the unit of idempotency
	resAt   int    // offset of `,"resources":`
	sysAt   int    // offset of `,"system":`
}

// Prepare encodes e canonically.
func Prepare(e Entry) Pending {
	p := Pending{Entry: e}
	b := make([]byte, 0, 640)
	b = append(b, `{"activity":`...)
	b = appendActivity(b, &e.Activity)
	b = append(b, `,"logId":`...)
	b = appendString(b, e.LogID)
	p.resAt = len(b)
	b = append(b, `,"resources":[`...)
	for i := range e.Resources {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendResource(b, &e.Resources[i])
	}
	b = append(b, ']')
	p.sysAt = len(b)
	b = append(b, `,"system":{"systemId":`...)
	b = appendString(b, string(e.System.ID))
	if e.System.Name != "" {
		b = append(b, `,"systemName":`...)
		b = appendString(b, e.System.Name)
	}
	b = append(b, `},"user":`...)
	b = appendUser(b, &e.User)
	b = append(b, '}')
	p.Content = b
	return p
}

// Seal appends to dst the entry's final JSON: the content with receivedAt and seq spliced in.
func (p *Pending) Seal(dst []byte, seq int64, receivedAt time.Time) []byte {
	return assemble(dst, p.Content[:p.sysAt], p.resAt, p.Content[p.sysAt:], seq, receivedAt)
}

// Head returns the first part of the content: activity, logId and resources, up to (not
// including) the system member.
func (p *Pending) Head() []byte { return p.Content[:p.sysAt] }

// Actor returns the rest of the content: `,"system":{…},"user":{…}}`. Every entry one user
// makes at one care unit through one system has the same actor bytes, so a store may keep them
// once and splice them back with Assemble.
func (p *Pending) Actor() []byte { return p.Content[p.sysAt:] }

// Assemble appends to dst the final JSON of an entry from its Head and Actor parts.
func Assemble(dst, head, actor []byte, seq int64, receivedAt time.Time) ([]byte, error) {
	resAt := bytes.Index(head, []byte(`,"resources":[`))
	if resAt < 0 || len(actor) == 0 {
		return dst, errNotStored
	}
	return assemble(dst, head, resAt, actor, seq, receivedAt), nil
}

func assemble(dst, head []byte, resAt int, actor []byte, seq int64, receivedAt time.Time) []byte {
	var rec [len(ReceivedAtLayout)]byte
	return assembleText(dst, head, resAt, actor, seq, AppendReceivedAt(rec[:0], receivedAt))
}

// AppendReceivedAt appends receivedAt's text form (ReceivedAtLayout) to dst.
func AppendReceivedAt(dst []byte, receivedAt time.Time) []byte {
	return receivedAt.UTC().AppendFormat(dst, ReceivedAtLayout)
}

// AssembleText is Assemble with receivedAt already formatted by AppendReceivedAt: a store that
// assembles a whole group with one receive time formats it once.
func AssembleText(dst, head, actor []byte, seq int64, receivedAt []byte) ([]byte, error) {
	resAt := bytes.Index(head, []byte(`,"resources":[`))
	if resAt < 0 || len(actor) == 0 {
		return dst, errNotStored
	}
	return assembleText(dst, head, resAt, actor, seq, receivedAt), nil
}

func assembleText(dst, head []byte, resAt int, actor []byte, seq int64, receivedAt []byte) []byte {
	dst = append(dst, head[:resAt]...)
	dst = append(dst, `,"receivedAt":"`...)
	dst = append(dst, receivedAt...)
	dst = append(dst, '"')
	dst = append(dst, head[resAt:]...)
	dst = append(dst, `,"seq":`...)
	dst = strconv.AppendInt(dst, seq, 10)
	return append(dst, actor...)
}

// HasLogID reports whether head (see Pending.Head) is that of the entry with logID. It compares
// the canonical bytes, so it needs no JSON parsing.
func HasLogID(head []byte, logID string) bool {
	b := make([]byte, 0, 64)
	b = append(b, `,"logId":`...)
	b = appendString(b, logID)
	b = append(b, `,"resources":[`...)
	return bytes.Contains(head, b)
}

// Content returns the content of a stored entry's JSON (what Prepare produced): the JSON with
// seq and receivedAt removed. Stores compare it with a re-sent entry to tell a duplicate from a
// conflict.
func Content(stored []byte) ([]byte, error) {
	const rk, sk = `,"receivedAt":"`, `,"seq":`
	// In canonical JSON a '"' inside a string is always escaped, so these byte sequences can
	// only be the top-level members; no nested object has members of these names.
	i := bytes.Index(stored, []byte(rk))
	if i < 0 {
		return nil, errNotStored
	}
	end := bytes.IndexByte(stored[i+len(rk):], '"')
	if end < 0 {
		return nil, errNotStored
	}
	j := bytes.Index(stored, []byte(sk))
	if j < i {
		return nil, errNotStored
	}
	k := j + len(sk)
	for k < len(stored) && stored[k] >= '0' && stored[k] <= '9' {
		k++
	}
	out := make([]byte, 0, len(stored))
	out = append(out, stored[:i]...)
	out = append(out, stored[i+len(rk)+end+1:j]...)
	out = append(out, stored[k:]...)
	return out, nil
}

var errNotStored = errors.New("accesslog: not a stored entry's JSON")

// Stored is an entry as a store returns it.
type Stored struct {
	Seq        int64     // sequence number in the tenant's log, from 1, gap-free
	ReceivedAt time.Time // when the store committed it
	JSON       []byte    // canonical JSON, exactly as search and export serve it
}

// Entry decodes s's JSON into a validated Entry.
func (s *Stored) Entry() (Entry, error) {
	d, _, _, err := DecodeStored(s.JSON)
	if err != nil {
		return Entry{}, err
	}
	// Stored entries were valid when stored; reserve numbers stay readable even if the tenant
	// has since stopped accepting new ones, and time bounds no longer apply.
	e, probs := d.Validate(0, ValidateOptions{AllowReserveIDs: true})
	if len(probs) > 0 {
		return Entry{}, errors.New("accesslog: stored entry no longer validates: " + probs[0].Field + " " + probs[0].Reason)
	}
	return e, nil
}

func appendActivity(b []byte, a *Activity) []byte {
	b = append(b, '{')
	if a.Args != "" {
		b = append(b, `"activityArgs":`...)
		b = appendString(b, a.Args)
		b = append(b, ',')
	}
	if a.Level != "" {
		b = append(b, `"activityLevel":`...)
		b = appendString(b, a.Level)
		b = append(b, ',')
	}
	b = append(b, `"activityType":`...)
	b = appendString(b, string(a.Type))
	b = append(b, `,"purpose":`...)
	b = appendString(b, string(a.Purpose))
	b = append(b, `,"startDate":"`...)
	b = a.StartDate.UTC().AppendFormat(b, time.RFC3339Nano)
	return append(b, `"}`...)
}

func appendUser(b []byte, u *User) []byte {
	b = append(b, '{')
	if u.Assignment != "" {
		b = append(b, `"assignment":`...)
		b = appendString(b, u.Assignment)
		b = append(b, ',')
	}
	b = append(b, `"careProvider":`...)
	b = appendCareProvider(b, &u.CareProvider)
	b = append(b, `,"careUnit":`...)
	b = appendCareUnit(b, &u.CareUnit)
	if u.Name != "" {
		b = append(b, `,"name":`...)
		b = appendString(b, u.Name)
	}
	if !u.PersonID.IsZero() {
		b = append(b, `,"personId":`...)
		b = appendII(b, u.PersonID)
	}
	if u.Title != "" {
		b = append(b, `,"title":`...)
		b = appendString(b, u.Title)
	}
	b = append(b, `,"userId":`...)
	b = appendString(b, string(u.ID))
	return append(b, '}')
}

func appendResource(b []byte, r *Resource) []byte {
	b = append(b, `{"careProvider":`...)
	b = appendCareProvider(b, &r.CareProvider)
	if r.CareUnit.ID != "" {
		b = append(b, `,"careUnit":`...)
		b = appendCareUnit(b, &r.CareUnit)
	}
	if !r.Patient.ID.IsZero() {
		b = append(b, `,"patient":{"patientId":`...)
		b = appendII(b, r.Patient.ID)
		if r.Patient.Name != "" {
			b = append(b, `,"patientName":`...)
			b = appendString(b, r.Patient.Name)
		}
		b = append(b, '}')
	}
	b = append(b, `,"resourceType":`...)
	b = appendString(b, r.Type)
	return append(b, '}')
}

func appendCareProvider(b []byte, cp *CareProvider) []byte {
	b = append(b, `{"careProviderId":`...)
	b = appendString(b, string(cp.ID))
	if cp.Name != "" {
		b = append(b, `,"careProviderName":`...)
		b = appendString(b, cp.Name)
	}
	return append(b, '}')
}

func appendCareUnit(b []byte, cu *CareUnit) []byte {
	b = append(b, `{"careUnitId":`...)
	b = appendString(b, string(cu.ID))
	if cu.Name != "" {
		b = append(b, `,"careUnitName":`...)
		b = appendString(b, cu.Name)
	}
	return append(b, '}')
}

func appendII(b []byte, p ident.PersonID) []byte {
	b = append(b, `{"extension":`...)
	if p.Kind() == ident.ReserveNumber {
		b = appendString(b, p.Extension())
	} else {
		// Twelve digits need no escaping.
		b = append(b, '"')
		b = p.AppendExtension(b)
		b = append(b, '"')
	}
	b = append(b, `,"root":`...)
	b = appendString(b, p.Root())
	return append(b, '}')
}

const hexDigits = "0123456789abcdef"

// appendString writes s as a JCS string (RFC 8785 section 3.2.2.2): escape '"', '\\' and
// U+0000–U+001F (the short forms \b \t \n \f \r where they exist, otherwise \u00xx in lower
// case); every other character is written as its UTF-8 bytes. Invalid UTF-8 never reaches here
// (validation rejects it); it is replaced by U+FFFD to keep the output well-formed regardless.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x20 && c != '"' && c != '\\' && c < utf8.RuneSelf {
			i++
			continue
		}
		if c >= utf8.RuneSelf {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, s[start:i]...)
				b = append(b, "\uFFFD"...)
				i += size
				start = i
				continue
			}
			i += size
			continue
		}
		b = append(b, s[start:i]...)
		switch c {
		case '"':
			b = append(b, `\"`...)
		case '\\':
			b = append(b, `\\`...)
		case '\b':
			b = append(b, `\b`...)
		case '\f':
			b = append(b, `\f`...)
		case '\n':
			b = append(b, `\n`...)
		case '\r':
			b = append(b, `\r`...)
		case '\t':
			b = append(b, `\t`...)
		default:
			b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
		}
		i++
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
