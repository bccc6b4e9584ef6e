# SPDX-License-Identifier: GPL-2.0-or-later
include $(filter-out bench/module.mk,$(sort $(wildcard bench/*.mk)))
$(call mod_cflags,bench,-Icommon -Isim -Ibench $(call pkgcflags,liburing))
