/*
 * scanpool.h - the end-of-message checks on a few long-lived threads.
 */
#ifndef VIGIL_SCANPOOL_H
#define VIGIL_SCANPOOL_H

#include <stdio.h>

struct msg;
struct verdict;

/* pipeline_eom(m) on an idle scan thread, or on the calling thread when
 * none is idle (or ScanThreads is 0): never queues behind another
 * message.  The pool starts with the first message, with the
 * ScanThreads of that message's configuration. */
const struct verdict *scanpool_eom(struct msg *m);
/* scan.pooled, scan.inline, scan.threads[.busy] for `vigilctl stats`. */
void		 scanpool_write_stats(FILE *out);

#endif
