/*
 * rules_eval_wlbl.h - WLBLEval's and VBounce's lists: rules_parse.c
 * keeps each in the eval arguments of a carrier rule (scored 0, never
 * run) named by a prefix and the list's name as SpamAssassin's Conf
 * names it; rules_eval_wlbl.c reads them.
 */
#ifndef VIGIL_RULES_EVAL_WLBL_H
#define VIGIL_RULES_EVAL_WLBL_H

#include "checks/rules/rules_int.h"

/* Address lists (welcomelist_from, blocklist_to, enlist_addrlist's
 * (NAME), welcomelist_bounce_relays, ...): lower-case globs; those of
 * welcomelist_from_rcvd and def_welcomelist_from_rcvd are "glob
 * relay". */
#define RULES_ADDRLIST_PREFIX	"__VIGIL_ADDRLIST_"
/* URI host lists (enlist_uri_host's (NAME), BLOCK, WELCOME): lower-case
 * names, "!name" for an exclusion. */
#define RULES_URIHOST_PREFIX	"__VIGIL_URIHOST_"

/* Plugin::DKIM's adsp_override: the list adsp_override of entries
 * "domain C" (domain lower case, "*.d" or "*"; C one of N U A D 1 2 3). */
#define RULES_ADSP_PREFIX	"__VIGIL_ADSP_"

extern const struct rules_evalfn rules_evalfn_wlbl[];

/* Conf/Parser.pm's add_to_addrlist pattern of a glob; g_malloc'd. */
char	*rules_wlbl_glob_re(const char *glob);
/* The globs of the address list whose carrier is c (the part of each
 * entry before a space) as one anchored pattern, compiled once when the
 * set loads (rules_compile keeps it as c->rx); NULL for an empty list or
 * one that does not compile within lim (each glob is then matched on its
 * own). */
struct rx *rules_wlbl_list_rx(const struct rule *c,
	    const struct rules_limits *lim);

/* The carrier rule of the list prefix+name (in the set being
 * evaluated; its entries are eval_args), or NULL. */
const struct rule *rules_wlbl_list(const char *prefix, const char *name);
/* WLBLEval's _check_welcomelist: addr, lower cased, is an entry of the
 * list c (NULL: none) or matches one's glob. */
bool	 rules_wlbl_listed(const struct rule *c, const char *addr);
/* Does low (a lower-case address) match the glob of entry ("glob" or
 * "glob rest")?  The entries of c that may match, first, in one go:
 * rules_wlbl_listed. */
bool	 rules_wlbl_entry_matches(const char *entry, const char *low);
/* PerMsgStatus's all_to_addrs (g_free'd strings). */
GPtrArray *rules_wlbl_all_to_addrs(const struct rules_input *in);

#endif
