package catalog_test

import (
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"wufei/internal/catalog"
	"wufei/internal/errs"
)

func TestValidCode(t *testing.T) {
	for _, code := range []string{"900-041-49", "772-002-18", "841-001-01", "000-000-00"} {
		if err := catalog.ValidCode(code); err != nil {
			t.Errorf("ValidCode(%q) = %v", code, err)
		}
	}
	for _, code := range []string{"", "900-041-4", "900-041-490", "900041-49", "900_041_49", "90a-041-49",
		" 900-041-49", "９００-041-49", "900-041-49\n", "HW49"} {
		err := catalog.ValidCode(code)
		var e *errs.Error
		if !errors.As(err, &e) || e.Code != "waste_code_format" || e.Kind != errs.Invalid {
			t.Errorf("ValidCode(%q) = %v, want waste_code_format", code, err)
		}
	}
}

func TestCategoryOf(t *testing.T) {
	for code, want := range map[string]string{
		"900-249-08": "HW08", "841-001-01": "HW01", "261-151-50": "HW50", "900-001-41": "HW41", "bad": "", "900-24-908": "",
	} {
		if got := catalog.CategoryOf(code); got != want {
			t.Errorf("CategoryOf(%q) = %q, want %q", code, got, want)
		}
	}
}

func TestParseCharacteristics(t *testing.T) {
	ok := map[string][]string{
		"T":          {"T"},
		"In":         {"In"},
		"T,I":        {"T", "I"},
		"I,T":        {"T", "I"},
		"T/C/I/R":    {"T", "C", "I", "R"},
		"T/C/I/R/In": {"T", "C", "I", "R", "In"},
		"R,T":        {"T", "R"},
		"C，T":        {"T", "C"},
		"T、In":       {"T", "In"},
		" t  i ":     {"T", "I"},
		"IN,in,T,t":  {"T", "In"},
		"R/C":        {"C", "R"},
		"T / In":     {"T", "In"},
		",T,,C,":     {"T", "C"},
		"In/I":       {"I", "In"},
		"T\tC":       {"T", "C"},
		"R，C，I，T，In": {"T", "C", "I", "R", "In"},
	}
	for in, want := range ok {
		got, err := catalog.ParseCharacteristics(in)
		if err != nil || !slices.Equal(got, want) {
			t.Errorf("ParseCharacteristics(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	bad := map[string]string{
		"":        "characteristic_missing",
		" , / ":   "characteristic_missing",
		"X":       "characteristic_unknown",
		"TI":      "characteristic_unknown",
		"T;I":     "characteristic_unknown",
		"毒性":      "characteristic_unknown",
		"T,Inf":   "characteristic_unknown",
		"T,I,R,Z": "characteristic_unknown",
	}
	for in, code := range bad {
		got, err := catalog.ParseCharacteristics(in)
		var e *errs.Error
		if !errors.As(err, &e) || e.Code != code {
			t.Errorf("ParseCharacteristics(%q) = %v, %v; want %s", in, got, err, code)
		}
	}
}

func TestCharacteristicsJSON(t *testing.T) {
	w := catalog.WasteCode{Code: "900-249-08", Category: "HW08", Characteristics: catalog.Characteristics{"T", "I"}}
	b, err := json.Marshal(w)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"characteristics":["T","I"]`) {
		t.Errorf("JSON %s: characteristics should be an array", b)
	}
}

// readCSV reads a data file of this package with its header.
func readCSV(t *testing.T, path string) (header []string, rows [][]string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs[0], recs[1:]
}

// TestEmbeddedFiles checks the files the binary carries: they are the
// platform's reference data, so a typo is a bug.
func TestEmbeddedFiles(t *testing.T) {
	_, cats := readCSV(t, "data/hw_categories.csv")
	var want []string
	for i := 1; i <= 50; i++ {
		if i < 41 || i > 44 {
			want = append(want, fmt.Sprintf("HW%02d", i))
		}
	}
	names := map[string]string{}
	var got []string
	for _, r := range cats {
		got = append(got, r[0])
		names[r[0]] = r[1]
		if r[1] == "" {
			t.Errorf("category %s has no name", r[0])
		}
	}
	if !slices.Equal(got, want) {
		t.Fatalf("categories = %v, want the 46 of HW01–HW40, HW45–HW50", got)
	}
	if names["HW48"] != "有色金属采选和冶炼废物" {
		t.Errorf("HW48 = %q, want the 2025 name 有色金属采选和冶炼废物", names["HW48"])
	}

	f, err := os.Open("data/waste_codes.csv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	codes, rep, err := catalog.ParseCodes(f, catalog.EditionSubset)
	if err != nil {
		t.Fatalf("waste_codes.csv does not validate: %v (%+v)", err, rep.Problems)
	}
	if n := len(codes); n < 80 || n > 150 {
		t.Errorf("waste_codes.csv has %d codes, want 80–150", n)
	}
	_, raw := readCSV(t, "data/waste_codes.csv")
	for i, w := range codes {
		if catalog.CategoryOf(w.Code) != w.Category || names[w.Category] == "" {
			t.Errorf("%s: category %s", w.Code, w.Category)
		}
		if w.Code[:3] == "900" && w.Industry != "非特定行业" {
			t.Errorf("%s: industry %q, want 非特定行业", w.Code, w.Industry)
		}
		// The file is written in canonical form, so what is stored is what is read.
		if raw[i][4] != w.Characteristics.String() {
			t.Errorf("%s: characteristics %q not in canonical form %q", w.Code, raw[i][4], w.Characteristics)
		}
	}
	have := map[string]bool{}
	for _, w := range codes {
		have[w.Code] = true
	}
	for _, c := range []string{
		"900-249-08", "900-214-08", "900-217-08", "900-218-08", "900-219-08", "900-041-49", "900-039-49",
		"900-047-49", "900-999-49", "900-052-31", "900-252-12", "841-001-01", "841-005-01", "900-002-03",
		"772-002-18", "336-064-17", "900-300-34", "900-349-34", "900-352-35", "900-399-35", "900-401-06",
		"900-405-06", "900-023-29", "261-151-50", "772-007-50", "252-002-11", "451-001-11",
	} {
		if !have[c] {
			t.Errorf("waste_codes.csv lacks %s", c)
		}
	}

	header, methods := readCSV(t, "data/methods.csv")
	if !slices.Equal(header, []string{"code", "kind", "name", "local"}) {
		t.Errorf("methods.csv header %v", header)
	}
	wantKinds := map[string]string{}
	for _, c := range []string{"R1", "R2", "R3", "R4", "R5", "R6", "R7", "R8", "R9", "R15"} {
		wantKinds[c] = "utilisation"
	}
	for _, c := range []string{"D1", "D9", "D10", "D16"} {
		wantKinds[c] = "disposal"
	}
	for _, c := range []string{"C1", "C2", "C3"} {
		wantKinds[c] = "other"
	}
	for _, c := range []string{"Y10", "Y11", "Y12", "Y13", "Y16"} {
		wantKinds[c] = "medical"
	}
	if len(methods) != len(wantKinds) {
		t.Errorf("methods.csv has %d rows, want %d", len(methods), len(wantKinds))
	}
	for _, m := range methods {
		kind, ok := wantKinds[m[0]]
		if !ok || kind != m[1] || m[2] == "" {
			t.Errorf("method %v: want kind %q", m, kind)
		}
		if wantLocal := map[bool]string{true: "1", false: "0"}[kind == "medical"]; m[3] != wantLocal {
			t.Errorf("method %s: local = %s, want %s", m[0], m[3], wantLocal)
		}
	}

	// Every code an exemption names is one the subset carries.
	_, exemptions := readCSV(t, "data/exemptions.csv")
	for _, e := range exemptions {
		if e[1] == "—" {
			continue
		}
		for _, c := range strings.Split(e[1], ",") {
			if !have[c] {
				t.Errorf("exemption %s names %s, which waste_codes.csv lacks", e[0], c)
			}
		}
	}

	_, gisw := readCSV(t, "data/gisw_categories.csv")
	seen := map[string]bool{}
	for _, g := range gisw {
		if !strings.HasPrefix(g[0], "SW") || seen[g[0]] || g[1] == "" {
			t.Errorf("gisw category %v", g)
		}
		seen[g[0]] = true
	}
	for _, c := range []string{"SW01", "SW02", "SW03", "SW04", "SW06"} {
		if !seen[c] {
			t.Errorf("gisw_categories.csv lacks %s", c)
		}
	}
}

// sharedData finds the project's shared reference data beside the repository
// (CI copies shared/ there); tests that need it skip without it.
func sharedData(t *testing.T, name string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "data", name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("shared reference data not found at %s", p)
	}
	return p
}

func TestCategoriesMatchSharedReference(t *testing.T) {
	_, ref := readCSV(t, sharedData(t, "hw_categories.csv"))
	_, ours := readCSV(t, "data/hw_categories.csv")
	if len(ref) != len(ours) {
		t.Fatalf("%d categories, reference has %d", len(ours), len(ref))
	}
	for i := range ref {
		if ref[i][0] != ours[i][0] || ref[i][1] != ours[i][1] {
			t.Errorf("category %v, reference %v", ours[i], ref[i])
		}
	}
}

func TestMethodsMatchSharedReference(t *testing.T) {
	_, ref := readCSV(t, sharedData(t, "disposal_method_codes.csv"))
	_, ours := readCSV(t, "data/methods.csv")
	kinds := map[string]string{"利用": "utilisation", "处置": "disposal", "其他": "other", "医疗废物": "medical"}
	byCode := map[string][]string{}
	for _, m := range ours {
		byCode[m[0]] = m
	}
	if len(ref) != len(ours) {
		t.Errorf("%d methods, reference has %d", len(ours), len(ref))
	}
	for _, r := range ref {
		m, ok := byCode[r[0]]
		if !ok {
			t.Errorf("method %s missing", r[0])
			continue
		}
		if m[1] != kinds[r[1]] || m[2] != r[2] {
			t.Errorf("method %v, reference %v", m, r)
		}
	}
}
