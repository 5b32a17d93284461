package synth

import (
	"errors"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/vakt/vakt/accesslog"
	"github.com/vakt/vakt/ident"
	"github.com/vakt/vakt/internal/swetime"
)

// Config describes the data to generate. Zero values of optional fields take the defaults
// documented on each field.
type Config struct {
	Seed             uint64      // seed of the PCG generator; the same Config gives the same data
	CareProvider     ident.HSAID // the vårdgivare all staff act for, e.g. "SE2321000016-0001"; required
	CareProviderName string      // its name; default "Region Exempel"
	Start            time.Time   // first possible access time; default 2026-10-01 00:00 Europe/Stockholm
	Days             int         // calendar days (Europe/Stockholm) covered from Start; default 30
	Entries          int         // how many entries Next produces over the period; required, > 0
	Persons          int         // population size, staff included; default 200_000
	Staff            int         // staff members (employees with HSA-ids); default 2_000
	Units            int         // care units (vårdenheter); default 100
	Systems          int         // producing systems, 1–4; default 4
	// Compact leaves out every optional name, title and assignment and keeps one resource per
	// entry: entries of about 520 bytes, for comparisons with logs of small opaque records.
	Compact bool
}

// Defaults applied by New to zero fields of a Config.
const (
	DefaultCareProviderName = "Region Exempel"
	DefaultDays             = 30
	DefaultPersons          = 200_000
	DefaultStaff            = 2_000
	DefaultUnits            = 100
	DefaultSystems          = 4
)

// Upper bounds of a Config, to keep memory and set-up time bounded.
const (
	MaxDays    = 3660
	MaxPersons = 5_000_000
	MaxUnits   = 5_000
	MaxSystems = 4
)

// DefaultStart returns the default Config.Start: 2026-10-01 00:00 in Europe/Stockholm.
func DefaultStart() time.Time {
	return time.Date(2026, time.October, 1, 0, 0, 0, 0, stockholm)
}

var stockholm = swetime.Stockholm

// ErrConfig is wrapped by every error that New returns for an invalid Config; test with
// errors.Is.
var ErrConfig = errors.New("synth: invalid config")

func configError(msg string) error {
	return &cfgError{msg: msg}
}

type cfgError struct{ msg string }

func (e *cfgError) Error() string        { return "synth: invalid config: " + e.msg }
func (e *cfgError) Is(target error) bool { return target == ErrConfig }

// withDefaults returns cfg with defaults filled in and checks it.
func (cfg Config) withDefaults() (Config, error) {
	if cfg.CareProviderName == "" {
		cfg.CareProviderName = DefaultCareProviderName
	}
	if cfg.Start.IsZero() {
		cfg.Start = DefaultStart()
	}
	if cfg.Days == 0 {
		cfg.Days = DefaultDays
	}
	if cfg.Persons == 0 {
		cfg.Persons = DefaultPersons
	}
	if cfg.Staff == 0 {
		cfg.Staff = DefaultStaff
	}
	if cfg.Units == 0 {
		cfg.Units = DefaultUnits
	}
	if cfg.Systems == 0 {
		cfg.Systems = DefaultSystems
	}
	cfg.Start = cfg.Start.In(stockholm)

	if cfg.CareProvider == "" {
		return cfg, configError("CareProvider is required")
	}
	id, err := ident.ParseHSAID(string(cfg.CareProvider))
	if err != nil {
		return cfg, configError("CareProvider: " + err.Error())
	}
	if id != cfg.CareProvider {
		return cfg, configError("CareProvider has surrounding whitespace")
	}
	if !validText(cfg.CareProviderName) {
		return cfg, configError("CareProviderName must be valid UTF-8 without control characters, at most " +
			strconv.Itoa(accesslog.MaxTextLen) + " characters")
	}
	switch {
	case cfg.Entries <= 0:
		return cfg, configError("Entries must be positive")
	case cfg.Days < 0 || cfg.Days > MaxDays:
		return cfg, configError("Days must be between 1 and " + strconv.Itoa(MaxDays))
	case cfg.Persons < 0 || cfg.Persons > MaxPersons:
		return cfg, configError("Persons must be between 1 and " + strconv.Itoa(MaxPersons))
	case cfg.Staff < 0:
		return cfg, configError("Staff must be positive")
	case cfg.Units < 0 || cfg.Units > MaxUnits:
		return cfg, configError("Units must be between 1 and " + strconv.Itoa(MaxUnits))
	case cfg.Systems < 0 || cfg.Systems > MaxSystems:
		return cfg, configError("Systems must be between 1 and " + strconv.Itoa(MaxSystems))
	case cfg.Units > cfg.Staff:
		return cfg, configError("Units must not exceed Staff (every unit needs staff)")
	case cfg.Staff*4 > cfg.Persons:
		return cfg, configError("Persons must be at least 4 times Staff (staff are working-age persons of the population)")
	}
	if y := cfg.Start.Year(); y < 1901 || y > 9000 {
		return cfg, configError("Start must lie between the years 1901 and 9000")
	}
	return cfg, nil
}

// validText reports whether s may be used as an optional text element of an entry.
func validText(s string) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > accesslog.MaxTextLen {
		return false
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xFFFE || r == 0xFFFF {
			return false
		}
	}
	return true
}
