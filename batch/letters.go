package batch

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"carepay/core"
	"carepay/ledger"
	"carepay/payout"
	"carepay/report"
	"carepay/rules"
	"carepay/safefile"
	"carepay/templates"
)

// LetterReport says which letters a run wrote and which it could not post.
type LetterReport struct {
	Written int
	Postal  int
	Emailed int
	// NotInRoster counts employees with decided lines but no roster row:
	// no letter can reach them.
	NotInRoster int
	// NoAddress lists letters written but held from the print batch: the
	// recipient has no postal address.
	NoAddress []string
}

// writeLetters writes letters/<kind>-<id>.pdf for every employee with a
// decided line and every provider paid, rendering on every core, and
// letters/print-batch.pdf with the postal letters sorted by postal code.
func writeLetters(ctx context.Context, lg *ledger.Ledger, run ledger.RunInfo, opt Options, dir string) (*LetterReport, error) {
	start := time.Now()
	tmpl, err := templates.Letter()
	if err != nil {
		return nil, err
	}
	words, err := templates.Reasons()
	if err != nil {
		return nil, err
	}
	style := &payout.LetterStyle{Template: tmpl, ReasonWords: words, ReturnAddress: opt.ReturnAddress}
	payments, err := lg.Payments(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	holds, err := lg.Holds(ctx, run.ID)
	if err != nil {
		return nil, err
	}
	b := &letterBuilder{lg: lg, run: run, opt: opt, byPayee: map[[2]string][]payout.LetterPayment{}}
	for _, p := range payments {
		lp := payout.LetterPayment{Method: p.Method, Amount: p.Amount, CheckNumber: p.CheckNumber}
		if p.Method == core.MethodACH {
			lp.Account = p.Bank.Masked()
		}
		k := [2]string{p.PayeeType, p.PayeeID}
		b.byPayee[k] = append(b.byPayee[k], lp)
	}
	for _, h := range holds {
		k := [2]string{h.PayeeType, h.PayeeID}
		b.byPayee[k] = append(b.byPayee[k], payout.LetterPayment{Method: h.Method, Amount: h.Amount, Held: h.Detail})
	}

	folder, err := safefile.NewFolder(filepath.Join(dir, "letters"))
	if err != nil {
		return nil, err
	}
	defer folder.Abort()
	// Render on every core; the print batch needs every postal letter, so
	// they are kept (a letter is small) and rendered last.
	jobs := make(chan *payout.Letter, 64)
	errs := make(chan error, runtime.NumCPU())
	var wg sync.WaitGroup
	for i := 0; i < runtime.NumCPU(); i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for l := range jobs {
				var buf bytes.Buffer
				name := l.Kind + "-" + safeName(l.ID) + ".pdf"
				err := style.WriteLetter(&buf, l)
				if err == nil {
					err = os.WriteFile(folder.Path(name), buf.Bytes(), safefile.Perm())
				}
				if err == nil && l.ByEmail {
					err = mailLetter(ctx, lg, opt.Mailer, run.ID, l, name, buf.Bytes())
				}
				if err != nil {
					select {
					case errs <- err:
					default:
					}
				}
			}
		}()
	}
	rep := &LetterReport{}
	postal, err := newLetterSpool(opt.SpoolDir)
	if err != nil {
		return nil, err
	}
	defer postal.close()
	send := func(l *payout.Letter) error {
		rep.Written++
		l.ByEmail = opt.Mailer != nil && l.Email != "" && opt.EmailLetter != nil && opt.EmailLetter(l.Kind, l.Plan)
		if l.ByEmail {
			rep.Emailed++
		} else if l.Postal() {
			if err := postal.add(l); err != nil {
				return err
			}
		} else {
			rep.NoAddress = append(rep.NoAddress, l.Kind+" "+l.ID)
		}
		select {
		case jobs <- l:
			return nil
		case err := <-errs:
			return err
		}
	}
	err = lg.EachEmployeeLetter(ctx, run.ID, func(id string, rows []ledger.LetterRow) error {
		l, err := b.employee(ctx, id, rows)
		if err != nil || l == nil {
			if l == nil && err == nil {
				rep.NotInRoster++
			}
			return err
		}
		return send(l)
	})
	if err == nil {
		err = lg.EachProviderLetter(ctx, run.ID, func(id string, rows []ledger.LetterRow) error {
			l, err := b.provider(ctx, id, rows)
			if err != nil {
				return err
			}
			return send(l)
		})
	}
	close(jobs)
	wg.Wait()
	if err != nil {
		return nil, err
	}
	select {
	case err := <-errs:
		return nil, err
	default:
	}
	rep.Postal = postal.len()
	opt.timer.done(report.StageLetters, start)
	start = time.Now()
	if err := writePrintBatch(folder, style, run.AsOf, postal, opt.PrintBatchSize); err != nil {
		return nil, err
	}
	opt.timer.done(report.StagePrintBatch, start)
	if err := folder.Commit(); err != nil {
		return nil, err
	}
	return rep, nil
}

// DefaultPrintBatchSize is how many letters one print batch file holds.
const DefaultPrintBatchSize = 5000

// writePrintBatch renders the postal letters, sorted by postal code, into
// print-batch.pdf, and past size letters into print-batch-2.pdf and on: a
// PDF document is held whole in memory until written, and mail houses take
// batches of bounded size.
func writePrintBatch(folder *safefile.Folder, style *payout.LetterStyle, date core.Date, postal *letterSpool, size int) error {
	if size <= 0 {
		size = DefaultPrintBatchSize
	}
	for vol := 0; vol*size < postal.len(); vol++ {
		name := "print-batch.pdf"
		if vol > 0 {
			name = fmt.Sprintf("print-batch-%d.pdf", vol+1)
		}
		f, err := os.OpenFile(folder.Path(name), os.O_WRONLY|os.O_CREATE|os.O_TRUNC, safefile.Perm())
		if err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
		doc := payout.NewDocument(date)
		err = postal.each(vol*size, min((vol+1)*size, postal.len()), func(l *payout.Letter) error { return style.Render(doc, l) })
		if err != nil {
			f.Close()
			return err
		}
		err = doc.Output(f)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return fmt.Errorf("writing %s: %w", name, err)
		}
	}
	return nil
}

// safeName keeps an ID usable as a file name.
func safeName(id string) string {
	b := []byte(id)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

type letterBuilder struct {
	lg      *ledger.Ledger
	run     ledger.RunInfo
	opt     Options
	byPayee map[[2]string][]payout.LetterPayment
}

func lineOf(r *ledger.LetterRow) payout.LetterLine {
	return payout.LetterLine{Date: r.ServiceDate, Employee: r.EmployeeName, Dependent: r.Dependent, CareType: r.CareType,
		Units: r.Units, Charged: r.Charged, EmployeeShare: r.EmployeeShare, EmployerShare: r.EmployerShare,
		Status: r.Status, Reasons: r.Reasons}
}

func (b *letterBuilder) employee(ctx context.Context, id string, rows []ledger.LetterRow) (*payout.Letter, error) {
	name, addr, email, err := b.lg.Contact(ctx, core.PayeeEmployee, id)
	if err != nil {
		// Not in the roster: nobody to write to. Its lines are in
		// decisions.csv and the acknowledgement of the file.
		return nil, nil
	}
	l := &payout.Letter{Kind: core.PayeeEmployee, ID: id, Name: name, Address: addr, Email: email, RunID: b.run.ID, Date: b.run.AsOf,
		Payments: b.byPayee[[2]string{core.PayeeEmployee, id}]}
	toProviders := map[string]core.Cents{}
	var providers []string
	deps := map[string]string{}
	plan := ""
	for i := range rows {
		r := &rows[i]
		l.Lines = append(l.Lines, lineOf(r))
		if r.PayeeType == core.PayeeProvider && (r.Status == string(core.Approved) || r.Status == string(core.Partial)) && r.EmployerShare > 0 {
			if _, ok := toProviders[r.PayeeID]; !ok {
				providers = append(providers, r.PayeeID)
			}
			toProviders[r.PayeeID] += r.EmployerShare
		}
		if r.PlanID != "" {
			plan = r.PlanID
			deps[r.DependentID] = r.Dependent
		}
	}
	for _, p := range providers {
		pname, _, _, err := b.lg.Contact(ctx, core.PayeeProvider, p)
		if err != nil {
			pname = p
		}
		l.PaidToOthers = append(l.PaidToOthers, fmt.Sprintf("Your employer pays %s of this care to %s.", toProviders[p].Dollars(), pname))
	}
	l.Plan = plan
	if p := b.opt.Plans[plan]; p != nil {
		if l.Remaining, err = b.remaining(ctx, p, id, deps); err != nil {
			return nil, err
		}
	}
	return l, nil
}

// remaining works out the allowance left this plan year, from the ledger.
func (b *letterBuilder) remaining(ctx context.Context, p *rules.Plan, employeeID string, deps map[string]string) ([]string, error) {
	emp := &core.Employee{ID: employeeID}
	lines, err := b.lg.UsageOf(ctx, "employee_id", employeeID)
	if err != nil {
		return nil, err
	}
	other, err := b.lg.OtherBenefits(ctx, employeeID)
	if err != nil {
		return nil, err
	}
	emp.OtherBenefits = other
	byDep := map[string][]core.PriorLine{}
	if p.DayLimitPer == "dependent" {
		for id := range deps {
			if byDep[id], err = b.lg.UsageOf(ctx, "dependent_id", id); err != nil {
				return nil, err
			}
		}
	}
	return rules.Remaining(p, emp, p.YearOf(b.run.AsOf), lines, byDep, deps), nil
}

func (b *letterBuilder) provider(ctx context.Context, id string, rows []ledger.LetterRow) (*payout.Letter, error) {
	name, addr, email, err := b.lg.Contact(ctx, core.PayeeProvider, id)
	if err != nil {
		return nil, err
	}
	l := &payout.Letter{Kind: core.PayeeProvider, ID: id, Name: name, Address: addr, Email: email, RunID: b.run.ID, Date: b.run.AsOf,
		Payments: b.byPayee[[2]string{core.PayeeProvider, id}]}
	for i := range rows {
		l.Lines = append(l.Lines, lineOf(&rows[i]))
	}
	return l, nil
}

// mailLetter sends a letter by email once: the ledger records every letter
// sent, so a run completed after a crash does not send it again.
func mailLetter(ctx context.Context, lg *ledger.Ledger, m Mailer, runID string, l *payout.Letter, name string, pdf []byte) error {
	sent, err := lg.LetterSent(ctx, runID, l.Kind, l.ID)
	if err != nil || sent {
		return err
	}
	body := fmt.Sprintf("Dear %s,\n\nYour remittance letter for payment run %s is attached.\n\nBenefits Operations\n", l.Name, runID)
	if err := m.SendLetter(ctx, l.Email, "Backup care remittance "+runID, body, name, pdf); err != nil {
		return fmt.Errorf("emailing the letter to %s %s: %w", l.Kind, l.ID, err)
	}
	return lg.RecordLetterSent(ctx, runID, l.Kind, l.ID, l.Email)
}
