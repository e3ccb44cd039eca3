package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"

	"carepay/ledger"
)

const rekeyUsage = `Usage: carepay rekey [--config FILE] [--db PATH] (--new-key-env NAME | --new-key-file PATH)

Re-seal every bank account number in the ledger (employees, providers and
the snapshots kept with payments) under a new key, in one transaction, and
make it the ledger's key. The current key is read as every command reads
it (ledger.key_env, else ledger.key_file); the new key (32 bytes as 64 hex
digits or base64; make one with: openssl rand -hex 32) from the
environment variable or file named here, never from the command line.

Afterwards the old key no longer opens the ledger: give carepay the new
key (set the variable of ledger.key_env, or point ledger.key_file at the
new key's file) and restart carepay serve. A run going on makes rekey
stop without changing anything, and so does a ledger that every run
would refuse (not the one that made the runs in out/, or restored from
an older copy).
`

type rekeyOptions struct {
	common
	newKeyEnv  string
	newKeyFile string
}

var rekeyCmd = command{name: "rekey", summary: "re-seal the ledger's account numbers under a new key", usage: rekeyUsage, run: runRekey}

func runRekey(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var o rekeyOptions
	fs := newFlags("rekey", rekeyUsage, stderr)
	o.addFlags(fs, true)
	fs.StringVar(&o.newKeyEnv, "new-key-env", "", "read the new key from environment variable `NAME`")
	fs.StringVar(&o.newKeyFile, "new-key-file", "", "read the new key from `PATH`")
	pos, err := parseFlags(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return &usageError{fmt.Sprintf("unexpected argument %q (the new key is never given on the command line: use --new-key-env or --new-key-file)", pos[0])}
	}
	if (o.newKeyEnv == "") == (o.newKeyFile == "") {
		return &usageError{"name the new key with exactly one of --new-key-env and --new-key-file"}
	}
	newKey, err := o.newKey()
	if err != nil {
		return err
	}
	cfg, err := o.load()
	if err != nil {
		return err
	}
	lg, err := o.openExisting(ctx, cfg)
	if err != nil {
		return err
	}
	defer lg.Close()
	// The work stops, as if killed, if the lock goes (see LockContext).
	ctx, release, err := lg.LockContext(ctx, fmt.Sprintf("carepay rekey, pid %d", os.Getpid()))
	if err != nil {
		return err
	}
	defer release()
	if err := o.checkOutputs(ctx, cfg, lg, stderr); err != nil {
		return fmt.Errorf("nothing re-sealed: %w", err)
	}
	n, err := lg.Rekey(ctx, newKey)
	if err != nil {
		return ledger.WithLockCause(ctx, err)
	}
	fmt.Fprintf(stdout, "re-sealed %d account numbers under the new key (fingerprint %s); the old key no longer opens this ledger: give carepay the new key before the next run\n",
		n, newKey.Fingerprint()[:12])
	return nil
}

// newKey reads the new key from the variable or file the flags name.
func (o *rekeyOptions) newKey() (*ledger.Key, error) {
	var text string
	if o.newKeyEnv != "" {
		v, ok := os.LookupEnv(o.newKeyEnv)
		if !ok || strings.TrimSpace(v) == "" {
			return nil, fmt.Errorf("new key: environment variable %s is not set or empty", o.newKeyEnv)
		}
		text = v
	} else {
		b, err := os.ReadFile(o.newKeyFile)
		if err != nil {
			return nil, fmt.Errorf("new key: %w", err)
		}
		text = string(b)
	}
	k, err := ledger.ParseKey(text)
	if err != nil {
		return nil, fmt.Errorf("new key: %w", err)
	}
	return k, nil
}
