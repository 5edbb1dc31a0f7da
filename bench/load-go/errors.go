package main

// errorCounts tallies failed operations by kind ("http_503", "Unavailable", "timeout", ...).
// Kinds come from targets and are few, but a misbehaving server could invent many (one per
// status code): past maxErrorKinds distinct kinds the rest count as "other".
const maxErrorKinds = 32

type errorCounts map[string]uint64

func (e errorCounts) add(kind string, count uint64) {
	if _, known := e[kind]; !known && kind != "other" && len(e) >= maxErrorKinds-1 {
		kind = "other" // the last slot is kept for it
	}
	e[kind] += count
}

func (e errorCounts) merge(other errorCounts) {
	for kind, count := range other {
		e.add(kind, count)
	}
}

func (e errorCounts) total() uint64 {
	var sum uint64
	for _, count := range e {
		sum += count
	}
	return sum
}
