package engine

import (
	"crypto/sha256"
	"hash"
	"slices"
)

// moduleSum is a module's version: a hash of its script and, in the order
// it required them, of the versions of the modules it required. deps is
// the list it was made from, which, with loop, tells the next generation whether it
// may reuse it.
type moduleSum struct {
	sum  [sha256.Size]byte
	deps []string
	loop bool // a requirement counted by name, being summed already
}

// versioner computes the versions of one generation's classes (see
// generation.stabilize). A class's version follows every script it was
// built from: its module's, each module that module required,
// transitively, and its base classes' modules. Each module's version is
// computed once, from its own script's hash and its requirements'
// versions; a module whose script and requirements did not change since
// the previous generation keeps that generation's version without hashing.
// So a reload costs one small hash per changed module, not a walk of every
// class's whole require graph. It is used on prepare's goroutine only.
type versioner struct {
	g, prev *generation
	h       hash.Hash
	onPath  map[string]bool // the modules being summed, to stop at a require loop
}

func newVersioner(g, prev *generation) *versioner {
	g.moduleSums = make(map[string]moduleSum, len(g.scripts))
	return &versioner{g: g, prev: prev, h: sha256.New(), onPath: make(map[string]bool)}
}

// classHash returns the version hash of cv: its module's version, or, when
// a base class lives in a module that module did not require directly, a
// hash of its module's version and those of its bases' modules.
func (v *versioner) classHash(cv *classVersion) string {
	sum := v.moduleSum(cv.module)
	var bases [][sha256.Size]byte
	for base, depth := v.g.baseOf(cv.fresh), 0; base != nil && base != cv && depth < 32; base, depth = v.g.baseOf(base.fresh), depth+1 {
		if base.module != cv.module && !slices.Contains(v.g.deps[cv.module], base.module) {
			bases = append(bases, v.moduleSum(base.module))
		}
	}
	if len(bases) > 0 {
		v.h.Reset()
		v.h.Write(sum[:])
		for _, b := range bases {
			v.h.Write(b[:])
		}
		v.h.Sum(sum[:0])
	}
	return shortHash(sum)
}

// moduleSum returns module m's version, computing it the first time.
// A requirement that is no script (a standard library) counts by its
// name; so does one that is being summed already, in a require loop a
// script caught.
func (v *versioner) moduleSum(m string) [sha256.Size]byte {
	g := v.g
	if ms, ok := g.moduleSums[m]; ok {
		return ms.sum
	}
	v.onPath[m] = true
	defer delete(v.onPath, m)
	deps := g.deps[m]
	sums := make([][sha256.Size]byte, len(deps))
	byName := make([]bool, len(deps))
	inLoop := false
	for i, d := range deps {
		switch {
		case v.onPath[d]:
			byName[i], inLoop = true, true
		case g.scripts[d] == nil:
			byName[i] = true
		default:
			sums[i] = v.moduleSum(d)
		}
	}
	var own [sha256.Size]byte
	if s := g.scripts[m]; s != nil {
		own = s.hash
	}
	if !inLoop && v.unchanged(m, own, deps, sums, byName) {
		g.moduleSums[m] = v.prev.moduleSums[m]
		return g.moduleSums[m].sum
	}
	v.h.Reset()
	v.h.Write(own[:])
	for i, d := range deps {
		if byName[i] {
			v.h.Write([]byte(d))
			v.h.Write([]byte{0})
		} else {
			v.h.Write(sums[i][:])
		}
	}
	ms := moduleSum{deps: deps, loop: inLoop}
	v.h.Sum(ms.sum[:0])
	g.moduleSums[m] = ms
	return ms.sum
}

// unchanged reports whether the previous generation summed module m from
// the same script, the same requirements and the same versions of them.
func (v *versioner) unchanged(m string, own [sha256.Size]byte, deps []string, sums [][sha256.Size]byte, byName []bool) bool {
	if v.prev == nil {
		return false
	}
	old, ok := v.prev.moduleSums[m]
	ps := v.prev.scripts[m]
	if !ok || old.loop || ps == nil || ps.hash != own || !slices.Equal(old.deps, deps) {
		return false
	}
	for i, d := range deps {
		if byName[i] {
			if v.prev.scripts[d] != nil { // a script then, gone now
				return false
			}
		} else if p, ok := v.prev.moduleSums[d]; !ok || p.sum != sums[i] {
			return false
		}
	}
	return true
}
