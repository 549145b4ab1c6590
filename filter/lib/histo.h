/*
 * histo.h - a latency histogram of lock-free counters: one atomic add per
 * observation into a fixed bucket, summed into Prometheus' cumulative
 * buckets only when someone reads it.  No allocation; zero-initialised
 * storage is an empty histogram.
 */
#ifndef VIGIL_HISTO_H
#define VIGIL_HISTO_H

#include <stdatomic.h>
#include <stdint.h>

/* Upper bounds in seconds, from 0.5 ms (a short message's rules) to
 * 10 s (a slow DNS answer or a large archive). */
#define HISTO_NBOUNDS	14
extern const double histo_bounds[HISTO_NBOUNDS];

struct histo {
	atomic_ullong	 bucket[HISTO_NBOUNDS + 1];	/* last: +Inf */
	atomic_ullong	 sum_us;
	atomic_ullong	 max_us;
};

/* Counts one observation of us microseconds. */
void		 histo_observe(struct histo *, uint64_t us);

/* A consistent-enough copy: cumulative counts per bound, +Inf last. */
struct histo_read {
	unsigned long long cum[HISTO_NBOUNDS + 1];
	double		 sum_s;
	double		 max_s;	/* the longest observation */
};
void		 histo_read(const struct histo *, struct histo_read *out_r);

/*
 * The q-quantile (0 < q <= 1) in seconds, as the bucket's upper bound
 * (the longest observation when it lies in the last bucket or is
 * shorter than the bound); 0 for an empty histogram.
 */
double		 histo_quantile(const struct histo_read *, double q);

#endif
