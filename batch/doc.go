// Package batch runs one pass of carepay: pull every drop, apply the
// registries, decide every service line in order, commit the ledger, then
// write the run's outputs and hand acknowledgements back. It wires ingest,
// rules, ledger and report together and holds no rule of its own.
package batch
