package engine

import (
	"context"
	"log/slog"
	"testing"
	"time"
)

// A shard's Report.Pause is what its calls waited: every shard's lock is
// taken before the first commit, so it counts the commits of the shards
// before it.
func TestShardPauseCountsTheShardsBeforeIt(t *testing.T) {
	dir := t.TempDir()
	// Each commit runs this handler for at least 30ms of wall time.
	writeScripts(t, dir, map[string]string{"slow.lua": `
local Slow = hot.class("Slow")
hot.on("reload", function()
  local start = os.clock()
  while os.clock() - start < 0.03 do end
end)
return Slow
`})
	s, err := NewShards(Options{Roots: []string{dir}, Logger: slog.New(slog.DiscardHandler)}, "a", "b")
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	reports, err := s.Reload(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if p := reports["a"].Pause; p < 30*time.Millisecond {
		t.Errorf("shard a: Pause = %v, less than its own reload handler", p)
	}
	if p := reports["b"].Pause; p < 60*time.Millisecond {
		t.Errorf("shard b: Pause = %v, less than its own reload handler and shard a's commit", p)
	}
}
