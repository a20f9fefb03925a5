package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"

	"wufei/internal/server"
	"wufei/internal/synth"
)

// generateCmd is `wufei demo generate`: a city's, province's or nation's
// data set, written through the services into an empty database.
func generateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs, dbURL := dbFlags("demo generate", stderr)
	scale := fs.String("scale", "city", "city, province or nation")
	seed := fs.Uint64("seed", 1, "random seed: the same seed gives the same data set")
	units := fs.Int("units", 0, "registered units (default: the scale's)")
	manifests := fs.Int("manifests", 0, "manifests in the year (default: the scale's)")
	workers := fs.Int("workers", 0, "concurrent writers (default: 8 per core)")
	asJSON := fs.Bool("json", false, "print the report as JSON")
	if err := fs.Parse(args); err != nil {
		return exitError(2)
	}
	sc, ok := synth.Scales[*scale]
	if !ok {
		names := make([]string, 0, len(synth.Scales))
		for n := range synth.Scales {
			names = append(names, n)
		}
		slices.Sort(names)
		fmt.Fprintf(stderr, "unknown scale %q: one of %s\n", *scale, strings.Join(names, ", "))
		return exitError(2)
	}
	if *units > 0 {
		sc.Units = *units
	}
	if *manifests > 0 {
		sc.Manifests = *manifests
	}
	db, err := openPrepared(ctx, *dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	server.TuneGC()
	rep, err := synth.Generate(ctx, db, synth.Options{Scale: sc, Seed: *seed, Workers: *workers, Progress: stderr})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	fmt.Fprintf(stdout, "%s: %d units, %d plans, %d manifests %v in %.1f s; log-ins admin, sthjj and every unit's u<USCC> (password %q)\n",
		rep.Scale, rep.Units, rep.Plans, rep.Manifests, rep.Statuses, rep.Seconds, synth.Password)
	return nil
}
