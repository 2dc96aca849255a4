package main

import (
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/jcds2-uploader/jcds2-uploader/jcds2"
)

func medianOf(ds []time.Duration) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	c := append([]time.Duration(nil), ds...)
	sort.Slice(c, func(i, j int) bool { return c[i] < c[j] })
	if len(c)%2 == 0 {
		return (c[len(c)/2-1] + c[len(c)/2]) / 2
	}
	return c[len(c)/2]
}

// med is the median of f over the samples.
func med(s []sample, f func(sample) time.Duration) time.Duration {
	var ds []time.Duration
	for _, x := range s {
		ds = append(ds, f(x))
	}
	return medianOf(ds)
}

func maxRSS(s []sample) int64 {
	m := int64(0)
	for _, x := range s {
		m = max(m, x.rss)
	}
	return m
}

func fs(d time.Duration) string { return fmt.Sprintf("%.2f s", d.Seconds()) }

func ratio(a, b time.Duration) string {
	if a == 0 || b == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f×", a.Seconds()/b.Seconds())
}

func wallOf(x sample) time.Duration   { return x.wall }
func ownOf(x sample) time.Duration    { return x.own() }
func waitedOf(x sample) time.Duration { return x.ph.waited }

func printLoopback(cfg config, all map[int64]results, tools []string) {
	fmt.Printf("Loopback (MinIO on this machine), medians of %d alternating runs:\n\n", cfg.runs)
	fmt.Println("| size | tool | wall | of it waiting for Jamf Pro | own time | own throughput | own vs aws s3 cp | own vs bare upload | peak RSS | Jamf requests |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, size := range cfg.sizes {
		res := all[size]
		aws, bare := med(res[toolAWS], ownOf), med(res[toolBare], ownOf)
		for _, tool := range append(tools, toolRerun) {
			if tool == toolMD5 {
				continue
			}
			s := res[tool]
			if len(s) == 0 {
				continue
			}
			own := med(s, ownOf)
			waiting, rss, reqs, thr := "–", "–", "–", "–"
			if s[0].requests > 0 {
				waiting = fs(med(s, waitedOf))
				reqs = strconv.Itoa(medianInt(s, func(x sample) int { return x.requests }))
			}
			if r := maxRSS(s); r > 0 {
				rss = fmt.Sprintf("%d MiB", (r+1023)/1024)
			}
			if tool != toolRerun {
				thr = fmt.Sprintf("%.0f MiB/s", float64(size)/(1<<20)/own.Seconds())
			}
			vsAWS, vsBare := ratio(own, aws), ratio(own, bare)
			if tool == toolRerun {
				vsAWS, vsBare = "–", "–"
				reqs += fmt.Sprintf("; read %s", humanKiB(maxRchar(s)))
			}
			fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", jcds2.HumanBytes(size), tool, fs(med(s, wallOf)), waiting, fs(own), thr, vsAWS, vsBare, rss, reqs)
		}
	}
	fmt.Println()
}

func maxRchar(s []sample) int64 {
	m := int64(0)
	for _, x := range s {
		m = max(m, x.rchar)
	}
	return m
}

func humanKiB(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d KiB", (n+1023)/1024)
	}
	return jcds2.HumanBytes(n)
}

func medianInt(s []sample, f func(sample) int) int {
	var ds []time.Duration
	for _, x := range s {
		ds = append(ds, time.Duration(f(x)))
	}
	return int(medianOf(ds))
}

func printBreakdown(sizes []int64, all map[int64]results, title string) {
	fmt.Printf("%s (ours end to end by JCDS 2.0, medians of each part):\n\n", title)
	fmt.Println("| size | process start to first request | requests before the upload | the upload | requests after it, and exit | waits for Jamf Pro | of them, overshoot | own time | bare upload |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|")
	for _, size := range sizes {
		s := all[size][toolOurs]
		if len(s) == 0 {
			continue
		}
		f := func(g func(phases) time.Duration) string {
			return fs(med(s, func(x sample) time.Duration { return g(x.ph) }))
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", jcds2.HumanBytes(size),
			f(func(p phases) time.Duration { return p.start }), f(func(p phases) time.Duration { return p.before }),
			f(func(p phases) time.Duration { return p.upload }), f(func(p phases) time.Duration { return p.after }),
			f(func(p phases) time.Duration { return p.waited }), f(func(p phases) time.Duration { return p.overshoot }),
			fs(med(s, ownOf)), fs(med(all[size][toolBare], wallOf)))
	}
	fmt.Println()
}

// linkRows are the results over one modelled link.
type linkRows struct {
	spec linkSpec
	res  map[int64]results
}

// printLinks prints one table for all links: each tool's upload against
// the limit size ÷ min(bandwidth, streams × window ÷ RTT).
func printLinks(cfg config, all []linkRows) {
	window := 0
	if len(all) > 0 {
		window = all[0].spec.window
	}
	fmt.Printf("Over modelled links (bench/link.go: a shared bandwidth cap, a round trip and a %s window per connection, on the S3 side and in front of Jamf Pro), medians of %d alternating runs. "+
		"Upload: for ours the upload as the Jamf Pro side saw it (credentials' answer or packages POST to the next request), for the peers their wall time, a Python start included. "+
		"Limit: size ÷ min(bandwidth, streams × window ÷ RTT); link: size ÷ bandwidth:\n\n", jcds2.HumanBytes(int64(window)), cfg.runs)
	fmt.Println("| link | size | tool | streams | upload | own time | limit | upload ÷ limit | upload ÷ link | own vs best peer | CPU per GiB | peak RSS |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|---|---|")
	for _, lr := range all {
		for _, size := range cfg.linkSizes {
			res := lr.res[size]
			best := time.Duration(0)
			for _, p := range []string{toolBoto3, toolAWS} {
				if w := med(res[p], wallOf); w > 0 && (best == 0 || w < best) {
					best = w
				}
			}
			link := lr.spec.limit(size, 0)
			for _, tool := range []string{toolOurs, toolOursPkg, toolBoto3, toolAWS} {
				s := res[tool]
				if len(s) == 0 {
					continue
				}
				streams := medianInt(s, func(x sample) int { return x.streams })
				up, own := med(s, func(x sample) time.Duration { return x.upload() }), med(s, ownOf)
				limit := lr.spec.limit(size, streams)
				vsPeer := "–"
				if tool == toolOurs || tool == toolOursPkg {
					vsPeer = ratio(own, best)
				}
				fmt.Printf("| %s | %s | %s | %d | %s | %s | %s | %.2f× | %.2f× | %s | %s | %s |\n", lr.spec, jcds2.HumanBytes(size), tool, streams,
					fs(up), fs(own), fs(limit), up.Seconds()/limit.Seconds(), up.Seconds()/link.Seconds(), vsPeer, cpuPerGiB(s, size), rssOf(s))
			}
		}
	}
	fmt.Println()
}

func rssOf(s []sample) string {
	if r := maxRSS(s); r > 0 {
		return fmt.Sprintf("%d MiB", (r+1023)/1024)
	}
	return "–"
}

func cpuOf(x sample) time.Duration { return x.cpu }

// cpuPerGiB is the median CPU (user + system) per GiB of the file.
func cpuPerGiB(s []sample, size int64) string {
	c := med(s, cpuOf)
	if c == 0 {
		return "–"
	}
	return fmt.Sprintf("%.2f s", c.Seconds()/(float64(size)/(1<<30)))
}

// printCPU prints what each process cost in CPU on loopback, against
// md5sum reading and hashing the same file once (the floor: the hash
// JCDS lists must be checked) and against aws s3 cp.
func printCPU(cfg config, all map[int64]results) {
	fmt.Printf("CPU on loopback (user + system seconds of the process and its children, from rusage), medians of %d alternating runs:\n\n", cfg.runs)
	fmt.Println("| size | tool | CPU per GiB | of it user | of it system | vs md5sum (the floor) | vs aws s3 cp | bytes read |")
	fmt.Println("|---|---|---|---|---|---|---|---|")
	for _, size := range cfg.sizes {
		res := all[size]
		floor, aws := med(res[toolMD5], cpuOf), med(res[toolAWS], cpuOf)
		for _, tool := range []string{toolOurs, toolOursPkg, toolRerun, toolBoto3, toolAWS, toolMD5} {
			s := res[tool]
			if len(s) == 0 {
				continue
			}
			c, u := med(s, cpuOf), med(s, func(x sample) time.Duration { return x.user })
			gib := float64(size) / (1 << 30)
			read := humanKiB(maxRchar(s))
			if tool == toolRerun {
				read = humanKiB(maxRchar(s)) + " in all"
			}
			fmt.Printf("| %s | %s | %.2f s | %.2f s | %.2f s | %s | %s | %s |\n", jcds2.HumanBytes(size), tool,
				c.Seconds()/gib, u.Seconds()/gib, (c-u).Seconds()/gib, ratio(c, floor), ratio(c, aws), read)
		}
	}
	fmt.Println()
}

func printCadence(cads []cadence) {
	fmt.Println("Verification cadence: a 1 MiB package, the simulator ready a set delay after the upload (IngestDelay); overshoot is ready to the arrival of the poll that saw it:")
	fmt.Println()
	fmt.Println("| route | wait for | server ready after | wait (client-timed) | overshoot | bound max(0.5 s, 10%) | requests in the wait | most in any second (±10 ms) | shortest gap after 30 s | met |")
	fmt.Println("|---|---|---|---|---|---|---|---|---|---|")
	for _, c := range cads {
		gap := "–"
		if c.after30 > 0 {
			gap = fs(c.after30)
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %d | %d | %s | %s |\n", c.route, c.wait.what, fs(c.delay), fs(c.wait.took),
			fmt.Sprintf("%.3f s", c.wait.overshoot.Seconds()), fs(c.bound), c.requests, c.perSecond, gap, map[bool]string{true: "yes", false: "no"}[c.met()])
	}
	fmt.Println()
}
