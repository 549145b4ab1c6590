/*
 * policy_lists.h - the allow and block lists kept from the command line
 * (vigilctl allow|block add|del|list) in ListsFile, read by the policy
 * check beside the AllowSenders/BlockSenders/AllowClients/BlockClients
 * options.
 *
 * The file is text, one entry a line, fields separated by tabs:
 *
 *	LIST KIND VALUE ADDED EXPIRES [COMMENT]
 *
 * LIST is allow or block; KIND is sender (an address user@dom, or @dom
 * for that domain only), client (an IPv4/IPv6 address or CIDR block) or
 * domain (the sender's domain and every subdomain of it); ADDED and
 * EXPIRES are UTC times (2026-12-07T09:00:00Z), EXPIRES "-" for never.
 * Lines starting with # and blank lines are ignored.  vigilctl rewrites
 * the file whole (a temporary file renamed over it), so a reader never
 * sees half of it.
 */
#ifndef VIGIL_POLICY_LISTS_H
#define VIGIL_POLICY_LISTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/util.h"

struct arena;

enum plist_list { PLIST_ALLOW, PLIST_BLOCK };
enum plist_kind { PLIST_SENDER, PLIST_CLIENT, PLIST_DOMAIN };

struct plist_entry {
	enum plist_list	 list;
	enum plist_kind	 kind;
	const char	*value;		/* normalised: lower case */
	int64_t		 added;		/* seconds since the epoch */
	int64_t		 expires;	/* 0: never */
	const char	*comment;	/* "" when none */
	struct util_cidr cidr;		/* kind client */
};

struct plist {
	struct arena	*arena;		/* everything below lives here */
	struct plist_entry *v;
	size_t		 n, cap;
};

/* Names as in the file and on the command line; -1 when unknown. */
const char	*plist_list_name(enum plist_list);
const char	*plist_kind_name(enum plist_kind);
int		 plist_list_parse(const char *);
int		 plist_kind_parse(const char *);

/* An empty list set; plist_free frees it and sets *l to NULL. */
struct plist	*plist_new(void);
void		 plist_free(struct plist **l);

/*
 * The normal form of a value of kind (lower case; a client's address as
 * given), allocated in l's arena, or NULL with *why_r (static) when the
 * value is not one of that kind's forms.
 */
const char	*plist_value(struct plist *l, enum plist_kind kind,
		    const char *value, const char **why_r);

/*
 * Reads path into a new list set.  A missing file is an empty set.
 * Returns NULL and sets *err_r (malloc'd, "path:line: why") on a file
 * that cannot be read or a malformed line.
 */
struct plist	*plist_load(const char *path, char **err_r);
/*
 * Writes l to path: a temporary file in the same folder, flushed to
 * disk, renamed over path.  A new file gets mode 0644; an existing one
 * keeps its mode and (when run as root) its owner; a symlink at path is
 * replaced by the file, its target untouched.  false with *err_r
 * (malloc'd) on failure, path then unchanged.
 */
bool		 plist_save(const struct plist *l, const char *path,
		    char **err_r);

/* The index of the entry list/kind/value (normalised), or -1. */
long		 plist_find(const struct plist *l, enum plist_list list,
		    enum plist_kind kind, const char *value);
/*
 * Adds an entry, or updates the comment and expiry of the same one;
 * value must be normalised (plist_value).  Returns true when it is new.
 */
bool		 plist_add(struct plist *l, enum plist_list list,
		    enum plist_kind kind, const char *value, int64_t added,
		    int64_t expires, const char *comment);
/* Removes the entry at index i. */
void		 plist_del(struct plist *l, size_t i);

/* Has e expired at time now? */
bool		 plist_expired(const struct plist_entry *e, int64_t now);
/*
 * The first entry of list that is live at now and matches the envelope
 * sender (NULL or "" for none: only an explicit <> sender entry would,
 * and there is none) or the client address ip (NULL for none): kind
 * client against ip, sender and domain against sender.  NULL if none.
 */
const struct plist_entry *plist_match(const struct plist *l,
		    enum plist_list list, enum plist_kind kind,
		    const char *sender, const char *ip, int64_t now);

/* "2026-12-07T09:00:00Z" into buf (at least 21 bytes); "-" for 0. */
const char	*plist_time(int64_t t, char *buf, size_t size);

#endif
