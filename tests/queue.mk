# SPDX-License-Identifier: GPL-2.0-or-later
# The backend skeleton in common/: the in-flight journal, the grant cache
# (with its slot numbers, blkback's registered-buffer indexes), batched
# grant copy and pv_queue with a fake protocol on the in-process pvsim.
tests += test-journal-recover test-gcache-lru test-gcache-slots
test-journal-recover_srcs := tests/unit/test-journal-recover.c
test-journal-recover_deps := pvcommon
test-journal-recover_pkgs := cmocka
test-gcache-lru_srcs := tests/unit/test-gcache-lru.c
test-gcache-lru_deps := pvcommon
test-gcache-lru_pkgs := cmocka
test-gcache-slots_srcs := tests/unit/test-gcache-slots.c
test-gcache-slots_deps := pvcommon
test-gcache-slots_pkgs := cmocka

queue_itests := test-queue-stop-answers-what-was-pushed test-queue-overflow-kills-the-queue \
		test-copy-batch \
		test-queue-split-ports test-queue-restart-reissues test-queue-worker \
		test-queue-event-storm test-queue-prod-behind-cons-kills-the-queue
tests += $(queue_itests)
$(foreach t,$(queue_itests),$(eval $(t)_srcs := tests/unit/$(t).c tests/unit/queue-fake.c \
	tests/unit/hv-harness.c $(sim_hv_srcs)))
$(foreach t,$(queue_itests),$(eval $(t)_deps := pvcommon))
$(foreach t,$(queue_itests),$(eval $(t)_pkgs := cmocka))
