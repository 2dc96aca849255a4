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
