// SPDX-License-Identifier: GPL-2.0
/*
 * Proves that the runner turns a failing test into a failed run. It is
 * run only when asked for (make check SELFCHECK=fail), never in the suite.
 */
#include "kselftest_harness.h"

TEST(deliberate_failure)
{
	TH_LOG("failing on purpose: SELFCHECK=fail");
	ASSERT_EQ(1, 2);
}

TEST_HARNESS_MAIN
