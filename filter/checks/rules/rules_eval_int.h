/*
 * rules_eval_int.h - the tables of eval: functions each rules_eval_*.c
 * file implements (rules_evalfn.c looks names up in them), and their
 * per-message caches' reset.
 */
#ifndef VIGIL_RULES_EVAL_INT_H
#define VIGIL_RULES_EVAL_INT_H

#include <glib.h>
#include <stdbool.h>

#include "checks/rules/rules_int.h"

/* Each ends with a NULL name. */
extern const struct rules_evalfn rules_evalfn_mime[];	/* MIMEEval, HTMLEval */
extern const struct rules_evalfn rules_evalfn_head[];	/* HeaderEval, RelayEval */
extern const struct rules_evalfn rules_evalfn_freemail[];	/* FreeMail */
/* SPF, DKIM, DMARC, Bayes: from vigil's own checks (rules_auth.h) */
extern const struct rules_evalfn rules_evalfn_auth[];
/* ImageInfo, PDFInfo (rules_eval_media.c) */
extern const struct rules_evalfn rules_evalfn_media[];

extern const struct rules_evalfn rules_evalfn_uri[];	/* URIEval, HTTPSMismatch */
extern const struct rules_evalfn rules_evalfn_fromname[];	/* FromNameSpoof */
/* Message.pm's parser flags, ok_locales (rules_eval_parse.c) */
extern const struct rules_evalfn rules_evalfn_parse[];

/* HTML.pm's anchors (rules_eval_mime.c): fn is called for each <a> of
 * each text/html part (part counts those), in order, with its href as
 * canon_uri leaves it ("" when none) and its text; and whether a link
 * of the HTML was longer than MAX_URI_LENGTH. */
void	rules_eval_mime_anchors(const struct rules_input *in,
	    void (*fn)(void *arg, guint part, const char *href,
	    const char *text), void *arg);
bool	rules_eval_mime_uri_truncated(const struct rules_input *in);

/* RegistryBoundaries' uri_to_domain (rules_eval_uri.c): the registrable
 * domain of a URI's host (libpsl), or of a mailto:'s address; NULL for
 * none, an invalid name or an unknown top-level domain.  IP addresses
 * stay whole.  *host_r (if not NULL): the host.  g_malloc'd. */
char	*rules_uri_to_domain(const char *uri, char **host_r);
/* Is s an IPv4 or IPv6 address (Constants.pm's IS_IP_ADDRESS)? */
bool	 rules_is_ip(const char *s);

/* Why vigil keeps SpamAssassin's rule of that name off although it
 * runs its eval function (doc/rules.md), or NULL. */
const char *rules_evalfn_kept_off(const char *rule);

/* The set being evaluated (between rules_evalfn_begin and reset). */
const struct rules_set *rules_evalfn_set(void);

/* Drops rules_eval_mime.c's per-thread MIME tree, rules_eval_head.c's
 * relay lists. */
void	rules_eval_mime_reset(void);
void	rules_eval_head_reset(void);
/*
 * rules_eval_mime.c's MIME tree of the message, for the other eval
 * files: part i (the message itself first, depth first, as
 * SpamAssassin's find_parts), false past the last.  ctype and cte are
 * lower case ("" cte when none); ct_raw and cd_raw are the last
 * Content-Type and Content-Disposition as written, unfolded, or NULL.
 */
struct rules_mime_part {
	const char	*ctype, *cte, *ct_raw, *cd_raw;
	bool		 leaf;
};
bool	rules_eval_mime_part(const struct rules_input *, size_t i,
	    struct rules_mime_part *);
/* Leaf i's body transfer decoded (g_malloc'd; a base64 one up to about
 * max bytes, 0: all), or NULL for no leaf. */
char	*rules_eval_mime_decode(const struct rules_input *, size_t i,
	    size_t max, size_t *len_r);
/* Facts an eval file finds about the parts: made by make the first time
 * a message asks, kept with the tree and freed by free_fn when
 * rules_eval_mime_reset() drops it.  One maker a build. */
void	*rules_eval_mime_facts(const struct rules_input *,
	    void *(*make)(const struct rules_input *), GDestroyNotify free_fn);

/* Drops rules_eval_fromname.c's findings. */
void	rules_eval_fromname_reset(void);
/* Drops rules_eval_parse.c's parser flags. */
void	rules_eval_parse_reset(void);
/* Message.pm noted the flag NAME ("missing_mime_headers", ...) parsing
 * the message (rules_eval_parse.c). */
bool	rules_eval_parse_flag(const struct rules_input *, const char *name);
/* ok_locales (rules_eval_parse.c): is it "all" (SpamAssassin's default,
 * under which no charset is faraway)?  Is charset one Locales.pm's
 * is_charset_ok_for_locales allows for them? */
bool	rules_locales_all(void);
bool	rules_charset_ok(const char *charset);
/* Drops rules_eval_freemail.c's body addresses. */
void	rules_eval_freemail_reset(void);
/* Drops rules_get()'s answers about the message (rules_eval.c). */
void	rules_get_forget(void);

/*
 * An eval function of no arguments, fname, whose answer is expr (over
 * in), found in the header where names.
 */
#define RULES_EVALFN_NOARGS(fname, where, expr)				\
static double								\
fname(const struct rules_input *in, const char *const *args,		\
    size_t nargs, const char **where_r)					\
{									\
	(void)args;							\
	(void)nargs;							\
	*where_r = (where);						\
	return (expr);							\
}

/* A pattern of the code compiled once (flags: GRegexCompileFlags; raw
 * bytes always), and a match with it. */
GRegex	*rules_evalfn_re(const char *pattern, unsigned flags);
bool	 rules_evalfn_match(const char *pattern, unsigned flags,
	    const char *s);

/* Adds the addresses of get(hdr:addr) (hmod extra too), lower case, to
 * out (of g_malloc'd strings), leaving out empty ones and those out
 * already holds. */
void	 rules_evalfn_addrs(const struct rules_input *in, const char *hdr,
	    unsigned extra, GPtrArray *out);
/* PerMsgStatus's all_from_addrs: Resent-From's first address, or when
 * there is none the From, Envelope-Sender, Resent-Sender,
 * X-Envelope-From and EnvelopeFrom ones, lower case, each run of dots
 * one (tr/././s), each once; free with g_ptr_array_free(a, TRUE). */
GPtrArray *rules_evalfn_from_addrs(const struct rules_input *in);

#endif
