package ledger

import (
	"errors"
	"fmt"
	"strconv"

	"carepay/core"
)

// usageRecord is the SQL expression that encodes one line of table lines
// for table usage (migration 6 spells it out the same way): the texts
// plan, employee, dependent, provider, care type, service date and status,
// each as its length in bytes, ':' and the bytes; then care_day, day_used,
// placements, employee_share and employer_share, each followed by ','. The
// lengths keep any ID intact, whatever characters it holds.
const usageRecord = `octet_length(plan_id) || ':' || plan_id || octet_length(employee_id) || ':' || employee_id ||
	octet_length(dependent_id) || ':' || dependent_id || octet_length(provider_id) || ':' || provider_id ||
	octet_length(care_type) || ':' || care_type || octet_length(service_date) || ':' || service_date ||
	octet_length(status) || ':' || status || care_day || ',' || day_used || ',' || placements || ',' ||
	employee_share || ',' || employer_share || ','`

// counts is the condition of a line that counts towards duplicates and
// limits (see core.PriorLine).
const counts = `(status != 'rejected' OR care_day = 1)`

// putUsage adds a row to table usage for every employee and dependent with
// a line of this run that counts: called once, at the commit. The lines
// are grouped by one sort of the run's lines, and the rows go in in key
// order.
func (t *Tx) putUsage() error {
	for _, k := range []struct{ kind, column string }{{"e", "employee_id"}, {"d", "dependent_id"}} {
		if _, err := t.tx.ExecContext(t.ctx, `INSERT INTO usage (kind, id, run_id, lines)
 SELECT ?, `+k.column+`, ?, group_concat(`+usageRecord+`, '') FROM lines WHERE id > ? AND `+counts+` GROUP BY `+k.column,
			k.kind, t.RunID, t.base); err != nil {
			return fmt.Errorf("recording usage by %s: %w", k.column, err)
		}
	}
	return nil
}

// usage returns the lines that count of an employee (kind "e") or a
// dependent ("d"), from committed runs.
func (t *Tx) usage(kind, id string) ([]core.PriorLine, error) {
	if err := t.loadPriorIDs(); err != nil {
		return nil, err
	}
	if !t.priorIDs[kind+id] {
		return nil, nil
	}
	st, err := t.stmt(`SELECT lines FROM usage WHERE kind = ? AND id = ?`)
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(t.ctx, kind, id)
	if err != nil {
		return nil, err
	}
	return scanUsage(rows)
}

// rowScanner is what *sql.Rows gives scanUsage.
type rowScanner interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close() error
}

// scanUsage decodes rows of one column, usage.lines.
func scanUsage(rows rowScanner) ([]core.PriorLine, error) {
	defer rows.Close()
	var out []core.PriorLine
	var b []byte
	for rows.Next() {
		if err := rows.Scan(&b); err != nil {
			return nil, err
		}
		var err error
		if out, err = decodeUsage(out, b); err != nil {
			return nil, err
		}
	}
	return out, rows.Err()
}

// decodeUsage appends the lines encoded in b (see usageRecord) to out.
func decodeUsage(out []core.PriorLine, b []byte) ([]core.PriorLine, error) {
	d := usageDecoder{b: b}
	for len(d.b) > 0 {
		var p core.PriorLine
		p.PlanID = d.text()
		p.EmployeeID = d.text()
		p.DependentID = d.text()
		p.ProviderID = d.text()
		p.CareType = d.text()
		p.ServiceDate = pd(d.text())
		p.Status = core.Status(d.text())
		p.CareDay = d.num() != 0
		p.DayUsed = d.num() != 0
		p.Placements = int(d.num())
		p.EmployeeShare = core.Cents(d.num())
		p.EmployerShare = core.Cents(d.num())
		if d.err != nil {
			return out, fmt.Errorf("reading usage: %w", d.err)
		}
		out = append(out, p)
	}
	return out, nil
}

var errUsage = errors.New("malformed usage record")

type usageDecoder struct {
	b   []byte
	err error
}

// text reads a length-prefixed text: "<bytes>:<text>".
func (d *usageDecoder) text() string {
	n := int(d.until(':'))
	if d.err != nil || n > len(d.b) {
		d.err = errUsage
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// num reads an integer ended by ','.
func (d *usageDecoder) num() int64 { return d.until(',') }

func (d *usageDecoder) until(sep byte) int64 {
	for i, c := range d.b {
		if c == sep {
			v, err := strconv.ParseInt(string(d.b[:i]), 10, 64)
			if err != nil && d.err == nil {
				d.err = errUsage
			}
			d.b = d.b[i+1:]
			return v
		}
	}
	if d.err == nil {
		d.err = errUsage
	}
	d.b = nil
	return 0
}
