package ident_test

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/vakt/vakt/ident"
)

func ExampleParsePersonID() {
	// The date on which the number was used decides the century of a 10-digit number.
	used := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

	p, err := ident.ParsePersonID("121212+1212", used) // '+': 100 or older in 2026
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(p) // masked
	fmt.Println(p.Kind(), p.Root())
	fmt.Println(p.Extension(), p.Formatted(), p.Key()) // revealed on purpose
	born, _ := p.BirthDate()
	fmt.Println(born.Format(time.DateOnly))

	_, err = ident.ParsePersonID("19121212-1213", used)
	fmt.Println(err, errors.Is(err, ident.ErrChecksum))
	// Output:
	// personnummer(masked)
	// personnummer 1.2.752.129.2.1.3.1
	// 191212121212 19121212-1212 191212121212
	// 1912-12-12
	// check digit does not match (Luhn) true
}

func ExampleNewPersonID() {
	used := time.Date(2026, 11, 22, 0, 0, 0, 0, time.UTC)

	// Skatteverket's example samordningsnummer (SKV 707): born 3 October 1970, day + 60.
	p, err := ident.NewPersonID(ident.OIDCoordinationNumber, "701063-2391", used, false)
	fmt.Println(p, p.Extension(), err)

	_, err = ident.NewPersonID(ident.OIDPersonalIdentityNumber, "197010632391", used, false)
	fmt.Println(errors.Is(err, ident.ErrRootMismatch))

	_, err = ident.NewPersonID("1.2.752.97.3.1.3", "R-4711", used, false)
	fmt.Println(err)

	r, _ := ident.NewPersonID("1.2.752.97.3.1.3", "R-4711", used, true)
	fmt.Println(r, r.Extension(), r.Key())
	// Output:
	// samordningsnummer(masked) 197010632391 <nil>
	// true
	// reserve numbers are not allowed here
	// reservnummer(masked) R-4711 0
}

func ExamplePersonID_LogValue() {
	p, _ := ident.ParsePersonID("191212121212", time.Time{})
	logger := slog.New(slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{} // drop the time for a stable example
			}
			return a
		},
	}))
	logger.Info("record read", "patient", p)
	fmt.Printf("%v %q %#v\n", p, p, p)
	// Output:
	// {"level":"INFO","msg":"record read","patient":"personnummer(masked)"}
	// personnummer(masked) "personnummer(masked)" ident.PersonID{personnummer(masked)}
}

func ExampleParseHSAID() {
	h, err := ident.ParseHSAID(" SE2321000016-7P5P ")
	fmt.Println(h, h.OrganisationNumber(), err)

	for _, s := range []string{"SE2321000016", "se2321000016-7P5P", "SE232100001-7P5P"} {
		_, err := ident.ParseHSAID(s)
		fmt.Println(err)
	}
	// Output:
	// SE2321000016-7P5P 2321000016 <nil>
	// HSA-id is missing '-' after the organisation number
	// HSA-id must start with an issuer prefix of 2 to 10 upper-case letters
	// HSA-id organisation number must be 10 or 12 digits
}
