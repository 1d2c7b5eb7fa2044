// Package notifier builds a router.Notifier from a configured target.
// Each target type lives in its own sub-package (lognotifier, webhook,
// slack, pagerduty); New is the one switch that knows them all, so
// adding a type is one package and one case.
package notifier
