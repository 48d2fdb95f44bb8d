package watch

import "strings"

// DefaultInclude reports whether rel (slash-separated, relative to a root)
// names a Lua script rather than editor or tool debris: it must end in
// ".lua", and no element of the path may be hidden (".#a.lua" Emacs
// locks, ".a.lua.swp" Vim swap files, ".git"). Debris such as "a.lua~",
// "4913", "a.lua.tmp", "sedAbC123" or "a.lua___jb_tmp___" never ends in
// ".lua". Names starting with "#" (Emacs auto-saves) are excluded too.
//
// DefaultInclude is a pure function, safe for concurrent use.
func DefaultInclude(rel string) bool {
	if !strings.HasSuffix(rel, ".lua") {
		return false
	}
	for elem := range strings.SplitSeq(rel, "/") {
		if elem == "" || strings.HasPrefix(elem, ".") || strings.HasPrefix(elem, "#") {
			return false
		}
	}
	return true
}
