package ledger_test

import (
	"testing"

	"wufei/internal/errs"
	"wufei/internal/hw/ledger"
	"wufei/internal/registry"
)

func TestParseDigitalID(t *testing.T) {
	uscc := registry.MakeUSCC("91", "340621", "MA2N8C01")
	good := uscc + "90024908" + "20260115" + "001"
	d, err := ledger.ParseDigitalID("id", good)
	if err != nil || d.USCC != uscc || d.WasteCode != "900-249-08" || d.Date != "20260115" || d.Seq != 1 || d.String() != good {
		t.Fatalf("%+v %v", d, err)
	}
	for _, c := range []struct{ id, code string }{
		{good[:36], "digital_id_length"},
		{good + "1", "digital_id_length"},
		{uscc[:17] + "0" + good[18:], "digital_id_uscc"},
		{uscc + "9002490A" + "20260115001", "digital_id_digits"},
		{uscc + "90024999" + "20260115001", "digital_id_code"},
		{uscc + "90024900" + "20260115001", "digital_id_code"},
		{uscc + "90024908" + "20260230001", "digital_id_date"},
		{uscc + "90024908" + "19991231001", "digital_id_date"},
		{uscc + "90024908" + "20260115000", "digital_id_sequence"},
	} {
		_, err := ledger.ParseDigitalID("id", c.id)
		wantErr(t, err, errs.Invalid, c.code, "id")
	}
}

// FuzzParseDigitalID checks that the parser never panics and that whatever
// it accepts prints back as itself.
func FuzzParseDigitalID(f *testing.F) {
	uscc := registry.MakeUSCC("91", "340621", "MA2N8C01")
	for _, s := range []string{uscc + "90024908" + "20260115" + "001", uscc + "90004149" + "20241231" + "999", "", "x",
		uscc + "90024908" + "2026011500１", uscc + "900-249-08" + "20260115"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := ledger.ParseDigitalID("id", s)
		if err != nil {
			if errs.KindOf(err) != errs.Invalid {
				t.Fatalf("%q: %v is not a validation error", s, err)
			}
			return
		}
		if d.String() != s || d.Seq < 1 || d.Seq > ledger.MaxSequence || len(d.WasteCode) != 10 {
			t.Fatalf("%q parsed as %+v, prints as %q", s, d, d.String())
		}
	})
}
