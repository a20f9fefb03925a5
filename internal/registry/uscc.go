package registry

import (
	"strings"

	"wufei/internal/errs"
)

// usccCharset is GB 32100-2015's alphabet: digits and capitals without I, O,
// S, V and Z. A character's value is its index.
const usccCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// usccWeights are 3^i mod 31 for positions 1–17.
var usccWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// orgWeights are GB 11714's weights for the organisation code (positions 9–16).
var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// USCCCheck returns the check character for the first 17 characters of a
// unified social credit code, or 0 if they hold a character outside the
// alphabet.
func USCCCheck(first17 string) byte {
	if len(first17) != 17 {
		return 0
	}
	sum := 0
	for i := 0; i < 17; i++ {
		v := strings.IndexByte(usccCharset, first17[i])
		if v < 0 {
			return 0
		}
		sum += v * usccWeights[i]
	}
	return usccCharset[(31-sum%31)%31]
}

// OrgCodeCheck returns the GB 11714 check character for the 8-character
// body of an organisation code, or 0 if a character is not a digit or
// capital letter.
func OrgCodeCheck(body string) byte {
	if len(body) != 8 {
		return 0
	}
	sum := 0
	for i := 0; i < 8; i++ {
		c := body[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return 0
		}
		sum += v * orgWeights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X'
	case 11:
		return '0'
	default:
		return byte('0' + c)
	}
}

// ValidateUSCC checks a 统一社会信用代码 against GB 32100-2015: length,
// alphabet, the region digits, the check character, and the check character
// of the embedded organisation code.
func ValidateUSCC(field, s string) error {
	switch {
	case len(s) != 18:
		return errs.Field(field, "uscc_length", "统一社会信用代码应为 18 位")
	case strings.Trim(s, usccCharset) != "":
		return errs.Field(field, "uscc_charset", "统一社会信用代码含有不允许的字符（不使用 I、O、S、V、Z 与小写字母）")
	}
	for _, c := range s[2:8] {
		if c < '0' || c > '9' {
			return errs.Field(field, "uscc_region", "统一社会信用代码第 3–8 位应为行政区划码")
		}
	}
	if USCCCheck(s[:17]) != s[17] {
		return errs.Field(field, "uscc_check", "统一社会信用代码校验位错误")
	}
	if OrgCodeCheck(s[8:16]) != s[16] {
		return errs.Field(field, "uscc_org_check", "统一社会信用代码中组织机构代码的校验位错误")
	}
	return nil
}

// MakeUSCC builds a valid code from a registration prefix (2 characters), a
// 6-digit region code and an 8-character organisation body, computing both
// check characters. The demo data and tests use it.
func MakeUSCC(prefix, region, orgBody string) string {
	s := prefix + region + orgBody + string(OrgCodeCheck(orgBody))
	return s + string(USCCCheck(s))
}
