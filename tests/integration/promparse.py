#!/usr/bin/python3
"""promparse.py - read a /metrics scrape on stdin with the Prometheus
client library's text-format parser (Debian's python3-prometheus-client)
and print every sample as  name<TAB>label=value,...<TAB>value  (labels
sorted), for check_metrics.c.  A scrape the parser refuses exits 1 with
its complaint: the format itself is under test."""
import sys

from prometheus_client.parser import text_string_to_metric_families

try:
    families = list(text_string_to_metric_families(sys.stdin.read()))
except Exception as e:  # the parser raises ValueError and others
    print("unparsable scrape: %s" % e, file=sys.stderr)
    sys.exit(1)
for f in families:
    for s in f.samples:
        labels = ",".join("%s=%s" % kv for kv in sorted(s.labels.items()))
        print("%s\t%s\t%r" % (s.name, labels, float(s.value)))
