package gendrop

import (
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"
)

// Stream identifiers: each kind of record draws from its own PCG stream,
// keyed by the seed and the record's index, so that any record can be
// derived again on demand without keeping it in memory.
const (
	streamEmployee uint64 = iota + 1
	streamDependent
	streamProvider
	streamLines
)

// splitmix is the SplitMix64 finaliser, used to spread seeds and indexes
// over the PCG state.
func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

// rng returns the random stream of record i of the given kind.
func (g *generator) rng(stream uint64, i int) *rand.Rand {
	return rand.New(rand.NewPCG(g.seed, splitmix(stream<<56^uint64(i))))
}

var (
	plans = [3]string{PlanBrightBackup, PlanPinchHourly, PlanJITCInvoice}

	firstNames = []string{
		"Olivia", "Liam", "Emma", "Noah", "Ava", "Elijah", "Sophia", "James", "Isabella", "William",
		"Mia", "Benjamin", "Charlotte", "Lucas", "Amelia", "Henry", "Harper", "Theodore", "Evelyn", "Mateo",
		"Abigail", "Daniel", "Emily", "Michael", "Ella", "Samuel", "Aaliyah", "Jackson", "Camila", "Sebastian",
		"Priya", "Wei", "Fatima", "Diego", "Nia", "Omar", "Hana", "Kofi", "Lucia", "Ravi",
	}
	elderFirstNames = []string{
		"Dorothy", "Harold", "Margaret", "Walter", "Betty", "Eugene", "Shirley", "Ralph", "Joan", "Arthur",
		"Gloria", "Raymond", "Maria", "Jose", "Mei", "Hiroshi",
	}
	lastNames = []string{
		"Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez", "Martinez",
		"Hernandez", "Lopez", "Gonzalez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore", "Jackson", "Martin",
		"Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark", "Ramirez", "Lewis", "Robinson",
		"Nguyen", "Patel", "Kim", "O'Brien", "Okafor", "Novak", "Schmidt", "Rossi", "Cohen", "Yamamoto",
	}
	streets = []string{
		"Maple St", "Oak Ave", "Cedar Ln", "Pine St", "Elm St", "Washington Ave", "Lake Rd", "Hillcrest Dr",
		"Park Pl", "Sunset Blvd", "River Rd", "Main St", "Church St", "Highland Ave", "Willow Way", "Birch Ct",
	}
	cities = []struct{ city, state, zip3 string }{
		{"Columbus", "OH", "432"}, {"Austin", "TX", "787"}, {"Denver", "CO", "802"}, {"Portland", "OR", "972"},
		{"Raleigh", "NC", "276"}, {"Madison", "WI", "537"}, {"Phoenix", "AZ", "850"}, {"Atlanta", "GA", "303"},
		{"Minneapolis", "MN", "554"}, {"Sacramento", "CA", "958"}, {"Boston", "MA", "021"}, {"Pittsburgh", "PA", "152"},
		{"Nashville", "TN", "372"}, {"Salt Lake City", "UT", "841"}, {"Richmond", "VA", "232"}, {"Newark", "NJ", "071"},
	}
	providerWords = []string{
		"Sunny", "Little", "Bright", "Happy", "Kind", "Golden", "Rainbow", "Maple", "Willow", "Harbor",
		"Bluebird", "Acorn", "Meadow", "Tender", "Summit", "Cedar",
	}
	providerNouns = []string{"Oaks", "Steps", "Hearts", "Hands", "Days", "Sprouts", "Nest", "Path"}
	// providerSuffixes by provider kind: center, family child care, in-home
	// agency, adult care.
	providerSuffixes = [4][]string{
		{"Learning Center", "Child Development Center", "Early Learning Academy"},
		{"Family Child Care", "Home Daycare"},
		{"Home Care", "Nanny Services", "In-Home Care Agency"},
		{"Adult Day Services", "Senior Care"},
	}
)

// employee is one roster row. The first fields (the core) are drawn first
// from the employee's stream, so that service line generation can derive
// them cheaply without the rest.
type employee struct {
	idx      int
	id       string
	plan     string
	deps     int
	provider int // usual provider index

	first, last    string
	employmentType string
	income         int64 // whole dollars
	enrolledOn     time.Time
	addr           address
	email          string
	bank           bank
	otherBenefits  int64 // cents
	leaveStatus    string
	lastUsedOn     string
}

type address struct {
	line1, line2, city, state, postal string
}

type bank struct {
	method, routing, account, accountType string
	// badRouting is set when the routing number was made to fail its
	// checksum on purpose.
	badRouting bool
}

func employeeID(i int) string { return "E" + pad(i+1, 6) }

func providerID(j int) string { return "P" + pad(j+1, 4) }

func dependentID(empIdx, k int) string { return "D" + pad(empIdx+1, 6) + "-" + strconv.Itoa(k+1) }

// pad formats n with at least width digits, zero-padded.
func pad(n, width int) string {
	s := strconv.Itoa(n)
	if len(s) >= width {
		return s
	}
	return strings.Repeat("0", width-len(s)) + s
}

// employee derives employee i; with full false only the core fields are
// set.
func (g *generator) employee(i int, full bool) employee {
	r := g.rng(streamEmployee, i)
	e := employee{idx: i, id: employeeID(i)}
	// Round-robin over the plans, with one employee in five placed at
	// random.
	if r.IntN(5) == 0 {
		e.plan = plans[r.IntN(len(plans))]
	} else {
		e.plan = plans[i%len(plans)]
	}
	e.deps = 1 + r.IntN(3)
	e.provider = r.IntN(g.providers)
	if !full {
		return e
	}
	e.first = pick(r, firstNames)
	e.last = pick(r, lastNames)
	switch n := r.IntN(100); {
	case n < 80:
		e.employmentType = "regular_full_time"
	case n < 94:
		e.employmentType = "regular_part_time"
	default:
		e.employmentType = "temporary"
	}
	// Skewed towards the lower incomes, from 25,000 to 220,000 in steps
	// of 500.
	e.income = 25_000 + int64(math.Pow(r.Float64(), 1.6)*390)*500
	e.enrolledOn = g.dayOfYear(g.year-1, r.IntN(daysIn(g.year-1)))
	e.addr = randomAddress(r)
	e.email = strings.ToLower(strings.ReplaceAll(e.first+"."+e.last, "'", "")) + "." + strconv.Itoa(i+1) + "@example.com"
	switch n := r.IntN(100); {
	case n < 55:
		e.bank = g.randomBank(r)
	case n < 85:
		e.bank.method = "payroll"
	default:
		e.bank.method = "check"
	}
	switch n := r.IntN(100); {
	case n < 80:
	case n < 97:
		e.otherBenefits = int64(500+50*r.IntN(81)) * 100
	default:
		e.otherBenefits = 5000 * 100
	}
	e.leaveStatus = "none"
	if r.IntN(50) == 0 {
		e.leaveStatus = "military"
	}
	if r.IntN(10) == 0 {
		y := g.year - 1 - r.IntN(5)
		e.lastUsedOn = g.dayOfYear(y, r.IntN(daysIn(y))).Format(time.DateOnly)
	}
	return e
}

func (e *employee) record(rec []string) {
	rec[0] = e.id
	rec[1] = e.first
	rec[2] = e.last
	rec[3] = e.plan
	rec[4] = e.employmentType
	rec[5] = strconv.FormatInt(e.income, 10) + ".00"
	rec[6] = e.enrolledOn.Format(time.DateOnly)
	rec[7], rec[8], rec[9], rec[10], rec[11] = e.addr.line1, e.addr.line2, e.addr.city, e.addr.state, e.addr.postal
	rec[12] = e.email
	rec[13], rec[14], rec[15], rec[16] = e.bank.method, e.bank.routing, e.bank.account, e.bank.accountType
	rec[17] = money(e.otherBenefits)
	rec[18] = e.leaveStatus
	rec[19] = e.lastUsedOn
}

// dependent is one dependents row.
type dependent struct {
	id           string
	first, last  string
	birth        time.Time
	relationship string
	incapable    bool
	registeredOn time.Time
}

// dependent derives dependent k of employee e (only e's core fields are
// used, so service lines can call it cheaply). The last name is blank
// when it is the employee's.
func (g *generator) dependent(e *employee, k int) dependent {
	r := g.rng(streamDependent, e.idx*4+k)
	d := dependent{id: dependentID(e.idx, k)}
	jan1 := g.dayOfYear(g.year, 0)
	// The last dependent of a jitc-invoice employee (and, rarely, of a
	// pinch-hourly one) may be an elderly parent who cannot care for
	// themselves.
	elderChance := 0
	switch e.plan {
	case PlanJITCInvoice:
		elderChance = 35
	case PlanPinchHourly:
		elderChance = 8
	}
	if k == e.deps-1 && r.IntN(100) < elderChance {
		d.relationship = "parent"
		d.incapable = true
		d.first = pick(r, elderFirstNames)
		d.birth = jan1.AddDate(-66-r.IntN(30), 0, -r.IntN(365))
	} else {
		switch n := r.IntN(100); {
		case n < 84:
			d.relationship = "child"
		case n < 92:
			d.relationship = "stepchild"
		case n < 96:
			d.relationship = "adopted"
		case n < 98:
			d.relationship = "foster"
		default:
			d.relationship = "ward"
		}
		d.incapable = r.IntN(50) == 0
		d.first = pick(r, firstNames)
		// Ages 0 to 15 on January 1st of the plan year.
		d.birth = jan1.AddDate(0, 0, -(20 + r.IntN(16*365)))
	}
	if r.IntN(8) == 0 {
		d.last = pick(r, lastNames)
	}
	// Registered early in the plan year.
	d.registeredOn = jan1.AddDate(0, 0, r.IntN(45))
	return d
}

func (d *dependent) record(e *employee, rec []string) {
	rec[0] = e.id
	rec[1] = d.id
	rec[2] = d.first
	rec[3] = d.last
	if rec[3] == "" {
		rec[3] = e.last
	}
	rec[4] = d.birth.Format(time.DateOnly)
	rec[5] = d.relationship
	rec[6] = strconv.FormatBool(d.incapable)
	rec[7] = d.registeredOn.Format(time.DateOnly)
}

// provider is one provider registry row.
type provider struct {
	id, name, taxID string
	kind            int // index into providerSuffixes
	addr            address
	email           string
	bank            bank
}

func (g *generator) provider(j int) provider {
	r := g.rng(streamProvider, j)
	p := provider{id: providerID(j), kind: j % len(providerSuffixes)}
	p.name = pick(r, providerWords) + " " + pick(r, providerNouns) + " " + pick(r, providerSuffixes[p.kind])
	if r.IntN(3) == 0 {
		p.name += pick(r, []string{" LLC", " Inc."})
	}
	p.taxID = pad(10+r.IntN(89), 2) + "-" + pad(r.IntN(10_000_000), 7)
	p.addr = randomAddress(r)
	slug := strings.ToLower(strings.NewReplacer(" ", "", ".", "", "-", "").Replace(p.name))
	p.email = "billing@" + slug + ".example.com"
	if r.IntN(100) < 80 {
		p.bank = g.randomBank(r)
	} else {
		p.bank.method = "check"
	}
	return p
}

func (p *provider) record(rec []string) {
	rec[0], rec[1], rec[2] = p.id, p.name, p.taxID
	rec[3], rec[4], rec[5], rec[6], rec[7] = p.addr.line1, p.addr.line2, p.addr.city, p.addr.state, p.addr.postal
	rec[8] = p.email
	rec[9], rec[10], rec[11], rec[12] = p.bank.method, p.bank.routing, p.bank.account, p.bank.accountType
}

func randomAddress(r *rand.Rand) address {
	a := address{line1: strconv.Itoa(10+r.IntN(9990)) + " " + pick(r, streets)}
	if r.IntN(4) == 0 {
		a.line2 = "Apt " + strconv.Itoa(1+r.IntN(40)) + string(rune('A'+r.IntN(4)))
	}
	c := cities[r.IntN(len(cities))]
	a.city, a.state, a.postal = c.city, c.state, c.zip3+pad(r.IntN(100), 2)
	return a
}

// randomBank draws ACH details: a routing number that passes the ABA
// checksum (or, for the defect share, fails it) and an account number of
// 8 to 12 digits.
func (g *generator) randomBank(r *rand.Rand) bank {
	b := bank{method: "ach", accountType: "checking"}
	if r.IntN(5) == 0 {
		b.accountType = "savings"
	}
	var d [9]byte
	// Federal Reserve district prefixes 01-12 (banks) and 21-32 (thrifts).
	p := 1 + r.IntN(24)
	if p > 12 {
		p += 8
	}
	d[0], d[1] = byte(p/10), byte(p%10)
	for i := 2; i < 8; i++ {
		d[i] = byte(r.IntN(10))
	}
	d[8] = abaCheckDigit(d)
	if r.Float64() < g.pDefect {
		b.badRouting = true
		d[8] = (d[8] + 1 + byte(r.IntN(9))) % 10
	}
	var rt [9]byte
	for i, v := range d {
		rt[i] = '0' + v
	}
	b.routing = string(rt[:])
	acct := make([]byte, 8+r.IntN(5))
	acct[0] = byte('1' + r.IntN(9))
	for i := 1; i < len(acct); i++ {
		acct[i] = byte('0' + r.IntN(10))
	}
	b.account = string(acct)
	return b
}

// abaCheckDigit returns the ninth digit that makes
// 3(d1+d4+d7) + 7(d2+d5+d8) + (d3+d6+d9) a multiple of 10.
func abaCheckDigit(d [9]byte) byte {
	sum := 3*(int(d[0])+int(d[3])+int(d[6])) + 7*(int(d[1])+int(d[4])+int(d[7])) + int(d[2]) + int(d[5])
	return byte((10 - sum%10) % 10)
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

// dayOfYear returns the date n days after January 1st of year y.
func (g *generator) dayOfYear(y, n int) time.Time {
	return time.Date(y, time.January, 1+n, 0, 0, 0, 0, time.UTC)
}

func daysIn(y int) int {
	return int(time.Date(y+1, time.January, 1, 0, 0, 0, 0, time.UTC).Sub(time.Date(y, time.January, 1, 0, 0, 0, 0, time.UTC)).Hours()) / 24
}

// money formats cents as dollars with two decimals, no sign or separators.
func money(cents int64) string {
	return strconv.FormatInt(cents/100, 10) + "." + pad(int(cents%100), 2)
}
