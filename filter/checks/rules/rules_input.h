/*
 * rules_input.h - builds the rules' view of a message (rules_input.c).
 */
#ifndef VIGIL_RULES_INPUT_H
#define VIGIL_RULES_INPUT_H

#include <stdbool.h>

#include "checks/rules/rules.h"

struct msg;

/* Fills in from m's flat view; everything lives in m's arena.  Call
 * after the body is complete.  want_mparts: also each MIME part's
 * headers (a second parse; only mimeheader rules need them). */
void	rules_input_build(struct msg *m, const struct rules_limits *,
	    bool want_mparts, struct rules_input *in);

#endif
