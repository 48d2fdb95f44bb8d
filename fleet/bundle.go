package fleet

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/hotlua/hotlua/engine"
	"github.com/hotlua/hotlua/internal/watch"
)

// manifestName is the archive's first entry: the list of every script with
// its size and SHA-256.
const manifestName = "MANIFEST.json"

// DefaultMaxBundleBytes is the size limit of a bundle, archive and unpacked
// scripts each, when NodeOptions.MaxBundleBytes is zero.
const DefaultMaxBundleBytes = 32 << 20

// Manifest lists the scripts of a bundle, sorted by path. It is a plain value.
type Manifest struct {
	Files []ManifestFile `json:"files"`
}

// ManifestFile is one script of a bundle: its slash-separated path relative
// to the script root, its size and the hex SHA-256 of its bytes.
type ManifestFile struct {
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Bundle is a packed script root: a reproducible archive (the manifest,
// then every script in path order, with fixed modes and times) named by its
// Digest, the hex SHA-256 of Archive. The same scripts always pack to the
// same bytes and so to the same digest. A Bundle is a plain value; do not
// change Archive.
type Bundle struct {
	Digest   string
	Archive  []byte
	Manifest Manifest
}

// Pack packs the scripts under dir, the files the engine would load (".lua",
// not hidden), into a bundle. Symbolic links to files are packed as the
// files they point at; the archive holds regular files only.
func Pack(dir string) (*Bundle, error) {
	type file struct {
		rel  string
		data []byte
	}
	var files []file
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		rel = filepath.ToSlash(rel)
		if d.IsDir() {
			if p != dir && !watch.DefaultInclude(rel+"/x.lua") {
				return fs.SkipDir
			}
			return nil
		}
		if !watch.DefaultInclude(rel) {
			return nil
		}
		info, err := os.Stat(p)
		switch {
		case err != nil && d.Type()&fs.ModeSymlink != 0:
			// The engine refuses a script that is a link to no file.
			return fmt.Errorf("%s: symbolic link cannot be followed: %w", rel, err)
		case err != nil || !info.Mode().IsRegular():
			return nil
		case !safePath(rel):
			return fmt.Errorf("%s: path not usable on every node (too long, or holding a backslash)", shownPath(rel))
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		files = append(files, file{rel, data})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("fleet: pack %s: %w", dir, err)
	}
	sort.Slice(files, func(i, j int) bool { return files[i].rel < files[j].rel })
	var m Manifest
	for _, f := range files {
		sum := sha256.Sum256(f.data)
		m.Files = append(m.Files, ManifestFile{Path: f.rel, Size: int64(len(f.data)), SHA256: hex.EncodeToString(sum[:])})
	}
	if err := checkNames(m.Files); err != nil {
		return nil, fmt.Errorf("fleet: pack %s: %w", dir, err)
	}
	mdata, err := json.Marshal(m)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	add := func(name string, data []byte) error {
		hdr := &tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0), Typeflag: tar.TypeReg}
		if err := tw.WriteHeader(hdr); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := add(manifestName, mdata); err != nil {
		return nil, err
	}
	for _, f := range files {
		if err := add(f.rel, f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	sum := sha256.Sum256(buf.Bytes())
	return &Bundle{Digest: hex.EncodeToString(sum[:]), Archive: buf.Bytes(), Manifest: m}, nil
}

// ErrBadBundle is wrapped by every error about a bundle that failed
// verification: wrong digest, a file whose hash or size differs from the
// manifest, an entry that is not a regular file or escapes the root, too
// large.
var ErrBadBundle = errors.New("fleet: bundle failed verification")

func badBundle(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadBundle, fmt.Sprintf(format, args...))
}

// verifiedFile is a script read from a verified archive.
type verifiedFile struct {
	path string
	data []byte
}

// verify checks archive against digest and its own manifest, within
// maxBytes, and returns its scripts. It never touches the disk.
func verify(digest string, archive []byte, maxBytes int64) ([]verifiedFile, error) {
	if int64(len(archive)) > maxBytes {
		return nil, badBundle("%d bytes, more than the limit of %d", len(archive), maxBytes)
	}
	sum := sha256.Sum256(archive)
	if got := hex.EncodeToString(sum[:]); got != digest {
		return nil, badBundle("digest %s, want %s", got, digest)
	}
	tr := tar.NewReader(bytes.NewReader(archive))
	hdr, err := tr.Next()
	if err != nil || hdr.Name != manifestName || hdr.Typeflag != tar.TypeReg || hdr.Size > maxBytes {
		return nil, badBundle("no manifest first")
	}
	var m Manifest
	if err := json.NewDecoder(io.LimitReader(tr, maxBytes)).Decode(&m); err != nil {
		return nil, badBundle("manifest: %v", err)
	}
	want := make(map[string]ManifestFile, len(m.Files))
	var total int64
	for _, f := range m.Files {
		if !safePath(f.Path) {
			return nil, badBundle("unsafe path %s in the manifest", shownPath(f.Path))
		}
		if _, dup := want[f.Path]; dup {
			return nil, badBundle("%s listed twice", f.Path)
		}
		if total += f.Size; f.Size < 0 || total > maxBytes {
			return nil, badBundle("scripts larger than the limit of %d bytes", maxBytes)
		}
		want[f.Path] = f
	}
	if err := checkNames(m.Files); err != nil {
		return nil, badBundle("%v", err)
	}
	var files []verifiedFile
	for {
		hdr, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, badBundle("archive: %v", err)
		}
		if hdr.Typeflag != tar.TypeReg {
			return nil, badBundle("%s is not a regular file (type %q)", hdr.Name, hdr.Typeflag)
		}
		if !safePath(hdr.Name) {
			return nil, badBundle("unsafe path %s", shownPath(hdr.Name))
		}
		mf, ok := want[hdr.Name]
		if !ok {
			return nil, badBundle("%s is not in the manifest (or appears twice)", hdr.Name)
		}
		delete(want, hdr.Name)
		if hdr.Size != mf.Size {
			return nil, badBundle("%s: size %d, manifest says %d", hdr.Name, hdr.Size, mf.Size)
		}
		data, err := io.ReadAll(io.LimitReader(tr, mf.Size))
		if err != nil {
			return nil, badBundle("%s: %v", hdr.Name, err)
		}
		if s := sha256.Sum256(data); hex.EncodeToString(s[:]) != mf.SHA256 {
			return nil, badBundle("%s: SHA-256 differs from the manifest", hdr.Name)
		}
		files = append(files, verifiedFile{hdr.Name, data})
	}
	for p := range want {
		return nil, badBundle("%s is in the manifest but not in the archive", p)
	}
	return files, nil
}

// checkSpellings reports two paths of files that would be one file, or a
// file and a directory, on a file system that ignores case (macOS and
// Windows by default) or anywhere: "a.lua" and "A.lua", "x.lua" and
// "x.lua/y.lua", "Game/a.lua" and "game/b.lua". Such a bundle would unpack
// to other scripts on some nodes than on others, or not at all.
func checkSpellings(files []ManifestFile) error {
	// Each directory and file is claimed under a hash of its path
	// lowercased, computed an element at a time, so that the check costs
	// the length of the paths (a map keyed by every lowercased prefix of
	// every path cost its square: 35 s and 8 GB for one 160 KB path). The
	// seed is random, so no bundle can aim at a collision (odds of 2^-64 a
	// pair), which could hide a conflict, or report one between elements
	// that differ in case under different parents.
	type claim struct {
		path string // the path to it as first spelled: a prefix of a manifest path
		dir  bool
	}
	seed := maphash.MakeSeed()
	seen := make(map[uint64]claim)
	for _, f := range files {
		var h maphash.Hash
		h.SetSeed(seed)
		for start := 0; ; {
			end := len(f.Path)
			if i := strings.IndexByte(f.Path[start:], '/'); i >= 0 {
				end = start + i
			}
			name, dir := f.Path[start:end], end < len(f.Path)
			h.WriteString(strings.ToLower(name))
			h.WriteByte('/')
			key := h.Sum64()
			c, ok := seen[key]
			if !ok {
				seen[key] = claim{f.Path[:end], dir}
			} else if first := c.path[strings.LastIndexByte(c.path, '/')+1:]; (first != name || !c.dir || !dir) && strings.EqualFold(first, name) {
				// Its parents matched as spelled: only this element can differ.
				return fmt.Errorf("%s and %s would be the same file or directory where case is ignored, or a file and a directory", c.path, f.Path[:end])
			}
			if !dir {
				break
			}
			start = end + 1
		}
	}
	return nil
}

// checkNames reports two paths that would be one file or directory on some
// nodes (see checkSpellings), or two scripts of one module (see
// checkModules).
func checkNames(files []ManifestFile) error {
	if err := checkSpellings(files); err != nil {
		return err
	}
	return checkModules(files)
}

// checkModules reports two scripts that define one module ("a.b.lua" and
// "a/b.lua", "a.lua" and "a/init.lua"), which every node would refuse to
// load.
func checkModules(files []ManifestFile) error {
	defined := make(map[string]string, len(files)) // module -> path
	for _, f := range files {
		m := engine.ModuleName(f.Path)
		if other, dup := defined[m]; dup {
			return fmt.Errorf("%s and %s both define module %s", other, f.Path, m)
		}
		defined[m] = f.Path
	}
	return nil
}

// Lengths a path must keep to: Linux's PATH_MAX and NAME_MAX, past which
// no node could unpack it.
const (
	maxPathBytes    = 4096
	maxElementBytes = 255
)

// safePath reports whether p is a slash-separated relative path that stays
// inside the root: no "..", no absolute path, no empty element, no
// backslash, no NUL, no element longer than maxElementBytes nor the path
// longer than maxPathBytes, and a script the engine would load.
func safePath(p string) bool {
	if len(p) > maxPathBytes || !fs.ValidPath(p) || p == "." || strings.ContainsAny(p, "\\\x00") || !watch.DefaultInclude(p) {
		return false
	}
	for elem := range strings.SplitSeq(p, "/") {
		if len(elem) > maxElementBytes {
			return false
		}
	}
	return true
}

// shownPath is p for an error message: its first 200 bytes, quoted.
func shownPath(p string) string {
	if len(p) > 200 {
		return strconv.Quote(p[:200]) + "..."
	}
	return strconv.Quote(p)
}

// unpack writes verified files into a fresh directory under parent and
// renames it to parent/name, so that parent/name is either absent or
// complete. An existing parent/name, unpacked before, is kept.
func unpack(files []verifiedFile, parent, name string) (string, error) {
	final := filepath.Join(parent, name)
	if _, err := os.Stat(final); err == nil {
		return final, nil
	}
	tmp, err := os.MkdirTemp(parent, ".unpack-")
	if err != nil {
		return "", err
	}
	for _, f := range files {
		p := filepath.Join(tmp, filepath.FromSlash(f.path))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			os.RemoveAll(tmp)
			return "", err
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			os.RemoveAll(tmp)
			return "", err
		}
	}
	if err := os.Rename(tmp, final); err != nil {
		os.RemoveAll(tmp)
		if _, serr := os.Stat(final); serr == nil {
			return final, nil // unpacked meanwhile by another node sharing the cache
		}
		return "", err
	}
	return final, nil
}
