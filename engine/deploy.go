package engine

import "context"

// Deploy reloads after the host has replaced the scripts by other means
// than editing them in place, such as swapping a symlinked script root to a
// new release. It is an automatic reload, as the watcher's are: nothing
// happens when no script's bytes changed, and with Options.DeferCommit the
// prepared version waits for [Engine.CommitPending]. It returns a nil report
// and a nil error in both of those cases ([Engine.HasPending] tells them
// apart); otherwise it is [Engine.Reload].
func (e *Engine) Deploy(ctx context.Context) (*Report, error) {
	e.protos.files.forgetWalk() // the watcher knows nothing of it: look at every file
	return e.reloadFor(ctx, "deploy", nil)
}

// Deploy is [Engine.Deploy] for every shard: all-or-nothing, as
// [Shards.Reload]. With Options.DeferCommit each shard's prepared version
// waits for that shard's CommitPending, and the reports leave it out.
func (s *Shards) Deploy(ctx context.Context) (map[string]*Report, error) {
	s.protos.files.forgetWalk()
	return s.reload(ctx, "deploy", nil)
}
