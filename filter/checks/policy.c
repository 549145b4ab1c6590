/*
 * policy.c - the site's own decisions about a message, before any
 * content is judged:
 *
 *  - allow and block lists of envelope senders (address, @domain,
 *    .parent-domain, <> for the null sender) and client addresses
 *    (IP or CIDR).  A block decides the action (BlockAction); an allow
 *    adds a large negative score, so deciding checks (a virus) still win.
 *  - the same lists kept from the command line in ListsFile
 *    (policy_lists.h, vigilctl allow|block): read at setup, and again
 *    at the next message when the file changed (its inode, size or
 *    mtime), so a change applies without a reload; expired entries
 *    stop applying.
 *  - the release token (release.h): a message released from the
 *    quarantine comes back carrying it; a valid, unused token lets it
 *    through, a forged or replayed one is only a finding.
 *  - per-recipient-domain thresholds (policy.h), read by the verdict.
 *
 * State: the parsed option lists, built once per snapshot; the ListsFile
 * entries under a mutex (swapped whole when the file changed); nothing
 * per message beyond the findings.
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "cfg.h"
#include "check.h"
#include "checks/policy.h"
#include "checks/policy_lists.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"
#include "msg.h"
#include "quarantine/quarantine.h"
#include "quarantine/release.h"
#include "quarantine/userallow.h"
#include "snap.h"
#include "verdict.h"

const struct opt policy_opts[] = {
	{ "AllowSenders", OPT_LIST, NULL, 0, 0, NULL,
	  "Envelope senders to allow: user@dom, @dom or dom, .dom for its subdomains, <>" },
	{ "BlockSenders", OPT_LIST, NULL, 0, 0, NULL,
	  "Envelope senders to block, same forms as AllowSenders" },
	{ "AllowClients", OPT_LIST, NULL, 0, 0, NULL,
	  "Client addresses to allow: IPv4/IPv6 addresses or CIDR blocks" },
	{ "BlockClients", OPT_LIST, NULL, 0, 0, NULL,
	  "Client addresses to block: IPv4/IPv6 addresses or CIDR blocks" },
	{ "ListsFile", OPT_PATH, LOCALSTATEDIR "/lib/vigil/lists", 0, 0, NULL,
	  "Allow and block lists kept by vigilctl allow|block (sender, client, domain entries with comments and expiry); re-read when it changes, missing: empty" },
	{ "BlockAction", OPT_ENUM, "reject", 0, 0,
	  "reject|quarantine|discard|tempfail|score",
	  "What a block list match does; score: only its finding's score counts" },
	{ "BlockReplyText", OPT_STRING, "Message refused by local policy", 0, 0,
	  NULL, "SMTP reply text when a block list match rejects" },
	{ "DomainThresholds", OPT_MULTI, NULL, 0, 0, NULL,
	  "Per recipient domain: DOMAIN TagScore=n SubjectScore=n QuarantineScore=n RejectScore=n DiscardScore=n" },
	{ "RecipientThresholds", OPT_ENUM, "strictest", 0, 0,
	  "strictest|loosest|first",
	  "Recipients of several domains: the strictest, the loosest or the first one's thresholds" },
	{ NULL }
};

enum list_kind { LIST_ADDRESS, LIST_DOMAIN, LIST_SUBDOMAINS, LIST_NULL };

struct sender_pat {
	enum list_kind	 kind;
	const char	*text;		/* lower case, without @ or . prefix */
};

struct sender_list {
	struct sender_pat *v;
	size_t		 n;
};

struct client_list {
	struct util_cidr *v;
	const char	**text;
	size_t		 n;
};

struct domain_th {
	const char	*domain;	/* lower case; ".x" = subdomains of x */
	double		 tag, subject, quarantine, reject, discard;
	unsigned	 set;		/* which of the five were given */
};

enum { TH_TAG = 1, TH_SUBJECT = 2, TH_QUARANTINE = 4, TH_REJECT = 8,
    TH_DISCARD = 16 };

enum rcpt_mode { RCPT_STRICTEST, RCPT_LOOSEST, RCPT_FIRST };

struct policy {
	struct arena	*arena;
	const struct cfg *cfg;
	struct sender_list allow_senders, block_senders;
	struct client_list allow_clients, block_clients;
	int		 block_action;	/* enum verdict_action, -1: score */
	const char	*block_text;
	struct domain_th *domains;
	size_t		 ndomains;
	enum rcpt_mode	 rcpt_mode;
	atomic_ulong	 released, refused;
	/* ListsFile: the entries and the file they came from. */
	const char	*lists_path;
	pthread_mutex_t	 lists_mu;
	struct plist	*lists;		/* under lists_mu */
	struct stat	 lists_st;	/* st_ino 0: no file */
	int		 lists_errno;	/* the last stat's error, 0: none */
};

extern const struct check check_policy;

static const char *
lower(struct arena *a, const char *s)
{
	char *d = arena_strdup(a, s);

	for (char *p = d; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return d;
}

static bool
senders_parse(struct policy *p, const char *opt, struct sender_list *l,
    const char **err_r)
{
	const char *const *items = cfg_list(p->cfg, opt, &l->n);

	l->v = arena_alloc(p->arena, (l->n + 1) * sizeof(*l->v));
	for (size_t i = 0; i < l->n; i++) {
		const char *s = items[i];
		const char *at = strchr(s, '@');
		struct sender_pat *sp = &l->v[i];

		if (strcmp(s, "<>") == 0) {
			sp->kind = LIST_NULL;
			sp->text = "";
		} else if (at == s) {
			sp->kind = LIST_DOMAIN;
			sp->text = lower(p->arena, s + 1);
		} else if (at != NULL) {
			sp->kind = LIST_ADDRESS;
			sp->text = lower(p->arena, s);
		} else if (s[0] == '.') {
			sp->kind = LIST_SUBDOMAINS;
			sp->text = lower(p->arena, s + 1);
		} else {
			sp->kind = LIST_DOMAIN;
			sp->text = lower(p->arena, s);
		}
		if (sp->kind != LIST_NULL && (sp->text[0] == '\0' ||
		    (sp->kind != LIST_ADDRESS && strchr(sp->text, '@') != NULL))) {
			*err_r = arena_printf(p->arena, "%s: \"%s\" is not an "
			    "address, @domain, domain or .domain", opt, s);
			return false;
		}
	}
	return true;
}

static bool
clients_parse(struct policy *p, const char *opt, struct client_list *l,
    const char **err_r)
{
	const char *const *items = cfg_list(p->cfg, opt, &l->n);

	l->v = arena_alloc(p->arena, (l->n + 1) * sizeof(*l->v));
	l->text = arena_alloc(p->arena, (l->n + 1) * sizeof(*l->text));
	for (size_t i = 0; i < l->n; i++) {
		if (!util_parse_cidr(items[i], &l->v[i])) {
			*err_r = arena_printf(p->arena, "%s: \"%s\" is not an "
			    "IP address or CIDR block", opt, items[i]);
			return false;
		}
		l->text[i] = arena_strdup(p->arena, items[i]);
	}
	return true;
}

/* "example.org TagScore=3 RejectScore=12" */
static bool
domain_parse(struct policy *p, const char *line, struct domain_th *d,
    const char **err_r)
{
	static const struct { const char *key; unsigned bit; size_t off; }
	    keys[] = {
		{ "TagScore", TH_TAG, offsetof(struct domain_th, tag) },
		{ "SubjectScore", TH_SUBJECT,
		    offsetof(struct domain_th, subject) },
		{ "QuarantineScore", TH_QUARANTINE,
		    offsetof(struct domain_th, quarantine) },
		{ "RejectScore", TH_REJECT, offsetof(struct domain_th, reject) },
		{ "DiscardScore", TH_DISCARD,
		    offsetof(struct domain_th, discard) },
	};
	char *copy = arena_strdup(p->arena, line), *save = NULL, *tok;

	tok = strtok_r(copy, " \t", &save);
	if (tok == NULL || strchr(tok, '=') != NULL) {
		*err_r = arena_printf(p->arena, "DomainThresholds: \"%s\": "
		    "starts with a domain", line);
		return false;
	}
	d->domain = lower(p->arena, tok);
	while ((tok = strtok_r(NULL, " \t", &save)) != NULL) {
		char *eq = strchr(tok, '='), *end;
		size_t k;
		double v;

		if (eq == NULL)
			goto bad;
		*eq = '\0';
		for (k = 0; k < NELEM(keys); k++)
			if (strcasecmp(tok, keys[k].key) == 0)
				break;
		v = strtod(eq + 1, &end);
		/* Written so that nan, which compares false, is refused. */
		if (k == NELEM(keys) || end == eq + 1 || *end != '\0' ||
		    !(v >= -10000 && v <= 10000))
			goto bad;
		*(double *)((char *)d + keys[k].off) = v;
		d->set |= keys[k].bit;
	}
	if (d->set == 0) {
		*err_r = arena_printf(p->arena, "DomainThresholds: \"%s\": "
		    "no thresholds given", line);
		return false;
	}
	return true;
bad:
	*err_r = arena_printf(p->arena, "DomainThresholds: \"%s\": want "
	    "Name=number with Name one of TagScore, SubjectScore, "
	    "QuarantineScore, RejectScore, DiscardScore", line);
	return false;
}

static bool
same_file(const struct stat *a, const struct stat *b)
{
	return a->st_dev == b->st_dev && a->st_ino == b->st_ino &&
	    a->st_size == b->st_size &&
	    a->st_mtim.tv_sec == b->st_mtim.tv_sec &&
	    a->st_mtim.tv_nsec == b->st_mtim.tv_nsec;
}

static void
lists_cleanup(void *arg)
{
	struct policy *p = arg;

	plist_free(&p->lists);
	pthread_mutex_destroy(&p->lists_mu);
}

/*
 * Reads ListsFile when it changed since the last read (at setup: always).
 * A file that is gone is an empty list.  At setup a bad file is an error
 * (the configuration is refused, as for a bad option); later it is
 * logged and the entries read before stay.  Called with lists_mu held
 * (or before any message).
 */
static bool
lists_refresh(struct policy *p, struct msg *m, const char **err_r)
{
	struct stat st;
	struct plist *l;
	char *err = NULL;

	if (p->lists_path == NULL)
		return true;
	if (stat(p->lists_path, &st) != 0) {
		int e = errno;

		if (e != ENOENT) {
			/* Once a message: said once for each new error,
			 * with nothing allocated from the long-lived arena. */
			char buf[512];

			if (m != NULL && e == p->lists_errno)
				return true;
			p->lists_errno = e;
			snprintf(buf, sizeof(buf), "ListsFile %s: %s",
			    p->lists_path, strerror(e));
			if (m == NULL) {
				*err_r = arena_strdup(p->arena, buf);
				return false;
			}
			log_msg(LOG_ERR, m, "check=policy why=\"%s; the entries "
			    "read before stay\"", buf);
			return true;
		}
		memset(&st, 0, sizeof(st));
	}
	p->lists_errno = 0;
	if (p->lists != NULL && same_file(&st, &p->lists_st))
		return true;
	p->lists_st = st;
	if ((l = plist_load(p->lists_path, &err)) == NULL) {
		char *e = err;

		err = arena_printf(p->arena, "ListsFile %s",
		    e != NULL ? e : "out of memory");
		free(e);
		goto bad;
	}
	if (p->lists != NULL)
		log_msg(LOG_INFO, m, "check=policy ListsFile %s re-read: "
		    "%zu entries", p->lists_path, l->n);
	plist_free(&p->lists);
	p->lists = l;
	return true;
bad:
	if (m == NULL) {
		*err_r = err;
		return false;
	}
	log_msg(LOG_ERR, m, "check=policy why=\"%s; the entries read before "
	    "stay\"", err);
	return true;
}

static void *
policy_setup(struct snap *s, const char **err_r)
{
	static const int actions[] = { ACTION_REJECT, ACTION_QUARANTINE,
	    ACTION_DISCARD, ACTION_TEMPFAIL, -1 };
	struct arena *a = arena_new("policy");
	struct policy *p = arena_alloc(a, sizeof(*p));
	const char *const *lines;
	size_t n;
	static __thread char errbuf[512];

	p->arena = a;
	p->cfg = snap_cfg(s);
	p->block_action = actions[cfg_enum(p->cfg, "BlockAction")];
	p->block_text = cfg_str(p->cfg, "BlockReplyText");
	p->rcpt_mode = (enum rcpt_mode)cfg_enum(p->cfg, "RecipientThresholds");
	if (!senders_parse(p, "AllowSenders", &p->allow_senders, err_r) ||
	    !senders_parse(p, "BlockSenders", &p->block_senders, err_r) ||
	    !clients_parse(p, "AllowClients", &p->allow_clients, err_r) ||
	    !clients_parse(p, "BlockClients", &p->block_clients, err_r))
		goto fail;
	lines = cfg_list(p->cfg, "DomainThresholds", &n);
	p->domains = arena_alloc(a, (n + 1) * sizeof(*p->domains));
	for (size_t i = 0; i < n; i++)
		if (!domain_parse(p, lines[i], &p->domains[i], err_r))
			goto fail;
	p->ndomains = n;
	p->lists_path = cfg_str(p->cfg, "ListsFile");
	if (p->lists_path != NULL && p->lists_path[0] == '\0')
		p->lists_path = NULL;
	pthread_mutex_init(&p->lists_mu, NULL);
	arena_defer(a, lists_cleanup, p);
	if (!lists_refresh(p, NULL, err_r))
		goto fail;
	if (p->lists == NULL)
		p->lists = plist_new();
	/* A key file named explicitly must be usable now, not at release. */
	if (cfg_is_set(p->cfg, "ReleaseKeyFile")) {
		struct release_key key;

		if (!release_key_load(a, p->cfg, false, &key, err_r))
			goto fail;
	}
	return p;
fail:
	/* err_r lives in the arena we are about to free: copy it out. */
	snprintf(errbuf, sizeof(errbuf), "%s", *err_r);
	*err_r = errbuf;
	arena_free(&a);
	return NULL;
}

static void
policy_teardown(void *state)
{
	struct policy *p = state;
	struct arena *a = p->arena;

	arena_free(&a);
}

static const char *
sender_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL ? at + 1 : NULL;
}

/* Is dom (any case) equal to pat, or with sub a subdomain of pat? */
static bool
domain_match(const char *dom, const char *pat, bool sub)
{
	size_t dl = strlen(dom), pl = strlen(pat);

	if (!sub)
		return strcasecmp(dom, pat) == 0;
	return dl > pl && dom[dl - pl - 1] == '.' &&
	    strcasecmp(dom + dl - pl, pat) == 0;
}

static const char *
senders_match(const struct sender_list *l, const char *sender)
{
	const char *dom = sender_domain(sender);

	for (size_t i = 0; i < l->n; i++) {
		const struct sender_pat *sp = &l->v[i];

		switch (sp->kind) {
		case LIST_NULL:
			if (*sender == '\0')
				return "<>";
			break;
		case LIST_ADDRESS:
			if (strcasecmp(sender, sp->text) == 0)
				return sp->text;
			break;
		case LIST_DOMAIN:
		case LIST_SUBDOMAINS:
			if (dom != NULL && domain_match(dom, sp->text,
			    sp->kind == LIST_SUBDOMAINS))
				return sp->text;
			break;
		}
	}
	return NULL;
}

static const char *
clients_match(const struct client_list *l, const char *ip)
{
	if (ip == NULL)
		return NULL;
	for (size_t i = 0; i < l->n; i++)
		if (util_cidr_match(&l->v[i], ip))
			return l->text[i];
	return NULL;
}

/* A block that decides the action scores nothing itself, so the reply is
 * the block's; with BlockAction score its 100 points do the work. */
static double
block_score(const struct policy *p)
{
	return p->block_action >= 0 ? 0.0 : 100.0;
}

static void
policy_block(struct policy *p, struct msg *m)
{
	if (p->block_action >= 0)
		msg_force_action(m, (enum verdict_action)p->block_action,
		    "550", "5.7.1", p->block_text, "policy");
}

/* At the end of the message, once every recipient is known: a sender
 * that each of them allowed on the quarantine page (userallow.h), unless
 * the site's list already allowed it.  An unreadable list is logged and
 * changes nothing. */
static void
policy_user_allow(struct policy *p, struct msg *m)
{
	const char *sender = msg_mail_from(m);
	size_t n = msg_rcpt_count(m);
	const char **v;
	const char *err = NULL;

	if (sender == NULL || *sender == '\0' ||
	    senders_match(&p->allow_senders, sender) != NULL ||
	    msg_has_hit(m, "POLICY_ALLOW_SENDER"))
		return;
	v = arena_alloc(msg_arena(m), (n + 1) * sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = msg_rcpt(m, i);
	switch (userallow_match(msg_arena(m), p->cfg, sender, v, n, &err)) {
	case 1:
		msg_add_hit(m, "POLICY_USER_ALLOW", -100.0, "sender <%s> "
		    "allowed by its recipients", sender);
		break;
	case -1:
		log_msg(LOG_WARNING, m, "check=policy why=\"%s\"", err);
		break;
	}
}

/*
 * The ListsFile entry of list and kind that matches the envelope, as a
 * finding's detail naming the entry, its comment and expiry; NULL if
 * none.  Called with lists_mu held.
 */
static const char *
file_match(struct policy *p, struct msg *m, enum plist_list list,
    enum plist_kind kind, const char *sender, const char *ip)
{
	const struct plist_entry *e = plist_match(p->lists, list, kind,
	    sender, ip, (int64_t)time(NULL));
	char exp[32];

	const char *d;

	if (e == NULL)
		return NULL;
	d = arena_printf(msg_arena(m), "%s %s %s in ListsFile%s%s%s%s%s",
	    plist_list_name(list), plist_kind_name(kind), e->value,
	    e->comment[0] != '\0' ? " \"" : "", e->comment,
	    e->comment[0] != '\0' ? "\"" : "",
	    e->expires != 0 ? ", expires " : "",
	    e->expires != 0 ? plist_time(e->expires, exp, sizeof(exp)) : "");
	/* The verdict of a message refused at MAIL FROM lists no hits:
	 * the log says which entry decided. */
	log_msg(LOG_INFO, m, "check=policy lists_file=%s list=%s kind=%s "
	    "entry=%s comment=\"%s\"", p->lists_path, plist_list_name(list),
	    plist_kind_name(kind), e->value, e->comment);
	return d;
}

/* A sender's entry of list in ListsFile: the address, then its domain. */
static const char *
file_sender(struct policy *p, struct msg *m, enum plist_list list,
    const char *sender)
{
	const char *hit;

	if (sender == NULL || *sender == '\0')
		return NULL;
	if ((hit = file_match(p, m, list, PLIST_SENDER, sender, NULL)) != NULL)
		return hit;
	return file_match(p, m, list, PLIST_DOMAIN, sender, NULL);
}

/* The envelope against the allow and block lists: the options', then
 * ListsFile's. */
static void
policy_lists(struct policy *p, struct msg *m)
{
	const char *sender = msg_mail_from(m);
	const char *ip = msg_client_addr(m);
	const char *hit, *fhit;

	pthread_mutex_lock(&p->lists_mu);
	(void)lists_refresh(p, m, NULL);
	if ((hit = clients_match(&p->block_clients, ip)) != NULL) {
		msg_add_hit(m, "POLICY_BLOCK_CLIENT", block_score(p),
		    "client %s in %s", ip, hit);
		policy_block(p, m);
	} else if ((fhit = file_match(p, m, PLIST_BLOCK, PLIST_CLIENT, NULL,
	    ip)) != NULL) {
		msg_add_hit(m, "POLICY_BLOCK_CLIENT", block_score(p),
		    "client %s matches %s", ip, fhit);
		policy_block(p, m);
	}
	if (sender != NULL &&
	    (hit = senders_match(&p->block_senders, sender)) != NULL) {
		msg_add_hit(m, "POLICY_BLOCK_SENDER", block_score(p),
		    "sender <%s> matches %s", sender, hit);
		policy_block(p, m);
	} else if ((fhit = file_sender(p, m, PLIST_BLOCK, sender)) != NULL) {
		msg_add_hit(m, "POLICY_BLOCK_SENDER", block_score(p),
		    "sender <%s> matches %s", sender, fhit);
		policy_block(p, m);
	}
	if ((hit = clients_match(&p->allow_clients, ip)) != NULL)
		msg_add_hit(m, "POLICY_ALLOW_CLIENT", -100.0, "client %s in %s",
		    ip, hit);
	else if ((fhit = file_match(p, m, PLIST_ALLOW, PLIST_CLIENT, NULL,
	    ip)) != NULL)
		msg_add_hit(m, "POLICY_ALLOW_CLIENT", -100.0, "client %s "
		    "matches %s", ip, fhit);
	if (sender != NULL &&
	    (hit = senders_match(&p->allow_senders, sender)) != NULL)
		msg_add_hit(m, "POLICY_ALLOW_SENDER", -100.0, "sender <%s> "
		    "matches %s", sender, hit);
	else if ((fhit = file_sender(p, m, PLIST_ALLOW, sender)) != NULL)
		msg_add_hit(m, "POLICY_ALLOW_SENDER", -100.0, "sender <%s> "
		    "matches %s", sender, fhit);
	pthread_mutex_unlock(&p->lists_mu);
}

/* A token this message consumed, to give back if it is not accepted. */
struct release_claim {
	const struct cfg *cfg;
	struct msg	*m;
	const char	*id, *nonce;
};

/*
 * At the end of a message that consumed a release token: when a check
 * failed and tempfails it (the one thing an admin's pass does not beat),
 * the MTA brings the same copy back later, so the token is made unused
 * again for that retry.  An accepted copy leaves it used: a replay is
 * refused.
 */
static void
release_settle(void *arg)
{
	struct release_claim *rc = arg;
	struct qstore *q;
	char *qerr = NULL;

	if (verdict_pass_holds(rc->m))
		return;
	if ((q = quarantine_open(rc->cfg, false, &qerr)) == NULL) {
		log_msg(LOG_ERR, rc->m, "release token %s not given back: %s",
		    rc->id, qerr);
		free(qerr);
		return;
	}
	if (quarantine_token_restore(q, rc->id, rc->nonce))
		log_msg(LOG_INFO, rc->m, "release %s not accepted: token kept "
		    "for the retry", rc->id);
	else
		log_msg(LOG_ERR, rc->m, "release token %s not given back: %s",
		    rc->id, quarantine_error(q));
	quarantine_close(&q);
}

/*
 * A release token: valid and unused lets the message through (the admin
 * looked at it); anything else is a finding and no pass.  Only an index
 * that cannot be read is a failure: the MTA retries, and the token is
 * still unused.  A copy that consumes the token but is then tempfailed
 * gives it back (release_settle).
 */
static enum check_rc
policy_release(struct policy *p, struct msg *m, const char **why_r)
{
	struct arena *a = msg_arena(m);
	const char *value = msg_hdr_raw(m, RELEASE_HEADER);
	const char *err = NULL, *id = NULL, *nonce = NULL;
	const unsigned char *body;
	struct release_key key;
	enum release_check rc;
	struct qstore *q;
	char *qerr = NULL;
	const char **rcpts;
	size_t len, nrcpts;
	int used;
	bool live;

	if (value == NULL)
		return CHECK_DONE;
	if (!release_key_load(a, p->cfg, false, &key, &err)) {
		/* No key: no release was ever issued here. */
		msg_add_hit(m, "POLICY_RELEASE_INVALID", 1.0, "%s", err);
		atomic_fetch_add(&p->refused, 1);
		return CHECK_DONE;
	}
	body = msg_body(m, &len);
	nrcpts = msg_rcpt_count(m);
	rcpts = arena_alloc(a, (nrcpts + 1) * sizeof(*rcpts));
	for (size_t i = 0; i < nrcpts; i++)
		rcpts[i] = msg_rcpt(m, i);
	rc = release_token_verify(a, &key, value, rcpts, nrcpts, body, len,
	    (int64_t)time(NULL), (int64_t)(cfg_duration_ms(p->cfg,
	    "ReleaseTokenLifetime") / 1000), &id, &nonce);
	if (rc != RELEASE_VALID) {
		msg_add_hit(m, "POLICY_RELEASE_INVALID", 1.0, "release token: "
		    "%s", release_check_name(rc));
		atomic_fetch_add(&p->refused, 1);
		return CHECK_DONE;
	}
	q = quarantine_open(p->cfg, false, &qerr);
	if (q == NULL) {
		*why_r = arena_printf(a, "release token %s: %s", id, qerr);
		free(qerr);
		return CHECK_TEMPFAIL;
	}
	/* An offline scan (vigilctl scan) shows the pass but keeps the
	 * token for the real message. */
	live = msg_is_live(m);
	used = live ? quarantine_token_consume(q, id, nonce) :
	    quarantine_token_peek(q, id, nonce);
	if (used < 0)
		*why_r = arena_printf(a, "release token %s: %s", id,
		    quarantine_error(q));
	quarantine_close(&q);
	if (used < 0)
		return CHECK_TEMPFAIL;
	if (used == 0) {
		msg_add_hit(m, "POLICY_RELEASE_INVALID", 1.0, "release token "
		    "for %s: already used or never issued", id);
		atomic_fetch_add(&p->refused, 1);
		return CHECK_DONE;
	}
	if (live) {
		struct release_claim *claim = arena_alloc(a, sizeof(*claim));

		claim->cfg = p->cfg;
		claim->m = m;
		claim->id = id;
		claim->nonce = nonce;
		arena_defer(a, release_settle, claim);
	}
	msg_add_hit(m, "POLICY_RELEASED", -1000.0, "released from quarantine "
	    "as %s%s", id, live ? "" : " (offline scan: token not used up)");
	msg_set_pass(m, arena_printf(a, "released %s", id));
	atomic_fetch_add(&p->released, 1);
	return CHECK_DONE;
}

static enum check_rc
policy_run(void *state, struct msg *m, enum check_phase phase,
    const char **why_r)
{
	struct policy *p = state;

	if (phase == PHASE_ENVFROM) {
		policy_lists(p, m);
		return CHECK_DONE;
	}
	policy_user_allow(p, m);
	return policy_release(p, m, why_r);
}

static void
policy_stats(void *state, FILE *out)
{
	struct policy *p = state;

	fprintf(out, "policy.released %lu\n", atomic_load(&p->released));
	fprintf(out, "policy.release_refused %lu\n", atomic_load(&p->refused));
}

/* The thresholds of one domain: the core's with the override applied. */
static struct thresholds
domain_thresholds(const struct policy *p, const char *dom,
    const struct thresholds *core)
{
	struct thresholds th = *core;

	for (size_t i = 0; dom != NULL && i < p->ndomains; i++) {
		const struct domain_th *d = &p->domains[i];
		bool sub = d->domain[0] == '.';

		if (!domain_match(dom, d->domain + (sub ? 1 : 0), sub))
			continue;
		if (d->set & TH_TAG)
			th.tag = d->tag;
		if (d->set & TH_SUBJECT)
			th.subject = d->subject;
		if (d->set & TH_QUARANTINE)
			th.quarantine = d->quarantine;
		if (d->set & TH_REJECT)
			th.reject = d->reject;
		if (d->set & TH_DISCARD)
			th.discard = d->discard;
		break;
	}
	return th;
}

/* Combines one threshold: off (<= 0) is the loosest value of all. */
static double
pick(double cur, double v, bool strictest)
{
	if (cur <= 0)
		return strictest ? v : cur;
	if (v <= 0)
		return strictest ? cur : v;
	return strictest ? (v < cur ? v : cur) : (v > cur ? v : cur);
}

void
policy_thresholds(const struct msg *m, struct thresholds *th)
{
	const struct policy *p = snap_state(msg_snap(m), &check_policy);
	const struct thresholds core = *th;
	size_t n = msg_rcpt_count(m);
	bool strict;

	if (p == NULL || p->ndomains == 0 || n == 0)
		return;
	*th = domain_thresholds(p, sender_domain(msg_rcpt(m, 0)), &core);
	if (p->rcpt_mode == RCPT_FIRST)
		return;
	strict = p->rcpt_mode == RCPT_STRICTEST;
	for (size_t i = 1; i < n; i++) {
		struct thresholds t = domain_thresholds(p,
		    sender_domain(msg_rcpt(m, i)), &core);

		th->tag = pick(th->tag, t.tag, strict);
		th->subject = pick(th->subject, t.subject, strict);
		th->quarantine = pick(th->quarantine, t.quarantine, strict);
		th->reject = pick(th->reject, t.reject, strict);
		th->discard = pick(th->discard, t.discard, strict);
	}
}

const struct check check_policy = {
	.name = "policy",
	.phases = PHASE_ENVFROM | PHASE_EOM,
	.is_content = 0,
	.setup = policy_setup,
	.run = policy_run,
	.teardown = policy_teardown,
	.stats = policy_stats,
};
