package gendrop

import (
	"path/filepath"
)

// writeRegistry writes one registry file: the header, then the rows that
// rows passes to emit.
func (g *generator) writeRegistry(st *Stats, name string, header []string, rows func(rec []string, emit func() error) error) error {
	c, err := createCSV(filepath.Join(g.dir, name), header)
	if err != nil {
		return err
	}
	rec := make([]string, len(header))
	if err := rows(rec, func() error { return c.write(rec) }); err != nil {
		c.abort()
		return err
	}
	size, err := c.close()
	st.Bytes += size
	return err
}

func (g *generator) writeEmployees(st *Stats) error {
	return g.writeRegistry(st, "01-employees.csv", employeeColumns, func(rec []string, emit func() error) error {
		for i := range g.employees {
			e := g.employee(i, true)
			e.record(rec)
			if err := emit(); err != nil {
				return err
			}
			st.Employees++
		}
		return nil
	})
}

func (g *generator) writeDependents(st *Stats) error {
	return g.writeRegistry(st, "02-dependents.csv", dependentColumns, func(rec []string, emit func() error) error {
		for i := range g.employees {
			e := g.employee(i, true)
			for k := range e.deps {
				d := g.dependent(&e, k)
				d.record(&e, rec)
				if err := emit(); err != nil {
					return err
				}
				st.Dependents++
			}
		}
		return nil
	})
}

func (g *generator) writeProviders(st *Stats) error {
	return g.writeRegistry(st, "03-providers.csv", providerColumns, func(rec []string, emit func() error) error {
		for j := range g.providers {
			p := g.provider(j)
			p.record(rec)
			if err := emit(); err != nil {
				return err
			}
			st.Providers++
		}
		return nil
	})
}
