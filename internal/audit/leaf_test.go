package audit_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"wufei/internal/audit"
)

// leafByJSON is the leaf as first defined, field by field through
// encoding/json; every stored hash was made from these bytes.
func leafByJSON(e *audit.Entry) []byte {
	var b bytes.Buffer
	w := func(key string, v any, last bool) {
		k, _ := json.Marshal(key)
		b.Write(k)
		b.WriteByte(':')
		if raw, ok := v.(json.RawMessage); ok {
			b.Write(raw)
		} else {
			j, _ := json.Marshal(v)
			b.Write(j)
		}
		if !last {
			b.WriteByte(',')
		}
	}
	b.WriteByte('{')
	w("seq", e.Seq, false)
	w("at", e.At.UTC().Format("2006-01-02T15:04:05.000000Z"), false)
	w("actor_user_id", e.ActorUserID, false)
	w("actor_username", e.ActorUsername, false)
	w("actor_role", e.ActorRole, false)
	w("actor_unit_id", e.ActorUnitID, false)
	w("action", e.Action, false)
	w("entity", e.Entity, false)
	w("entity_id", e.EntityID, false)
	w("unit_id", e.UnitID, false)
	w("region_code", e.RegionCode, false)
	w("change", json.RawMessage(e.Change), false)
	w("prev_hash", fmt.Sprintf("%x", e.PrevHash), true)
	b.WriteByte('}')
	return b.Bytes()
}

// FuzzLeaf holds Leaf to the bytes encoding/json gives for any text in any
// field: a leaf that differed would break every hash already stored.
func FuzzLeaf(f *testing.F) {
	for _, s := range []string{"", "sthjj", "淮北市生态环境局", "a<b>&c", "引号\"和\\反斜杠", "tab\there\nline\r\x00\x1f",
		"\u2028\u2029", "—…①", "bad\xffutf8\xe2\x80", "\x7f", "emoji 🚛"} {
		f.Add(int64(7), int64(1764300000123456), s, `{"name":"`+s+`"}`, []byte{0xab, 0x01})
	}
	f.Fuzz(func(t *testing.T, seq, micros int64, text, change string, prev []byte) {
		e := audit.Entry{Seq: seq, At: time.UnixMicro(micros), ActorUserID: text, ActorUsername: text + "u",
			ActorRole: "regulator", ActorUnitID: text, Action: "unit.update", Entity: text, EntityID: "x" + text,
			UnitID: text, RegionCode: "340602", Change: change, PrevHash: prev}
		if got, want := e.Leaf(), leafByJSON(&e); !bytes.Equal(got, want) {
			t.Fatalf("leaf\n%q\nencoding/json gives\n%q", got, want)
		}
	})
}
