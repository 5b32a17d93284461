// Package ident parses and validates the identifiers that the access-log service (PDL) stores
// about people: the patient or employee behind a log entry (personnummer, samordningsnummer or a
// care provider's local reserve number) and the HSA-ids of employees, units, care providers and
// systems.
//
// The package is pure: it does no I/O, reads no clock and keeps no state between calls. Where a
// rule depends on time (the century of a 10-digit personnummer) the caller passes the reference
// date explicitly.
//
// Personnummer and samordningsnummer are personal data. A PersonID therefore never reveals its
// number through String, GoString, fmt verbs or log/slog; the only way to read it is the explicit
// PersonID.Extension (or Formatted, Key, BirthDate). Error texts never contain the input, so they
// are safe to return to API callers and to write to logs.
package ident
