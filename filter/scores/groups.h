/*
 * groups.h - groups of findings that fire on the same evidence, for the
 * fit of `vigilctl scores learn`.
 *
 * Rules written by different hands often test one thing: a link to a
 * bare IP address is URI_IP_HOST, NUMERIC_HTTP_ADDR and NORMAL_HTTP_TO_IP
 * at once.  Fitted apart under an L2 penalty, each gets a share of the
 * weight, but the shares add up to more than one rule alone would get
 * (k shares of w/k cost w^2/k), so the one piece of evidence counts
 * more than it should.  A group is fitted as one feature: the fraction
 * of its members that hit, with one weight, which each member carries
 * w/k of; a message hitting all of them gets w, penalised as one.
 *
 * Two findings are alike when their hit sets on the corpus overlap by
 * Jaccard's index (hits of both over hits of either) at least a given
 * value; a group is complete-linkage (every two members alike), so one
 * broad rule cannot chain unrelated ones together.  Only findings
 * allowed the same sign of weight are grouped.
 */
#ifndef VIGIL_SCORES_GROUPS_H
#define VIGIL_SCORES_GROUPS_H

#include <stddef.h>
#include <stdint.h>

/*
 * n rows (messages) of features < d: row i's are idx[row[i]] ..
 * idx[row[i + 1] - 1], each at most once.  sign[j] is feature j's
 * allowed sign (NULL: all alike).  Sets group[j] for every feature, the
 * groups numbered from 0, the one of the feature that hits most first;
 * a feature alike no other is a group of its own.  min_jaccard > 1
 * groups nothing.  Returns the number of groups.
 */
size_t		 feature_groups(size_t n, size_t d, const size_t *row,
		    const uint32_t *idx, const signed char *sign,
		    double min_jaccard, uint32_t *group);

#endif
