package synth

import (
	"bufio"
	"io"
	"slices"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
)

// Config returns the configuration in effect: the one given to New with defaults filled in and
// Start in Europe/Stockholm.
func (g *Generator) Config() Config { return g.cfg }

// Persons returns a copy of the population, staff included. Persons of a household are
// adjacent, and households are laid out by the areas of the primary-care units.
func (g *Generator) Persons() []Person { return slices.Clone(g.persons) }

// Staff returns a copy of the staff members.
func (g *Generator) Staff() []StaffMember {
	out := make([]StaffMember, len(g.staff))
	for i := range g.staff {
		out[i] = g.staff[i].StaffMember
		out[i].Units = slices.Clone(out[i].Units)
	}
	return out
}

// Units returns a copy of the care units.
func (g *Generator) Units() []Unit {
	out := make([]Unit, len(g.units))
	for i := range g.units {
		out[i] = g.units[i].Unit
	}
	return out
}

// Systems returns a copy of the producing systems.
func (g *Generator) Systems() []System {
	out := make([]System, len(g.systems))
	for i := range g.systems {
		out[i] = System{HSAID: g.systems[i].sys.ID, Name: g.systems[i].sys.Name}
	}
	return out
}

// Catchment returns the patients of the care unit with the given HSA-id, most frequently
// accessed first, or nil for an unknown unit. A unit's staff mostly access these patients; an
// access outside them is the kind that log control looks at.
func (g *Generator) Catchment(unit ident.HSAID) []ident.PersonID {
	for i := range g.units {
		if g.units[i].HSAID != unit {
			continue
		}
		out := make([]ident.PersonID, len(g.units[i].catchment))
		for j, p := range g.units[i].catchment {
			out[j] = g.persons[p].PersonID
		}
		return out
	}
	return nil
}

// WriteNDJSON writes every remaining entry of g to w, one canonical JSON object
// (accesslog.Prepare(e).Content) per line, and returns how many entries it encoded. Output is
// buffered; on a write error the count includes entries that may not have reached w.
func WriteNDJSON(w io.Writer, g *Generator) (int, error) {
	bw := bufio.NewWriterSize(w, 256<<10)
	n := 0
	for {
		e, ok := g.Next()
		if !ok {
			break
		}
		p := accesslog.Prepare(e)
		if _, err := bw.Write(p.Content); err != nil {
			return n, err
		}
		if err := bw.WriteByte('\n'); err != nil {
			return n, err
		}
		n++
	}
	return n, bw.Flush()
}
