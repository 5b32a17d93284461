package sqlite

import (
	"context"
	"database/sql"
	"strings"
	"sync"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// Dictionary kinds (the kind column of dict).
const (
	dictHSA      = 1 // HSA-ids of users, care units and care providers
	dictActivity = 2 // activity types, lower-cased: filters ignore case
	dictReserve  = 3 // reserve numbers as "root|extension"; their index key is -id
)

type dictKey struct {
	kind  int8
	value string
}

// dictionary interns the strings that indexes and filters compare, so that entries carry small
// integers. Only the writer goroutine adds values: it assigns ids to new values while it
// prepares a group (pending), writes them in the group's transaction and publishes them after
// the commit. Readers look values up under the read lock.
type dictionary struct {
	mu     sync.RWMutex
	ids    map[dictKey]int64
	next   int64
	actors map[int64]*actor // by id
	byJSON map[string]int64 // actor JSON → id
	nextA  int64

	// Writer-owned: values and actors of the group being prepared.
	pendingIDs    map[dictKey]int64
	pending       []dictKey
	pendingActors []*actor
	pendingByJSON map[string]*actor
	rawActivity   map[string]int64 // activity type as sent → id of the stored lower-cased type
}

// actor is an entry's shared tail (see accesslog.Pending.Actor) with the dictionary ids of its
// user, care unit and care provider.
type actor struct {
	id                         int64
	json                       []byte
	userID, unitID, providerID int64
}

func loadDictionary(ctx context.Context, db *sql.DB) (*dictionary, error) {
	d := &dictionary{ids: map[dictKey]int64{}, pendingIDs: map[dictKey]int64{}, pendingByJSON: map[string]*actor{}, actors: map[int64]*actor{}, byJSON: map[string]int64{}, rawActivity: map[string]int64{}}
	if err := d.loadActors(ctx, db); err != nil {
		return nil, err
	}
	rows, err := db.QueryContext(ctx, `SELECT id, kind, value FROM dict`)
	if err != nil {
		return nil, translate(err, "load dictionary")
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var k dictKey
		if err := rows.Scan(&id, &k.kind, &k.value); err != nil {
			return nil, translate(err, "load dictionary")
		}
		d.ids[k] = id
		d.next = max(d.next, id)
	}
	d.next++
	return d, translate(rows.Err(), "load dictionary")
}

func (d *dictionary) lookup(kind int8, value string) (int64, bool) {
	d.mu.RLock()
	id, ok := d.ids[dictKey{kind, value}]
	d.mu.RUnlock()
	return id, ok
}

func (d *dictionary) activity(t accesslog.ActivityType) (int64, bool) {
	return d.lookup(dictActivity, strings.ToLower(string(t)))
}

// patientKey returns the index key of a patient: the personnummer as a number, or minus the
// dictionary id of a reserve number.
func (d *dictionary) patientKey(p ident.PersonID) (int64, bool) {
	if k := p.Key(); k > 0 {
		return k, true
	}
	id, ok := d.lookup(dictReserve, p.Root()+"|"+p.Extension())
	return -id, ok
}

// intern returns the id of value, assigning a pending one if it is new. Writer only.
func (d *dictionary) intern(kind int8, value string) int64 {
	k := dictKey{kind, value}
	// The writer is the only goroutine that modifies ids, so it may read without the lock.
	if id, ok := d.ids[k]; ok {
		return id
	}
	if id, ok := d.pendingIDs[k]; ok {
		return id
	}
	id := d.next
	d.next++
	d.pendingIDs[k] = id
	d.pending = append(d.pending, k)
	return id
}

func (d *dictionary) internPatient(p ident.PersonID) int64 {
	if k := p.Key(); k > 0 {
		return k
	}
	return -d.intern(dictReserve, p.Root()+"|"+p.Extension())
}

// writePending inserts the pending values and actors in tx.
func (d *dictionary) writePending(ctx context.Context, tx *sql.Tx) error {
	for _, k := range d.pending {
		if _, err := tx.ExecContext(ctx, `INSERT INTO dict(id, kind, value) VALUES (?, ?, ?)`, d.pendingIDs[k], k.kind, k.value); err != nil {
			return translate(err, "insert dictionary value")
		}
	}
	for _, a := range d.pendingActors {
		if _, err := tx.ExecContext(ctx, `INSERT INTO actors(id, user_id, unit_id, provider_id, json) VALUES (?, ?, ?, ?, ?)`,
			a.id, a.userID, a.unitID, a.providerID, a.json); err != nil {
			return translate(err, "insert actor")
		}
	}
	return nil
}

// publishPending makes the pending values visible to readers after their commit.
func (d *dictionary) publishPending() {
	if len(d.pending) == 0 && len(d.pendingActors) == 0 {
		return
	}
	d.mu.Lock()
	for _, k := range d.pending {
		d.ids[k] = d.pendingIDs[k]
	}
	for _, a := range d.pendingActors {
		d.actors[a.id] = a
		d.byJSON[string(a.json)] = a.id
	}
	d.mu.Unlock()
	d.pending = d.pending[:0]
	d.pendingActors = d.pendingActors[:0]
	clear(d.pendingByJSON)
	clear(d.pendingIDs)
}

// dropPending forgets pending values after a failed commit.
func (d *dictionary) dropPending() {
	d.next -= int64(len(d.pending))
	d.nextA -= int64(len(d.pendingActors))
	d.pending = d.pending[:0]
	d.pendingActors = d.pendingActors[:0]
	clear(d.pendingByJSON)
	clear(d.pendingIDs)
}

func (d *dictionary) loadActors(ctx context.Context, db *sql.DB) error {
	rows, err := db.QueryContext(ctx, `SELECT id, user_id, unit_id, provider_id, json FROM actors`)
	if err != nil {
		return translate(err, "load actors")
	}
	defer rows.Close()
	for rows.Next() {
		a := &actor{}
		if err := rows.Scan(&a.id, &a.userID, &a.unitID, &a.providerID, &a.json); err != nil {
			return translate(err, "load actors")
		}
		d.actors[a.id] = a
		d.byJSON[string(a.json)] = a.id
		d.nextA = max(d.nextA, a.id)
	}
	d.nextA++
	return translate(rows.Err(), "load actors")
}

// actor returns the actor with id.
func (d *dictionary) actor(id int64) (*actor, bool) {
	d.mu.RLock()
	a, ok := d.actors[id]
	d.mu.RUnlock()
	return a, ok
}

// knownActor returns the actor with these JSON bytes, stored or pending, or nil. Writer only.
func (d *dictionary) knownActor(json []byte) *actor {
	if id, ok := d.byJSON[string(json)]; ok {
		return d.actors[id]
	}
	return d.pendingByJSON[string(json)]
}

// internActivity interns an activity type, lower-cased since filters ignore case. The
// lower-casing allocates, so the ids of types as sent are kept once they are stored. Writer
// only.
func (d *dictionary) internActivity(t string) int64 {
	if id, ok := d.rawActivity[t]; ok {
		return id
	}
	lower := strings.ToLower(t)
	if id, ok := d.ids[dictKey{dictActivity, lower}]; ok {
		if len(d.rawActivity) < 1024 {
			d.rawActivity[t] = id
		}
		return id
	}
	return d.intern(dictActivity, lower)
}

// internActor returns the id of the actor with these JSON bytes, assigning a pending one if it
// is new. Writer only.
func (d *dictionary) internActor(json []byte, userID, unitID, providerID int64) int64 {
	if id, ok := d.byJSON[string(json)]; ok {
		return id
	}
	if a, ok := d.pendingByJSON[string(json)]; ok {
		return a.id
	}
	a := &actor{id: d.nextA, json: append([]byte(nil), json...), userID: userID, unitID: unitID, providerID: providerID}
	d.nextA++
	d.pendingActors = append(d.pendingActors, a)
	d.pendingByJSON[string(a.json)] = a
	return a.id
}
