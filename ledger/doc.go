// Package ledger is carepay's durable memory: the files it has seen, the
// registries, every service line with its decision and reasons, what each
// family has used, approvals and runs. It is the source of truth for limits
// and duplicates across runs. Account numbers are stored encrypted with
// AES-GCM. The embedded ledger is SQLite (modernc.org/sqlite, no cgo).
//
// A run works inside one immediate transaction (Begin ... Commit): a run
// killed at any point leaves the ledger as it was before the run, and the
// next run takes the same files again.
//
// A ledger has an identity (a random ID drawn when it is created, written
// into every run folder) and remembers the fingerprint of the key that
// seals it, so that a ledger that is not the one that paid, or a wrong
// key, is recognised before anything is read (see batch.Check).
package ledger
