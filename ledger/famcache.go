package ledger

import "carepay/core"

// famCache holds, for the length of a run, what the rules read of every
// employee and dependent they meet: at a million lines that is hundreds
// of thousands of families, kept until the commit. The records hold no
// pointers (texts such as the plan are numbered), so the garbage
// collector marks the record slices without reading them; a lookup builds
// a fresh core.Employee or core.Dependent, which dies with its line.
type famCache struct {
	emps map[string]int32 // index into emp; absentFamily when not found
	emp  []cachedEmployee
	deps map[[2]string]int32 // by employee and dependent ID; index into dep
	dep  []cachedDependent

	texts  []string // the few texts records name, by number
	textNo map[string]uint32
}

// absentFamily marks an ID looked up and not found.
const absentFamily = -1

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
	return &famCache{emps: map[string]int32{}, deps: map[[2]string]int32{}, textNo: map[string]uint32{}}
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
	if e == nil {
		c.emps[id] = absentFamily
		return
	}
	c.emps[id] = int32(len(c.emp))
	c.emp = append(c.emp, cachedEmployee{
		income: int64(e.AnnualIncome), other: int64(e.OtherBenefits),
		enrolled: e.EnrolledOn, lastUsed: e.LastUsedOn,
		plan: c.text(e.PlanID), kind: c.text(e.EmploymentType), method: c.text(e.PaymentMethod), leaveText: c.text(e.LeaveStatus),
	})
}

// employee returns the cached employee: whether it is cached, and then
// the employee or nil when there is none.
func (c *famCache) employee(id string) (e *core.Employee, cached bool) {
	i, ok := c.emps[id]
	if !ok || i == absentFamily {
		return nil, ok
	}
	r := &c.emp[i]
	return &core.Employee{
		ID: id, PlanID: c.texts[r.plan], EmploymentType: c.texts[r.kind], PaymentMethod: c.texts[r.method], LeaveStatus: c.texts[r.leaveText],
		AnnualIncome: core.Cents(r.income), OtherBenefits: core.Cents(r.other),
		EnrolledOn: r.enrolled, LastUsedOn: r.lastUsed,
	}, true
}

func (c *famCache) hasEmployee(id string) bool {
	_, ok := c.emps[id]
	return ok
}

// putDependent caches what the rules read of d (nil: no such dependent).
func (c *famCache) putDependent(key [2]string, d *core.Dependent) {
	if d == nil {
		c.deps[key] = absentFamily
		return
	}
	c.deps[key] = int32(len(c.dep))
	c.dep = append(c.dep, cachedDependent{
		birth: d.BirthDate, registered: d.RegisteredOn,
		relationship: c.text(d.Relationship), incapable: d.IncapableOfSelf,
	})
}

// dependent returns the cached dependent as employee does.
func (c *famCache) dependent(key [2]string) (d *core.Dependent, cached bool) {
	i, ok := c.deps[key]
	if !ok || i == absentFamily {
		return nil, ok
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
func (c *famCache) forgetEmployee(id string)      { delete(c.emps, id) }
func (c *famCache) forgetDependent(key [2]string) { delete(c.deps, key) }
