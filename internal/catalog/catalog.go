// Package catalog holds the national hazardous-waste catalogue (国家危险废物名录,
// 2025 edition) and the code lists that go with it: the 46 waste categories,
// utilisation and disposal methods, the exemption list (豁免管理清单) and the
// general industrial solid-waste categories.
//
// The project ships its own copy of these lists (see data/README.md). The
// waste-code list built in is a subset; the full official list is loaded with
// Import. The validation functions need no database, so every other package
// can check a code or a set of hazard characteristics where it reads one.
package catalog

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"unicode/utf8"

	"wufei/internal/errs"
)

// Editions recorded in waste_codes.edition. The built-in list says it is a
// subset so that no screen can pass it off as the whole catalogue.
const (
	Edition       = "2025"
	EditionSubset = "2025-subset"
)

// Category is one waste category, HW01 … HW50.
type Category struct {
	Code string `db:"code" json:"code"`
	Name string `db:"name" json:"name"`
}

// WasteCode is one entry of the catalogue.
type WasteCode struct {
	Code            string          `db:"code" json:"code"`         // ddd-ddd-dd
	Category        string          `db:"category" json:"category"` // HWxx, equal to the code's last two digits
	Industry        string          `db:"industry" json:"industry"` // 行业来源; 非特定行业 for 900- codes
	Description     string          `db:"description" json:"description"`
	Characteristics Characteristics `db:"characteristics" json:"characteristics"`
	Edition         string          `db:"edition" json:"edition"`
}

// Method is a utilisation or disposal method code (利用/处置方式).
type Method struct {
	Code  string `db:"code" json:"code"`
	Kind  string `db:"kind" json:"kind"` // utilisation | disposal | other | medical
	Name  string `db:"name" json:"name"`
	Local bool   `db:"local" json:"local"` // a platform-local code, not from a national list
}

// Method kinds.
const (
	KindUtilisation = "utilisation"
	KindDisposal    = "disposal"
	KindOther       = "other"
	KindMedical     = "medical"
)

// Exemption is one item of the exemption list: in the named stage, and when
// the condition holds, the waste is not managed as hazardous in the way the
// exemption says.
type Exemption struct {
	No          int64  `db:"no" json:"no"`
	WasteCode   string `db:"waste_code" json:"waste_code"` // a code, a comma list of codes, or "—"
	Description string `db:"description" json:"description"`
	Stage       string `db:"stage" json:"stage"`
	Condition   string `db:"condition" json:"condition"`
	Exemption   string `db:"exemption" json:"exemption"`
}

// GISWCategory is a general industrial solid-waste category used in ledgers.
type GISWCategory struct {
	Code string `db:"code" json:"code"`
	Name string `db:"name" json:"name"`
	Note string `db:"note" json:"note"`
}

// ValidCode reports whether code has the catalogue's form ddd-ddd-dd. It does
// not say whether the code is listed.
func ValidCode(code string) error {
	if !wellFormed(code) {
		return errs.E(errs.Invalid, "waste_code_format", fmt.Sprintf("废物代码 %q 格式应为 ddd-ddd-dd，如 900-041-49", clip(code)))
	}
	return nil
}

func wellFormed(code string) bool {
	if len(code) != 10 || code[3] != '-' || code[7] != '-' {
		return false
	}
	for i := 0; i < len(code); i++ {
		if i == 3 || i == 7 {
			continue
		}
		if code[i] < '0' || code[i] > '9' {
			return false
		}
	}
	return true
}

// CategoryOf returns the category a code belongs to — its last two digits
// after "HW", so "HW08" for "900-249-08" — or "" if the code is malformed.
// The category is part of the code itself, which is why it is never looked
// up; whether it is one of the 46 is a separate question.
func CategoryOf(code string) string {
	if !wellFormed(code) {
		return ""
	}
	return "HW" + code[8:]
}

// Characteristics are hazard characteristics (危险特性) in canonical order
// T, C, I, R, In. The database keeps them as a comma list ("T,I"); JSON shows
// them as an array.
type Characteristics []string

// characteristicOrder is the canonical order: toxicity, corrosivity,
// ignitability, reactivity, infectivity.
var characteristicOrder = [...]string{"T", "C", "I", "R", "In"}

// ParseCharacteristics reads a characteristics list as the catalogue and
// the systems built on it write them — "T", "T,I", "T/C/I/R", "T，In",
// "T I" — and returns it in canonical order without repeats. Letters are
// matched without regard to case. Anything else, or an empty list, is an
// error.
func ParseCharacteristics(s string) ([]string, error) {
	var seen [len(characteristicOrder)]bool
	n := 0
	for _, tok := range strings.FieldsFunc(s, isCharSep) {
		i := indexCharacteristic(tok)
		if i < 0 {
			return nil, errs.E(errs.Invalid, "characteristic_unknown",
				fmt.Sprintf("危险特性 %q 无法识别，只能是 T、C、I、R、In", clip(tok)))
		}
		if !seen[i] {
			seen[i] = true
			n++
		}
	}
	if n == 0 {
		return nil, errs.E(errs.Invalid, "characteristic_missing", "危险特性不能为空，应为 T、C、I、R、In 中的一项或几项")
	}
	out := make([]string, 0, n)
	for i, ok := range seen {
		if ok {
			out = append(out, characteristicOrder[i])
		}
	}
	return out, nil
}

func isCharSep(r rune) bool {
	switch r {
	case ',', '/', '，', '、', ' ', '\t', '\u3000':
		return true
	}
	return false
}

func indexCharacteristic(tok string) int {
	for i, c := range characteristicOrder {
		if strings.EqualFold(tok, c) {
			return i
		}
	}
	return -1
}

// String is the stored form, e.g. "T,I".
func (c Characteristics) String() string { return strings.Join(c, ",") }

// Value stores the list as its comma form.
func (c Characteristics) Value() (driver.Value, error) { return c.String(), nil }

// Scan reads the stored comma form. Stored lists were validated on the way
// in, so an unreadable one is reported rather than repaired.
func (c *Characteristics) Scan(src any) error {
	var s string
	switch v := src.(type) {
	case string:
		s = v
	case []byte:
		s = string(v)
	case nil:
	default:
		return fmt.Errorf("catalog: characteristics: cannot scan %T", src)
	}
	if strings.TrimSpace(s) == "" {
		*c = Characteristics{}
		return nil
	}
	p, err := ParseCharacteristics(s)
	if err != nil {
		return fmt.Errorf("catalog: stored characteristics %q: %w", s, err)
	}
	*c = p
	return nil
}

// clip shortens outside input quoted in a message, so a hostile file cannot
// make an error message arbitrarily large.
func clip(s string) string {
	const limit = 24 // characters
	if utf8.RuneCountInString(s) <= limit {
		return s
	}
	return string([]rune(s)[:limit]) + "…"
}
