// Package benchfloor measures what carepay's libraries alone cost on the
// data of a run, so that a benchmark can print each stage next to its
// floor: encoding/csv reading a drop's files, and modernc SQLite inserting
// a run's lines into a table without secondary indexes. Nothing in a run
// calls it.
package benchfloor
