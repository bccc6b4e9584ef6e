# SPDX-License-Identifier: GPL-2.0-or-later
# The protocol-neutral daemon's parts in libpvcommon: the reply buffer, the
# control socket (both sides), table-driven stats (text, JSON, Prometheus) and
# the worker socket of --isolate domain.
tests += test-out-json-escape test-ctl-round-trip test-stats-table-text-json \
	 test-stats-prometheus-exposition test-isolate-messages \
	 test-isodev-worker

test-out-json-escape_srcs := tests/unit/test-out-json-escape.c
test-out-json-escape_deps := pvcommon
test-out-json-escape_pkgs := cmocka

test-ctl-round-trip_srcs := tests/unit/test-ctl-round-trip.c
test-ctl-round-trip_deps := pvcommon
test-ctl-round-trip_pkgs := cmocka

test-stats-table-text-json_srcs := tests/unit/test-stats-table-text-json.c
test-stats-table-text-json_deps := pvcommon
test-stats-table-text-json_pkgs := cmocka

test-stats-prometheus-exposition_srcs := tests/unit/test-stats-prometheus-exposition.c
test-stats-prometheus-exposition_deps := pvcommon
test-stats-prometheus-exposition_pkgs := cmocka

test-isolate-messages_srcs := tests/unit/test-isolate-messages.c
test-isolate-messages_deps := pvcommon
test-isolate-messages_pkgs := cmocka

test-isodev-worker_srcs := tests/unit/test-isodev-worker.c
test-isodev-worker_deps := pvcommon
test-isodev-worker_pkgs := cmocka
