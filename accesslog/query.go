package accesslog

import (
	"encoding/base64"
	"encoding/binary"
	"strings"
	"time"

	"github.com/vakt/vakt"
	"github.com/vakt/vakt/ident"
)

// Page sizes of Search.
const (
	DefaultLimit = 100
	MaxLimit     = 1000
)

// Query selects entries of one tenant. Zero fields do not filter. Results are ordered newest
// first by (activity.startDate, seq), which is the order a reviewer reads them in and a total
// order, so keyset pagination never skips or repeats an entry.
type Query struct {
	PatientID      ident.PersonID // any resource names this patient
	UserID         ident.HSAID    // user.userId
	CareUnitID     ident.HSAID    // user.careUnit.careUnitId: the unit the access was made from
	CareProviderID ident.HSAID    // user.careProvider.careProviderId
	ActivityType   ActivityType   // activity.activityType, compared ignoring case
	From           time.Time      // startDate >= From
	To             time.Time      // startDate < To
	Limit          int            // page size for Search; 0 means DefaultLimit
	After          Cursor         // continue after this position; zero starts at the newest
}

// Matches reports whether e satisfies q's filters (not its cursor or limit). Stores may use it
// as the reference for what their indexes must return.
func (q *Query) Matches(e *Entry) bool {
	if !q.PatientID.IsZero() {
		found := false
		for i := range e.Resources {
			if e.Resources[i].Patient.ID == q.PatientID {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	if q.UserID != "" && e.User.ID != q.UserID {
		return false
	}
	if q.CareUnitID != "" && e.User.CareUnit.ID != q.CareUnitID {
		return false
	}
	if q.CareProviderID != "" && e.User.CareProvider.ID != q.CareProviderID {
		return false
	}
	if q.ActivityType != "" && !strings.EqualFold(string(q.ActivityType), string(e.Activity.Type)) {
		return false
	}
	t := e.Activity.StartDate
	if !q.From.IsZero() && t.Before(q.From) {
		return false
	}
	if !q.To.IsZero() && !t.Before(q.To) {
		return false
	}
	return true
}

// Validate checks the query's own fields.
func (q *Query) Validate() error {
	var probs []vakt.Problem
	if q.Limit < 0 || q.Limit > MaxLimit {
		probs = append(probs, vakt.Problem{Index: -1, Field: "limit", Reason: "must be between 1 and 1000"})
	}
	if !q.From.IsZero() && !q.To.IsZero() && !q.From.Before(q.To) {
		probs = append(probs, vakt.Problem{Index: -1, Field: "to", Reason: "must be after from"})
	}
	if len(probs) > 0 {
		return vakt.Invalid("query is invalid", probs...)
	}
	return nil
}

// PageSize returns the effective page size.
func (q *Query) PageSize() int {
	if q.Limit == 0 {
		return DefaultLimit
	}
	return q.Limit
}

// Cursor is a position in the newest-first order: the last entry a page returned. It carries no
// filter values, so it can never reveal what was searched for.
type Cursor struct {
	StartDate int64 // activity.startDate in Unix microseconds
	Seq       int64
}

// IsZero reports whether c is the start of the order.
func (c Cursor) IsZero() bool { return c == Cursor{} }

// Before reports whether the entry at (startDate, seq) comes after c in newest-first order,
// i.e. sorts strictly before c by (startDate, seq).
func (c Cursor) Before(startDate, seq int64) bool {
	if c.IsZero() {
		return true
	}
	return startDate < c.StartDate || startDate == c.StartDate && seq < c.Seq
}

// String encodes c opaquely for an API response.
func (c Cursor) String() string {
	if c.IsZero() {
		return ""
	}
	var b [2 * binary.MaxVarintLen64]byte
	n := binary.PutVarint(b[:], c.StartDate)
	n += binary.PutUvarint(b[n:], uint64(c.Seq))
	return base64.RawURLEncoding.EncodeToString(b[:n])
}

// ParseCursor decodes a cursor made by Cursor.String. The empty string is the zero cursor.
func ParseCursor(s string) (Cursor, error) {
	if s == "" {
		return Cursor{}, nil
	}
	bad := vakt.Invalid("cursor is not one this service issued", vakt.Problem{Index: -1, Field: "cursor", Reason: "is malformed"})
	if len(s) > 64 {
		return Cursor{}, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return Cursor{}, bad
	}
	ts, n := binary.Varint(b)
	if n <= 0 {
		return Cursor{}, bad
	}
	seq, m := binary.Uvarint(b[n:])
	if m <= 0 || n+m != len(b) || seq == 0 || seq > 1<<62 {
		return Cursor{}, bad
	}
	return Cursor{StartDate: ts, Seq: int64(seq)}, nil
}

// Page is one page of search results.
type Page struct {
	Entries []Stored
	Next    Cursor // zero when there are no more entries
}

// CeilMicro returns t in Unix microseconds, rounded up. Stores keep startDate with microsecond
// precision, so a query bound between two microseconds excludes the lower one: From and To
// compare with stored values as CeilMicro(From) <= startDate < CeilMicro(To).
func CeilMicro(t time.Time) int64 {
	us := t.UnixMicro()
	if t.Sub(time.UnixMicro(us)) > 0 {
		us++
	}
	return us
}
