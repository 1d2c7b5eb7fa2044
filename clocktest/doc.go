// Package clocktest is the settable clock of alertgate's tests.
//
// Everything in alertgate that reads the time takes it from a
// now func() time.Time (or Options.Now) so tests can move time forward
// instantly: a test builds a Clock, hands Clock.Now to the code under
// test, and calls Advance where the scenario says "fifteen minutes
// later". It lives outside internal/ so the end-to-end tests in test/
// can import it whatever module they are in.
package clocktest
