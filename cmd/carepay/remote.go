package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"os"

	"carepay/config"
	"carepay/deliver"
	"carepay/ingest"
	"carepay/mail"
	"carepay/sshclient"
)

// newRemoteSource builds the sources that reach a server: SFTP and IMAP.
func newRemoteSource(cfg *config.Config, s config.Source) (ingest.Source, error) {
	switch s.Type {
	case "sftp":
		return ingest.NewSFTP(ingest.SFTPOptions{Name: s.Name, Options: sshOptions(cfg, s.Remote), Dir: s.Path, Pattern: s.Pattern,
			ArchiveDir: s.Archive, ReportsDir: s.Reports, Stable: s.Stable, StableWait: s.StableWait.Duration})
	case "imap":
		password, err := cfg.Password(s.Remote)
		if err != nil {
			return nil, err
		}
		tlsConfig, err := tlsFor(cfg, s.Remote)
		if err != nil {
			return nil, err
		}
		replier, err := newMailer(cfg)
		if err != nil {
			return nil, err
		}
		if replier == nil {
			return nil, fmt.Errorf("an imap source replies to senders: configure [smtp]")
		}
		return ingest.NewIMAP(ingest.IMAPOptions{Name: s.Name, Addr: s.Addr, Security: s.Security, TLSConfig: tlsConfig,
			User: s.User, Password: password, Mailbox: s.Mailbox, Processed: s.Processed, Rejected: s.Rejected, Manual: s.Manual,
			AllowedSenders: s.AllowedSenders, MaxMessageBytes: s.MaxMessageBytes, MaxAttachmentBytes: s.MaxAttachmentBytes,
			Reply: replier.smtp})
	}
	return nil, fmt.Errorf("unknown source type %q", s.Type)
}

// sshOptions says how to reach an SSH server named in the config; key and
// known_hosts paths are relative to config.toml.
func sshOptions(cfg *config.Config, r config.Remote) sshclient.Options {
	return sshclient.Options{Addr: r.Addr, User: r.User, KeyFile: cfg.Resolve(r.KeyFile), UseAgent: r.UseAgent,
		KnownHosts: cfg.Resolve(r.KnownHosts), Retries: r.Retries, Backoff: r.Backoff.Duration, Timeout: r.Timeout.Duration}
}

// tlsFor trusts the system's certificates and those of ca_file.
func tlsFor(cfg *config.Config, r config.Remote) (*tls.Config, error) {
	if r.CAFile == "" {
		return nil, nil
	}
	pem, err := os.ReadFile(cfg.Resolve(r.CAFile))
	if err != nil {
		return nil, fmt.Errorf("ca_file of %s: %w", r.Addr, err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file of %s holds no PEM certificate", r.Addr)
	}
	return &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}, nil
}

// mailer sends letters through [smtp].
type mailer struct{ smtp *mail.SMTP }

func (m *mailer) SendLetter(ctx context.Context, to, subject, body, filename string, pdf []byte) error {
	return m.smtp.Send(ctx, to, subject, body, []mail.Attachment{{Name: filename, ContentType: "application/pdf", Data: pdf}})
}

func newMailer(cfg *config.Config) (*mailer, error) {
	m := cfg.SMTP
	if m == nil {
		return nil, nil
	}
	password := ""
	if m.PasswordEnv != "" || m.PasswordFile != "" {
		p, err := cfg.Password(m.Remote)
		if err != nil {
			return nil, err
		}
		password = p
	}
	tlsConfig, err := tlsFor(cfg, m.Remote)
	if err != nil {
		return nil, err
	}
	s, err := mail.NewSMTP(mail.SMTPOptions{Addr: m.Addr, From: m.From, User: m.User, Password: password, Security: m.Security, TLSConfig: tlsConfig})
	if err != nil {
		return nil, err
	}
	return &mailer{smtp: s}, nil
}

// addDelivery adds payroll's SFTP folder and the SMTP mailer when the
// config names them.
func (w *wiring) addDelivery(cfg *config.Config) error {
	if err := w.addPayrollSink(cfg); err != nil {
		return err
	}
	m, err := newMailer(cfg)
	if err != nil {
		return fmt.Errorf("smtp: %w", err)
	}
	if m != nil {
		w.mailer = m
	}
	return nil
}

// addPayrollSink adds payroll's SFTP folder when the config names one.
func (w *wiring) addPayrollSink(cfg *config.Config) error {
	if d := cfg.Payroll; d != nil {
		sink, err := deliver.NewSFTPSink(deliver.SFTPSinkOptions{Options: sshOptions(cfg, d.Remote), Dir: d.Path})
		if err != nil {
			return fmt.Errorf("delivery: %w", err)
		}
		w.sinks = append(w.sinks, sink)
		w.closers = append(w.closers, sink)
	}
	return nil
}
