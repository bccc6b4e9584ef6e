# SPDX-License-Identifier: GPL-2.0-or-later
# pvsim's xenstored library: wire layer, node store, server (see sim/xs.h).
sim_xs_srcs := sim/xs_wire.c sim/xs_store.c sim/xs_server.c
