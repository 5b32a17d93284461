package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/vakt/vakt/client"
)

func runQuery(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlags("query", "query --addr URL --token TOKEN [filters] [flags]", stderr)
	addr := fs.String("addr", "http://localhost:8080", "base URL of the service")
	token := fs.String("token", "", "reader token (or VAKT_TOKEN, VAKT_TOKEN_FILE)")
	var q client.Query
	patient := fs.String("patient", "", "personnummer or samordningsnummer; - reads it from standard input, which keeps it out of process listings and shell history")
	fs.StringVar(&q.UserID, "user", "", "HSA-id of the user (vårdpersonal)")
	fs.StringVar(&q.CareUnitID, "care-unit", "", "HSA-id of the care unit the access was made from")
	fs.StringVar(&q.CareProviderID, "care-provider", "", "HSA-id of the care provider")
	fs.StringVar(&q.ActivityType, "activity", "", "activity type, e.g. Läsa")
	fs.StringVar(&q.From, "from", "", "earliest access time, RFC 3339 (inclusive)")
	fs.StringVar(&q.To, "to", "", "latest access time, RFC 3339 (exclusive)")
	fs.IntVar(&q.Limit, "limit", 100, "entries per page")
	all := fs.Bool("all", false, "follow cursors through every page")
	export := fs.Bool("export", false, "stream every match through the export endpoint")
	if err := parse(fs, args, "token"); err != nil {
		return err
	}
	if *token == "" {
		return errors.New("--token (or VAKT_TOKEN) is required")
	}
	if *patient == "-" {
		line, err := bufio.NewReader(stdin).ReadString('\n')
		if err != nil && err != io.EOF {
			return err
		}
		*patient = strings.TrimSpace(line)
	}
	if *patient != "" {
		q.PatientID = *patient
	}
	c := &client.Client{BaseURL: *addr, Token: *token}
	w := bufio.NewWriterSize(stdout, 1<<16)
	defer w.Flush()
	if *export {
		n := 0
		err := c.Export(ctx, q, func(e []byte) error {
			n++
			w.Write(e)
			return w.WriteByte('\n')
		})
		fmt.Fprintf(stderr, "%d entries\n", n)
		return err
	}
	n := 0
	for {
		p, err := c.Search(ctx, q)
		if err != nil {
			return err
		}
		for _, e := range p.Entries {
			w.Write(e)
			w.WriteByte('\n')
		}
		n += len(p.Entries)
		if p.NextCursor == "" {
			fmt.Fprintf(stderr, "%d entries\n", n)
			return nil
		}
		if !*all {
			fmt.Fprintf(stderr, "%d entries; more follow, continue with --all or the cursor %s\n", n, p.NextCursor)
			return nil
		}
		q.Cursor = p.NextCursor
	}
}
