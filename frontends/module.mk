# SPDX-License-Identifier: GPL-2.0-or-later
libs += pvfront
pvfront_srcs := $(addprefix frontends/,pvfront.c blkfront.c)
