// Package still tells from one camera still whether the camera sees its zone:
// blacked out (very dark), covered (no detail: tape, a cloth), frozen (the same
// picture again while the camera's view normally changes) or turned away (the view
// no longer matches the one learned over its first stills). Pure Go (image/jpeg,
// image/png). Only the verdict and the measures leave [Analyze]; the still itself
// is not kept. The [Reference] holds a 16×9 grid of block means (the learned view)
// and, in memory only (never serialised), a 64×36 grid of the previous still.
package still

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"image"
	_ "image/jpeg" // decoders
	_ "image/png"
	"math"
	"slices"
)

// Grid sizes.
const (
	RefW, RefH   = 16, 9 // the learned view
	PrevW, PrevH = 64, 36
	// MaxPixels bounds a still's size before it is decoded (a 4K frame fits).
	MaxPixels = 4096 * 2304
)

// State is the verdict.
type State uint8

// States.
const (
	OK         State = iota + 1
	Learning         // the reference is still being learned: counts as seeing
	Dark             // blacked out
	Covered          // no detail
	Frozen           // the same picture again
	TurnedAway       // the view does not match the reference
)

// String returns the state's name.
func (s State) String() string {
	switch s {
	case OK:
		return "ok"
	case Learning:
		return "learning"
	case Dark:
		return "dark"
	case Covered:
		return "covered"
	case Frozen:
		return "frozen"
	case TurnedAway:
		return "turned_away"
	}
	return fmt.Sprintf("state(%d)", uint8(s))
}

// Sees reports whether a camera in this state covers its zones.
func (s State) Sees() bool { return s == OK || s == Learning }

// Params are the thresholds.
type Params struct {
	DarkLevel     float64 // mean luma (0–255) below which a still is dark
	CoveredDetail float64 // mean gradient (0–255) below which a still is covered
	FrozenChange  float64 // change (median abs difference of the 64×36 grid) below which a still repeats
	LiveChange    float64 // the reference's typical change must reach this for a near-repeat to count as frozen
	TurnedCorr    float64 // correlation with the learned view below which it is turned away
	LearnStills   int     // stills that learn the reference
}

// DefaultParams returns the thresholds the tests check.
func DefaultParams() Params {
	return Params{DarkLevel: 12, CoveredDetail: 1.5, FrozenChange: 0.03, LiveChange: 0.15, TurnedCorr: 0.7, LearnStills: 10}
}

// Measures are what is measured on one still.
type Measures struct {
	Brightness float64 // mean luma, 0–255
	Detail     float64 // mean absolute gradient of a 4×-downscaled luma, 0–255
	Change     float64 // median abs difference to the previous still's 64×36 grid (a clock overlay moves no median); −1 with no previous
	Corr       float64 // correlation with the learned view; NaN while learning or when flat
	Identical  bool    // byte-identical to the previous still
}

// Verdict is Analyze's answer.
type Verdict struct {
	State    State
	Reason   string
	Measures Measures
}

// Reference is one camera's own learned view and what it needs from the previous
// still. The zero value starts learning. The integrator may persist View, N and
// TypicalChange; prev is memory only.
type Reference struct {
	View          [RefW * RefH]float64 // mean normalised block grid of the learned view
	N             int                  // stills learned
	TypicalChange float64              // mean change between consecutive learned stills
	changes       int
	prev          [PrevW * PrevH]float64
	prevSum       [32]byte
	hasPrev       bool
}

// ErrTooLarge is returned for a still with more than MaxPixels pixels.
var ErrTooLarge = errors.New("still: image too large")

// Analyze decodes a JPEG or PNG still and judges it against ref, which it updates.
func Analyze(data []byte, ref *Reference, p Params) (Verdict, error) {
	cfg, format, err := image.DecodeConfig(bytes.NewReader(data))
	if err != nil {
		return Verdict{}, fmt.Errorf("still: not a JPEG or PNG image: %w", err)
	}
	if cfg.Width <= 0 || cfg.Height <= 0 || cfg.Width*cfg.Height > MaxPixels || cfg.Width > 1<<15 || cfg.Height > 1<<15 {
		return Verdict{}, fmt.Errorf("%w: %s of %d×%d pixels (at most %d)", ErrTooLarge, format, cfg.Width, cfg.Height, MaxPixels)
	}
	img, _, err := image.Decode(bytes.NewReader(data))
	if err != nil {
		return Verdict{}, fmt.Errorf("still: decode %s: %w", format, err)
	}
	sum := sha256.Sum256(data)
	return judge(luma(img), sum, ref, p), nil
}

// plane is a luma plane.
type plane struct {
	w, h int
	pix  []uint8
}

// luma returns the image's luma, without a copy for YCbCr (JPEG) and gray images.
func luma(img image.Image) plane {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	switch m := img.(type) {
	case *image.YCbCr:
		if m.YStride == w {
			return plane{w, h, m.Y[:w*h]}
		}
		pix := make([]uint8, w*h)
		for y := range h {
			copy(pix[y*w:(y+1)*w], m.Y[y*m.YStride:y*m.YStride+w])
		}
		return plane{w, h, pix}
	case *image.Gray:
		pix := make([]uint8, w*h)
		for y := range h {
			copy(pix[y*w:(y+1)*w], m.Pix[y*m.Stride:y*m.Stride+w])
		}
		return plane{w, h, pix}
	}
	pix := make([]uint8, w*h)
	for y := range h {
		for x := range w {
			r, g, bl, _ := img.At(b.Min.X+x, b.Min.Y+y).RGBA()
			pix[y*w+x] = uint8((19595*r + 38470*g + 7471*bl + 1<<15) >> 24)
		}
	}
	return plane{w, h, pix}
}

// grid returns the means of gw×gh blocks of the plane (blocks cover the plane;
// a plane smaller than the grid repeats pixels).
func grid(pl plane, gw, gh int, out []float64) {
	for gy := range gh {
		y0, y1 := gy*pl.h/gh, max((gy+1)*pl.h/gh, gy*pl.h/gh+1)
		for gx := range gw {
			x0, x1 := gx*pl.w/gw, max((gx+1)*pl.w/gw, gx*pl.w/gw+1)
			s := 0
			for y := y0; y < y1; y++ {
				row := pl.pix[y*pl.w:]
				for x := x0; x < x1; x++ {
					s += int(row[x])
				}
			}
			out[gy*gw+gx] = float64(s) / float64((y1-y0)*(x1-x0))
		}
	}
}

// detail is the mean |dx|+|dy| of the plane box-downscaled by 4 (noise averages
// out, edges stay).
func detail(pl plane) float64 {
	w, h := pl.w/4, pl.h/4
	if w < 2 || h < 2 {
		w, h = pl.w, pl.h
		if w < 2 || h < 2 {
			return 0
		}
		small := make([]float64, w*h)
		for i, v := range pl.pix[:w*h] {
			small[i] = float64(v)
		}
		return gradient(small, w, h)
	}
	small := make([]float64, w*h)
	grid(pl, w, h, small)
	return gradient(small, w, h)
}

func gradient(s []float64, w, h int) float64 {
	t := 0.0
	for y := range h - 1 {
		for x := range w - 1 {
			i := y*w + x
			t += math.Abs(s[i+1]-s[i]) + math.Abs(s[i+w]-s[i])
		}
	}
	return t / float64(2*(w-1)*(h-1))
}

// normalise turns a grid into zero mean, unit deviation; false when it is flat.
func normalise(g []float64) bool {
	m := 0.0
	for _, v := range g {
		m += v
	}
	m /= float64(len(g))
	v2 := 0.0
	for _, v := range g {
		v2 += (v - m) * (v - m)
	}
	sd := math.Sqrt(v2 / float64(len(g)))
	if sd < 1e-6 {
		return false
	}
	for i := range g {
		g[i] = (g[i] - m) / sd
	}
	return true
}

func judge(pl plane, sum [32]byte, ref *Reference, p Params) Verdict {
	var ms Measures
	total := 0
	for _, v := range pl.pix {
		total += int(v)
	}
	ms.Brightness = float64(total) / float64(len(pl.pix))
	ms.Detail = detail(pl)
	var cur [PrevW * PrevH]float64
	grid(pl, PrevW, PrevH, cur[:])
	ms.Change = -1
	if ref.hasPrev {
		var d [PrevW * PrevH]float64
		for i := range cur {
			d[i] = math.Abs(cur[i] - ref.prev[i])
		}
		slices.Sort(d[:])
		ms.Change = d[len(d)/2]
		ms.Identical = sum == ref.prevSum
	}
	var view [RefW * RefH]float64
	grid(pl, RefW, RefH, view[:])
	flat := !normalise(view[:])
	ms.Corr = math.NaN()
	if ref.N >= p.LearnStills && !flat {
		c := 0.0
		for i := range view {
			c += view[i] * ref.View[i]
		}
		ms.Corr = c / float64(len(view))
	}
	v := Verdict{Measures: ms}
	learning := ref.N < p.LearnStills
	switch {
	case ms.Brightness < p.DarkLevel:
		v.State, v.Reason = Dark, fmt.Sprintf("blacked out: mean brightness %.1f of 255 (below %.0f)", ms.Brightness, p.DarkLevel)
	case ms.Detail < p.CoveredDetail:
		v.State, v.Reason = Covered, fmt.Sprintf("covered: detail %.2f (below %.1f), the lens sees a uniform surface", ms.Detail, p.CoveredDetail)
	case ms.Identical:
		v.State, v.Reason = Frozen, "frozen: byte-identical to the previous still"
	case ms.Change >= 0 && ms.Change < p.FrozenChange && ref.TypicalChange >= p.LiveChange:
		v.State, v.Reason = Frozen, fmt.Sprintf("frozen: changed %.3f since the previous still while this camera's view usually changes %.2f", ms.Change, ref.TypicalChange)
	case learning:
		v.State, v.Reason = Learning, fmt.Sprintf("learning the view: %d of %d stills", ref.N+1, p.LearnStills)
	case ms.Corr < p.TurnedCorr:
		v.State, v.Reason = TurnedAway, fmt.Sprintf("turned away: the view matches the learned one by %.2f (below %.2f)", ms.Corr, p.TurnedCorr)
	default:
		v.State = OK
	}
	// Learn from stills that see; adapt slowly afterwards.
	if v.State.Sees() && !flat {
		if learning {
			k := float64(ref.N + 1)
			for i := range view {
				ref.View[i] += (view[i] - ref.View[i]) / k
			}
			ref.N++
			if ms.Change >= 0 {
				ref.changes++
				ref.TypicalChange += (ms.Change - ref.TypicalChange) / float64(ref.changes)
			}
			if ref.N == p.LearnStills {
				normalise(ref.View[:])
			}
		} else {
			for i := range view {
				ref.View[i] += (view[i] - ref.View[i]) * 0.02
			}
			if ms.Change >= 0 {
				ref.TypicalChange += (ms.Change - ref.TypicalChange) * 0.05
			}
		}
	}
	ref.prev, ref.prevSum, ref.hasPrev = cur, sum, true
	return v
}
