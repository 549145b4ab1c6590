/*
 * msg_private.h - what the pipeline (and only it, plus tests) may do to a
 * message beyond msg.h: store the raw headers and body.
 */
#ifndef VIGIL_MSG_PRIVATE_H
#define VIGIL_MSG_PRIVATE_H

#include "msg.h"

/* value: exactly the bytes after the colon (leading blanks and folding
 * kept); the raw message gets them unchanged. */
/* Spools the field; false when it is past MaxHeaderCount or
 * MaxHeaderBytes, and then not in the header list (msg_hdr_limited()),
 * From fields excepted. */
bool		 msg_store_header(struct msg *, const char *name, const char *value);
void		 msg_store_eoh(struct msg *);
void		 msg_store_body(struct msg *, const unsigned char *, size_t);
/* The header list, for the view builder to fill in decoded values. */
struct mhdr	*msg_hdrs_mutable(struct msg *, size_t *n_r);
/* Why spooling failed, or NULL. */
const char	*msg_spool_error(const struct msg *);
/* The end-of-message checks start: the wall clock of the budget runs. */
void		 msg_budget_eom(struct msg *);
/* Did a poll tell the running check to stop since the last call? */
bool		 msg_budget_take_cut(struct msg *);
/* Check `check` was cut or not run for the budget (copied; once). */
void		 msg_budget_note_incomplete(struct msg *, const char *check);
size_t		 msg_budget_incomplete_count(const struct msg *);
const char	*msg_budget_incomplete(const struct msg *, size_t i);
/* Ordering of actions: higher is stricter. */
int		 action_severity(enum verdict_action);

#endif
