/*
 * rules_eval_fromname.c - SpamAssassin's FromNameSpoof plugin: a From
 * whose display name holds an address other than the one the mail comes
 * from ("paypal@paypal.example" <x@spam.example>), by address, by
 * registrable domain (libpsl), or by owner: the domain's first label,
 * or the fns_add_addrlist list naming the address.  Its settings
 * (fns_extrachars, fns_check, fns_ignore_dkim, fns_ignore_headers and
 * the owner lists) are rules_parse.c's carrier rules (rules_int.h).
 *
 * The findings are worked out once a message, by the first of the
 * plugin's rules, and kept until rules_evalfn_reset().
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include <glib.h>

#include "checks/rules/rules.h"
#include "checks/rules/rules_int.h"
#include "checks/rules/rules_eval_int.h"
#include "checks/rules/rules_eval_wlbl.h"
#include "checks/rules/rules_auth.h"

struct fns {
	bool	 address_different, domain_different, owner_different;
	bool	 contains_email, equals_to, equals_replyto;
};

static _Thread_local const struct rules_input *fns_in;
static _Thread_local struct fns fns_found;

void
rules_eval_fromname_reset(void)
{
	fns_in = NULL;
}

/* The values of the setting name, or NULL. */
static char *const *
values(const char *name)
{
	const struct rule *c = rules_wlbl_list(RULES_FNS_PREFIX, name);

	return c != NULL ? c->eval_args : NULL;
}

/* A numeric setting (its last value), or def. */
static long
setting(const char *name, long def)
{
	char *const *l = values(name);

	return l != NULL && l[0] != NULL ? strtol(l[0], NULL, 10) : def;
}

/* Is one of the lower-case words of the setting name s? */
static bool
setting_has(const char *name, const char *s)
{
	char *const *l = values(name);

	for (size_t i = 0; l != NULL && l[i] != NULL; i++)
		if (strcmp(l[i], s) == 0)
			return true;
	return false;
}

/* get(hdr:mods) in scalar context: the first value, lower case, ""
 * when none; g_malloc'd. */
static char *
first_lc(const struct rules_input *in, const char *hdr, unsigned hmod)
{
	char *v = rules_get(in, hdr, hmod), *low;

	if (v == NULL)
		return g_strdup("");
	v[strcspn(v, "\n")] = '\0';
	low = g_ascii_strdown(v, -1);
	g_free(v);
	return low;
}

/* _find_address_owner: the owner list (fns_add_addrlist) that names
 * addr, or addr at its registrable domain; else the domain's first
 * label.  g_malloc'd. */
static char *
owner_of(const char *addr, const char *domain)
{
	char *const *owners = values("OWNERS");
	const char *at = strchr(addr, '@');

	for (size_t i = 0; owners != NULL && owners[i] != NULL; i++) {
		char *list = g_strconcat("FNS_", owners[i], NULL);
		bool named = rules_wlbl_listed(rules_wlbl_list(
		    RULES_ADDRLIST_PREFIX, list), addr);

		g_free(list);
		if (named)
			return g_strdup(owners[i]);
	}
	if (at != NULL && at > addr && at[1] != '\0' && strcmp(at + 1,
	    domain) != 0) {
		char *again = g_strdup_printf("%.*s@%s", (int)(at - addr), addr,
		    domain);
		char *o = owner_of(again, domain);

		g_free(again);
		return o;
	}
	if (domain[0] != '.' && strchr(domain, '.') != NULL)
		return g_strndup(domain, strcspn(domain, "."));
	return g_strdup(domain);
}

/* Bytes of s that are not lower-case letters or digits. */
static long
nonalnum(const char *s)
{
	long n = 0;

	for (; *s != '\0'; s++)
		n += !((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9'));
	return n;
}

/* Valid (passing) DKIM signatures of a domain fns_ignore_dkim names. */
static bool
dkim_ignored(const struct rules_input *in)
{
	if (in->auth == NULL || in->auth->dkim == NULL)
		return false;
	for (size_t i = 0; i < in->auth->dkim->nsigs; i++) {
		const struct auth_dkim_sig *s = &in->auth->dkim->sigs[i];
		char *d;
		bool hit;

		if (s->result != AUTH_PASS || s->domain == NULL)
			continue;
		d = g_ascii_strdown(s->domain, -1);
		hit = setting_has("IGNORE_DKIM", d);
		g_free(d);
		if (hit)
			return true;
	}
	return false;
}

/* _check_fromnamespoof: the findings into f (all false first). */
static void
fromname_check(const struct rules_input *in, struct fns *f)
{
	char *const *ign = values("IGNORE_HEADERS");
	char *from_addr = NULL, *from_dom = NULL, *name = NULL;
	char *name_addr = NULL, *name_dom = NULL, *mailto;
	char *name_owner = NULL, *from_owner = NULL, *reply;
	GMatchInfo *mi = NULL;
	GPtrArray *to;

	memset(f, 0, sizeof(*f));
	if (dkim_ignored(in))
		return;
	for (size_t i = 0; ign != NULL && ign[i] != NULL; i++) {
		char *v = rules_get(in, ign[i], 0);
		bool there = v != NULL && v[0] != '\0' && strcmp(v, "0") != 0;

		g_free(v);
		if (there)
			return;
	}
	from_addr = first_lc(in, "From", HMOD_ADDR);
	mailto = g_strconcat("mailto:", from_addr, NULL);
	from_dom = rules_uri_to_domain(mailto, NULL);
	g_free(mailto);
	if (from_dom == NULL)
		goto out;
	name = first_lc(in, "From", HMOD_NAME);
	if (!g_regex_match(rules_evalfn_re("\\b([\\w.!#$%&'*+/=?^_`{|}~-]+"
	    "@\\w[\\w-]*\\.\\w[\\w.-]++)\\b", G_REGEX_CASELESS), name, 0,
	    &mi))
		goto out;
	name_addr = g_match_info_fetch(mi, 1);
	mailto = g_strconcat("mailto:", name_addr, NULL);
	name_dom = rules_uri_to_domain(mailto, NULL);
	g_free(mailto);
	if (name_dom == NULL)
		goto out;
	f->contains_email = true;
	/* the name is little more than the address */
	if ((long)strlen(name) + nonalnum(name) - nonalnum(name_addr) -
	    (long)strlen(name_addr) > setting("EXTRACHARS", 50))
		goto out;
	name_owner = owner_of(name_addr, name_dom);
	from_owner = owner_of(from_addr, from_dom);
	f->address_different = strcmp(name_addr, from_addr) != 0;
	f->domain_different = strcmp(name_dom, from_dom) != 0;
	f->owner_different = strcmp(name_owner, from_owner) != 0;
	reply = first_lc(in, "Reply-To", HMOD_ADDR);
	f->equals_replyto = strcmp(name_addr, reply) == 0;
	g_free(reply);
	to = rules_wlbl_all_to_addrs(in);
	for (guint i = 0; !f->equals_to && i < to->len; i++)
		f->equals_to = strcmp(name_addr, to->pdata[i]) == 0;
	g_ptr_array_free(to, TRUE);
out:
	g_match_info_free(mi);
	g_free(from_addr);
	g_free(from_dom);
	g_free(name);
	g_free(name_addr);
	g_free(name_dom);
	g_free(name_owner);
	g_free(from_owner);
}

static const struct fns *
found(const struct rules_input *in)
{
	if (fns_in != in) {
		fromname_check(in, &fns_found);
		fns_in = in;
	}
	return &fns_found;
}

/* check_fromname_spoof([level]): the name's address differs from the
 * sender's; at level 1 (fns_check's default) their owners differ too,
 * at 2 their domains. */
static double
fromname_spoof(const struct rules_input *in, const char *const *args,
    size_t nargs, const char **where_r)
{
	const struct fns *f = found(in);
	long lvl;

	*where_r = "From";
	if (nargs > 0 && (strcmp(args[0], "0") == 0 || strcmp(args[0], "1") ==
	    0 || strcmp(args[0], "2") == 0))
		lvl = args[0][0] - '0';
	else
		lvl = setting("CHECK", 1);
	switch (lvl) {
	case 0:
		return f->address_different;
	case 1:
		return f->address_different && f->owner_different;
	case 2:
		return f->address_different && f->domain_different;
	}
	return 0;
}

RULES_EVALFN_NOARGS(fromname_different, "From", found(in)->address_different)
RULES_EVALFN_NOARGS(fromname_domain_differ, "From",
    found(in)->domain_different)
RULES_EVALFN_NOARGS(fromname_contains_email, "From",
    found(in)->contains_email)
RULES_EVALFN_NOARGS(fromname_equals_to, "From", found(in)->equals_to)
RULES_EVALFN_NOARGS(fromname_owners_differ, "From",
    found(in)->owner_different)
RULES_EVALFN_NOARGS(fromname_equals_replyto, "From", found(in)->equals_replyto)

const struct rules_evalfn rules_evalfn_fromname[] = {
	{ "check_fromname_spoof", 0, 1, fromname_spoof, NULL },
	{ "check_fromname_different", 0, 0, fromname_different, NULL },
	{ "check_fromname_domain_differ", 0, 0, fromname_domain_differ, NULL },
	{ "check_fromname_contains_email", 0, 0, fromname_contains_email,
	    NULL },
	{ "check_fromname_equals_to", 0, 0, fromname_equals_to, NULL },
	{ "check_fromname_owners_differ", 0, 0, fromname_owners_differ, NULL },
	{ "check_fromname_equals_replyto", 0, 0, fromname_equals_replyto,
	    NULL },
	{ NULL, 0, 0, NULL, NULL }
};
