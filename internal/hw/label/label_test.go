package label_test

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"io"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"wufei/internal/hw/label"
)

func sample(volume float64) label.Label {
	return label.Label{DigitalID: "91340621MA2N8C01XX" + "90024908" + "20260115" + "007", Name: "废矿物油（含废机油、液压油）",
		Category: "HW08", WasteCode: "900-249-08", Form: "L", Characteristics: []string{"T", "I"},
		Components: "矿物油 85%、水 10%、杂质", HazardousComponents: "多环芳烃、重金属", Precautions: "远离火源，防止泄漏，<小心>轻放 & 密闭贮存",
		UnitName: "淮北濉溪临涣煤化有限", ContactName: "王建国", ContactPhone: "0561-6012345",
		GeneratedAt: time.Date(2026, 1, 15, 2, 0, 0, 0, time.UTC), QuantityG: 180_500, Remark: "2 号桶",
		VolumeL: volume, URL: "https://wufei.example/l/91340621MA2N8C01XX9002490820260115007"}
}

func TestSize(t *testing.T) {
	for _, c := range []struct {
		v          float64
		mm, copies int
	}{{0, 100, 1}, {50, 100, 1}, {50.1, 150, 1}, {200, 150, 1}, {449.9, 150, 1}, {450, 200, 1}, {450.5, 200, 2}, {1000, 200, 2}} {
		if mm, n := label.Size(c.v); mm != c.mm || n != c.copies {
			t.Errorf("Size(%v) = %d mm × %d, want %d × %d", c.v, mm, n, c.mm, c.copies)
		}
	}
}

func TestSVG(t *testing.T) {
	for _, v := range []float64{20, 200, 1000} {
		var b bytes.Buffer
		if err := label.SVG(&b, sample(v)); err != nil {
			t.Fatal(err)
		}
		out := b.String()
		// Well-formed XML throughout.
		d := xml.NewDecoder(strings.NewReader(out))
		for {
			_, err := d.Token()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatalf("volume %v: bad XML: %v\n%s", v, err, out)
			}
		}
		mm, _ := label.Size(v)
		if !strings.Contains(out, `width="`+itoa(mm)+`mm"`) {
			t.Errorf("volume %v: not %d mm wide", v, mm)
		}
		for _, want := range []string{"危险废物", "废物名称：", "废物类别：", "HW08", "废物代码：", "900-249-08", "废物形态：", "液态",
			"危险特性：", "毒性、易燃性", "主要成分：", "有害成分：", "注意事项：", "&lt;小", "数字识别码：",
			"91340621MA2N8C01XX9002490820260115007", "产生/收集单位：", "淮北濉溪临涣煤化有限", "联系人：", "王建国",
			"联系方式：", "0561-6012345", "产生日期：", "2026-01-15", "废物重量：", "180.5 kg", "备注：", "2 号桶", "<polygon", "<path"} {
			if !strings.Contains(out, want) {
				t.Errorf("volume %v: SVG lacks %q", v, want)
			}
		}
		if strings.Contains(out, "style=") {
			t.Error("SVG uses style attributes, which a strict CSP blocks inline")
		}
		if os.Getenv("LABEL_OUT") != "" {
			os.WriteFile(filepath.Join(os.Getenv("LABEL_OUT"), "label-"+itoa(mm)+".svg"), b.Bytes(), 0o644)
		}
	}
}

func TestPNG(t *testing.T) {
	for _, v := range []float64{20, 200, 1000} {
		l := sample(v)
		l.Characteristics = []string{"T", "C", "I", "R", "In"}
		var b bytes.Buffer
		if err := label.PNG(&b, l); err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(b.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		mm, _ := label.Size(v)
		want := int(math.Round(float64(mm) / 25.4 * label.DPI))
		if got := img.Bounds().Dx(); got != want || img.Bounds().Dy() != want {
			t.Errorf("volume %v: %d px, want %d (%d mm at 300 dpi)", v, got, want, mm)
		}
		if os.Getenv("LABEL_OUT") != "" {
			os.WriteFile(filepath.Join(os.Getenv("LABEL_OUT"), "label-"+itoa(mm)+".png"), b.Bytes(), 0o644)
		}
	}
}

func TestBase(t *testing.T) {
	for _, c := range []struct {
		host, proto string
		tls         bool
		want        string
	}{{"wufei.example", "", false, "http://wufei.example"}, {"127.0.0.1:8080", "", true, "https://127.0.0.1:8080"},
		{"wufei.example", "https", false, "https://wufei.example"}, {"evil.example/x?", "", false, "http://localhost"},
		{"[::1]:80", "", false, "http://[::1]:80"}} {
		if got := label.Base(c.host, c.tls, c.proto); got != c.want {
			t.Errorf("Base(%q, %v, %q) = %q, want %q", c.host, c.tls, c.proto, got, c.want)
		}
	}
	if got := label.URL("https://a.example/", "X"); got != "https://a.example/l/X" {
		t.Errorf("URL: %q", got)
	}
}

func BenchmarkPNG(b *testing.B) {
	l := sample(200)
	for b.Loop() {
		if err := label.PNG(io.Discard, l); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSVG(b *testing.B) {
	l := sample(200)
	for b.Loop() {
		if err := label.SVG(io.Discard, l); err != nil {
			b.Fatal(err)
		}
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

// TestQRDecodes reads the PNG's QR code back with zbarimg (zbar-tools),
// when the machine has it.
func TestQRDecodes(t *testing.T) {
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		t.Skip("zbarimg is not installed")
	}
	for _, v := range []float64{20, 200, 1000} {
		l := sample(v)
		f := filepath.Join(t.TempDir(), "label.png")
		var b bytes.Buffer
		if err := label.PNG(&b, l); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(f, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		out, err := exec.Command(zbar, "-q", "--raw", f).Output()
		if err != nil || strings.TrimSpace(string(out)) != l.URL {
			t.Fatalf("volume %v: zbarimg read %q (%v), want %q", v, out, err, l.URL)
		}
	}
}
