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

#endif
