/*
 * scanpool.h - the end-of-message checks on a few long-lived threads.
 */
#ifndef VIGIL_SCANPOOL_H
#define VIGIL_SCANPOOL_H

#include <stdint.h>
#include <stdio.h>

struct msg;
struct verdict;

/* pipeline_eom(m) on an idle scan thread, or on the calling thread when
 * none is idle (or ScanThreads is 0): never queues behind another
 * message.  The pool starts with the first message, with the
 * ScanThreads of that message's configuration. */
const struct verdict *scanpool_eom(struct msg *m);
/* scan.pooled, scan.inline, scan.threads[.busy] and the stages' times
 * for `vigilctl stats`. */
void		 scanpool_write_stats(FILE *out);

/*
 * Where a message's end of message goes, timed: the wait for a scan
 * thread to take it (handoff), the checks and the verdict (scan), the
 * quarantine's store (store), the replies and header changes to the MTA
 * and the log line (reply).  The tail of a message's latency is found
 * in these (`vigilctl stats`: eom.STAGE.ms.p50, .p99, .max; metrics:
 * vigil_eom_stage_duration_seconds{stage=...}).
 */
enum eom_stage { EOM_HANDOFF, EOM_SCAN, EOM_STORE, EOM_REPLY, EOM_NSTAGES };
void		 scanpool_stage(enum eom_stage, uint64_t us);
struct metrics_fmt;
void		 scanpool_write_metrics(const struct metrics_fmt *);

#endif
