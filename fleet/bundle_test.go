package fleet

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestPackIsReproducible(t *testing.T) {
	files := map[string]string{"b.lua": "return 2", "a/x.lua": "return 1", ".hidden/h.lua": "x", "notes.txt": "x"}
	one, two := writeTree(t, files), writeTree(t, files)
	// Other times and modes must not change the bundle.
	if err := os.Chtimes(filepath.Join(two, "b.lua"), time.Unix(1e9, 0), time.Unix(1e9, 0)); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(two, "b.lua"), 0o600); err != nil {
		t.Fatal(err)
	}
	a, err := Pack(one)
	if err != nil {
		t.Fatal(err)
	}
	b, err := Pack(two)
	if err != nil {
		t.Fatal(err)
	}
	if a.Digest != b.Digest || !bytes.Equal(a.Archive, b.Archive) {
		t.Fatalf("the same scripts packed to %s and %s", a.Digest, b.Digest)
	}
	if len(a.Manifest.Files) != 2 || a.Manifest.Files[0].Path != "a/x.lua" || a.Manifest.Files[1].Path != "b.lua" {
		t.Fatalf("manifest %+v, want a/x.lua and b.lua in order", a.Manifest.Files)
	}
	if sum := sha256.Sum256([]byte("return 1")); a.Manifest.Files[0].SHA256 != hex.EncodeToString(sum[:]) {
		t.Fatalf("a/x.lua hash %s", a.Manifest.Files[0].SHA256)
	}
	c := pack(t, map[string]string{"b.lua": "return 3", "a/x.lua": "return 1"})
	if c.Digest == a.Digest {
		t.Fatal("different scripts packed to the same digest")
	}
}

// entry is one entry of a hand-made archive.
type entry struct {
	name     string
	typeflag byte
	body     string
}

// craft builds an archive: a manifest of manifest (the real one of the
// entries when nil), then the entries.
func craft(t *testing.T, manifest *Manifest, entries ...entry) (string, []byte) {
	t.Helper()
	if manifest == nil {
		manifest = &Manifest{}
		for _, e := range entries {
			sum := sha256.Sum256([]byte(e.body))
			manifest.Files = append(manifest.Files, ManifestFile{Path: e.name, Size: int64(len(e.body)), SHA256: hex.EncodeToString(sum[:])})
		}
	}
	mdata, _ := json.Marshal(manifest)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	all := append([]entry{{name: manifestName, typeflag: tar.TypeReg, body: string(mdata)}}, entries...)
	for _, e := range all {
		hdr := &tar.Header{Name: e.name, Typeflag: e.typeflag, Mode: 0o644, Size: int64(len(e.body))}
		if e.typeflag != tar.TypeReg {
			hdr.Size, hdr.Linkname = 0, "/etc/passwd"
		}
		if err := tw.WriteHeader(hdr); err != nil {
			t.Fatal(err)
		}
		if hdr.Size > 0 {
			tw.Write([]byte(e.body))
		}
	}
	tw.Close()
	sum := sha256.Sum256(buf.Bytes())
	return hex.EncodeToString(sum[:]), buf.Bytes()
}

func reg(name, body string) entry { return entry{name: name, typeflag: tar.TypeReg, body: body} }

func TestBadBundlesAreRefusedBeforeTouchingTheDisk(t *testing.T) {
	good := reg("game/unit.lua", "return 1")
	hashOf := func(s string) string { sum := sha256.Sum256([]byte(s)); return hex.EncodeToString(sum[:]) }
	rows := []struct {
		name     string
		manifest *Manifest
		entries  []entry
		digest   string // "" : the archive's own
		want     string
	}{
		{name: "wrong digest", entries: []entry{good}, digest: strings.Repeat("0", 64), want: "digest"},
		{name: "parent path", entries: []entry{reg("../evil.lua", "x")}, want: "unsafe path"},
		{name: "absolute path", entries: []entry{reg("/tmp/evil.lua", "x")}, want: "unsafe path"},
		{name: "nested parent", entries: []entry{reg("a/../../evil.lua", "x")}, want: "unsafe path"},
		{name: "backslash", entries: []entry{reg(`a\..\evil.lua`, "x")}, want: "unsafe path"},
		{name: "symlink", manifest: &Manifest{}, entries: []entry{{name: "link.lua", typeflag: tar.TypeSymlink}}, want: "not a regular file"},
		{name: "hard link", manifest: &Manifest{}, entries: []entry{{name: "link.lua", typeflag: tar.TypeLink}}, want: "not a regular file"},
		{name: "directory", manifest: &Manifest{}, entries: []entry{{name: "dir/", typeflag: tar.TypeDir}}, want: "not a regular file"},
		{name: "not in manifest", manifest: &Manifest{}, entries: []entry{good}, want: "not in the manifest"},
		{name: "twice", entries: []entry{good, good}, want: "listed twice"},
		{name: "hash differs", manifest: &Manifest{Files: []ManifestFile{{Path: good.name, Size: 8, SHA256: hashOf("return 2")}}}, entries: []entry{good}, want: "SHA-256 differs"},
		{name: "size differs", manifest: &Manifest{Files: []ManifestFile{{Path: good.name, Size: 3, SHA256: hashOf("ret")}}}, entries: []entry{good}, want: "size"},
		{name: "missing file", manifest: &Manifest{Files: []ManifestFile{{Path: "other.lua", Size: 1, SHA256: hashOf("x")}}}, want: "not in the archive"},
		{name: "too large", manifest: &Manifest{Files: []ManifestFile{{Path: good.name, Size: 1 << 40, SHA256: hashOf("x")}}}, want: "larger than the limit"},
		{name: "names differing in case", entries: []entry{good, reg("game/Unit.lua", "return 2")}, want: "same file"},
		{name: "directories differing in case", entries: []entry{good, reg("Game/other.lua", "return 2")}, want: "same file"},
		{name: "a file and a directory", entries: []entry{reg("game.lua", "x"), reg("game.lua/unit.lua", "x")}, want: "same file"},
		{name: "a directory and a file", entries: []entry{reg("game.lua/unit.lua", "x"), reg("GAME.lua", "x")}, want: "same file"},
		{name: "not a script", entries: []entry{reg("run.sh", "rm -rf /")}, want: "unsafe path"},
		{name: "one module twice", entries: []entry{reg("a.b.lua", "x"), reg("a/b.lua", "x")}, want: "both define module a.b"},
		{name: "one module twice, by init.lua", entries: []entry{reg("a.lua", "x"), reg("a/init.lua", "x")}, want: "both define module a"},
		{name: "path too long", entries: []entry{reg(strings.Repeat("a/", 2048)+"x.lua", "x")}, want: "unsafe path"},
		{name: "name too long", entries: []entry{reg(strings.Repeat("a", 256)+".lua", "x")}, want: "unsafe path"},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			digest, archive := craft(t, r.manifest, r.entries...)
			if r.digest != "" {
				digest = r.digest
			}
			dir := t.TempDir()
			c, err := OpenCache(dir)
			if err != nil {
				t.Fatal(err)
			}
			err = c.store(digest, archive, 1<<20)
			if !errors.Is(err, ErrBadBundle) || !strings.Contains(err.Error(), r.want) {
				t.Fatalf("store = %v, want ErrBadBundle with %q", err, r.want)
			}
			bundles, _ := os.ReadDir(filepath.Join(dir, "bundles"))
			if len(bundles) != 1 || bundles[0].Name() != emptyBundle {
				t.Fatalf("the cache holds %v after a refused bundle", bundles)
			}
			if _, err := os.Stat(filepath.Join(filepath.Dir(dir), "evil.lua")); err == nil {
				t.Fatal("a file was written outside the cache")
			}
		})
	}
	t.Run("archive over the limit", func(t *testing.T) {
		digest, archive := craft(t, nil, good)
		if _, err := verify(digest, archive, int64(len(archive)-1)); !errors.Is(err, ErrBadBundle) {
			t.Fatalf("verify = %v, want ErrBadBundle", err)
		}
	})
}

func TestVerifiedBundleUnpacksOnce(t *testing.T) {
	b := pack(t, v1)
	c, err := OpenCache(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c.store(b.Digest, b.Archive, DefaultMaxBundleBytes); err != nil {
			t.Fatal(err)
		}
	}
	data, err := os.ReadFile(filepath.Join(c.Dir(), "bundles", b.Digest, "game", "unit.lua"))
	if err != nil || string(data) != v1["game/unit.lua"] {
		t.Fatalf("unpacked %q, %v", data, err)
	}
	leftovers, _ := filepath.Glob(filepath.Join(c.Dir(), "bundles", ".unpack-*"))
	if len(leftovers) != 0 {
		t.Fatalf("temporary directories left: %v", leftovers)
	}
}

// A script tree that would unpack differently where case is ignored is
// refused by Pack already, not only by every node.
func TestPackRefusesNamesDifferingInCaseOnly(t *testing.T) {
	dir := writeTree(t, map[string]string{"game/unit.lua": "return 1", "game/Unit.lua": "return 2"})
	if entries, _ := os.ReadDir(filepath.Join(dir, "game")); len(entries) != 2 {
		t.Skip("this file system ignores case")
	}
	if _, err := Pack(dir); err == nil || !strings.Contains(err.Error(), "same file") {
		t.Fatalf("Pack = %v, want an error naming both spellings", err)
	}
}

// TestVerifyingDeepPathsCostsTheirLength verifies a manifest of 200 paths
// 2,000 directories deep (4 KB each, the longest a path may be): checking
// their spellings once kept every lowercased prefix of every path, 800 MB
// for this 1 MB manifest (8.5 GB and 35 s for one 160 KB path). Now it
// allocates in proportion to the paths' length: the test allows 100 MB.
func TestVerifyingDeepPathsCostsTheirLength(t *testing.T) {
	m := &Manifest{}
	for i := range 200 {
		m.Files = append(m.Files, ManifestFile{Path: fmt.Sprintf("p%03d/", i) + strings.Repeat("A/", 1990) + "x.lua", Size: 1, SHA256: strings.Repeat("0", 64)})
	}
	digest, archive := craft(t, m)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, err := verify(digest, archive, DefaultMaxBundleBytes)
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrBadBundle) || !strings.Contains(err.Error(), "not in the archive") {
		t.Fatalf("verify = %v, want the first path missing from the archive", err)
	}
	if alloc := after.TotalAlloc - before.TotalAlloc; alloc > 100<<20 {
		t.Fatalf("verifying allocated %d MB, want at most 100", alloc>>20)
	}
}

// A script tree with two scripts of one module, which every node would
// refuse to load, is refused by Pack already.
func TestPackRefusesAModuleDefinedTwice(t *testing.T) {
	dir := writeTree(t, map[string]string{"game/unit.lua": "return 1", "game.unit.lua": "return 2"})
	if _, err := Pack(dir); err == nil || !strings.Contains(err.Error(), "both define module game.unit") {
		t.Fatalf("Pack = %v, want an error naming both scripts", err)
	}
}

// A script that is a symbolic link to no file, which every node's engine
// would refuse, is refused by Pack, not left out of the bundle.
func TestPackRefusesALinkToNoFile(t *testing.T) {
	dir := writeTree(t, map[string]string{"game/unit.lua": "return 1"})
	if err := os.Symlink("/nonexistent/x.lua", filepath.Join(dir, "game", "gone.lua")); err != nil {
		t.Fatal(err)
	}
	if _, err := Pack(dir); err == nil || !strings.Contains(err.Error(), "game/gone.lua: symbolic link cannot be followed") {
		t.Fatalf("Pack = %v, want the link refused", err)
	}
}
