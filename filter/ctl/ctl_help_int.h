/*
 * ctl_help_int.h - the help table (ctl_help_table.c), read by the
 * printers of ctl_help.c.
 */
#ifndef VIGIL_CTL_HELP_INT_H
#define VIGIL_CTL_HELP_INT_H

struct ctl_help_exit {
	int		 code;		/* -1 ends the table */
	const char	*meaning;
};

/* Ends with an entry whose cmd is NULL. */
extern const struct ctl_help ctl_help_table[];
extern const struct ctl_help_exit ctl_help_exits[];

#endif
