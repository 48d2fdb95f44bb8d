// Package fleet reloads many processes with one publish: script bundles
// over NATS JetStream, nodes that ACK or NACK each release, and a rollback
// one compare-and-set away. The engine and bindings packages do not import
// it: a program without a fleet links no NATS code.
//
// # Model
//
// A bundle is a script root packed by [Pack]: a tar archive holding a
// manifest (every script's path, size and SHA-256) and then the scripts in
// path order, with fixed modes and times, so the same scripts always give
// the same bytes. It is named by its digest, the SHA-256 of the archive, and
// kept in the JetStream object store hotlua_bundles.
//
// A fleet's release ([Release]: bundle, previous bundle, phase, canary
// nodes) is the key "release" of the key-value bucket hotlua_release_NAME.
// Every change of it is a compare-and-set on the key's revision ([Fleet.Publish],
// [Fleet.Rollback], [Fleet.Promote]): of two publishers racing from the same
// revision, exactly one wins and the other gets [ErrConflict]. The revision
// is the fleet's version. The fleet's first publish makes a random epoch
// that every later change keeps ([Release.Epoch]): when the JetStream store
// is wiped and revisions start again at 1, a node whose cache remembers a
// higher revision of the old epoch counts the new epoch's revisions afresh.
// A rollback's previous bundle is the one that ran before the bundle it
// restores, so a second rollback goes one step further back.
//
// A node ([Follow]) watches the release key, latest value first, so a node
// that was away catches up with the latest release and skips those between.
// For each release it decides which bundle it should run ([Release.BundleFor]),
// fetches it (reading no more than the size limit, whatever the object
// says), checks the digest, every file's hash and that every entry is a
// regular file inside the root, listed once, whose path collides with no
// other where case is ignored, and unpacks it into its
// [Cache] by renaming a complete temporary directory. It then swaps the
// cache's current link, which is the engine's script root, and calls
// engine.Engine.Deploy or engine.Shards.Deploy: the bundle loads as a new
// generation of every shard, or of none. With the engine's DeferCommit the
// host commits at its safe point (CommitPending) and the node reports once
// every shard has. On failure the link goes back and nothing changed.
//
// Each node writes a [Status] under its name in hotlua_nodes_NAME: an ACK
// with the revision it applied and each shard's generation, or a NACK with
// the revision it rejected, the error ("path:line:col: message") and the
// shard, and the revision it kept. It writes it again every heartbeat. A
// revision that failed is not tried again; a newer one is. A load cut short
// because the node closes is not a failure: the node tries the revision
// again when it starts again.
//
// [Fleet.Rollout] publishes and waits for the live nodes' answers, rolling
// back by itself on a NACK or when not every node ACKs in time. A canary
// rollout runs the bundle on some nodes only until [Fleet.Promote]. Its
// [RolloutError] names the nodes that NACKed, did not answer, and did not
// ACK the rollback in time either.
//
// # When NATS is away
//
// The last bundle that loaded stays in the cache (its good link and
// state.json, written only after a successful load). [OpenCache] points
// the root back at it, so a node that starts while NATS cannot be reached
// runs its last good bundle; its connection keeps trying and the node
// catches up once it gets through. A node that loses NATS keeps running
// what it runs.
//
// # Concurrency
//
// Fleet, Node and Server are safe for concurrent use. A Cache belongs to
// one node. [StartServer] runs an embedded NATS server with JetStream, for
// one machine, tests and examples; [Connect] reaches any NATS server, with
// credentials from files or the environment.
package fleet
