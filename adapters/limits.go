package adapters

import "slices"

// Defaults of Limits, the same as config.Default's server.alert_limits.
const (
	DefaultMaxLabels          = 128
	DefaultMaxLabelNameBytes  = 1024
	DefaultMaxLabelValueBytes = 1024
	DefaultMaxAnnotationBytes = 16 << 10
)

// Limits bound what one decoded alert may carry. Names and counts are
// identity: over the limit the body is refused (ErrBadPayload naming the
// field). Values are content: over the limit they are cut to the limit,
// ending with "…", and the alert is kept (its fingerprint was taken from
// the whole labels, so cut values never merge distinct alerts). A zero
// field takes its default.
type Limits struct {
	// MaxLabels is the most labels per alert, the source's labels included.
	MaxLabels int
	// MaxLabelNameBytes bounds label and annotation names.
	MaxLabelNameBytes int
	// MaxLabelValueBytes bounds label values (and so the service and
	// severity hint read from them).
	MaxLabelValueBytes int
	// MaxAnnotationBytes bounds annotation values, the title, the
	// description, the generator URL, and the batch's group key and
	// receiver.
	MaxAnnotationBytes int
}

func (l Limits) withDefaults() Limits {
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&l.MaxLabels, DefaultMaxLabels)
	def(&l.MaxLabelNameBytes, DefaultMaxLabelNameBytes)
	def(&l.MaxLabelValueBytes, DefaultMaxLabelValueBytes)
	def(&l.MaxAnnotationBytes, DefaultMaxAnnotationBytes)
	return l
}

// Apply checks and cuts b's alerts in place. The error wraps
// ErrBadPayload and names the first offending field, e.g.
// "alerts[3].labels: 200 labels, at most 128 allowed".
func (l Limits) Apply(b *Batch) error {
	l = l.withDefaults()
	b.GroupKey = truncate(b.GroupKey, l.MaxAnnotationBytes)
	b.Receiver = truncate(b.Receiver, l.MaxAnnotationBytes)
	b.Truncated = min(max(b.Truncated, 0), MaxTruncated)
	for i := range b.Alerts {
		a := &b.Alerts[i]
		path := index("alerts", i)
		if n := len(a.Labels); n > l.MaxLabels {
			return badf("%s: %d labels, at most %d allowed", at(path, "labels"), n, l.MaxLabels)
		}
		if err := l.names(at(path, "labels"), a.Labels); err != nil {
			return err
		}
		if err := l.names(at(path, "annotations"), a.Annotations); err != nil {
			return err
		}
		for k, v := range a.Labels {
			if len(v) > l.MaxLabelValueBytes {
				a.Labels[k] = truncate(v, l.MaxLabelValueBytes)
			}
		}
		for k, v := range a.Annotations {
			if len(v) > l.MaxAnnotationBytes {
				a.Annotations[k] = truncate(v, l.MaxAnnotationBytes)
			}
		}
		a.Service = truncate(a.Service, l.MaxLabelValueBytes)
		a.SeverityHint = truncate(a.SeverityHint, l.MaxLabelValueBytes)
		a.Title = truncate(a.Title, l.MaxAnnotationBytes)
		a.Description = truncate(a.Description, l.MaxAnnotationBytes)
		a.GeneratorURL = truncate(a.GeneratorURL, l.MaxAnnotationBytes)
	}
	return nil
}

// names refuses a name longer than MaxLabelNameBytes; the first such name
// in sorted order is reported, shortened.
func (l Limits) names(path string, m map[string]string) error {
	var long []string
	for k := range m {
		if len(k) > l.MaxLabelNameBytes {
			long = append(long, k)
		}
	}
	if len(long) == 0 {
		return nil
	}
	slices.Sort(long)
	return badf("%s: name %q is %d bytes, at most %d allowed", path, truncate(long[0], 32), len(long[0]), l.MaxLabelNameBytes)
}
