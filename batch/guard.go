package batch

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"carepay/ledger"
	"carepay/payout"
)

// LedgerIDFile is the file in every run folder that names the ledger that
// made the run (its ID and a newline): it is written first among the
// run's outputs, the same bytes whenever they are written again.
const LedgerIDFile = "ledger-id"

// ErrNotThisLedger is why a run refuses to start: out/ or a delivery
// target holds runs this ledger did not make, or a check this ledger would
// number again. Deciding and paying from such a ledger (new, emptied,
// pointed at by a wrong --db, or restored from an older copy) would pay
// again what an earlier run paid.
var ErrNotThisLedger = errors.New("refusing to run")

// Lister is a Sink that can list the names in its folder, so that a run
// can tell whether it holds deliveries of runs this ledger did not make.
type Lister interface {
	List(ctx context.Context) ([]string, error)
}

var (
	runDirName    = regexp.MustCompile(`^[0-9]{8}-[0-9]{3,}$`)
	deliveredName = regexp.MustCompile(`^([0-9]{8}-[0-9]{3,})-`)
)

// Check refuses, before anything is read or written, a run that could
// pay again what an earlier run paid, or that would go back in time:
//   - the ledger is re-keyed since it was opened;
//   - the run date is before the ledger's last run or outside 2000-2099;
//   - what CheckOutputs refuses.
//
// `carepay run` and every job of `carepay serve` go through it (Run calls
// it first), and serve also at start-up.
func Check(ctx context.Context, lg *ledger.Ledger, opt Options) error {
	if err := lg.VerifyKey(ctx); err != nil {
		return err
	}
	if err := lg.CheckRunDate(ctx, opt.AsOf); err != nil {
		return err
	}
	return CheckOutputs(ctx, lg, opt)
}

// CheckOutputs refuses a ledger that is not the one that made the runs
// it would find, so that nothing is decided, paid or approved from a
// ledger that is new, emptied, pointed at by a wrong --db, or restored
// from an older copy:
//   - a run folder under opt.OutDir, or under any out folder the ledger
//     wrote runs to before (ledger.OutDirs) that still exists, holds
//     outputs of another ledger (its ledger-id) or of a run this ledger
//     does not know;
//   - a checks.csv in those folders holds a check number that the
//     ledger's check sequence would issue again;
//   - a delivery target holds files of a run this ledger does not know.
//
// A run folder holding only temporary files (a run killed before its
// commit) is no one's yet and passes. Check calls it; `carepay approve`
// and `carepay rekey` call it before recording anything. opt.AsOf is not
// used.
func CheckOutputs(ctx context.Context, lg *ledger.Ledger, opt Options) error {
	dirs, err := outDirs(ctx, lg, opt.OutDir)
	if err != nil {
		return err
	}
	var maxCheck int64
	var maxCheckIn string
	for _, dir := range dirs {
		n, in, err := checkOutDir(ctx, lg, dir)
		if err != nil {
			return err
		}
		if n > maxCheck {
			maxCheck, maxCheckIn = n, in
		}
	}
	if maxCheck > 0 {
		next, err := lg.NextCheckNumber(ctx, opt.Payout.FirstCheckNumber)
		if err != nil {
			return err
		}
		if maxCheck >= next {
			return fmt.Errorf("%w: %s holds check %d but this ledger (%s) would number its next check %d, issuing that number again: the ledger is older than out/ or not the one that paid; point --db (ledger.path, or ledger.dsn on PostgreSQL) at the ledger that made out/, or restore its newest copy",
				ErrNotThisLedger, maxCheckIn, maxCheck, lg.ID(), next)
		}
	}
	for _, s := range opt.Sinks {
		ls, ok := s.(Lister)
		if !ok {
			continue
		}
		names, err := ls.List(ctx)
		if err != nil {
			return fmt.Errorf("checking delivery target %s: %w", s.Name(), err)
		}
		var unknown []string
		seen := map[string]bool{}
		for _, name := range names {
			m := deliveredName.FindStringSubmatch(name)
			if m == nil || seen[m[1]] {
				continue
			}
			seen[m[1]] = true
			known, err := lg.HasRun(ctx, m[1])
			if err != nil {
				return err
			}
			if !known {
				unknown = append(unknown, m[1])
			}
		}
		if len(unknown) > 0 {
			sort.Strings(unknown)
			return fmt.Errorf("%w: delivery target %s holds the payment files of %s, which this ledger (%s) did not make: it is new, emptied, replaced or older than its deliveries; point --db (ledger.path, or ledger.dsn on PostgreSQL) at the ledger that made them, or restore its newest copy",
				ErrNotThisLedger, s.Name(), runList(unknown), lg.ID())
		}
	}
	return nil
}

// outDirs returns the out folders to check: the current one first, then
// every other one the ledger wrote runs to that still exists.
func outDirs(ctx context.Context, lg *ledger.Ledger, current string) ([]string, error) {
	dirs := []string{current}
	abs, err := filepath.Abs(current)
	if err != nil {
		return nil, fmt.Errorf("out folder %s: %w", current, err)
	}
	recorded, err := lg.OutDirs(ctx)
	if err != nil {
		return nil, err
	}
	for _, d := range recorded {
		if d == abs {
			continue
		}
		st, err := os.Stat(d)
		if errors.Is(err, os.ErrNotExist) || (err == nil && !st.IsDir()) {
			continue // moved or deleted since: nothing there to pay again
		}
		if err != nil {
			return nil, fmt.Errorf("checking out folder %s: %w", d, err)
		}
		dirs = append(dirs, d)
	}
	return dirs, nil
}

// CheckNewLedger refuses, before a ledger is created at path (there is
// none, or an empty file), a run whose out folder or delivery targets
// hold runs: a ledger made now made none of them, and deciding from it
// would pay again what they paid (an emptied or deleted ledger, a
// mistyped --db). Nothing is created or changed. A run folder holding
// only temporary files passes, as in CheckOutputs.
func CheckNewLedger(ctx context.Context, path string, opt Options) error {
	entries, err := os.ReadDir(opt.OutDir)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("reading %s: %w", opt.OutDir, err)
	}
	var runs []string
	owner := ""
	for _, e := range entries {
		if !e.IsDir() || !runDirName.MatchString(e.Name()) {
			continue
		}
		dir := filepath.Join(opt.OutDir, e.Name())
		outputs, err := hasOutputs(dir)
		if err != nil {
			return err
		}
		if !outputs {
			continue
		}
		runs = append(runs, e.Name())
		if b, err := os.ReadFile(filepath.Join(dir, LedgerIDFile)); err == nil && owner == "" {
			owner = strings.TrimSpace(string(b))
		}
	}
	none := "there is no ledger at " + path
	if _, err := os.Stat(path); err == nil {
		none = path + " is empty"
	}
	if len(runs) > 0 {
		by := ""
		if owner != "" {
			by = " of ledger " + owner
		}
		return fmt.Errorf("%w: %s under %s holds outputs%s, but %s (it is new, emptied or replaced, or --db is mistyped) and a new ledger would pay again what was paid; point --db (ledger.path, or ledger.dsn on PostgreSQL) at the ledger that made out/, or restore its newest copy (nothing was created)",
			ErrNotThisLedger, runList(runs), opt.OutDir, by, none)
	}
	for _, s := range opt.Sinks {
		ls, ok := s.(Lister)
		if !ok {
			continue
		}
		names, err := ls.List(ctx)
		if err != nil {
			return fmt.Errorf("checking delivery target %s: %w", s.Name(), err)
		}
		seen := map[string]bool{}
		var delivered []string
		for _, name := range names {
			if m := deliveredName.FindStringSubmatch(name); m != nil && !seen[m[1]] {
				seen[m[1]] = true
				delivered = append(delivered, m[1])
			}
		}
		if len(delivered) > 0 {
			sort.Strings(delivered)
			return fmt.Errorf("%w: delivery target %s holds the payment files of %s, but %s (it is new, emptied or replaced, or --db is mistyped) and a new ledger would pay again what was paid; point --db (ledger.path, or ledger.dsn on PostgreSQL) at the ledger that made them, or restore its newest copy (nothing was created)",
				ErrNotThisLedger, s.Name(), runList(delivered), none)
		}
	}
	return nil
}

// checkOutDir checks every run folder under out and returns the highest
// check number its checks.csv files hold, and which file holds it.
func checkOutDir(ctx context.Context, lg *ledger.Ledger, out string) (int64, string, error) {
	entries, err := os.ReadDir(out)
	if errors.Is(err, os.ErrNotExist) {
		return 0, "", nil
	}
	if err != nil {
		return 0, "", fmt.Errorf("reading %s: %w", out, err)
	}
	var foreign, unknown []string
	var foreignID string
	var maxCheck int64
	var maxIn string
	for _, e := range entries {
		if !e.IsDir() || !runDirName.MatchString(e.Name()) {
			continue
		}
		id := e.Name()
		dir := filepath.Join(out, id)
		outputs, err := hasOutputs(dir)
		if err != nil {
			return 0, "", err
		}
		if !outputs {
			continue // a run killed before its commit: only temporary files
		}
		b, err := os.ReadFile(filepath.Join(dir, LedgerIDFile))
		switch {
		case err == nil:
			if owner := strings.TrimSpace(string(b)); owner != lg.ID() {
				foreign, foreignID = append(foreign, id), owner
				continue
			}
		case !errors.Is(err, os.ErrNotExist):
			return 0, "", fmt.Errorf("reading %s: %w", filepath.Join(dir, LedgerIDFile), err)
		}
		// Marked by this ledger, or made before run folders were marked:
		// the ledger must know the run.
		known, err := lg.HasRun(ctx, id)
		if err != nil {
			return 0, "", err
		}
		if !known {
			unknown = append(unknown, id)
			continue
		}
		path := filepath.Join(dir, "checks.csv")
		n, err := maxCheckNumber(path)
		if err != nil {
			return 0, "", err
		}
		if n > maxCheck {
			maxCheck, maxIn = n, path
		}
	}
	if len(foreign) > 0 {
		was := "was"
		if len(foreign) > 1 {
			was = "were"
		}
		return 0, "", fmt.Errorf("%w: %s under %s %s made by ledger %s, not by this ledger %s (it is new, emptied or replaced) and it would pay again what was paid; point --db (ledger.path, or ledger.dsn on PostgreSQL) at the ledger that made out/, or restore its newest copy",
			ErrNotThisLedger, runList(foreign), out, was, foreignID, lg.ID())
	}
	if len(unknown) > 0 {
		return 0, "", fmt.Errorf("%w: %s holds %s, which this ledger (%s) does not know: it is older than out/ (restored from a backup?) or not the one that made them; point --db (ledger.path, or ledger.dsn on PostgreSQL) at the ledger that made them, or restore its newest copy",
			ErrNotThisLedger, out, runList(unknown), lg.ID())
	}
	return maxCheck, maxIn, nil
}

// runList names runs in a message: all of a few, or the first and a count.
func runList(ids []string) string {
	switch {
	case len(ids) == 1:
		return "run " + ids[0]
	case len(ids) <= 3:
		return "runs " + strings.Join(ids, ", ")
	}
	return fmt.Sprintf("runs %s, %s and %d more", ids[0], ids[1], len(ids)-2)
}

// hasOutputs reports whether a run folder holds anything but temporary
// files (which a run killed before its commit leaves).
func hasOutputs(dir string) (bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false, fmt.Errorf("reading %s: %w", dir, err)
	}
	for _, e := range entries {
		if !strings.HasPrefix(e.Name(), ".") {
			return true, nil
		}
	}
	return false, nil
}

// maxCheckNumber returns the highest check number in a checks.csv, 0 when
// there is no such file.
func maxCheckNumber(path string) (int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	defer f.Close()
	r := csv.NewReader(f)
	r.FieldsPerRecord = -1
	head, err := r.Read()
	if err == io.EOF {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("reading %s: %w", path, err)
	}
	// A spreadsheet that saved the file again may have added a byte-order
	// mark, changed the case or padded the names.
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	want := payout.CheckRegisterColumns[0]
	col := -1
	for i, h := range head {
		if strings.EqualFold(strings.TrimSpace(h), want) {
			col = i
			break
		}
	}
	if col < 0 {
		return 0, fmt.Errorf("reading %s: no %s column (the header is %q): the file may have been edited; put back the check register carepay wrote, or restore its %s column",
			path, want, strings.Join(head, ","), want)
	}
	var max int64
	for {
		rec, err := r.Read()
		if err == io.EOF {
			return max, nil
		}
		if err != nil {
			return 0, fmt.Errorf("reading %s: %w", path, err)
		}
		if col >= len(rec) {
			continue
		}
		if strings.TrimSpace(rec[col]) == "" {
			continue // a blank row a spreadsheet left
		}
		n, err := strconv.ParseInt(strings.TrimSpace(rec[col]), 10, 64)
		if err != nil {
			return 0, fmt.Errorf("reading %s: check number %q: %w", path, rec[col], err)
		}
		if n > max {
			max = n
		}
	}
}
