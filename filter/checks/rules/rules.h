/*
 * rules.h - the SpamAssassin rule language on PCRE2: loading rule files
 * (rules_parse.c, rules_set.c), regexes with limits (rules_re.c), metas
 * (rules_meta.c) and evaluation against one message (rules_eval.c).
 * rules.c plugs the set into the pipeline; ctl_rules.c lints and tests.
 *
 * A rule set is built once (load, then compile) and read-only afterwards,
 * except for its counters, which are atomic.  All strings in a set are
 * owned by the set and freed by rules_set_free().
 */
#ifndef VIGIL_RULES_H
#define VIGIL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct rx;
struct meta;
struct arena;
struct rules_evalfn;
struct rules_auth;

enum rule_type {
	RULE_HEADER,
	RULE_BODY,
	RULE_RAWBODY,
	RULE_URI,
	RULE_FULL,
	RULE_MIMEHEADER,	/* headers of each MIME part */
	RULE_META,
	RULE_NTYPES
};

/* Header modifiers (`From:addr`, `Subject:raw`). */
enum rule_hmod {
	HMOD_RAW	= 1 << 0,
	HMOD_ADDR	= 1 << 1,
	HMOD_NAME	= 1 << 2,
	HMOD_FIRST	= 1 << 3,
	HMOD_LAST	= 1 << 4,
};

enum rule_tflag {
	TF_NICE		= 1 << 0,
	TF_MULTIPLE	= 1 << 1,
	TF_NOSUBJECT	= 1 << 2,
	TF_NET		= 1 << 3,
	TF_LEARN	= 1 << 4,
	TF_USERCONF	= 1 << 5,
	TF_NOAUTOLEARN	= 1 << 6,
	/* vigil's own: evaluated and counted, never scored (trying a rule
	 * on live mail before it may vote) */
	TF_SHADOW	= 1 << 7,
};

struct rule {
	char		*name;
	enum rule_type	 type;
	char		*file;		/* where it was defined */
	int		 line;
	int		 col;		/* column of the pattern */
	/* header rules */
	char		*hdr;		/* "Subject", "ALL", "ToCc", ... */
	unsigned	 hmod;		/* mask of enum rule_hmod */
	bool		 is_exists;	/* exists:Hdr */
	bool		 is_neg;	/* !~ */
	char		*if_unset;	/* [if-unset: STR], or NULL */
	/* pattern rules */
	char		*pattern;	/* as written, between delimiters */
	char		*expanded;	/* after tag replacement, or NULL */
	char		*flags;		/* "i", "ism", ... */
	struct rx	*rx;
	struct rx	*screen;	/* rules_screen.c, or NULL */
	uint32_t	 hs_id;		/* 1 + its id in the type's regex
					 * prefilter (rules_hs.c), or 0 */
	char		**lits;		/* required literals, or NULL */
	unsigned	 lit_k;		/* occurrences of them a match holds */
	uint32_t	*lit_ids;	/* their ids in the type's prefilter */
	uint32_t	 nlit_ids;
	uint32_t	 pf_row;	/* lit_k > 1: 1 + its counter row */
	uint32_t	 hslot;		/* header rules: their value's slot */
	/* eval: rules vigil implements (rules_evalfn.c) */
	const struct rules_evalfn *evalfn;
	char		**eval_args;	/* NULL-terminated */
	/* meta rules */
	char		*expr;
	struct meta	*meta;
	/* everything */
	char		*describe;
	double		 score;
	bool		 has_score;
	unsigned	 tflags;	/* mask of enum rule_tflag */
	unsigned	 maxhits;	/* 0: no limit */
	int		 priority;
	bool		 is_enabled;	/* compiled and score != 0 */
	bool		 is_from_shadow;	/* loaded from ShadowRulesDir */
	const char	*plugin;	/* the `ifplugin` block it is defined
					 * in (innermost, the name after the
					 * last ':'), or NULL */
	size_t		 idx;		/* position in the set */
	uint32_t	 ord;		/* position in its evaluation order */
	/* counters: atomic, any thread.  How often a rule ran is its set's
	 * n_evals: every enabled rule runs once a message. */
	uint64_t	 n_hits;
	uint64_t	 ns_spent;
	uint64_t	 n_limit;	/* match or depth limit reached */
	int		 limit_logged;
};

/* Largest |score| a rule file may give (SpamAssassin's run to about 100):
 * a sum of scores stays a number that prints in a few digits. */
#define RULES_SCORE_MAX	1000

/* Problems found while loading, compiling or stress-testing a set. */
enum rules_sev { RULES_WARN, RULES_ERROR };

struct rules_diag {
	void	(*fn)(void *arg, enum rules_sev, const char *file, int line,
		    int col, const char *name, const char *what);
	void	*arg;
	/*
	 * Lint: a directive SpamAssassin does not know either (a typo), a
	 * score for a rule nobody defines and a file with NUL bytes are
	 * errors.  Loading for the daemon leaves it false: directives vigil
	 * skips on purpose stay warnings either way.
	 */
	bool	 is_strict;
};

struct rules_limits {
	uint32_t	 match_limit;	/* pcre2_set_match_limit */
	uint32_t	 depth_limit;	/* pcre2_set_depth_limit (interpreter) */
	size_t		 body_scan;	/* bytes of rendered text per part */
	size_t		 raw_scan;	/* bytes of decoded text per part */
	const char	*cache_dir;	/* compiled regex prefilters, or NULL */
	bool		 regex_prefilter;	/* RulesRegexPrefilter */
};

struct rules_set;

/* A new, empty set (never NULL). */
struct rules_set *rules_set_new(const struct rules_limits *);
void		 rules_set_free(struct rules_set **);

/*
 * Reads path: a file, or a folder whose *.rules and *.cf files are read in
 * lexical order.  Problems go to diag; returns the number of errors.
 */
int		 rules_load_path(struct rules_set *, const char *path,
		    const struct rules_diag *);
/* Reads rules from a string (tests); file names the source in messages. */
/* rules_load_path, every rule loaded being a shadow rule (TF_SHADOW). */
int		 rules_load_shadow_path(struct rules_set *, const char *path,
		    const struct rules_diag *diag);
/* Adds a rules file's text to the set's content and score-line hashes
 * (rules_load_path does it for every file it reads). */
void		 rules_hash_text(struct rules_set *, const char *text,
		    size_t len);
/* The versions of what was loaded: a hash of the files' text, and one
 * of their `score` lines alone (0: none). */
void		 rules_set_hashes(const struct rules_set *, uint64_t *rules_r,
		    uint64_t *scores_r);
int		 rules_load_string(struct rules_set *, const char *file,
		    const char *text, const struct rules_diag *);
/*
 * Compiles what was loaded: tag replacement, regexes (JIT), metas and the
 * evaluation order.  Returns the number of errors (0: the set is usable).
 * With stress true, also runs every regex on hostile inputs and warns
 * about those that hit the limits (lint).
 */
int		 rules_compile(struct rules_set *, bool stress,
		    const struct rules_diag *);

/* Loading figures, for lint's last line. */
struct rules_counts {
	size_t	loaded;		/* rules that will run */
	size_t	skipped;	/* rules not run: eval tests, bad or too large */
	size_t	disabled;	/* rules scored 0: off, as in SpamAssassin */
	size_t	unread;		/* lines of directives vigil does not read */
	size_t	errors;
	size_t	warnings;
	size_t	by_type[RULE_NTYPES];
};
/* Each rule skipped and why ("eval:FN is not implemented", ...). */
void		 rules_skipped_each(const struct rules_set *,
		    void (*fn)(const char *name, const char *why, void *),
		    void *data);
/* Lint: each rule defined only in a block of a plugin vigil does not
 * provide (`ifplugin` false), and the plugin's short name. */
void		 rules_gated_each(const struct rules_set *,
		    void (*fn)(const char *name, const char *plugin, void *),
		    void *data);
void		 rules_get_counts(const struct rules_set *,
		    struct rules_counts *);
size_t		 rules_count(const struct rules_set *);
struct rule	*rules_at(const struct rules_set *, size_t i);
struct rule	*rules_find(const struct rules_set *, const char *name);
/* Every `score NAME n` seen (rules or other checks' findings). */
size_t		 rules_score_count(const struct rules_set *);
void		 rules_score_at(const struct rules_set *, size_t i,
		    const char **name_r, double *score_r);
/* Where NAME's score was last set (file owned by the set); false when no
 * score line names it. */
bool		 rules_score_source(const struct rules_set *, const char *name,
		    const char **file_r, int *line_r);
/* The same with its four score sets (snap.h), valid while set lives. */
const double	*rules_score_sets_at(const struct rules_set *, size_t i,
		    const char **name_r);

/* The message as rules see it; built by the caller (rules_eval.c has a
 * builder from struct msg).  Text uses LF line ends, like SpamAssassin. */
struct rules_hdr {
	const char	*name;
	const char	*raw;		/* after the colon, folding kept, "\n" end */
	const char	*value;		/* unfolded, decoded, trimmed */
	const char	*value_nl;	/* the same and "\n", or NULL */
};

struct rules_chunk {
	const char	*p;
	size_t		 len;
	int		 part;		/* MIME part index, -1 for the subject */
};

/* One MIME part's headers, for mimeheader rules. */
struct rules_mpart {
	const struct rules_hdr *hdrs;	/* raw: value as in the part, "\n" end */
	size_t		 nhdrs;
};

struct rules_hidx;
struct rules_input {
	const struct rules_hdr *hdrs;
	size_t		 nhdrs;
	/* hdrs by name (rules_hidx_build), or NULL: looked up one by one. */
	const struct rules_hidx *hidx;
	/* Every MIME part, the message itself first, as SpamAssassin's
	 * find_parts() lists them (depth first); built only when the set
	 * has mimeheader rules. */
	const struct rules_mpart *mparts;
	size_t		 nmparts;
	const char	*envelope_from;	/* NULL: unknown */
	const struct rules_chunk *body;	/* rendered paragraphs */
	size_t		 nbody;
	const struct rules_chunk *rawbody;
	size_t		 nrawbody;
	const char *const *uris;
	size_t		 nuris;
	const char	*full;
	size_t		 full_len;
	/* full lacked the blank line after the header fields as read from
	 * a file (SpamAssassin's missing_head_body_separator); full, as an
	 * MTA's copy, has one all the same. */
	bool		 no_separator;
	/* Rules another check evaluated that hit (the DNS lists', dnsbl.c,
	 * sub-rules too): metas see them as 1. */
	const char *const *ext_hits;
	size_t		 next_hits;
	/* What vigil's own SPF, DKIM, DMARC and Bayes found (rules_auth.h),
	 * or NULL: SpamAssassin's eval tests of those plugins read it. */
	const struct rules_auth *auth;
};

/* An index of hdrs by name, case-insensitive, in a (rules_eval.c):
 * header rules and eval functions look a name up once instead of
 * comparing it with every header of the message. */
const struct rules_hidx *rules_hidx_build(struct arena *a,
		    const struct rules_hdr *hdrs, size_t nhdrs);

/* One finding of an evaluation. */
struct rules_hit {
	const struct rule *rule;
	unsigned	 count;		/* matches counted (tflags multiple) */
	const char	*where;		/* "Subject", "body part 1", "uri", ... */
	const char	*match;		/* shortened matched text, or "" */
	double		 value;		/* meta: the expression's value */
};

/*
 * Evaluates every enabled rule on in.  Hits and their texts are allocated
 * in a; the array ends with a hit whose rule is NULL.  *nlimit_r (if not
 * NULL) counts rules stopped by a limit.  Thread-safe.
 */
struct rules_hit *rules_eval(const struct rules_set *, const struct rules_input *,
		    struct arena *a, size_t *nhits_r);

/* rules_evalfn.c: FN('a', "b", 1, ...) of an eval: test: the name and up
 * to maxargs arguments, unquoted (bare numbers as written; g_malloc'd).
 * False when s does not read as a call. */
bool		 rules_call_parse(const char *s, char **fn_r, char **args,
		    size_t maxargs, size_t *nargs_r);

/* The set's DNS list rules (dnsbl.h); never NULL. */
struct dnsbl_rules;
const struct dnsbl_rules *rules_set_dnsbl(const struct rules_set *);

/* Does the set have enabled rules of type t? */
bool		 rules_has_type(const struct rules_set *, enum rule_type t);

/* Writes per-rule counters as "rules.NAME.hits N" lines. */
void		 rules_write_stats(const struct rules_set *, FILE *);

/* rules_re.c */
/* NULL with err set on failure; *too_large_r tells a pattern beyond
 * PCRE2's compiled size (tag-expanded rules), which is skipped, not an
 * error. */
struct rx	*rx_compile(const char *pattern, const char *flags,
		    const struct rules_limits *, char *err, size_t errlen,
		    size_t *erroff_r, bool *too_large_r);
/* The same without JIT compiling (rx_match runs the interpreter), and
 * the JIT compiling of such a regex. */
struct rx	*rx_compile_nojit(const char *pattern, const char *flags,
		    const struct rules_limits *, char *err, size_t errlen,
		    size_t *erroff_r, bool *too_large_r);
void		 rx_jit(struct rx *);
/* Before rx_jit: a pattern matching the same as rx's, written in a way
 * the heads and ASCII-copy readers follow, for them to read instead. */
void		 rx_set_equiv(struct rx *, const char *pattern);
void		 rx_free(struct rx *);
enum rx_rc { RX_NOMATCH = 0, RX_MATCH = 1, RX_LIMIT = -1, RX_ERROR = -2 };
/* Matches from offset start; on a match, so_r and eo_r hold it. */
enum rx_rc	 rx_match(const struct rx *, const char *s, size_t len,
		    size_t start, size_t *so_r, size_t *eo_r);
/* The match states (match data, JIT stack) made so far: one a thread
 * that matched, less those handed on from threads that exited. */
uint64_t	 rx_match_states(void);
/* What a search for rx costs a byte of English text, roughly (1: one
 * look at the byte), from where PCRE2 knows a match can start. */
double		 rx_start_cost(const struct rx *);
/* Whether rx is searched through its heads (rules_lit.c's rx_heads). */
bool		 rx_has_heads(const struct rx *);
/* The pattern without its branches that open with a byte of 0x80 or
 * above, for subjects that are all ASCII; NULL when no branch goes or
 * the pattern cannot be read for it.  g_free() it. */
char		*rx_ascii_pattern(const char *pattern);
/* Translates a Perl pattern into PCRE2 syntax; NULL and *why_r when
 * the pattern uses a construct PCRE2 cannot express.  malloc'd. */
char		*rx_translate(const char *pattern, const char **why_r);

/* rules_lit.c: the set of lowercased strings one of which every match
 * of pattern contains, each at least minlen long; NULL when there is no
 * such set (or it cannot be told).  g_strfreev() it. */
char		**rx_literals(const char *pattern, const char *flags,
		    size_t minlen);
/* The same; *k_r (if not NULL): how many occurrences of the set's
 * strings every match holds in disjoint places, as in (?:...){3}. */
char		**rx_literals_k(const char *pattern, const char *flags,
		    size_t minlen, unsigned *k_r);
/* The strings one of which every match holds near its start: string i
 * (lowercased) at most (*leads_r)[i] bytes after it.  NULL when not
 * known; *leads_r is g_free'd. */
char		**rx_heads(const char *pattern, const char *flags,
		    unsigned **leads_r);

/* rules_screen.c: regexes that match every subject pattern matches, but
 * may start in fewer places: the pattern without its leading items that
 * can match the empty string (first, when there are such), then the rest
 * of it from each later item, at most max of them; NULL when there is
 * none or the pattern holds a construct that makes a screen unsafe.
 * g_strfreev() it. */
char		**rx_screens(const char *pattern, const char *flags,
		    size_t max);

/* rules_meta.c */
struct meta	*meta_compile(const char *expr, const struct rules_set *,
		    char *err, size_t errlen, int *col_r);
void		 meta_free(struct meta *);
/* Names the expression uses, for ordering and lint. */
size_t		 meta_deps(const struct meta *, const char *const **names_r);
/* Binds names to rule indices (-1: unknown, counts as 0). */
void		 meta_bind(struct meta *, const int *idx);
/* The bound indices (as meta_bind set them), one a name. */
const int	*meta_dep_idx(const struct meta *, size_t *n_r);
double		 meta_eval(const struct meta *, const double *values);

#endif
