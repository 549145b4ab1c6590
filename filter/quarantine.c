/*
 * quarantine.c - the quarantine store.  Until the store is configured
 * (QuarantineDir), quarantine_put() refuses, so the milter tempfails
 * instead of dropping mail.
 */
#include <stddef.h>

#include "cfg.h"
#include "msg.h"
#include "quarantine.h"
#include "snap.h"

const struct opt quarantine_opts[] = {
	{ "QuarantineDir", OPT_PATH, NULL, 0, 0, NULL,
	  "Folder of the quarantine store (files and index)" },
	{ "QuarantineMode", OPT_ENUM, "store", 0, 0, "store|hold",
	  "store: vigil's own quarantine; hold: the MTA's hold queue" },
	{ NULL }
};

bool
quarantine_put(struct msg *m, const struct verdict *v, const char **id_r,
    const char **err_r)
{
	(void)m;
	(void)v;
	*id_r = NULL;
	*err_r = "no quarantine store is configured (QuarantineDir)";
	return false;
}
