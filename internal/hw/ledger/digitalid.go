package ledger

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"wufei/internal/errs"
	"wufei/internal/registry"
)

// DigitalIDLen is the length of an HJ 1276 数字识别码.
const DigitalIDLen = 37

// MaxSequence is the last container sequence of a unit, code and day.
const MaxSequence = 999

// DigitalID is a parsed 数字识别码: the unit's 统一社会信用代码 (18), the
// waste code without hyphens (8), the generation date (8) and a sequence
// per unit, code and day (3). The standard names the four segments and the
// total of 37; the segment lengths are inferred from them (regulations
// reference §2.4).
type DigitalID struct {
	USCC      string
	WasteCode string // ddd-ddd-dd
	Date      string // YYYYMMDD, Asia/Shanghai
	Seq       int
}

// String is the 37-character form.
func (d DigitalID) String() string {
	return d.USCC + strings.ReplaceAll(d.WasteCode, "-", "") + d.Date + fmt.Sprintf("%03d", d.Seq)
}

// ParseDigitalID checks and splits a digital id. field names the input in
// the error.
func ParseDigitalID(field, s string) (DigitalID, error) {
	bad := func(code, msg string) (DigitalID, error) { return DigitalID{}, errs.Field(field, code, msg) }
	if len(s) != DigitalIDLen {
		return bad("digital_id_length", "数字识别码应为 37 位")
	}
	if err := registry.ValidateUSCC(field, s[:18]); err != nil {
		return bad("digital_id_uscc", "数字识别码前 18 位应为有效的统一社会信用代码")
	}
	rest := s[18:]
	for i := 0; i < len(rest); i++ {
		if rest[i] < '0' || rest[i] > '9' {
			return bad("digital_id_digits", "数字识别码第 19–37 位应为数字")
		}
	}
	d := DigitalID{USCC: s[:18], WasteCode: rest[0:3] + "-" + rest[3:6] + "-" + rest[6:8], Date: rest[8:16]}
	if cat, _ := strconv.Atoi(rest[6:8]); cat < 1 || cat > 50 {
		return bad("digital_id_code", "数字识别码中的废物代码类别应为 01–50")
	}
	if t, err := time.Parse("20060102", d.Date); err != nil || t.Format("20060102") != d.Date || t.Year() < 2000 {
		return bad("digital_id_date", "数字识别码中的产生日期无效")
	}
	d.Seq, _ = strconv.Atoi(rest[16:])
	if d.Seq < 1 {
		return bad("digital_id_sequence", "数字识别码的序号应为 001–999")
	}
	return d, nil
}
