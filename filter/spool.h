/*
 * spool.h - a message's bytes: in memory up to a limit, then in a private
 * temp file that is unlinked as soon as it is created.  spool_data()
 * returns one contiguous view either way (the file is mapped).
 */
#ifndef VIGIL_SPOOL_H
#define VIGIL_SPOOL_H

#include <stddef.h>

struct spool;

/* A new empty spool keeping mem_max bytes in memory, spilling to dir. */
struct spool	*spool_new(size_t mem_max, const char *dir);
/* Appends; -1 with *err_r (static text + errno) when the spill fails. */
int		 spool_append(struct spool *, const void *p, size_t n,
		    const char **err_r);
size_t		 spool_size(const struct spool *);
/* Is the data in a temp file rather than in memory? */
int		 spool_is_spilled(const struct spool *);
/* All bytes appended so far, valid until the next append or free;
 * NULL with *err_r when mapping fails. */
const unsigned char *spool_data(struct spool *, const char **err_r);
void		 spool_free(struct spool **);

#endif
