/*
 * bayes_store.c - picks the Bayes store backend from the configuration
 * (BayesRedis set: Redis; otherwise LMDB in BayesDir) and holds the small
 * helpers the backends share.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cfg.h"
#include "checks/bayes/bayes.h"
#include "lib/log.h"

char *
bayes_strf(const char *fmt, ...)
{
	va_list	 ap;
	char	*s;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || (s = malloc((size_t)n + 1)) == NULL)
		log_oom((size_t)n + 1, "bayes");
	va_start(ap, fmt);
	vsnprintf(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

static const char *const result_names[] = {
	"learned", "moved", "already", "forgotten", "unknown",
};

const char *
bayes_result_name(int r)
{
	return r >= 0 && r < 5 ? result_names[r] : "?";
}

uint32_t
bayes_day(int64_t t)
{
	return t <= 0 ? 0 : (uint32_t)(t / 86400);
}

void
bayes_store_cfg_from(const struct cfg *c, struct bayes_store_cfg *sc)
{
	sc->dir = cfg_str(c, "BayesDir");
	sc->map_size = cfg_size(c, "BayesMapSize");
	sc->redis = cfg_str(c, "BayesRedis");
	if (sc->redis != NULL && sc->redis[0] == '\0')
		sc->redis = NULL;
	sc->redis_db = (int)cfg_int(c, "BayesRedisDatabase");
	sc->redis_prefix = cfg_str(c, "BayesRedisPrefix");
	sc->redis_timeout_ms = cfg_duration_ms(c, "BayesRedisTimeout");
	sc->create_parents = false;
}

struct bayes_store *
bayes_store_open(const struct bayes_store_cfg *sc, char **err_r)
{
	if (sc->redis != NULL)
		return bayes_redis_open(sc, err_r);
	if (sc->dir == NULL || sc->dir[0] == '\0') {
		*err_r = bayes_strf("BayesDir: not set and no BayesRedis");
		return NULL;
	}
	return bayes_lmdb_open(sc, err_r);
}

void
bayes_store_close(struct bayes_store **sp)
{
	if (*sp == NULL)
		return;
	(*sp)->ops->close(*sp);
	*sp = NULL;
}
