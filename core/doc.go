// Package core holds carepay's plain domain types: money in cents, calendar
// dates, hours, registry records, service lines, decisions and positioned
// row errors. It does no I/O and imports nothing else of carepay, so every
// other package can share these types without depending on each other.
package core
