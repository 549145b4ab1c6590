/*
 * histo.c - fixed-bucket latency histograms (histo.h).
 */
#include "histo.h"

const double histo_bounds[HISTO_NBOUNDS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05,
	0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
};

void
histo_observe(struct histo *h, uint64_t us)
{
	double s = (double)us / 1e6;
	int i = 0;

	while (i < HISTO_NBOUNDS && s > histo_bounds[i])
		i++;
	atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&h->sum_us, us, memory_order_relaxed);
	uint64_t m = atomic_load_explicit(&h->max_us, memory_order_relaxed);
	while (us > m && !atomic_compare_exchange_weak_explicit(&h->max_us,
	    &m, us, memory_order_relaxed, memory_order_relaxed))
		;
}

void
histo_read(const struct histo *h, struct histo_read *out_r)
{
	unsigned long long run = 0;

	for (int i = 0; i <= HISTO_NBOUNDS; i++) {
		run += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
		out_r->cum[i] = run;
	}
	out_r->sum_s = (double)atomic_load_explicit(&h->sum_us,
	    memory_order_relaxed) / 1e6;
	out_r->max_s = (double)atomic_load_explicit(&h->max_us,
	    memory_order_relaxed) / 1e6;
}

double
histo_quantile(const struct histo_read *r, double q)
{
	unsigned long long n = r->cum[HISTO_NBOUNDS], want;

	if (n == 0)
		return 0.0;
	want = (unsigned long long)(q * (double)n);
	if ((double)want < q * (double)n)
		want++;		/* the rank rounded up */
	if (want < 1)
		want = 1;
	for (int i = 0; i < HISTO_NBOUNDS; i++)
		if (r->cum[i] >= want)
			return histo_bounds[i] < r->max_s ? histo_bounds[i] :
			    r->max_s;
	return r->max_s;
}
