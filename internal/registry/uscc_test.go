package registry

import (
	"testing"

	"wufei/internal/errs"
)

func TestValidateUSCC(t *testing.T) {
	for _, c := range []struct {
		in, code string
	}{
		{"91130200699229617X", ""},
		{"9144030071526726XG", ""},
		{"91130200699229617Y", "uscc_check"},
		{"9144030071526726XH", "uscc_check"},
		{"91130200699229618X", "uscc_org_check"}, // check recomputed below
		{"9113020069922961", "uscc_length"},
		{"91130200699229617I", "uscc_charset"},
		{"911302006992296l7X", "uscc_charset"},
		{"91A30200699229617X", "uscc_region"},
	} {
		in := c.in
		if c.code == "uscc_org_check" {
			// A wrong organisation check character with a correct overall check.
			in = in[:17] + string(USCCCheck(in[:17]))
		}
		err := ValidateUSCC("uscc", in)
		got := ""
		if e, ok := err.(*errs.Error); ok {
			got = e.Fields[0].Code
		}
		if got != c.code {
			t.Errorf("ValidateUSCC(%s) = %q, want %q", in, got, c.code)
		}
	}
}

func TestMakeUSCC(t *testing.T) {
	s := MakeUSCC("91", "340600", "MA2N0001")
	if err := ValidateUSCC("uscc", s); err != nil {
		t.Fatalf("%s: %v", s, err)
	}
}

func FuzzValidateUSCC(f *testing.F) {
	f.Add("91130200699229617X")
	f.Add("")
	f.Add("9144030071526726XG")
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateUSCC("uscc", s)
		if err == nil {
			// Anything accepted must have both check characters right.
			if len(s) != 18 || USCCCheck(s[:17]) != s[17] || OrgCodeCheck(s[8:16]) != s[16] {
				t.Fatalf("accepted invalid %q", s)
			}
		}
	})
}
