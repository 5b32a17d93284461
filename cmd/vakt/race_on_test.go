//go:build race

package main

// raceEnabled makes test-built binaries match the test's own build, so the Go build cache is
// shared.
const raceEnabled = true
