/*
 * rules_input.h - builds the rules' view of a message (rules_input.c).
 */
#ifndef VIGIL_RULES_INPUT_H
#define VIGIL_RULES_INPUT_H

#include "checks/rules.h"

struct msg;

/* Fills in from m's flat view; everything lives in m's arena.  Call
 * after the body is complete. */
void	rules_input_build(struct msg *m, const struct rules_limits *,
	    struct rules_input *in);

#endif
