/*
 * msg.h - one message: its envelope, the raw bytes (spooled), the parsed
 * flat view every check reads, and the findings.  A message owns an arena;
 * everything returned by these accessors lives until msg_end().
 *
 * The milter and vigilctl fill a message the same way (pipeline.h), so
 * both see the same bytes: headers as "Name: value" with CRLF line ends,
 * an empty line, then the body with CRLF line ends.
 */
#ifndef VIGIL_MSG_H
#define VIGIL_MSG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <syslog.h>

#include "lib/arena.h"
#include "snap.h"

struct msg;
struct check;

/* A header as received.  value is filled when the view is built. */
struct mhdr {
	const char	*name;
	const char	*raw;		/* as received, less the one space after the
				 * colon: folding kept, no final CRLF */
	const char	*value;		/* unfolded, RFC 2047 decoded, UTF-8 */
};

/* One leaf MIME part. */
struct mpart {
	const char	*type;		/* "text/plain", lower case */
	const char	*charset;	/* declared, or NULL */
	const char	*filename;	/* decoded, or NULL */
	const char	*disposition;	/* "attachment", "inline" or NULL */
	const char	*encoding;	/* "base64", ... or NULL */
	const unsigned char *data;	/* transfer-decoded bytes */
	size_t		 size;
	const char	*text;		/* text parts: UTF-8; HTML rendered */
	size_t		 text_len;
	const char	*html;		/* text/html: the decoded source (UTF-8) */
	size_t		 html_len;
	const char	*sniffed_type;	/* from the first bytes, or NULL */
	unsigned	 depth;		/* nesting: 0 = top level */
	bool		 is_text;	/* text/plain or text/html, not attachment */
	bool		 is_html;
	bool		 is_attachment;	/* has a filename or disposition attachment */
	/* HTML structure, for rules and Bayes. */
	unsigned	 html_images, html_forms, html_links;
	size_t		 html_hidden_chars;	/* text styled invisible */
};

enum murl_src { MURL_TEXT = 1, MURL_HREF = 2, MURL_SRC = 4, MURL_FORM = 8 };

struct murl {
	const char	*url;		/* normalised: scheme://host/path... */
	const char	*host;		/* lower case; IDN as ASCII */
	const char	*domain;	/* registrable domain (libpsl) or host */
	unsigned	 src;		/* mask of enum murl_src */
	const char	*anchor_text;	/* HTML link text, or NULL */
};

struct mview {
	const struct mhdr *hdrs;	/* top-level headers in order */
	size_t		 nhdrs;
	const struct mpart *parts;
	size_t		 nparts;
	const struct murl *urls;
	size_t		 nurls;
	const char	*subject;	/* decoded, "" when missing */
	const char	*body_text;	/* text parts joined, HTML rendered */
	size_t		 body_len;
	bool		 parse_error;	/* GMime could not parse; scanned raw */
	const char	*parse_error_why;
	/* How GMime read the structure, for checks that rely on it. */
	unsigned	 mime_warnings;	/* parser warnings (defects) it reported */
	unsigned	 content_fields;	/* Content-* fields of the objects walked */
};

struct hit {
	const char	*name;
	double		 score;
	const char	*detail;	/* "" when none */
	const double	*sets;		/* the score table's four, or NULL */
};

/* Lifetime: a new message on snapshot s (takes a reference). */
struct msg	*msg_new(struct snap *s, const char *session_id);
/* Releases everything; idempotent, NULL-safe. */
void		 msg_end(struct msg **mp);

struct arena	*msg_arena(struct msg *);
struct snap	*msg_snap(const struct msg *);
const char	*msg_session_id(const struct msg *);

/* Envelope.  Setters copy into the arena; getters return NULL when unknown. */
void		 msg_set_client(struct msg *, const char *addr, const char *name);
void		 msg_set_helo(struct msg *, const char *helo);
void		 msg_set_mail_from(struct msg *, const char *addr);	/* no <> */
/* A sender read from the headers when no SMTP envelope was given
 * (vigilctl scan, rules test): msg_mail_from_guessed() says so. */
void		 msg_guess_mail_from(struct msg *, const char *addr);
void		 msg_add_rcpt(struct msg *, const char *addr);		/* no <> */
void		 msg_set_queue_id(struct msg *, const char *qid);
void		 msg_set_auth_user(struct msg *, const char *user);
const char	*msg_client_addr(const struct msg *);
const char	*msg_client_name(const struct msg *);
const char	*msg_helo(const struct msg *);
const char	*msg_mail_from(const struct msg *);	/* "" for the null sender */
bool		 msg_mail_from_guessed(const struct msg *);
size_t		 msg_rcpt_count(const struct msg *);
const char	*msg_rcpt(const struct msg *, size_t i);
const char	*msg_queue_id(const struct msg *);	/* "-" until known */
const char	*msg_auth_user(const struct msg *);
/* Trusted network or authenticated sender. */
bool		 msg_is_trusted(const struct msg *);

/* Raw content. */
/* The headers as received so far (values not decoded until the view). */
size_t		 msg_hdr_count(const struct msg *);
const struct mhdr *msg_hdr(const struct msg *, size_t i);
/* The first header named name (case-insensitive): raw value, or NULL. */
const char	*msg_hdr_raw(const struct msg *, const char *name);
/* The whole message (headers, blank line, body), CRLF line ends. */
const unsigned char *msg_raw(struct msg *, size_t *len_r);
/* The body alone. */
const unsigned char *msg_body(struct msg *, size_t *len_r);
size_t		 msg_size(const struct msg *);
/* Did the message's bytes go to a temp file (past SpoolMemoryMax)? */
bool		 msg_is_spilled(const struct msg *);
/* Was the message larger than MaxScanSize? */
bool		 msg_is_oversize(const struct msg *);
/* Is it scanned on its first MaxScanSize bytes (OversizeAction scan)?
 * Then msg_raw() is those bytes, a line end, and the header blocks of
 * the parts past them (each as an empty part); else an oversize
 * message's content checks are skipped. */
bool		 msg_is_truncated(const struct msg *);
/* Bytes the MTA sent, past MaxScanSize too. */
size_t		 msg_seen_size(const struct msg *);
/* Did header fields go past MaxHeaderCount or MaxHeaderBytes? */
bool		 msg_hdr_limited(const struct msg *);
/* The message as read from a file (not from an MTA, which sends the
 * header fields apart) lacked the blank line after its header fields,
 * as SpamAssassin's parser decides it (missing_head_body_separator):
 * the spool holds one all the same. */
void		 msg_set_no_separator(struct msg *);
bool		 msg_no_separator(const struct msg *);

/* The parsed view, built on first use after the body is complete. */
const struct mview *msg_view(struct msg *);

/* Findings.  The score is the snapshot's `score NAME` or def. */
void		 msg_add_hit(struct msg *, const char *name, double def,
		    const char *fmt, ...) PRINTF_LIKE(4, 5);
/* A finding whose score the caller already decided. */
void		 msg_add_hit_scored(struct msg *, const char *name,
		    double score, const char *detail);
size_t		 msg_hit_count(const struct msg *);
const struct hit *msg_hit(const struct msg *, size_t i);
bool		 msg_has_hit(const struct msg *, const char *name);
/* Sum of all hits. */
double		 msg_score(const struct msg *);
/*
 * Scores every hit that has a score table entry with score set `set`
 * (snap.h) from now on, the ones already added too.  Hits start in
 * SCORE_SET_BAYES; the verdict picks the set that fits the message.
 */
void		 msg_use_score_set(struct msg *, enum score_set set);
enum score_set	 msg_score_set(const struct msg *);
/* What the hits so far add up to in set `set` (hits without a table
 * entry count as they are). */
double		 msg_score_in_set(const struct msg *, enum score_set set);
/* Did a mature Bayes store vote on the message (check_bayes)? */
void		 msg_set_bayes_votes(struct msg *, bool);
bool		 msg_bayes_votes(const struct msg *);
/* Did network tests run and answer (check_dnsbl: DNS lists enabled and
 * at least one lookup answered)? */
void		 msg_set_net_votes(struct msg *, bool);
bool		 msg_net_votes(const struct msg *);

/*
 * A deciding check (virus, DMARC policy, block list) forces an action.
 * The strictest forced action wins; rcode/xcode/text are the SMTP reply
 * for reject and tempfail (NULL: the defaults), reason a short word for
 * logs and the quarantine ("virus", "dmarc", "blocklist").
 */
void		 msg_force_action(struct msg *, enum verdict_action,
		    const char *rcode, const char *xcode, const char *text,
		    const char *reason);
/* The forced action so far, or -1; the reply texts through the pointers. */
int		 msg_forced_action(const struct msg *, const char **rcode_r,
		    const char **xcode_r, const char **text_r,
		    const char **reason_r);

/*
 * An admin already decided this message passes (a valid, unused release
 * token): the verdict accepts it whatever its score and forced actions,
 * except a tempfail from a check that failed.  why ("released ID") is
 * the verdict's reason.
 */
void		 msg_set_pass(struct msg *, const char *why);
const char	*msg_pass(const struct msg *);	/* NULL when none */

/* A check could not do its job; the verdict applies its on-error policy. */
void		 msg_note_failure(struct msg *, const char *check,
		    enum verdict_action policy, const char *why);
size_t		 msg_failure_count(const struct msg *);
/* The name of the i-th check that failed (NULL past the end). */
const char	*msg_failure_check(const struct msg *, size_t i);

/* A header the action step adds to the delivered message. */
void		 msg_add_header_out(struct msg *, const char *name,
		    const char *value);
size_t		 msg_header_out_count(const struct msg *);
void		 msg_header_out(const struct msg *, size_t i,
		    const char **name_r, const char **value_r);

/* An extra field for vigilctl --json: key and a JSON value as text. */
void		 msg_set_field(struct msg *, const char *key, const char *json);
size_t		 msg_field_count(const struct msg *);
void		 msg_field(const struct msg *, size_t i, const char **key_r,
		    const char **json_r);

/* A shadow rule that hit: logged and counted, never scored (name
 * copied into m's arena). */
void		 msg_add_shadow_hit(struct msg *, const char *name);
size_t		 msg_shadow_hit_count(const struct msg *);
const char	*msg_shadow_hit(const struct msg *, size_t i);

/* A version this message's verdict is made with, where a check knows
 * better than the snapshot (the Bayes store's counts, the AV engine in
 * use); msg_version falls back to snap_version.  Strings in m's arena. */
void		 msg_set_version(struct msg *, enum snap_version k,
		    const char *value);
const char	*msg_version(const struct msg *, enum snap_version k);

/* Per-message storage for check c (NULL at first). */
void		**msg_slot(struct msg *, const struct check *c);

/* Live mail from the MTA (the milter sets it), as opposed to an offline
 * scan: side effects such as autolearn happen only for live mail. */
void		 msg_set_live(struct msg *, bool);
bool		 msg_is_live(const struct msg *);

/* Time since msg_new, in milliseconds. */
double		 msg_elapsed_ms(const struct msg *);

/*
 * The message's budget: MessageTimeLimit of CPU time over all its checks
 * (on whichever threads they ran) and MessageMemoryLimit bytes of
 * analysis (the arena, the spool while in memory, what checks charge).
 * The pipeline brackets each check with msg_budget_enter/leave on the
 * thread that runs it; code below a check, which may have no message at
 * hand (a regex match, an archive or tokenizer loop), polls
 * msg_budget_spent() at its safe points and stops when it says so.
 * Once spent, a budget stays spent.
 */
void		 msg_budget_enter(struct msg *);
void		 msg_budget_leave(struct msg *);
/* Is the budget of the message whose check runs on this thread spent?
 * Cheap (the clocks are read on every 8th call); false when no message
 * is open on this thread.  True also marks the running check cut. */
bool		 msg_budget_spent(void);
/* Counts n bytes (negative: gives them back) held outside the arena
 * against the current thread's message; nothing when none is open. */
void		 msg_budget_charge(ssize_t n);
/* Is m's budget spent now (reads the clocks)? */
bool		 msg_budget_over(struct msg *);
/* What was spent past its limit, or NULL while within budget. */
const char	*msg_budget_why(const struct msg *);
/* Bytes and CPU milliseconds counted so far. */
size_t		 msg_budget_memory(const struct msg *);
double		 msg_budget_cpu_ms(const struct msg *);

/* Log with the message's s= and q= prefix. */
void		 log_msg(int level, const struct msg *, const char *fmt, ...)
		    PRINTF_LIKE(3, 4);

#endif
