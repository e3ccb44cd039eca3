// Package deliver hands output files to the places that consume them, such
// as payroll's SFTP folder (batch.Sink says what a run needs of one). A
// sink takes a file under a name and tells whether a name is there
// already, so that a run that is completed again after a crash does not
// upload a file twice. SFTPSink writes each file under a hidden temporary
// name and renames it into place, so that the consumer sees the whole file
// or none of it.
package deliver
