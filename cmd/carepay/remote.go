package main

import (
	"fmt"

	"carepay/config"
	"carepay/ingest"
)

// newRemoteSource builds the sources that reach a server.
func newRemoteSource(cfg *config.Config, s config.Source) (ingest.Source, error) {
	return nil, fmt.Errorf("type %q is not wired yet", s.Type)
}

// addDelivery adds payroll's SFTP folder and the SMTP mailer when the
// config names them.
func (w *wiring) addDelivery(cfg *config.Config) error {
	return nil
}
