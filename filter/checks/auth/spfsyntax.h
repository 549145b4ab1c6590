/*
 * spfsyntax.h - RFC 7208 section 12 grammar checks for SPF records and
 * explanation strings; libspf2 accepts many malformed records, and RFC
 * 7208 4.6 makes any syntax error a permerror.
 */
#ifndef VIGIL_SPFSYNTAX_H
#define VIGIL_SPFSYNTAX_H

#include <stdbool.h>

/* NULL when record (starting "v=spf1") follows the grammar, else a
 * static string saying what is wrong. */
const char	*spfsyntax_check_record(const char *record);
/* Is s a usable explanation: ASCII, spaces and a valid macro-string? */
bool		 spfsyntax_is_explanation(const char *s);

/*
 * libspf2 refuses some valid records: a CIDR length of 0, unknown
 * modifiers with some characters, a redirect= before mechanisms.
 * Returns a malloc'd copy of a valid record rewritten to an equivalent
 * libspf2 accepts, or NULL when it needs none: unknown modifiers are
 * dropped (RFC 7208 6 says to ignore them), redirect= and exp= go to
 * the end (their place does not matter), and zero lengths become:
 *   ip4:X/0  ->  ip4:0.0.0.0/1 ip4:128.0.0.0/1   (ip6 alike with ::/1, 8000::/1)
 *   a:D/0, mx:D//0, ...  ->  a:D.KIND.SPFSYNTAX_CIDR0_SUFFIX/1...
 * where KIND is "a" or "mx" then "4" and/or "6" for the zero lengths:
 * the DNS layer answers such a name with addresses covering the whole
 * family when D (or one of its MX hosts) has an address of it.
 */
#define SPFSYNTAX_CIDR0_SUFFIX	"vigil-cidr0.invalid"
char		*spfsyntax_rewrite_cidr0(const char *record);

#endif
