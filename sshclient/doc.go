// Package sshclient is the SSH and SFTP plumbing shared by the SFTP drop
// source (ingest.SFTP) and the SFTP delivery sink (deliver.SFTPSink):
// key authentication from a key file or the ssh-agent, the server's host
// key checked against a known_hosts file (an unknown or changed key stops
// the connection; there is no way to skip the check), a lazily opened
// connection that is reopened when it drops, and operations retried with
// exponential backoff when the connection drops under them.
//
// An operation is retried only when it failed for want of a working
// connection. When the server answered (no such file, permission denied,
// any SFTP status), or the failure is local (a key that cannot be read, a
// writer that refuses bytes, an error marked with Permanent), it is not.
package sshclient
