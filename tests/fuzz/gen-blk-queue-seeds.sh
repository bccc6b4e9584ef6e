#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
# Writes the hand-made seeds of fuzz-blk-queue (tests/fuzz/fuzz-blk-queue.c
# documents the encoding) into tests/fuzz/corpus/fuzz-blk-queue/.  Inputs
# the fuzzer found and that we keep as regressions live there too, under
# names of their own.  Each seed: 4 setup bytes (a b c order), then ops.
set -eu
out=$(cd "$(dirname "$0")" && pwd)/corpus/fuzz-blk-queue
mkdir -p "$out"
seed() { # name hex...
	local name=$1; shift
	echo "$*" | tr -d ' ' | xxd -r -p >"$out/$name"
}

# Ops (first byte mod 13): 00 request, 01 raw slot, 02 push, 03 req_prod
# move, 04 rsp_event, 05 req_event, 06 notify, 07 consume, 08 revoke,
# 09 re-grant, 0a indirect page, 0b wait, 0c read back.
# Requests: sel id [sector] nb segs...; a segment is (page, sects 0x38 = 0-7).
W2='00 01 01 02 02 00 38 01 38'      # write id 1, sector 16, pages 0 and 1
R1='00 00 02 02 01 02 38'            # read id 2, sector 16, page 2
FL='00 02 03 00 00'                  # flush id 3
DS='00 04 04 04 10'                  # discard id 4, sector 32, 64 sectors
IR='00 06 05 08 28 00'               # indirect read id 5, 40 segments, indirect page 0
BA='00 03 06 00 01 03 38'            # barrier id 6 with page 3
IW='00 05 07 10 64 01'               # indirect write id 7, 100 segments, indirect page 1
ALL="$W2 $R1 $FL $DS $IR 02 0b 07 $BA $IW 02 0b 07 0c"

# uring, map, 256 indirect, buffered file, discard, journal, async stop.
seed valid-uring-map        05 6f 80 00 $ALL
# sync, copy, persistent, x86_32, ring of 2 pages, 5 persistent grants.
seed valid-sync-copy-x86_32 38 2f 04 01 $ALL
# uring, auto, persistent, fixed buffers, polling, ring of 4 pages.
seed valid-uring-pgrants    11 af 23 02 $ALL
# Grants ended while a read of 11 pages and an indirect read are in
# flight, an indirect page rewritten under them, then given again.
R11='00 00 01 00 0b 00 38 01 38 02 38 03 38 04 38 05 38 06 38 07 38 00 38 01 38 02 38'
seed revoke-mid-flight      05 0f 80 00 $R11 00 06 02 20 80 00 02 08 00 08 08 \
	0a 01 00 04 00 38 01 38 0e 38 0d 38 00 00 03 00 02 00 38 01 38 00 06 04 00 10 01 02 \
	09 00 09 08 0b 07
# req_prod half the index space ahead of what was pushed.
seed prod-overflow          01 0f 80 00 00 00 01 00 01 00 38 02 03 02 0b 07
# req_prod moved back under requests still in flight, then the stop.
R11B='00 00 01 00 0b 00 38 01 38 02 38 03 38 04 38 05 38 06 38 07 38 00 38 01 38 02 38'
seed prod-backwards         01 0f 80 00 $R11B $R11B $R11B $R11B 02 03 09 0b 07
seed prod-backwards-stop    01 0f 00 00 $R11B $R11B $R11B $R11B 02 03 09
