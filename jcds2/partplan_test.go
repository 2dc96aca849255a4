package jcds2

import "testing"

// The plan the rule in s3.go gives for the sizes users upload; the
// bench (docs/performance.md) measured these plans over modelled links.
func TestPartPlanRule(t *testing.T) {
	const MiB = 1 << 20
	cases := []struct {
		size, asked int64
		conc        int
		wantPart    int64
		wantConc    int
	}{
		{size: 1, wantPart: 8 * MiB, wantConc: 1},                 // one PutObject
		{size: 20 * MiB, wantPart: 8 * MiB, wantConc: 3},          // three parts
		{size: 256 * MiB, wantPart: 8 * MiB, wantConc: 8},         // 32 parts
		{size: 512 * MiB, wantPart: 16 * MiB, wantConc: 8},        // 4 parts a stream
		{size: 1 << 30, wantPart: 32 * MiB, wantConc: 8},          // 4 parts a stream
		{size: 768<<20 + 1, wantPart: 25 * MiB, wantConc: 8},      // whole MiB, rounded up
		{size: 4 << 30, wantPart: 32 * MiB, wantConc: 8},          // capped: 16 parts a stream
		{size: 16 << 30, wantPart: 32 * MiB, wantConc: 8},         // 512 parts
		{size: 1 << 40, wantPart: 117 * MiB, wantConc: 8},         // under 9,000 parts
		{size: 1 << 30, conc: 3, wantPart: 32 * MiB, wantConc: 3}, // 1024/12 MiB, capped
		{size: 1 << 30, asked: 5 * MiB, wantPart: 5 * MiB, wantConc: 8},
		{size: 1 << 30, asked: 5 * MiB, conc: 20, wantPart: 5 * MiB, wantConc: 20},
		{size: 10 * MiB, asked: 64 * MiB, conc: 4, wantPart: 64 * MiB, wantConc: 1},
	}
	for _, c := range cases {
		ps, conc := partPlan(c.size, c.asked, c.conc)
		if ps != c.wantPart || conc != c.wantConc {
			t.Errorf("partPlan(%d, %d, %d) = %d MiB × %d, want %d MiB × %d", c.size, c.asked, c.conc, ps/MiB, conc, c.wantPart/MiB, c.wantConc)
		}
	}
}

// The parts the uploader cuts: they add up to the file, none but the
// last under S3's 5 MiB, the first ramp up and the last ramp down
// (multipart.go says why), within S3's 10,000.
func TestPartSizes(t *testing.T) {
	const MiB = 1 << 20
	cases := []struct {
		size   int64
		asked  int64
		conc   int
		ramped bool
	}{
		{size: 1, ramped: false},
		{size: 20 * MiB, ramped: false},
		{size: 100 * MiB, ramped: true},
		{size: 60 * MiB, ramped: false}, // 8 MiB parts: too small for both ramps
		{size: 256 * MiB, ramped: true},
		{size: 1 << 30, ramped: true},
		{size: 1<<30 + 12345, ramped: true},
		{size: 4 << 30, ramped: true},
		{size: 1 << 40, ramped: true},
		{size: 5 << 40, ramped: true},
		{size: 1 << 30, conc: 1, ramped: false},
		{size: 1 << 30, asked: 64 * MiB, conc: 3, ramped: true},
		{size: 1 << 30, asked: 5 * MiB, conc: 20, ramped: false}, // every ramp part is 5 MiB
		{size: 64 << 30, asked: 5 * MiB, conc: 5000, ramped: false},
	}
	for _, c := range cases {
		ps, conc := partPlan(c.size, c.asked, c.conc)
		sizes := partSizes(c.size, ps, conc)
		var sum int64
		for i, n := range sizes {
			sum += n
			if n <= 0 || (i < len(sizes)-1 && n < minPart) {
				t.Errorf("%d bytes, %d MiB × %d: part %d is %d bytes", c.size, ps/MiB, conc, i+1, n)
			}
			if n > ps+minPart {
				t.Errorf("%d bytes, %d MiB × %d: part %d is %d MiB", c.size, ps/MiB, conc, i+1, n/MiB)
			}
		}
		if sum != c.size || len(sizes) > 10000 {
			t.Errorf("%d bytes, %d MiB × %d: %d parts adding up to %d", c.size, ps/MiB, conc, len(sizes), sum)
		}
		ramped := len(sizes) > 2*conc && sizes[0] < sizes[conc-1] && sizes[len(sizes)-1] < sizes[len(sizes)-conc+1]
		if ramped != c.ramped {
			t.Errorf("%d bytes, %d MiB × %d: ramped %v, want %v (%v)", c.size, ps/MiB, conc, ramped, c.ramped, head(sizes))
		}
		if ramped {
			for i := 1; i < conc; i++ {
				if sizes[i] < sizes[i-1] || (i < conc-1 && sizes[len(sizes)-i] > sizes[len(sizes)-i-1]) {
					t.Errorf("%d bytes: the ramps are not monotonic: %v", c.size, head(sizes))
				}
			}
		}
	}
	// 1 GiB, the rule's plan: 32 MiB × 8.
	want := []int64{5, 8, 12, 16, 20, 24, 28, 32}
	got := partSizes(1<<30, 32*MiB, 8)
	for i, w := range want {
		if got[i] != w*MiB {
			t.Fatalf("1 GiB: first parts %v, want %v MiB", head(got), want)
		}
	}
}

func head(s []int64) []int64 { return s[:min(len(s), 12)] }
