// Package swetime holds Swedish time: the zone in which care units live their days, months and
// working hours, so that "April", "07:00" and "a public holiday" mean what they mean to the
// people who work there, whatever the zone of the host.
package swetime

import (
	"time"
	_ "time/tzdata" // Europe/Stockholm must resolve on hosts without a zoneinfo database
)

// Stockholm is the Europe/Stockholm zone.
var Stockholm = mustLoad("Europe/Stockholm")

func mustLoad(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err) // time/tzdata is embedded, so this cannot happen
	}
	return loc
}
