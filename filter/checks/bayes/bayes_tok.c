/*
 * bayes_tok.c - the Bayes tokenizer: a parsed message (msg_view()) to a
 * sorted set of distinct 64-bit token hashes (XXH3).
 *
 * Features, each hashed under a prefix so that "free" in the subject and
 * "free" in the body are different tokens:
 *   - body words (text parts, HTML rendered), case-folded with GLib's
 *     Unicode tables; scripts written without spaces (Han, Kana, Thai)
 *     give one token a character; long words and base64-like noise are
 *     summarised by their length and character class;
 *   - orthogonal sparse bigrams (OSB): each word paired with each of the
 *     `window` words before it, the distance part of the hash;
 *   - chosen headers' words prefixed by the header name, sender and
 *     recipient addresses and domains, and the set of header names;
 *   - URL hosts and registrable domains;
 *   - MIME structure: part types, charsets, encodings, attachment names
 *     and extensions, HTML images, forms and hidden text in buckets.
 * The choices were measured on the benchmark corpus (contrib/accuracy).
 *
 * bayes_tokenize_named() (vigilctl scan --explain) also keeps each
 * token's text.  It hooks in per word stream, header and part, never per
 * body word: bayes_tokenize() takes the same path with names NULL, at the
 * cost of one test a stream.
 */
#include "config.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <glib.h>
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "checks/bayes/bayes.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "msg.h"

struct bayes_tok_params bayes_tok_params = {
	.window = 2,
	.text_max = 8 * 1024,
	.min_len = 2,
	.max_len = 32,
	.headers = true,
	.received = true,
	.shapes = true,
	.received_ips = true,
};

/* The words of the body, for OSB: ring of the last hashes. */
#define TOK_RING	8

/* Explain mode: the text of each token, in the order made. */
struct tok_namebuf {
	struct arena	*a;
	struct bayes_tok_name *v;
	size_t		 n, cap;
	const char	*prefix;	/* of the current word stream */
	char		*ring[TOK_RING];	/* its last words' texts */
	size_t		 nring;
};

struct tokbuf {
	uint64_t	*v;
	size_t		 n, cap;
	/* OSB state while tokenizing one stream of words. */
	uint64_t	 ring[TOK_RING];
	size_t		 nring;
	uint64_t	 seed;		/* the prefix's hash */
	int		 window;
	uint64_t	 mark;		/* BAYES_TOK_HEADER while in headers */
	struct tok_namebuf *names;	/* NULL but in explain mode */
};

/* Names tb->v[tb->n - 1] (just added) with text (arena-owned). */
static void __attribute__((cold, noinline))
tb_name_last(struct tokbuf *tb, char *text)
{
	struct tok_namebuf *nb = tb->names;

	if (nb->n == nb->cap) {
		nb->cap = nb->cap == 0 ? 1024 : nb->cap * 2;
		if ((nb->v = realloc(nb->v, nb->cap * sizeof(*nb->v))) == NULL)
			log_oom(nb->cap * sizeof(*nb->v), "bayes");
	}
	nb->v[nb->n].hash = tb->v[tb->n - 1];
	nb->v[nb->n].text = text;
	nb->n++;
}

static void
tb_add(struct tokbuf *tb, uint64_t h)
{
	if (tb->n == tb->cap) {
		tb->cap = tb->cap == 0 ? 1024 : tb->cap * 2;
		if ((tb->v = realloc(tb->v, tb->cap * sizeof(*tb->v))) == NULL)
			log_oom(tb->cap * sizeof(*tb->v), "bayes");
	}
	tb->v[tb->n++] = (h & ~BAYES_TOK_HEADER) | tb->mark;
}

uint64_t
bayes_tok_hash(const char *prefix, const char *tok, size_t len)
{
	uint64_t seed = prefix[0] == '\0' ? 0 :
	    XXH3_64bits(prefix, strlen(prefix));

	return XXH3_64bits_withSeed(tok, len, seed) & ~BAYES_TOK_HEADER;
}

static void
tb_set_prefix(struct tokbuf *tb, const char *prefix, int window)
{
	tb->seed = prefix[0] == '\0' ? 0 : XXH3_64bits(prefix, strlen(prefix));
	tb->nring = 0;
	tb->window = window;
	if (tb->names != NULL) {
		tb->names->prefix = prefix;
		tb->names->nring = 0;
	}
}

/* One word of the current stream: the unigram and its OSB pairs. */
static void
tb_word(struct tokbuf *tb, const char *w, size_t len)
{
	uint64_t h = XXH3_64bits_withSeed(w, len, tb->seed);

	tb_add(tb, h);
	for (int k = 1; k <= tb->window && (size_t)k <= tb->nring; k++) {
		uint64_t pair[3] = { tb->ring[(tb->nring - k) % TOK_RING], h,
		    (uint64_t)k };

		tb_add(tb, XXH3_64bits_withSeed(pair, sizeof(pair),
		    tb->seed ^ 0x9e3779b97f4a7c15ULL));
	}
	tb->ring[tb->nring % TOK_RING] = h;
	tb->nring++;
}

/* Explain mode: names the token tb_single() just added. */
static void __attribute__((cold, noinline))
tb_name_single(struct tokbuf *tb, const char *prefix, const char *s,
    size_t len)
{
	tb_name_last(tb, arena_printf(tb->names->a, "%s%s%.*s", prefix,
	    prefix[0] != '\0' ? ":" : "", (int)len, s));
}

/* A token with no neighbours (does not disturb the OSB ring).  Inlined,
 * as it was before it had explain mode's hook. */
static inline __attribute__((always_inline)) void
tb_single(struct tokbuf *tb, const char *prefix, const char *s, size_t len)
{
	tb_add(tb, bayes_tok_hash(prefix, s, len));
	if (__builtin_expect(tb->names != NULL, 0))
		tb_name_single(tb, prefix, s, len);
}

static void
tb_singlef(struct tokbuf *tb, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void
tb_singlef(struct tokbuf *tb, const char *fmt, ...)
{
	char	 buf[256];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(buf))
		n = sizeof(buf) - 1;
	tb_add(tb, XXH3_64bits(buf, (size_t)n));
	if (__builtin_expect(tb->names != NULL, 0))
		tb_name_last(tb, arena_strndup(tb->names->a, buf, (size_t)n));
}

/* Scripts written without spaces between words. */
static bool
is_unspaced(gunichar c)
{
	switch (g_unichar_get_script(c)) {
	case G_UNICODE_SCRIPT_HAN:
	case G_UNICODE_SCRIPT_HIRAGANA:
	case G_UNICODE_SCRIPT_KATAKANA:
	case G_UNICODE_SCRIPT_THAI:
	case G_UNICODE_SCRIPT_LAO:
	case G_UNICODE_SCRIPT_KHMER:
	case G_UNICODE_SCRIPT_MYANMAR:
		return true;
	default:
		return false;
	}
}

/* ASCII classes, by table: the tokenizer's inner loop. */
#define C_WORD	0x01	/* a word character of its own */
#define C_INNER	0x02	/* kept inside a word, trimmed at its ends */
#define C_DIGIT	0x04
#define C_ALPHA	0x08
static const unsigned char ascii_class[128] = {
	['0' ... '9'] = C_WORD | C_DIGIT,
	['a' ... 'z'] = C_WORD | C_ALPHA,
	['A' ... 'Z'] = C_WORD | C_ALPHA,
	['$'] = C_WORD, ['!'] = C_WORD, ['%'] = C_WORD,
	['\''] = C_INNER, ['.'] = C_INNER, ['-'] = C_INNER, ['_'] = C_INNER,
	['@'] = C_INNER, [','] = C_INNER,
};

static inline bool
is_inner(unsigned char c)
{
	return c < 0x80 && (ascii_class[c] & C_INNER);
}

struct word {
	char	 buf[128];
	size_t	 len;		/* bytes in buf (capped) */
	size_t	 full;		/* bytes of the whole word */
	size_t	 nchars;
	unsigned ndigit, nalpha, nupper;
};

typedef void (*word_fn)(void *arg, const char *tok, size_t len);

static void
word_emit(struct word *w, word_fn fn, void *arg)
{
	const struct bayes_tok_params *tp = &bayes_tok_params;

	/* Trim inner punctuation at the ends. */
	size_t	 b = 0, e = w->len;
	while (b < e && is_inner((unsigned char)w->buf[b]))
		b++;
	while (e > b && is_inner((unsigned char)w->buf[e - 1]))
		e--;
	if (e - b < tp->min_len && !(w->nchars == 1 && w->full > 1)) {
		/* Too short, unless one wide (non-Latin) character. */
		goto reset;
	}
	if (w->full > tp->max_len) {
		/* Long words and base64-like noise: class and length. */
		char	 s[32];
		int	 n = snprintf(s, sizeof(s), "sk:%c%zu",
		    w->ndigit > 0 && w->nalpha > 0 ? 'm' :
		    w->ndigit > 0 ? 'd' : 'a', w->full / 16);
		fn(arg, s, (size_t)n);
		goto reset;
	}
	fn(arg, w->buf + b, e - b);
reset:
	w->len = w->full = w->nchars = 0;
	w->ndigit = w->nalpha = w->nupper = 0;
}

static void
word_put(struct word *w, const char *s, size_t n)
{
	if (w->len + n <= sizeof(w->buf)) {
		memcpy(w->buf + w->len, s, n);
		w->len += n;
	}
	w->full += n;
	w->nchars++;
}

void
bayes_tok_words(const char *text, size_t len, word_fn fn, void *arg)
{
	struct word w = { .len = 0 };
	const unsigned char *p = (const unsigned char *)text;
	const unsigned char *end = p + len;

	while (p < end) {
		unsigned char c = *p;

		if (c < 0x80) {
			unsigned char k = ascii_class[c];

			if ((k & C_WORD) || ((k & C_INNER) && w.len > 0)) {
				/*
				 * A run of ASCII word bytes, each as word_put()
				 * of one byte, lower-cased; counted in locals,
				 * not through memory (w's address is taken).
				 * Once a byte is in, inner punctuation is too.
				 */
				size_t	 wl = w.len, full = w.full;
				size_t	 nchars = w.nchars;
				unsigned nd = w.ndigit, na = w.nalpha;

				for (;;) {
					nd += (k & C_DIGIT) != 0;
					na += (k & C_ALPHA) != 0;
					if (wl < sizeof(w.buf))
						w.buf[wl++] = (char)(c |
						    ((k & C_ALPHA) ? 0x20 : 0));
					full++;
					nchars++;
					if (++p == end || (c = *p) >= 0x80 ||
					    !((k = ascii_class[c]) &
					    (C_WORD | C_INNER)))
						break;
				}
				w.len = wl;
				w.full = full;
				w.nchars = nchars;
				w.ndigit = nd;
				w.nalpha = na;
				continue;
			}
			if (w.full > 0)
				word_emit(&w, fn, arg);
			p++;
			continue;
		}
		/* Multi-byte UTF-8. */
		gunichar u = g_utf8_get_char_validated((const char *)p,
		    end - p);
		if (u == (gunichar)-1 || u == (gunichar)-2) {
			if (w.full > 0)
				word_emit(&w, fn, arg);
			p++;
			continue;
		}
		size_t	 ulen = (size_t)(g_utf8_next_char(p) - (const char *)p);
		if (!g_unichar_isalnum(u) && !g_unichar_ismark(u)) {
			if (w.full > 0)
				word_emit(&w, fn, arg);
			p += ulen;
			continue;
		}
		if (is_unspaced(u)) {
			char	 ub[8];
			int	 n;

			if (w.full > 0)
				word_emit(&w, fn, arg);
			n = g_unichar_to_utf8(u, ub);
			word_put(&w, ub, (size_t)n);
			w.nalpha++;
			word_emit(&w, fn, arg);
			p += ulen;
			continue;
		}
		char	 ub[8];
		int	 n = g_unichar_to_utf8(g_unichar_tolower(u), ub);
		w.nalpha++;
		word_put(&w, ub, (size_t)n);
		p += ulen;
	}
	if (w.full > 0)
		word_emit(&w, fn, arg);
}

/* Not inlined into tb_word_named_cb(), so that tb_word() is inlined
 * here, on the milter's path, as when it had this one caller. */
static void __attribute__((noinline))
tb_word_cb(void *arg, const char *tok, size_t len)
{
	tb_word(arg, tok, len);
}

/*
 * Explain mode's tb_word_cb(): the word, then the texts of what
 * tb_word() added, in its order: the word ("prefix:word"), then its
 * pair with the word k before ("prefix:before word", with a "*" for
 * each word skipped).
 */
static void
tb_word_named_cb(void *arg, const char *tok, size_t len)
{
	struct tokbuf *tb = arg;
	struct tok_namebuf *nb = tb->names;
	const char *pfx = nb->prefix, *colon = pfx[0] != '\0' ? ":" : "";
	size_t	 n0 = tb->n, n1;
	char	*word = arena_strndup(nb->a, tok, len);

	tb_word_cb(tb, tok, len);
	n1 = tb->n;
	tb->n = n0 + 1;
	tb_name_last(tb, arena_printf(nb->a, "%s%s%s", pfx, colon, word));
	for (size_t k = 1; n0 + k < n1; k++) {
		tb->n = n0 + k + 1;
		tb_name_last(tb, arena_printf(nb->a, "%s%s%s %s%s", pfx, colon,
		    nb->ring[(nb->nring - k) % TOK_RING],
		    k == 2 ? "* " : k > 2 ? "*.. " : "", word));
	}
	tb->n = n1;
	nb->ring[nb->nring % TOK_RING] = word;
	nb->nring++;
}

/* Words of s under prefix, with OSB pairs up to window. */
static inline __attribute__((always_inline)) void
tb_text(struct tokbuf *tb, const char *prefix, const char *s, size_t len,
    int window)
{
	tb_set_prefix(tb, prefix, window);
	bayes_tok_words(s, len, tb->names != NULL ? tb_word_named_cb :
	    tb_word_cb, tb);
}

static const char *
bucket(size_t n)
{
	return n == 0 ? "0" : n == 1 ? "1" : n <= 3 ? "2-3" : n <= 10 ?
	    "4-10" : "many";
}

/* Headers that carry verdicts of other filters: never learned from. */
static bool
is_ignored_header(const char *name)
{
	static const char *const pfx[] = {
		"x-spam", "x-bogosity", "x-crm114", "x-dspam", "x-razor",
		"x-pyzor", "x-vigil", "x-virus", "x-amavis",
	};

	if ((name[0] != 'x' && name[0] != 'X') || name[1] != '-')
		return false;
	for (size_t i = 0; i < sizeof(pfx) / sizeof(pfx[0]); i++)
		if (g_ascii_strncasecmp(name, pfx[i], strlen(pfx[i])) == 0)
			return true;
	return false;
}

/* Address headers: the address, its domain and the display words. */
static bool
is_addr_header(const char *lname)
{
	return strcmp(lname, "from") == 0 || strcmp(lname, "to") == 0 ||
	    strcmp(lname, "cc") == 0 || strcmp(lname, "reply-to") == 0 ||
	    strcmp(lname, "return-path") == 0 || strcmp(lname, "sender") == 0;
}

static void
tok_addrs(struct tokbuf *tb, const char *lname, const char *v)
{
	/* Every a@b in the value. */
	for (const char *at = strchr(v, '@'); at != NULL;
	    at = strchr(at + 1, '@')) {
		const char *b = at, *e = at + 1;
		char	 pfx[80];

		while (b > v && (isalnum((unsigned char)b[-1]) ||
		    strchr(".-_+=", b[-1]) != NULL))
			b--;
		while (*e != '\0' && (isalnum((unsigned char)*e) ||
		    *e == '.' || *e == '-'))
			e++;
		if (b == at || e == at + 1)
			continue;
		char	*addr = g_ascii_strdown(b, e - b);
		snprintf(pfx, sizeof(pfx), "%s:addr", lname);
		tb_single(tb, pfx, addr, strlen(addr));
		snprintf(pfx, sizeof(pfx), "%s:dom", lname);
		tb_single(tb, pfx, addr + (at - b) + 1,
		    strlen(addr + (at - b) + 1));
		g_free(addr);
	}
}

/*
 * The shape of a value: letters, digits and the rest as classes, runs
 * collapsed ("<005101c257df$0343be50@x>" -> "<9a9a9a$9a9a9a9@a>").
 * Message-IDs, dates and senders' addresses show the software and the
 * habits of whoever wrote them even when every value is unique.
 */
static void
tok_shape(struct tokbuf *tb, const char *prefix, const char *v)
{
	char	 buf[96];
	size_t	 n = 0;
	char	 last = 0;

	for (; *v != '\0' && n + 1 < sizeof(buf); v++) {
		unsigned char c = (unsigned char)*v;
		char	 k = isupper(c) ? 'A' : islower(c) ? 'a' :
		    isdigit(c) ? '9' : c >= 0x80 ? 'u' : (char)c;

		if (k == last && (k == 'A' || k == 'a' || k == '9' || k == 'u'))
			continue;
		buf[n++] = k;
		last = k;
	}
	tb_single(tb, prefix, buf, n);
}

/* A dotted quad at p (each part 1-3 digits, <= 255): its length, or 0. */
static int
parse_ipv4(const char *p, unsigned o[4])
{
	const char *q = p;

	for (int i = 0; i < 4; i++) {
		unsigned x = 0;
		int	 nd = 0;

		if (i > 0 && *q++ != '.')
			return 0;
		while (nd < 3 && *q >= '0' && *q <= '9') {
			x = x * 10 + (unsigned)(*q++ - '0');
			nd++;
		}
		if (nd == 0 || x > 255)
			return 0;
		o[i] = x;
	}
	return (int)(q - p);
}

/*
 * IPv4 addresses in a Received field as /16 and /24 networks: spam from
 * one network shares them when every address differs.
 */
static void
tok_received_ips(struct tokbuf *tb, const char *v)
{
	for (const char *p = v; *p != '\0'; p++) {
		unsigned o[4];
		int	 len = 0;

		if (!isdigit((unsigned char)*p) || (p > v &&
		    (isalnum((unsigned char)p[-1]) || p[-1] == '.')))
			continue;
		if ((len = parse_ipv4(p, o)) == 0)
			continue;
		if (o[0] == 127 || o[0] == 10)
			continue;	/* local hops say nothing */
		tb_singlef(tb, "rcvd:ip16:%u.%u", o[0], o[1]);
		tb_singlef(tb, "rcvd:ip24:%u.%u.%u", o[0], o[1], o[2]);
		p += len - 1;
	}
}

static void
tok_headers(struct tokbuf *tb, const struct mview *v)
{
	char	 lname[64];

	for (size_t i = 0; i < v->nhdrs && !msg_budget_spent(); i++) {
		const struct mhdr *h = &v->hdrs[i];
		size_t	 nl = strlen(h->name);

		if (nl >= sizeof(lname) || is_ignored_header(h->name))
			continue;
		for (size_t j = 0; j <= nl; j++)
			lname[j] = (char)tolower((unsigned char)h->name[j]);
		/* The set of header names says which software sent it. */
		tb_single(tb, "hn", lname, nl);
		const char *val = h->value != NULL ? h->value : h->raw;
		if (val == NULL)
			continue;
		if (strcmp(lname, "subject") == 0) {
			/* Subject: words with bigrams. */
			tb_text(tb, "subject", val, strlen(val), 1);
			continue;
		}
		if (strcmp(lname, "received") == 0) {
			if (bayes_tok_params.received) {
				tb_text(tb, "received", val, strlen(val), 0);
				if (bayes_tok_params.received_ips)
					tok_received_ips(tb, val);
			}
			continue;
		}
		if (is_addr_header(lname))
			tok_addrs(tb, lname, val);
		if (bayes_tok_params.shapes && (strcmp(lname, "message-id") == 0 ||
		    strcmp(lname, "date") == 0 || strcmp(lname, "from") == 0 ||
		    strcmp(lname, "x-mailer") == 0)) {
			char	 pfx[80];

			snprintf(pfx, sizeof(pfx), "%s:shape", lname);
			tok_shape(tb, pfx, val);
		}
		if (!bayes_tok_params.headers)
			continue;
		tb_text(tb, lname, val, strlen(val) > 512 ? 512 : strlen(val),
		    0);
	}
}

static void
tok_parts(struct tokbuf *tb, const struct mview *v)
{
	size_t	 imgs = 0, forms = 0, hidden = 0, links = 0, natt = 0;

	for (size_t i = 0; i < v->nparts && !msg_budget_spent(); i++) {
		const struct mpart *p = &v->parts[i];

		if (p->type != NULL)
			tb_single(tb, "ct", p->type, strlen(p->type));
		if (p->charset != NULL) {
			char	*cs = g_ascii_strdown(p->charset, -1);

			tb_single(tb, "cs", cs, strlen(cs));
			g_free(cs);
		}
		if (p->encoding != NULL)
			tb_single(tb, "cte", p->encoding, strlen(p->encoding));
		if (p->sniffed_type != NULL)
			tb_single(tb, "sniff", p->sniffed_type,
			    strlen(p->sniffed_type));
		if (p->filename != NULL) {
			char	*fn = g_utf8_strdown(p->filename, -1);
			const char *dot = strrchr(fn, '.');

			tb_single(tb, "fname", fn, strlen(fn));
			if (dot != NULL)
				tb_single(tb, "fext", dot + 1, strlen(dot + 1));
			g_free(fn);
		}
		if (p->is_attachment)
			natt++;
		imgs += p->html_images;
		forms += p->html_forms;
		links += p->html_links;
		hidden += p->html_hidden_chars;
	}
	tb_singlef(tb, "mime:parts:%s", bucket(v->nparts));
	tb_singlef(tb, "mime:att:%s", bucket(natt));
	tb_singlef(tb, "html:img:%s", bucket(imgs));
	tb_singlef(tb, "html:form:%s", bucket(forms));
	tb_singlef(tb, "html:links:%s", bucket(links));
	tb_singlef(tb, "html:hidden:%s", bucket(hidden / 16));
	if (v->parse_error)
		tb_singlef(tb, "mime:parse-error");
}

static void
tok_urls(struct tokbuf *tb, const struct mview *v)
{
	for (size_t i = 0; i < v->nurls; i++) {
		const struct murl *u = &v->urls[i];

		if (u->host != NULL)
			tb_single(tb, "uh", u->host, strlen(u->host));
		if (u->domain != NULL)
			tb_single(tb, "ud", u->domain, strlen(u->domain));
	}
	tb_singlef(tb, "url:n:%s", bucket(v->nurls));
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The radix sort's last step: an insertion sort, fast when values only
 * move within small groups, or past copies of themselves; when it has
 * moved values too often (hashes crafted to share their top bits, many
 * distinct ones interleaved), qsort() finishes, so the worst case stays
 * n log n.
 */
static void
sort_groups(uint64_t *v, size_t n)
{
	size_t	 budget = 8 * n + 64;

	for (size_t i = 1; i < n; i++) {
		uint64_t x = v[i];
		size_t	 j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
		if (i - j > budget) {
			qsort(v, n, sizeof(*v), cmp_u64);
			return;
		}
		budget -= i - j;
	}
}

/*
 * Sorts n 64-bit hashes (tmp: room for n): an LSD radix sort on the top
 * bits, in passes of at most 12 bits, then an insertion sort that only
 * orders the values sharing those bits.  Hashes are uniform, so about
 * log2(n) bits leave a value or two a group; values repeated many times
 * (a word in most messages of a learn batch) take spread more bits, or
 * every other value that shares their group must move past them all.
 */
void
bayes_sort_u64(uint64_t *v, uint64_t *tmp, size_t n, unsigned spread)
{
	size_t	 count[1 << 12];
	uint64_t *src = v, *dst = tmp;
	unsigned bits = 0;

	if (n < 2)
		return;
	while (bits < 64 && (n >> bits) > 2)
		bits++;
	bits += spread;
	if (bits > 36)
		bits = 36;
	unsigned npass = (bits + 11) / 12;
	unsigned w = npass == 0 ? 0 : (bits + npass - 1) / npass;
	for (unsigned p = 0; p < npass; p++) {
		unsigned shift = 64 - w * (npass - p);
		size_t	 mask = ((size_t)1 << w) - 1, sum = 0;

		memset(count, 0, ((size_t)1 << w) * sizeof(*count));
		for (size_t i = 0; i < n; i++)
			count[(src[i] >> shift) & mask]++;
		for (size_t x = 0; x <= mask; x++) {
			size_t	 c = count[x];

			count[x] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++)
			dst[count[(src[i] >> shift) & mask]++] = src[i];
		uint64_t *t = src;
		src = dst;
		dst = t;
	}
	if (src != v)
		memcpy(v, src, n * sizeof(*v));
	/* Values only move within their group of equal top bits. */
	sort_groups(v, n);
}

static void
tokenize(struct arena *a, const struct mview *v, struct bayes_toks *out,
    struct tok_namebuf *names)
{
	struct tokbuf tb = { .v = NULL, .names = names };
	size_t	 blen = v->body_len;

	if (bayes_tok_params.headers || bayes_tok_params.received) {
		tb.mark = BAYES_TOK_HEADER;
		tok_headers(&tb, v);
		tb.mark = 0;
	}
	tok_parts(&tb, v);
	tok_urls(&tb, v);
	if (blen > bayes_tok_params.text_max)
		blen = bayes_tok_params.text_max;
	/* The message's budget is polled between headers, parts and the
	 * body text (bounded by text_max). */
	if (v->body_text != NULL && !msg_budget_spent())
		tb_text(&tb, "", v->body_text, blen, bayes_tok_params.window);

	/* Sorted and distinct: each token counts once a message. */
	if (tb.n > 1) {
		uint64_t *tmp = malloc(tb.n * sizeof(*tmp));

		if (tmp == NULL)
			log_oom(tb.n * sizeof(*tmp), "bayes");
		bayes_sort_u64(tb.v, tmp, tb.n, 3);
		free(tmp);
	}
	size_t	 k = 0;
	for (size_t i = 0; i < tb.n; i++)
		if (k == 0 || tb.v[k - 1] != tb.v[i])
			tb.v[k++] = tb.v[i];
	out->n = k;
	out->v = k == 0 ? NULL : arena_memdup(a, tb.v, k * sizeof(*tb.v));
	free(tb.v);
}

void
bayes_tokenize(struct arena *a, const struct mview *v,
    struct bayes_toks *out)
{
	tokenize(a, v, out, NULL);
}

static int
cmp_name_order(const void *a, const void *b)
{
	const struct bayes_tok_name *x = a, *y = b;

	if (x->hash != y->hash)
		return x->hash < y->hash ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

void
bayes_tokenize_named(struct arena *a, const struct mview *v,
    struct bayes_toks *out, struct bayes_tok_names *names_r)
{
	struct tok_namebuf nb = { .a = a, .prefix = "" };
	size_t	 k = 0;

	tokenize(a, v, out, &nb);
	/* By hash; the first text made of a hash names it (a stable sort
	 * is not at hand: the index breaks ties). */
	for (size_t i = 0; i < nb.n; i++)
		nb.v[i].order = i;
	if (nb.n > 1)
		qsort(nb.v, nb.n, sizeof(*nb.v), cmp_name_order);
	for (size_t i = 0; i < nb.n; i++)
		if (k == 0 || nb.v[k - 1].hash != nb.v[i].hash)
			nb.v[k++] = nb.v[i];
	names_r->n = k;
	names_r->v = k == 0 ? NULL : arena_memdup(a, nb.v, k * sizeof(*nb.v));
	free(nb.v);
}

const char *
bayes_tok_name_of(const struct bayes_tok_names *names, uint64_t hash)
{
	size_t	 lo = 0, hi = names->n;

	while (lo < hi) {
		size_t	 mid = lo + (hi - lo) / 2;

		if (names->v[mid].hash < hash)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < names->n && names->v[lo].hash == hash ?
	    names->v[lo].text : NULL;
}
