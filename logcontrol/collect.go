package logcontrol

import (
	"context"
	"encoding/hex"
	"time"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// AccessSource streams the log for Compute: Accesses calls fn with every entry whose startDate
// is in [from, to) (see accesslog.Store.ScanAccesses: any order, one call at a time, the Access
// valid only during the call); Entry returns one whole entry, for the few account-change
// records whose arguments the self-grant rule reads.
type AccessSource interface {
	Accesses(ctx context.Context, from, to time.Time, fn func(*accesslog.Access) error) error
	Entry(ctx context.Context, logID string) (accesslog.Entry, error)
}

// StoreEntries reads the log from an access-log Store through its projection scan.
type StoreEntries struct{ Store accesslog.Store }

// Accesses implements AccessSource.
func (s StoreEntries) Accesses(ctx context.Context, from, to time.Time, fn func(*accesslog.Access) error) error {
	return s.Store.ScanAccesses(ctx, from, to, fn)
}

// Entry implements AccessSource.
func (s StoreEntries) Entry(ctx context.Context, logID string) (accesslog.Entry, error) {
	st, err := s.Store.Get(ctx, logID)
	if err != nil {
		return accesslog.Entry{}, err
	}
	return st.Entry()
}

// ExportedEntries reads the log the straightforward way, every entry exported, decoded and
// validated whole (accesslog.ExportAccesses). It gives the same results as StoreEntries, more
// slowly; tests and the benchmark compare the two.
type ExportedEntries struct{ Store accesslog.Store }

// Accesses implements AccessSource.
func (s ExportedEntries) Accesses(ctx context.Context, from, to time.Time, fn func(*accesslog.Access) error) error {
	return accesslog.ExportAccesses(ctx, s.Store, from, to, fn)
}

// Entry implements AccessSource.
func (s ExportedEntries) Entry(ctx context.Context, logID string) (accesslog.Entry, error) {
	return StoreEntries(s).Entry(ctx, logID)
}

// access is what Compute keeps of one access of the period: a fixed-size record without
// pointers (identifiers are indexes into the computation's tables, a UUID logId is kept as
// its 16 bytes), so that a month of ten million costs about 600 MB and nothing for the garbage
// collector to trace.
type access struct {
	ts                   int64 // startDate, Unix µs
	seq                  int64
	logID                [16]byte // the UUID, or (when !uuid) the index of the text in logIDs
	user, unit, provider uint32   // indexes into hsa
	userPID              uint32   // index into persons + 1; 0 when the entry names no user.personId
	patOff               uint32   // the access's patients are pats[patOff : patOff+npat]
	npat                 uint16
	uuid                 bool
}

// accessList holds the accesses of the period in blocks of a fixed size, so that appending
// never copies what it holds. As one slice growing to the ten million accesses of a month it
// cost 2.7 s to grow against 0.17 s for the blocks (BenchmarkAccessList; the profile of the
// 10 M benchmark charged the growing up to 9 s, with a busy heap), all of it on the single
// goroutine that consumes the scan.
type accessList struct {
	blocks [][]access
	n      int
}

const accessBlockBits = 16 // 65,536 accesses, 3.5 MiB a block

func (l *accessList) add(r access) {
	if l.n&(1<<accessBlockBits-1) == 0 {
		l.blocks = append(l.blocks, make([]access, 0, 1<<accessBlockBits))
	}
	b := &l.blocks[len(l.blocks)-1]
	*b = append(*b, r)
	l.n++
}

// len returns the number of accesses held.
func (l *accessList) len() int { return l.n }

// at returns the i-th access added, for 0 <= i < len.
func (l *accessList) at(i int) *access {
	return &l.blocks[i>>accessBlockBits][i&(1<<accessBlockBits-1)]
}

// patientRef is one distinct patient of an access and whether a resource naming them was
// produced by the unit the access was made from (the same_unit explanation).
type patientRef struct {
	person   uint32
	sameUnit bool
}

// candidate is an account-change record that the self-grant rule reads whole.
type candidate struct {
	ts, seq int64
	logID   string
}

// collector gathers, in one pass over the period widened by ExplainWindow, everything Compute
// needs: the documentation times, the accesses of the period and their patients and users.
type collector struct {
	q       *Query
	visible Visible
	fromTS  int64
	toTS    int64 // exclusive
	wantSG  bool

	hsa     []ident.HSAID
	hsaIdx  map[ident.HSAID]uint32
	persons []ident.PersonID
	byKey   map[int64]uint32          // personnummer and samordningsnummer by Key
	byOther map[ident.PersonID]uint32 // reserve numbers
	patient []bool                    // persons[i] is a patient of an access of the period

	userPID   map[uint32]uint32 // user → first user.personId (index + 1) seen on their accesses
	docs      map[uint64][]int64
	volume    []uint64 // unit·user index << 32 | patient, one per patient of an access
	uu        map[uint64]uint32
	uuList    []uint64 // unit << 32 | user
	accs      accessList
	pats      []patientRef
	logIDs    []string
	cands     []candidate
	scratch   []ident.PersonID
	pis       []uint32
	memo      [3]hsaMemo // the last user, unit and provider: consecutive entries often share them
	lastUU    uint32
	lastUUKey uint64
}

type hsaMemo struct {
	id ident.HSAID
	i  uint32
	ok bool
}

// hsaIDMemo is hsaID remembering the last value asked for in m.
func (c *collector) hsaIDMemo(h ident.HSAID, m *hsaMemo) uint32 {
	if m.ok && m.id == h {
		return m.i
	}
	i := c.hsaID(h)
	*m = hsaMemo{id: h, i: i, ok: true}
	return i
}

func newCollector(q *Query, visible Visible, wantSG bool) *collector {
	return &collector{
		q: q, visible: visible, wantSG: wantSG,
		fromTS: accesslog.CeilMicro(q.From), toTS: accesslog.CeilMicro(q.To),
		hsaIdx: map[ident.HSAID]uint32{}, byKey: map[int64]uint32{}, byOther: map[ident.PersonID]uint32{},
		userPID: map[uint32]uint32{}, docs: map[uint64][]int64{}, uu: map[uint64]uint32{},
	}
}

func (c *collector) hsaID(h ident.HSAID) uint32 {
	if i, ok := c.hsaIdx[h]; ok {
		return i
	}
	i := uint32(len(c.hsa))
	c.hsa = append(c.hsa, h)
	c.hsaIdx[h] = i
	return i
}

// person returns the index of p, adding it when add is set; ok is false for an unknown p.
func (c *collector) person(p ident.PersonID, add bool) (uint32, bool) {
	k := p.Key()
	var i uint32
	var ok bool
	if k > 0 {
		i, ok = c.byKey[k]
	} else {
		i, ok = c.byOther[p]
	}
	if ok || !add {
		return i, ok
	}
	i = uint32(len(c.persons))
	c.persons = append(c.persons, p)
	c.patient = append(c.patient, false)
	if k > 0 {
		c.byKey[k] = i
	} else {
		c.byOther[p] = i
	}
	return i, true
}

// unixSeconds is time.UnixMicro(us).Unix(): the documentation window compares whole seconds.
func unixSeconds(us int64) int64 {
	s := us / 1e6
	if us%1e6 < 0 {
		s--
	}
	return s
}

func (c *collector) add(a *accesslog.Access) error {
	ts := a.StartDate.UnixMicro()
	pats := a.Patients(c.scratch[:0])
	c.scratch = pats
	seen := ts >= c.fromTS && ts < c.toTS && (c.q.CareUnit == "" || a.CareUnit == c.q.CareUnit) && (c.visible == nil || c.visible(a.CareUnit))
	doc := len(pats) > 0 && isDocumentation(a.ActivityType)
	if !seen && !doc {
		return nil
	}
	pis := c.pis[:0]
	for _, p := range pats {
		pi, _ := c.person(p, true)
		pis = append(pis, pi)
	}
	c.pis = pis
	if doc {
		u := uint64(c.hsaIDMemo(a.UserID, &c.memo[0])) << 32
		for _, pi := range pis {
			k := u | uint64(pi)
			c.docs[k] = append(c.docs[k], unixSeconds(ts))
		}
	}
	if !seen {
		return nil
	}
	if len(pats) == 0 {
		// Entries naming no patient (vakt's own records of searches and account changes) are no
		// accesses; only vakt's account changes are judged, by the self-grant rule.
		if c.wantSG && a.ActivityLevel == accesslog.AccountChangeLevel && (c.q.AccountSystem == "" || a.SystemID == c.q.AccountSystem) {
			c.cands = append(c.cands, candidate{ts: ts, seq: a.Seq, logID: a.LogID})
		}
		return nil
	}
	r := access{ts: ts, seq: a.Seq, user: c.hsaIDMemo(a.UserID, &c.memo[0]), unit: c.hsaIDMemo(a.CareUnit, &c.memo[1]),
		provider: c.hsaIDMemo(a.CareProvider, &c.memo[2]),
		patOff:   uint32(len(c.pats)), npat: uint16(len(pats))}
	if !a.UserPersonID.IsZero() {
		pi, _ := c.person(a.UserPersonID, true)
		r.userPID = pi + 1
		if cur := c.userPID[r.user]; cur == 0 {
			c.userPID[r.user] = pi + 1 // an entry without user.personId does not hide another's
		}
	} else if _, ok := c.userPID[r.user]; !ok {
		c.userPID[r.user] = 0
	}
	if r.uuid = parseUUID(a.LogID, &r.logID); !r.uuid {
		i := uint32(len(c.logIDs))
		c.logIDs = append(c.logIDs, a.LogID)
		r.logID = [16]byte{byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}
	}
	uuKey := uint64(r.unit)<<32 | uint64(r.user)
	uu, ok := c.lastUU, c.lastUUKey == uuKey && len(c.uuList) > 0
	if !ok {
		if uu, ok = c.uu[uuKey]; !ok {
			uu = uint32(len(c.uuList))
			c.uu[uuKey] = uu
			c.uuList = append(c.uuList, uuKey)
		}
		c.lastUU, c.lastUUKey = uu, uuKey
	}
	for k, p := range pats {
		pi := pis[k]
		c.patient[pi] = true
		same := false
		for _, res := range a.Resources {
			if res.Patient == p && res.CareUnit != "" && res.CareUnit == a.CareUnit {
				same = true
				break
			}
		}
		c.pats = append(c.pats, patientRef{person: pi, sameUnit: same})
		c.volume = append(c.volume, uint64(uu)<<32|uint64(pi))
	}
	c.accs.add(r)
	return nil
}

// logIDOf returns the logId of r as the entry spells it.
func (c *collector) logIDOf(r *access) string {
	if !r.uuid {
		return c.logIDs[uint32(r.logID[0])<<24|uint32(r.logID[1])<<16|uint32(r.logID[2])<<8|uint32(r.logID[3])]
	}
	var b [36]byte
	hex.Encode(b[0:8], r.logID[0:4])
	b[8] = '-'
	hex.Encode(b[9:13], r.logID[4:6])
	b[13] = '-'
	hex.Encode(b[14:18], r.logID[6:8])
	b[18] = '-'
	hex.Encode(b[19:23], r.logID[8:10])
	b[23] = '-'
	hex.Encode(b[24:36], r.logID[10:16])
	return string(b[:])
}

// parseUUID reads s into dst when it is a UUID in lower-case hex with dashes, the form that
// logIDOf gives back byte for byte; any other logId is kept as text.
func parseUUID(s string, dst *[16]byte) bool {
	if len(s) != 36 || s[8] != '-' || s[13] != '-' || s[18] != '-' || s[23] != '-' {
		return false
	}
	j := 0
	for i := 0; i < 36; {
		if i == 8 || i == 13 || i == 18 || i == 23 {
			i++
			continue
		}
		hi, ok1 := lowerHex(s[i])
		lo, ok2 := lowerHex(s[i+1])
		if !ok1 || !ok2 {
			return false
		}
		dst[j] = hi<<4 | lo
		j++
		i += 2
	}
	return true
}

func lowerHex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	}
	return 0, false
}
