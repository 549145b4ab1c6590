/*
 * rules_int.h - the rule set's insides, shared by the rules_*.c files
 * and nothing else.
 */
#ifndef VIGIL_RULES_INT_H
#define VIGIL_RULES_INT_H

#include <glib.h>
#include <stdarg.h>

#include "lib/arena.h"
#include "checks/rules/rules.h"
#include "checks/dnsbl/dnsbl.h"

struct rules_where {
	const char	*file;		/* owned by the set's strings */
	int		 line;
};

/* Attributes given by name, applied when the set is compiled. */
struct rules_attr {
	char		*describe;
	unsigned	 tflags;
	unsigned	 maxhits;
	bool		 has_tflags;
	int		 priority;
	/* Lint: where the last tflags and describe lines for the name are
	 * (file NULL: none). */
	struct rules_where tflags_at, describe_at;
};

struct rules_set {
	struct rules_limits lim;
	GPtrArray	*rules;		/* struct rule *, definition order */
	GHashTable	*by_name;	/* name -> struct rule * */
	GHashTable	*skipped;	/* name -> why (malloc'd) */
	struct dnsbl_rules *dnsbl;	/* DNS rules (dnsbl_rules.c) */
	/* DNS rules that metas name: name -> 1 + k, their value is at
	 * rules->len + k of an evaluation's values (rules_input.ext_hits). */
	GHashTable	*ext_idx;
	size_t		 next;
	GHashTable	*scores;	/* name -> double * */
	GPtrArray	*score_order;	/* names, first-seen order */
	GHashTable	*attrs;		/* name -> struct rules_attr * */
	/* Strict loading (lint) only: where each score was set, and the
	 * names rules are given inside false if/ifplugin blocks. */
	GHashTable	*score_where;	/* name -> struct rules_where */
	GHashTable	*inactive;	/* names */
	/* Lint: rule names defined in a block of a plugin vigil does not
	 * provide, and that plugin (Plugin::NAME's NAME). */
	GHashTable	*gated;
	GStringChunk	*strings;	/* file names */
	/* ReplaceTags */
	GHashTable	*replace_tag, *replace_pre, *replace_inter,
			*replace_post, *replace_rules;
	char		*replace_start, *replace_end;
	/* compiled */
	bool		 is_compiled;
	struct rule	**order;	/* enabled rules: patterns, then metas */
	size_t		 norder;
	size_t		 nmeta_first;	/* index in order of the first meta */
	struct rules_pf	*pf[RULE_NTYPES];	/* literal prefilters */
	struct rules_hs	*hs[RULE_NTYPES];	/* regex prefilters */
	/* For each rule of order: 1 + its type when its literals are in
	 * its type's prefilter, else 0 (read without touching the rule). */
	uint8_t		*pf_gate;
	/* A meta's value is a function of its names' values alone, and
	 * nearly all of them are 0 in a message: each meta's value with
	 * every name 0 (meta_zero, by order - nmeta_first), and for each
	 * value slot the metas naming it (rdep[rdep_off[x]..rdep_off[x+1]],
	 * order positions), so that only the metas some name of which is
	 * not 0 are evaluated. */
	double		*meta_zero;
	uint32_t	*rdep_off, *rdep;
	/* The header values header rules match: one slot for each
	 * header and modifiers, named by the first rule using it. */
	GPtrArray	*hslots;	/* struct rule * */
	/* Versions: the loaded files' text, and their `score` lines alone,
	 * each hashed in load order (XXH3 chained through the seed). */
	uint64_t	 content_hash, score_hash;
	/* Loading ShadowRulesDir: its rules get TF_SHADOW. */
	bool		 is_loading_shadow;
	/* figures */
	size_t		 nerrors, nwarnings, nskipped;
	/* Lines of directives vigil does not read (not rules). */
	size_t		 nunread;
	/* Messages evaluated (atomic, any thread).  One counter for the
	 * set, not one a rule: an atomic add on each of two thousand rules'
	 * cache lines a message, from threads on both CPUs, cost more than
	 * many of the rules themselves. */
	uint64_t	 n_evals;
	/* Of those, the messages whose rules were timed (rules_eval.c). */
	uint64_t	 n_timed;
};

void	diag_emit(struct rules_set *, const struct rules_diag *,
	    enum rules_sev, const char *file, int line, int col,
	    const char *name, const char *fmt, ...) PRINTF_LIKE(8, 9);
struct rules_attr *attr_get(struct rules_set *, const char *name);
/* Is kw a directive of SpamAssassin's configuration language (rules_sa.c)? */
bool	rules_is_sa_directive(const char *kw);
/* Edit distance of two words (99 when one has 32 bytes or more). */
int	rules_edit_distance(const char *a, const char *b);

void	rule_free(struct rule *);

/* rules_evalfn.c: an eval: function vigil implements.  fn returns the
 * rule's value (0: no hit) and sets *where_r (static or args); check
 * (or NULL) says why arguments it cannot honour make the rule skipped,
 * NULL when they are fine. */
struct rules_evalfn {
	const char	*name;
	unsigned	 min_args, max_args;
	double		(*fn)(const struct rules_input *,
			    const char *const *args, size_t nargs,
			    const char **where_r);
	const char	*(*check)(const char *const *args, size_t nargs);
	/* The function reads the text its rule's type gives SpamAssassin's
	 * (the body's or the rawbody's): args[0] is then "body",
	 * "rawbody" or "full", before the rule's own arguments (which the
	 * counts and check see alone). */
	bool		 typed;
};
const struct rules_evalfn *rules_evalfn_find(const char *name);
/* rules_eval() calls begin with its set before the first eval function
 * and reset at its end, which drops what they cached about the message. */
void	rules_evalfn_begin(const struct rules_set *);
void	rules_evalfn_reset(void);
/* FreeMail's lists (rules_parse.c keeps them, rules_eval_head.c reads
 * them): the sorted words are the eval arguments of these carrier rules,
 * whose function never hits and whose score is 0. */
#define RULES_FREEMAIL_DOMAINS	"__VIGIL_FREEMAIL_DOMAINS"
#define RULES_FREEMAIL_WILD	"__VIGIL_FREEMAIL_DOMAINS_WILD"
#define RULES_FREEMAIL_WELCOME	"__VIGIL_FREEMAIL_WELCOMELIST"
#define RULES_FREEMAIL_FN	"vigil_list"
/* WelcomeListSubject's welcomelist_subject and blocklist_subject (and
 * their old names), lower case, in the same way (rules_evalfn.c). */
#define RULES_SUBJECT_WELCOME	"__VIGIL_WELCOMELIST_SUBJECT"
#define RULES_SUBJECT_BLOCK	"__VIGIL_BLOCKLIST_SUBJECT"
/* FromNameSpoof's settings (rules_parse.c keeps them, rules_eval_fromname.c
 * reads them), as carrier rules of this prefix and a name: EXTRACHARS
 * and CHECK (the last value), IGNORE_DKIM (lower case) and
 * IGNORE_HEADERS (words), OWNERS (fns_add_addrlist's list names, lower
 * case, whose globs are the address lists "FNS_name"). */
#define RULES_FNS_PREFIX	"__VIGIL_FNS_"
/* ok_locales: its words (the last line's) are the eval arguments of
 * this carrier rule (rules_parse.c keeps it, rules_eval_parse.c reads
 * it); none: SpamAssassin's default, "all". */
#define RULES_OK_LOCALES	"__VIGIL_OK_LOCALES"
/* rules_eval.c: what PerMsgStatus::get(HDR[:mods]) returns (hmod: mask
 * of enum rule_hmod), NULL for undef; g_malloc'd. */
char	*rules_get(const struct rules_input *, const char *hdr,
	    unsigned hmod);

/* rules_relay.c: X-Spam-Relays-{Trusted,Untrusted,Internal,External}
 * from the Received headers.  relays_which: 1 for the trusted list, 0
 * for the untrusted one, -1 for another header. */
int	relays_which(const char *name);
void	relays_build(const struct rules_input *, char **trusted_r,
	    char **untrusted_r);
/* What RelayEval knows of the Received headers besides the lists:
 * the lines it could not read (check_relays_unparseable), and
 * check_for_no_rdns_dotcom_helo's answer. */
struct relay_facts {
	size_t	 unparseable;
	bool	 no_rdns_dotcom_helo;
};
void	relays_facts(const struct rules_input *, struct relay_facts *f_r);
/* Drops the lists relays_build() kept for the message evaluated. */
void	rules_relays_forget(void);
/* EnvelopeFrom as SpamAssassin guesses it from the headers, for a
 * message without an SMTP envelope; NULL for none; g_malloc'd. */
char	*relays_envelope_from(const struct rules_input *);

/* rules_pf.c: the literal prefilter of one rule type. */
struct rules_pf;
struct pf_scan;
#define PF_MINLEN	2	/* shorter literals say too little */
/* Longer literals are cut to their start (still in every match, and
 * starting where the whole one does): a database of long literals takes
 * Hyperscan many times longer to build. */
#define PF_MAXLEN	10
/* Gives each of rules that has literals its literal ids; NULL when none
 * has any or the database does not build (err says why). */
struct rules_pf *pf_build(struct rule *const *rules, size_t n, char *err,
	    size_t errlen);
void	pf_free(struct rules_pf *);
size_t	pf_nlits(const struct rules_pf *);
/* Scans the chunks' text once; NULL: no prefilter, everything runs. */
struct pf_scan *pf_run(const struct rules_pf *, const struct rules_chunk *,
	    size_t nc, struct arena *);
/* The chunks r may match in, ascending, into out (room for nc). */
size_t	pf_chunks(const struct pf_scan *, const struct rule *, size_t nc,
	    uint32_t *out);
/* Sets may[r->ord] for every rule one of whose literals the scan saw. */
void	pf_mark(const struct pf_scan *, uint8_t *may);
/* May r match in chunk i?  0: no, 1: its literals are there, -1: the
 * scan cannot tell (a literal in too many chunks). */
int	pf_may_match(const struct pf_scan *, const struct rule *, size_t i);

/* rules_hs.c: the regex prefilter of one type's rules without literals. */
struct rules_hs;
struct hs_scan;
/* Sets hs_id of the rules it holds; NULL when none (or no Hyperscan).
 * cache_dir: where compiled databases are kept (NULL: nowhere); label
 * names the type in file names and logs. */
struct rules_hs *hs_build(struct rule *const *rules, size_t n,
	    const char *cache_dir, const char *label);
void	hs_free(struct rules_hs *);
size_t	hs_count(const struct rules_hs *);
/* Scans each chunk on its own; NULL: no prefilter, everything runs. */
struct hs_scan *hs_run(const struct rules_hs *, const struct rules_chunk *,
	    size_t nc, struct arena *);
/* May r match in chunk i?  (true when r is not in the prefilter) */
bool	hs_may_match(const struct hs_scan *, const struct rule *, size_t i);
/* Its counters: compiles, cache loads, cache files refused. */
void	rules_hs_write_stats(FILE *);

#endif
