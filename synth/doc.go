// Package synth generates deterministic, realistic synthetic PDL access-log data: a population
// of persons with valid personnummer and samordningsnummer, the staff of one care provider
// (vårdgivare) with HSA-ids, titles and care units, the producing systems, and a stream of
// accesslog.Entry values that those staff members produce while caring for the population.
//
// It serves `vakt gen` (NDJSON files for ingest), tests and benchmarks. The same Config always
// yields the same population and byte-identical entries: all randomness comes from a PCG
// generator seeded with Config.Seed, and nothing depends on the clock or on map iteration order.
//
// The data has structure that log-control rules can find: entries arrive in time order with
// daytime units working office hours and 24/7 units working around the clock, each care unit
// has a catchment of patients that its staff mostly access, a minority of patients receive most
// accesses, and a few entries are of the kinds that log control looks for (accesses outside the
// unit's catchment, at odd hours, to the user's own record or a household member's, to deceased
// patients, nödöppning).
//
// The package does no I/O except writing to the io.Writer given to WriteNDJSON.
package synth
