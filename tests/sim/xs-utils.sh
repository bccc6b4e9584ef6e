#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Description: pvsim's xenstored (sim/xs*.c) driven by Debian's xenstore-utils
# and libxenstore: read/write/ls/list/rm/exists/chmod, relative paths of a
# guest, permission denial between two guests, malformed messages closing
# only their connection.
. "$(dirname "$0")/xs-lib.sh"
t_plan 14
testd_start

check "write then read as dom0" outputs hello bash -c \
	'as_dom 0 xenstore-write /test/a hello && as_dom 0 xenstore-read /test/a' 
check "list shows children in creation order" outputs "$(printf 'a\nb')" bash -c \
	'as_dom 0 xenstore-write /test/b x && as_dom 0 xenstore-list /test'
check "ls prints values" bash -c 'as_dom 0 xenstore-ls /test | grep -qx "a = \"hello\""'
check "exists, rm, then exists fails" bash -c \
	'as_dom 0 xenstore-exists /test/a && as_dom 0 xenstore-rm /test && ! as_dom 0 xenstore-exists /test/a'
check "read of a missing node fails" fails as_dom 0 xenstore-read /nothere
check "initial tree has /local/domain and /tool/xenstored" bash -c \
	'as_dom 0 xenstore-exists /local/domain && as_dom 0 xenstore-exists /tool/xenstored'
check "dom0 hands /local/domain/1 to dom1" bash -c \
	'as_dom 0 xenstore-write /local/domain/1/name guest1 && as_dom 0 xenstore-chmod /local/domain/1 n1'
check "relative path of dom1 lands in /local/domain/1" outputs bar bash -c \
	'as_dom 1 xenstore-write foo bar && as_dom 0 xenstore-read /local/domain/1/foo'
check "dom1 owns what it created" bash -c 'as_dom 0 xenstore-ls -p /local/domain/1 | grep -q "^foo = \"bar\".*(n1)$"' 
check "dom0 writes dom2's private node" bash -c \
	'as_dom 0 xenstore-write /local/domain/2/secret s3cret &&
	 as_dom 0 xenstore-chmod /local/domain/2 n2 && as_dom 0 xenstore-chmod /local/domain/2/secret n2 &&
	 [ "$(as_dom 2 xenstore-read /local/domain/2/secret)" = s3cret ]'
check "dom1 cannot read dom2's node (EACCES)" bash -c \
	'out=$(as_dom 1 pvsim-xs-client read /local/domain/2/secret); rc=$?; echo "$out"; [ $rc -ne 0 ] && [ "$out" = EACCES ]'
check "dom1 cannot write into dom2's directory" fails as_dom 1 xenstore-write /local/domain/2/evil x
check "oversized payload closes only that connection" bash -c \
	'as_dom 0 pvsim-xs-client raw-oversize && [ "$(as_dom 0 xenstore-read /local/domain/1/foo)" = bar ]'
check "unknown message type gets ENOSYS" outputs ENOSYS as_dom 1 pvsim-xs-client raw-unknown
t_done
