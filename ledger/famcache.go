package ledger

import (
	"carepay/core"
	"carepay/internal/intern"
)

// famCache holds, for the length of a run, what the rules read of every
// employee and dependent they meet: at a million lines that is hundreds
// of thousands of families, kept until the commit. The records hold no
// pointers (texts such as the plan are numbered), so the garbage
// collector marks the record slices without reading them, and the IDs are
// numbered in intern tables rather than kept as map keys; a lookup builds
// a fresh core.Employee or core.Dependent, which dies with its line.
type famCache struct {
	empNo intern.Table // employee IDs
	emps  []int32      // by employee number: index into emp, absentFamily or notCached
	emp   []cachedEmployee
	depNo intern.Table // pairs of employee and dependent IDs
	deps  []int32      // by dependent number, as emps
	dep   []cachedDependent

	texts  []string // the few texts records name, by number
	textNo map[string]uint32
}

// A family's place in emps or deps when it has no record: looked up and
// not found, or forgotten (rewritten in the run, to be read again).
const (
	absentFamily = -1
	notCached    = -2
)

// place sets the place of number n in places, growing it as numbers are
// added.
func place(places []int32, n uint32, at int32) []int32 {
	for uint32(len(places)) <= n {
		places = append(places, notCached)
	}
	places[n] = at
	return places
}

// empPlace returns employee id's place in emps.
func (c *famCache) empPlace(id string) int32 {
	if n, ok := c.empNo.Lookup(id); ok {
		return c.emps[n]
	}
	return notCached
}

// depPlace returns the dependent's place in deps.
func (c *famCache) depPlace(key [2]string) int32 {
	if n, ok := c.depNo.LookupPair(key[0], key[1]); ok {
		return c.deps[n]
	}
	return notCached
}

type cachedEmployee struct {
	income, other                 int64
	enrolled, lastUsed            core.Date
	plan, kind, method, leaveText uint32
}

type cachedDependent struct {
	birth, registered core.Date
	relationship      uint32
	incapable         bool
}

func newFamCache() *famCache {
	return &famCache{textNo: map[string]uint32{}}
}

// text numbers s, one number per distinct text.
func (c *famCache) text(s string) uint32 {
	if n, ok := c.textNo[s]; ok {
		return n
	}
	n := uint32(len(c.texts))
	c.texts = append(c.texts, s)
	c.textNo[s] = n
	return n
}

// putEmployee caches what the rules read of e (nil: no such employee).
func (c *famCache) putEmployee(id string, e *core.Employee) {
	n, _ := c.empNo.Number(id)
	if e == nil {
		c.emps = place(c.emps, n, absentFamily)
		return
	}
	c.emps = place(c.emps, n, int32(len(c.emp)))
	c.emp = append(c.emp, cachedEmployee{
		income: int64(e.AnnualIncome), other: int64(e.OtherBenefits),
		enrolled: e.EnrolledOn, lastUsed: e.LastUsedOn,
		plan: c.text(e.PlanID), kind: c.text(e.EmploymentType), method: c.text(e.PaymentMethod), leaveText: c.text(e.LeaveStatus),
	})
}

// employee returns the cached employee: whether it is cached, and then
// the employee or nil when there is none.
func (c *famCache) employee(id string) (e *core.Employee, cached bool) {
	i := c.empPlace(id)
	if i < 0 {
		return nil, i == absentFamily
	}
	r := &c.emp[i]
	return &core.Employee{
		ID: id, PlanID: c.texts[r.plan], EmploymentType: c.texts[r.kind], PaymentMethod: c.texts[r.method], LeaveStatus: c.texts[r.leaveText],
		AnnualIncome: core.Cents(r.income), OtherBenefits: core.Cents(r.other),
		EnrolledOn: r.enrolled, LastUsedOn: r.lastUsed,
	}, true
}

func (c *famCache) hasEmployee(id string) bool {
	return c.empPlace(id) != notCached
}

// putDependent caches what the rules read of d (nil: no such dependent).
func (c *famCache) putDependent(key [2]string, d *core.Dependent) {
	n, _ := c.depNo.NumberPair(key[0], key[1])
	if d == nil {
		c.deps = place(c.deps, n, absentFamily)
		return
	}
	c.deps = place(c.deps, n, int32(len(c.dep)))
	c.dep = append(c.dep, cachedDependent{
		birth: d.BirthDate, registered: d.RegisteredOn,
		relationship: c.text(d.Relationship), incapable: d.IncapableOfSelf,
	})
}

// dependent returns the cached dependent as employee does.
func (c *famCache) dependent(key [2]string) (d *core.Dependent, cached bool) {
	i := c.depPlace(key)
	if i < 0 {
		return nil, i == absentFamily
	}
	r := &c.dep[i]
	return &core.Dependent{
		EmployeeID: key[0], ID: key[1],
		BirthDate: r.birth, RegisteredOn: r.registered,
		Relationship: c.texts[r.relationship], IncapableOfSelf: r.incapable,
	}, true
}

// forget drops what is cached of an employee or a dependent rewritten in
// the run (its record stays, unreachable).
func (c *famCache) forgetEmployee(id string) {
	if n, ok := c.empNo.Lookup(id); ok {
		c.emps[n] = notCached
	}
}

func (c *famCache) forgetDependent(key [2]string) {
	if n, ok := c.depNo.LookupPair(key[0], key[1]); ok {
		c.deps[n] = notCached
	}
}
