package jcds2

// Outcome is how a run left the package, as a value: the engine says
// what it found, and the edge (processor mode, the pkg command) says
// what the user can do about it in the words of its own inputs or flags.
type Outcome int

const (
	// Converged: the record and every place the package goes hold the
	// local bytes (Result.Verified says whether Jamf Pro confirmed it).
	Converged Outcome = iota
	// Diverged: the server (or a destination) holds other bytes under the
	// name, and this run left them. Result.NeedsReplace says whether
	// allowing replacement would upload the local package; otherwise
	// the bytes changed during this run, and the next run decides.
	Diverged
	// Lost: while this run uploaded, another run's upload of other bytes
	// took the name; this run converged on the winner, wrote no record
	// for its own bytes and left no copy of them. Allowing replacement
	// does not change that: it replaces what a run finds, not what a
	// concurrent run leaves.
	Lost
	// Unhashed: Jamf Pro holds a file of the local size under the name but
	// computed no hash for it (it does not for very large packages); it
	// is not sent again, and not verified. Result.NeedsReplace is set.
	Unhashed
)

func (o Outcome) String() string {
	switch o {
	case Diverged:
		return "diverged"
	case Lost:
		return "lost"
	case Unhashed:
		return "unhashed"
	}
	return "converged"
}

// outcome is the plan's outcome, and whether allowing replacement would
// have uploaded (a note that says so).
func (p *Plan) outcome() (Outcome, bool) {
	needs := false
	for _, n := range p.Notes {
		needs = needs || n.Hint == NeedsReplace
	}
	switch {
	case p.Lost:
		return Lost, false
	case p.Diverged:
		return Diverged, needs
	case p.Unhashed:
		return Unhashed, needs
	}
	return Converged, false
}
