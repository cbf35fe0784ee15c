package still

import (
	"bytes"
	"encoding/binary"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/jpeg"
	"image/png"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
)

// scene draws a room-like 640×360 view: lit gradient, furniture rectangles, and
// sensor noise (a fresh noise per shot, as a live camera has). dx shifts the scene
// (the camera turned).
func scene(seed uint64, shot uint64, dx int) *image.YCbCr {
	const w, h = 640, 360
	img := image.NewYCbCr(image.Rect(0, 0, w, h), image.YCbCrSubsampleRatio420)
	rng := rand.New(rand.NewPCG(seed, 1))
	type rect struct{ x0, y0, x1, y1, v int }
	var rs []rect
	for range 14 {
		x0, y0 := rng.IntN(w*2)-w/2, rng.IntN(h)
		rs = append(rs, rect{x0, y0, x0 + 30 + rng.IntN(200), y0 + 20 + rng.IntN(150), 30 + rng.IntN(200)})
	}
	noise := rand.New(rand.NewPCG(seed, shot+100))
	for y := range h {
		for x := range w {
			sx := x + dx
			v := 60 + 80*float64(sx)/float64(w) + 20*math.Sin(float64(y)/40)
			for _, r := range rs {
				if sx >= r.x0 && sx < r.x1 && y >= r.y0 && y < r.y1 {
					v = float64(r.v) + 10*math.Sin(float64(sx+y)/6) // texture
				}
			}
			v += noise.NormFloat64() * 3
			img.Y[y*img.YStride+x] = uint8(min(max(v, 0), 255))
		}
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 128, 128
	}
	return img
}

func uniform(v uint8, noise float64, seed uint64) *image.YCbCr {
	img := image.NewYCbCr(image.Rect(0, 0, 640, 360), image.YCbCrSubsampleRatio420)
	rng := rand.New(rand.NewPCG(seed, 2))
	for i := range img.Y {
		img.Y[i] = uint8(min(max(float64(v)+rng.NormFloat64()*noise, 0), 255))
	}
	for i := range img.Cb {
		img.Cb[i], img.Cr[i] = 128, 128
	}
	return img
}

func encode(t testing.TB, img image.Image) []byte {
	t.Helper()
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, &jpeg.Options{Quality: 80}); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// learned returns a reference learned on 10 live shots of scene seed.
func learned(t *testing.T, seed uint64) *Reference {
	t.Helper()
	ref := &Reference{}
	p := DefaultParams()
	for shot := range uint64(p.LearnStills) {
		v, err := Analyze(encode(t, scene(seed, shot, 0)), ref, p)
		if err != nil {
			t.Fatal(err)
		}
		if v.State != Learning && v.State != OK {
			t.Fatalf("learning shot %d: %+v", shot, v)
		}
	}
	if ref.N != p.LearnStills {
		t.Fatalf("learned %d stills", ref.N)
	}
	return ref
}

func TestVerdicts(t *testing.T) {
	p := DefaultParams()
	cases := []struct {
		name string
		img  image.Image
		want State
	}{
		{"the same room, a new shot", scene(1, 50, 0), OK},
		{"black frame", uniform(3, 1, 1), Dark},
		{"grey tape", uniform(128, 1.5, 2), Covered},
		{"turned: the scene shifted by half a view", scene(1, 51, 320), TurnedAway},
		{"a different room", scene(2, 52, 0), TurnedAway},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ref := learned(t, 1)
			v, err := Analyze(encode(t, c.img), ref, p)
			if err != nil {
				t.Fatal(err)
			}
			t.Logf("%s: %s %q %+v", c.name, v.State, v.Reason, v.Measures)
			if v.State != c.want {
				t.Fatalf("state %s, want %s (%+v)", v.State, c.want, v)
			}
			if v.State.Sees() != (c.want == OK) {
				t.Fatalf("Sees() = %v", v.State.Sees())
			}
		})
	}
}

func TestFrozen(t *testing.T) {
	p := DefaultParams()
	ref := learned(t, 1)
	still := encode(t, scene(1, 60, 0))
	if v, _ := Analyze(still, ref, p); v.State != OK {
		t.Fatalf("first: %+v", v)
	}
	v, err := Analyze(still, ref, p)
	if err != nil || v.State != Frozen || !v.Measures.Identical || !strings.Contains(v.Reason, "byte-identical") {
		t.Fatalf("repeat: %+v %v", v, err)
	}
	// The same frame with a new clock overlay: not byte-identical, but
	// near-identical while this camera's view usually changes.
	img := scene(1, 60, 0)
	for y := 10; y < 22; y++ {
		for x := 10; x < 90; x++ {
			img.Y[y*img.YStride+x] = 255
		}
	}
	v, _ = Analyze(encode(t, img), ref, p)
	if v.State != Frozen || v.Measures.Identical {
		t.Fatalf("re-encoded: %+v (typical change %.2f)", v, ref.TypicalChange)
	}
	// A live shot again: OK.
	if v, _ := Analyze(encode(t, scene(1, 61, 0)), ref, p); v.State != OK {
		t.Fatalf("live again: %+v", v)
	}
}

func TestPNGAndGray(t *testing.T) {
	var b bytes.Buffer
	g := image.NewGray(image.Rect(0, 0, 64, 36))
	for i := range g.Pix {
		g.Pix[i] = uint8(i * 7)
	}
	if err := png.Encode(&b, g); err != nil {
		t.Fatal(err)
	}
	v, err := Analyze(b.Bytes(), &Reference{}, DefaultParams())
	if err != nil || v.State != Learning {
		t.Fatalf("png: %+v %v", v, err)
	}
	// An RGBA PNG goes through the generic path.
	b.Reset()
	rgba := image.NewRGBA(image.Rect(0, 0, 3, 2))
	rgba.Set(0, 0, color.White)
	if err := png.Encode(&b, rgba); err != nil {
		t.Fatal(err)
	}
	if _, err := Analyze(b.Bytes(), &Reference{}, DefaultParams()); err != nil {
		t.Fatal(err)
	}
}

func TestBadInput(t *testing.T) {
	p := DefaultParams()
	if _, err := Analyze([]byte("<html>login</html>"), &Reference{}, p); err == nil || !strings.Contains(err.Error(), "not a JPEG or PNG image") {
		t.Fatalf("html: %v", err)
	}
	good := encode(t, uniform(100, 5, 3))
	if _, err := Analyze(good[:len(good)/2], &Reference{}, p); err == nil || !strings.Contains(err.Error(), "decode jpeg") {
		t.Fatalf("truncated: %v", err)
	}
	// A PNG header claiming 100000×100000 pixels is refused before decoding.
	var b bytes.Buffer
	if err := png.Encode(&b, image.NewGray(image.Rect(0, 0, 1, 1))); err != nil {
		t.Fatal(err)
	}
	huge := b.Bytes()
	huge[16], huge[17], huge[18], huge[19] = 0, 1, 0x86, 0xa0 // width 100000
	huge[20], huge[21], huge[22], huge[23] = 0, 1, 0x86, 0xa0 // height
	binary.BigEndian.PutUint32(huge[29:], crc32.ChecksumIEEE(huge[12:29]))
	if _, err := Analyze(huge, &Reference{}, p); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "100000×100000") {
		t.Fatalf("huge: %v", err)
	}
}

func FuzzAnalyze(f *testing.F) {
	f.Add(encode(f, uniform(100, 5, 3)))
	f.Add([]byte("\xff\xd8\xff"))
	f.Fuzz(func(t *testing.T, data []byte) {
		ref := &Reference{}
		for range 2 {
			v, err := Analyze(data, ref, DefaultParams())
			if err == nil && (v.State < OK || v.State > TurnedAway || math.IsNaN(v.Measures.Brightness)) {
				t.Fatalf("verdict %+v", v)
			}
		}
	})
}

func BenchmarkAnalyze640x360(b *testing.B) {
	data := encode(b, scene(1, 1, 0))
	ref := &Reference{}
	p := DefaultParams()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := Analyze(data, ref, p); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(data)), "jpeg-bytes")
}
