/* quiet.c: the per-thread counter of quiet.h. */
#include "quiet.h"

__thread int sockscope_quiet_depth;
