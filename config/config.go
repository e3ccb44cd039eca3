package config

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/pelletier/go-toml/v2"
	"github.com/robfig/cron/v3"
	"golang.org/x/image/font/sfnt"

	"carepay/core"
	"carepay/ingest"
	"carepay/payout"
	"carepay/rules"
	"carepay/safefile"
)

// Config is the whole of config.toml.
type Config struct {
	Ledger  Ledger                 `toml:"ledger"`
	Run     Run                    `toml:"run"`
	Sources []Source               `toml:"sources"`
	Payout  Payout                 `toml:"payout"`
	Limits  Limits                 `toml:"limits"`
	Returns Returns                `toml:"returns"`
	ACH     ACH                    `toml:"ach"`
	Checks  Checks                 `toml:"checks"`
	Letters Letters                `toml:"letters"`
	SMTP    *SMTP                  `toml:"smtp"`
	Payroll *Delivery              `toml:"delivery"`
	Serve   Serve                  `toml:"serve"`
	YearEnd YearEnd                `toml:"year_end"`
	Plans   map[string]*rules.Plan `toml:"plans"`

	path string
	data []byte
}

// Ledger says where the ledger lives and where its key comes from. The key
// itself never appears in config.toml.
type Ledger struct {
	Driver string `toml:"driver"` // sqlite (the default) or postgres
	Path   string `toml:"path"`   // SQLite file, relative to config.toml
	// DSN is the PostgreSQL URL of driver postgres, without a password:
	// postgres://USER@HOST:PORT/DATABASE?sslmode=verify-full. The ledger's
	// tables live in the connection's current schema (search_path=... in
	// the URL chooses another).
	DSN string `toml:"dsn"`
	// PasswordEnv or PasswordFile holds the PostgreSQL password (the
	// variable wins when set); with neither, pgx reads PGPASSWORD or
	// ~/.pgpass as psql does.
	PasswordEnv  string `toml:"password_env"`
	PasswordFile string `toml:"password_file"`
	// KeyEnv names an environment variable holding the 32-byte key (hex or
	// base64); it wins over KeyFile when set.
	KeyEnv string `toml:"key_env"`
	// KeyFile names a file holding the key, relative to config.toml.
	KeyFile string `toml:"key_file"`
}

// Run holds settings of a run.
type Run struct {
	Out      string `toml:"out"`       // folder for out/<run-id>/, relative to config.toml
	TimeZone string `toml:"time_zone"` // zone of the run date when --as-of is not given
	// FileMode is the permission of every file a run writes (payment
	// files, letters, acks, the ledger), as octal text: "0600" by default,
	// "0640" for a team that shares a group; never wider. Folders get the
	// matching execute bits (0700, 0750).
	FileMode string `toml:"file_mode"`
	// MemoryLimit is the soft limit on the Go heap (see
	// runtime/debug.SetMemoryLimit), in GOMEMLIMIT's syntax: "384MiB" by
	// default. The GOMEMLIMIT environment variable, when set, wins. A run's
	// memory follows the number of families in a drop, not its lines; the
	// limit keeps garbage from piling up on top of that, and set too low
	// it makes the garbage collector the run's biggest cost.
	MemoryLimit string `toml:"memory_limit"`
}

// DefaultMemoryLimit is run.memory_limit when config.toml leaves it out.
const DefaultMemoryLimit = "384MiB"

// MemoryLimitBytes returns run.memory_limit in bytes (validated by
// Validate).
func (r Run) MemoryLimitBytes() int64 {
	n, err := ParseByteSize(r.MemoryLimit)
	if err != nil {
		n, _ = ParseByteSize(DefaultMemoryLimit)
	}
	return n
}

// ParseByteSize reads a size in GOMEMLIMIT's syntax: a whole number of
// bytes, optionally followed by B, KiB, MiB, GiB or TiB.
func ParseByteSize(s string) (int64, error) {
	units := []struct {
		suffix string
		shift  uint
	}{{"TiB", 40}, {"GiB", 30}, {"MiB", 20}, {"KiB", 10}, {"B", 0}}
	num, shift := s, uint(0)
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			num, shift = strings.TrimSuffix(s, u.suffix), u.shift
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64>>shift {
		return 0, fmt.Errorf("%q: want a size such as 400MiB or 1GiB", s)
	}
	return n << shift, nil
}

// Limits are the sanity limits that keep a typo from becoming a payment.
type Limits struct {
	// MaxLineCharge is the largest charge a service line may carry; a
	// line above it is INVALID_ROW.
	MaxLineCharge core.Cents `toml:"max_line_charge"`
	// MaxPayment is the largest payment a run forms without a second
	// person's approval: a larger one is held with PAYMENT_REVIEW until
	// `carepay approve PAYMENT_ID`.
	MaxPayment core.Cents `toml:"max_payment"`
}

// Returns says what happens to money the bank sends back.
type Returns struct {
	// Fallback is how the lines of a returned ACH payment, and later
	// payments to bank details a permanent return made unusable, are paid:
	// "check" (the default: a check to the payee's address) or "hold"
	// (PAYMENT_DETAILS until the registry brings new bank details).
	Fallback string `toml:"fallback"`
}

// ACH holds settings of ACH credits beyond the originator's details.
type ACH struct {
	// Prenote sends a zero-dollar prenotification entry for a payee's new
	// or changed ACH details; live credits to them wait PrenoteDays
	// banking days after its settlement date and are paid meanwhile by
	// returns.fallback. Off by default.
	Prenote bool `toml:"prenote"`
	// PrenoteDays is the wait in banking days (default 3, NACHA's
	// minimum; at most 30).
	PrenoteDays int `toml:"prenote_days"`
}

// Checks says what happens to checks after issue.
type Checks struct {
	// StaleAfter is how many days after its issue date a check the bank
	// has not paid is stale: every run lists it (default 180).
	StaleAfter int `toml:"stale_after"`
	// VoidStale voids stale checks in the run that finds them: the void
	// record goes into its positive pay file and their lines are paid
	// again.
	VoidStale bool `toml:"void_stale"`
	// ClearedColumns names the columns of the bank's cleared-checks file
	// (CSV or XLSX, known by its header): check_number, amount and
	// cleared_date, each the bank's header text.
	ClearedColumns ClearedColumns `toml:"cleared_columns"`
}

// ClearedColumns are the bank's header names of the cleared-checks file's
// three columns.
type ClearedColumns struct {
	CheckNumber string `toml:"check_number"`
	Amount      string `toml:"amount"`
	ClearedDate string `toml:"cleared_date"`
}

// DefaultStaleAfter is checks.stale_after when config.toml leaves it out.
const DefaultStaleAfter = 180

// Perm returns run.file_mode as a file permission (validated by Validate).
func (r Run) Perm() os.FileMode {
	m, err := strconv.ParseUint(r.FileMode, 8, 32)
	if err != nil {
		return 0o600
	}
	return os.FileMode(m)
}

// DirPerm returns the folder permission matching run.file_mode: the read
// bits of each class that may read the files, with their execute bit.
func (r Run) DirPerm() os.FileMode {
	p := r.Perm()
	return p | (p&0o444)>>2
}

// Payout is the employer's payment set-up: the NACHA originator, the
// check sequence and positive pay layout, and the payroll earning code.
type Payout struct {
	CompanyName        string `toml:"company_name"`
	CompanyID          string `toml:"company_id"`
	ODFIRouting        string `toml:"odfi_routing"`
	DestinationRouting string `toml:"destination_routing"`
	DestinationName    string `toml:"destination_name"`
	OriginName         string `toml:"origin_name"`
	EntryDescription   string `toml:"entry_description"`
	// A balanced file offsets every batch against the employer's account;
	// leave offset_routing empty for an unbalanced file.
	OffsetRouting     string `toml:"offset_routing"`
	OffsetAccount     string `toml:"offset_account"`
	OffsetAccountType string `toml:"offset_account_type"`

	CheckAccount       string   `toml:"check_account"` // the account checks draw on, for positive pay
	FirstCheckNumber   int64    `toml:"first_check_number"`
	PositivePayColumns []string `toml:"positive_pay_columns"`
	PositivePayDate    string   `toml:"positive_pay_date_format"` // Go layout
	PositivePayHeader  bool     `toml:"positive_pay_header"`
	PayrollEarningCode string   `toml:"payroll_earning_code"`
}

// Letters sets up the remittance letters.
type Letters struct {
	// ReturnAddress is printed at the top left, above the window.
	ReturnAddress []string `toml:"return_address"`
	// PrintBatchSize is how many letters print-batch.pdf holds; a run
	// with more continues in print-batch-2.pdf and on.
	PrintBatchSize int `toml:"print_batch_size"`
	// Email sends letters by SMTP (as PDF attachments) to recipients with an
	// email address, for the plans listed ("*": all) and to providers when
	// EmailProviders; the others go to the print batch.
	EmailPlans     []string `toml:"email_plans"`
	EmailProviders bool     `toml:"email_providers"`
	// FallbackFonts are TrueType font files (relative to this file: pass
	// each through Config.Resolve) tried in order for a character of a
	// letter the Go fonts lack (Latin, Greek and Cyrillic); a character
	// none has is transliterated and the letter listed in the run report.
	FallbackFonts []string `toml:"fallback_fonts"`
}

// Source is one place drops come from: a folder, an SFTP server or a
// mailbox. Secrets are named, never written here: key_file and known_hosts
// are paths, passwords come from password_env or password_file.
type Source struct {
	Name    string `toml:"name"`
	Type    string `toml:"type"`    // folder, sftp or imap
	Path    string `toml:"path"`    // folder or SFTP inbox folder
	Archive string `toml:"archive"` // where taken files move; empty leaves them
	Reports string `toml:"reports"` // where acknowledgements go; empty puts them beside the drop

	Remote
	Pattern string `toml:"pattern"` // sftp: file names to take (path.Match), default *
	// Stable says when a dropped file is completely written: "age" (folder
	// default: last modified at least stable_wait ago), "size" (sftp
	// default: size and time unchanged across two looks stable_wait apart)
	// or "done" (a NAME.done marker beside it). StableWait defaults to 5s.
	Stable     string   `toml:"stable"`
	StableWait Duration `toml:"stable_wait"`

	Security           string   `toml:"security"` // imap: tls or starttls
	Mailbox            string   `toml:"mailbox"`
	Processed          string   `toml:"processed"`
	Rejected           string   `toml:"rejected"`
	Manual             string   `toml:"manual"`
	AllowedSenders     []string `toml:"allowed_senders"`
	MaxMessageBytes    int64    `toml:"max_message_bytes"`
	MaxAttachmentBytes int64    `toml:"max_attachment_bytes"`
}

// Remote is how to reach a server: address, user and where the
// credentials are. Retries and Backoff govern dropped connections.
type Remote struct {
	Addr         string   `toml:"addr"` // host:port
	User         string   `toml:"user"`
	KeyFile      string   `toml:"key_file"`    // sftp: private key file
	UseAgent     bool     `toml:"use_agent"`   // sftp: keys from SSH_AUTH_SOCK
	KnownHosts   string   `toml:"known_hosts"` // sftp: the known_hosts file host keys are checked against
	CAFile       string   `toml:"ca_file"`     // imap, smtp: PEM certificates to trust besides the system's
	PasswordEnv  string   `toml:"password_env"`
	PasswordFile string   `toml:"password_file"`
	Retries      int      `toml:"retries"`
	Backoff      Duration `toml:"backoff"`
	Timeout      Duration `toml:"timeout"`
}

// Password reads the password the remote names, from the environment
// variable or the file (relative to config.toml).
func (c *Config) Password(r Remote) (string, error) {
	if r.PasswordEnv != "" {
		if v := os.Getenv(r.PasswordEnv); v != "" {
			return v, nil
		}
	}
	if r.PasswordFile != "" {
		b, err := os.ReadFile(c.Resolve(r.PasswordFile))
		if err != nil {
			return "", fmt.Errorf("password of %s: %w", r.Addr, err)
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	return "", fmt.Errorf("password of %s: set the environment variable %q or name a password_file", r.Addr, r.PasswordEnv)
}

// Duration is a time.Duration written as "30s" or "5m".
type Duration struct{ time.Duration }

// UnmarshalText reads a duration such as 30s.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return err
	}
	d.Duration = v
	return nil
}

// MarshalText writes the duration.
func (d Duration) MarshalText() ([]byte, error) { return []byte(d.String()), nil }

// SMTP is the mail server letters and acknowledgements are sent through.
type SMTP struct {
	Remote
	From     string `toml:"from"`
	Security string `toml:"security"` // tls or starttls
}

// Delivery is where payment files go: payroll's SFTP folder.
type Delivery struct {
	Remote
	Type string `toml:"type"` // sftp
	Path string `toml:"path"`
}

// Serve is the daemon's set-up: jobs on cron schedules in a time zone, and
// a health and metrics endpoint on the loopback interface.
type Serve struct {
	TimeZone string `toml:"time_zone"`
	Listen   string `toml:"listen"` // 127.0.0.1:9464
	Jobs     []Job  `toml:"jobs"`
}

// YearEnd configures `carepay year-end`: the dependent care exclusion
// limit of each calendar year, and the payroll earning code of what
// exceeds it.
type YearEnd struct {
	// ExclusionLimits holds a household's limit by calendar year ("2026").
	ExclusionLimits map[string]core.Cents `toml:"exclusion_limits"`
	EarningCode     string                `toml:"earning_code"`
}

// ExclusionLimit returns the limit configured for year (ok false when
// there is none).
func (y YearEnd) ExclusionLimit(year int) (core.Cents, bool) {
	v, ok := y.ExclusionLimits[strconv.Itoa(year)]
	return v, ok
}

// Job is one scheduled run. Pay false decides and reports but leaves
// payments to a later paying job.
type Job struct {
	Name     string `toml:"name"`
	Schedule string `toml:"schedule"` // cron: minute hour day month weekday, or @every 30m
	Pay      bool   `toml:"pay"`
	// YearEnd makes the job a year-end report instead of a run: of the
	// calendar year before the day it fires.
	YearEnd bool `toml:"year_end"`
}

// Error is a configuration problem at a line of a file.
type Error struct {
	File string
	Line int
	Key  string
	Msg  string
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Key != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Key, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// defaults returns a Config before the file is read.
func defaults() *Config {
	return &Config{
		Ledger:  Ledger{Driver: "sqlite", Path: "carepay.db", KeyEnv: "CAREPAY_LEDGER_KEY"},
		Run:     Run{Out: "out", TimeZone: "UTC", FileMode: "0600", MemoryLimit: DefaultMemoryLimit},
		Limits:  Limits{MaxLineCharge: 5_000_00, MaxPayment: 50_000_00},
		Returns: Returns{Fallback: "check"},
		ACH:     ACH{PrenoteDays: 3},
		Checks:  Checks{StaleAfter: DefaultStaleAfter, ClearedColumns: ClearedColumns{CheckNumber: "check_number", Amount: "amount", ClearedDate: "cleared_date"}},
		Payout: Payout{EntryDescription: "CAREPAY", FirstCheckNumber: 100001, PositivePayDate: "01/02/2006",
			PayrollEarningCode: "DCARE", OffsetAccountType: "checking"},
		YearEnd: YearEnd{ExclusionLimits: map[string]core.Cents{"2025": 5_000_00, "2026": 7_500_00}, EarningCode: "DCEXCESS"},
	}
}

// planDefaults fills what a plan may leave out.
func planDefaults(p *rules.Plan) {
	if p.YearStartMonth == 0 {
		p.YearStartMonth = 1
	}
}

// Load reads and validates config.toml at path.
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return Parse(path, data)
}

// Parse decodes and validates config text; path is used in messages and
// to resolve relative paths.
func Parse(path string, data []byte) (*Config, error) {
	c := defaults()
	c.path, c.data = path, data
	dec := toml.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(c); err != nil {
		var strict *toml.StrictMissingError
		var de *toml.DecodeError
		switch {
		case errors.As(err, &strict):
			var errs []error
			for _, e := range strict.Errors {
				line, _ := e.Position()
				errs = append(errs, &Error{File: path, Line: line, Key: strings.Join(e.Key(), "."), Msg: "unknown key"})
			}
			return nil, errors.Join(errs...)
		case errors.As(err, &de):
			line, _ := de.Position()
			return nil, &Error{File: path, Line: line, Key: strings.Join(de.Key(), "."), Msg: de.Error()}
		}
		return nil, &Error{File: path, Msg: err.Error()}
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks settings that decode but cannot work, naming each key.
func (c *Config) Validate() error {
	var errs []error
	bad := func(key, format string, a ...any) {
		errs = append(errs, &Error{File: c.path, Line: lineOf(c.data, key), Key: key, Msg: fmt.Sprintf(format, a...)})
	}
	switch c.Ledger.Driver {
	case "sqlite":
		if c.Ledger.Path == "" {
			bad("ledger.path", "empty")
		}
	case "postgres":
		u, err := url.Parse(c.Ledger.DSN)
		switch {
		case c.Ledger.DSN == "":
			bad("ledger.dsn", "empty: driver postgres needs a URL such as postgres://carepay@db.example.com:5432/carepay?sslmode=verify-full")
		case err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql"):
			bad("ledger.dsn", "not a postgres:// URL")
		case u.User != nil && func() bool { _, ok := u.User.Password(); return ok }(), u.Query().Has("password"):
			bad("ledger.dsn", "holds a password: put it in a file (ledger.password_file) or an environment variable (ledger.password_env), never in the config")
		}
	default:
		bad("ledger.driver", "%q: want sqlite or postgres", c.Ledger.Driver)
	}
	if c.Ledger.KeyEnv == "" && c.Ledger.KeyFile == "" {
		bad("ledger.key_env", "name an environment variable (key_env) or a file (key_file) holding the ledger key")
	}
	if _, err := time.LoadLocation(c.Run.TimeZone); err != nil {
		bad("run.time_zone", "%q is not a time zone: %v", c.Run.TimeZone, err)
	}
	if m, err := strconv.ParseUint(c.Run.FileMode, 8, 32); err != nil {
		bad("run.file_mode", "%q: want octal digits such as 0600", c.Run.FileMode)
	} else if err := safefile.CheckPerm(os.FileMode(m)); err != nil {
		bad("run.file_mode", "%v", err)
	}
	if n, err := ParseByteSize(c.Run.MemoryLimit); err != nil {
		bad("run.memory_limit", "%v", err)
	} else if n < 64<<20 {
		bad("run.memory_limit", "%q: want at least 64MiB", c.Run.MemoryLimit)
	}
	if c.Limits.MaxLineCharge <= 0 {
		bad("limits.max_line_charge", "%s: want a positive amount", c.Limits.MaxLineCharge)
	}
	if c.Limits.MaxPayment <= 0 {
		bad("limits.max_payment", "%s: want a positive amount", c.Limits.MaxPayment)
	}
	if c.Returns.Fallback != "check" && c.Returns.Fallback != "hold" {
		bad("returns.fallback", "%q: want \"check\" or \"hold\"", c.Returns.Fallback)
	}
	if c.ACH.PrenoteDays < 3 || c.ACH.PrenoteDays > 30 {
		bad("ach.prenote_days", "%d: want 3 to 30 banking days (NACHA requires at least 3)", c.ACH.PrenoteDays)
	}
	c.validateChecks(bad)
	for y, v := range c.YearEnd.ExclusionLimits {
		if n, err := strconv.Atoi(y); err != nil || n < 2000 || n > 2099 || strconv.Itoa(n) != y {
			bad("year_end.exclusion_limits", "%q: want a calendar year such as \"2026\"", y)
		}
		if v <= 0 {
			bad("year_end.exclusion_limits", "%s for %s: want a positive amount", v, y)
		}
	}
	if strings.TrimSpace(c.YearEnd.EarningCode) == "" {
		bad("year_end.earning_code", "empty: name the payroll earning code of the taxable excess")
	}
	names := map[string]bool{}
	for i, s := range c.Sources {
		key := fmt.Sprintf("sources[%d]", i)
		switch {
		case s.Name == "":
			bad(key+".name", "empty")
		case names[s.Name]:
			bad(key+".name", "%q is used by two sources", s.Name)
		}
		names[s.Name] = true
		switch s.Type {
		case "folder":
			if s.Path == "" {
				bad(key+".path", "empty")
			}
			validateStable(key, s, []string{"age", "size", "done"}, bad)
		case "sftp":
			c.validateSSH(key, s.Remote, bad)
			if s.Path == "" {
				bad(key+".path", "empty: name the inbox folder on the server")
			}
			validateStable(key, s, []string{"size", "done"}, bad)
		case "imap":
			if s.Stable != "" {
				bad(key+".stable", "means nothing for an imap source: a message arrives whole; remove it")
			}
			if s.StableWait.Duration != 0 {
				bad(key+".stable_wait", "means nothing for an imap source: a message arrives whole; remove it")
			}
			if s.Addr == "" || s.User == "" {
				bad(key+".addr", "an imap source needs addr and user")
			}
			if s.PasswordEnv == "" && s.PasswordFile == "" {
				bad(key+".password_env", "name the environment variable or file holding the password")
			}
			if s.Security != "tls" && s.Security != "starttls" {
				bad(key+".security", "%q: want tls or starttls", s.Security)
			}
			if len(s.AllowedSenders) == 0 {
				bad(key+".allowed_senders", "empty: list the addresses drops are taken from")
			}
		default:
			bad(key+".type", "%q: want folder, sftp or imap", s.Type)
		}
		if s.Archive != "" && filepath.Clean(s.Archive) == filepath.Clean(s.Path) {
			bad(key+".archive", "is the same folder as path %q; archived files would be taken again", s.Path)
		}
	}
	c.validatePayout(bad)
	if d := c.Payroll; d != nil {
		if d.Type != "sftp" {
			bad("delivery.type", "%q: want sftp", d.Type)
		}
		c.validateSSH("delivery", d.Remote, bad)
		if d.Path == "" {
			bad("delivery.path", "empty: name payroll's folder on the server")
		}
	}
	if m := c.SMTP; m != nil {
		if m.Addr == "" || m.From == "" {
			bad("smtp.addr", "smtp needs addr and from")
		}
		switch m.Security {
		case "tls", "starttls":
		case "none":
			if host, _, err := net.SplitHostPort(m.Addr); err != nil || !(host == "localhost" || net.ParseIP(host) != nil && net.ParseIP(host).IsLoopback()) {
				bad("smtp.security", `"none" (no TLS) is for a mail relay on this machine only (127.0.0.1)`)
			}
		default:
			bad("smtp.security", "%q: want tls or starttls", m.Security)
		}
	}
	if (len(c.Letters.EmailPlans) > 0 || c.Letters.EmailProviders) && c.SMTP == nil {
		bad("letters.email_plans", "letters by email need an [smtp] server")
	}
	c.validateServe(bad)
	if c.Letters.PrintBatchSize < 0 {
		bad("letters.print_batch_size", "%d is negative", c.Letters.PrintBatchSize)
	}
	for _, f := range c.Letters.FallbackFonts {
		if err := checkFont(c.Resolve(f)); err != nil {
			bad("letters.fallback_fonts", "%q: %v", f, err)
		}
	}
	if len(c.Plans) == 0 {
		bad("plans", "no plans configured")
	}
	ids := make([]string, 0, len(c.Plans))
	for id := range c.Plans {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		p := c.Plans[id]
		p.ID = id
		planDefaults(p)
		for _, err := range p.Validate() {
			var fe *rules.FieldError
			if errors.As(err, &fe) {
				bad("plans."+id+"."+fe.Key, "%s", fe.Msg)
			} else {
				bad("plans."+id, "%v", err)
			}
		}
	}
	return errors.Join(errs...)
}

// checkFont checks that the file at path is a TrueType font that letters
// can embed: it parses, and has TrueType outlines (a glyf table).
func checkFont(path string) error {
	if path == "" {
		return errors.New("empty path")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if _, err := sfnt.Parse(b); err != nil {
		return fmt.Errorf("not a TrueType or OpenType font: %w", err)
	}
	for i, n := 0, int(binary.BigEndian.Uint16(b[4:])); i < n && 12+16*i+16 <= len(b); i++ {
		if string(b[12+16*i:12+16*i+4]) == "glyf" {
			return nil
		}
	}
	return errors.New("an OpenType font with PostScript (CFF) outlines: letters embed TrueType outlines only")
}

// validateStable checks a source's stable and stable_wait against the
// rules its type supports.
func validateStable(key string, s Source, rules []string, bad func(key, format string, args ...any)) {
	if s.Stable != "" && !slices.Contains(rules, s.Stable) {
		bad(key+".stable", "%q: want %s for a %s source", s.Stable, strings.Join(rules, ", "), s.Type)
	}
	switch {
	case s.StableWait.Duration < 0:
		bad(key+".stable_wait", "%s is negative", s.StableWait.Duration)
	case s.StableWait.Duration != 0 && s.Stable == "done":
		bad(key+".stable_wait", `means nothing with stable = "done": the marker says when the file is complete; remove it`)
	}
}

// Resolve returns p relative to the folder of config.toml.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(c.path), p)
}

// Path returns the file the config was read from.
func (c *Config) Path() string { return c.path }

// Location returns the configured time zone.
func (c *Config) Location() *time.Location {
	loc, err := time.LoadLocation(c.Run.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// LedgerTarget is where the ledger lives: the SQLite file, or the
// PostgreSQL URL with the password from ledger.password_env or
// password_file put in. The URL is a secret then: log PostgresName of it.
func (c *Config) LedgerTarget() (string, error) {
	if c.Ledger.Driver != "postgres" {
		return c.Resolve(c.Ledger.Path), nil
	}
	pw, ok := "", false
	if c.Ledger.PasswordEnv != "" {
		pw, ok = os.LookupEnv(c.Ledger.PasswordEnv)
		if ok && pw == "" {
			or := ""
			if c.Ledger.PasswordFile != "" {
				or = ", or unset it to use ledger.password_file"
			}
			return "", fmt.Errorf("ledger password: environment variable %s is set but empty; set it to the password%s", c.Ledger.PasswordEnv, or)
		}
	}
	switch {
	case ok:
	case c.Ledger.PasswordFile != "":
		b, err := os.ReadFile(c.Resolve(c.Ledger.PasswordFile))
		if err != nil {
			return "", fmt.Errorf("ledger password: reading ledger.password_file: %w", err)
		}
		if pw, ok = strings.TrimRight(string(b), "\r\n"), true; pw == "" {
			return "", fmt.Errorf("ledger password: ledger.password_file %s is empty", c.Resolve(c.Ledger.PasswordFile))
		}
	case c.Ledger.PasswordEnv != "":
		return "", fmt.Errorf("ledger password: environment variable %s is not set and ledger.password_file is not configured (name neither to use PGPASSWORD or ~/.pgpass)", c.Ledger.PasswordEnv)
	default:
		// Neither named: libpq's own PGPASSWORD or ~/.pgpass, or no
		// password (peer or certificate authentication).
		return c.Ledger.DSN, nil
	}
	u, err := url.Parse(c.Ledger.DSN)
	if err != nil {
		return "", errors.New("ledger.dsn is not a URL")
	}
	name := ""
	if u.User != nil {
		name = u.User.Username()
	}
	u.User = url.UserPassword(name, pw)
	return u.String(), nil
}

// LedgerKey reads the ledger key text from the environment variable or
// file the config names. The text is returned to the caller only. The
// file is read only when the variable is not set at all: a variable set
// but empty (a secret store that failed to fill it) is an error, never a
// quiet fall back to another key.
func (c *Config) LedgerKey() (string, error) {
	if c.Ledger.KeyEnv != "" {
		if v, ok := os.LookupEnv(c.Ledger.KeyEnv); ok {
			if strings.TrimSpace(v) == "" {
				return "", fmt.Errorf("ledger key: environment variable %s is set but empty; set it to the ledger key, or unset it to use ledger.key_file", c.Ledger.KeyEnv)
			}
			return v, nil
		}
	}
	if c.Ledger.KeyFile != "" {
		b, err := os.ReadFile(c.Resolve(c.Ledger.KeyFile))
		if err != nil {
			return "", fmt.Errorf("ledger key: reading ledger.key_file: %w", err)
		}
		return string(b), nil
	}
	return "", fmt.Errorf("ledger key: environment variable %s is not set and ledger.key_file is not configured", c.Ledger.KeyEnv)
}

func (c *Config) validatePayout(bad func(key, format string, a ...any)) {
	p := c.Payout
	for key, v := range map[string]string{"payout.odfi_routing": p.ODFIRouting, "payout.destination_routing": p.DestinationRouting} {
		if !payout.ValidRouting(v) {
			bad(key, "%q is not a nine-digit ABA routing number with a valid check digit", v)
		}
	}
	if p.CompanyName == "" || len(p.CompanyName) > 16 {
		bad("payout.company_name", "%q: want 1 to 16 characters (NACHA company name)", p.CompanyName)
	}
	if len(p.CompanyID) != 10 {
		bad("payout.company_id", "%q: want the 10-character company identification", p.CompanyID)
	}
	if len(p.EntryDescription) == 0 || len(p.EntryDescription) > 10 {
		bad("payout.entry_description", "%q: want 1 to 10 characters", p.EntryDescription)
	}
	if p.OffsetRouting != "" || p.OffsetAccount != "" {
		if !payout.ValidRouting(p.OffsetRouting) {
			bad("payout.offset_routing", "%q is not a valid routing number", p.OffsetRouting)
		}
		if p.OffsetAccount == "" {
			bad("payout.offset_account", "needed with offset_routing")
		}
		if p.OffsetAccountType != "checking" && p.OffsetAccountType != "savings" {
			bad("payout.offset_account_type", "%q: want checking or savings", p.OffsetAccountType)
		}
	}
	if p.FirstCheckNumber <= 0 {
		bad("payout.first_check_number", "%d: want a positive check number", p.FirstCheckNumber)
	}
	for _, col := range p.PositivePayColumns {
		if !payout.ValidPositivePayColumn(col) {
			bad("payout.positive_pay_columns", "unknown column %q; want one of %s", col, strings.Join(payout.PositivePayColumns, ", "))
		}
	}
	if !payout.TellsVoids(p.PositivePayColumns) {
		bad("payout.positive_pay_columns", "has neither issue_flag nor void: the bank could not tell a voided check's record from an issued one; add the column your bank reads as the issue/void indicator")
	}
}

func (c *Config) validateChecks(bad func(key, format string, a ...any)) {
	k := c.Checks
	if k.StaleAfter < 1 {
		bad("checks.stale_after", "%d: want a number of days, at least 1", k.StaleAfter)
	}
	seen := map[string]string{}
	for _, col := range []struct{ key, name string }{
		{"check_number", k.ClearedColumns.CheckNumber}, {"amount", k.ClearedColumns.Amount}, {"cleared_date", k.ClearedColumns.ClearedDate},
	} {
		key := "checks.cleared_columns." + col.key
		n := strings.ToLower(strings.TrimSpace(col.name))
		switch {
		case n == "":
			bad(key, "empty: name the bank's header of that column")
		case seen[n] != "":
			bad(key, "%q is also the name of cleared_columns.%s; each column needs its own", col.name, seen[n])
		default:
			seen[n] = col.key
		}
	}
}

// ClearedLayout returns the header names of the bank's cleared-checks
// file.
func (k Checks) ClearedLayout() ingest.ClearedLayout {
	c := k.ClearedColumns
	return ingest.ClearedLayout{CheckNumber: c.CheckNumber, Amount: c.Amount, ClearedDate: c.ClearedDate}
}

// Originator returns the NACHA originator of the payout settings.
func (p Payout) Originator() payout.Originator {
	return payout.Originator{CompanyName: p.CompanyName, CompanyID: p.CompanyID, ODFIRouting: p.ODFIRouting,
		DestinationRouting: p.DestinationRouting, DestinationName: p.DestinationName, OriginName: p.OriginName,
		EntryDescription: p.EntryDescription, OffsetRouting: p.OffsetRouting, OffsetAccount: p.OffsetAccount,
		OffsetAccountType: p.OffsetAccountType}
}

// PositivePayLayout returns the positive pay layout of the payout settings.
func (p Payout) PositivePayLayout() payout.PositivePay {
	return payout.PositivePay{Account: p.CheckAccount, Columns: p.PositivePayColumns, DateFormat: p.PositivePayDate, Header: p.PositivePayHeader}
}

func (c *Config) validateSSH(key string, r Remote, bad func(key, format string, a ...any)) {
	if r.Addr == "" || r.User == "" {
		bad(key+".addr", "an sftp server needs addr (host:port) and user")
	}
	if r.KeyFile == "" && !r.UseAgent {
		bad(key+".key_file", "name the private key file, or set use_agent = true")
	}
	if r.KnownHosts == "" {
		bad(key+".known_hosts", "name the known_hosts file the server's host key is checked against")
	}
}

func (c *Config) validateServe(bad func(key, format string, a ...any)) {
	s := c.Serve
	if s.TimeZone != "" {
		if _, err := time.LoadLocation(s.TimeZone); err != nil {
			bad("serve.time_zone", "%q is not a time zone: %v", s.TimeZone, err)
		}
	}
	if s.Listen != "" {
		host, _, err := net.SplitHostPort(s.Listen)
		if ip := net.ParseIP(host); err != nil || (host != "localhost" && (ip == nil || !ip.IsLoopback())) {
			bad("serve.listen", "%q: the health and metrics endpoint listens on the loopback interface only (127.0.0.1:PORT)", s.Listen)
		}
	}
	names := map[string]bool{}
	for i, j := range s.Jobs {
		key := fmt.Sprintf("serve.jobs[%d]", i)
		if j.Name == "" || names[j.Name] {
			bad(key+".name", "%q: every job needs a name of its own", j.Name)
		}
		names[j.Name] = true
		if j.YearEnd && j.Pay {
			bad(key+".year_end", "a year-end job reports, it does not pay: leave pay out")
		}
		if _, err := CronParser.Parse(j.Schedule); err != nil {
			bad(key+".schedule", "%q: %v", j.Schedule, err)
		}
	}
}

// CronParser reads the five-field cron expressions of serve.jobs (minute
// hour day-of-month month day-of-week) and descriptors such as @every 30m.
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

// ServeLocation returns the time zone of the schedules (run.time_zone when
// serve.time_zone is not set).
func (c *Config) ServeLocation() *time.Location {
	if c.Serve.TimeZone != "" {
		if loc, err := time.LoadLocation(c.Serve.TimeZone); err == nil {
			return loc
		}
	}
	return c.Location()
}
