/*
 * attach.c - attachment policy: banned file name extensions, banned types
 * (declared or sniffed), double extensions that hide an executable behind
 * a document name (invoice.pdf.exe), and the same names inside archives
 * (zip, 7z, rar, tar, compressed tar), whose member lists libarchive reads
 * from memory, nested archives up to AttachArchiveDepth.  A member is
 * opened as a nested archive by its name or by its first bytes.  Every
 * byte libarchive decompresses for us, whether listed, skipped or kept,
 * counts against AttachArchiveMaxBytes and the walk against
 * AttachArchiveMaxTime: a few hundred compressed bytes can declare
 * gigabytes of zeros, which a plain skip would inflate in full.
 *
 * Findings are scored hits (ATTACH_*); AttachAction reject|quarantine
 * turns a banned name or type into a forced action instead.  The check
 * reads the parsed view only; libarchive handles live inside one call.
 */
#include "config.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <glib.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cfg.h"
#include "check.h"
#include "msg.h"
#include "snap.h"
#include "lib/arena.h"
#include "lib/log.h"
#include "lib/util.h"

#define ATTACH_EXT_SCORE	4.0
#define ATTACH_TYPE_SCORE	4.0
#define ATTACH_DOUBLE_SCORE	6.0
#define ATTACH_ARCHIVE_SCORE	4.0
#define ATTACH_UNREADABLE_SCORE	0.5
#define ATTACH_LIMIT_SCORE	1.0
/* A nested archive larger than this is listed no deeper. */
#define ATTACH_NESTED_MAX	(16u << 20)

/* Order of AttachAction's choices. */
enum attach_action { AA_SCORE, AA_REJECT, AA_QUARANTINE };

const struct opt attach_opts[] = {
	{ "AttachCheck", OPT_BOOL, "yes", 0, 0, NULL,
	  "Check attachment names and types against the policy below" },
	{ "AttachBannedExtensions", OPT_LIST,
	  "ade,adp,app,bat,chm,cmd,com,cpl,exe,hta,inf,ins,isp,jar,js,jse,"
	  "lnk,msc,msi,msp,mst,pif,ps1,reg,scr,sct,shb,shs,vb,vbe,vbs,wsc,"
	  "wsf,wsh", 0, 0, NULL,
	  "File name extensions banned in attachments and archive members "
	  "(hit ATTACH_BANNED_EXT)" },
	{ "AttachBannedTypes", OPT_LIST,
	  "application/x-msdownload,application/x-dosexec,"
	  "application/x-msdos-program,application/x-ms-installer,"
	  "application/hta", 0, 0, NULL,
	  "MIME types banned whether declared or sniffed (hit "
	  "ATTACH_BANNED_TYPE)" },
	{ "AttachDoubleExtension", OPT_BOOL, "yes", 0, 0, NULL,
	  "Flag a banned extension behind a document one, e.g. "
	  "invoice.pdf.exe (hit ATTACH_DOUBLE_EXT)" },
	{ "AttachScanArchives", OPT_BOOL, "yes", 0, 0, NULL,
	  "Also check the member names of zip, 7z, rar and tar attachments "
	  "(hit ATTACH_ARCHIVE_BANNED)" },
	{ "AttachArchiveDepth", OPT_INT, "2", 1, 8, NULL,
	  "How many archives deep member names are checked" },
	{ "AttachMaxMembers", OPT_INT, "1000", 1, 1000000, NULL,
	  "Archive members listed at most per message (more: hit "
	  "ATTACH_ARCHIVE_LIMIT)" },
	{ "AttachArchiveMaxBytes", OPT_SIZE, "32m", 65536, 4294967296.0, NULL,
	  "Bytes decompressed at most per message while listing archives "
	  "(more: hit ATTACH_ARCHIVE_LIMIT)" },
	{ "AttachArchiveMaxTime", OPT_DURATION, "1s", 10, 60000, NULL,
	  "Time spent at most per message listing archives (more: hit "
	  "ATTACH_ARCHIVE_LIMIT)" },
	{ "AttachAction", OPT_ENUM, "score", 0, 0, "score|reject|quarantine",
	  "score: hits only; reject or quarantine: a banned name or type "
	  "decides the message" },
	{ NULL }
};

/* Extensions that make a banned one behind them a disguise. */
static const char *const decoy_exts[] = {
	"pdf", "doc", "docx", "xls", "xlsx", "ppt", "pptx", "rtf", "txt",
	"csv", "jpg", "jpeg", "png", "gif", "bmp", "tif", "tiff", "htm",
	"html", "mp3", "mp4", "avi", "mov", "wav", "zip", "rar", "odt",
	"ods", "xml", "eml", NULL
};

struct attach_state {
	bool		 enabled;
	bool		 double_ext;
	bool		 archives;
	long long	 depth;
	long long	 max_members;
	uint64_t	 max_bytes;
	uint64_t	 max_us;
	int		 action;	/* enum attach_action */
	const char *const *exts;	/* owned by the cfg */
	const char *const *types;
};

/* Per-message walk. */
struct walk {
	const struct attach_state *st;
	struct msg	*m;
	long long	 members;
	uint64_t	 bytes;		/* decompressed so far */
	uint64_t	 start_us;
	bool		 decided;
	bool		 stopped;	/* a bound was hit: list no more */
};

static void *
attach_setup(struct snap *s, const char **err_r)
{
	const struct cfg *c = snap_cfg(s);
	struct attach_state *st;

	if ((st = calloc(1, sizeof(*st))) == NULL)
		log_oom(sizeof(*st), "attach state");
	st->enabled = cfg_bool(c, "AttachCheck");
	st->double_ext = cfg_bool(c, "AttachDoubleExtension");
	st->archives = cfg_bool(c, "AttachScanArchives");
	st->depth = cfg_int(c, "AttachArchiveDepth");
	st->max_members = cfg_int(c, "AttachMaxMembers");
	st->max_bytes = cfg_size(c, "AttachArchiveMaxBytes");
	st->max_us = cfg_duration_ms(c, "AttachArchiveMaxTime") * 1000;
	st->action = cfg_enum(c, "AttachAction");
	st->exts = cfg_list(c, "AttachBannedExtensions", NULL);
	st->types = cfg_list(c, "AttachBannedTypes", NULL);
	return st;
}

static void
attach_teardown(void *arg)
{
	free(arg);
}

static bool
in_list(const char *const *list, const char *s, size_t n)
{
	if (list == NULL)
		return false;
	for (; *list != NULL; list++)
		if (strlen(*list) == n && strncasecmp(*list, s, n) == 0)
			return true;
	return false;
}

/* The extension of name without the dot (trailing blanks and dots
 * ignored, as Windows does), its length in *n_r; NULL when none. */
static const char *
name_ext(const char *name, size_t end, size_t *n_r)
{
	size_t i;

	while (end > 0 && (name[end - 1] == ' ' || name[end - 1] == '.'))
		end--;
	for (i = end; i > 0; i--) {
		if (name[i - 1] == '.')
			break;
		if (name[i - 1] == '/' || name[i - 1] == '\\')
			return NULL;
	}
	if (i == 0 || i == end)
		return NULL;
	*n_r = end - i;
	return name + i;
}

/* Is the extension banned?  Sets *is_double when a decoy precedes it. */
static bool
name_is_banned(const struct attach_state *st, const char *name,
    bool *is_double)
{
	const char *ext, *prev;
	size_t n, pn, end;

	*is_double = false;
	if ((ext = name_ext(name, strlen(name), &n)) == NULL ||
	    !in_list(st->exts, ext, n))
		return false;
	/* Whatever sits between the two extensions (blanks) is skipped. */
	end = (size_t)(ext - 1 - name);
	while (end > 0 && name[end - 1] == ' ')
		end--;
	if ((prev = name_ext(name, end, &pn)) != NULL)
		*is_double = in_list(decoy_exts, prev, pn);
	return true;
}

/* A sender-supplied name made safe for details and SMTP replies. */
static char *
safe_name(struct arena *a, const char *s)
{
	char *out = arena_strndup(a, s, strnlen(s, 100));

	for (char *p = out; *p != '\0'; p++)
		if (!isprint((unsigned char)*p) || *p == '"' || *p == '\\')
			*p = '?';
	return out;
}

/* Adds hit (once per message) and, per AttachAction, the forced action. */
static void
finding(struct walk *w, const char *hit, double def, const char *what,
    const char *name)
{
	struct arena *a = msg_arena(w->m);
	const char *sname = safe_name(a, name);

	if (!msg_has_hit(w->m, hit))
		msg_add_hit(w->m, hit, def, "%s", what != NULL ?
		    arena_printf(a, "%s: %s", what, sname) : sname);
	if (w->decided || w->st->action == AA_SCORE ||
	    strcmp(hit, "ATTACH_ARCHIVE_UNREADABLE") == 0 ||
	    strcmp(hit, "ATTACH_ARCHIVE_LIMIT") == 0)
		return;
	w->decided = true;
	msg_force_action(w->m, w->st->action == AA_REJECT ? ACTION_REJECT :
	    ACTION_QUARANTINE, "554", "5.7.1",
	    arena_printf(a, "banned attachment %s", sname), "attachment");
}

static void check_name(struct walk *, const char *name, const char *within);

static bool
looks_like_archive(const char *name)
{
	static const char *const exts[] = {
		"zip", "7z", "rar", "tar", "tgz", "cab", "jar", NULL
	};
	const char *ext;
	size_t n;

	return name != NULL &&
	    (ext = name_ext(name, strlen(name), &n)) != NULL &&
	    in_list(exts, ext, n);
}

/* Does data start like an archive walk_archive() can list? */
static bool
has_archive_magic(const unsigned char *p, size_t n)
{
	static const struct { const char *magic; size_t off, len; } m[] = {
		{ "PK\x03\x04", 0, 4 },			/* zip, jar, docx */
		{ "7z\xbc\xaf\x27\x1c", 0, 6 },
		{ "Rar!\x1a\x07", 0, 6 },
		{ "MSCF", 0, 4 },			/* cab */
		{ "\x1f\x8b", 0, 2 },			/* gzip: tgz */
		{ "BZh", 0, 3 },
		{ "\xfd" "7zXZ", 0, 5 },
		{ "ustar", 257, 5 },			/* tar */
	};

	for (size_t i = 0; i < NELEM(m); i++)
		if (n >= m[i].off + m[i].len &&
		    memcmp(p + m[i].off, m[i].magic, m[i].len) == 0)
			return true;
	return false;
}

/* Counts n decompressed bytes; false (and a hit) once a bound is passed. */
static bool
charge(struct walk *w, size_t n, const char *arcname)
{
	struct arena *a = msg_arena(w->m);

	if (w->stopped)
		return false;
	w->bytes += n;
	if (msg_budget_spent()) {
		/* The message's budget is spent: the pipeline says so. */
		w->stopped = true;
		return false;
	}
	if (w->bytes > w->st->max_bytes)
		finding(w, "ATTACH_ARCHIVE_LIMIT", ATTACH_LIMIT_SCORE,
		    arena_printf(a, "more than %llu bytes decompressed",
		    (unsigned long long)w->st->max_bytes), arcname);
	else if (util_now_us() - w->start_us > w->st->max_us)
		finding(w, "ATTACH_ARCHIVE_LIMIT", ATTACH_LIMIT_SCORE,
		    arena_printf(a, "listing took more than %llu ms",
		    (unsigned long long)(w->st->max_us / 1000)), arcname);
	else
		return true;
	w->stopped = true;
	return false;
}

/*
 * Can libarchive skip the current member without decompressing it?  Yes
 * for plain tar, and for a zip member whose size is known (from the
 * central directory, or the local header); a zip member sized only by a
 * trailing data descriptor, a compressed tar, a solid 7z or rar inflate
 * what they skip, so we read and count.
 */
static bool
skip_is_cheap(struct archive *ar, struct archive_entry *ent)
{
	int fmt = archive_format(ar) & ARCHIVE_FORMAT_BASE_MASK;

	return (fmt == ARCHIVE_FORMAT_ZIP && archive_entry_size_is_set(ent)) ||
	    (fmt == ARCHIVE_FORMAT_TAR && archive_filter_count(ar) <= 1);
}

/*
 * Reads the current member, counting what libarchive decompresses.  When
 * may_nest and the member is named or starts like an archive and fits in
 * ATTACH_NESTED_MAX, returns it in *buf_r (malloc'd, caller frees), else
 * *buf_r is NULL.  Where skipping is free only the first bytes are read,
 * for the magic.  False when a bound stopped the walk.
 */
static bool
read_member(struct walk *w, struct archive *ar, struct archive_entry *ent,
    const char *name, bool may_nest, const char *arcname,
    unsigned char **buf_r, size_t *len_r)
{
	unsigned char chunk[16384];
	GByteArray *keep = NULL;
	bool is_cheap = skip_is_cheap(ar, ent), first = true;
	size_t want = sizeof(chunk);
	la_ssize_t got;

	*buf_r = NULL;
	*len_r = 0;
	if (!may_nest && is_cheap)
		return true;
	if (is_cheap && !looks_like_archive(name))
		want = 512;	/* enough for every magic, ustar's too */
	while ((got = archive_read_data(ar, chunk, want)) > 0) {
		if (!charge(w, (size_t)got, arcname))
			break;
		if (first) {
			first = false;
			want = sizeof(chunk);
			if (may_nest && (looks_like_archive(name) ||
			    has_archive_magic(chunk, (size_t)got)))
				keep = g_byte_array_new();
			else if (is_cheap)
				break;	/* next_header() seeks past the rest */
		}
		if (keep == NULL)
			continue;
		if (keep->len + (size_t)got > ATTACH_NESTED_MAX) {
			/* Too big to list deeper: count the rest. */
			g_byte_array_free(keep, TRUE);
			keep = NULL;
			if (is_cheap)
				break;
			continue;
		}
		g_byte_array_append(keep, chunk, (guint)got);
	}
	if (keep != NULL && !w->stopped && keep->len > 0) {
		*len_r = keep->len;
		*buf_r = g_byte_array_free(keep, FALSE);
	} else if (keep != NULL)
		g_byte_array_free(keep, TRUE);
	return !w->stopped;
}

/* Lists the members of the archive in data, recursing into nested ones. */
static void
walk_archive(struct walk *w, const unsigned char *data, size_t size,
    const char *arcname, long long depth)
{
	struct archive *ar;
	struct archive_entry *ent;
	const char *name;
	unsigned char *buf;
	size_t len;
	int rc = ARCHIVE_OK;

	if ((ar = archive_read_new()) == NULL)
		log_oom(0, "libarchive reader");
	archive_read_support_format_zip(ar);
	archive_read_support_format_7zip(ar);
	archive_read_support_format_rar(ar);
	archive_read_support_format_rar5(ar);
	archive_read_support_format_tar(ar);
	archive_read_support_format_cab(ar);
	archive_read_support_filter_gzip(ar);
	archive_read_support_filter_bzip2(ar);
	archive_read_support_filter_xz(ar);
	if (archive_read_open_memory(ar, data, size) != ARCHIVE_OK) {
		/* Not an archive libarchive knows: nothing to list. */
		if (looks_like_archive(arcname))
			finding(w, "ATTACH_ARCHIVE_UNREADABLE",
			    ATTACH_UNREADABLE_SCORE, archive_error_string(ar),
			    arcname);
		archive_read_free(ar);
		return;
	}
	while (!w->stopped &&
	    ((rc = archive_read_next_header(ar, &ent)) == ARCHIVE_OK ||
	    rc == ARCHIVE_WARN)) {
		if (++w->members > w->st->max_members) {
			finding(w, "ATTACH_ARCHIVE_LIMIT", ATTACH_LIMIT_SCORE,
			    arena_printf(msg_arena(w->m), "more than %lld "
			    "members", w->st->max_members), arcname);
			w->stopped = true;
			break;
		}
		if ((name = archive_entry_pathname_utf8(ent)) == NULL &&
		    (name = archive_entry_pathname(ent)) == NULL)
			name = "";
		if (*name != '\0')
			check_name(w, name, arcname);
		/* Consume the member here, where its bytes are counted. */
		if (!read_member(w, ar, ent, name, depth + 1 < w->st->depth &&
		    !archive_entry_is_encrypted(ent), arcname, &buf, &len))
			break;
		if (buf != NULL) {
			/* A nested archive is held while it is listed. */
			msg_budget_charge((ssize_t)len);
			walk_archive(w, buf, len, *name != '\0' ? name :
			    arcname, depth + 1);
			msg_budget_charge(-(ssize_t)len);
			g_free(buf);
		}
	}
	if (!w->stopped && rc == ARCHIVE_FATAL)
		finding(w, "ATTACH_ARCHIVE_UNREADABLE", ATTACH_UNREADABLE_SCORE,
		    archive_error_string(ar), arcname);
	archive_read_free(ar);
}

/* One file name: an attachment's (within NULL) or an archive member's. */
static void
check_name(struct walk *w, const char *name, const char *within)
{
	struct arena *a = msg_arena(w->m);
	bool is_double;
	const char *shown;

	if (!name_is_banned(w->st, name, &is_double))
		return;
	shown = within != NULL ? arena_printf(a, "%s in %s", name, within) :
	    name;
	if (is_double && w->st->double_ext)
		finding(w, "ATTACH_DOUBLE_EXT", ATTACH_DOUBLE_SCORE, NULL,
		    shown);
	else if (within != NULL)
		finding(w, "ATTACH_ARCHIVE_BANNED", ATTACH_ARCHIVE_SCORE, NULL,
		    shown);
	else
		finding(w, "ATTACH_BANNED_EXT", ATTACH_EXT_SCORE, NULL, shown);
}

static bool
type_is_banned(const struct attach_state *st, const char *type)
{
	return type != NULL && in_list(st->types, type, strlen(type));
}

static enum check_rc
attach_run(void *arg, struct msg *m, enum check_phase phase,
    const char **why_r)
{
	const struct attach_state *st = arg;
	const struct mview *v;
	struct walk w = { .st = st, .m = m, .start_us = util_now_us() };

	if (!st->enabled) {
		*why_r = "AttachCheck is off";
		return CHECK_SKIP;
	}
	if ((v = msg_view(m)) == NULL) {
		*why_r = "no parsed view";
		return CHECK_FAIL;
	}
	for (size_t i = 0; i < v->nparts && !msg_budget_spent(); i++) {
		const struct mpart *p = &v->parts[i];
		const char *label = p->filename != NULL ? p->filename :
		    arena_printf(msg_arena(m), "part %zu", i + 1);

		if (p->filename != NULL)
			check_name(&w, p->filename, NULL);
		if (type_is_banned(st, p->type))
			finding(&w, "ATTACH_BANNED_TYPE", ATTACH_TYPE_SCORE,
			    p->type, label);
		else if (!p->is_text && type_is_banned(st, p->sniffed_type))
			finding(&w, "ATTACH_BANNED_TYPE", ATTACH_TYPE_SCORE,
			    p->sniffed_type, label);
		if (st->archives && !p->is_text && p->data != NULL &&
		    p->size > 0 && !w.stopped)
			walk_archive(&w, p->data, p->size, label, 0);
	}
	return CHECK_DONE;
}

const struct check check_attach = {
	.name = "attach",
	.phases = PHASE_EOM,
	.is_content = 1,
	.setup = attach_setup,
	.run = attach_run,
	.teardown = attach_teardown,
};
