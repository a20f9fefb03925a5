package catalog

import (
	"bytes"
	"embed"
	"encoding/csv"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// files are the project's own catalogue files; data/README.md says where
// each comes from and what is missing.
//
//go:embed data/*.csv
var files embed.FS

// builtinSet is the parsed content of the embedded files.
type builtinSet struct {
	categories []Category
	codes      []WasteCode
	methods    []Method
	exemptions []Exemption
	gisw       []GISWCategory
}

// The files never change in a running binary, so they are parsed once.
var (
	loadCategories = sync.OnceValues(parseCategories)
	loadBuiltin    = sync.OnceValues(parseBuiltin)
)

// categorySet is the set of the 46 category codes, which the catalogue fixes
// and imports are checked against.
var categorySet = sync.OnceValues(func() (map[string]bool, error) {
	cats, err := loadCategories()
	if err != nil {
		return nil, err
	}
	set := make(map[string]bool, len(cats))
	for _, c := range cats {
		set[c.Code] = true
	}
	return set, nil
})

func parseCategories() ([]Category, error) {
	rows, err := readTable("hw_categories.csv", "code", "name")
	if err != nil {
		return nil, err
	}
	out := make([]Category, 0, len(rows))
	seen := map[string]bool{}
	for i, r := range rows {
		c := Category{Code: r[0], Name: r[1]}
		if len(c.Code) != 4 || c.Code[:2] != "HW" || !isDigit(c.Code[2]) || !isDigit(c.Code[3]) || c.Name == "" || seen[c.Code] {
			return nil, fmt.Errorf("catalog: hw_categories.csv line %d: bad category %q", i+2, c.Code)
		}
		seen[c.Code] = true
		out = append(out, c)
	}
	return out, nil
}

func parseBuiltin() (*builtinSet, error) {
	var b builtinSet
	var err error
	if b.categories, err = loadCategories(); err != nil {
		return nil, err
	}
	data, err := files.ReadFile("data/waste_codes.csv")
	if err != nil {
		return nil, err
	}
	if b.codes, _, err = ParseCodes(bytes.NewReader(data), EditionSubset); err != nil {
		return nil, fmt.Errorf("catalog: built-in waste_codes.csv: %w", err)
	}

	rows, err := readTable("methods.csv", "code", "kind", "name", "local")
	if err != nil {
		return nil, err
	}
	kinds := []string{KindUtilisation, KindDisposal, KindOther, KindMedical}
	for i, r := range rows {
		m := Method{Code: r[0], Kind: r[1], Name: r[2], Local: r[3] == "1"}
		if m.Code == "" || m.Name == "" || !slices.Contains(kinds, m.Kind) || (r[3] != "0" && r[3] != "1") {
			return nil, fmt.Errorf("catalog: methods.csv line %d: bad method %q", i+2, m.Code)
		}
		b.methods = append(b.methods, m)
	}

	if rows, err = readTable("exemptions.csv", "no", "waste_code", "description", "stage", "condition", "exemption"); err != nil {
		return nil, err
	}
	for i, r := range rows {
		no, err := strconv.ParseInt(r[0], 10, 64)
		if err != nil || no <= 0 || slices.ContainsFunc(r[1:], func(s string) bool { return s == "" }) {
			return nil, fmt.Errorf("catalog: exemptions.csv line %d: bad item %q", i+2, r[0])
		}
		b.exemptions = append(b.exemptions, Exemption{No: no, WasteCode: r[1], Description: r[2], Stage: r[3], Condition: r[4], Exemption: r[5]})
	}

	if rows, err = readTable("gisw_categories.csv", "code", "name", "note"); err != nil {
		return nil, err
	}
	for i, r := range rows {
		if r[0] == "" || r[1] == "" {
			return nil, fmt.Errorf("catalog: gisw_categories.csv line %d: bad category %q", i+2, r[0])
		}
		b.gisw = append(b.gisw, GISWCategory{Code: r[0], Name: r[1], Note: r[2]})
	}
	return &b, nil
}

// readTable reads one of the small embedded tables, whose header must be
// exactly want; fields are trimmed.
func readTable(name string, want ...string) ([][]string, error) {
	data, err := files.ReadFile("data/" + name)
	if err != nil {
		return nil, err
	}
	if !utf8.Valid(data) {
		return nil, fmt.Errorf("catalog: %s is not UTF-8", name)
	}
	cr := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(data, []byte("\uFEFF"))))
	cr.FieldsPerRecord = len(want)
	recs, err := cr.ReadAll()
	if err != nil {
		return nil, fmt.Errorf("catalog: %s: %w", name, err)
	}
	if len(recs) == 0 || !slices.Equal(recs[0], want) {
		return nil, fmt.Errorf("catalog: %s: header must be %s", name, strings.Join(want, ","))
	}
	recs = recs[1:]
	for _, r := range recs {
		for i := range r {
			r[i] = strings.TrimSpace(r[i])
		}
	}
	return recs, nil
}
