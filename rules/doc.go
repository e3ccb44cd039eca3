// Package rules decides every service line against its employer's plan.
//
// A Plan is data (tiers, limits, deadlines) read from config.toml; the
// Engine applies the checks common to all plans and then the plan's kind:
// "copay" (the employee pays a copay, the provider is paid the rest, as in
// bright-backup), "hourly" (the employee is reimbursed per hour, as in
// pinch-hourly) or "daily" (a share of each day's charge, as in
// jitc-invoice). Limits are consumed first come first served in the order
// lines are given to Decide; what earlier runs consumed comes from a
// History, which the ledger implements.
package rules
