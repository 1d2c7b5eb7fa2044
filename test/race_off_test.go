//go:build !race

package test

// raceEnabled reports a -race build, whose memory use (5–10×) makes RSS
// figures meaningless.
const raceEnabled = false
