package main

import (
	"bytes"
	"os"
	"strconv"
)

// readPeak returns the process's peak resident memory since it started or
// since resetPeak (VmHWM in /proc/self/status), 0 when unknown.
func readPeak() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range bytes.Split(b, []byte("\n")) {
		if v, ok := bytes.CutPrefix(line, []byte("VmHWM:")); ok {
			kb, err := strconv.ParseUint(string(bytes.TrimSpace(bytes.TrimSuffix(bytes.TrimSpace(v), []byte("kB")))), 10, 64)
			if err != nil {
				return 0
			}
			return kb << 10
		}
	}
	return 0
}

// resetPeak starts a new peak at the memory resident now (Linux 4.0 and
// later); elsewhere the peak stays the process's.
func resetPeak() {
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
}
